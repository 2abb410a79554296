//! Canada Post mock: Get Rates, contract Create/Get/Void Shipment, refund, label
//! artifacts and Get Tracking Details on their real paths. It checks Basic auth
//! (`mock-user` / `mock-pass`), the versioned media types, the XML namespaces and
//! the required elements, answers errors in Canada Post's `<messages>` shape, and
//! keeps the status of the shipments it created so void takes the right path.
//! US and international shipments must carry `customs` and a non-delivery option;
//! the message codes of those checks (`91xx`) are the mock's own.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;

use super::{record, MockCarrier, MockState};
use crate::connectors::carriers::canadapost::{parse_xml, XmlNode, RATE_MEDIA, RATE_NS, SHIPMENT_MEDIA, SHIPMENT_NS, TRACK_MEDIA};

const MESSAGES: &str = "http://www.canadapost.ca/ws/messages";

/// Shipment id → status (`created` or `transmitted`), shared by every mock instance;
/// ids are unique per process so parallel tests do not collide.
fn shipments() -> &'static Mutex<BTreeMap<String, String>> {
    static SHIPMENTS: OnceLock<Mutex<BTreeMap<String, String>>> = OnceLock::new();
    SHIPMENTS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn messages_xml(ns: &str, code: &str, description: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<messages xmlns=\"{ns}\">\n  <message>\n    <code>{}</code>\n    <description>{}</description>\n  </message>\n</messages>\n",
        escape(code),
        escape(description)
    )
}

fn reject(status: u16, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("application/xml")
        .body(messages_xml(MESSAGES, code, description))
}

fn fault_body(status: u16) -> (&'static str, String) {
    let (code, text) = match status {
        401 => ("E002", "AAA Authentication Failure"),
        403 => ("E003", "AAA Authorization Failure"),
        429 => ("Server", "Too many requests: rate limit exceeded"),
        503 => ("Server", "Service temporarily unavailable"),
        _ => ("Server", "Internal server error"),
    };
    ("application/xml", messages_xml(MESSAGES, code, text))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Auth, `Accept` (exact versioned type, never `*/*`), `Accept-language`, and for
/// POSTs `Content-Type`: the first problem as Canada Post's error response.
fn check_headers(req: &HttpRequest, accept: &[&str], body_media: Option<&str>) -> Option<HttpResponse> {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("mock-user:mock-pass"));
    if header(req, "authorization") != expected {
        return Some(reject(401, "E002", "AAA Authentication Failure"));
    }
    let got = header(req, "accept").trim();
    if !accept.contains(&got) {
        return Some(reject(406, "Server", &format!("Unsupported media type in Accept: {got:?}")));
    }
    if !matches!(header(req, "accept-language"), "en-CA" | "fr-CA") {
        return Some(reject(400, "Server", "Accept-language must be en-CA or fr-CA"));
    }
    if let Some(media) = body_media {
        if header(req, "content-type").split(';').next().map(str::trim) != Some(media) {
            return Some(reject(415, "Server", &format!("Content-Type must be {media}")));
        }
    }
    None
}

/// The request document, checked to be `root` in namespace `ns`.
fn document(body: &[u8], root: &str, ns: &str) -> Result<XmlNode, Box<HttpResponse>> {
    let doc = parse_xml(body).map_err(|e| {
        Box::new(reject(
            400,
            "Server",
            &format!("cvc-elt.1: the request is not well-formed XML: {e}"),
        ))
    })?;
    if doc.name != root || doc.ns != ns {
        let message = format!("cvc-elt.1: Cannot find the declaration of element '{}'.", doc.name);
        return Err(Box::new(reject(400, "Server", &message)));
    }
    Ok(doc)
}

/// The first of `paths` (each a `/`-separated child path) that is missing or empty.
fn missing(doc: &XmlNode, paths: &[&str]) -> Option<HttpResponse> {
    paths
        .iter()
        .find(|p| doc.text_at(&p.split('/').collect::<Vec<_>>()).is_none())
        .map(|p| {
            let element = p.rsplit('/').next().unwrap_or(p);
            reject(
                400,
                "Server",
                &format!(
                    "cvc-complex-type.2.4.b: The content of element is not complete. One of '{{\"{}\":{element}}}' is expected.",
                    doc.ns
                ),
            )
        })
}

