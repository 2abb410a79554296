//! FedEx mock: the real REST paths (OAuth token, rate quotes, ship, cancel,
//! track), checking the fields and headers FedEx requires, answering from
//! `fixtures/carriers/fedex/` and failing in FedEx's error shape
//! (`{"transactionId", "errors":[{"code","message"}]}`).
//!
//! The error codes for missing fields are the mock's choice (FedEx reports
//! them under varying codes); the shape and statuses are FedEx's.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState};

/// The one account number the mock refuses (with `error_account.json`); any other is accepted.
const REJECTED_ACCOUNT: &str = "000000000";
/// The tracking number `track.json` describes; other numbers are not found.
const KNOWN_TRACKING: &str = "794953535000";

/// The FedEx mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "fedex",
        routes,
        fault_body,
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/token", web::post().to(token))
        .route("/rate/v1/rates/quotes", web::post().to(rate))
        .route("/ship/v1/shipments", web::post().to(ship))
        .route("/ship/v1/shipments/cancel", web::put().to(cancel))
        .route("/track/v1/trackingnumbers", web::post().to(track));
}

fn error_body(code: &str, message: &str, customer_txid: Option<&str>) -> String {
    let mut v = json!({
        "transactionId": crate::store::new_id(""),
        "errors": [ { "code": code, "message": message } ],
    });
    if let Some(c) = customer_txid {
        v["customerTransactionId"] = json!(c);
    }
    v.to_string()
}

fn fault_body(status: u16) -> (&'static str, String) {
    let (code, message) = match status {
        400 => ("BAD.REQUEST.ERROR", "The given request is invalid. Please modify your request and try again."),
        401 => ("NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again."),
        403 => ("FORBIDDEN.ERROR", "We could not authorize your credentials. Please check your permissions and try again."),
        404 => ("NOT.FOUND.ERROR", "The resource you requested is no longer available. Please modify your request and try again."),
        429 => ("TOO.MANY.REQUESTS", "We have received too many requests in a short duration. Please wait a while to try again."),
        503 => (
            "SERVICE.UNAVAILABLE.ERROR",
            "The service is currently unavailable and we are working to resolve the issue. We apologize for any inconvenience. Please check back at a later time.",
        ),
        _ => (
            "INTERNAL.SERVER.ERROR",
            "We encountered an unexpected error and are working to resolve the issue. We apologize for any inconvenience. Please check back at a later time.",
        ),
    };
    ("application/json", error_body(code, message, None))
}

fn reply(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("application/json")
        .body(body)
}

fn customer_txid(req: &HttpRequest) -> Option<&str> {
    req.headers().get("x-customer-transaction-id").and_then(|v| v.to_str().ok())
}

/// 400 naming the first missing or invalid field.
fn invalid(req: &HttpRequest, what: &str) -> HttpResponse {
    reply(
        400,
        error_body(
            "INVALID.INPUT.EXCEPTION",
            &format!("Invalid field value in the input: {what}"),
            customer_txid(req),
        ),
    )
}

/// The fixture text with the caller's `x-customer-transaction-id` echoed, as FedEx does.
fn answer(state: &MockState, req: &HttpRequest, name: &str) -> HttpResponse {
    let text = state.fixture(name);
    let text = match customer_txid(req) {
        // Textual splice: re-serializing the fixture would turn its amounts into floats.
        Some(id) if text.trim_start().starts_with('{') => {
            let at = text.find('{').map(|i| i + 1).unwrap_or(0);
            format!("{}\"customerTransactionId\":{},{}", &text[..at], json!(id), &text[at..])
        }
        _ => text,
    };
    reply(200, text)
}

