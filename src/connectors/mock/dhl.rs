//! DHL Express (MyDHL API) mock: `POST /rates`, `POST /shipments` and
//! `GET /shipments/{n}/tracking` at the paths under the real `/mydhlapi` base.
//! Checks HTTP Basic credentials (`mock-user` / `mock-pass`) and the fields
//! the MyDHL spec declares required, answering problem+json errors the way
//! DHL does (`status` as a string) and canned answers from
//! `fixtures/carriers/dhl/`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState};

/// Credentials the mock accepts.
pub const USER: &str = "mock-user";
/// Password the mock accepts.
pub const PASSWORD: &str = "mock-pass";

const PROBLEM_JSON: &str = "application/problem+json";

/// The DHL Express mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "dhl",
        routes: |cfg| {
            cfg.route("/rates", web::post().to(rates))
                .route("/shipments", web::post().to(shipments))
                .route("/shipments/{number}/tracking", web::get().to(tracking));
        },
        fault_body,
    }
}

fn fault_body(status: u16) -> (&'static str, String) {
    let (title, detail) = match status {
        401 => ("Unauthorized", "Invalid Credentials"),
        403 => ("Forbidden", "Access to the resource is forbidden"),
        429 => ("Too many requests", "Too many requests. Please try again later."),
        500 => ("Internal Server Error", "Process failure occurred."),
        503 => ("Service Unavailable", "The service is temporarily unavailable."),
        _ => ("Error", "Request failed"),
    };
    (PROBLEM_JSON, problem_body(status, "/expressapi", title, detail).to_string())
}

fn problem_body(status: u16, instance: &str, title: &str, detail: &str) -> Value {
    json!({
        "instance": instance,
        "detail": detail,
        "title": title,
        "message": reason(status),
        "status": status.to_string(),
    })
}

fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn problem(req: &HttpRequest, status: u16, title: &str, detail: &str) -> HttpResponse {
    let instance = format!("/expressapi{}", req.path());
    respond(
        req,
        status,
        PROBLEM_JSON,
        problem_body(status, &instance, title, detail).to_string(),
    )
}

/// Adds DHL's `Invocation-Id` and echoes `Message-Reference`.
fn respond(req: &HttpRequest, status: u16, content_type: &str, body: String) -> HttpResponse {
    let mut r = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    r.insert_header(("Invocation-Id", crate::store::new_id("")));
    if let Some(m) = req.headers().get("message-reference").and_then(|v| v.to_str().ok()) {
        r.insert_header(("Message-Reference", m.to_string()));
    }
    r.content_type(content_type).body(body)
}

/// `None` when the request carries the mock's Basic credentials, else DHL's 401.
fn check_auth(req: &HttpRequest) -> Option<HttpResponse> {
    use base64::Engine;
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .is_some_and(|d| d == format!("{USER}:{PASSWORD}").as_bytes());
    (!ok).then(|| problem(req, 401, "Unauthorized", "Invalid Credentials"))
}

/// The first required key missing from `v`, as DHL words it:
/// `#/customerDetails/shipperDetails: required key [countryCode] not found`.
/// Paths are `/`-separated; `*` walks every element of an array.
fn missing(v: &Value, paths: &[&str]) -> Option<String> {
    fn walk(v: &Value, at: &str, rest: &[&str]) -> Option<String> {
        let (key, rest) = rest.split_first()?;
        if *key == "*" {
            let items = v.as_array()?;
            if items.is_empty() {
                return Some(format!("{at}: expected minimum item count: 1, found: 0"));
            }
            return items.iter().enumerate().find_map(|(i, e)| walk(e, &format!("{at}/{i}"), rest));
        }
        match v.get(key).filter(|x| !x.is_null() && x.as_str() != Some("")) {
            None => Some(format!("{at}: required key [{key}] not found")),
            Some(next) => walk(next, &format!("{at}/{key}"), rest),
        }
    }
    paths.iter().find_map(|p| {
        let parts: Vec<&str> = p.split('/').collect();
        walk(v, "#", &parts)
    })
}

/// Reads the JSON body, or DHL's 400.
fn body_json(req: &HttpRequest, body: &[u8]) -> Result<Value, Box<HttpResponse>> {
    serde_json::from_slice(body).map_err(|e| Box::new(problem(req, 400, "Bad request", &format!("Invalid JSON: {e}"))))
}

fn date_time_ok(v: &Value) -> bool {
    // `YYYY-MM-DDTHH:MM:SS GMT+HH:MM`, the space being optional as in DHL's own examples.
    v.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        b.len() >= 28 && b.get(10) == Some(&b'T') && s.get(19..).is_some_and(|t| t.trim_start().starts_with("GMT"))
    })
}