fn xml(status: u16, media: &str, body: String) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type(media.to_string())
        .body(body)
}

async fn rate(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if let Some(r) = check_headers(&req, &[RATE_MEDIA], Some(RATE_MEDIA)) {
        return r;
    }
    let doc = match document(&body, "mailing-scenario", RATE_NS) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    if let Some(r) = missing(&doc, &["parcel-characteristics/weight", "origin-postal-code"]) {
        return r;
    }
    let destination = doc.child("destination");
    let dest_ok = destination.is_some_and(|d| {
        d.text_at(&["domestic", "postal-code"]).is_some()
            || d.text_at(&["united-states", "zip-code"]).is_some()
            || d.text_at(&["international", "country-code"]).is_some()
    });
    if !dest_ok {
        return reject(
            400,
            "Server",
            "cvc-complex-type.2.4.b: destination needs domestic, united-states or international.",
        );
    }
    xml(200, RATE_MEDIA, state.fixture("rates.xml"))
}

/// A shipment to the US or abroad needs a non-delivery option and `customs`
/// with currency (and `conversion-from-cad` unless CAD), a 3-letter reason and
/// complete `sku-list/item`s with a dotted HS code.
fn check_customs(doc: &XmlNode) -> Option<HttpResponse> {
    let spec = "delivery-spec";
    if doc.text_at(&[spec, "destination", "address-details", "country-code"]) == Some("CA") {
        return None;
    }
    let options: Vec<&str> = doc
        .at(&[spec, "options"])
        .map(|o| o.all("option").filter_map(|x| x.text_at(&["option-code"])).collect())
        .unwrap_or_default();
    if !options.iter().any(|o| matches!(*o, "RASE" | "RTS" | "ABAN")) {
        return Some(reject(
            400,
            "9111",
            "A non-delivery handling option (RASE, RTS or ABAN) is required for US and international shipments.",
        ));
    }
    let customs = [spec, "customs"];
    if doc.at(&customs).is_none() {
        return Some(reject(
            400,
            "9101",
            "Customs information is required for US and international shipments.",
        ));
    }
    let c = |p: &str| format!("{spec}/customs/{p}");
    if let Some(r) = missing(doc, &[c("currency").as_str(), c("reason-for-export").as_str()]) {
        return Some(r);
    }
    let currency = doc.text_at(&[spec, "customs", "currency"]).unwrap_or("");
    if currency != "CAD" && doc.text_at(&[spec, "customs", "conversion-from-cad"]).is_none() {
        return Some(reject(
            400,
            "9131",
            "conversion-from-cad is required when the customs currency is not CAD.",
        ));
    }
    let reason = doc.text_at(&[spec, "customs", "reason-for-export"]).unwrap_or("");
    if !matches!(reason, "DOC" | "SAM" | "REP" | "SOG" | "OTH") {
        return Some(reject(
            400,
            "Server",
            "cvc-enumeration-valid: reason-for-export must be DOC, SAM, REP, SOG or OTH.",
        ));
    }
    if reason == "OTH" && doc.text_at(&[spec, "customs", "other-reason"]).is_none() {
        return Some(reject(400, "9132", "other-reason is required when reason-for-export is OTH."));
    }
    let items: Vec<&XmlNode> = doc
        .at(&[spec, "customs", "sku-list"])
        .map(|l| l.all("item").collect())
        .unwrap_or_default();
    if items.is_empty() {
        return Some(reject(400, "9102", "At least one customs sku-list item is required."));
    }
    for item in items {
        if let Some(r) = missing(
            item,
            &[
                "customs-number-of-units",
                "customs-description",
                "unit-weight",
                "customs-value-per-unit",
            ],
        ) {
            return Some(r);
        }
        if item.text_at(&["customs-description"]).is_some_and(|d| d.chars().count() > 45) {
            return Some(reject(400, "Server", "cvc-maxLength-valid: customs-description is longer than 45."));
        }
        if let Some(hs) = item.text_at(&["hs-tariff-code"]) {
            let groups: Vec<&str> = hs.split('.').collect();
            let ok = groups[0].len() == 4
                && groups.len() <= 4
                && groups[1..].iter().all(|g| g.len() == 2)
                && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Some(reject(
                    400,
                    "Server",
                    &format!("cvc-pattern-valid: hs-tariff-code {hs:?} does not match dddd.dd.dd.dd."),
                ));
            }
        }
    }
    None
}

fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn shipment_info(state: &MockState, req: &HttpRequest, mailed_by: &str, mobo: &str, id: &str, status: &str, encoding: &str) -> String {
    let label_media = if encoding == "ZPL" { "application/zpl" } else { "application/pdf" };
    state
        .fixture("shipment.xml")
        .replace("{{BASE}}", &base_url(req))
        .replace("{{MAILED_BY}}", mailed_by)
        .replace("{{MOBO}}", mobo)
        .replace("{{SHIPMENT_ID}}", id)
        .replace("{{ARTIFACT_ID}}", &format!("{id}{}", if encoding == "ZPL" { "z" } else { "p" }))
        .replace("{{STATUS}}", status)
        .replace("{{LABEL_MEDIA}}", label_media)
}

async fn create_shipment(
    state: web::Data<MockState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    record(&state, &req, &body);
    if let Some(r) = check_headers(&req, &[SHIPMENT_MEDIA], Some(SHIPMENT_MEDIA)) {
        return r;
    }
    let (mailed_by, mobo) = path.into_inner();
    let doc = match document(&body, "shipment", SHIPMENT_NS) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let transmit = doc.child("transmit-shipment").is_some();
    if transmit == doc.text_at(&["group-id"]).is_some() {
        return reject(
            400,
            "Server",
            "cvc-complex-type.2.4.a: exactly one of group-id or transmit-shipment is expected.",
        );
    }
    let spec = "delivery-spec";
    let required = [
        "service-code",
        "sender/company",
        "sender/contact-phone",
        "sender/address-details/address-line-1",
        "sender/address-details/city",
        "sender/address-details/country-code",
        "destination/name",
        "destination/address-details/address-line-1",
        "destination/address-details/city",
        "destination/address-details/country-code",
        "destination/address-details/postal-zip-code",
        "parcel-characteristics/weight",
        "settlement-info/intended-method-of-payment",
    ]
    .map(|p| format!("{spec}/{p}"));
    if let Some(r) = missing(&doc, &required.iter().map(String::as_str).collect::<Vec<_>>()) {
        return r;
    }
    if doc.at(&[spec, "preferences"]).is_none() {
        return reject(
            400,
            "Server",
            "cvc-complex-type.2.4.b: One of '{\"http://www.canadapost.ca/ws/shipment-v8\":preferences}' is expected.",
        );
    }
    if let Some(r) = check_customs(&doc) {
        return r;
    }
    let paid_by = doc.text_at(&[spec, "settlement-info", "paid-by-customer"]).unwrap_or(&mailed_by);
    if paid_by != mailed_by || mobo != mailed_by {
        return xml(403, "application/xml", state.fixture("error_mobo.xml"));
    }
    let encoding = doc.text_at(&[spec, "print-preferences", "encoding"]).unwrap_or("PDF").to_string();
    let id = format!("3405313091865{:05}", NEXT_ID.fetch_add(1, Ordering::Relaxed) % 100_000);
    let status = if transmit { "transmitted" } else { "created" };
    if let Ok(mut s) = shipments().lock() {
        s.insert(id.clone(), status.to_string());
    }
    xml(
        200,
        SHIPMENT_MEDIA,
        shipment_info(&state, &req, &mailed_by, &mobo, &id, status, &encoding),
    )
}

fn status_of(id: &str) -> Option<String> {
    shipments().lock().ok().and_then(|s| s.get(id).cloned())
}

/// Unknown or already voided shipments: 404 with an empty `<messages/>` (as Canada Post does).
fn not_found() -> HttpResponse {
    xml(
        404,
        "application/xml",
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<messages xmlns=\"{MESSAGES}\"/>\n"),
    )
}

