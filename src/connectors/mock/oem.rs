//! Mock OEM dealer-order API (the shape `mappings/oem/northstar.toml` maps
//! to): an OAuth 2.0 client-credentials token endpoint (HTTP Basic client
//! authentication, form body) and the orders endpoint, which wants a bearer
//! token it issued, checks the mapped JSON body and answers from
//! `fixtures/oem/northstar/`. Faults (401, 429, 5xx) and token revocation
//! come from the shared mock control.

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState};

/// The client id the mock accepts.
pub const CLIENT_ID: &str = "tradelane-gateway";
/// The client secret the mock accepts.
pub const CLIENT_SECRET: &str = "mock-oem-secret";

/// The Northstar mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "northstar",
        routes,
        fault_body,
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth2/token", web::post().to(token))
        .route("/dealer-orders/v2/orders", web::post().to(create_order));
}

fn fault_body(status: u16) -> (&'static str, String) {
    let (error, message) = match status {
        400 => ("invalid_request", "The order was rejected by validation."),
        401 => ("invalid_token", "The access token is invalid or has expired."),
        429 => ("rate_limited", "Too many requests; retry later."),
        _ => ("service_unavailable", "The order service is temporarily unavailable."),
    };
    (
        "application/json",
        json!({ "error": error, "status": status, "message": message }).to_string(),
    )
}

async fn token(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let form = String::from_utf8_lossy(&body);
    if !form.split('&').any(|p| p == "grant_type=client_credentials") {
        return HttpResponse::BadRequest()
            .json(json!({"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}));
    }
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client", "error_description": "Client authentication failed."}));
    }
    let t = state.issue_token();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.fixture("token.json").replace("{{token}}", &t))
}

fn validation(state: &MockState, field: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().content_type("application/json").body(
        state
            .fixture("error_validation.json")
            .replace("{{field}}", field)
            .replace("{{message}}", message),
    )
}

async fn create_order(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if !state.bearer_ok(&req) {
        return state.error(401);
    }
    let Ok(order) = serde_json::from_slice::<Value>(&body) else {
        return validation(&state, "$", "The body is not JSON.");
    };
    for field in ["dealerCode", "purchaseOrderNumber", "orderDate"] {
        if order[field].as_str().is_none_or(str::is_empty) {
            return validation(&state, field, &format!("{field} is required."));
        }
    }
    let Some(lines) = order["orderLines"].as_array().filter(|l| !l.is_empty()) else {
        return validation(&state, "orderLines", "At least one order line is required.");
    };
    for (i, l) in lines.iter().enumerate() {
        if l["partNumber"].as_str().is_none_or(str::is_empty) {
            return validation(&state, &format!("orderLines[{i}].partNumber"), "partNumber is required.");
        }
        if l["quantity"].as_i64().is_none_or(|q| q <= 0) {
            return validation(&state, &format!("orderLines[{i}].quantity"), "quantity must be a positive integer.");
        }
    }
    let po = order["purchaseOrderNumber"].as_str().unwrap_or_default();
    // The OEM's order number is derived from the PO so a repeated delivery gets the same one.
    let digits: u32 = po.bytes().fold(7, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    HttpResponse::Created().content_type("application/json").body(
        state
            .fixture("order_created.json")
            .replace("{{order_id}}", &format!("NS-{:08}", digits % 100_000_000))
            .replace("{{po_number}}", po)
            .replace("{{line_count}}", &lines.len().to_string()),
    )
}
