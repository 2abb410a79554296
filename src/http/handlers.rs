//! Request handlers, each with its `#[utoipa::path]` (see `openapi` for the conventions).

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use crate::connectors::carriers::Tracking;
use crate::flow::shipping::{LabelOrder, RateQuery, Rates, SubscriptionRequest};
use crate::flow::{FlowError, Gateway, OutboundKind, Receipt};
use crate::store::{DocumentFilter, DocumentRecord, InterchangeRecord, LabelRecord, MessageFilter, MessageSummary, Scope, Transition};

use super::auth::Caller;
use super::error::ApiError;
use super::openapi::{
    examples, DestinationList, DocumentList, Health, InvoiceRequest, MessageDetail, MessageList, PoAckRequest, Problem, ShipNoticeRequest,
    SubscriptionCreated,
};

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

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health, example = json!({"status": "ok"})))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The database answers", body = Health, example = json!({"status": "ready"})),
        (status = 503, description = "The database does not answer", body = Health, example = json!({"status": "database unavailable"})),
    )
)]
pub async fn readyz(gw: Gw) -> HttpResponse {
    if gw.store.ping().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "database unavailable"}))
    }
}

/// Prometheus metrics.
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition: HTTP requests and latency per route, carrier calls, outbox depth and age per destination", body = String, content_type = "text/plain; version=0.0.4"))
)]
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

/// Receive X12 from a trading partner.
///
/// In one transaction: the raw bytes, each interchange with its validation report, the
/// 997/999/TA1 with fresh control numbers, every transaction set as a canonical document, and
/// outbox rows for the acknowledgment and each accepted document. Received 997/999 reconcile
/// outbound documents.
#[utoipa::path(
    post, path = "/v1/x12", tag = "x12",
    request_body(
        description = "One or more X12 interchanges from the key's partner (ISA sender must be that partner), as sent; any delimiters. At most `body_limit` bytes (50 MiB by default).",
        content(
            (String = "application/edi-x12", example = examples::x12_850),
            (String = "text/plain", example = examples::x12_850),
        ),
    ),
    responses(
        (status = 202, description = "Stored, validated, acknowledged and queued: the receipt with the 997/999/TA1 inline", body = Receipt, example = examples::receipt),
        (status = 200, description = "These bytes (or an interchange with this sender and ISA13) were received before: the original receipt, nothing processed again", body = Receipt),
        (status = 400, description = "`x12-unreadable`: no interchange could be read; the submission is stored (`submission_id`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/x12-unreadable", "title": "Bad Request", "status": 400, "detail": "no X12 interchange could be read: no ISA segment", "submission_id": "sub_01HS8Q7Z4K3M2N1P0R9T8V7W6X"})),
        (status = 403, description = "`missing-scope` (`x12:write`), `not-a-partner` (the key's owner is no trading partner) or `sender-mismatch` (the ISA sender is another partner)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`: larger than `body_limit`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["x12:write"]), ("api_key" = ["x12:write"]))
)]
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

