//! UPS mock: the OAuth token endpoint, Rating (Rate/Shop), Ship, Void and
//! Track v1 at their real paths. It checks the bearer token, the headers and
//! the required body fields, answers errors in UPS's
//! `{"response":{"errors":[{code, message}]}}` shape, and serves
//! `fixtures/carriers/ups/*.json`.
//!
//! Conventions of the mock (not UPS's): ship-to postal code `00000` gets the
//! rating error fixture, void of an id not starting with `1Z` gets the
//! void-window error, tracking a number not starting with `1Z` gets 404.
//! UPS's per-field validation codes are not published in the reference, so
//! missing fields are answered with codes of the mock's own (`9000xx`).
//! Labels that cross a customs border must carry `InternationalForms`
//! (see `check_customs`).

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState};

const VERSION: &str = "v2409";
/// Missing or invalid field, unsupported version, missing header (mock codes).
const MISSING_FIELD: &str = "900001";
const BAD_VERSION: &str = "900002";
const MISSING_HEADER: &str = "900003";

/// The UPS mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "ups",
        routes,
        fault_body,
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/security/v1/oauth/token", web::post().to(token))
        .route("/api/rating/{version}/{option}", web::post().to(rating))
        .route("/api/shipments/{version}/ship", web::post().to(ship))
        .route("/api/shipments/{version}/void/cancel/{id}", web::delete().to(void))
        .route("/api/track/v1/details/{number}", web::get().to(track));
}

fn error_body(code: &str, message: &str) -> String {
    json!({ "response": { "errors": [ { "code": code, "message": message } ] } }).to_string()
}

/// UPS's error body for an injected status.
fn fault_body(status: u16) -> (&'static str, String) {
    let body = match status {
        401 => error_body("250002", "Invalid Authentication Information."),
        403 => error_body("250003", "Invalid Access License number"),
        429 => error_body("10429", "Too Many Requests"),
        s => error_body(&s.to_string(), "The service is temporarily unavailable"),
    };
    ("application/json", body)
}

/// A failed check: the response to send (boxed, it is large).
type Checked<T> = Result<T, Box<HttpResponse>>;

fn bad(status: u16, code: &str, message: &str) -> Box<HttpResponse> {
    Box::new(reject(status, code, message))
}

fn reject(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("application/json")
        .body(error_body(code, message))
}

fn fixture(state: &MockState, status: u16, name: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("application/json")
        .body(state.fixture(name))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks what every business call shares: the bearer token and the version.
fn gate(state: &MockState, req: &HttpRequest, version: Option<&str>) -> Checked<()> {
    if !state.bearer_ok(req) {
        return Err(Box::new(state.error(401)));
    }
    match version {
        Some(v) if v != VERSION => Err(bad(
            400,
            BAD_VERSION,
            &format!("Unsupported version {v}; the mock serves {VERSION}"),
        )),
        _ => Ok(()),
    }
}

/// Parses a JSON body sent with `Content-Type: application/json`.
fn json_body(req: &HttpRequest, body: &[u8]) -> Checked<Value> {
    if !header(req, "content-type").starts_with("application/json") {
        return Err(bad(400, MISSING_FIELD, "Content-Type must be application/json"));
    }
    serde_json::from_slice(body).map_err(|e| bad(400, MISSING_FIELD, &format!("Invalid JSON: {e}")))
}

/// The value at a `/`-separated path.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('/').fold(v, |v, k| &v[k])
}

/// A non-empty string at each path (UPS sends numbers as strings too).
fn require(v: &Value, base: &str, paths: &[&str]) -> Checked<()> {
    for p in paths {
        let full = if base.is_empty() { p.to_string() } else { format!("{base}/{p}") };
        match at(v, &full) {
            Value::String(s) if !s.trim().is_empty() => {}
            _ => return Err(bad(400, MISSING_FIELD, &format!("Missing or invalid {}", full.replace('/', ".")))),
        }
    }
    Ok(())
}

