//! Submissions (raw bodies as received), interchanges, canonical documents
//! and their history.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{now_ms, Store, StoreError};

/// A document row to insert.
#[derive(Debug, Clone, Default)]
pub struct NewDocument {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Partner the document is exchanged with.
    pub partner: String,
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    /// ST01.
    pub set_id: String,
    /// Business reference (PO number, shipment id, invoice number).
    pub reference: Option<String>,
    /// Inbound interchange it came in.
    pub interchange_id: Option<String>,
    /// ISA13.
    pub interchange_control: Option<String>,
    /// GS06.
    pub group_control: Option<String>,
    /// ST02.
    pub set_control: Option<String>,
    /// Initial status.
    pub status: String,
    /// When an acknowledgment is due (ms), for outbound documents.
    pub ack_due_at: Option<i64>,
    /// Canonical JSON.
    pub document: String,
    /// The X12 text, when there is one.
    pub x12: Option<String>,
    /// Idempotency-Key of the request that created it.
    pub idempotency_key: Option<String>,
    /// Hash of that request's body.
    pub request_hash: Option<String>,
}

/// A document as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentRecord {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Partner.
    pub partner: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// ST01.
    pub set_id: String,
    /// Business reference.
    pub reference: Option<String>,
    /// Inbound interchange.
    pub interchange_id: Option<String>,
    /// ISA13.
    pub interchange_control: Option<String>,
    /// GS06.
    pub group_control: Option<String>,
    /// ST02.
    pub set_control: Option<String>,
    /// Status.
    pub status: String,
    /// Ack due (ms).
    pub ack_due_at: Option<i64>,
    /// Created (ms).
    pub created_at: i64,
    /// Updated (ms).
    pub updated_at: i64,
    /// Canonical JSON: the document of `set_id` (850 PurchaseOrder, 855 PurchaseOrderAck,
    /// 856 ShipNotice, 810 Invoice, 997/999 FunctionalAck).
    #[schema(schema_with = canonical_document)]
    pub document: serde_json::Value,
    /// X12 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x12: Option<String>,
    /// History, oldest first (only on single reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<DocumentEvent>,
    #[serde(skip)]
    request_hash: Option<String>,
}

/// Schema of [`DocumentRecord::document`]: one of the canonical documents (each listed in the
/// OpenAPI components by the HTTP layer).
fn canonical_document() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::Ref;
    let mut one = utoipa::openapi::schema::OneOfBuilder::new();
    for name in ["PurchaseOrder", "PurchaseOrderAck", "ShipNotice", "Invoice", "FunctionalAck"] {
        one = one.item(Ref::from_schema_name(name));
    }
    utoipa::openapi::schema::Schema::OneOf(one.build())
}

impl DocumentRecord {
    /// Hash of the request that created the document.
    pub fn request_hash(&self) -> Option<&str> {
        self.request_hash.as_deref()
    }
}

/// One history entry of a document.
pub type DocumentEvent = super::HistoryEvent;

/// Document list filter.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    /// Partner.
    pub partner: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// ST01.
    pub set_id: Option<String>,
    /// Business reference (PO number …).
    pub reference: Option<String>,
    /// Any control number (ISA13, GS06 or ST02).
    pub control_number: Option<String>,
    /// Created at or after (ms).
    pub since: Option<i64>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<i64>,
}

const DOC_COLUMNS: &str = "id, owner, partner, direction, set_id, reference, interchange_id, interchange_control, group_control, \
     set_control, status, ack_due_at, created_at, updated_at, document, x12, request_hash";

