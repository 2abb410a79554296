//! `POST /v1/x12`: one submission (raw bytes, content hash), its
//! interchanges, their acknowledgments and canonical documents, and the
//! outbox rows that deliver them, all in one transaction.

use serde::Serialize;

use crate::mapping::{translate, PartnerProfile, Translated};
use crate::model::Document;
use crate::store::{self, enqueue, new_id, sha256_hex, NewDocument, NewInterchange, NewMessage};
use crate::x12::ack::{ack_interchange, AckNumbers, CheckReport, InterchangeOutcome};
use crate::x12::writer::now_utc;
use crate::x12::Tokenizer;

use super::{reference, FlowError, Gateway};

/// What the sender gets back (and gets again for a duplicate).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// Submission id.
    pub submission_id: String,
    /// `accepted`, `accepted_with_errors`, `rejected` or `duplicate`.
    pub status: String,
    /// One entry per interchange.
    pub interchanges: Vec<InterchangeReceipt>,
    /// Unreadable stretches, segments outside envelopes.
    pub errors: Vec<String>,
}

/// One interchange of a receipt.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct InterchangeReceipt {
    /// Interchange id (of the original, for a duplicate).
    pub id: String,
    /// ISA05/ISA06.
    pub sender: String,
    /// ISA13.
    pub control_number: String,
    /// Status.
    pub status: String,
    /// True when the interchange had been received before and was not processed again.
    #[serde(default)]
    pub duplicate: bool,
    /// The TA1/997/999 interchange sent back.
    pub ack: Option<String>,
    /// Outbox message carrying the ack.
    pub ack_message_id: Option<String>,
    /// Documents read from it.
    pub documents: Vec<DocumentReceipt>,
}

/// One transaction set of a receipt.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentReceipt {
    /// Document id.
    pub id: String,
    /// ST01.
    pub set: String,
    /// ST02.
    pub control_number: String,
    /// True when the set passed validation.
    pub accepted: bool,
    /// Outbox message delivering the canonical document.
    pub message_id: Option<String>,
}

/// The outcome: a new receipt (202) or the original one (200).
pub struct Received {
    /// The receipt.
    pub receipt: Receipt,
    /// True when nothing new was processed.
    pub duplicate: bool,
}

fn interchange_status(o: &InterchangeOutcome) -> &'static str {
    let sets: Vec<bool> = o.groups.iter().flat_map(|g| g.sets.iter().map(|s| s.accepted())).collect();
    if !o.issues.is_empty() || (!sets.is_empty() && sets.iter().all(|a| !a)) {
        "rejected"
    } else if o.accepted() {
        "accepted"
    } else {
        "accepted_with_errors"
    }
}

fn overall(statuses: &[&str]) -> String {
    if statuses.iter().all(|s| *s == statuses[0]) {
        statuses[0].to_string()
    } else if statuses.iter().all(|s| *s == "rejected" || *s == "duplicate") {
        "rejected".into()
    } else {
        "accepted_with_errors".into()
    }
}

fn sender_of(o: &InterchangeOutcome) -> String {
    format!("{}/{}", o.header.sender_qualifier.trim(), o.header.sender_id.trim())
}

/// Maps a received 997/999 set status to an outbound document status.
fn ack_status(code: &str) -> &'static str {
    match code {
        "A" => "accepted",
        "E" | "P" => "accepted_with_errors",
        _ => "rejected",
    }
}

