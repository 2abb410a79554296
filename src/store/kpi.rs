//! The numbers behind the console's overview: documents per day and the
//! flow KPIs (order-to-ship-notice cycle time, acknowledgment latency,
//! partner rejection rate, on-time delivery).
//!
//! They are computed from the tables the flows already write (documents,
//! their history, tracking subscriptions); nothing extra is recorded for them.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::Row;

use super::{now_ms, Store, StoreError};

/// Documents per direction on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Inbound documents.
    pub inbound: i64,
    /// Outbound documents.
    pub outbound: i64,
}

/// A duration KPI for one partner.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationStat {
    /// Partner.
    pub partner: String,
    /// Measurements.
    pub samples: i64,
    /// Mean (ms).
    pub mean_ms: i64,
    /// Longest (ms).
    pub max_ms: i64,
}

/// Transaction sets exchanged with one partner and how many were rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejections {
    /// Partner.
    pub partner: String,
    /// Sets the partner sent us.
    pub inbound: i64,
    /// Of those, rejected by our validation.
    pub inbound_rejected: i64,
    /// Sets we sent the partner.
    pub outbound: i64,
    /// Of those, rejected by the partner's 997/999.
    pub outbound_rejected: i64,
}

impl Rejections {
    /// Rejected sets over all sets, both directions (0 when nothing was exchanged).
    pub fn rate(&self) -> f64 {
        let total = self.inbound + self.outbound;
        if total == 0 {
            0.0
        } else {
            (self.inbound_rejected + self.outbound_rejected) as f64 / total as f64
        }
    }
}

/// Delivered shipments of one carrier against the promised date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnTime {
    /// Carrier.
    pub carrier: String,
    /// Delivered on or before the promised date.
    pub on_time: i64,
    /// Delivered after it.
    pub late: i64,
    /// Delivered, but no promised date is known.
    pub no_promise: i64,
}

/// The flow KPIs.
#[derive(Debug, Clone, Default)]
pub struct Kpis {
    /// Order-to-ship-notice cycle time per partner.
    pub cycle_time: Vec<DurationStat>,
    /// Acknowledgment latency per partner.
    pub ack_latency: Vec<DurationStat>,
    /// Rejection counts per partner.
    pub rejections: Vec<Rejections>,
    /// On-time delivery per carrier.
    pub on_time: Vec<OnTime>,
}

/// The canonical document inside a stored one: inbound documents carry it under `document`.
fn canonical(v: &Value) -> &Value {
    match v.get("document") {
        Some(inner) if v.get("type").is_some() => inner,
        _ => v,
    }
}

fn durations(samples: HashMap<String, Vec<i64>>) -> Vec<DurationStat> {
    let mut out: Vec<DurationStat> = samples
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(partner, v)| DurationStat {
            samples: v.len() as i64,
            mean_ms: v.iter().sum::<i64>() / v.len() as i64,
            max_ms: v.iter().copied().max().unwrap_or(0),
            partner,
        })
        .collect();
    out.sort_by(|a, b| a.partner.cmp(&b.partner));
    out
}

/// How many recent documents the KPIs look at.
const KPI_WINDOW: i64 = 10_000;

impl Store {
    /// Documents created per UTC day and direction over the last `days` days (today included), oldest first.
    pub async fn throughput(&self, days: i64) -> Result<Vec<DayCount>, StoreError> {
        let today = now_ms() / 86_400_000;
        let first = today - days.max(1) + 1;
        let rows = sqlx::query(
            "SELECT created_at / 86400000 AS day, direction, COUNT(*) AS n FROM documents WHERE created_at >= $1 \
             GROUP BY created_at / 86400000, direction",
        )
        .bind(first * 86_400_000)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<DayCount> = (first..=today)
            .map(|day| DayCount {
                day,
                inbound: 0,
                outbound: 0,
            })
            .collect();
        for r in &rows {
            let (day, direction, n): (i64, String, i64) = (r.try_get("day")?, r.try_get("direction")?, r.try_get("n")?);
            if let Some(slot) = out.get_mut((day - first) as usize) {
                match direction.as_str() {
                    "inbound" => slot.inbound += n,
                    _ => slot.outbound += n,
                }
            }
        }
        Ok(out)
    }

    /// The flow KPIs over the most recent documents.
    pub async fn kpis(&self) -> Result<Kpis, StoreError> {
        // Purchase orders received: (partner, PO number) → (received at, promised delivery date).
        let orders: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT partner, reference, created_at, document FROM documents \
             WHERE direction = 'inbound' AND set_id = '850' AND reference IS NOT NULL ORDER BY created_at DESC LIMIT $1",
        )
        .bind(KPI_WINDOW)
        .fetch_all(self.pool())
        .await?;
        let mut received: HashMap<(String, String), (i64, Option<String>)> = HashMap::new();
        for (partner, po, at, doc) in orders {
            let promise = serde_json::from_str::<Value>(&doc)
                .ok()
                .and_then(|v| canonical(&v)["requested_delivery"].as_str().map(str::to_string));
            // A resent PO keeps its first receipt time.
            let e = received.entry((partner, po)).or_insert((at, promise.clone()));
            if at < e.0 {
                *e = (at, promise);
            }
        }

