//! USPS adapter for the v3 REST APIs ("USPS APIs"; Web Tools is retired).
//!
//! * OAuth2 client credentials at `POST /oauth2/v3/token` (account `key`/`secret`).
//! * Rates: Shipping Options `POST /shipments/v3/options/search` with `mailClass: ALL_OUTBOUND`,
//!   one call per package (all eligible mail classes, with delivery commitments).
//! * Labels: a payment authorization token from `POST /payments/v3/payment-authorization`
//!   (cached), then `POST /labels/v3/label` per package with `X-Payment-Authorization-Token`;
//!   the answer is `multipart/form-data` (JSON metadata + base64 label image).
//!   Labels to another country go to International Labels
//!   (`POST /international-labels/v3/international-label`, one package) with the customs
//!   declaration as `customsForm` (CN22/CN23: line totals in USD and pounds, `AESITN`).
//! * Void: `DELETE /labels/v3/label/{trackingNumber}` per package
//!   (`/international-labels/v3/international-label/{trackingNumber}` for international classes).
//! * Tracking: `GET /tracking/v3/tracking/{number}?expand=DETAIL`.
//!
//! Account settings: `account_number` is the EPS (or permit) account; `extra` holds
//! `crid`, `mid`, optional `manifest_mid` (default: `mid`), `account_type` (default `EPS`),
//! `permit_zip` (PERMIT accounts) and `price_type` (default `COMMERCIAL`).
//! USPS gives new apps about 60 requests per hour, so every operation makes as few calls as it can.
//!
//! JSON numbers are read through [`lossless_json`], which turns every number into its literal
//! text so amounts become exact [`Decimal`]s without passing through `f64`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::json::{quoted, Json};
use tokio::sync::Mutex;

use super::{
    Address, CarrierAccount, CarrierError, CarrierHttp, Charge, Label, LabelFormat, LabelRequest, LengthUnit, Money, Package, Rate, Reply,
    Shipment, TokenSource, Tracking, TrackingEvent, TrackingStatus, WeightUnit,
};
use crate::customs::{round, ContentsType, CountryCode, Declaration, DutiesPayer, NonDelivery, Restriction, TaxId, TaxIdKind};
use crate::model::{Date, Decimal};

const CARRIER: &str = "usps";
/// Media type asked for on label calls (the API's default multipart answer).
pub const LABEL_ACCEPT: &str = "multipart/form-data";
/// Payment authorization tokens are reused for this long (USPS does not publish a lifetime).
const PAYMENT_TOKEN_TTL: Duration = Duration::from_secs(50 * 60);

/// USPS.
pub struct Usps {
    account: CarrierAccount,
    http: CarrierHttp,
    token: TokenSource,
    payment: Mutex<Option<(String, Instant)>>,
}

impl Usps {
    /// The adapter for one account.
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        let url = format!("{}/oauth2/v3/token", account.base().unwrap_or_default());
        let body = token_request_body(
            account.key.as_deref().unwrap_or_default(),
            account.secret.as_deref().unwrap_or_default(),
        );
        let token = TokenSource::new(move |c| {
            c.post(url.as_str())
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .body(body.to_string())
        });
        Self {
            account: account.clone(),
            http,
            token,
            payment: Mutex::new(None),
        }
    }

    fn url(&self, path: &str) -> Result<String, CarrierError> {
        self.account.need("key", &self.account.key)?;
        self.account.need("secret", &self.account.secret)?;
        Ok(format!("{}{path}", self.account.base()?))
    }

    /// Rates for every eligible mail class (summed over the packages).
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        if s.packages.is_empty() {
            return Err(CarrierError::Invalid("shipment has no packages".into()));
        }
        let url = self.url("/shipments/v3/options/search")?;
        let mut per_package = Vec::with_capacity(s.packages.len());
        for p in &s.packages {
            let body = build_options_request(s, p, &self.account)?.to_string();
            let r = self.post_json(&url, body).await?;
            per_package.push(parse_rates(&ok_body(r)?)?);
        }
        Ok(combine_rates(per_package))
    }

    /// An authenticated JSON POST that buys nothing, so it may be retried.
    async fn post_json(&self, url: &str, body: String) -> Result<Reply, CarrierError> {
        self.http
            .send(
                |c| {
                    c.post(url)
                        .header("accept", "application/json")
                        .header("content-type", "application/json")
                        .body(body.clone())
                },
                Some(&self.token),
                true,
            )
            .await
    }

    /// The cached payment authorization token, or a fresh one.
    async fn payment_token(&self) -> Result<String, CarrierError> {
        let mut cached = self.payment.lock().await;
        if let Some((t, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let url = self.url("/payments/v3/payment-authorization")?;
        let body = build_payment_authorization(&self.account)?.to_string();
        // Issuing a payment token buys nothing, so it may be retried.
        let r = self.post_json(&url, body).await?;
        let reply = quoted(&ok_body(r)?);
        let v = lossless_json(&reply)?;
        let t = str_at(&v, "paymentAuthorizationToken")
            .ok_or_else(|| CarrierError::Parse("payment authorization without paymentAuthorizationToken".into()))?
            .to_string();
        *cached = Some((t.clone(), Instant::now() + PAYMENT_TOKEN_TTL));
        Ok(t)
    }

    async fn forget_payment_token(&self) {
        *self.payment.lock().await = None;
    }

    /// Buys one label per package.
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        if r.shipment.packages.is_empty() {
            return Err(CarrierError::Invalid("shipment has no packages".into()));
        }
        let url = self.url(label_path(&r.shipment))?;
        let bodies = r
            .shipment
            .packages
            .iter()
            .map(|p| build_label_request(r, p).map(|b| b.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut bought: Vec<Label> = Vec::new();
        for body in bodies {
            match self.ship_one(&url, body, r).await {
                Ok(l) => bought.push(l),
                Err(e) => {
                    // Best effort: do not leave earlier packages of this shipment paid for.
                    for l in &bought {
                        let _ = self.void(l).await;
                    }
                    return Err(e);
                }
            }
        }
        let mut labels = bought.into_iter();
        let mut out = labels.next().ok_or_else(|| CarrierError::Parse("no label".into()))?;
        for l in labels {
            out.tracking_numbers.extend(l.tracking_numbers);
            out.labels.extend(l.labels);
            out.charges.amount = out.charges.amount + l.charges.amount;
        }
        Ok(out)
    }

    async fn ship_one(&self, url: &str, body: String, r: &LabelRequest) -> Result<Label, CarrierError> {
        let payment = self.payment_token().await?;
        let reply = self
            .http
            .send(
                |c| {
                    c.post(url)
                        .header("accept", LABEL_ACCEPT)
                        .header("content-type", "application/json")
                        .header("x-payment-authorization-token", payment.as_str())
                        .body(body.clone())
                },
                Some(&self.token),
                false,
            )
            .await?;
        if reply.status.as_u16() == 403 {
            // Most likely an expired or revoked payment token: fetch a new one next time.
            self.forget_payment_token().await;
        }
        let ct = reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = ok_body(reply)?;
        parse_label(&ct, &body, &r.service_code, r.label_format)
    }

    /// Cancels (refunds) every label of the shipment.
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        if label.tracking_numbers.is_empty() {
            return Err(CarrierError::Invalid("label has no tracking number".into()));
        }
        // International labels are cancelled on their own API.
        let base = if is_international_class(&label.service_code) {
            INTERNATIONAL_LABEL_PATH
        } else {
            "/labels/v3/label"
        };
        for n in &label.tracking_numbers {
            let url = self.url(&format!("{base}/{}", path_segment(n)?))?;
            let payment = self.payment_token().await?;
            let r = self
                .http
                .send(
                    |c| {
                        c.delete(url.as_str())
                            .header("accept", "application/json")
                            .header("x-payment-authorization-token", payment.as_str())
                    },
                    Some(&self.token),
                    true,
                )
                .await?;
            if r.status.as_u16() == 403 {
                self.forget_payment_token().await;
            }
            parse_cancel(&ok_body(r)?)?;
        }
        Ok(())
    }

    /// Tracking with every event.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        let url = self.url(&format!("/tracking/v3/tracking/{}?expand=DETAIL", path_segment(number)?))?;
        let r = self
            .http
            .send(
                |c| c.get(url.as_str()).header("accept", "application/json"),
                Some(&self.token),
                true,
            )
            .await?;
        parse_tracking(&ok_body(r)?)
    }
}