fn one_of(v: &Value, path: &str, allowed: &[&str]) -> Checked<()> {
    match at(v, path).as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        _ => Err(bad(
            400,
            MISSING_FIELD,
            &format!("{} must be one of {}", path.replace('/', "."), allowed.join(", ")),
        )),
    }
}

/// An array element (never a bare object on current versions), non-empty.
fn array<'a>(v: &'a Value, path: &str) -> Checked<&'a Vec<Value>> {
    match at(v, path).as_array() {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(bad(
            400,
            MISSING_FIELD,
            &format!("{} must be a non-empty array", path.replace('/', ".")),
        )),
    }
}

fn check_address(v: &Value, path: &str) -> Checked<()> {
    require(v, path, &["City", "CountryCode"])?;
    let a = at(v, path);
    if !a["AddressLine"].is_array() {
        return Err(bad(
            400,
            MISSING_FIELD,
            &format!("{}.AddressLine must be an array", path.replace('/', ".")),
        ));
    }
    if matches!(a["CountryCode"].as_str(), Some("US" | "CA" | "PR")) {
        require(v, path, &["PostalCode", "StateProvinceCode"])?;
    }
    Ok(())
}

/// Weight (and dimensions when given) of one package.
fn check_package(p: &Value, packaging: &str) -> Checked<()> {
    require(p, "", &[&format!("{packaging}/Code"), "PackageWeight/Weight"])?;
    one_of(p, "PackageWeight/UnitOfMeasurement/Code", &["LBS", "KGS", "OZS"])?;
    let weight = p["PackageWeight"]["Weight"]
        .as_str()
        .and_then(|w| w.parse::<f64>().ok())
        .unwrap_or(0.0);
    if weight <= 0.0 {
        return Err(bad(400, MISSING_FIELD, "Package.PackageWeight.Weight must be a positive number"));
    }
    if !p["Dimensions"].is_null() {
        one_of(p, "Dimensions/UnitOfMeasurement/Code", &["IN", "CM"])?;
        require(p, "Dimensions", &["Length", "Width", "Height"])?;
    }
    Ok(())
}

/// Required fields of a RateRequest.
fn check_rate(v: &Value, shop: bool) -> Checked<()> {
    let s = "RateRequest/Shipment";
    check_address(v, &format!("{s}/Shipper/Address"))?;
    check_address(v, &format!("{s}/ShipTo/Address"))?;
    if !at(v, &format!("{s}/ShipmentRatingOptions/NegotiatedRatesIndicator")).is_null() {
        require(v, s, &["Shipper/ShipperNumber"])?;
    }
    if !shop {
        require(v, s, &["Service/Code"])?;
    }
    for p in array(v, &format!("{s}/Package"))? {
        check_package(p, "PackagingType")?;
    }
    Ok(())
}

/// Required fields of a ShipmentRequest.
fn check_ship(v: &Value) -> Checked<()> {
    one_of(v, "ShipmentRequest/Request/RequestOption", &["nonvalidate", "validate"])?;
    let s = "ShipmentRequest/Shipment";
    require(v, s, &["Shipper/Name", "Shipper/ShipperNumber", "ShipTo/Name", "Service/Code"])?;
    check_address(v, &format!("{s}/Shipper/Address"))?;
    check_address(v, &format!("{s}/ShipTo/Address"))?;
    for c in array(v, &format!("{s}/PaymentInformation/ShipmentCharge"))? {
        require(c, "", &["Type"])?;
        if c["BillShipper"].is_null() && c["BillReceiver"].is_null() && c["BillThirdParty"].is_null() {
            return Err(bad(
                400,
                MISSING_FIELD,
                "ShipmentCharge needs BillShipper, BillReceiver or BillThirdParty",
            ));
        }
    }
    for p in array(v, &format!("{s}/Package"))? {
        // Rating's name for the element; Shipping wants "Packaging".
        if !p["PackagingType"].is_null() {
            return Err(bad(
                400,
                MISSING_FIELD,
                "Package.PackagingType is not a Shipping field; use Package.Packaging",
            ));
        }
        check_package(p, "Packaging")?;
    }
    one_of(
        v,
        "ShipmentRequest/LabelSpecification/LabelImageFormat/Code",
        &["GIF", "ZPL", "EPL", "SPL"],
    )?;
    check_customs(v)
}

