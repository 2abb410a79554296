//! The OpenAPI 3.1 document of the HTTP API, served unauthenticated at
//! `GET /openapi.json`.
//!
//! The document is built by utoipa from three sources: `#[utoipa::path]` on
//! each handler (method, path, parameters, body, responses, security), the
//! `ToSchema` derives on the types those handlers read and write, and the
//! [`ApiDoc`] list below. [`Common`] then adds what every authenticated
//! operation shares: the two ways to send an API key and the 401, 403 and 500
//! problem responses.
//!
//! # Adding a route
//!
//! 1. Register it in `http::api` (or in a `register(r: &mut Routes)` called
//!    from there) with `r.get(path, handler)` / `r.post(path, handler)`.
//!    Never `cfg.route(…)` directly: the coverage test only sees [`Routes`].
//! 2. Annotate the handler with `#[utoipa::path]`: the same method and full
//!    path (`{name}` segments as in the route), a `tag`, `params(…)` for path,
//!    query (`IntoParams` types) and header parameters, `request_body(…)` with
//!    an `example = examples::…`, every status the handler can return, and
//!    `security(("bearer" = ["<scope>"]), ("api_key" = ["<scope>"]))` unless the
//!    route is public. Errors are `body = Problem, content_type =
//!    "application/problem+json"` with the problem `type`s in the
//!    description; 401, 403 (missing scope) and 500 come from [`Common`] and
//!    need not be listed. The handler's `///` doc becomes the summary (first
//!    line) and description. `post_x12`, `rates` and `get_document` in
//!    `handlers.rs` are complete templates.
//! 3. Derive `utoipa::ToSchema` on the request and response types. Newtypes
//!    with their own serde format need a hand-written `PartialSchema` (see
//!    `model::values`) or `#[schema(value_type = String, pattern = "…")]`.
//! 4. Add the handler to `paths(…)` in [`ApiDoc`]. Schemas reached from a
//!    handler are collected on their own; a schema only referenced by name
//!    (`Ref::from_schema_name`) must be listed in `components(schemas(…))`.
//!
//! `tests/openapi.rs` fails when a route is registered but not documented (or
//! the reverse), when a path template differs, when an operation lacks a 2xx
//! response or a security requirement, or when a `$ref` does not resolve.
//! Public routes are listed in [`PUBLIC_PATHS`].

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::connectors::carriers::Label;
use crate::model::{FunctionalAck, Invoice, PurchaseOrder, PurchaseOrderAck, ShipNotice};
use crate::store::{DestinationStats, DocumentRecord, MessageSummary, Scope, Subscription};

use super::handlers;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Routes served without an API key.
pub const PUBLIC_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// The document's skeleton; `paths(…)` lists every annotated handler.
#[derive(OpenApi)]
#[openapi(
    info(description = "Carrier and EDI integration gateway: X12 in and out, canonical documents, \
        a durable outbox, carrier rates, labels and tracking. Every `/v1` call needs an API key \
        (`Authorization: Bearer tl_<key id>_<secret>` or `X-Api-Key`) with the scope listed on the \
        operation; a key sees only its owner's data. Errors are `application/problem+json` with a \
        stable `type`."),
    servers((url = "/", description = "This gateway")),
    paths(
        handlers::healthz,
        handlers::readyz,
        handlers::metrics,
        openapi_json,
        handlers::post_x12,
        handlers::post_po_ack,
        handlers::post_ship_notice,
        handlers::post_invoice,
        handlers::list_documents,
        handlers::get_document,
        handlers::get_interchange,
        handlers::list_messages,
        handlers::get_message,
        handlers::replay_message,
        handlers::cancel_message,
        handlers::destinations,
        handlers::rates,
        handlers::buy_label,
        handlers::get_label,
        handlers::void_label,
        handlers::subscribe,
        handlers::track,
    ),
    components(schemas(
        Problem, Scope, PurchaseOrder, PurchaseOrderAck, ShipNotice, Invoice, FunctionalAck, Label
    )),
    modifiers(&Common),
    tags(
        (name = "health", description = "Liveness, readiness, metrics and this document (no key needed)"),
        (name = "x12", description = "Raw X12 from trading partners"),
        (name = "documents", description = "Outbound documents and what was exchanged"),
        (name = "admin", description = "The outbox, for operators (`admin` scope)"),
        (name = "shipping", description = "Rates, labels and tracking across carriers (`shipping` scope)"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI document as JSON, built once per process.
pub fn spec_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| spec().to_json().unwrap_or_else(|_| "{}".into()))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec_json())
}