        // Ship notices sent: when the first delivery succeeded, the POs they cover, their tracking number.
        let notices: Vec<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT d.partner, d.document, (SELECT MIN(e.at) FROM document_events e WHERE e.document_id = d.id \
             AND e.event = 'delivered') AS sent_at FROM documents d WHERE d.direction = 'outbound' AND d.set_id = '856' \
             ORDER BY d.created_at DESC LIMIT $1",
        )
        .bind(KPI_WINDOW)
        .fetch_all(self.pool())
        .await?;
        let mut cycle: HashMap<String, Vec<i64>> = HashMap::new();
        let mut promised_by_tracking: HashMap<String, Option<String>> = HashMap::new();
        for (partner, doc, sent_at) in notices {
            let Ok(v) = serde_json::from_str::<Value>(&doc) else { continue };
            let v = canonical(&v);
            let pos: Vec<&str> = v["orders"]
                .as_array()
                .map(|a| a.iter().filter_map(|o| o["po_number"].as_str()).collect())
                .unwrap_or_default();
            for po in &pos {
                let Some((at, _)) = received.get(&(partner.clone(), (*po).to_string())) else {
                    continue;
                };
                // Order-to-ship-notice cycle time: 850 received → 856 delivered to the partner.
                if let Some(sent) = sent_at.filter(|s| s >= at) {
                    cycle.entry(partner.clone()).or_default().push(sent - at);
                }
            }
            if let Some(tn) = v["tracking_number"].as_str() {
                // The earliest promise among the POs the shipment covers.
                let promise = pos
                    .iter()
                    .filter_map(|po| received.get(&(partner.clone(), (*po).to_string())).and_then(|r| r.1.clone()))
                    .min();
                promised_by_tracking.insert(tn.to_string(), promise);
            }
        }

        // Ack latency: an outbound document's first successful delivery → the partner's 997/999 about it.
        let acked: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT d.partner, (SELECT MIN(e.at) FROM document_events e WHERE e.document_id = d.id AND e.event = 'delivered') AS sent, \
             (SELECT MIN(e.at) FROM document_events e WHERE e.document_id = d.id \
             AND e.event IN ('accepted', 'accepted_with_errors', 'rejected')) AS acked \
             FROM documents d WHERE d.direction = 'outbound' AND d.status IN ('accepted', 'accepted_with_errors', 'rejected') \
             ORDER BY d.created_at DESC LIMIT $1",
        )
        .bind(KPI_WINDOW)
        .fetch_all(self.pool())
        .await?;
        let mut latency: HashMap<String, Vec<i64>> = HashMap::new();
        for (partner, sent, acked) in acked {
            if let (Some(s), Some(a)) = (sent, acked) {
                latency.entry(partner).or_default().push((a - s).max(0));
            }
        }

        // Partner rejection rate: transaction sets (acknowledgments themselves excluded) rejected
        // by our validation (inbound) or by the partner's 997/999 (outbound), over all sets.
        let counts: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT partner, direction, COUNT(*), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) FROM documents \
             WHERE set_id NOT IN ('997', '999') GROUP BY partner, direction ORDER BY partner",
        )
        .fetch_all(self.pool())
        .await?;
        let mut rejections: Vec<Rejections> = Vec::new();
        for (partner, direction, total, rejected) in counts {
            if rejections.last().is_none_or(|r| r.partner != partner) {
                rejections.push(Rejections {
                    partner,
                    ..Default::default()
                });
            }
            if let Some(r) = rejections.last_mut() {
                if direction == "inbound" {
                    (r.inbound, r.inbound_rejected) = (total, rejected);
                } else {
                    (r.outbound, r.outbound_rejected) = (total, rejected);
                }
            }
        }

        // On-time delivery: shipments tracked to `delivered`, the delivery date against the
        // requested delivery date (850 DTM*002) of the POs in the ship notice with that tracking number.
        let delivered: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT carrier, tracking_number, last_event_at FROM tracking_subscriptions WHERE last_status = 'delivered'")
                .fetch_all(self.pool())
                .await?;
        let mut on_time: std::collections::BTreeMap<String, OnTime> = Default::default();
        for (carrier, number, at) in delivered {
            let o = on_time.entry(carrier.clone()).or_insert_with(|| OnTime {
                carrier,
                ..Default::default()
            });
            let day = at.as_deref().and_then(|a| a.get(..10));
            match (day, promised_by_tracking.get(&number).cloned().flatten()) {
                (Some(day), Some(promise)) if day <= promise.as_str() => o.on_time += 1,
                (Some(_), Some(_)) => o.late += 1,
                _ => o.no_promise += 1,
            }
        }

        Ok(Kpis {
            cycle_time: durations(cycle),
            ack_latency: durations(latency),
            rejections,
            on_time: on_time.into_values().collect(),
        })
    }
}