impl Gateway {
    /// Receives one X12 submission from `owner`.
    pub async fn receive_x12(&self, owner: &str, body: Vec<u8>) -> Result<Received, FlowError> {
        let partner = self
            .partner(owner)
            .ok_or_else(|| FlowError::NotAPartner(owner.to_string()))?
            .clone();
        // The same bytes again (a partner's retry) are answered before anything is parsed.
        let hash = sha256_hex(&body);
        if let Some(r) = self.store.receipt(owner, &hash).await? {
            return Ok(Received {
                receipt: serde_json::from_str(&r).map_err(|e| FlowError::Internal(e.to_string()))?,
                duplicate: true,
            });
        }
        let registry = self.registry.clone();
        let partners = self.partners.clone();
        let (body, report, docs) = tokio::task::spawn_blocking(move || {
            let mut docs = Vec::new();
            let report = translate(&registry, &partners, Tokenizer::new(&body), |t| docs.push(t));
            (body, report, docs)
        })
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?;
        let expected = format!("{}/{}", partner.interchange.qualifier, partner.interchange.id);
        if let Some(o) = report.interchanges.iter().find(|o| sender_of(o) != expected) {
            return Err(FlowError::SenderMismatch {
                partner: partner.id.clone(),
                expected,
                got: sender_of(o),
            });
        }
        let mut tx = self.store.begin_write().await?;
        // Checked again inside the transaction: a concurrent request may have committed meanwhile.
        if let Some(r) = store::submission_receipt(&mut tx, owner, &hash).await? {
            tx.commit().await?;
            return Ok(Received {
                receipt: serde_json::from_str(&r).map_err(|e| FlowError::Internal(e.to_string()))?,
                duplicate: true,
            });
        }
        let submission_id = new_id("sub_");
        if !store::insert_submission(&mut tx, &submission_id, owner, &hash, &body).await? {
            // The same bytes committed meanwhile by a concurrent request: answer with its receipt.
            tx.rollback().await?;
            let mut tx = self.store.begin_write().await?;
            let r = store::submission_receipt(&mut tx, owner, &hash).await?.unwrap_or_default();
            tx.commit().await?;
            return Ok(Received {
                receipt: serde_json::from_str(&r).map_err(|e| FlowError::Internal(e.to_string()))?,
                duplicate: true,
            });
        }
        if report.interchanges.is_empty() {
            let reason = if report.errors.is_empty() {
                "the body holds no ISA segment".to_string()
            } else {
                report.errors.join("; ")
            };
            let receipt = Receipt {
                submission_id: submission_id.clone(),
                status: "rejected".into(),
                interchanges: Vec::new(),
                errors: report.errors.clone(),
            };
            store::set_receipt(&mut tx, &submission_id, &serde_json::to_string(&receipt).unwrap_or_default()).await?;
            tx.commit().await?;
            return Err(FlowError::Unreadable {
                reason,
                submission: submission_id,
            });
        }
        let mut woken = Vec::new();
        let receipt = self
            .store_interchanges(&mut tx, &partner, &submission_id, &report, docs, &mut woken)
            .await?;
        let all_duplicates = receipt.interchanges.iter().all(|i| i.duplicate);
        let answer = if all_duplicates {
            // Every interchange was seen before: answer with the original receipt.
            match store::interchange_receipt(&mut tx, &receipt.interchanges[0].id).await? {
                Some(r) => serde_json::from_str(&r).unwrap_or_else(|_| receipt.clone()),
                None => receipt.clone(),
            }
        } else {
            receipt.clone()
        };
        store::set_receipt(&mut tx, &submission_id, &serde_json::to_string(&receipt).unwrap_or_default()).await?;
        tx.commit().await?;
        self.notify(&woken);
        for i in &receipt.interchanges {
            self.metrics.inc("tradelane_interchanges_total", format!("status=\"{}\"", i.status));
        }
        Ok(Received {
            receipt: answer,
            duplicate: all_duplicates,
        })
    }