async fn get_shipment(state: web::Data<MockState>, req: HttpRequest, path: web::Path<(String, String, String)>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Some(r) = check_headers(&req, &[SHIPMENT_MEDIA], None) {
        return r;
    }
    let (mailed_by, mobo, id) = path.into_inner();
    match status_of(&id) {
        Some(status) => xml(
            200,
            SHIPMENT_MEDIA,
            shipment_info(&state, &req, &mailed_by, &mobo, &id, &status, "PDF"),
        ),
        None => not_found(),
    }
}

async fn void_shipment(state: web::Data<MockState>, req: HttpRequest, path: web::Path<(String, String, String)>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Some(r) = check_headers(&req, &[SHIPMENT_MEDIA], None) {
        return r;
    }
    let id = path.into_inner().2;
    match status_of(&id).as_deref() {
        Some("created") => {
            if let Ok(mut s) = shipments().lock() {
                s.remove(&id);
            }
            HttpResponse::NoContent().finish()
        }
        Some(_) => reject(
            400,
            "Server",
            "The shipment has been transmitted and can no longer be voided; request a refund.",
        ),
        None => not_found(),
    }
}

async fn refund(
    state: web::Data<MockState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    record(&state, &req, &body);
    if let Some(r) = check_headers(&req, &[SHIPMENT_MEDIA], Some(SHIPMENT_MEDIA)) {
        return r;
    }
    let id = path.into_inner().2;
    let doc = match document(&body, "shipment-refund-request", SHIPMENT_NS) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    if let Some(r) = missing(&doc, &["email"]) {
        return r;
    }
    match status_of(&id).as_deref() {
        Some("transmitted") => {
            if let Ok(mut s) = shipments().lock() {
                s.insert(id, "refund-requested".into());
            }
            xml(200, SHIPMENT_MEDIA, state.fixture("refund.xml"))
        }
        Some(_) => reject(400, "Server", "A refund can only be requested for a transmitted shipment."),
        None => not_found(),
    }
}

async fn artifact(state: web::Data<MockState>, req: HttpRequest, path: web::Path<(String, String, String)>) -> HttpResponse {
    record(&state, &req, &[]);
    let (_, artifact_id, _) = path.into_inner();
    let (media, file) = if artifact_id.ends_with('z') {
        ("application/zpl", "label.zpl")
    } else {
        ("application/pdf", "label.pdf")
    };
    if let Some(r) = check_headers(&req, &[media], None) {
        return r;
    }
    if status_of(artifact_id.trim_end_matches(['p', 'z'])).is_none() {
        return not_found();
    }
    HttpResponse::Ok().content_type(media).body(state.fixture(file).into_bytes())
}

async fn track(state: web::Data<MockState>, req: HttpRequest, pin: web::Path<String>) -> HttpResponse {
    record(&state, &req, &[]);
    if let Some(r) = check_headers(&req, &[TRACK_MEDIA], None) {
        return r;
    }
    let detail = state.fixture("tracking.xml");
    if detail.contains(&format!("<pin>{pin}</pin>")) {
        xml(200, TRACK_MEDIA, detail)
    } else {
        xml(404, "application/xml", state.fixture("tracking_no_history.xml"))
    }
}

/// The Canada Post mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "canadapost",
        routes: |cfg| {
            cfg.route("/rs/ship/price", web::post().to(rate))
                .route("/rs/artifact/{key}/{artifact}/{page}", web::get().to(artifact))
                .route("/rs/{mailed_by}/{mobo}/shipment", web::post().to(create_shipment))
                .route("/rs/{mailed_by}/{mobo}/shipment/{id}", web::get().to(get_shipment))
                .route("/rs/{mailed_by}/{mobo}/shipment/{id}", web::delete().to(void_shipment))
                .route("/rs/{mailed_by}/{mobo}/shipment/{id}/refund", web::post().to(refund))
                .route("/vis/track/pin/{pin}/detail", web::get().to(track));
        },
        fault_body,
    }
}