/// Customs on a ShipmentRequest that crosses a border: the goods
/// description, the commercial invoice form with its products, and for US
/// exports the EEI filing option with an ITN (code A) or an exemption legend (code B).
fn check_customs(v: &Value) -> Checked<()> {
    let s = "ShipmentRequest/Shipment";
    let country = |who: &str| at(v, &format!("{s}/{who}/Address/CountryCode")).as_str().unwrap_or("").to_string();
    let (from, to) = (country("Shipper"), country("ShipTo"));
    if !crate::customs::crosses_border(&from, &to) {
        return Ok(());
    }
    require(v, s, &["Description"])?;
    let f = format!("{s}/ShipmentServiceOptions/InternationalForms");
    if !at(v, &f).is_object() {
        return Err(bad(
            400,
            MISSING_FIELD,
            "InternationalForms is required for an international shipment",
        ));
    }
    let types = array(v, &format!("{f}/FormType"))?;
    if !types.iter().any(|t| t == "01") {
        return Err(bad(400, MISSING_FIELD, "InternationalForms.FormType must include 01 (Invoice)"));
    }
    require(v, &f, &["InvoiceDate", "ReasonForExport", "CurrencyCode", "Contacts/SoldTo/Name"])?;
    check_address(v, &format!("{f}/Contacts/SoldTo/Address"))?;
    let date = at(v, &format!("{f}/InvoiceDate")).as_str().unwrap_or("");
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(400, MISSING_FIELD, "InternationalForms.InvoiceDate must be yyyyMMdd"));
    }
    for p in array(v, &format!("{f}/Product"))? {
        let lines = p["Description"].as_array().map(Vec::as_slice).unwrap_or_default();
        let ok = (1..=3).contains(&lines.len())
            && lines
                .iter()
                .all(|l| l.as_str().is_some_and(|l| !l.trim().is_empty() && l.chars().count() <= 35));
        if !ok {
            return Err(bad(
                400,
                MISSING_FIELD,
                "Product.Description must be 1 to 3 lines of at most 35 characters",
            ));
        }
        require(
            p,
            "",
            &["Unit/Number", "Unit/Value", "Unit/UnitOfMeasurement/Code", "OriginCountryCode"],
        )?;
    }
    if matches!(from.as_str(), "US" | "PR") {
        let eei = format!("{f}/EEIFilingOption");
        require(v, &eei, &["Code", "ShipperFiled/Code"])?;
        match at(v, &format!("{eei}/ShipperFiled/Code")).as_str() {
            Some("A") => {
                let itn = at(v, &format!("{eei}/ShipperFiled/PreDepartureITNNumber")).as_str().unwrap_or("");
                if itn.parse::<crate::customs::Itn>().map(|i| i.as_str() == itn).unwrap_or(false) {
                    Ok(())
                } else {
                    Err(bad(
                        400,
                        MISSING_FIELD,
                        "EEIFilingOption.ShipperFiled.PreDepartureITNNumber must be an ITN",
                    ))
                }
            }
            Some("B") => require(v, &eei, &["ShipperFiled/ExemptionLegend"]),
            _ => Err(bad(400, MISSING_FIELD, "EEIFilingOption.ShipperFiled.Code must be A, B or C")),
        }?;
    }
    Ok(())
}

async fn token(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let credentials = header(&req, "authorization")
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let client_id = match credentials.as_deref().and_then(|c| c.split_once(':')) {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => id.to_string(),
        _ => return reject(401, "10400", "Invalid/Missing Authorization Header"),
    };
    if !header(&req, "content-type").starts_with("application/x-www-form-urlencoded") {
        return reject(400, "10400", "Content-Type must be application/x-www-form-urlencoded");
    }
    let form = String::from_utf8_lossy(&body);
    if !form.split('&').any(|kv| kv == "grant_type=client_credentials") {
        return reject(400, "10400", "grant_type must be client_credentials");
    }
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    HttpResponse::Ok().content_type("application/json").body(
        json!({
            "token_type": "Bearer",
            "issued_at": issued_at.to_string(),
            "client_id": client_id,
            "access_token": state.issue_token(),
            "scope": "",
            "expires_in": "14399",
            "refresh_count": "0",
            "status": "approved",
        })
        .to_string(),
    )
}

