//! Read models for the web console: searchable document and interchange
//! lists with their acknowledgment state, dead letters with their reason,
//! and carrier activity. The overview's numbers are in `kpi`.

use sqlx::Row;

use super::{Store, StoreError};

/// Console search: every field is optional; `reference` matches a substring.
#[derive(Debug, Clone, Default)]
pub struct ConsoleFilter {
    /// Partner (documents) or owner (interchanges).
    pub partner: Option<String>,
    /// PO number, shipment id or invoice number (substring).
    pub reference: Option<String>,
    /// ISA13, GS06 or ST02 (exact).
    pub control_number: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Documents of one inbound interchange.
    pub interchange: Option<String>,
    /// Created at or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub until: Option<i64>,
    /// Rows to skip.
    pub offset: i64,
    /// Page size.
    pub limit: i64,
}

impl ConsoleFilter {
    /// `%…%` for LIKE, with the caller's own `%`, `_` and `\` taken literally.
    fn reference_pattern(&self) -> Option<String> {
        self.reference.as_ref().map(|r| {
            let escaped = r.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

/// One row of the documents table.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    /// Id.
    pub id: String,
    /// Partner.
    pub partner: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// ST01.
    pub set_id: String,
    /// Business reference.
    pub reference: Option<String>,
    /// ISA13.
    pub interchange_control: Option<String>,
    /// GS06.
    pub group_control: Option<String>,
    /// ST02.
    pub set_control: Option<String>,
    /// Status.
    pub status: String,
    /// Acknowledgment state (see [`ack_state`]).
    pub ack: String,
    /// Created (ms).
    pub created_at: i64,
}

/// One row of the interchanges table.
#[derive(Debug, Clone)]
pub struct InterchangeRow {
    /// Id.
    pub id: String,
    /// Partner that sent it.
    pub owner: String,
    /// ISA sender.
    pub sender: String,
    /// ISA13.
    pub control_number: String,
    /// ISA12.
    pub version: String,
    /// Validation status.
    pub status: String,
    /// Delivery state of the acknowledgment we sent back, if any.
    pub ack: String,
    /// Transaction sets in it.
    pub documents: i64,
    /// Received (ms).
    pub received_at: i64,
}

/// A dead letter with why it died.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Message id.
    pub id: String,
    /// Destination.
    pub destination: String,
    /// Kind (`ack`, `document`, `tracking`).
    pub kind: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last error (`HTTP 400`, a network error …).
    pub reason: Option<String>,
    /// The destination's last response body.
    pub response: Option<String>,
    /// Document carried.
    pub document_id: Option<String>,
    /// Last change (ms).
    pub updated_at: i64,
}

/// Labels and tracking for one carrier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarrierActivity {
    /// Carrier id.
    pub carrier: String,
    /// Labels bought and still valid.
    pub purchased: i64,
    /// Labels voided.
    pub voided: i64,
    /// Purchases the carrier refused.
    pub failed: i64,
    /// Tracking subscriptions still polled.
    pub tracking_active: i64,
    /// Tracking subscriptions whose shipment was delivered.
    pub tracking_delivered: i64,
}

/// What the console shows as a document's acknowledgment state. Inbound: the
/// delivery state of the 997/999 we sent for its interchange. Outbound: the
/// partner's answer, or that it is still awaited.
pub fn ack_state(direction: &str, status: &str, ack_delivery: Option<&str>) -> String {
    if direction == "inbound" {
        return match ack_delivery {
            // Acknowledgments themselves are not acknowledged.
            None if status == "processed" => "n/a".into(),
            Some(state) => format!("ack {state}"),
            None => "no ack".into(),
        };
    }
    match status {
        "accepted" | "accepted_with_errors" | "rejected" => status.into(),
        "sent" => "awaiting ack".into(),
        "overdue" => "ack overdue".into(),
        _ => "not sent".into(),
    }
}

impl Store {
    /// One page of documents, newest first.
    pub async fn console_documents(&self, f: &ConsoleFilter) -> Result<Vec<DocumentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.partner, d.direction, d.set_id, d.reference, d.interchange_control, d.group_control, d.set_control, \
             d.status, d.created_at, (SELECT o.state FROM outbox o WHERE o.interchange_id = d.interchange_id AND o.kind = 'ack' \
             ORDER BY o.seq LIMIT 1) AS ack_delivery FROM documents d \
             WHERE ($1 IS NULL OR d.partner = $1) AND ($2 IS NULL OR d.reference LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR d.interchange_control = $3 OR d.group_control = $3 OR d.set_control = $3) \
             AND ($4 IS NULL OR d.direction = $4) AND ($5 IS NULL OR d.status = $5) \
             AND ($6 IS NULL OR d.created_at >= $6) AND ($7 IS NULL OR d.created_at < $7) \
             AND ($10 IS NULL OR d.interchange_id = $10) ORDER BY d.created_at DESC, d.id LIMIT $8 OFFSET $9",
        )
        .bind(f.partner.clone())
        .bind(f.reference_pattern())
        .bind(f.control_number.clone())
        .bind(f.direction.clone())
        .bind(f.status.clone())
        .bind(f.from)
        .bind(f.until)
        .bind(f.limit)
        .bind(f.offset)
        .bind(f.interchange.clone())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let direction: String = r.try_get("direction")?;
                let status: String = r.try_get("status")?;
                let delivery: Option<String> = r.try_get("ack_delivery")?;
                Ok(DocumentRow {
                    id: r.try_get("id")?,
                    partner: r.try_get("partner")?,
                    set_id: r.try_get("set_id")?,
                    reference: r.try_get("reference")?,
                    interchange_control: r.try_get("interchange_control")?,
                    group_control: r.try_get("group_control")?,
                    set_control: r.try_get("set_control")?,
                    ack: ack_state(&direction, &status, delivery.as_deref()),
                    created_at: r.try_get("created_at")?,
                    direction,
                    status,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// One page of inbound interchanges, newest first. `reference` keeps those carrying such a document.
    pub async fn console_interchanges(&self, f: &ConsoleFilter) -> Result<Vec<InterchangeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.owner, i.sender, i.control_number, i.version, i.status, i.received_at, \
             (SELECT o.state FROM outbox o WHERE o.interchange_id = i.id AND o.kind = 'ack' ORDER BY o.seq LIMIT 1) AS ack_delivery, \
             (SELECT COUNT(*) FROM documents d WHERE d.interchange_id = i.id) AS documents FROM interchanges i \
             WHERE ($1 IS NULL OR i.owner = $1) AND ($2 IS NULL OR EXISTS (SELECT 1 FROM documents d \
             WHERE d.interchange_id = i.id AND d.reference LIKE $2 ESCAPE '\\')) \
             AND ($3 IS NULL OR i.control_number = $3) AND ($4 IS NULL OR i.status = $4) \
             AND ($5 IS NULL OR i.received_at >= $5) AND ($6 IS NULL OR i.received_at < $6) \
             ORDER BY i.received_at DESC, i.id LIMIT $7 OFFSET $8",
        )
        .bind(f.partner.clone())
        .bind(f.reference_pattern())
        .bind(f.control_number.clone())
        .bind(f.status.clone())
        .bind(f.from)
        .bind(f.until)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let delivery: Option<String> = r.try_get("ack_delivery")?;
                Ok(InterchangeRow {
                    id: r.try_get("id")?,
                    owner: r.try_get("owner")?,
                    sender: r.try_get("sender")?,
                    control_number: r.try_get("control_number")?,
                    version: r.try_get("version")?,
                    status: r.try_get("status")?,
                    ack: ack_state("inbound", "received", delivery.as_deref()),
                    documents: r.try_get("documents")?,
                    received_at: r.try_get("received_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Delivery state of the acknowledgment sent for an interchange, if one was queued.
    pub async fn ack_delivery(&self, interchange_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT state FROM outbox WHERE interchange_id = $1 AND kind = 'ack' ORDER BY seq LIMIT 1")
                .bind(interchange_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Ids of the outbox messages that carried a document, oldest first.
    pub async fn document_messages(&self, document_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM outbox WHERE document_id = $1 ORDER BY seq")
            .bind(document_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Dead letters, most recent first, each with its last error and response body.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.destination, o.kind, o.attempts, o.last_error, o.document_id, o.updated_at, \
             (SELECT a.response FROM outbox_attempts a WHERE a.message_id = o.id ORDER BY a.seq DESC LIMIT 1) AS response \
             FROM outbox o WHERE o.state = 'dead' ORDER BY o.updated_at DESC, o.seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    destination: r.try_get("destination")?,
                    kind: r.try_get("kind")?,
                    attempts: r.try_get("attempts")?,
                    reason: r.try_get("last_error")?,
                    response: r.try_get("response")?,
                    document_id: r.try_get("document_id")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Labels by status and tracking subscriptions, per carrier.
    pub async fn carrier_activity(&self) -> Result<Vec<CarrierActivity>, StoreError> {
        let mut by: std::collections::BTreeMap<String, CarrierActivity> = Default::default();
        let labels: Vec<(String, String, i64)> = sqlx::query_as("SELECT carrier, status, COUNT(*) FROM labels GROUP BY carrier, status")
            .fetch_all(self.pool())
            .await?;
        for (carrier, status, n) in labels {
            let a = by.entry(carrier.clone()).or_insert_with(|| CarrierActivity {
                carrier,
                ..Default::default()
            });
            match status.as_str() {
                "purchased" => a.purchased += n,
                "voided" => a.voided += n,
                "failed" => a.failed += n,
                _ => {}
            }
        }
        let subs: Vec<(String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT carrier, active, last_status, COUNT(*) FROM tracking_subscriptions GROUP BY carrier, active, last_status",
        )
        .fetch_all(self.pool())
        .await?;
        for (carrier, active, status, n) in subs {
            let a = by.entry(carrier.clone()).or_insert_with(|| CarrierActivity {
                carrier,
                ..Default::default()
            });
            if active != 0 {
                a.tracking_active += n;
            }
            if status.as_deref() == Some("delivered") {
                a.tracking_delivered += n;
            }
        }
        Ok(by.into_values().collect())
    }
}
