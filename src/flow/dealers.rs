//! Dealer replenishment: `POST /v1/dealers/{dealer}/replenishment` turns
//! stock positions and order lines into an order by the dealer's policy and
//! sends it to its supplier (an X12 850 with fresh control numbers, or a JSON
//! order to an OEM API) through the outbox, in one transaction with the order
//! row. Status comes back from the supplier's 855/856 (read by the inbound
//! flow) or the OEM's answer (read when the outbox delivers), and goes to the
//! dealer as a signed webhook.

use std::sync::{Arc, Weak};

use serde_json::{json, Value};

use crate::connectors::oem::Oems;
use crate::mapping::{render, RenderOptions};
use crate::model::{Date, Decimal, Document, Party, PoLine, PurchaseOrder, PurchaseOrderAck, Purpose, ShipNotice};
use crate::outbox::{DeliveryObserver, Outbox, WEBHOOKS};
use crate::replenishment::{plan, DealerPolicy, Dealers, OrderLine, ReplenishmentRequest, Route};
use crate::store::{
    self, enqueue, new_id, now_ms, sha256_hex, ApiKey, Claimed, DealerOrder, NewDealerOrder, NewDocument, NewMessage, Scope, Store,
};
use crate::x12::writer::now_utc;

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
            line_number: l.line_number.to_string(),
            buyer_part_number: None,
            vendor_part_number: Some(l.part.clone()),
            upc: None,
            description: None,
            quantity: Decimal::from_int(l.quantity),
            uom: l.uom.clone(),
            unit_price: None,
        })
        .collect();
    PurchaseOrder {
        po_number: po_number.to_string(),
        po_date: today,
        purpose: Purpose::Original,
        order_type: Some("SA".into()),
        currency: policy.currency.clone(),
        buyer: Some(Party {
            name: Some(policy.name.clone()),
            id_qualifier: Some("92".into()),
            id: Some(policy.code.clone()),
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

/// Queues the dealer's status webhook for `order` (when the dealer has one); returns the lane to wake.
async fn enqueue_status(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    policy: &DealerPolicy,
    order: &DealerOrder,
    event: &str,
    detail: Value,
) -> Result<Option<String>, FlowError> {
    let Some(hook) = &policy.webhook else { return Ok(None) };
    let body = json!({
        "type": format!("dealer_order.{event}"),
        "order": {
            "id": order.id,
            "dealer": order.dealer,
            "po_number": order.po_number,
            "status": order.status,
            "supplier": order.supplier,
            "supplier_order_id": order.supplier_order_id,
            "shipments": order.shipments,
        },
        "detail": detail,
    })
    .to_string();
    enqueue(
        tx,
        &NewMessage {
            owner: &order.dealer,
            destination: WEBHOOKS,
            kind: "dealer_status",
            document_id: None,
            interchange_id: None,
            ordering_key: Some(&order.id),
            content_type: "application/json",
            body: body.as_bytes(),
            url: Some(&hook.url),
            secret: hook.secret.as_deref(),
        },
    )
    .await?;
    Ok(Some(WEBHOOKS.to_string()))
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
                let isa = store::allocate(&mut tx, &partner.id, "isa", 1).await?;
                let gs = store::allocate(&mut tx, &partner.id, "gs", 1).await?;
                let st = format!("{:04}", store::allocate(&mut tx, &partner.id, "st", 1).await? % 1_000_000_000);
                let (date, time) = now_utc();
                let opts = RenderOptions {
                    interchange_control: isa as u64,
                    group_control: gs as u64,
                    set_control: st.clone(),
                    date,
                    time,
                };
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
                        interchange_control: Some(format!("{isa:09}")),
                        group_control: Some(gs.to_string()),
                        set_control: Some(st),
                        status: "queued".into(),
                        ack_due_at: Some(now_ms() + i64::from(partner.ack_window_hours) * 3_600_000),
                        document: po.to_string(),
                        x12: Some(x12.clone()),
                        ..NewDocument::default()
                    },
                )
                .await?;
                let mut message = None;
                if let Some(dest) = self.partner_destination(&partner.id) {
                    message = Some(
                        enqueue(
                            &mut tx,
                            &NewMessage {
                                owner: &policy.id,
                                destination: dest,
                                kind: "document",
                                document_id: Some(&doc_id),
                                interchange_id: None,
                                ordering_key: Some(&partner.id),
                                content_type: "application/edi-x12",
                                body: x12.as_bytes(),
                                url: None,
                                secret: None,
                            },
                        )
                        .await?,
                    );
                    woken.push(dest.to_string());
                }
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

    /// Applies a supplier's 855 or 856 to the dealer orders it names (inside the inbound transaction).
    pub(super) async fn dealer_status(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        supplier: &str,
        document: &Document,
        woken: &mut Vec<String>,
    ) -> Result<(), FlowError> {
        match document {
            Document::PurchaseOrderAck(ack) => self.dealer_ack(tx, supplier, ack, woken).await,
            Document::ShipNotice(notice) => self.dealer_shipped(tx, supplier, notice, woken).await,
            _ => Ok(()),
        }
    }

    async fn dealer_ack(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        supplier: &str,
        ack: &PurchaseOrderAck,
        woken: &mut Vec<String>,
    ) -> Result<(), FlowError> {
        let Some(mut order) = store::dealer_order_by_po(tx, supplier, &ack.po_number).await? else {
            return Ok(());
        };
        let Some(policy) = self.dealers.get(&order.dealer) else {
            return Ok(());
        };
        let status = if matches!(ack.ack_type.as_str(), "RJ" | "RD") {
            "rejected"
        } else {
            "acknowledged"
        };
        let lines: Vec<Value> = ack
            .lines
            .iter()
            .map(|l| json!({"line_number": l.line_number, "status": l.status, "quantity": l.quantity, "uom": l.uom, "part": l.vendor_part_number, "date": l.date}))
            .collect();
        let detail = format!("855 {} from {supplier}", ack.ack_type);
        // A late acknowledgment does not take a shipped order back.
        let new_status = (order.status != "shipped").then_some(status);
        store::update_dealer_order(tx, &order.id, new_status, None, None, status, Some(&detail)).await?;
        if let Some(s) = new_status {
            order.status = s.into();
        }
        let payload = json!({"ack_type": ack.ack_type, "lines": lines});
        woken.extend(enqueue_status(tx, policy, &order, status, payload).await?);
        Ok(())
    }

    async fn dealer_shipped(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        supplier: &str,
        notice: &ShipNotice,
        woken: &mut Vec<String>,
    ) -> Result<(), FlowError> {
        for o in &notice.orders {
            let Some(mut order) = store::dealer_order_by_po(tx, supplier, &o.po_number).await? else {
                continue;
            };
            let Some(policy) = self.dealers.get(&order.dealer) else { continue };
            let items: Vec<Value> = o
                .packs
                .iter()
                .flat_map(|p| {
                    p.items
                        .iter()
                        .map(move |i| json!({"part": i.vendor_part_number, "quantity": i.quantity, "uom": i.uom, "sscc": p.sscc}))
                })
                .collect();
            let shipment = json!({
                "shipment_id": notice.shipment_id,
                "ship_date": notice.ship_date,
                "carrier": notice.carrier,
                "tracking_number": notice.tracking_number,
                "bill_of_lading": notice.bill_of_lading,
                "items": items,
            });
            let mut shipments = order.shipments.as_array().cloned().unwrap_or_default();
            // The same notice again (a partner's resend with a new ISA13) is not a second shipment.
            shipments.retain(|s| s["shipment_id"] != shipment["shipment_id"]);
            shipments.push(shipment.clone());
            order.shipments = Value::Array(shipments);
            order.status = "shipped".into();
            let detail = format!(
                "856 {} from {supplier}: {} {}",
                notice.shipment_id,
                notice.carrier.as_deref().unwrap_or("-"),
                notice.tracking_number.as_deref().unwrap_or("-")
            );
            store::update_dealer_order(
                tx,
                &order.id,
                Some("shipped"),
                Some(&order.shipments.to_string()),
                None,
                "shipped",
                Some(&detail),
            )
            .await?;
            woken.extend(enqueue_status(tx, policy, &order, "shipped", shipment).await?);
        }
        Ok(())
    }
}

/// Reads what delivered dealer orders got back: an 850 handed to the
/// partner's destination is `sent`; an OEM's answer gives its order id and
/// status through the OEM's response mapping; a dead letter makes the order
/// `delivery_failed` and tells the dealer.
pub struct DealerDeliveries {
    store: Store,
    dealers: Arc<Dealers>,
    oems: Arc<Oems>,
    outbox: Weak<Outbox>,
}

impl DealerDeliveries {
    /// An observer for `outbox`.
    pub fn new(store: Store, dealers: Arc<Dealers>, oems: Arc<Oems>, outbox: &Arc<Outbox>) -> Self {
        Self {
            store,
            dealers,
            oems,
            outbox: Arc::downgrade(outbox),
        }
    }

    async fn apply(&self, message: &Claimed, delivered: bool, response: &str) -> Result<(), FlowError> {
        // Most delivered documents are not dealer orders: ask before taking the writer's turn.
        if !matches!(message.kind.as_str(), "oem_order" | "document") || !self.store.carries_dealer_order(&message.id).await? {
            return Ok(());
        }
        let mut tx = self.store.begin_write().await?;
        let Some(mut order) = store::dealer_order_by_message(&mut tx, &message.id).await? else {
            tx.rollback().await?;
            return Ok(());
        };
        let mut woken = None;
        if !delivered {
            // Dead letter: the supplier refused the order or never took it; an operator may replay it.
            let detail: String = response.chars().take(500).collect();
            store::update_dealer_order(
                &mut tx,
                &order.id,
                Some("delivery_failed"),
                None,
                None,
                "delivery_failed",
                Some(&detail),
            )
            .await?;
            order.status = "delivery_failed".into();
            if let Some(policy) = self.dealers.get(&order.dealer) {
                woken = enqueue_status(&mut tx, policy, &order, "delivery_failed", json!({"response": detail})).await?;
            }
            tx.commit().await?;
            if let (Some(lane), Some(o)) = (woken, self.outbox.upgrade()) {
                o.notify(&lane);
            }
            return Ok(());
        }
        match (order.route.as_str(), self.oems.get(&order.supplier)) {
            ("oem", Some(oem)) => {
                let reply = oem.reply(response);
                let status = reply.status.clone().unwrap_or_else(|| "sent".into());
                let detail = format!(
                    "{} order {} {}",
                    oem.id,
                    reply.order_id.as_deref().unwrap_or("-"),
                    reply.oem_status.as_deref().unwrap_or("-")
                );
                store::update_dealer_order(
                    &mut tx,
                    &order.id,
                    Some(&status),
                    None,
                    reply.order_id.as_deref(),
                    &status,
                    Some(&detail),
                )
                .await?;
                order.status = status.clone();
                order.supplier_order_id = reply.order_id.clone().or(order.supplier_order_id);
                if status != "sent" {
                    if let Some(policy) = self.dealers.get(&order.dealer) {
                        woken = enqueue_status(&mut tx, policy, &order, &status, json!({"oem_status": reply.oem_status})).await?;
                    }
                }
            }
            _ if matches!(order.status.as_str(), "submitted" | "delivery_failed") => {
                store::update_dealer_order(&mut tx, &order.id, Some("sent"), None, None, "sent", Some(&message.destination)).await?;
            }
            _ => {}
        }
        tx.commit().await?;
        if let (Some(lane), Some(o)) = (woken, self.outbox.upgrade()) {
            o.notify(&lane);
        }
        Ok(())
    }
}

impl DeliveryObserver for DealerDeliveries {
    fn finished<'a>(&'a self, message: &'a Claimed, delivered: bool, response: &'a str) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.apply(message, delivered, response).await {
                tracing::error!(message = %message.id, error = %e, "could not apply a dealer order's delivery");
            }
        })
    }
}