/// Common checks of a business call: bearer token, JSON content type, JSON body.
fn business(state: &MockState, req: &HttpRequest, body: &[u8]) -> Result<Value, Box<HttpResponse>> {
    if !state.bearer_ok(req) {
        return Err(Box::new(state.error(401)));
    }
    let json_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err(Box::new(invalid(req, "content-type must be application/json")));
    }
    serde_json::from_slice(body).map_err(|_| Box::new(invalid(req, "request body is not JSON")))
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// The first of `paths` (JSON pointers) that is missing or empty.
fn missing(v: &Value, paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find(|p| !v.pointer(p).is_some_and(present))
        .map(|p| format!("{} is required", p.trim_start_matches('/').replace('/', ".")))
}

/// A shipment crossing a customs border needs `customsClearanceDetail`:
/// duties payment, commodities with values, weights, origin and quantity,
/// the total customs value, and for US exports the export compliance
/// statement (`AESX…` or an `NO_EEI_…` exemption).
fn check_customs(shipment: &Value) -> Option<String> {
    let country = |p: &str| shipment.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let (from, to) = (
        country("/shipper/address/countryCode"),
        country("/recipients/0/address/countryCode"),
    );
    if !crate::customs::crosses_border(&from, &to) {
        return None;
    }
    let c = &shipment["customsClearanceDetail"];
    if !c.is_object() {
        return Some("requestedShipment.customsClearanceDetail is required for an international shipment".into());
    }
    let prefix = |p: Option<String>| p.map(|m| format!("requestedShipment.customsClearanceDetail.{m}"));
    if let Some(m) = prefix(missing(
        c,
        &[
            "/dutiesPayment/paymentType",
            "/totalCustomsValue/amount",
            "/totalCustomsValue/currency",
        ],
    )) {
        return Some(m);
    }
    let commodities = match c["commodities"].as_array() {
        Some(a) if !a.is_empty() => a,
        _ => return Some("requestedShipment.customsClearanceDetail.commodities is required".into()),
    };
    for (i, item) in commodities.iter().enumerate() {
        let problem = missing(
            item,
            &[
                "/description",
                "/quantity",
                "/quantityUnits",
                "/customsValue/amount",
                "/customsValue/currency",
                "/weight/units",
                "/weight/value",
                "/countryOfManufacture",
            ],
        );
        if let Some(m) = problem {
            return Some(format!("requestedShipment.customsClearanceDetail.commodities[{i}].{m}"));
        }
    }
    if matches!(from.as_str(), "US" | "PR") {
        let statement = c
            .pointer("/exportDetail/exportComplianceStatement")
            .and_then(Value::as_str)
            .unwrap_or("");
        let itn = statement
            .strip_prefix("AES")
            .is_some_and(|i| i.parse::<crate::customs::Itn>().is_ok());
        if !(itn || statement.starts_with("NO_EEI_")) {
            return Some(
                "requestedShipment.customsClearanceDetail.exportDetail.exportComplianceStatement must be an AES ITN or an EEI exemption"
                    .into(),
            );
        }
    }
    None
}

/// Every package needs a weight with units LB/KG and a positive value.
fn check_packages(items: &Value) -> Option<String> {
    let items = match items.as_array() {
        Some(a) if !a.is_empty() => a,
        _ => return Some("requestedShipment.requestedPackageLineItems is required".into()),
    };
    for (i, p) in items.iter().enumerate() {
        if !matches!(p["weight"]["units"].as_str(), Some("LB") | Some("KG")) {
            return Some(format!(
                "requestedShipment.requestedPackageLineItems[{i}].weight.units must be LB or KG"
            ));
        }
        if !p["weight"]["value"].as_f64().is_some_and(|w| w > 0.0) {
            return Some(format!("requestedShipment.requestedPackageLineItems[{i}].weight.value is required"));
        }
    }
    None
}

fn account_mismatch(state: &MockState, req: &HttpRequest, v: &Value) -> Option<HttpResponse> {
    (v["accountNumber"]["value"].as_str() == Some(REJECTED_ACCOUNT)).then(|| {
        let mut r = answer(state, req, "error_account.json");
        *r.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
        r
    })
}