async fn rates(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if let Some(r) = check_auth(&req) {
        return r;
    }
    let v = match body_json(&req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let required = [
        "customerDetails/shipperDetails/postalCode",
        "customerDetails/shipperDetails/cityName",
        "customerDetails/shipperDetails/countryCode",
        "customerDetails/receiverDetails/postalCode",
        "customerDetails/receiverDetails/cityName",
        "customerDetails/receiverDetails/countryCode",
        "plannedShippingDateAndTime",
        "unitOfMeasurement",
        "isCustomsDeclarable",
        "packages/*/weight",
        "packages/*/dimensions/length",
        "packages/*/dimensions/width",
        "packages/*/dimensions/height",
    ];
    if let Some(detail) = missing(&v, &required) {
        return problem(&req, 400, "Bad request", &detail);
    }
    if !date_time_ok(&v["plannedShippingDateAndTime"]) {
        return problem(
            &req,
            400,
            "Bad request",
            "#/plannedShippingDateAndTime: string does not match pattern",
        );
    }
    if !matches!(v["unitOfMeasurement"].as_str(), Some("metric" | "imperial")) {
        return problem(&req, 400, "Bad request", "#/unitOfMeasurement: metric or imperial expected");
    }
    respond(&req, 200, "application/json", state.fixture("rates_response.json"))
}

async fn shipments(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if let Some(r) = check_auth(&req) {
        return r;
    }
    let v = match body_json(&req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut required = vec![
        "plannedShippingDateAndTime",
        "pickup/isRequested",
        "productCode",
        "accounts/*/typeCode",
        "accounts/*/number",
    ];
    let parties = [
        "customerDetails/shipperDetails/postalAddress/cityName",
        "customerDetails/shipperDetails/postalAddress/countryCode",
        "customerDetails/shipperDetails/postalAddress/addressLine1",
        "customerDetails/shipperDetails/contactInformation/phone",
        "customerDetails/shipperDetails/contactInformation/companyName",
        "customerDetails/shipperDetails/contactInformation/fullName",
        "customerDetails/receiverDetails/postalAddress/cityName",
        "customerDetails/receiverDetails/postalAddress/countryCode",
        "customerDetails/receiverDetails/postalAddress/addressLine1",
        "customerDetails/receiverDetails/contactInformation/phone",
        "customerDetails/receiverDetails/contactInformation/companyName",
        "customerDetails/receiverDetails/contactInformation/fullName",
    ];
    required.extend(parties);
    required.extend([
        "content/packages/*/weight",
        "content/isCustomsDeclarable",
        "content/description",
        "content/incoterm",
        "content/unitOfMeasurement",
    ]);
    if let Some(detail) = missing(&v, &required) {
        return problem(&req, 422, "Validation error", &detail);
    }
    if !date_time_ok(&v["plannedShippingDateAndTime"]) {
        return problem(
            &req,
            422,
            "Validation error",
            "#/plannedShippingDateAndTime: string does not match pattern",
        );
    }
    if let Some(detail) = check_customs(&v) {
        return problem(&req, 422, "Validation error", &detail);
    }
    respond(&req, 201, "application/json", state.fixture("shipment_response.json"))
}

/// A customs-declarable shipment (required across a customs border) needs
/// its declared value and `content.exportDeclaration` with line items and invoice.
fn check_customs(v: &Value) -> Option<String> {
    let country = |who: &str| {
        v["customerDetails"][who]["postalAddress"]["countryCode"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let declarable = v["content"]["isCustomsDeclarable"] == json!(true);
    if !declarable {
        return crate::customs::crosses_border(&country("shipperDetails"), &country("receiverDetails"))
            .then(|| "#/content/isCustomsDeclarable: must be true for a dutiable shipment between these countries".to_string());
    }
    let required = [
        "content/declaredValue",
        "content/declaredValueCurrency",
        "content/exportDeclaration/invoice/number",
        "content/exportDeclaration/invoice/date",
        "content/exportDeclaration/lineItems/*/number",
        "content/exportDeclaration/lineItems/*/description",
        "content/exportDeclaration/lineItems/*/price",
        "content/exportDeclaration/lineItems/*/quantity/value",
        "content/exportDeclaration/lineItems/*/quantity/unitOfMeasurement",
        "content/exportDeclaration/lineItems/*/manufacturerCountry",
        "content/exportDeclaration/lineItems/*/weight/netValue",
        "content/exportDeclaration/lineItems/*/weight/grossValue",
    ];
    if let Some(detail) = missing(v, &required) {
        return Some(detail);
    }
    let items = v["content"]["exportDeclaration"]["lineItems"].as_array()?;
    for (i, item) in items.iter().enumerate() {
        for (j, code) in item["commodityCodes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if !matches!(code["typeCode"].as_str(), Some("outbound" | "inbound")) || code["value"].as_str().is_none_or(str::is_empty) {
                return Some(format!(
                    "#/content/exportDeclaration/lineItems/{i}/commodityCodes/{j}: typeCode outbound or inbound and a value expected"
                ));
            }
        }
    }
    None
}

async fn tracking(state: web::Data<MockState>, req: HttpRequest, number: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Some(r) = check_auth(&req) {
        return r;
    }
    let fixture = state.fixture("tracking_response.json");
    let known = serde_json::from_str::<Value>(&fixture)
        .ok()
        .and_then(|v| v["shipments"][0]["shipmentTrackingNumber"].as_str().map(str::to_string));
    if known.as_deref() != Some(number.as_str()) {
        return problem(&req, 404, "Not Found", "No data found");
    }
    respond(&req, 200, "application/json", fixture)
}
