//! Documents and interchanges: the searchable lists and one document's raw
//! X12, canonical JSON and delivery attempts side by side.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::error::ConsoleError;
use super::html::{datetime, Html};
use super::layout::page;
use super::search::{encode, Search, PAGE_SIZE};
use super::session::Session;
use crate::flow::Gateway;

/// `GET /console/documents`.
pub async fn documents(gw: web::Data<Gateway>, session: Session, q: web::Query<Search>) -> Result<HttpResponse, ConsoleError> {
    let mut rows = gw.store.console_documents(&q.filter()?).await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let mut b = Html::new();
    b.elem("h1", &[], "Documents").append(q.form("/console/documents", true));
    b.raw("<table id=\"documents\">")
        .head_row(&[
            "Created (UTC)",
            "Dir",
            "Partner",
            "Set",
            "Reference",
            "ISA13 / GS06 / ST02",
            "Status",
            "Ack",
        ])
        .raw("<tbody>");
    for d in &rows {
        let controls = [&d.interchange_control, &d.group_control, &d.set_control]
            .iter()
            .map(|c| c.as_deref().unwrap_or("–"))
            .collect::<Vec<_>>()
            .join(" / ");
        b.raw("<tr>")
            .elem("td", &[], &datetime(d.created_at))
            .elem("td", &[], &d.direction)
            .elem("td", &[], &d.partner)
            .elem("td", &[], &d.set_id)
            .open("td", &[("class", "reference")])
            .elem(
                "a",
                &[("href", &format!("/console/documents/{}", encode(&d.id)))],
                d.reference.as_deref().unwrap_or("(none)"),
            )
            .close("td")
            .elem("td", &[("class", "mono")], &controls)
            .elem("td", &[("class", &format!("status {}", d.status))], &d.status)
            .elem("td", &[], &d.ack)
            .raw("</tr>");
    }
    b.raw("</tbody></table>");
    if rows.is_empty() {
        b.elem("p", &[("class", "empty")], "No documents match.");
    }
    b.append(q.pager("/console/documents", has_next));
    Ok(page(StatusCode::OK, "Documents", Some(&session), "documents", b))
}

/// `GET /console/interchanges`.
pub async fn interchanges(gw: web::Data<Gateway>, session: Session, q: web::Query<Search>) -> Result<HttpResponse, ConsoleError> {
    let mut rows = gw.store.console_interchanges(&q.filter()?).await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let mut b = Html::new();
    b.elem("h1", &[], "Interchanges").append(q.form("/console/interchanges", false));
    b.raw("<table id=\"interchanges\">")
        .head_row(&["Received (UTC)", "Partner", "Sender", "ISA13", "Version", "Sets", "Status", "Ack"])
        .raw("<tbody>");
    for i in &rows {
        let detail = format!("/console/interchanges/{}", encode(&i.id));
        b.raw("<tr>")
            .elem("td", &[], &datetime(i.received_at))
            .elem("td", &[], &i.owner)
            .elem("td", &[("class", "mono")], &i.sender)
            .open("td", &[("class", "mono")])
            .elem("a", &[("href", &detail)], &i.control_number)
            .close("td")
            .elem("td", &[], &i.version)
            .elem("td", &[("class", "num")], &i.documents.to_string())
            .elem("td", &[("class", &format!("status {}", i.status))], &i.status)
            .elem("td", &[], &i.ack)
            .raw("</tr>");
    }
    b.raw("</tbody></table>");
    if rows.is_empty() {
        b.elem("p", &[("class", "empty")], "No interchanges match.");
    }
    b.append(q.pager("/console/interchanges", has_next));
    Ok(page(StatusCode::OK, "Interchanges", Some(&session), "interchanges", b))
}

/// `GET /console/interchanges/{id}`: the raw interchange, its validation report, the ack sent and its sets.
pub async fn interchange(gw: web::Data<Gateway>, session: Session, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let i = gw.store.interchange(&id).await?.ok_or(ConsoleError::NotFound)?;
    let ack_delivery = gw.store.ack_delivery(&i.id).await?;
    let docs = gw
        .store
        .console_documents(&crate::store::ConsoleFilter {
            interchange: Some(i.id.clone()),
            limit: 1000,
            ..Default::default()
        })
        .await?;
    let mut b = Html::new();
    let title = format!("Interchange {} from {}", i.control_number, i.owner);
    b.elem("h1", &[], &title).raw("<dl class=\"facts\">");
    let ack = crate::store::ack_state("inbound", "received", ack_delivery.as_deref());
    for (k, v) in [
        ("Id", i.id.as_str()),
        ("Sender", i.sender.as_str()),
        ("Version", i.version.as_str()),
        ("Status", i.status.as_str()),
        ("Ack state", ack.as_str()),
        ("Received", &datetime(i.received_at)),
    ] {
        b.elem("dt", &[], k).elem("dd", &[], v);
    }
    b.raw("</dl><div class=\"panes\"><section><h2>Raw X12</h2>");
    b.elem("pre", &[("id", "x12")], &i.raw);
    b.raw("</section><section><h2>Validation report</h2>");
    b.elem(
        "pre",
        &[("id", "report")],
        &serde_json::to_string_pretty(&i.report).unwrap_or_default(),
    );
    b.raw("</section><section><h2>Acknowledgment sent</h2>");
    b.elem("pre", &[("id", "ack")], i.ack.as_deref().unwrap_or("(none)"));
    b.raw("</section></div><h2>Transaction sets</h2><table id=\"documents\">")
        .head_row(&["Set", "Reference", "ST02", "Status", "Ack"])
        .raw("<tbody>");
    for d in &docs {
        b.raw("<tr>")
            .elem("td", &[], &d.set_id)
            .open("td", &[("class", "reference")])
            .elem(
                "a",
                &[("href", &format!("/console/documents/{}", encode(&d.id)))],
                d.reference.as_deref().unwrap_or("(none)"),
            )
            .close("td")
            .elem("td", &[("class", "mono")], d.set_control.as_deref().unwrap_or("–"))
            .elem("td", &[("class", &format!("status {}", d.status))], &d.status)
            .elem("td", &[], &d.ack)
            .raw("</tr>");
    }
    b.raw("</tbody></table>");
    Ok(page(StatusCode::OK, &title, Some(&session), "interchanges", b))
}

