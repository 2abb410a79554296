//! Dealer replenishment orders and their history. Writes take the caller's
//! transaction so an order, its outbound document and its outbox messages
//! commit together.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{now_ms, Dialect, Store, StoreError};

/// A dealer order to insert.
#[derive(Debug, Clone)]
pub struct NewDealerOrder<'a> {
    /// Id.
    pub id: &'a str,
    /// Dealer id.
    pub dealer: &'a str,
    /// Purchase-order number (unique).
    pub po_number: &'a str,
    /// `x12` or `oem`.
    pub route: &'a str,
    /// Partner or OEM id.
    pub supplier: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// The dealer's reference.
    pub reference: Option<&'a str>,
    /// Lines (JSON array).
    pub lines: &'a str,
    /// Outbound 850 document, for X12 routes.
    pub document_id: Option<&'a str>,
    /// Outbox message carrying the order.
    pub message_id: Option<&'a str>,
    /// Idempotency-Key of the request.
    pub idempotency_key: &'a str,
    /// Hash of the request body.
    pub request_hash: &'a str,
}

/// One history entry of a dealer order.
pub type DealerOrderEvent = super::HistoryEvent;

/// A dealer order as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealerOrder {
    /// Id.
    pub id: String,
    /// Dealer id.
    pub dealer: String,
    /// Purchase-order number.
    pub po_number: String,
    /// `x12` or `oem`.
    pub route: String,
    /// Partner or OEM id.
    pub supplier: String,
    /// `submitted`, `sent`, `acknowledged`, `rejected`, `shipped`, `delivery_failed`.
    pub status: String,
    /// The dealer's reference.
    pub reference: Option<String>,
    /// Lines.
    #[schema(value_type = Vec<crate::replenishment::OrderLine>)]
    pub lines: serde_json::Value,
    /// Shipments reported (856): shipment id, carrier, tracking number, date, quantities.
    #[schema(value_type = Vec<crate::http::openapi::DealerShipment>)]
    pub shipments: serde_json::Value,
    /// The supplier's own order id (OEM answer).
    pub supplier_order_id: Option<String>,
    /// The outbound 850 document.
    pub document_id: Option<String>,
    /// The outbox message carrying the order.
    pub message_id: Option<String>,
    /// Created (ms).
    pub created_at: i64,
    /// Updated (ms).
    pub updated_at: i64,
    /// History, oldest first (single reads only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<DealerOrderEvent>,
    #[serde(skip)]
    request_hash: String,
}

impl DealerOrder {
    /// Hash of the request that created the order.
    pub fn request_hash(&self) -> &str {
        &self.request_hash
    }
}

/// A finished delivery of a dealer order that was not applied to it.
#[derive(Debug, Clone)]
pub struct UnappliedDelivery {
    /// Outbox message.
    pub message_id: String,
    /// Its kind.
    pub kind: String,
    /// Its destination.
    pub destination: String,
    /// Delivered (else dead).
    pub delivered: bool,
    /// The last answer or error.
    pub response: String,
}

const COLUMNS: &str = "id, dealer, po_number, route, supplier, status, reference, lines, shipments, supplier_order_id, \
     document_id, message_id, created_at, updated_at, request_hash";