/// The OAuth client-credentials request body (JSON, as in USPS's own examples).
pub fn token_request_body(client_id: &str, client_secret: &str) -> Value {
    json!({ "client_id": client_id, "client_secret": client_secret, "grant_type": "client_credentials" })
}

fn path_segment(n: &str) -> Result<&str, CarrierError> {
    let n = n.trim();
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CarrierError::Invalid(format!("not a USPS tracking number: {n:?}")));
    }
    Ok(n)
}

/// The body of a 2xx reply, or the typed error for anything else.
fn ok_body(r: Reply) -> Result<bytes::Bytes, CarrierError> {
    if r.status.is_success() {
        Ok(r.body)
    } else {
        Err(error_for(r.status.as_u16(), &r.body))
    }
}

/// Maps a non-2xx answer: USPS's `ErrorMessage` becomes `Rejected` (or `Auth` for 403);
/// 401, 429 and 5xx keep their framework meaning.
pub fn error_for(status: u16, body: &[u8]) -> CarrierError {
    match (status, parse_error(body)) {
        (401 | 429 | 500..=599, _) | (_, None) => CarrierError::from_status(status, body),
        (403, Some((code, message))) => CarrierError::Auth(format!("HTTP 403: {code}: {message}")),
        (_, Some((code, message))) => CarrierError::Rejected {
            carrier: CARRIER,
            code,
            message,
        },
    }
}

/// `(code, message)` from USPS's error body: the first detailed error when there is one.
pub fn parse_error(body: &[u8]) -> Option<(String, String)> {
    let reply = quoted(body);
    let v = Json::parse(&reply).ok()?;
    let e = v.get("error")?;
    let first = e.get("errors").and_then(Json::as_array).and_then(|a| a.first());
    // A numeric code arrives as its text.
    let code = first
        .and_then(|f| str_at(f, "code"))
        .or_else(|| str_at(e, "code"))
        .map(str::to_string)
        .unwrap_or_default();
    let message = first
        .and_then(|f| str_at(f, "detail").or_else(|| str_at(f, "title")))
        .or_else(|| str_at(e, "message"))
        .unwrap_or_default()
        .to_string();
    (!code.is_empty() || !message.is_empty()).then_some((code, message))
}

// ---------------------------------------------------------------- JSON helpers

/// Parses a reply's [`quoted`] text: every number is a string of its literal text,
/// so that amounts can be read exactly with [`Decimal::from_str`].
pub fn lossless_json(text: &[u8]) -> Result<Json<'_>, CarrierError> {
    Json::parse(text).map_err(|e| CarrierError::Parse(format!("json: {e}")))
}

fn str_at<'a>(v: &'a Json<'_>, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str).filter(|s| !s.is_empty())
}

fn arr<'a, 'b>(v: &'a Json<'b>, key: &str) -> &'a [Json<'b>] {
    v.get(key).and_then(Json::as_array).unwrap_or(&[])
}

/// An exact decimal from a number read by [`lossless_json`] (or a numeric string).
fn dec_at(v: &Json<'_>, key: &str) -> Option<Decimal> {
    v.get(key).and_then(Json::as_str).and_then(|s| Decimal::from_str(s.trim()).ok())
}

