//! `POST /v1/po-acks`, `/v1/ship-notices`, `/v1/invoices`: a canonical
//! document for a partner is checked, numbered (ISA13/GS06/ST02 allocated in
//! the same transaction), rendered with the partner's delimiters, stored and
//! queued to the partner's destination. The Idempotency-Key makes a retried
//! request return the first result.

use serde::Deserialize;
use sqlx::{Any, Transaction};

use crate::mapping::{render, RenderOptions};
use crate::store::{self, enqueue, new_id, now_ms, sha256_hex, ApiKey, DocumentRecord, NewDocument, NewMessage, StoreError};
use crate::x12::writer::now_utc;

use super::{reference, FlowError, Gateway};

/// Which document an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundKind {
    /// 855 from a PurchaseOrderAck (or a whole PurchaseOrder, accepted).
    PoAck,
    /// 856 from a ShipNotice.
    ShipNotice,
    /// 810 from an Invoice.
    Invoice,
}

impl OutboundKind {
    fn set(self) -> &'static str {
        match self {
            OutboundKind::PoAck => "855",
            OutboundKind::ShipNotice => "856",
            OutboundKind::Invoice => "810",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    partner: String,
    document: serde_json::Value,
}

/// The stored document, and whether this request created it.
pub struct Sent {
    /// The document.
    pub document: DocumentRecord,
    /// False when the Idempotency-Key had been used for the same request.
    pub created: bool,
}

impl Gateway {
    /// Creates and queues an outbound document.
    pub async fn send_document(
        &self,
        caller: &ApiKey,
        kind: OutboundKind,
        idempotency_key: Option<&str>,
        body: &[u8],
    ) -> Result<Sent, FlowError> {
        let key = idempotency_key
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .ok_or(FlowError::MissingIdempotencyKey)?;
        let request_hash = sha256_hex(body);
        if let Some(existing) = self.store.document_by_key(&caller.owner, key).await? {
            return replayed(existing, key, &request_hash);
        }
        let req: Request = serde_json::from_slice(body).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;
        // A partner's key can only send to itself; other owners (fulfillment clients) to any partner.
        if self.partner(&caller.owner).is_some() && caller.owner != req.partner {
            return Err(FlowError::UnknownPartner(req.partner));
        }
        let partner = self
            .partner(&req.partner)
            .ok_or_else(|| FlowError::UnknownPartner(req.partner.clone()))?
            .clone();
        let set = kind.set();
        let (date, time) = now_utc();
        // Render once with placeholder numbers so a bad document fails before anything is allocated.
        let probe = RenderOptions {
            interchange_control: 1,
            group_control: 1,
            set_control: "0001".into(),
            date: date.clone(),
            time: time.clone(),
        };
        render(set, &partner, &req.document, &probe).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;

        let mut tx = self.store.begin_write().await?;
        let opts = next_controls(&mut tx, &partner.id, date, time).await?;
        let x12 = render(set, &partner, &req.document, &opts).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;
        let id = new_id("doc_");
        let inserted = store::insert_document(
            &mut tx,
            &NewDocument {
                id: id.clone(),
                owner: caller.owner.clone(),
                partner: partner.id.clone(),
                direction: "outbound",
                set_id: set.into(),
                reference: reference(&req.document),
                interchange_control: Some(format!("{:09}", opts.interchange_control)),
                group_control: Some(opts.group_control.to_string()),
                set_control: Some(opts.set_control.clone()),
                status: "queued".into(),
                ack_due_at: Some(now_ms() + i64::from(partner.ack_window_hours) * 3_600_000),
                document: req.document.to_string(),
                x12: Some(x12.clone()),
                idempotency_key: Some(key.to_string()),
                request_hash: Some(request_hash.clone()),
                ..NewDocument::default()
            },
        )
        .await?;
        if !inserted {
            // A concurrent request with the same key won; its numbers stay, ours roll back.
            tx.rollback().await?;
            let existing = self.store.document_by_key(&caller.owner, key).await?.ok_or(FlowError::NotFound)?;
            return replayed(existing, key, &request_hash);
        }
        let mut woken = Vec::new();
        self.enqueue_for_partner(&mut tx, &caller.owner, &partner.id, &id, &x12, &mut woken)
            .await?;
        tx.commit().await?;
        self.notify(&woken);
        self.metrics
            .inc("tradelane_documents_total", format!("set=\"{set}\",direction=\"outbound\""));
        let document = self.store.document(&id).await?.ok_or(FlowError::NotFound)?;
        Ok(Sent { document, created: true })
    }
}

/// Fresh ISA13, GS06 and ST02 for one outbound set to `partner`, allocated in `tx`
/// (so a rollback gives them back), as render options.
pub(super) async fn next_controls(
    tx: &mut Transaction<'_, Any>,
    partner: &str,
    date: String,
    time: String,
) -> Result<RenderOptions, StoreError> {
    let isa = store::allocate(tx, partner, "isa", 1).await?;
    let gs = store::allocate(tx, partner, "gs", 1).await?;
    let st = store::allocate(tx, partner, "st", 1).await?;
    Ok(RenderOptions {
        interchange_control: isa as u64,
        group_control: gs as u64,
        set_control: format!("{:04}", st % 1_000_000_000),
        date,
        time,
    })
}

impl Gateway {
    /// Queues an outbound X12 document to its partner's destination, when the partner
    /// has one (which then goes into `woken`); the message id.
    pub(super) async fn enqueue_for_partner(
        &self,
        tx: &mut Transaction<'_, Any>,
        owner: &str,
        partner: &str,
        document_id: &str,
        x12: &str,
        woken: &mut Vec<String>,
    ) -> Result<Option<String>, StoreError> {
        let Some(dest) = self.partner_destination(partner) else {
            return Ok(None);
        };
        let message = enqueue(
            tx,
            &NewMessage {
                owner,
                destination: dest,
                kind: "document",
                document_id: Some(document_id),
                interchange_id: None,
                ordering_key: Some(partner),
                content_type: "application/edi-x12",
                body: x12.as_bytes(),
                url: None,
                secret: None,
            },
        )
        .await?;
        woken.push(dest.to_string());
        Ok(Some(message))
    }
}

fn replayed(existing: DocumentRecord, key: &str, request_hash: &str) -> Result<Sent, FlowError> {
    if existing.request_hash() != Some(request_hash) {
        return Err(FlowError::IdempotencyKeyReused(key.to_string()));
    }
    Ok(Sent {
        document: existing,
        created: false,
    })
}