fn document(row: &sqlx::any::AnyRow) -> Result<DocumentRecord, sqlx::Error> {
    let text: String = row.try_get("document")?;
    Ok(DocumentRecord {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        partner: row.try_get("partner")?,
        direction: row.try_get("direction")?,
        set_id: row.try_get("set_id")?,
        reference: row.try_get("reference")?,
        interchange_id: row.try_get("interchange_id")?,
        interchange_control: row.try_get("interchange_control")?,
        group_control: row.try_get("group_control")?,
        set_control: row.try_get("set_control")?,
        status: row.try_get("status")?,
        ack_due_at: row.try_get("ack_due_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        document: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        x12: row.try_get("x12")?,
        history: Vec::new(),
        request_hash: row.try_get("request_hash")?,
    })
}

/// Inserts a document and its `created` event; false when the owner already
/// used the idempotency key (nothing is written then).
pub async fn insert_document(tx: &mut Transaction<'_, Any>, d: &NewDocument) -> Result<bool, StoreError> {
    let now = now_ms();
    let r = sqlx::query(
        "INSERT INTO documents (id, owner, partner, direction, set_id, reference, interchange_id, interchange_control, group_control, \
         set_control, status, ack_due_at, document, x12, idempotency_key, request_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) ON CONFLICT DO NOTHING",
    )
    .bind(&d.id)
    .bind(&d.owner)
    .bind(&d.partner)
    .bind(d.direction)
    .bind(&d.set_id)
    .bind(d.reference.clone())
    .bind(d.interchange_id.clone())
    .bind(d.interchange_control.clone())
    .bind(d.group_control.clone())
    .bind(d.set_control.clone())
    .bind(&d.status)
    .bind(d.ack_due_at)
    .bind(&d.document)
    .bind(d.x12.clone())
    .bind(d.idempotency_key.clone())
    .bind(d.request_hash.clone())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    add_event(tx, &d.id, "created", Some(&d.status)).await?;
    Ok(true)
}

/// Appends a history entry.
pub async fn add_event(tx: &mut Transaction<'_, Any>, document_id: &str, event: &str, detail: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO document_events (document_id, at, event, detail) VALUES ($1, $2, $3, $4)")
        .bind(document_id)
        .bind(now_ms())
        .bind(event)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets an outbound document's status from a received 997/999; returns the
/// document id when one matched.
pub async fn reconcile(
    tx: &mut Transaction<'_, Any>,
    partner: &str,
    group_control: &str,
    set_control: &str,
    status: &str,
    detail: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM documents WHERE partner = $1 AND direction = 'outbound' AND group_control = $2 AND set_control = $3",
    )
    .bind(partner)
    .bind(group_control)
    .bind(set_control)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id,)) = row else { return Ok(None) };
    sqlx::query("UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now_ms())
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    add_event(tx, &id, status, Some(detail)).await?;
    Ok(Some(id))
}

/// A stored submission's receipt, when the owner sent these exact bytes before.
pub async fn submission_receipt(tx: &mut Transaction<'_, Any>, owner: &str, content_hash: &str) -> Result<Option<String>, StoreError> {
    receipt_of(&mut **tx, owner, content_hash).await
}

async fn receipt_of<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    owner: &str,
    content_hash: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT receipt FROM submissions WHERE owner = $1 AND content_hash = $2")
        .bind(owner)
        .bind(content_hash)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| r.0))
}

/// Stores the raw body; false when the same owner sent the same bytes concurrently.
pub async fn insert_submission(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    owner: &str,
    content_hash: &str,
    raw: &[u8],
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "INSERT INTO submissions (id, owner, content_hash, received_at, raw, receipt) VALUES ($1, $2, $3, $4, $5, '{}') ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(owner)
    .bind(content_hash)
    .bind(now_ms())
    .bind(raw.to_vec())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Saves the receipt answered for a submission.
pub async fn set_receipt(tx: &mut Transaction<'_, Any>, id: &str, receipt: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE submissions SET receipt = $1 WHERE id = $2")
        .bind(receipt)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An interchange row.
#[derive(Debug, Clone)]
pub struct NewInterchange<'a> {
    /// Id.
    pub id: &'a str,
    /// Submission it came in.
    pub submission_id: &'a str,
    /// Owner.
    pub owner: &'a str,
    /// `qualifier/id` of ISA05/ISA06.
    pub sender: &'a str,
    /// ISA13.
    pub control_number: &'a str,
    /// ISA12.
    pub version: &'a str,
    /// `accepted`, `accepted_with_errors`, `rejected`.
    pub status: &'a str,
    /// The validation report (JSON).
    pub report: &'a str,
    /// The acknowledgment sent back, if any.
    pub ack: Option<&'a str>,
}

/// Inserts an interchange; `Err(original id)` when the sender already used the control number.
pub async fn insert_interchange(tx: &mut Transaction<'_, Any>, i: &NewInterchange<'_>) -> Result<Result<(), String>, StoreError> {
    let r = sqlx::query(
        "INSERT INTO interchanges (id, submission_id, owner, sender, control_number, version, status, report, ack, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind(i.id)
    .bind(i.submission_id)
    .bind(i.owner)
    .bind(i.sender)
    .bind(i.control_number)
    .bind(i.version)
    .bind(i.status)
    .bind(i.report)
    .bind(i.ack)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    let (original,): (String,) = sqlx::query_as("SELECT id FROM interchanges WHERE sender = $1 AND control_number = $2")
        .bind(i.sender)
        .bind(i.control_number)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Err(original))
}

/// Records the acknowledgment sent for an interchange.
pub async fn set_interchange_ack(tx: &mut Transaction<'_, Any>, id: &str, ack: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE interchanges SET ack = $1 WHERE id = $2")
        .bind(ack)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Receipt of the submission an interchange came in.
pub async fn interchange_receipt(tx: &mut Transaction<'_, Any>, interchange_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT s.receipt FROM submissions s JOIN interchanges i ON i.submission_id = s.id WHERE i.id = $1")
            .bind(interchange_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|r| r.0))
}

/// An interchange as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InterchangeRecord {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Sender.
    pub sender: String,
    /// ISA13.
    pub control_number: String,
    /// ISA12.
    pub version: String,
    /// Status.
    pub status: String,
    /// Validation report.
    pub report: serde_json::Value,
    /// Acknowledgment sent back.
    pub ack: Option<String>,
    /// Received (ms).
    pub received_at: i64,
    /// The raw interchange as received (the whole submission).
    pub raw: String,
}