fn bool_at(v: &Json<'_>, key: &str) -> bool {
    match v.get(key) {
        Some(Json::Bool(b)) => *b,
        Some(Json::Str(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn date_prefix(s: &str) -> Option<Date> {
    s.get(..10).and_then(|d| Date::from_str(d).ok())
}

fn usd(amount: Decimal) -> Money {
    Money {
        amount,
        currency: "USD".into(),
    }
}

// ---------------------------------------------------------------- request builders

fn extra<'a>(account: &'a CarrierAccount, key: &str) -> Option<&'a str> {
    account.extra.get(key).map(String::as_str).filter(|s| !s.is_empty())
}

/// The shipment's date, today (UTC) when it names none.
fn mailing_date(s: &Shipment) -> String {
    s.ship_date.unwrap_or_else(Date::today).to_string()
}

/// Rounds up to two decimals (USPS prices by the stated weight; never under-declare).
fn ceil2(d: Decimal) -> Decimal {
    let c = Decimal::from_cents(d.to_cents());
    if c < d {
        Decimal::from_cents(d.to_cents().saturating_add(1))
    } else {
        c
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

/// Weight in pounds and dimensions in inches (USPS v3 accepts nothing else).
pub fn package_lb_in(p: &Package) -> Result<(Decimal, Decimal, Decimal, Decimal), CarrierError> {
    let weight = match p.weight_unit {
        WeightUnit::Lb => p.weight,
        WeightUnit::Kg => p.weight * dec("2.20462262"),
    };
    let d = p
        .dimensions
        .as_ref()
        .ok_or_else(|| CarrierError::Invalid("USPS needs package dimensions (length, width, height)".into()))?;
    let k = match d.unit {
        LengthUnit::In => Decimal::from_int(1),
        LengthUnit::Cm => dec("0.393700787"),
    };
    let (w, l, wd, h) = (ceil2(weight), ceil2(d.length * k), ceil2(d.width * k), ceil2(d.height * k));
    if w.is_zero() || l.is_zero() || wd.is_zero() || h.is_zero() {
        return Err(CarrierError::Invalid("USPS needs a positive weight and dimensions".into()));
    }
    Ok((w, l, wd, h))
}

fn num(d: Decimal) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

/// ZIP Code and ZIP+4 from a US postal code.
fn zip_parts(a: &Address) -> Result<(String, Option<String>), CarrierError> {
    let digits: String = a.postal_code.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        5 => Ok((digits, None)),
        9 => Ok((digits[..5].to_string(), Some(digits[5..].to_string()))),
        _ => Err(CarrierError::Invalid(format!("not a US ZIP Code: {:?}", a.postal_code))),
    }
}

fn domestic(a: &Address, role: &str) -> Result<(), CarrierError> {
    if a.country.eq_ignore_ascii_case("US") {
        Ok(())
    } else {
        Err(CarrierError::Unsupported(format!(
            "USPS adapter handles domestic shipments only ({role} country {:?})",
            a.country
        )))
    }
}

/// The Shipping Options search for one package: every outbound mail class, with commitments.
pub fn build_options_request(s: &Shipment, p: &Package, account: &CarrierAccount) -> Result<Value, CarrierError> {
    domestic(&s.from, "from")?;
    domestic(&s.to, "to")?;
    let (weight, length, width, height) = package_lb_in(p)?;
    let price_type = extra(account, "price_type").unwrap_or("COMMERCIAL");
    let mut pricing = Map::new();
    pricing.insert("priceType".into(), json!(price_type));
    if let Some(n) = account.account_number.as_deref() {
        let mut pay = json!({ "accountType": extra(account, "account_type").unwrap_or("EPS"), "accountNumber": n });
        if let Some(crid) = extra(account, "crid") {
            pay["CRID"] = json!(crid);
        }
        pricing.insert("paymentAccount".into(), pay);
    }
    Ok(json!({
        "originZIPCode": zip_parts(&s.from)?.0,
        "destinationZIPCode": zip_parts(&s.to)?.0,
        "destinationEntryFacilityType": "NONE",
        "packageDescription": {
            "weight": num(weight),
            "length": num(length),
            "width": num(width),
            "height": num(height),
            "mailClass": "ALL_OUTBOUND",
            "mailingDate": mailing_date(s),
        },
        "pricingOptions": [Value::Object(pricing)],
    }))
}

/// The payment authorization request: this account pays for and owns the labels.
pub fn build_payment_authorization(account: &CarrierAccount) -> Result<Value, CarrierError> {
    let need = |k: &str| extra(account, k).ok_or_else(|| CarrierError::Invalid(format!("USPS account has no extra.{k}")));
    let (crid, mid) = (need("crid")?, need("mid")?);
    let manifest_mid = extra(account, "manifest_mid").unwrap_or(mid);
    let account_type = extra(account, "account_type").unwrap_or("EPS");
    let number = account.need("account_number", &account.account_number)?;
    let role = |name: &str| {
        let mut r = json!({
            "roleName": name, "CRID": crid, "MID": mid, "manifestMID": manifest_mid,
            "accountType": account_type, "accountNumber": number,
        });
        if let Some(z) = extra(account, "permit_zip") {
            r["permitZIP"] = json!(z);
        }
        r
    };
    Ok(json!({ "roles": [role("PAYER"), role("LABEL_OWNER")] }))
}

/// What every USPS label address has: first and last name or firm, street
/// lines, city and a phone of digits only.
fn addressee(a: &Address, role: &str) -> Result<Map<String, Value>, CarrierError> {
    let street = a
        .street
        .first()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| CarrierError::Invalid(format!("{role} address has no street")))?;
    let mut m = Map::new();
    if let Some(name) = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        let (first, last) = name.rsplit_once(' ').unwrap_or((name, ""));
        m.insert("firstName".into(), json!(first.trim()));
        if !last.is_empty() {
            m.insert("lastName".into(), json!(last));
        }
    }
    if let Some(firm) = a.company.as_deref().filter(|c| !c.trim().is_empty()) {
        m.insert("firm".into(), json!(firm));
    }
    if m.is_empty() {
        return Err(CarrierError::Invalid(format!("{role} address needs a name or a company")));
    }
    m.insert("streetAddress".into(), json!(street));
    let rest = a.street[1..].join(" ");
    if !rest.trim().is_empty() {
        m.insert("secondaryAddress".into(), json!(rest.trim()));
    }
    m.insert("city".into(), json!(a.city));
    if let Some(phone) = a.phone.as_deref() {
        // USPS wants the number without punctuation.
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            m.insert("phone".into(), json!(digits));
        }
    }
    Ok(m)
}

