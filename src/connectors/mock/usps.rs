//! USPS mock: the v3 REST paths (OAuth token, payment authorization, shipping options,
//! labels with their multipart answer, label cancel, tracking), checking the fields and
//! headers the real API requires and answering with USPS's `ErrorMessage` shape.

use std::collections::BTreeSet;
use std::sync::Mutex;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState};

/// The USPS mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "usps",
        routes,
        fault_body,
    }
}

/// Tracking number of the fixtures.
pub const TRACKING_NUMBER: &str = "9405511206219483075429";
/// Boundary of the multipart label answer.
pub const BOUNDARY: &str = "usps-label-part-boundary-7d41";

/// Payment authorization tokens issued by any USPS mock in this process.
static PAYMENT_TOKENS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth2/v3/token", web::post().to(token))
        .route("/payments/v3/payment-authorization", web::post().to(payment_authorization))
        .route("/shipments/v3/options/search", web::post().to(options_search))
        .route("/labels/v3/label", web::post().to(label))
        .route("/labels/v3/label/{tracking}", web::delete().to(cancel))
        .route("/tracking/v3/tracking/{tracking}", web::get().to(tracking));
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// USPS's `ErrorMessage` body.
fn error_body(status: u16, code: &str, detail: &str, parameter: Option<&str>) -> String {
    let mut e = json!({ "status": status.to_string(), "code": code, "title": title(status), "detail": detail });
    if let Some(p) = parameter {
        e["source"] = json!({ "parameter": p });
    }
    json!({ "apiVersion": "v3", "error": { "code": status.to_string(), "message": title(status), "errors": [e] } }).to_string()
}

fn fault_body(status: u16) -> (&'static str, String) {
    let detail = match status {
        401 => "Invalid or expired access token.",
        429 => "Quota exceeded: too many requests for this application.",
        503 => "The service is temporarily unavailable.",
        _ => "An unexpected error occurred.",
    };
    ("application/json", error_body(status, &status.to_string(), detail, None))
}

fn error(status: u16, code: &str, detail: &str, parameter: Option<&str>) -> HttpResponse {
    let mut r = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    if status == 401 {
        r.insert_header(("www-authenticate", "Bearer realm=\"https://api.usps.com\""));
    }
    r.content_type("application/json").body(error_body(status, code, detail, parameter))
}

fn unauthorized() -> HttpResponse {
    error(401, "401", "Invalid or expired access token.", None)
}

fn missing(field: &str) -> HttpResponse {
    error(400, "020100", &format!("{field} is required."), Some(field))
}

/// Path of the first missing field among `fields` (dotted paths) in `v`.
fn first_missing<'a>(v: &Value, fields: &[&'a str]) -> Option<&'a str> {
    fields.iter().copied().find(|f| {
        let mut cur = v;
        for k in f.split('.') {
            match cur.get(k) {
                Some(x) if !x.is_null() && x.as_str() != Some("") => cur = x,
                _ => return true,
            }
        }
        false
    })
}

fn json_body(body: &[u8]) -> Result<Value, Box<HttpResponse>> {
    serde_json::from_slice(body).map_err(|e| Box::new(error(400, "020001", &format!("Request body is not valid JSON: {e}"), None)))
}

async fn token(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    // USPS accepts JSON (its own examples) and form encoding.
    let fields: Value = if ct.starts_with("application/x-www-form-urlencoded") {
        let pairs = String::from_utf8_lossy(&body)
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect::<serde_json::Map<_, _>>();
        Value::Object(pairs)
    } else {
        match json_body(&body) {
            Ok(v) => v,
            Err(r) => return *r,
        }
    };
    if let Some(f) = first_missing(&fields, &["grant_type", "client_id", "client_secret"]) {
        return missing(f);
    }
    if fields["grant_type"] != "client_credentials" {
        return error(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials.",
            Some("grant_type"),
        );
    }
    let token = state.issue_token();
    HttpResponse::Ok().json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "issued_at": "1742216400000",
        "expires_in": "28799",
        "status": "approved",
        "scope": "addresses international-prices subscriptions payments pickup tracking labels scan-forms companies service-delivery-standards locations international-labels prices shipments",
        "issuer": "https://keyc.usps.com/realms/USPS",
        "client_id": fields["client_id"],
        "application_name": "tradelane-mock",
        "api_products": "[Shipping-Silver]",
        "public_key": "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0="
    }))
}

