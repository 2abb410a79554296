//! Dealer replenishment: `POST /v1/dealers/{dealer}/replenishment` turns
//! stock positions and order lines into an order by the dealer's policy and
//! sends it to its supplier (an X12 850 with fresh control numbers, or a JSON
//! order to an OEM API) through the outbox, in one transaction with the order
//! row. Status coming back is in [`super::dealer_status`].

use serde_json::{json, Value};

use crate::mapping::render;
use crate::model::{Date, Decimal, Party, PoLine, PurchaseOrder, Purpose, Text};
use crate::replenishment::{plan, DealerPolicy, OrderLine, ReplenishmentRequest, Route};
use crate::store::{self, enqueue, new_id, now_ms, sha256_hex, ApiKey, DealerOrder, NewDealerOrder, NewDocument, NewMessage, Scope};
use crate::x12::writer::now_utc;

use super::outbound::next_controls;
use super::{FlowError, Gateway};

/// The outcome of a replenishment request.
pub struct Replenished {
    /// The order (none when nothing needed ordering).
    pub order: Option<DealerOrder>,
    /// False when the Idempotency-Key had been used for the same request.
    pub created: bool,
}

/// The canonical order the OEM field mapping reads.
fn order_context(policy: &DealerPolicy, po_number: &str, today: Date, reference: Option<&str>, lines: &[OrderLine]) -> Value {
    json!({
        "po_number": po_number,
        "po_date": today,
        "currency": policy.currency,
        "reference": reference,
        "dealer": {"id": policy.id, "code": policy.code, "name": policy.name},
        "ship_to": policy.ship_to,
        "lines": lines,
    })
}

fn purchase_order(policy: &DealerPolicy, po_number: &str, today: Date, lines: &[OrderLine]) -> PurchaseOrder {
    let lines: Vec<PoLine> = lines
        .iter()
        .map(|l| PoLine {
            line_number: l.line_number.to_string().into(),
            buyer_part_number: None,
            vendor_part_number: Some(l.part.as_str().into()),
            upc: None,
            description: None,
            quantity: Decimal::from_int(l.quantity),
            uom: l.uom.as_str().into(),
            unit_price: None,
        })
        .collect();
    PurchaseOrder {
        po_number: po_number.into(),
        po_date: today,
        purpose: Purpose::Original,
        order_type: Some("SA".into()),
        currency: policy.currency.as_deref().map(Text::from),
        buyer: Some(Party {
            name: Some(policy.name.as_str().into()),
            id_qualifier: Some("92".into()),
            id: Some(policy.code.as_str().into()),
            ..Party::default()
        }),
        ship_to: policy.ship_to.clone(),
        bill_to: None,
        carrier: None,
        requested_delivery: None,
        line_count: lines.len(),
        quantity_total: lines.iter().fold(Decimal::default(), |a, l| a + l.quantity),
        lines,
    }
}

fn replayed(existing: DealerOrder, key: &str, hash: &str) -> Result<Replenished, FlowError> {
    if existing.request_hash() != hash {
        return Err(FlowError::IdempotencyKeyReused(key.to_string()));
    }
    Ok(Replenished {
        order: Some(existing),
        created: false,
    })
}

impl Gateway {
    /// The caller's view of `dealer`: its own (or any, for operators), else not found.
    fn dealer_for(&self, caller: &ApiKey, dealer: &str) -> Result<&DealerPolicy, FlowError> {
        if !caller.has(Scope::Admin) && caller.owner != dealer {
            return Err(FlowError::NotFound);
        }
        self.dealers.get(dealer).ok_or_else(|| FlowError::UnknownDealer(dealer.to_string()))
    }

    /// One of the dealer's orders.
    pub async fn dealer_order(&self, caller: &ApiKey, dealer: &str, id: &str) -> Result<DealerOrder, FlowError> {
        self.dealer_for(caller, dealer)?;
        match self.store.dealer_order(id).await? {
            Some(o) if o.dealer == dealer => Ok(o),
            _ => Err(FlowError::NotFound),
        }
    }

    /// The dealer's orders, newest first.
    pub async fn dealer_orders(&self, caller: &ApiKey, dealer: &str) -> Result<Vec<DealerOrder>, FlowError> {
        self.dealer_for(caller, dealer)?;
        Ok(self.store.dealer_orders(dealer, 100).await?)
    }