fn label_address(a: &Address, role: &str) -> Result<Value, CarrierError> {
    let (zip, plus4) = zip_parts(a)?;
    let state = a
        .state
        .as_deref()
        .ok_or_else(|| CarrierError::Invalid(format!("{role} address has no state")))?;
    let mut m = addressee(a, role)?;
    m.insert("state".into(), json!(state.to_ascii_uppercase()));
    m.insert("ZIPCode".into(), json!(zip));
    if let Some(p4) = plus4 {
        m.insert("ZIPPlus4".into(), json!(p4));
    }
    if let Some(email) = a.email.as_deref().filter(|e| !e.is_empty()) {
        m.insert("email".into(), json!(email));
    }
    Ok(Value::Object(m))
}

/// USPS `imageType` for a label format.
pub fn image_type(f: LabelFormat) -> &'static str {
    match f {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Zpl => "ZPL203DPI",
        LabelFormat::Png => "PNG",
    }
}

/// Path of the International Labels API.
pub const INTERNATIONAL_LABEL_PATH: &str = "/international-labels/v3/international-label";

/// US territories and freely associated states USPS serves as domestic mail
/// (addressed with a state code, not a country): never the international API.
const DOMESTIC_AREAS: &[&str] = &["US", "PR", "VI", "GU", "AS", "MP", "UM", "FM", "MH", "PW"];

/// True when the destination goes through International Labels.
fn abroad(s: &Shipment) -> bool {
    !DOMESTIC_AREAS.iter().any(|c| s.to.country.trim().eq_ignore_ascii_case(c))
}

/// The label API for a shipment: domestic, or International Labels for a foreign destination.
pub fn label_path(s: &Shipment) -> &'static str {
    if abroad(s) {
        INTERNATIONAL_LABEL_PATH
    } else {
        "/labels/v3/label"
    }
}

/// True for the international mail classes (`PRIORITY_MAIL_INTERNATIONAL` …).
pub fn is_international_class(mail_class: &str) -> bool {
    mail_class.contains("INTERNATIONAL")
}

/// The label request for one package: domestic, or an international label
/// with its customs form when the destination is abroad.
pub fn build_label_request(r: &LabelRequest, p: &Package) -> Result<Value, CarrierError> {
    let s = &r.shipment;
    if abroad(s) {
        return build_international_label_request(r, p);
    }
    domestic(&s.from, "from")?;
    domestic(&s.to, "to")?;
    let service = r.service_code.trim();
    if service.is_empty() || !service.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b == b'-') {
        return Err(CarrierError::Invalid(format!("not a USPS mail class: {:?}", r.service_code)));
    }
    Ok(json!({
        "imageInfo": {
            "imageType": image_type(r.label_format),
            "labelType": "4X6LABEL",
            "receiptOption": "NONE",
            "suppressPostage": false,
            "returnLabel": false,
        },
        "toAddress": label_address(&s.to, "to")?,
        "fromAddress": label_address(&s.from, "from")?,
        "packageDescription": package_description(service, s, p)?,
    }))
}

/// `packageDescription` of a label, domestic or international: a single piece
/// in pounds and inches, machinable, no destination entry.
fn package_description(mail_class: &str, s: &Shipment, p: &Package) -> Result<Value, CarrierError> {
    let (weight, length, width, height) = package_lb_in(p)?;
    let mut v = json!({
        "mailClass": mail_class,
        "rateIndicator": "SP",
        "weightUOM": "lb",
        "weight": num(weight),
        "dimensionsUOM": "in",
        "length": num(length),
        "width": num(width),
        "height": num(height),
        "processingCategory": "MACHINABLE",
        "mailingDate": mailing_date(s),
        "destinationEntryFacilityType": "NONE",
    });
    if let Some(reference) = p.reference.as_deref().filter(|x| !x.is_empty()) {
        let reference: String = reference.chars().take(30).collect();
        v["customerReference"] = json!([{ "referenceNumber": reference }]);
    }
    Ok(v)
}

/// Descriptions USPS refuses on a customs form, whatever the case.
const VAGUE_DESCRIPTIONS: &[&str] = &["none", "not applicable", "n/a", "null", "gift", "merchandise"];

/// `customsContentType` and, for `OTHER`, the comment that says what.
fn content_type(d: &Declaration) -> (&'static str, Option<String>) {
    match d.contents_type {
        ContentsType::Merchandise => ("MERCHANDISE", None),
        ContentsType::Gift => ("GIFT", None),
        ContentsType::Documents => ("DOCUMENT", None),
        ContentsType::Sample => ("COMMERCIAL_SAMPLE", None),
        ContentsType::ReturnedGoods => ("RETURNED_GOODS", None),
        ContentsType::DangerousGoods => ("DANGEROUS_GOODS", None),
        ContentsType::HumanitarianDonation => ("HUMANITARIAN_DONATIONS", None),
        ContentsType::Repair => ("OTHER", Some("Repair".into())),
        ContentsType::PersonalEffects => ("OTHER", Some("Personal effects".into())),
        ContentsType::Other => ("OTHER", d.contents_explanation.clone()),
    }
}

