//! The overview: daily throughput and the flow KPIs as charts, with the
//! numbers behind them in tables.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::charts::{bars, lines, Series};
use super::error::ConsoleError;
use super::html::{date, duration, Html};
use super::layout::page;
use super::session::Session;
use crate::flow::Gateway;
use crate::store::DurationStat;

/// Days of throughput shown.
const DAYS: i64 = 14;

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

fn duration_chart(b: &mut Html, title: &str, id: &'static str, stats: &[DurationStat]) {
    b.open("section", &[("class", "card"), ("id", id)]).elem("h2", &[], title);
    let labels: Vec<String> = stats.iter().map(|s| s.partner.clone()).collect();
    let series = [
        Series {
            name: "mean",
            values: stats.iter().map(|s| s.mean_ms as f64).collect(),
        },
        Series {
            name: "longest",
            values: stats.iter().map(|s| s.max_ms as f64).collect(),
        },
    ];
    b.append(bars(title, &labels, &series, 0.0, &duration));
    if !stats.is_empty() {
        b.raw("<table>").head_row(&["Partner", "Samples", "Mean", "Longest"]).raw("<tbody>");
        for s in stats {
            b.row(&[
                &s.partner,
                &s.samples.to_string(),
                &duration(s.mean_ms as f64),
                &duration(s.max_ms as f64),
            ]);
        }
        b.raw("</tbody></table>");
    }
    b.close("section");
}

/// `GET /console`.
pub async fn overview(gw: web::Data<Gateway>, session: Session) -> Result<HttpResponse, ConsoleError> {
    let days = gw.store.throughput(DAYS).await?;
    let kpis = gw.store.kpis().await?;
    let mut b = Html::new();
    b.elem("h1", &[], "Overview").raw("<div class=\"grid\">");

    b.open("section", &[("class", "card wide"), ("id", "throughput")]).elem(
        "h2",
        &[],
        &format!("Documents per day (last {DAYS} days, UTC)"),
    );
    let labels: Vec<String> = days.iter().map(|d| date(d.day)[5..].to_string()).collect();
    let series = [
        Series {
            name: "inbound",
            values: days.iter().map(|d| d.inbound as f64).collect(),
        },
        Series {
            name: "outbound",
            values: days.iter().map(|d| d.outbound as f64).collect(),
        },
    ];
    b.append(lines("Documents per day", &labels, &series, 1.0, &count)).close("section");

    duration_chart(
        &mut b,
        "Order-to-ship-notice cycle time (850 received → 856 delivered)",
        "cycle-time",
        &kpis.cycle_time,
    );
    duration_chart(
        &mut b,
        "Ack latency (document delivered → partner's 997/999)",
        "ack-latency",
        &kpis.ack_latency,
    );

    b.open("section", &[("class", "card"), ("id", "rejections")])
        .elem("h2", &[], "Partner rejection rate (transaction sets)");
    let labels: Vec<String> = kpis.rejections.iter().map(|r| r.partner.clone()).collect();
    let series = [Series {
        name: "rejected",
        values: kpis.rejections.iter().map(|r| r.rate()).collect(),
    }];
    b.append(bars("Partner rejection rate", &labels, &series, 0.0, &percent));
    if !kpis.rejections.is_empty() {
        b.raw("<table>")
            .head_row(&["Partner", "In: rejected / sets", "Out: rejected / sets", "Rate"])
            .raw("<tbody>");
        for r in &kpis.rejections {
            b.row(&[
                &r.partner,
                &format!("{} / {}", r.inbound_rejected, r.inbound),
                &format!("{} / {}", r.outbound_rejected, r.outbound),
                &percent(r.rate()),
            ]);
        }
        b.raw("</tbody></table>");
    }
    b.close("section");

    b.open("section", &[("class", "card"), ("id", "on-time")])
        .elem("h2", &[], "On-time delivery (tracking vs requested date)");
    let labels: Vec<String> = kpis.on_time.iter().map(|o| o.carrier.clone()).collect();
    let series = [Series {
        name: "on time",
        values: kpis
            .on_time
            .iter()
            .map(|o| {
                let known = o.on_time + o.late;
                if known == 0 {
                    0.0
                } else {
                    o.on_time as f64 / known as f64
                }
            })
            .collect(),
    }];
    b.append(bars("On-time delivery", &labels, &series, 0.0, &percent));
    if !kpis.on_time.is_empty() {
        b.raw("<table>")
            .head_row(&["Carrier", "On time", "Late", "No promise known"])
            .raw("<tbody>");
        for o in &kpis.on_time {
            b.row(&[&o.carrier, &o.on_time.to_string(), &o.late.to_string(), &o.no_promise.to_string()]);
        }
        b.raw("</tbody></table>");
    }
    b.close("section").raw("</div>");
    Ok(page(StatusCode::OK, "Overview", Some(&session), "overview", b))
}