    /// Builds the order a request calls for and sends it to the dealer's supplier.
    pub async fn replenish(
        &self,
        caller: &ApiKey,
        dealer: &str,
        idempotency_key: Option<&str>,
        body: &[u8],
    ) -> Result<Replenished, FlowError> {
        let policy = self.dealer_for(caller, dealer)?;
        let key = idempotency_key
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .ok_or(FlowError::MissingIdempotencyKey)?;
        let hash = sha256_hex(body);
        if let Some(existing) = self.store.dealer_order_by_key(dealer, key).await? {
            return replayed(existing, key, &hash);
        }
        let request: ReplenishmentRequest = serde_json::from_slice(body).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;
        let today = Date::today();
        let lines = plan(policy, &self.supersessions, &request, today).map_err(FlowError::Replenishment)?;
        if lines.is_empty() {
            return Ok(Replenished {
                order: None,
                created: true,
            });
        }
        let lines_json = serde_json::to_string(&lines).map_err(|e| FlowError::Internal(e.to_string()))?;
        let order_id = new_id("dor_");
        let mut tx = self.store.begin_write().await?;
        // PO numbers come from the dealer's own series: never reused, rolled back with the transaction.
        let n = store::allocate(&mut tx, &policy.id, "po", 1).await?;
        let po_number = format!("{}{n:06}", policy.po_prefix);
        let mut woken = Vec::new();
        let (document_id, message_id) = match &policy.route {
            Route::X12 { partner } => {
                let partner = self
                    .partner(partner)
                    .ok_or_else(|| FlowError::UnknownPartner(partner.clone()))?
                    .clone();
                let po = serde_json::to_value(purchase_order(policy, &po_number, today, &lines))
                    .map_err(|e| FlowError::Internal(e.to_string()))?;
                let (date, time) = now_utc();
                let opts = next_controls(&mut tx, &partner.id, date, time).await?;
                let x12 = render("850", &partner, &po, &opts).map_err(|e| FlowError::Internal(e.to_string()))?;
                let doc_id = new_id("doc_");
                store::insert_document(
                    &mut tx,
                    &NewDocument {
                        id: doc_id.clone(),
                        owner: policy.id.clone(),
                        partner: partner.id.clone(),
                        direction: "outbound",
                        set_id: "850".into(),
                        reference: Some(po_number.clone()),
                        interchange_control: Some(format!("{:09}", opts.interchange_control)),
                        group_control: Some(opts.group_control.to_string()),
                        set_control: Some(opts.set_control.clone()),
                        status: "queued".into(),
                        ack_due_at: Some(now_ms() + i64::from(partner.ack_window_hours) * 3_600_000),
                        document: po.to_string(),
                        x12: Some(x12.clone()),
                        ..NewDocument::default()
                    },
                )
                .await?;
                let message = self
                    .enqueue_for_partner(&mut tx, &policy.id, &partner.id, &doc_id, &x12, &mut woken)
                    .await?;
                (Some(doc_id), message)
            }
            Route::Oem { oem } => {
                let oem = self
                    .oems
                    .get(oem)
                    .ok_or_else(|| FlowError::Internal(format!("OEM {oem} is not loaded")))?;
                let body = oem.order_body(&order_context(policy, &po_number, today, request.reference.as_deref(), &lines));
                let dest = oem.destination_name();
                let id = enqueue(
                    &mut tx,
                    &NewMessage {
                        owner: &policy.id,
                        destination: &dest,
                        kind: "oem_order",
                        document_id: None,
                        interchange_id: None,
                        ordering_key: Some(&policy.id),
                        content_type: "application/json",
                        body: body.to_string().as_bytes(),
                        url: None,
                        secret: None,
                    },
                )
                .await?;
                woken.push(dest);
                (None, Some(id))
            }
        };
        let inserted = store::insert_dealer_order(
            &mut tx,
            &NewDealerOrder {
                id: &order_id,
                dealer: &policy.id,
                po_number: &po_number,
                route: policy.route.kind(),
                supplier: policy.route.target(),
                status: "submitted",
                reference: request.reference.as_deref(),
                lines: &lines_json,
                document_id: document_id.as_deref(),
                message_id: message_id.as_deref(),
                idempotency_key: key,
                request_hash: &hash,
            },
        )
        .await?;
        if !inserted {
            // A concurrent request with the same key won; our numbers roll back.
            tx.rollback().await?;
            let existing = self.store.dealer_order_by_key(dealer, key).await?.ok_or(FlowError::NotFound)?;
            return replayed(existing, key, &hash);
        }
        tx.commit().await?;
        self.notify(&woken);
        self.metrics
            .inc("tradelane_dealer_orders_total", format!("route=\"{}\"", policy.route.kind()));
        let order = self.store.dealer_order(&order_id).await?.ok_or(FlowError::NotFound)?;
        Ok(Replenished {
            order: Some(order),
            created: true,
        })
    }
}