/// A `CustomsReference` from a party's first tax id.
fn customs_reference(ids: &[TaxId], importer: bool) -> Option<Value> {
    let t = ids.first()?;
    let kind = match t.kind {
        TaxIdKind::Vat | TaxIdKind::Ioss | TaxIdKind::Voec | TaxIdKind::Gst => "VAT_NUMBER",
        TaxIdKind::Eori if importer => "IMPORTER_CODE",
        _ => "TAX_CODE",
    };
    Some(json!({ "referenceType": kind, "reference": t.number.chars().take(28).collect::<String>() }))
}

/// A field that must fit USPS's limit: the error names the declaration field.
fn fits(value: &str, max: usize, field: &str) -> Result<(), CarrierError> {
    if value.chars().count() > max {
        return Err(CarrierError::Invalid(format!("{field}: USPS takes at most {max} characters")));
    }
    Ok(())
}

/// The customs form of an international label (`customsForm`): values and
/// weights are line totals in USD and pounds; `AESITN` carries the ITN or the
/// exemption legend.
pub fn customs_form(d: &Declaration) -> Result<Value, CarrierError> {
    if d.commodities.len() > 30 {
        return Err(CarrierError::Invalid(
            "shipment.customs.commodities: USPS takes at most 30 lines".into(),
        ));
    }
    let mut contents = Vec::new();
    for (i, c) in d.commodities.iter().enumerate() {
        let field = |name: &str| format!("shipment.customs.commodities[{i}].{name}");
        fits(&c.description, 30, &field("description"))?;
        if VAGUE_DESCRIPTIONS.contains(&c.description.to_ascii_lowercase().as_str()) {
            return Err(CarrierError::Invalid(format!(
                "{}: USPS refuses {:?} as a description",
                field("description"),
                c.description
            )));
        }
        if c.quantity > 9999 {
            return Err(CarrierError::Invalid(format!("{}: USPS takes at most 9999", field("quantity"))));
        }
        let value = c.line_value_usd().ok_or_else(|| {
            CarrierError::Invalid(format!(
                "{}: USPS declares values in USD; give unit_value_usd",
                field("unit_value_usd")
            ))
        })?;
        let thousandth: Decimal = dec("0.001");
        contents.push(json!({
            "itemDescription": c.description,
            "itemQuantity": c.quantity,
            "itemTotalValue": num(round(value, 2)),
            "weightUOM": "lb",
            "itemTotalWeight": num(round(c.line_weight_lb(), 3).max(thousandth)),
            "HSTariffNumber": c.hs_code.as_str(),
            "countryofOrigin": c.origin_country.as_str(),
        }));
    }
    let aes = d.export_filing.printed().ok_or_else(|| {
        CarrierError::Invalid("shipment.customs: USPS international labels are US exports and need an ITN or EEI exemption".into())
    })?;
    let (kind, comment) = content_type(d);
    let mut form = json!({ "customsContentType": kind, "AESITN": aes, "contents": contents });
    if let Some(c) = comment {
        fits(&c, 25, "shipment.customs.contents_explanation")?;
        form["contentComments"] = json!(c);
    }
    match d.restriction {
        Restriction::None => {}
        r => {
            form["restrictionType"] = json!(match r {
                Restriction::Quarantine => "QUARANTINE",
                Restriction::SanitaryInspection => "SANITARY_INSPECTION",
                _ => "OTHER",
            });
            if let Some(c) = &d.restriction_comments {
                fits(c, 25, "shipment.customs.restriction_comments")?;
                form["restrictionComments"] = json!(c);
            }
        }
    }
    for (key, value, max, name) in [
        ("invoiceNumber", &d.invoice_number, 15, "invoice_number"),
        ("licenseNumber", &d.import_licence, 16, "import_licence"),
        ("certificateNumber", &d.certificate_number, 12, "certificate_number"),
    ] {
        if let Some(v) = value {
            fits(v, max, &format!("shipment.customs.{name}"))?;
            form[key] = json!(v);
        }
    }
    if let Some(r) = customs_reference(&d.importer_tax_ids, true) {
        form["importersReference"] = r;
    }
    if let Some(r) = customs_reference(&d.exporter_tax_ids, false) {
        form["exportersReference"] = r;
    }
    Ok(form)
}

/// The destination of an international label (`InternationalLabelAddress`).
fn international_address(a: &Address, country: CountryCode) -> Result<Value, CarrierError> {
    let mut m = addressee(a, "to")?;
    if let Some(p) = a.state.as_deref().filter(|p| !p.trim().is_empty()) {
        m.insert("province".into(), json!(p));
    }
    if !a.postal_code.trim().is_empty() {
        m.insert("postalCode".into(), json!(a.postal_code.trim()));
    }
    m.insert("country".into(), json!(country.name()));
    m.insert("countryISOAlpha2Code".into(), json!(country.as_str()));
    Ok(Value::Object(m))
}

