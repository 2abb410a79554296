//! Status of dealer orders: the supplier's 855/856 (read by the inbound
//! flow, in its transaction) and what the outbox got back when it delivered
//! the order (an OEM's order id and status, or a dead letter) update the
//! order, log an event and queue a signed webhook to the dealer.

use std::sync::{Arc, Weak};

use serde_json::{json, Value};

use crate::connectors::oem::Oems;
use crate::model::{Document, PurchaseOrderAck, ShipNotice};
use crate::outbox::{DeliveryObserver, Outbox, WEBHOOKS};
use crate::replenishment::{DealerPolicy, Dealers};
use crate::store::{self, enqueue, Claimed, DealerOrder, NewMessage, Store};

use super::{FlowError, Gateway};

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
        let Some(mut order) = store::dealer_order_by_po(tx, self.store.dialect(), supplier, &ack.po_number).await? else {
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
            let Some(mut order) = store::dealer_order_by_po(tx, self.store.dialect(), supplier, &o.po_number).await? else {
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

    /// Applies deliveries whose observer call was lost (the process stopped
    /// between recording the outcome and applying it): orders still
    /// `submitted` whose message is delivered or dead. Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn recover(&self) -> Result<usize, FlowError> {
        let pending = self.store.unapplied_dealer_deliveries().await?;
        for d in &pending {
            self.apply(&d.message_id, &d.kind, &d.destination, d.delivered, &d.response).await?;
        }
        Ok(pending.len())
    }

    async fn apply(&self, message_id: &str, kind: &str, destination: &str, delivered: bool, response: &str) -> Result<(), FlowError> {
        // Most delivered documents are not dealer orders: ask before taking the writer's turn.
        if !matches!(kind, "oem_order" | "document") || !self.store.carries_dealer_order(message_id).await? {
            return Ok(());
        }
        let mut tx = self.store.begin_write().await?;
        let Some(mut order) = store::dealer_order_by_message(&mut tx, self.store.dialect(), message_id).await? else {
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
                store::update_dealer_order(&mut tx, &order.id, Some("sent"), None, None, "sent", Some(destination)).await?;
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
            if let Err(e) = self
                .apply(&message.id, &message.kind, &message.destination, delivered, response)
                .await
            {
                tracing::error!(message = %message.id, error = %e, "could not apply a dealer order's delivery");
            }
        })
    }
}
