//! USPS mock: the v3 REST paths (OAuth token, payment authorization, shipping options,
//! labels with their multipart answer, label cancel, tracking), checking the fields and
//! headers the real API requires and answering with USPS's `ErrorMessage` shape.
//! International labels (`/international-labels/v3/…`) need a complete `customsForm`.

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
/// Tracking number of the international label fixture.
pub const INTERNATIONAL_TRACKING_NUMBER: &str = "LZ123456789US";
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
        .route("/international-labels/v3/international-label", web::post().to(international_label))
        .route("/international-labels/v3/international-label/{tracking}", web::delete().to(cancel))
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

/// Bearer token and payment authorization token of a label call.
fn paid(state: &MockState, req: &HttpRequest) -> Result<(), Box<HttpResponse>> {
    if !state.bearer_ok(req) {
        return Err(Box::new(unauthorized()));
    }
    if !payment_ok(req) {
        return Err(Box::new(error(
            403,
            "403",
            "Missing or invalid X-Payment-Authorization-Token header.",
            Some("X-Payment-Authorization-Token"),
        )));
    }
    Ok(())
}

/// A label request body: paid for, JSON, with the `required` fields and a name or firm on both addresses.
fn label_body(state: &MockState, req: &HttpRequest, body: &[u8], required: &[String]) -> Result<Value, Box<HttpResponse>> {
    paid(state, req)?;
    let v = json_body(body)?;
    let required: Vec<&str> = required.iter().map(String::as_str).collect();
    if let Some(f) = first_missing(&v, &required) {
        return Err(Box::new(missing(f)));
    }
    for a in ["toAddress", "fromAddress"] {
        if first_missing(&v[a], &["firm"]).is_some() && first_missing(&v[a], &["firstName", "lastName"]).is_some() {
            return Err(Box::new(error(
                400,
                "020160",
                &format!("{a}: First and Last Name or Firm are required."),
                Some(a),
            )));
        }
    }
    Ok(v)
}

/// `prefix.field` for each field.
fn under(prefix: &str, fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| format!("{prefix}.{f}")).collect()
}

async fn label(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let mut required = under("toAddress", &["streetAddress", "city", "state", "ZIPCode"]);
    required.extend(under("fromAddress", &["streetAddress", "city", "state", "ZIPCode"]));
    required.extend(under(
        "packageDescription",
        &[
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
        ],
    ));
    if let Err(r) = label_body(&state, &req, &body, &required) {
        return *r;
    }
    label_answer(&state, &req, 200, "label-metadata.json")
}