async fn rating(state: web::Data<MockState>, req: HttpRequest, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let (version, option) = path.into_inner();
    if let Err(r) = gate(&state, &req, Some(&version)) {
        return *r;
    }
    let shop = match option.as_str() {
        "Shop" | "Shoptimeintransit" => true,
        "Rate" | "Ratetimeintransit" => false,
        other => return reject(400, MISSING_FIELD, &format!("Invalid request option {other}")),
    };
    let v = match json_body(&req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = check_rate(&v, shop) {
        return *r;
    }
    if at(&v, "RateRequest/Shipment/ShipTo/Address/PostalCode").as_str() == Some("00000") {
        return fixture(&state, 400, "rate_error.json");
    }
    let with_transit = option.ends_with("timeintransit") || req.query_string().contains("additionalinfo=timeintransit");
    let text = state.fixture("rate_shop.json");
    if shop && with_transit {
        // Every service with its time in transit: the fixture as it is.
        return HttpResponse::Ok().content_type("application/json").body(text);
    }
    let mut answer: Value = match serde_json::from_str(&text) {
        Ok(a) => a,
        Err(e) => return reject(500, "500", &format!("bad fixture: {e}")),
    };
    if let Some(rated) = answer["RateResponse"]["RatedShipment"].as_array_mut() {
        if !shop {
            let code = at(&v, "RateRequest/Shipment/Service/Code").clone();
            rated.retain(|r| r["Service"]["Code"] == code);
            if rated.is_empty() {
                return reject(
                    400,
                    "111210",
                    "The requested service is unavailable between the selected locations.",
                );
            }
        }
        if !with_transit {
            for r in rated.iter_mut() {
                if let Some(o) = r.as_object_mut() {
                    o.remove("TimeInTransit");
                }
            }
        }
    }
    // `to_vec` writes straight to bytes; `Display` goes through the formatter per token.
    HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_vec(&answer).unwrap_or_default())
}

async fn ship(state: web::Data<MockState>, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if let Err(r) = gate(&state, &req, Some(&path.into_inner())) {
        return *r;
    }
    let v = match json_body(&req, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = check_ship(&v) {
        return *r;
    }
    // GIF labels come from their own fixture; ZPL, EPL and SPL all get the ZPL one.
    match at(&v, "ShipmentRequest/LabelSpecification/LabelImageFormat/Code").as_str() {
        Some("GIF") => fixture(&state, 200, "ship_gif.json"),
        _ => fixture(&state, 200, "ship.json"),
    }
}

async fn void(state: web::Data<MockState>, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    record(&state, &req, &[]);
    let (version, id) = path.into_inner();
    if let Err(r) = gate(&state, &req, Some(&version)) {
        return *r;
    }
    if id.starts_with("1Z") && id.len() == 18 {
        fixture(&state, 200, "void.json")
    } else {
        fixture(&state, 400, "void_error.json")
    }
}

async fn track(state: web::Data<MockState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Err(r) = gate(&state, &req, None) {
        return *r;
    }
    let trans_id = header(&req, "transid");
    if trans_id.is_empty() || trans_id.len() > 32 {
        return reject(400, MISSING_HEADER, "Missing or invalid transId header");
    }
    if header(&req, "transactionsrc").is_empty() {
        return reject(400, MISSING_HEADER, "Missing transactionSrc header");
    }
    let number = path.into_inner();
    if !(7..=34).contains(&number.len()) {
        return reject(400, MISSING_FIELD, "Invalid inquiry number");
    }
    if number.starts_with("1Z") {
        fixture(&state, 200, "track.json")
    } else {
        fixture(&state, 404, "track_not_found.json")
    }
}