/// The International Labels request for a one-package US export.
pub fn build_international_label_request(r: &LabelRequest, p: &Package) -> Result<Value, CarrierError> {
    let s = &r.shipment;
    domestic(&s.from, "from")?;
    if s.packages.len() != 1 {
        return Err(CarrierError::Invalid(
            "USPS international labels carry one package with its own customs form: send one package per shipment".into(),
        ));
    }
    if !is_international_class(r.service_code.trim()) {
        return Err(CarrierError::Invalid(format!(
            "{:?} is not a USPS international mail class (FIRST-CLASS_PACKAGE_INTERNATIONAL_SERVICE, PRIORITY_MAIL_INTERNATIONAL, PRIORITY_MAIL_EXPRESS_INTERNATIONAL)",
            r.service_code
        )));
    }
    let image = match r.label_format {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Zpl => "ZPL203DPI",
        LabelFormat::Png => return Err(CarrierError::Invalid("USPS international labels are PDF or ZPL, not PNG".into())),
    };
    let d = super::customs_of(s, true)?
        .ok_or_else(|| CarrierError::Invalid("shipment.customs: USPS international labels need a customs declaration".into()))?;
    let mut options = json!({
        "nonDeliveryOption": match d.non_delivery { NonDelivery::Return => "RETURN", NonDelivery::Abandon => "ABANDON" },
    });
    if let Some(v) = d.total_value_usd() {
        options["packageValue"] = num(round(v, 2));
    }
    let mut description = package_description(r.service_code.trim(), s, p)?;
    description["packageOptions"] = options;
    if d.duties_payer == DutiesPayer::Sender {
        // Delivered duty paid: USPS calculates and bills duties and taxes to the shipper.
        description["prepayDutiesTaxesFees"] = json!(true);
    }
    Ok(json!({
        "imageInfo": { "imageType": image, "labelType": "4X6LABEL", "suppressPostage": false },
        "toAddress": international_address(&s.to, d.destination)?,
        "fromAddress": label_address(&s.from, "from")?,
        "packageDescription": description,
        "customsForm": customs_form(&d)?,
    }))
}

// ---------------------------------------------------------------- response parsers

/// Display name of a mail class.
pub fn service_name(mail_class: &str) -> String {
    match mail_class {
        "USPS_GROUND_ADVANTAGE" => "USPS Ground Advantage".into(),
        "PRIORITY_MAIL" => "Priority Mail".into(),
        "PRIORITY_MAIL_EXPRESS" => "Priority Mail Express".into(),
        "PARCEL_SELECT" => "Parcel Select".into(),
        "MEDIA_MAIL" => "Media Mail".into(),
        "LIBRARY_MAIL" => "Library Mail".into(),
        "BOUND_PRINTED_MATTER" => "Bound Printed Matter".into(),
        "USPS_CONNECT_LOCAL" => "USPS Connect Local".into(),
        "USPS_CONNECT_REGIONAL" => "USPS Connect Regional".into(),
        "USPS_CONNECT_MAIL" => "USPS Connect Mail".into(),
        other => other
            .split(['_', '-'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let lower = w.to_ascii_lowercase();
                let mut c = lower.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Whether a rate option is priced the way [`build_label_request`] buys (single piece, no destination entry).
fn matches_label(option: &Json<'_>) -> bool {
    arr(option, "rates").iter().all(|r| {
        str_at(r, "rateIndicator").is_none_or(|i| i == "SP") && str_at(r, "destinationEntryFacilityType").is_none_or(|f| f == "NONE")
    })
}

fn option_total(option: &Json<'_>) -> Option<Decimal> {
    dec_at(option, "totalPrice")
        .or_else(|| dec_at(option, "totalBasePrice"))
        .or_else(|| {
            let mut sum = None;
            for r in arr(option, "rates") {
                sum = Some(sum.unwrap_or_default() + dec_at(r, "price")?);
            }
            sum
        })
}

/// Rates from a Shipping Options answer: one per mail class, the cheapest option that
/// [`build_label_request`] can buy (single piece, no destination entry); options priced
/// otherwise (flat rate, destination entry) are left out, as the label would cost something else.
pub fn parse_rates(body: &[u8]) -> Result<Vec<Rate>, CarrierError> {
    let reply = quoted(body);
    let v = lossless_json(&reply)?;
    let mut out: Vec<Rate> = Vec::new();
    for pricing in arr(&v, "pricingOptions") {
        for so in arr(pricing, "shippingOptions") {
            let Some(class) = str_at(so, "mailClass") else { continue };
            let best = arr(so, "rateOptions")
                .iter()
                .filter(|o| matches_label(o))
                .filter_map(|o| Some((o, option_total(o)?)))
                .min_by(|a, b| a.1.cmp(&b.1));
            let Some((option, total)) = best else { continue };
            let rate = rate_from_option(class, option, total);
            match out.iter_mut().find(|r| r.service_code == class) {
                Some(existing) if existing.total.amount > rate.total.amount => *existing = rate,
                Some(_) => {}
                None => out.push(rate),
            }
        }
    }
    if out.is_empty() && v.get("pricingOptions").is_none() {
        return Err(CarrierError::Parse("shipping options answer without pricingOptions".into()));
    }
    out.sort_by_key(|r| r.total.amount);
    Ok(out)
}

fn rate_from_option(class: &str, option: &Json<'_>, total: Decimal) -> Rate {
    let mut breakdown = Vec::new();
    for r in arr(option, "rates") {
        if let Some(price) = dec_at(r, "price") {
            breakdown.push(Charge {
                code: str_at(r, "SKU").unwrap_or("BASE").to_string(),
                description: str_at(r, "description").map(str::to_string),
                amount: usd(price),
            });
        }
        for f in arr(r, "fees") {
            if let Some(price) = dec_at(f, "price") {
                breakdown.push(Charge {
                    code: str_at(f, "SKU").or_else(|| str_at(f, "name")).unwrap_or("FEE").to_string(),
                    description: str_at(f, "name").map(str::to_string),
                    amount: usd(price),
                });
            }
        }
    }
    // Extra services are in totalPrice only; list them only then.
    if option.get("totalPrice").is_some() {
        for e in arr(option, "extraServices") {
            if let Some(price) = dec_at(e, "price") {
                breakdown.push(Charge {
                    code: str_at(e, "extraService")
                        .or_else(|| str_at(e, "SKU"))
                        .unwrap_or("EXTRA")
                        .to_string(),
                    description: str_at(e, "name").map(str::to_string),
                    amount: usd(price),
                });
            }
        }
    }
    let commitment = &option["commitment"];
    Rate {
        carrier: CARRIER.into(),
        service_code: class.to_string(),
        service_name: service_name(class),
        total: usd(total),
        breakdown,
        transit_days: str_at(commitment, "name").and_then(transit_days),
        estimated_delivery: str_at(commitment, "expectedDeliveryDate")
            .or_else(|| str_at(commitment, "scheduleDeliveryDate"))
            .and_then(date_prefix),
        guaranteed: bool_at(commitment, "guaranteedDelivery"),
    }
}

/// Days from a commitment name such as "2 Days" or "1 Day" (not "NO STD", "MILITARY" …).
pub fn transit_days(name: &str) -> Option<u32> {
    let mut words = name.split_whitespace();
    let n = words.next()?.parse().ok()?;
    words.next().filter(|w| w.to_ascii_lowercase().starts_with("day")).map(|_| n)
}

/// Sums the per-package rates of the mail classes every package can use.
fn combine_rates(per_package: Vec<Vec<Rate>>) -> Vec<Rate> {
    let mut it = per_package.into_iter();
    let Some(mut acc) = it.next() else { return Vec::new() };
    for rates in it {
        acc.retain_mut(|a| match rates.iter().find(|r| r.service_code == a.service_code) {
            Some(r) => {
                a.total.amount = a.total.amount + r.total.amount;
                a.breakdown.extend(r.breakdown.iter().cloned());
                a.transit_days = a.transit_days.max(r.transit_days);
                a.estimated_delivery = a.estimated_delivery.max(r.estimated_delivery);
                a.guaranteed &= r.guaranteed;
                true
            }
            None => false,
        });
    }
    acc.sort_by_key(|r| r.total.amount);
    acc
}

/// One part of a multipart body: (name from Content-Disposition, content type, content).
type Part<'a> = (String, String, &'a [u8]);

/// The parts of a multipart body.
fn multipart_parts<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, CarrierError> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| CarrierError::Parse("multipart answer without boundary".into()))?;
    let delim = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], from: usize| {
        hay.get(from..)
            .and_then(|h| h.windows(delim.len()).position(|w| w == delim.as_slice()).map(|i| i + from))
    };
    let mut parts = Vec::new();
    let mut pos = find(body, 0).ok_or_else(|| CarrierError::Parse("multipart boundary not found".into()))?;
    loop {
        let start = pos + delim.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(next) = find(body, start) else { break };
        let mut part = &body[start..next];
        part = part.strip_prefix(b"\r\n").or_else(|| part.strip_prefix(b"\n")).unwrap_or(part);
        part = part.strip_suffix(b"\r\n").or_else(|| part.strip_suffix(b"\n")).unwrap_or(part);
        let (head, content) = match part.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match part.windows(2).position(|w| w == b"\n\n") {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => (part, &part[part.len()..]),
            },
        };
        let head = String::from_utf8_lossy(head);
        let (mut name, mut ct) = (String::new(), String::new());
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else { continue };
            let k = k.trim().to_ascii_lowercase();
            if k == "content-type" {
                ct = v.trim().to_string();
            } else if k == "content-disposition" {
                for p in v.split(';') {
                    if let Some((pk, pv)) = p.trim().split_once('=') {
                        if pk.trim().eq_ignore_ascii_case("name") {
                            name = pv.trim().trim_matches('"').to_string();
                        }
                    }
                }
            }
        }
        parts.push((name, ct, content));
        pos = next;
    }
    Ok(parts)
}