/// Adds the security schemes and the problem responses every authenticated operation shares.
pub struct Common;

/// `(status, component name, description, problem slug, detail)` of the shared responses.
const SHARED: [(&str, &str, &str, &str, &str); 3] = [
    (
        "401",
        "Unauthorized",
        "`unauthorized`: no API key, or an unknown or revoked one",
        "unauthorized",
        "a valid API key is required (Authorization: Bearer tl_…)",
    ),
    (
        "403",
        "Forbidden",
        "`missing-scope`: the key lacks the operation's scope",
        "missing-scope",
        "this API key lacks the shipping scope",
    ),
    (
        "500",
        "InternalError",
        "`internal`: storage or another internal failure; details are in the gateway log",
        "internal",
        "internal error; see the gateway log",
    ),
];

fn problem_response(description: &str, status: u16, slug: &str, detail: &str) -> Response {
    let title = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .example(Some(json!({
                    "type": format!("{}{slug}", super::error::PROBLEM_BASE),
                    "title": title,
                    "status": status,
                    "detail": detail,
                })))
                .build(),
        )
        .build()
}

impl Modify for Common {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tl_<key id>_<secret>")
                    .description(Some(
                        "`Authorization: Bearer tl_<key id>_<secret>`, as printed once by \
                         `tradelane keys create --owner ID --scope SCOPE…`. The names listed on \
                         an operation are the scopes the key needs.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The same key in `X-Api-Key`, for clients that cannot set `Authorization`.",
            ))),
        );
        for (status, name, description, slug, detail) in SHARED {
            let code = status.parse().unwrap_or(500);
            components
                .responses
                .insert(name.into(), RefOr::T(problem_response(description, code, slug, detail)));
        }
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                if op.security.as_ref().is_none_or(Vec::is_empty) {
                    continue;
                }
                for (status, name, ..) in SHARED {
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

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

/// Request and response examples used by the annotations (and checked against the running
/// server by `tests/openapi.rs`).
pub mod examples {
    use serde_json::{json, Value};

    /// The basic 850 fixture: acme-parts orders three lines.
    pub fn x12_850() -> Value {
        Value::String(include_str!("../../fixtures/x12/valid/850_4010_basic.edi").into())
    }

    /// A 202 receipt for that 850.
    pub fn receipt() -> Value {
        json!({
            "submission_id": "sub_01HS8Q7Z4K3M2N1P0R9T8V7W6X",
            "status": "accepted",
            "interchanges": [{
                "id": "ich_01HS8Q7Z4M6B5C4D3E2F1G0H9J",
                "sender": "ZZ/ACMEPARTS",
                "control_number": "000000101",
                "status": "accepted",
                "duplicate": false,
                "ack": "ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *240311*0933*U*00401*000000001*0*P*>~GS*FA*TRADELANE*ACMEPARTS*20240311*0933*1*X*004010~ST*997*0001~AK1*PO*1101~AK2*850*0001~AK5*A~AK9*A*1*1*1~SE*6*0001~GE*1*1~IEA*1*000000001~",
                "ack_message_id": "msg_01HS8Q7Z4P8Q7R6S5T4U3V2W1X",
                "documents": [{
                    "id": "doc_01HS8Q7Z4R0A9B8C7D6E5F4G3H",
                    "set": "850",
                    "control_number": "0001",
                    "accepted": true,
                    "message_id": "msg_01HS8Q7Z4S2J1K0L9M8N7P6Q5R"
                }]
            }],
            "errors": []
        })
    }

    /// An 855 accepting the 850 fixture.
    pub fn po_ack_request() -> Value {
        json!({
            "partner": "acme-parts",
            "document": {
                "po_number": "4500012345",
                "po_date": "2024-03-11",
                "ack_type": "AC",
                "lines": [
                    {"line_number": "1", "status": "IA", "quantity": 12, "uom": "EA",
                     "vendor_part_number": "BP-4471", "buyer_part_number": "AC-88213", "unit_price": "24.95", "date": "2024-03-18"},
                    {"line_number": "2", "status": "IB", "quantity": 24, "uom": "EA",
                     "vendor_part_number": "OF-2210", "buyer_part_number": "AC-40761", "unit_price": "6.49", "date": "2024-03-25"}
                ]
            }
        })
    }

    /// An 856 for the 850 fixture (`fixtures/documents/ship_notice.json`).
    pub fn ship_notice_request() -> Value {
        let document: Value = serde_json::from_str(include_str!("../../fixtures/documents/ship_notice.json")).unwrap_or_default();
        json!({ "partner": "acme-parts", "document": document })
    }

    /// An 810 with a freight charge and a discount.
    pub fn invoice_request() -> Value {
        json!({
            "partner": "acme-parts",
            "document": {
                "invoice_number": "INV-240322-01",
                "invoice_date": "2024-03-22",
                "po_number": "4500012519",
                "po_date": "2024-03-15",
                "currency": "USD",
                "lines": [
                    {"line_number": "1", "quantity": 24, "uom": "EA", "unit_price": "16.00",
                     "vendor_part_number": "WB-2618", "buyer_part_number": "AC-60226", "description": "WIPER BLADE 26 IN BEAM"},
                    {"line_number": "2", "quantity": 36, "uom": "EA", "unit_price": "16.00",
                     "vendor_part_number": "SB-1020", "buyer_part_number": "AC-72031", "description": "SERPENTINE BELT 6 RIB"}
                ],
                "charges": [
                    {"code": "D240", "amount_cents": 2000, "description": "FREIGHT"},
                    {"code": "C310", "amount_cents": -1000, "description": "PROMOTIONAL DISCOUNT"}
                ]
            }
        })
    }

    fn shipment() -> Value {
        json!({
            "from": {"name": "Acme Parts DC 12", "street": ["4800 Distribution Way"], "city": "Columbus",
                     "state": "OH", "postal_code": "43228", "country": "US", "phone": "6145550142"},
            "to": {"name": "Dana Whitfield", "street": ["2215 W Broad St"], "city": "Columbus", "state": "OH",
                   "postal_code": "43204", "country": "US", "phone": "6145550199", "residential": true},
            "packages": [{"weight": "4.5", "weight_unit": "lb",
                          "dimensions": {"length": 12, "width": 10, "height": 6, "unit": "in"},
                          "reference": "PO 4500012345"}],
            "ship_date": "2026-11-26"
        })
    }

    /// A rate request: one parcel across town, delivery promised within three days.
    pub fn rate_query() -> Value {
        let mut q = shipment();
        q["deliver_by"] = json!("2026-11-30");
        q
    }

    /// Rates, cheapest first, with one carrier failing.
    pub fn rates() -> Value {
        json!({
            "rates": [{
                "carrier": "usps", "service_code": "USPS_GROUND_ADVANTAGE", "service_name": "USPS Ground Advantage",
                "total": {"amount": 9.85, "currency": "USD"},
                "breakdown": [{"code": "BASE", "description": "Base price", "amount": {"amount": 9.85, "currency": "USD"}}],
                "transit_days": 3, "estimated_delivery": "2026-11-30", "guaranteed": false, "meets_promise": true
            }, {
                "carrier": "ups", "service_code": "03", "service_name": "UPS Ground",
                "total": {"amount": 14.37, "currency": "USD"},
                "breakdown": [
                    {"code": "BASE", "description": "Transportation", "amount": {"amount": 11.21, "currency": "USD"}},
                    {"code": "FUEL", "description": "Fuel surcharge", "amount": {"amount": 1.61, "currency": "USD"}},
                    {"code": "RESIDENTIAL", "description": "Residential surcharge", "amount": {"amount": 1.55, "currency": "USD"}}
                ],
                "transit_days": 1, "estimated_delivery": "2026-11-27", "guaranteed": false, "meets_promise": true
            }],
            "errors": [{"carrier": "dhl", "type": "carrier-timeout", "detail": "carrier did not answer within 3000 ms"}]
        })
    }

    /// A label bought with a named service.
    pub fn label_order() -> Value {
        json!({ "shipment": shipment(), "carrier": "ups", "service_code": "03", "label_format": "zpl" })
    }

    /// A bought label.
    pub fn label_record() -> Value {
        json!({
            "id": "lbl_01HS8Q7Z4K3M2N1P0R9T8V7W6X",
            "owner": "warehouse-1",
            "carrier": "ups",
            "shipper": null,
            "service_code": "03",
            "status": "purchased",
            "tracking_number": "1Z999AA10123456784",
            "label": {
                "carrier": "ups",
                "service_code": "03",
                "shipment_id": "1Z999AA10123456784",
                "tracking_numbers": ["1Z999AA10123456784"],
                "label_format": "zpl",
                "labels": ["XlhBXk5+...XlhaCg=="],
                "charges": {"amount": 14.37, "currency": "USD"}
            },
            "error": null,
            "created_at": 1764086400000_i64
        })
    }

    /// A parcel out for delivery.
    pub fn tracking() -> Value {
        json!({
            "carrier": "ups",
            "tracking_number": "1Z999AA10123456784",
            "status": "out_for_delivery",
            "carrier_code": "OT",
            "estimated_delivery": "2026-11-27",
            "events": [
                {"occurred_at": "2026-11-27T07:42:00-05:00", "status": "out_for_delivery", "carrier_code": "OT",
                 "description": "Out For Delivery Today", "location": "Columbus, OH, US"},
                {"occurred_at": "2026-11-26T18:05:00-05:00", "status": "in_transit", "carrier_code": "DP",
                 "description": "Departed from Facility", "location": "Columbus, OH, US"},
                {"occurred_at": "2026-11-26T09:12:00-05:00", "status": "pre_transit", "carrier_code": "MP",
                 "description": "Shipper created a label, UPS has not received the package yet.", "location": null}
            ]
        })
    }

    /// An outbound ship notice as `GET /v1/documents/{id}` shows it.
    pub fn document_record() -> Value {
        let notice = ship_notice_request();
        json!({
            "id": "doc_01HS9B2C3D4E5F6G7H8J9K0M1N",
            "owner": "warehouse-1",
            "partner": "acme-parts",
            "direction": "outbound",
            "set_id": "856",
            "reference": "SH-20240312-0042",
            "interchange_id": null,
            "interchange_control": "000000007",
            "group_control": "7",
            "set_control": "0001",
            "status": "accepted",
            "ack_due_at": 1710324000000_i64,
            "created_at": 1710237600000_i64,
            "updated_at": 1710241200000_i64,
            "document": notice["document"],
            "x12": "ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *240312*1000*U*00401*000000007*0*P*>~\nGS*SH*TRADELANE*ACMEPARTS*20240312*1000*7*X*004010~\nST*856*0001~\n…",
            "history": [
                {"at": 1710237600000_i64, "event": "created", "detail": "queued"},
                {"at": 1710237601200_i64, "event": "delivered", "detail": "partner (msg_01HS9B2C3D7Q8R9S0T1U2V3W4X)"},
                {"at": 1710241200000_i64, "event": "accepted", "detail": "997 0001 from acme-parts: A"}
            ]
        })
    }

    /// A tracking subscription.
    pub fn subscription() -> Value {
        json!({
            "carrier": "ups",
            "tracking_number": "1Z999AA10123456784",
            "url": "https://fulfillment.example.com/hooks/tracking"
        })
    }
}