    async fn store_interchanges(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        partner: &PartnerProfile,
        submission_id: &str,
        report: &CheckReport,
        docs: Vec<Translated>,
        woken: &mut Vec<String>,
    ) -> Result<Receipt, FlowError> {
        let (date, time) = now_utc();
        // Documents come in set order; sets outside any group were not given one.
        let mut docs = docs
            .into_iter()
            .filter(|d| !d.group_control_number.is_empty() || !d.sender.is_empty());
        let ack_destination = self.partner_destination(&partner.id).map(str::to_string);
        let doc_destination = self.config.routing.documents.clone();
        let mut out = Vec::new();
        for o in &report.interchanges {
            let set_count: usize = o.groups.iter().map(|g| g.sets.len()).sum();
            let docs_here: Vec<Translated> = docs.by_ref().take(set_count).collect();
            let status = interchange_status(o);
            let interchange_id = new_id("ich_");
            let report_json = serde_json::to_string(o).unwrap_or_default();
            let sender = sender_of(o);
            let row = NewInterchange {
                id: &interchange_id,
                submission_id,
                owner: &partner.id,
                sender: &sender,
                control_number: &o.header.control_number,
                version: &o.header.version,
                status,
                report: &report_json,
                ack: None,
            };
            if let Err(original) = store::insert_interchange(tx, &row).await? {
                out.push(InterchangeReceipt {
                    id: original,
                    sender,
                    control_number: o.header.control_number.clone(),
                    status: "duplicate".into(),
                    duplicate: true,
                    ack: None,
                    ack_message_id: None,
                    documents: Vec::new(),
                });
                continue;
            }
            let (ack, ack_message_id) = self
                .acknowledge(tx, partner, o, &interchange_id, &date, &time, ack_destination.as_deref(), woken)
                .await?;
            let mut documents = Vec::new();
            for (t, set_report) in docs_here.iter().zip(o.groups.iter().flat_map(|g| g.sets.iter())) {
                let accepted = set_report.accepted() && t.document.is_some();
                let doc_id = new_id("doc_");
                let json = serde_json::to_value(t).unwrap_or_default();
                let is_ack = matches!(t.document, Some(Document::FunctionalAck(_)));
                let status = match (accepted, is_ack) {
                    (false, _) => "rejected",
                    (true, true) => "processed",
                    (true, false) => "received",
                };
                store::insert_document(
                    tx,
                    &NewDocument {
                        id: doc_id.clone(),
                        owner: partner.id.clone(),
                        partner: partner.id.clone(),
                        direction: "inbound",
                        set_id: t.set.to_string(),
                        reference: json.get("document").and_then(reference),
                        interchange_id: Some(interchange_id.clone()),
                        interchange_control: Some(o.header.control_number.clone()),
                        group_control: Some(t.group_control_number.to_string()),
                        set_control: Some(t.control_number.to_string()),
                        status: status.into(),
                        document: json.to_string(),
                        ..NewDocument::default()
                    },
                )
                .await?;
                let mut message_id = None;
                match (&t.document, accepted) {
                    (Some(Document::FunctionalAck(fa)), true) => {
                        for s in &fa.sets {
                            let detail = format!("{} {} from {}: {}", fa.kind, t.control_number, partner.id, s.status);
                            let group = fa.group_control_number.trim_start_matches('0');
                            store::reconcile(tx, &partner.id, group, &s.control_number, ack_status(&s.status), &detail).await?;
                        }
                    }
                    (Some(doc), true) => {
                        self.dealer_status(tx, &partner.id, doc, woken).await?;
                        if let Some(dest) = &doc_destination {
                            let body = json.to_string();
                            let id = enqueue(
                                tx,
                                &NewMessage {
                                    owner: &partner.id,
                                    destination: dest,
                                    kind: "document",
                                    document_id: Some(&doc_id),
                                    interchange_id: Some(&interchange_id),
                                    ordering_key: Some(&partner.id),
                                    content_type: "application/json",
                                    body: body.as_bytes(),
                                    url: None,
                                    secret: None,
                                },
                            )
                            .await?;
                            woken.push(dest.clone());
                            message_id = Some(id);
                        }
                    }
                    _ => {}
                }
                documents.push(DocumentReceipt {
                    id: doc_id,
                    set: t.set.to_string(),
                    control_number: t.control_number.to_string(),
                    accepted,
                    message_id,
                });
            }
            out.push(InterchangeReceipt {
                id: interchange_id,
                sender,
                control_number: o.header.control_number.clone(),
                status: status.into(),
                duplicate: false,
                ack,
                ack_message_id,
                documents,
            });
        }
        let statuses: Vec<&str> = out.iter().map(|i| i.status.as_str()).collect();
        Ok(Receipt {
            submission_id: submission_id.to_string(),
            status: overall(&statuses),
            interchanges: out,
            errors: report.errors.clone(),
        })
    }

    /// Builds the TA1/997/999 with fresh control numbers, stores it on the interchange and queues it.
    #[allow(clippy::too_many_arguments)]
    async fn acknowledge(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        partner: &PartnerProfile,
        o: &InterchangeOutcome,
        interchange_id: &str,
        date: &str,
        time: &str,
        destination: Option<&str>,
        woken: &mut Vec<String>,
    ) -> Result<(Option<String>, Option<String>), FlowError> {
        let groups = if o.issues.is_empty() {
            o.groups.iter().filter(|g| !g.is_ack_group()).count() as i64
        } else {
            0
        };
        if !o.needs_ta1() && groups == 0 {
            return Ok((None, None));
        }
        let isa = store::allocate(tx, &partner.id, "isa", 1).await?;
        let gs = if groups > 0 {
            store::allocate(tx, &partner.id, "gs", groups).await?
        } else {
            0
        };
        let numbers = AckNumbers {
            interchange: isa as u64,
            first_group: gs as u64,
        };
        let ack = ack_interchange(o, partner.ack, numbers, date, time).map_err(|e| FlowError::Internal(e.to_string()))?;
        let Some(ack) = ack else { return Ok((None, None)) };
        store::set_interchange_ack(tx, interchange_id, &ack).await?;
        let mut message_id = None;
        if let Some(dest) = destination {
            let id = enqueue(
                tx,
                &NewMessage {
                    owner: &partner.id,
                    destination: dest,
                    kind: "ack",
                    document_id: None,
                    interchange_id: Some(interchange_id),
                    ordering_key: Some(&partner.id),
                    content_type: "application/edi-x12",
                    body: ack.as_bytes(),
                    url: None,
                    secret: None,
                },
            )
            .await?;
            woken.push(dest.to_string());
            message_id = Some(id);
        }
        Ok((Some(ack), message_id))
    }
}