/// Label image content as clean base64 (USPS sends the image part base64 encoded;
/// raw bytes are encoded here in case a proxy decoded them).
fn image_base64(content: &[u8]) -> Result<String, CarrierError> {
    let text: String = String::from_utf8_lossy(content).chars().filter(|c| !c.is_whitespace()).collect();
    let engine = base64::engine::general_purpose::STANDARD;
    if !text.is_empty() && engine.decode(&text).is_ok() {
        Ok(text)
    } else if content.is_empty() {
        Err(CarrierError::Parse("empty label image".into()))
    } else {
        Ok(engine.encode(content))
    }
}

/// A label from the `/labels/v3/label` answer: multipart (`labelMetadata` JSON +
/// `labelImage` base64) or the single JSON document (`application/vnd.usps.labels+json`).
pub fn parse_label(content_type: &str, body: &[u8], service_code: &str, format: LabelFormat) -> Result<Label, CarrierError> {
    let (meta_text, image) = if content_type.trim_start().to_ascii_lowercase().starts_with("multipart/") {
        let parts = multipart_parts(content_type, body)?;
        let meta = parts
            .iter()
            .find(|(n, _, _)| n == "labelMetadata")
            .or_else(|| parts.iter().find(|(_, ct, _)| ct.contains("json")))
            .ok_or_else(|| CarrierError::Parse("multipart label without labelMetadata".into()))?;
        let image = parts
            .iter()
            .find(|(n, _, _)| n == "labelImage")
            .or_else(|| parts.iter().find(|(n, ct, _)| n.is_empty() && !ct.contains("json")))
            .ok_or_else(|| CarrierError::Parse("multipart label without labelImage".into()))?;
        (quoted(meta.2), Some(image_base64(image.2)?))
    } else {
        (quoted(body), None)
    };
    let v = lossless_json(&meta_text)?;
    let (meta, image) = match image {
        Some(image) => (&v, image),
        None => {
            let image = str_at(&v, "labelImage").ok_or_else(|| CarrierError::Parse("label answer without labelImage".into()))?;
            let image = image_base64(image.as_bytes())?;
            (v.get("labelMetadata").filter(|m| m.is_object()).unwrap_or(&v), image)
        }
    };
    let tracking = str_at(meta, "trackingNumber")
        .or_else(|| str_at(meta, "internationalTrackingNumber"))
        .ok_or_else(|| CarrierError::Parse("label metadata without trackingNumber".into()))?;
    let postage = dec_at(meta, "postage").ok_or_else(|| CarrierError::Parse("label metadata without postage".into()))?;
    // `postage` excludes the extra services, which are billed on top.
    let total = arr(meta, "extraServices")
        .iter()
        .filter_map(|e| dec_at(e, "price"))
        .fold(postage, |a, b| a + b);
    Ok(Label {
        carrier: CARRIER.into(),
        service_code: service_code.to_string(),
        shipment_id: None,
        tracking_numbers: vec![tracking.to_string()],
        label_format: format,
        labels: vec![image],
        charges: usd(total),
    })
}

