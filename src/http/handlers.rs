//! Request handlers.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use crate::flow::shipping::{RateQuery, SubscriptionRequest};
use crate::flow::{FlowError, Gateway, OutboundKind};
use crate::store::{DocumentFilter, MessageFilter, Scope, Transition};

use super::auth::Caller;
use super::error::ApiError;

type Gw = web::Data<Gateway>;

/// Reads a body up to `limit` bytes; larger bodies end in 413 without being buffered.
pub(super) async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(gw: Gw) -> HttpResponse {
    if gw.store.ping().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "database unavailable"}))
    }
}

pub async fn metrics(gw: Gw) -> HttpResponse {
    let mut gauges = Vec::new();
    if let Ok(stats) = gw.store.destination_stats().await {
        for s in stats {
            let l = format!("destination=\"{}\"", crate::metrics::label(&s.destination));
            gauges.push(("tradelane_outbox_depth", format!("{l},state=\"pending\""), s.pending as f64));
            gauges.push(("tradelane_outbox_depth", format!("{l},state=\"inflight\""), s.inflight as f64));
            gauges.push(("tradelane_outbox_depth", format!("{l},state=\"dead\""), s.dead as f64));
            gauges.push((
                "tradelane_outbox_oldest_age_seconds",
                l,
                s.oldest_age_ms.unwrap_or(0) as f64 / 1000.0,
            ));
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(gw.metrics.render(&gauges))
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

pub async fn post_x12(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::X12Write)?;
    let body = read_body(&req, payload, gw.config.body_limit).await?;
    let received = gw.receive_x12(&key.owner, body).await?;
    let status = if received.duplicate { 200 } else { 202 };
    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default()).json(received.receipt))
}

async fn post_document(
    gw: Gw,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
    kind: OutboundKind,
) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::DocumentsWrite)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let idem = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok());
    let sent = gw.send_document(key, kind, idem, &body).await?;
    Ok(if sent.created {
        HttpResponse::Accepted().json(sent.document)
    } else {
        HttpResponse::Ok().json(sent.document)
    })
}

pub async fn post_po_ack(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::PoAck).await
}

pub async fn post_ship_notice(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::ShipNotice).await
}

pub async fn post_invoice(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::Invoice).await
}

pub async fn list_documents(gw: Gw, caller: Caller, q: web::Query<DocumentFilter>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    let docs = gw.store.documents(caller.viewer(), &q).await?;
    Ok(HttpResponse::Ok().json(json!({ "documents": docs })))
}

pub async fn get_document(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    match gw.store.document(&id).await? {
        Some(d) if caller.sees(&d.owner, Some(&d.partner)) => Ok(HttpResponse::Ok().json(d)),
        _ => Err(ApiError::NotFound),
    }
}

pub async fn get_interchange(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    match gw.store.interchange(&id).await? {
        Some(i) if caller.sees(&i.owner, None) => Ok(HttpResponse::Ok().json(i)),
        _ => Err(ApiError::NotFound),
    }
}

pub async fn list_messages(gw: Gw, caller: Caller, q: web::Query<MessageFilter>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let messages = gw.store.list_messages(&q).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}

pub async fn get_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let (message, attempts) = gw.store.message(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(json!({ "message": message, "attempts": attempts })))
}

async fn transition(gw: Gw, caller: Caller, id: &str, replay: bool) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let t = if replay {
        gw.store.replay(id).await?
    } else {
        gw.store.cancel(id).await?
    };
    match t {
        Transition::Done => {
            let (message, _) = gw.store.message(id).await?.ok_or(ApiError::NotFound)?;
            if let Some(o) = &gw.outbox {
                o.notify(&message.destination);
            }
            Ok(HttpResponse::Ok().json(message))
        }
        Transition::NotFound => Err(ApiError::NotFound),
        Transition::Conflict => Err(ApiError::Conflict(if replay {
            "only dead or cancelled messages can be replayed".into()
        } else {
            "only pending messages can be cancelled".into()
        })),
    }
}

pub async fn replay_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    transition(gw, caller, &id, true).await
}

pub async fn cancel_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    transition(gw, caller, &id, false).await
}

pub async fn destinations(gw: Gw, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let stats = gw.store.destination_stats().await?;
    Ok(HttpResponse::Ok().json(json!({ "destinations": stats })))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Flow(FlowError::InvalidDocument(e.to_string())))
}

pub async fn rates(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let q: RateQuery = parse(&body)?;
    Ok(HttpResponse::Ok().json(gw.shop_rates(&q).await?))
}

pub async fn buy_label(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let idem = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok());
    let (created, label) = gw.buy_label(&key.owner, idem, &body).await?;
    Ok(match (created, label.status.as_str()) {
        (_, "failed") => {
            let e = label.error.clone().unwrap_or_default();
            let slug = e["type"].as_str().unwrap_or("carrier-rejected").to_string();
            super::error::problem(
                actix_web::http::StatusCode::BAD_GATEWAY,
                &slug,
                e["detail"].as_str().unwrap_or("label purchase failed"),
                Some(json!({ "label_id": label.id })),
            )
        }
        (true, _) => HttpResponse::Created().json(label),
        (false, _) => HttpResponse::Ok().json(label),
    })
}

pub async fn get_label(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    match gw.store.label(&id).await? {
        Some(l) if caller.sees(&l.owner, None) => Ok(HttpResponse::Ok().json(l)),
        _ => Err(ApiError::NotFound),
    }
}

pub async fn void_label(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    Ok(HttpResponse::Ok().json(gw.void_label(caller.viewer(), &id).await?))
}

pub async fn track(gw: Gw, caller: Caller, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let (carrier, number) = path.into_inner();
    Ok(HttpResponse::Ok().json(gw.track(&carrier, &number).await?))
}

pub async fn subscribe(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let r: SubscriptionRequest = parse(&body)?;
    let s = gw.subscribe(&key.owner, &r).await?;
    let mut v = serde_json::to_value(&s).unwrap_or_default();
    // The signing secret is shown once, here.
    v["secret"] = json!(s.secret());
    Ok(HttpResponse::Created().json(v))
}