async fn payment_authorization(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if !state.bearer_ok(&req) {
        return unauthorized();
    }
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let roles = v["roles"].as_array().cloned().unwrap_or_default();
    for name in ["PAYER", "LABEL_OWNER"] {
        let Some(role) = roles.iter().find(|r| r["roleName"] == name) else {
            return missing(&format!("roles[roleName={name}]"));
        };
        if let Some(f) = first_missing(role, &["CRID", "MID", "manifestMID", "accountType", "accountNumber"]) {
            return missing(&format!("roles[{name}].{f}"));
        }
    }
    let token = format!("pay-{}", state.issue_token());
    if let Ok(mut t) = PAYMENT_TOKENS.lock() {
        t.insert(token.clone());
    }
    HttpResponse::Ok().json(json!({ "paymentAuthorizationToken": token, "roles": roles }))
}

fn payment_ok(req: &HttpRequest) -> bool {
    req.headers()
        .get("x-payment-authorization-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| PAYMENT_TOKENS.lock().map(|s| s.contains(t)).unwrap_or(false))
}

async fn options_search(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if !state.bearer_ok(&req) {
        return unauthorized();
    }
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let required = [
        "originZIPCode",
        "destinationZIPCode",
        "packageDescription.weight",
        "packageDescription.length",
        "packageDescription.width",
        "packageDescription.height",
        "packageDescription.mailClass",
    ];
    if let Some(f) = first_missing(&v, &required) {
        return missing(f);
    }
    if v["pricingOptions"].as_array().is_none_or(Vec::is_empty) {
        return missing("pricingOptions");
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.fixture("options-search.json"))
}

async fn label(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if !state.bearer_ok(&req) {
        return unauthorized();
    }
    if !payment_ok(&req) {
        return error(
            403,
            "403",
            "Missing or invalid X-Payment-Authorization-Token header.",
            Some("X-Payment-Authorization-Token"),
        );
    }
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut required = vec![];
    for a in ["toAddress", "fromAddress"] {
        for f in ["streetAddress", "city", "state", "ZIPCode"] {
            required.push(format!("{a}.{f}"));
        }
    }
    for f in [
        "mailClass",
        "rateIndicator",
        "weightUOM",
        "weight",
        "dimensionsUOM",
        "length",
        "width",
        "height",
        "processingCategory",
        "mailingDate",
        "destinationEntryFacilityType",
    ] {
        required.push(format!("packageDescription.{f}"));
    }
    let required: Vec<&str> = required.iter().map(String::as_str).collect();
    if let Some(f) = first_missing(&v, &required) {
        return missing(f);
    }
    for a in ["toAddress", "fromAddress"] {
        if first_missing(&v[a], &["firm"]).is_some() && first_missing(&v[a], &["firstName", "lastName"]).is_some() {
            return error(400, "020160", &format!("{a}: First and Last Name or Firm are required."), Some(a));
        }
    }
    let meta = state.fixture("label-metadata.json");
    let image: String = state.fixture("label-image.pdf.b64").split_whitespace().collect();
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("application/vnd.usps.labels+json") {
        let meta: Value = serde_json::from_str(&meta).unwrap_or(Value::Null);
        return HttpResponse::Ok()
            .content_type("application/vnd.usps.labels+json")
            .json(json!({ "labelMetadata": meta, "labelImage": image }));
    }
    let mut out = String::new();
    out.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"labelMetadata\"\r\nContent-Type: application/json\r\n\r\n"
    ));
    out.push_str(meta.trim());
    out.push_str(&format!(
        "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"labelImage\"; filename=\"labelImage.pdf\"\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ));
    // Base64 in 76-character lines, as MIME encoders write it.
    let lines: Vec<&str> = image.as_bytes().chunks(76).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    out.push_str(&lines.join("\r\n"));
    out.push_str(&format!("\r\n--{BOUNDARY}--\r\n"));
    HttpResponse::Ok()
        .content_type(format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(out)
}

async fn cancel(state: web::Data<MockState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if !state.bearer_ok(&req) {
        return unauthorized();
    }
    if !payment_ok(&req) {
        return error(
            403,
            "403",
            "Missing or invalid X-Payment-Authorization-Token header.",
            Some("X-Payment-Authorization-Token"),
        );
    }
    let n = path.into_inner();
    if n != TRACKING_NUMBER {
        return error(
            404,
            "020404",
            &format!("No label found for tracking number {n}."),
            Some("trackingNumber"),
        );
    }
    HttpResponse::Ok().json(json!({ "trackingNumber": n, "status": "CANCELED" }))
}

async fn tracking(state: web::Data<MockState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if !state.bearer_ok(&req) {
        return unauthorized();
    }
    if path.as_str() != TRACKING_NUMBER {
        return HttpResponse::NotFound()
            .content_type("application/json")
            .body(state.fixture("error-tracking-404.json"));
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.fixture("tracking.json"))
}
