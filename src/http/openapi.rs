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
//! Public routes are listed in [`PUBLIC_PATHS`]. A new request example belongs
//! in [`examples`] and, where the test gateway can serve it, in the test that
//! sends every example to a running server.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::connectors::carriers::Label;
use crate::model::{FunctionalAck, Invoice, PurchaseOrder, PurchaseOrderAck, ShipNotice};
use crate::store::Scope;

use super::{customs, dealers, handlers};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Routes served without an API key.
pub const PUBLIC_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// The document's skeleton; `paths(…)` lists every annotated handler.
#[derive(OpenApi)]
#[openapi(
    info(description = "Carrier and EDI integration gateway: X12 in and out, canonical documents, \
        a durable outbox, carrier rates, labels and tracking, customs declarations and landed-cost quotes, \
        and dealer parts replenishment. Every `/v1` call needs an API key \
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
        customs::create_quote,
        customs::get_quote,
        customs::commercial_invoice,
        customs::commercial_invoice_short,
        dealers::replenish,
        dealers::list_orders,
        dealers::get_order,
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
        (name = "customs", description = "Landed-cost quotes (duties, taxes, fees) and commercial invoices of international shipments (`shipping` scope)"),
        (name = "dealers", description = "Dealer parts replenishment: orders to suppliers and their status (`replenishment` scope; a dealer's key acts for its own dealer)"),
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

/// Request and response examples used by the annotations (and checked against the running
/// server by `tests/openapi.rs`).
pub mod examples;

mod bodies;

pub use bodies::*;