/// `GET /console/documents/{id}`.
pub async fn document(gw: web::Data<Gateway>, session: Session, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let d = gw.store.document(&id).await?.ok_or(ConsoleError::NotFound)?;
    // Inbound documents keep no X12 of their own: show the interchange they came in.
    let interchange = match &d.interchange_id {
        Some(i) => gw.store.interchange(i).await?,
        None => None,
    };
    let raw = d.x12.clone().or_else(|| interchange.as_ref().map(|i| i.raw.clone()));
    let mut deliveries = Vec::new();
    for m in gw.store.document_messages(&d.id).await? {
        if let Some(found) = gw.store.message(&m).await? {
            deliveries.push(found);
        }
    }

    let mut b = Html::new();
    let title = format!("{} {} {}", d.direction, d.set_id, d.reference.as_deref().unwrap_or(&d.id));
    b.elem("h1", &[], &title);
    b.raw("<dl class=\"facts\">");
    let ack_delivery = match &d.interchange_id {
        Some(i) => gw.store.ack_delivery(i).await?,
        None => None,
    };
    let ack = crate::store::ack_state(&d.direction, &d.status, ack_delivery.as_deref());
    for (k, v) in [
        ("Id", d.id.as_str()),
        ("Partner", d.partner.as_str()),
        ("Status", d.status.as_str()),
        ("Ack state", ack.as_str()),
        ("ISA13", d.interchange_control.as_deref().unwrap_or("–")),
        ("GS06", d.group_control.as_deref().unwrap_or("–")),
        ("ST02", d.set_control.as_deref().unwrap_or("–")),
        ("Created", &datetime(d.created_at)),
    ] {
        b.elem("dt", &[], k).elem("dd", &[], v);
    }
    b.raw("</dl><div class=\"panes\">");

    b.raw("<section><h2>Raw X12</h2>");
    b.elem("pre", &[("id", "x12")], raw.as_deref().unwrap_or("(no X12 stored)"));
    if let Some(ack) = interchange.as_ref().and_then(|i| i.ack.as_deref()) {
        b.elem("h3", &[], "Acknowledgment sent").elem("pre", &[], ack);
    }
    b.raw("</section><section><h2>Canonical JSON</h2>");
    let json = serde_json::to_string_pretty(&d.document).unwrap_or_default();
    b.elem("pre", &[("id", "json")], &json);
    b.raw("</section><section><h2>Delivery attempts</h2>");
    if deliveries.is_empty() {
        b.elem("p", &[("class", "empty")], "Not queued for delivery.");
    }
    for (m, attempts) in &deliveries {
        b.open("p", &[])
            .elem("strong", &[], &m.destination)
            .text(" · ")
            .elem("span", &[("class", &format!("status {}", m.state))], &m.state)
            .text(&format!(" · {}", m.id))
            .close("p");
        b.raw("<table class=\"attempts\">")
            .head_row(&["#", "Started", "ms", "Outcome", "HTTP", "Error", "Response"])
            .raw("<tbody>");
        for a in attempts {
            b.row(&[
                &a.attempt.to_string(),
                &datetime(a.started_at),
                &a.duration_ms.to_string(),
                &a.outcome,
                &a.status.map(|s| s.to_string()).unwrap_or_default(),
                a.error.as_deref().unwrap_or(""),
                &a.response.as_deref().unwrap_or("").chars().take(300).collect::<String>(),
            ]);
        }
        b.raw("</tbody></table>");
    }
    b.raw("</section></div><h2>History</h2><table class=\"history\">")
        .head_row(&["At (UTC)", "Event", "Detail"])
        .raw("<tbody>");
    for e in &d.history {
        b.row(&[&datetime(e.at), &e.event, e.detail.as_deref().unwrap_or("")]);
    }
    b.raw("</tbody></table>");
    Ok(page(StatusCode::OK, &title, Some(&session), "documents", b))
}