async fn token(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let form_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> = if form_type {
        web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(&body))
            .map(|q| q.into_inner())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
    if get("grant_type") != "client_credentials" || get("client_id").is_empty() || get("client_secret").is_empty() {
        return reply(
            400,
            error_body(
                "BAD.REQUEST.ERROR",
                "Missing or duplicate parameters. Please modify your request and try again.",
                None,
            ),
        );
    }
    let t = state.issue_token();
    reply(
        200,
        json!({ "access_token": t, "token_type": "bearer", "expires_in": 3599, "scope": "CXS" }).to_string(),
    )
}

async fn rate(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let v = match business(&state, &req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let problem = missing(
        &v,
        &[
            "/accountNumber/value",
            "/requestedShipment/shipper/address/postalCode",
            "/requestedShipment/shipper/address/countryCode",
            "/requestedShipment/recipient/address/postalCode",
            "/requestedShipment/recipient/address/countryCode",
            "/requestedShipment/pickupType",
        ],
    )
    .or_else(|| check_packages(&v["requestedShipment"]["requestedPackageLineItems"]));
    if let Some(p) = problem {
        return invalid(&req, &p);
    }
    if let Some(r) = account_mismatch(&state, &req, &v) {
        return r;
    }
    answer(&state, &req, "rate.json")
}

async fn ship(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let v = match business(&state, &req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let problem = missing(
        &v,
        &[
            "/accountNumber/value",
            "/labelResponseOptions",
            "/requestedShipment/shipper/contact/phoneNumber",
            "/requestedShipment/shipper/address/streetLines",
            "/requestedShipment/shipper/address/city",
            "/requestedShipment/shipper/address/countryCode",
            "/requestedShipment/recipients/0/contact/phoneNumber",
            "/requestedShipment/recipients/0/address/streetLines",
            "/requestedShipment/recipients/0/address/city",
            "/requestedShipment/recipients/0/address/countryCode",
            "/requestedShipment/pickupType",
            "/requestedShipment/serviceType",
            "/requestedShipment/packagingType",
            "/requestedShipment/shippingChargesPayment/paymentType",
            "/requestedShipment/labelSpecification/imageType",
            "/requestedShipment/labelSpecification/labelStockType",
        ],
    )
    .or_else(|| check_packages(&v["requestedShipment"]["requestedPackageLineItems"]))
    .or_else(|| check_customs(&v["requestedShipment"]));
    if let Some(p) = problem {
        return invalid(&req, &p);
    }
    if let Some(r) = account_mismatch(&state, &req, &v) {
        return r;
    }
    answer(&state, &req, "ship.json")
}

async fn cancel(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let v = match business(&state, &req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(p) = missing(&v, &["/accountNumber/value", "/trackingNumber"]) {
        return invalid(&req, &p);
    }
    if let Some(r) = account_mismatch(&state, &req, &v) {
        return r;
    }
    answer(&state, &req, "cancel.json")
}

async fn track(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let v = match business(&state, &req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let infos = v["trackingInfo"].as_array().cloned().unwrap_or_default();
    if infos.is_empty() {
        return invalid(&req, "trackingInfo is required");
    }
    if infos.len() > 30 {
        return invalid(&req, "trackingInfo allows at most 30 tracking numbers");
    }
    let Some(number) = infos[0]["trackingNumberInfo"]["trackingNumber"].as_str().filter(|n| !n.is_empty()) else {
        return invalid(&req, "trackingInfo[0].trackingNumberInfo.trackingNumber is required");
    };
    if number == KNOWN_TRACKING {
        return answer(&state, &req, "track.json");
    }
    // Unknown numbers still answer 200, with a per-result error (no amounts: safe to re-serialize).
    let mut nf: Value = serde_json::from_str(&state.fixture("track_notfound.json")).unwrap_or(Value::Null);
    for at in [
        "/output/completeTrackResults/0/trackingNumber",
        "/output/completeTrackResults/0/trackResults/0/trackingNumberInfo/trackingNumber",
    ] {
        if let Some(slot) = nf.pointer_mut(at) {
            *slot = json!(number);
        }
    }
    reply(200, nf.to_string())
}