/// Send a purchase order acknowledgment (855) to a partner.
#[utoipa::path(
    post, path = "/v1/po-acks", tag = "documents",
    params(("Idempotency-Key" = String, Header, description = "Required, at most 255 characters. The same key with the same body returns the first result; with another body, 422 `idempotency-key-reused`.")),
    request_body(content = PoAckRequest, example = examples::po_ack_request),
    responses(
        (status = 202, description = "Numbered, rendered as 855 in the partner's version and delimiters, stored and queued to the partner", body = DocumentRecord),
        (status = 200, description = "The Idempotency-Key was used before with this body: the same document", body = DocumentRecord),
        (status = 400, description = "`idempotency-key-missing`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-partner`: no such partner, or a partner's key naming another partner", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document` (not JSON, unknown fields, or not a valid purchase order acknowledgment) or `idempotency-key-reused`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:write"]), ("api_key" = ["documents:write"]))
)]
pub async fn post_po_ack(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::PoAck).await
}

/// Send a ship notice (856) to a partner.
#[utoipa::path(
    post, path = "/v1/ship-notices", tag = "documents",
    params(("Idempotency-Key" = String, Header, description = "Required, at most 255 characters. The same key with the same body returns the first result; with another body, 422 `idempotency-key-reused`.")),
    request_body(content = ShipNoticeRequest, example = examples::ship_notice_request),
    responses(
        (status = 202, description = "Numbered, rendered as 856 in the partner's version and delimiters, stored and queued to the partner", body = DocumentRecord),
        (status = 200, description = "The Idempotency-Key was used before with this body: the same document", body = DocumentRecord),
        (status = 400, description = "`idempotency-key-missing`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-partner`: no such partner, or a partner's key naming another partner", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document` (not JSON, unknown fields, or not a valid ship notice) or `idempotency-key-reused`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:write"]), ("api_key" = ["documents:write"]))
)]
pub async fn post_ship_notice(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::ShipNotice).await
}

/// Send an invoice (810) to a partner.
#[utoipa::path(
    post, path = "/v1/invoices", tag = "documents",
    params(("Idempotency-Key" = String, Header, description = "Required, at most 255 characters. The same key with the same body returns the first result; with another body, 422 `idempotency-key-reused`.")),
    request_body(content = InvoiceRequest, example = examples::invoice_request),
    responses(
        (status = 202, description = "Numbered, rendered as 810 in the partner's version and delimiters, stored and queued to the partner", body = DocumentRecord),
        (status = 200, description = "The Idempotency-Key was used before with this body: the same document", body = DocumentRecord),
        (status = 400, description = "`idempotency-key-missing`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-partner`: no such partner, or a partner's key naming another partner", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document` (not JSON, unknown fields, or not a valid invoice) or `idempotency-key-reused`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:write"]), ("api_key" = ["documents:write"]))
)]
pub async fn post_invoice(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    post_document(gw, caller, req, payload, OutboundKind::Invoice).await
}

/// List documents.
#[utoipa::path(
    get, path = "/v1/documents", tag = "documents",
    params(DocumentFilter),
    responses(
        (status = 200, description = "Documents visible to the key (its own, or exchanged with it; every one for `admin`), newest first", body = DocumentList),
        (status = 400, description = "`bad-request`: a query parameter does not parse", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:read"]), ("api_key" = ["documents:read"]))
)]
pub async fn list_documents(gw: Gw, caller: Caller, q: web::Query<DocumentFilter>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    let docs = gw.store.documents(caller.viewer(), &q).await?;
    Ok(HttpResponse::Ok().json(json!({ "documents": docs })))
}

/// Read one document.
#[utoipa::path(
    get, path = "/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The document with its X12, canonical JSON and history", body = DocumentRecord, example = examples::document_record),
        (status = 404, description = "`not-found`: no such document, or not visible to this key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:read"]), ("api_key" = ["documents:read"]))
)]
pub async fn get_document(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    match gw.store.document(&id).await? {
        Some(d) if caller.sees(&d.owner, Some(&d.partner)) => Ok(HttpResponse::Ok().json(d)),
        _ => Err(ApiError::NotFound),
    }
}

/// Read one inbound interchange.
#[utoipa::path(
    get, path = "/v1/interchanges/{id}", tag = "documents",
    params(("id" = String, Path, description = "Interchange id")),
    responses(
        (status = 200, description = "One inbound interchange: raw X12, validation report, the acknowledgment sent", body = InterchangeRecord),
        (status = 404, description = "`not-found`: no such interchange, or not visible to this key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["documents:read"]), ("api_key" = ["documents:read"]))
)]
pub async fn get_interchange(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::DocumentsRead)?;
    match gw.store.interchange(&id).await? {
        Some(i) if caller.sees(&i.owner, None) => Ok(HttpResponse::Ok().json(i)),
        _ => Err(ApiError::NotFound),
    }
}

/// List outbox messages.
#[utoipa::path(
    get, path = "/v1/admin/messages", tag = "admin",
    params(MessageFilter),
    responses(
        (status = 200, description = "Outbox messages", body = MessageList),
        (status = 400, description = "`bad-request`: a query parameter does not parse", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
pub async fn list_messages(gw: Gw, caller: Caller, q: web::Query<MessageFilter>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let messages = gw.store.list_messages(&q).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}

/// Read one outbox message with its attempts.
#[utoipa::path(
    get, path = "/v1/admin/messages/{id}", tag = "admin",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message with every delivery attempt", body = MessageDetail),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
pub async fn get_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let (message, attempts) = gw.store.message(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(json!({ "message": message, "attempts": attempts })))
}

/// Replays (or cancels) a message and wakes its destination: the one code path
/// behind the admin API and the console's Replay button.
pub(super) async fn replay_or_cancel(gw: &Gateway, id: &str, replay: bool) -> Result<MessageSummary, ApiError> {
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
            Ok(message)
        }
        Transition::NotFound => Err(ApiError::NotFound),
        Transition::Conflict => Err(ApiError::Conflict(if replay {
            "only dead or cancelled messages can be replayed".into()
        } else {
            "only pending messages can be cancelled".into()
        })),
    }
}

async fn transition(gw: Gw, caller: Caller, id: &str, replay: bool) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(HttpResponse::Ok().json(replay_or_cancel(&gw, id, replay).await?))
}

/// Replay a dead or cancelled message.
#[utoipa::path(
    post, path = "/v1/admin/messages/{id}/replay", tag = "admin",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Pending again, due now", body = MessageSummary),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid-state`: only dead or cancelled messages can be replayed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
pub async fn replay_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    transition(gw, caller, &id, true).await
}

/// Cancel a pending message.
#[utoipa::path(
    post, path = "/v1/admin/messages/{id}/cancel", tag = "admin",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Cancelled", body = MessageSummary),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid-state`: only pending messages can be cancelled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
pub async fn cancel_message(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    transition(gw, caller, &id, false).await
}

/// Queue depth and age per destination.
#[utoipa::path(
    get, path = "/v1/admin/destinations", tag = "admin",
    responses((status = 200, description = "Queue depth and age per destination", body = DestinationList)),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
pub async fn destinations(gw: Gw, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Admin)?;
    let stats = gw.store.destination_stats().await?;
    Ok(HttpResponse::Ok().json(json!({ "destinations": stats })))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Flow(FlowError::InvalidDocument(e.to_string())))
}