/// Checks a cancel answer: `CANCELED` is done; `DISPUTED` means USPS reviews the refund.
pub fn parse_cancel(body: &[u8]) -> Result<(), CarrierError> {
    let reply = quoted(body);
    let v = lossless_json(&reply)?;
    match str_at(&v, "status") {
        Some(s) if s.eq_ignore_ascii_case("CANCELED") || s.eq_ignore_ascii_case("CANCELLED") => Ok(()),
        Some(s) => Err(CarrierError::Rejected {
            carrier: CARRIER,
            code: s.to_string(),
            message: match str_at(&v, "disputeId") {
                Some(id) => format!(
                    "refund of {} under review (dispute {id})",
                    str_at(&v, "trackingNumber").unwrap_or("label")
                ),
                None => format!("label not canceled: {s}"),
            },
        }),
        None => Err(CarrierError::Parse("cancel answer without status".into())),
    }
}

/// Normalizes a USPS event code (known codes first) or, failing that, its text.
pub fn normalize_status(code: &str, text: &str) -> TrackingStatus {
    use TrackingStatus::*;
    match code.trim().to_ascii_uppercase().as_str() {
        "01" | "17" => return Delivered,
        "OF" => return OutForDelivery,
        "GX" | "MA" => return PreTransit,
        "03" | "07" | "10" | "OA" | "OR" | "PC" | "SF" | "TM" | "A1" | "L1" | "U1" => return InTransit,
        "02" | "04" | "05" | "52" | "53" | "54" | "55" | "56" => return Exception,
        "09" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "31" => return Returned,
        _ => {}
    }
    let t = text.to_ascii_lowercase();
    if t.contains("return to sender") || t.contains("returned to sender") || t.contains("returning to sender") {
        Returned
    } else if t.contains("out for delivery") {
        OutForDelivery
    } else if t.contains("delivered") {
        Delivered
    } else if ["label created", "pre-shipment", "awaiting item", "acceptance pending"]
        .iter()
        .any(|k| t.contains(k))
    {
        PreTransit
    } else if [
        "alert",
        "attempt",
        "notice left",
        "refused",
        "undeliverable",
        "held",
        "delay",
        "damaged",
        "available for pickup",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        Exception
    } else if [
        "in transit",
        "accepted",
        "arrived",
        "departed",
        "processed",
        "picked up",
        "sorting",
        "transit",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        InTransit
    } else {
        Unknown
    }
}

fn event_time(e: &Json<'_>) -> String {
    let local = str_at(e, "eventTimestamp").unwrap_or("");
    let has_offset = local.ends_with('Z') || local.get(19..).is_some_and(|t| t.contains(['+', '-']));
    match (local.is_empty(), str_at(e, "GMTOffset"), str_at(e, "GMTTimestamp")) {
        (false, Some(off), _) if !has_offset => format!("{local}{off}"),
        (false, _, _) => local.to_string(),
        (true, _, Some(gmt)) => gmt.to_string(),
        _ => String::new(),
    }
}

fn event_location(e: &Json<'_>) -> Option<String> {
    let parts: Vec<&str> = ["eventCity", "eventState", "eventZIP", "eventCountry"]
        .iter()
        .filter_map(|k| str_at(e, k))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Tracking from a `TrackingDetails` answer (events newest first).
pub fn parse_tracking(body: &[u8]) -> Result<Tracking, CarrierError> {
    let reply = quoted(body);
    let v = lossless_json(&reply)?;
    let number = str_at(&v, "trackingNumber").ok_or_else(|| CarrierError::Parse("tracking answer without trackingNumber".into()))?;
    let mut events: Vec<(String, TrackingEvent)> = arr(&v, "trackingEvents")
        .iter()
        .map(|e| {
            let code = str_at(e, "eventCode").unwrap_or("").to_string();
            let text = str_at(e, "eventType").unwrap_or("").to_string();
            let when = event_time(e);
            let key = str_at(e, "GMTTimestamp").map(str::to_string).unwrap_or_else(|| when.clone());
            let ev = TrackingEvent {
                occurred_at: when,
                status: normalize_status(&code, &text),
                carrier_code: code,
                description: text,
                location: event_location(e),
            };
            (key, ev)
        })
        .collect();
    // USPS lists newest first; sort anyway (stable) when every event has a UTC time.
    if events.iter().all(|(k, _)| !k.is_empty()) {
        events.sort_by(|a, b| b.0.cmp(&a.0));
    }
    let events: Vec<TrackingEvent> = events.into_iter().map(|(_, e)| e).collect();
    let category = str_at(&v, "statusCategory").or_else(|| str_at(&v, "status")).unwrap_or("");
    let (status, carrier_code) = match events.first() {
        Some(latest) => (latest.status, latest.carrier_code.clone()),
        None => (normalize_status("", category), category.to_string()),
    };
    let status = if status == TrackingStatus::Unknown {
        normalize_status("", category)
    } else {
        status
    };
    Ok(Tracking {
        carrier: CARRIER.into(),
        tracking_number: number.to_string(),
        status,
        carrier_code,
        estimated_delivery: str_at(&v, "expectedDeliveryTimeStamp")
            .or_else(|| str_at(&v, "predictedDeliveryDate"))
            .or_else(|| str_at(&v, "expectedDeliveryDate"))
            .and_then(date_prefix),
        events,
    })
}
