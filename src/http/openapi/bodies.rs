//! Bodies that exist only as JSON built in the handlers (`json!({"documents": …})`), or in
//! shapes the flows read from raw bytes, described here for the OpenAPI document. The
//! handlers do not use these types; `tests/openapi.rs` checks the server's answers against
//! them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Invoice, PurchaseOrder, PurchaseOrderAck, ShipNotice};
use crate::store::{DestinationStats, DocumentRecord, MessageSummary, Subscription};

/// An error: `application/problem+json` (RFC 9457), as `error::problem` writes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "https://tradelane.dev/problems/not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "not found"
}))]
pub struct Problem {
    /// `https://tradelane.dev/problems/<name>`: stable, the thing to match on.
    #[serde(rename = "type")]
    #[schema(pattern = r"^https://tradelane\.dev/problems/[a-z0-9-]+$", format = "uri")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The stored submission (`x12-unreadable` only), for `GET`-ing it later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<String>,
    /// The label purchase that failed (failed `POST /v1/labels` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_id: Option<String>,
    /// Every invalid field (`invalid-customs`, `customs-required`), each with its path in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::customs::FieldError>>,
    /// The request field at fault (`unknown-dealer`: `dealer`; `invalid-replenishment`,
    /// `supersession-loop`: e.g. `lines[0].quantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The dealer that is not configured (`unknown-dealer` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer: Option<String>,
    /// The part whose supersessions loop (`supersession-loop` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// The supersession chain walked, ending with the part seen twice (`supersession-loop` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<Vec<String>>,
}

/// Liveness or readiness.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `database unavailable`.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /v1/documents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentList {
    /// Newest first; `x12` and `history` are left out (read one document for them).
    pub documents: Vec<DocumentRecord>,
}

/// `GET /v1/admin/messages`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageList {
    /// Messages, newest first.
    pub messages: Vec<MessageSummary>,
}

/// `GET /v1/admin/messages/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageDetail {
    /// The message.
    pub message: MessageSummary,
    /// Every delivery attempt, oldest first.
    pub attempts: Vec<crate::store::Attempt>,
}

/// `GET /v1/admin/destinations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DestinationList {
    /// One entry per destination with messages.
    pub destinations: Vec<DestinationStats>,
}

/// `POST /v1/po-acks`: an 855 for a partner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoAckRequest {
    /// Partner id (a partner's own key may only name itself).
    #[schema(example = "acme-parts")]
    pub partner: String,
    /// The acknowledgment, or a whole purchase order to accept every line as ordered.
    pub document: PoAckDocument,
}

/// What `POST /v1/po-acks` acknowledges.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PoAckDocument {
    /// An acknowledgment with its lines.
    Ack(PurchaseOrderAck),
    /// A purchase order, accepted as ordered.
    Order(Box<PurchaseOrder>),
}

/// `POST /v1/ship-notices`: an 856 for a partner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipNoticeRequest {
    /// Partner id.
    #[schema(example = "acme-parts")]
    pub partner: String,
    /// The ship notice.
    pub document: ShipNotice,
}

/// `POST /v1/invoices`: an 810 for a partner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRequest {
    /// Partner id.
    #[schema(example = "acme-parts")]
    pub partner: String,
    /// The invoice; `total_cents` is computed when rendering.
    pub document: Invoice,
}

/// `POST /v1/tracking/subscriptions` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionCreated {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Signing secret of the webhooks (`webhook-signature: v1,…`), shown only here.
    #[schema(example = "whsec_3q2+7w8AAAAAAAAAAAAAAAAAAAAAAAAA")]
    pub secret: String,
}

/// One shipment of a dealer order, as reported by the supplier's 856.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DealerShipment {
    /// BSN02 of the ship notice.
    pub shipment_id: String,
    /// Ship date.
    pub ship_date: crate::model::Date,
    /// Carrier SCAC.
    pub carrier: Option<String>,
    /// PRO or parcel tracking number.
    pub tracking_number: Option<String>,
    /// Bill of lading.
    pub bill_of_lading: Option<String>,
    /// What was shipped, per pack.
    pub items: Vec<DealerShippedItem>,
}

/// One shipped part of a dealer shipment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DealerShippedItem {
    /// The supplier's part number.
    pub part: Option<String>,
    /// Units.
    pub quantity: crate::model::Decimal,
    /// Unit of measure.
    pub uom: String,
    /// SSCC of the pack.
    pub sscc: Option<String>,
}

/// `GET /v1/dealers/{dealer}/orders`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealerOrderList {
    /// The dealer's orders, newest first (at most 100; `history` left out).
    pub orders: Vec<crate::store::DealerOrder>,
}

/// `POST /v1/dealers/{dealer}/replenishment` when the stock positions call for nothing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "nothing_to_order", "lines": []}))]
pub struct NothingToOrder {
    /// Always `nothing_to_order`.
    #[schema(pattern = "^nothing_to_order$")]
    pub status: String,
    /// Always empty.
    pub lines: Vec<crate::replenishment::OrderLine>,
}

/// `POST /v1/dealers/{dealer}/replenishment` with 200: the order of an earlier request with
/// this Idempotency-Key and body, or nothing to order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReplenishmentAnswer {
    /// The order the Idempotency-Key created before.
    Order(Box<crate::store::DealerOrder>),
    /// No part is at or below its reorder point and no line was ordered explicitly.
    Nothing(NothingToOrder),
}

/// A PDF document (`application/pdf`), returned as raw bytes.
pub struct Pdf;

impl utoipa::PartialSchema for Pdf {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/pdf")
            .description(Some("A PDF document (raw bytes, `%PDF-1.4` …)."))
            .into()
    }
}

impl ToSchema for Pdf {}