/// Shop rates across carriers.
#[utoipa::path(
    post, path = "/v1/rates", tag = "shipping",
    request_body(content = RateQuery, example = examples::rate_query),
    responses(
        (status = 200, description = "Rates from every carrier asked, cheapest first, and one error per carrier that failed (each carrier under `shipping.rate_timeout_ms`)", body = Rates, example = examples::rates),
        (status = 404, description = "`unknown-carrier`: a carrier in `carriers` is not configured", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document`: not a valid rate request (no package, bad unit, bad date…); `invalid-customs`: `shipment.customs` is given and invalid (every field in `errors`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn rates(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let q: RateQuery = parse(&body)?;
    Ok(HttpResponse::Ok().json(gw.shop_rates(&q).await?))
}

/// Buy a label, once per Idempotency-Key.
#[utoipa::path(
    post, path = "/v1/labels", tag = "shipping",
    params(("Idempotency-Key" = String, Header, description = "Required, at most 255 characters. The same key with the same body returns the first result; with another body, 422 `idempotency-key-reused`.")),
    request_body(content = LabelOrder, example = examples::label_order),
    responses(
        (status = 201, description = "Bought: tracking numbers, label images, charges", body = LabelRecord, example = examples::label_record),
        (status = 200, description = "The Idempotency-Key was used before with this body: the first result, nothing bought again", body = LabelRecord),
        (status = 400, description = "`idempotency-key-missing`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`unknown-carrier`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid-state`: a purchase under this key is pending with an unknown outcome", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document`, `idempotency-key-reused`, `no-rate` (no rate fits the policy), `customs-required` (the shipment crosses a customs border and has no `shipment.customs`) or `invalid-customs` (every invalid field of the declaration in `errors`); nothing is bought", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/customs-required", "title": "Unprocessable Entity", "status": 422, "detail": "a customs declaration (shipment.customs) is required for a shipment from US to DE", "errors": [{"field": "shipment.customs", "message": "required"}]})),
        (status = 502, description = "The carrier refused or failed the purchase (`type` is the carrier error: `carrier-rejected`, `carrier-timeout`…); `label_id` is the failed purchase, kept", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/carrier-rejected", "title": "Bad Gateway", "status": 502, "detail": "ups rejected the request: 120802 Address Validation Error on ShipTo address", "label_id": "lbl_01HS8Q7Z4K3M2N1P0R9T8V7W6X"})),
        (status = 504, description = "`carrier-timeout` while shopping rates for a policy", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
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

/// Read one label purchase.
#[utoipa::path(
    get, path = "/v1/labels/{id}", tag = "shipping",
    params(("id" = String, Path, description = "Label id")),
    responses(
        (status = 200, description = "The label purchase", body = LabelRecord),
        (status = 404, description = "`not-found`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn get_label(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    match gw.store.label(&id).await? {
        Some(l) if caller.sees(&l.owner, None) => Ok(HttpResponse::Ok().json(l)),
        _ => Err(ApiError::NotFound),
    }
}

/// Void a purchased label.
#[utoipa::path(
    post, path = "/v1/labels/{id}/void", tag = "shipping",
    params(("id" = String, Path, description = "Label id")),
    responses(
        (status = 200, description = "Voided with the carrier", body = LabelRecord),
        (status = 404, description = "`not-found` or `unknown-carrier`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid-state`: only purchased labels can be voided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`carrier-rejected` or `carrier-unsupported` (DHL has no void)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`carrier-auth`, `carrier-response` or `carrier-unavailable`: the carrier failed", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`carrier-timeout`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn void_label(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    Ok(HttpResponse::Ok().json(gw.void_label(caller.viewer(), &id).await?))
}

/// Track a shipment.
#[utoipa::path(
    get, path = "/v1/tracking/{carrier}/{number}", tag = "shipping",
    params(
        ("carrier" = String, Path, description = "Carrier id: `ups`, `fedex`, `usps`, `dhl`, `canadapost`", example = "ups"),
        ("number" = String, Path, description = "Tracking number", example = "1Z999AA10123456784"),
    ),
    responses(
        (status = 200, description = "Events, newest first, with a normalized status and the carrier's own code", body = Tracking, example = examples::tracking),
        (status = 404, description = "`unknown-carrier`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`carrier-rejected` (e.g. unknown tracking number) or `invalid-shipment`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`carrier-auth`, `carrier-response` or `carrier-unavailable`: the carrier failed", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`carrier-timeout`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn track(gw: Gw, caller: Caller, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let (carrier, number) = path.into_inner();
    Ok(HttpResponse::Ok().json(gw.track(&carrier, &number).await?))
}

/// Subscribe a webhook to a shipment's tracking.
#[utoipa::path(
    post, path = "/v1/tracking/subscriptions", tag = "shipping",
    request_body(content = SubscriptionRequest, example = examples::subscription),
    responses(
        (status = 201, description = "Subscribed: every change is pushed to `url` through the outbox, signed with `secret` (shown only here)", body = SubscriptionCreated),
        (status = 404, description = "`unknown-carrier`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document`: not a valid request, or `url` is not http(s)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
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