/// The label answer: multipart (metadata + base64 image) by default, one JSON
/// document for `Accept: application/vnd.usps.labels+json`.
fn label_answer(state: &MockState, req: &HttpRequest, status: u16, metadata: &str) -> HttpResponse {
    let meta = state.fixture(metadata);
    let image: String = state.fixture("label-image.pdf.b64").split_whitespace().collect();
    let code = actix_web::http::StatusCode::from_u16(status).unwrap_or_default();
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("application/vnd.usps.labels+json") {
        let meta: Value = serde_json::from_str(&meta).unwrap_or(Value::Null);
        return HttpResponse::build(code)
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
    HttpResponse::build(code)
        .content_type(format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(out)
}

/// International mail classes the International Labels API sells.
const INTERNATIONAL_CLASSES: &[&str] = &[
    "FIRST-CLASS_PACKAGE_INTERNATIONAL_SERVICE",
    "PRIORITY_MAIL_INTERNATIONAL",
    "PRIORITY_MAIL_EXPRESS_INTERNATIONAL",
];

const CONTENT_TYPES: &[&str] = &[
    "MERCHANDISE",
    "GIFT",
    "DOCUMENT",
    "COMMERCIAL_SAMPLE",
    "RETURNED_GOODS",
    "OTHER",
    "HUMANITARIAN_DONATIONS",
    "DANGEROUS_GOODS",
    "CREMATED_REMAINS",
    "NON_NEGOTIABLE_DOCUMENT",
    "MEDICAL_SUPPLIES",
    "PHARMACEUTICALS",
];

/// A 400 naming an invalid field.
fn invalid(field: &str, detail: &str) -> HttpResponse {
    error(400, "020200", &format!("{field}: {detail}"), Some(field))
}

/// The International Labels `customsForm` as USPS checks it.
fn check_customs_form(form: &Value) -> Result<(), Box<HttpResponse>> {
    if let Some(f) = first_missing(form, &["customsContentType", "AESITN"]) {
        return Err(Box::new(missing(&format!("customsForm.{f}"))));
    }
    let kind = form["customsContentType"].as_str().unwrap_or("");
    if !CONTENT_TYPES.contains(&kind) {
        return Err(Box::new(invalid("customsForm.customsContentType", "is not a customs content type")));
    }
    let text_ok = |v: &Value, max: usize| v.as_str().is_some_and(|t| !t.trim().is_empty() && t.chars().count() <= max);
    if kind == "OTHER" && !text_ok(&form["contentComments"], 25) {
        return Err(Box::new(invalid(
            "customsForm.contentComments",
            "is required (at most 25 characters) when customsContentType is OTHER",
        )));
    }
    if form["restrictionType"] == "OTHER" && !text_ok(&form["restrictionComments"], 25) {
        return Err(Box::new(invalid(
            "customsForm.restrictionComments",
            "is required when restrictionType is OTHER",
        )));
    }
    let aes = form["AESITN"].as_str().unwrap_or("");
    let itn = aes.strip_prefix("AES").is_some_and(|i| i.parse::<crate::customs::Itn>().is_ok());
    if aes.chars().count() > 35 || !(itn || aes.starts_with("NO EEI 30.")) {
        return Err(Box::new(invalid(
            "customsForm.AESITN",
            "must be an ITN (AES X…) or an exemption such as NO EEI 30.37(a)",
        )));
    }
    let contents = match form["contents"].as_array() {
        Some(c) if (1..=30).contains(&c.len()) => c,
        _ => return Err(Box::new(invalid("customsForm.contents", "1 to 30 items are required"))),
    };
    for (i, item) in contents.iter().enumerate() {
        let field = |name: &str| format!("customsForm.contents[{i}].{name}");
        if let Some(f) = first_missing(item, &["itemDescription", "itemQuantity", "countryofOrigin"]) {
            return Err(Box::new(missing(&field(f))));
        }
        let description = item["itemDescription"].as_str().unwrap_or("");
        let vague = ["none", "not applicable", "n/a", "null", "gift", "merchandise"].contains(&description.to_ascii_lowercase().as_str());
        if !text_ok(&item["itemDescription"], 30) || vague {
            return Err(Box::new(invalid(
                &field("itemDescription"),
                "must be a specific description of at most 30 characters",
            )));
        }
        if !item["itemQuantity"].as_u64().is_some_and(|q| (1..=9999).contains(&q)) {
            return Err(Box::new(invalid(&field("itemQuantity"), "must be an integer from 1 to 9999")));
        }
        let totals = item["itemTotalValue"].as_f64().is_some() && item["itemTotalWeight"].as_f64().is_some();
        let units = item["itemValue"].as_f64().is_some() && item["itemWeight"].as_f64().is_some();
        if !(totals || units) {
            return Err(Box::new(invalid(
                &field("itemTotalValue"),
                "itemTotalValue and itemTotalWeight (or itemValue and itemWeight) are required",
            )));
        }
        let origin = item["countryofOrigin"].as_str().unwrap_or("");
        if origin.len() != 2 || !origin.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Box::new(invalid(&field("countryofOrigin"), "must be an ISO alpha-2 code")));
        }
        if let Some(hs) = item.get("HSTariffNumber").and_then(Value::as_str) {
            let significant = hs.chars().filter(|c| *c != '.').count();
            if !(6..=14).contains(&significant) || !hs.chars().all(|c| c == '.' || c.is_ascii_alphanumeric()) {
                return Err(Box::new(invalid(
                    &field("HSTariffNumber"),
                    "must have 6 to 14 characters besides dots",
                )));
            }
        }
    }
    Ok(())
}

async fn international_label(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let mut required = under("toAddress", &["streetAddress", "city", "country", "countryISOAlpha2Code"]);
    required.extend(under("fromAddress", &["streetAddress", "city", "state", "ZIPCode"]));
    required.extend(under(
        "packageDescription",
        &[
            "mailClass",
            "weight",
            "length",
            "width",
            "height",
            "processingCategory",
            "mailingDate",
            "destinationEntryFacilityType",
        ],
    ));
    required.push("customsForm".into());
    let v = match label_body(&state, &req, &body, &required) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !INTERNATIONAL_CLASSES.contains(&v["packageDescription"]["mailClass"].as_str().unwrap_or("")) {
        return invalid("packageDescription.mailClass", "is not an international mail class");
    }
    if !matches!(
        v["imageInfo"]["imageType"].as_str().unwrap_or("PDF"),
        "PDF" | "TIFF" | "ZPL203DPI" | "ZPL300DPI" | "LABEL_BROKER" | "NONE"
    ) {
        return invalid("imageInfo.imageType", "is not an image type of international labels");
    }
    if let Err(r) = check_customs_form(&v["customsForm"]) {
        return *r;
    }
    label_answer(&state, &req, 201, "international-label-metadata.json")
}

async fn cancel(state: web::Data<MockState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Err(r) = paid(&state, &req) {
        return *r;
    }
    let n = path.into_inner();
    let known = if req.path().starts_with("/international-labels/") {
        INTERNATIONAL_TRACKING_NUMBER
    } else {
        TRACKING_NUMBER
    };
    if n != known {
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