impl Store {
    /// The receipt of a submission an owner already sent with these exact bytes.
    pub async fn receipt(&self, owner: &str, content_hash: &str) -> Result<Option<String>, StoreError> {
        receipt_of(self.pool(), owner, content_hash).await
    }

    /// One document with its history.
    pub async fn document(&self, id: &str) -> Result<Option<DocumentRecord>, StoreError> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let mut d = document(&row)?;
        d.history = self
            .history(
                "SELECT at, event, detail FROM document_events WHERE document_id = $1 ORDER BY seq",
                id,
            )
            .await?;
        Ok(Some(d))
    }

    /// The document an owner created with an idempotency key.
    pub async fn document_by_key(&self, owner: &str, key: &str) -> Result<Option<DocumentRecord>, StoreError> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE owner = $1 AND idempotency_key = $2");
        let row = sqlx::query(&sql).bind(owner).bind(key).fetch_optional(self.pool()).await?;
        row.as_ref().map(document).transpose().map_err(Into::into)
    }

    /// Documents visible to `viewer` (`None` = every owner), newest first.
    pub async fn documents(&self, viewer: Option<&str>, f: &DocumentFilter) -> Result<Vec<DocumentRecord>, StoreError> {
        let sql = format!(
            "SELECT {DOC_COLUMNS} FROM documents WHERE ($1 IS NULL OR owner = $1 OR partner = $1) \
             AND ($2 IS NULL OR partner = $2) AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR direction = $4) \
             AND ($5 IS NULL OR set_id = $5) AND ($6 IS NULL OR reference = $6) \
             AND ($7 IS NULL OR interchange_control = $7 OR group_control = $7 OR set_control = $7) \
             AND ($8 IS NULL OR created_at >= $8) ORDER BY created_at DESC, id LIMIT $9"
        );
        let rows = sqlx::query(&sql)
            .bind(viewer)
            .bind(f.partner.clone())
            .bind(f.status.clone())
            .bind(f.direction.clone())
            .bind(f.set_id.clone())
            .bind(f.reference.clone())
            .bind(f.control_number.clone())
            .bind(f.since)
            .bind(f.limit.unwrap_or(100).clamp(1, 1000))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(document).collect::<Result<_, _>>().map_err(Into::into)
    }

    /// One interchange with its raw submission.
    pub async fn interchange(&self, id: &str) -> Result<Option<InterchangeRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT i.id, i.owner, i.sender, i.control_number, i.version, i.status, i.report, i.ack, i.received_at, s.raw \
             FROM interchanges i JOIN submissions s ON s.id = i.submission_id WHERE i.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let report: String = r.try_get("report")?;
        let raw: Vec<u8> = r.try_get("raw")?;
        Ok(Some(InterchangeRecord {
            id: r.try_get("id")?,
            owner: r.try_get("owner")?,
            sender: r.try_get("sender")?,
            control_number: r.try_get("control_number")?,
            version: r.try_get("version")?,
            status: r.try_get("status")?,
            report: serde_json::from_str(&report).unwrap_or_default(),
            ack: r.try_get("ack")?,
            received_at: r.try_get("received_at")?,
            raw: String::from_utf8_lossy(&raw).into_owned(),
        }))
    }

    /// Flags outbound documents whose acknowledgment is overdue; returns how many.
    pub async fn flag_overdue(&self) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let ids: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM documents WHERE direction = 'outbound' AND status IN ('queued', 'sent') AND ack_due_at < $1")
                .bind(now)
                .fetch_all(&mut **tx)
                .await?;
        for (id,) in &ids {
            sqlx::query("UPDATE documents SET status = 'overdue', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            add_event(
                &mut tx,
                id,
                "overdue",
                Some("no functional acknowledgment within the partner's window"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}