fn order(row: &sqlx::any::AnyRow) -> Result<DealerOrder, sqlx::Error> {
    let json = |c: &str| -> Result<serde_json::Value, sqlx::Error> {
        let t: String = row.try_get(c)?;
        Ok(serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
    };
    Ok(DealerOrder {
        id: row.try_get("id")?,
        dealer: row.try_get("dealer")?,
        po_number: row.try_get("po_number")?,
        route: row.try_get("route")?,
        supplier: row.try_get("supplier")?,
        status: row.try_get("status")?,
        reference: row.try_get("reference")?,
        lines: json("lines")?,
        shipments: json("shipments")?,
        supplier_order_id: row.try_get("supplier_order_id")?,
        document_id: row.try_get("document_id")?,
        message_id: row.try_get("message_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        history: Vec::new(),
        request_hash: row.try_get("request_hash")?,
    })
}

/// Inserts an order and its `created` event; false when the dealer already
/// used the idempotency key (nothing is written then).
pub async fn insert_dealer_order(tx: &mut Transaction<'_, Any>, o: &NewDealerOrder<'_>) -> Result<bool, StoreError> {
    let now = now_ms();
    let r = sqlx::query(
        "INSERT INTO dealer_orders (id, dealer, po_number, route, supplier, status, reference, lines, shipments, document_id, \
         message_id, idempotency_key, request_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]', $9, $10, $11, $12, $13, $13) ON CONFLICT DO NOTHING",
    )
    .bind(o.id)
    .bind(o.dealer)
    .bind(o.po_number)
    .bind(o.route)
    .bind(o.supplier)
    .bind(o.status)
    .bind(o.reference)
    .bind(o.lines)
    .bind(o.document_id)
    .bind(o.message_id)
    .bind(o.idempotency_key)
    .bind(o.request_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    dealer_order_event(tx, o.id, "created", Some(&format!("{} to {} {}", o.po_number, o.route, o.supplier))).await?;
    Ok(true)
}

/// Appends a history entry.
pub async fn dealer_order_event(tx: &mut Transaction<'_, Any>, id: &str, event: &str, detail: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO dealer_order_events (order_id, at, event, detail) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(now_ms())
        .bind(event)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Row lock for a read-modify-write (SQLite's write transaction already excludes other writers).
fn for_update(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    }
}

/// The order with `po_number` sent to `supplier`, locked for update inside `tx`.
pub async fn dealer_order_by_po(
    tx: &mut Transaction<'_, Any>,
    dialect: Dialect,
    supplier: &str,
    po_number: &str,
) -> Result<Option<DealerOrder>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dealer_orders WHERE supplier = $1 AND po_number = $2{}",
        for_update(dialect)
    );
    let row = sqlx::query(&sql).bind(supplier).bind(po_number).fetch_optional(&mut **tx).await?;
    row.as_ref().map(order).transpose().map_err(Into::into)
}

/// The order carried by outbox message `message_id`, locked for update inside `tx`.
pub async fn dealer_order_by_message(
    tx: &mut Transaction<'_, Any>,
    dialect: Dialect,
    message_id: &str,
) -> Result<Option<DealerOrder>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dealer_orders WHERE message_id = $1{}", for_update(dialect));
    let row = sqlx::query(&sql).bind(message_id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(order).transpose().map_err(Into::into)
}

/// Sets status, shipments and the supplier's order id (each when given) and logs `event`.
pub async fn update_dealer_order(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    status: Option<&str>,
    shipments: Option<&str>,
    supplier_order_id: Option<&str>,
    event: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE dealer_orders SET status = COALESCE($1, status), shipments = COALESCE($2, shipments), \
         supplier_order_id = COALESCE($3, supplier_order_id), updated_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(shipments)
    .bind(supplier_order_id)
    .bind(now_ms())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    dealer_order_event(tx, id, event, detail).await
}

impl Store {
    /// One order with its history.
    pub async fn dealer_order(&self, id: &str) -> Result<Option<DealerOrder>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dealer_orders WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let mut o = order(&row)?;
        o.history = self
            .history(
                "SELECT at, event, detail FROM dealer_order_events WHERE order_id = $1 ORDER BY seq",
                id,
            )
            .await?;
        Ok(Some(o))
    }

    /// True when outbox message `message_id` carries a dealer order (a read, no write turn).
    pub async fn carries_dealer_order(&self, message_id: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM dealer_orders WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// Orders still `submitted` whose message was delivered or is dead, with the last answer.
    pub async fn unapplied_dealer_deliveries(&self) -> Result<Vec<UnappliedDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.kind, m.destination, m.state, \
             (SELECT COALESCE(a.response, a.error, '') FROM outbox_attempts a WHERE a.message_id = m.id ORDER BY a.seq DESC LIMIT 1) AS response \
             FROM dealer_orders o JOIN outbox m ON m.id = o.message_id \
             WHERE o.status = 'submitted' AND m.state IN ('delivered', 'dead') ORDER BY o.created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                let response: Option<String> = r.try_get("response")?;
                Ok(UnappliedDelivery {
                    message_id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    destination: r.try_get("destination")?,
                    delivered: state == "delivered",
                    response: response.unwrap_or_default(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// The order a dealer created with an idempotency key.
    pub async fn dealer_order_by_key(&self, dealer: &str, key: &str) -> Result<Option<DealerOrder>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dealer_orders WHERE dealer = $1 AND idempotency_key = $2");
        let row = sqlx::query(&sql).bind(dealer).bind(key).fetch_optional(self.pool()).await?;
        row.as_ref().map(order).transpose().map_err(Into::into)
    }

    /// A dealer's orders, newest first (at most `limit`).
    pub async fn dealer_orders(&self, dealer: &str, limit: i64) -> Result<Vec<DealerOrder>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dealer_orders WHERE dealer = $1 ORDER BY created_at DESC, id LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(dealer)
            .bind(limit.clamp(1, 1000))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(order).collect::<Result<_, _>>().map_err(Into::into)
    }
}
