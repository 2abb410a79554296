//! Operations pages: the outbox per destination with its dead letters and
//! their Replay buttons, and carrier activity.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::error::ConsoleError;
use super::html::{datetime, duration, Html};
use super::layout::page;
use super::search::encode;
use super::session::{CsrfForm, Session};
use crate::flow::Gateway;

/// Dead letters listed.
const DEAD_SHOWN: i64 = 200;

/// What the outbox page was redirected with.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    replayed: Option<String>,
}

/// `GET /console/outbox`.
pub async fn outbox(gw: web::Data<Gateway>, session: Session, notice: web::Query<Notice>) -> Result<HttpResponse, ConsoleError> {
    let stats = gw.store.destination_stats().await?;
    let dead = gw.store.dead_letters(DEAD_SHOWN).await?;
    let mut b = Html::new();
    b.elem("h1", &[], "Outbox");
    if let Some(id) = &notice.replayed {
        b.elem(
            "p",
            &[("class", "notice"), ("id", "notice")],
            &format!("Replayed {id}: queued for delivery again."),
        );
    }
    b.raw("<table id=\"destinations\">")
        .head_row(&["Destination", "Pending", "In flight", "Dead", "Delivered", "Oldest waiting"])
        .raw("<tbody>");
    for s in &stats {
        b.row(&[
            &s.destination,
            &s.pending.to_string(),
            &s.inflight.to_string(),
            &s.dead.to_string(),
            &s.delivered.to_string(),
            &s.oldest_age_ms.map(|a| duration(a as f64)).unwrap_or_else(|| "–".into()),
        ]);
    }
    b.raw("</tbody></table>");

    b.elem("h2", &[], "Dead letters");
    b.raw("<table id=\"dead\">")
        .head_row(&[
            "Message",
            "Destination",
            "Kind",
            "Attempts",
            "Reason",
            "Response",
            "Since (UTC)",
            "",
        ])
        .raw("<tbody>");
    for m in &dead {
        let response: String = m.response.as_deref().unwrap_or("").chars().take(300).collect();
        b.open("tr", &[("id", &format!("dead-{}", m.id))]).open("td", &[("class", "mono")]);
        match &m.document_id {
            Some(d) => b.elem("a", &[("href", &format!("/console/documents/{}", encode(d)))], &m.id),
            None => b.text(&m.id),
        };
        b.close("td")
            .elem("td", &[], &m.destination)
            .elem("td", &[], &m.kind)
            .elem("td", &[("class", "num")], &m.attempts.to_string())
            .elem("td", &[("class", "reason")], m.reason.as_deref().unwrap_or(""))
            .elem("td", &[("class", "mono response")], &response)
            .elem("td", &[], &datetime(m.updated_at))
            .open("td", &[])
            .open(
                "form",
                &[("method", "post"), ("action", &format!("/console/outbox/{}/replay", encode(&m.id)))],
            )
            .void("input", &[("type", "hidden"), ("name", "csrf"), ("value", &session.csrf)])
            .elem("button", &[("type", "submit"), ("class", "replay")], "Replay")
            .close("form")
            .close("td")
            .close("tr");
    }
    b.raw("</tbody></table>");
    if dead.is_empty() {
        b.elem("p", &[("class", "empty")], "No dead letters.");
    }
    Ok(page(StatusCode::OK, "Outbox", Some(&session), "outbox", b))
}

/// `POST /console/outbox/{id}/replay`: the same replay as `POST /v1/admin/messages/{id}/replay`.
pub async fn replay(
    gw: web::Data<Gateway>,
    session: Session,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    let message = crate::http::handlers::replay_or_cancel(&gw, &id, true).await?;
    tracing::info!(message = %message.id, operator = %session.owner, "replayed from the console");
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", format!("/console/outbox?replayed={}", encode(&message.id))))
        .finish())
}

/// Carrier calls counted by this process: (carrier, call) → (ok, errors).
fn carrier_calls(gw: &Gateway) -> std::collections::BTreeMap<(String, String), (u64, u64)> {
    let mut out: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
    for (labels, n) in gw.metrics.counter("tradelane_carrier_calls_total") {
        let get = |k: &str| {
            labels
                .split(',')
                .find_map(|p| {
                    p.strip_prefix(k)
                        .and_then(|v| v.strip_prefix("=\""))
                        .and_then(|v| v.strip_suffix('"'))
                })
                .unwrap_or("")
                .to_string()
        };
        let e = out.entry((get("carrier"), get("call"))).or_default();
        if get("outcome") == "ok" {
            e.0 += n;
        } else {
            e.1 += n;
        }
    }
    out
}

/// `GET /console/carriers`.
pub async fn carriers(gw: web::Data<Gateway>, session: Session) -> Result<HttpResponse, ConsoleError> {
    let activity = gw.store.carrier_activity().await?;
    let mut b = Html::new();
    b.elem("h1", &[], "Carrier activity");
    b.raw("<table id=\"labels\">")
        .head_row(&[
            "Carrier",
            "Labels bought",
            "Voided",
            "Refused",
            "Tracking active",
            "Tracked to delivery",
        ])
        .raw("<tbody>");
    for a in &activity {
        b.row(&[
            &a.carrier,
            &(a.purchased + a.voided).to_string(),
            &a.voided.to_string(),
            &a.failed.to_string(),
            &a.tracking_active.to_string(),
            &a.tracking_delivered.to_string(),
        ]);
    }
    b.raw("</tbody></table>");
    if activity.is_empty() {
        b.elem("p", &[("class", "empty")], "No labels or tracking subscriptions yet.");
    }
    b.elem("h2", &[], "Carrier calls (this process, since it started)");
    let calls = carrier_calls(&gw);
    b.raw("<table id=\"calls\">")
        .head_row(&["Carrier", "Call", "OK", "Errors"])
        .raw("<tbody>");
    for ((carrier, call), (ok, err)) in &calls {
        b.row(&[carrier, call, &ok.to_string(), &err.to_string()]);
    }
    b.raw("</tbody></table>");
    if calls.is_empty() {
        b.elem("p", &[("class", "empty")], "No carrier calls yet.");
    }
    Ok(page(StatusCode::OK, "Carriers", Some(&session), "carriers", b))
}
