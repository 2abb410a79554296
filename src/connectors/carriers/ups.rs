//! UPS adapter over the REST APIs: OAuth client credentials, Rating "Shop"
//! (every service in one call, with time in transit), Shipping (label and
//! void) and Track v1. Request bodies are built and responses parsed by pure
//! functions so tests can check both without a server.

use base64::Engine as _;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::json::{quoted, Json};

use super::{
    customs_of, wrap, Address, CarrierAccount, CarrierError, CarrierHttp, Charge, Label, LabelFormat, LabelRequest, LengthUnit, Money,
    Package, Rate, Reply, Shipment, TokenSource, Tracking, TrackingEvent, TrackingStatus, WeightUnit,
};
use crate::customs::{money_text, round, Commodity, Declaration, DutiesPayer, ExportFiling, ExportReason};
use crate::model::{Date, Decimal};

const CARRIER: &str = "ups";
/// Rating and Shipping API version (path segment) and body sub-version.
const VERSION: &str = "v2409";
const SUB_VERSION: &str = "2409";
/// Sent as `transactionSrc` (client application name).
const TRANSACTION_SRC: &str = "tradelane";

/// UPS service codes → names (UPS returns codes only).
const SERVICES: &[(&str, &str)] = &[
    ("01", "UPS Next Day Air"),
    ("02", "UPS 2nd Day Air"),
    ("03", "UPS Ground"),
    ("07", "UPS Worldwide Express"),
    ("08", "UPS Worldwide Expedited"),
    ("11", "UPS Standard"),
    ("12", "UPS 3 Day Select"),
    ("13", "UPS Next Day Air Saver"),
    ("14", "UPS Next Day Air Early"),
    ("17", "UPS Worldwide Economy DDU"),
    ("54", "UPS Worldwide Express Plus"),
    ("59", "UPS 2nd Day Air A.M."),
    ("65", "UPS Worldwide Saver"),
    ("72", "UPS Worldwide Economy DDP"),
    ("74", "UPS Express 12:00"),
    ("96", "UPS Worldwide Express Freight"),
];

/// The name of a UPS service code, when known.
pub fn service_name(code: &str) -> Option<&'static str> {
    SERVICES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// UPS.
pub struct Ups {
    account: CarrierAccount,
    http: CarrierHttp,
    token: TokenSource,
}

impl Ups {
    /// The adapter for one account.
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        let url = format!(
            "{}/security/v1/oauth/token",
            account.base_url.as_deref().unwrap_or("").trim_end_matches('/')
        );
        let (key, secret) = (account.key.clone().unwrap_or_default(), account.secret.clone());
        let merchant = account.account_number.clone();
        let token = TokenSource::new(move |c| {
            let mut r = c
                .post(&url)
                .basic_auth(&key, secret.as_deref())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials");
            if let Some(m) = &merchant {
                r = r.header("x-merchant-id", m);
            }
            r
        });
        Self {
            account: account.clone(),
            http,
            token,
        }
    }

    /// Base URL, after checking the credentials are configured.
    fn base(&self) -> Result<&str, CarrierError> {
        self.account.need("key (UPS client id)", &self.account.key)?;
        self.account.need("secret (UPS client secret)", &self.account.secret)?;
        self.account.base()
    }

    fn shipper_number(&self) -> Result<&str, CarrierError> {
        self.account
            .need("account_number (UPS shipper number)", &self.account.account_number)
    }

    /// Rates for every UPS service serving the lane (Rating "Shop" with time in transit).
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        let base = self.base()?;
        self.shipper_number()?;
        check_shipment(s)?;
        let url = format!("{base}/api/rating/{VERSION}/Shop?additionalinfo=timeintransit");
        let body = self.rate_request(s)?;
        let reply = self
            .http
            .send(|c| json_headers(c.post(&url)).json(&body), Some(&self.token), true)
            .await?;
        parse_rates(&ok(reply)?.body)
    }

    /// Buys a label for `r.service_code`. Not retried: a repeat could buy twice.
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        let base = self.base()?;
        self.shipper_number()?;
        check_shipment(&r.shipment)?;
        let url = format!("{base}/api/shipments/{VERSION}/ship");
        let body = self.ship_request(r)?;
        let reply = self
            .http
            .send(|c| json_headers(c.post(&url)).json(&body), Some(&self.token), false)
            .await?;
        parse_label(&ok(reply)?.body, &r.service_code, r.label_format)
    }

    /// Voids a whole shipment (by its shipment id, else the master tracking number).
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        let base = self.base()?;
        let id = label
            .shipment_id
            .as_deref()
            .or(label.tracking_numbers.first().map(String::as_str))
            .ok_or_else(|| CarrierError::Invalid("UPS label without shipment id or tracking number".into()))?;
        check_number(id)?;
        let url = format!("{base}/api/shipments/{VERSION}/void/cancel/{id}");
        let reply = self.http.send(|c| trans_headers(c.delete(&url)), Some(&self.token), true).await?;
        parse_void(&ok(reply)?.body)
    }

    /// Tracking of one package.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        let base = self.base()?;
        let number = number.trim();
        check_number(number)?;
        let url = format!("{base}/api/track/v1/details/{number}?locale=en_US&returnSignature=false&returnMilestones=false&returnPOD=false");
        let reply = self.http.send(|c| trans_headers(c.get(&url)), Some(&self.token), true).await?;
        parse_tracking(&ok(reply)?.body)
    }

    /// The Rating request body (`RateRequest`) for a shipment; `InvoiceLineTotal`
    /// from the customs declaration for US → Canada / Puerto Rico.
    pub fn rate_request(&self, s: &Shipment) -> Result<Value, CarrierError> {
        let customs = customs_of(s, false)?;
        let account = self.account.account_number.clone().unwrap_or_default();
        let pickup = s.ship_date.unwrap_or_else(Date::today).to_x12();
        let units = Units::of(&s.from.country);
        let packages: Vec<Value> = s
            .packages
            .iter()
            .map(|p| {
                let mut v = package(p, units);
                v["PackagingType"] = json!({ "Code": "02" });
                v
            })
            .collect();
        let mut v = json!({ "RateRequest": {
            "Request": { "SubVersion": SUB_VERSION, "TransactionReference": { "CustomerContext": context(s) } },
            "Shipment": {
                "Shipper": party(&s.from, Some(&account), false),
                "ShipTo": party(&s.to, None, true),
                "ShipFrom": party(&s.from, None, false),
                "PaymentDetails": { "ShipmentCharge": [ { "Type": "01", "BillShipper": { "AccountNumber": account } } ] },
                "NumOfPieces": s.packages.len().to_string(),
                "Package": packages,
                "ShipmentRatingOptions": { "NegotiatedRatesIndicator": "" },
                "DeliveryTimeInformation": { "PackageBillType": "03", "Pickup": { "Date": pickup } },
            }
        }});
        if let Some(d) = &customs {
            if let Some(total) = invoice_line_total(d) {
                v["RateRequest"]["Shipment"]["InvoiceLineTotal"] = total;
            }
        }
        Ok(v)
    }

    /// The Shipping request body (`ShipmentRequest`) for a label, with the
    /// customs declaration as `ShipmentServiceOptions.InternationalForms`.
    pub fn ship_request(&self, r: &LabelRequest) -> Result<Value, CarrierError> {
        let s = &r.shipment;
        let customs = customs_of(s, true)?;
        let account = self.account.account_number.clone().unwrap_or_default();
        let units = Units::of(&s.from.country);
        let packages: Vec<Value> = s
            .packages
            .iter()
            .map(|p| {
                let mut v = package(p, units);
                v["Packaging"] = json!({ "Code": "02" });
                if let Some(reference) = p.reference.as_deref().filter(|r| !r.is_empty()) {
                    v["ReferenceNumber"] = json!([{ "Value": clip(reference, 35) }]);
                }
                v
            })
            .collect();
        let mut v = json!({ "ShipmentRequest": {
            "Request": { "RequestOption": "nonvalidate", "SubVersion": SUB_VERSION,
                         "TransactionReference": { "CustomerContext": context(s) } },
            "Shipment": {
                "Shipper": party(&s.from, Some(&account), false),
                "ShipTo": party(&s.to, None, true),
                "ShipFrom": party(&s.from, None, false),
                "PaymentInformation": { "ShipmentCharge": [ { "Type": "01", "BillShipper": { "AccountNumber": account } } ] },
                "Service": { "Code": r.service_code },
                "Package": packages,
                "ShipmentRatingOptions": { "NegotiatedRatesIndicator": "" },
            },
            "LabelSpecification": {
                "LabelImageFormat": { "Code": label_code(r.label_format) },
                "LabelStockSize": { "Height": "6", "Width": "4" },
            }
        }});
        if let Some(d) = &customs {
            let shipment = &mut v["ShipmentRequest"]["Shipment"];
            add_customs(shipment, d, s, &account)?;
        }
        Ok(v)
    }
}

// ---- customs ----

/// `{CurrencyCode, MonetaryValue}` of the goods, which UPS wants for US → Canada / Puerto Rico.
fn invoice_line_total(d: &Declaration) -> Option<Value> {
    (d.origin.is("US") && d.destination.is_any(&["CA", "PR"]))
        .then(|| json!({ "CurrencyCode": d.currency.as_str(), "MonetaryValue": money_text(d.total_value()) }))
}

/// UPS `ReasonForExport`: its five codes, else free text (≤ 20).
fn reason_for_export(d: &Declaration) -> String {
    match d.reason_for_export {
        ExportReason::Sale => "SALE".into(),
        ExportReason::Gift => "GIFT".into(),
        ExportReason::Sample => "SAMPLE".into(),
        ExportReason::Return => "RETURN".into(),
        ExportReason::Repair => "REPAIR".into(),
        ExportReason::Intercompany => "INTERCOMPANYDATA".into(),
        ExportReason::PersonalUse => "PERSONAL USE".into(),
        ExportReason::Temporary => "TEMPORARY EXPORT".into(),
        ExportReason::Other => clip(d.reason_explanation.as_deref().unwrap_or("OTHER"), 20).to_uppercase(),
    }
}

/// One `InternationalForms.Product`.
fn product(i: usize, c: &Commodity, units: Units, eei: bool) -> Result<Value, CarrierError> {
    let description = wrap(&c.description, 35, 3).ok_or_else(|| {
        CarrierError::Invalid(format!(
            "shipment.customs.commodities[{i}].description: UPS takes at most 3 lines of 35 characters"
        ))
    })?;
    let (weight, code) = match units {
        Units::Imperial => (c.line_weight_lb(), "LBS"),
        Units::Metric => (c.line_weight_kg(), "KGS"),
    };
    let tenth: Decimal = "0.1".parse().unwrap_or_default();
    let mut p = json!({
        "Description": description,
        "Unit": {
            "Number": c.quantity.to_string(),
            "UnitOfMeasurement": { "Code": c.unit },
            "Value": round(c.unit_value, 6).to_string(),
        },
        "CommodityCode": c.hs_code.as_str(),
        "OriginCountryCode": c.origin_country.as_str(),
        "ProductWeight": { "UnitOfMeasurement": { "Code": code }, "Weight": round(weight, 1).max(tenth).to_string() },
    });
    if let Some(sku) = &c.sku {
        p["PartNumber"] = json!(clip(sku, 10));
    }
    if eei {
        if c.hs_code.as_str().len() == 10 {
            p["ScheduleB"] = json!({
                "Number": c.hs_code.as_str(),
                "Quantity": c.quantity.to_string(),
                "UnitOfMeasurement": [ { "Code": c.unit } ],
            });
        }
        if c.export_licence.is_some() || c.eccn.is_some() {
            let mut licence = json!({});
            if let Some(n) = &c.export_licence {
                licence["Number"] = json!(n);
                licence["LicenseLineValue"] = json!(money_text(c.line_value_usd().unwrap_or_else(|| c.line_value())));
            }
            if let Some(e) = &c.eccn {
                licence["ECCNNumber"] = json!(e);
            }
            p["EEIInformation"] = json!({ "License": licence });
        }
    }
    Ok(p)
}

/// Adds the declaration to a `ShipmentRequest.Shipment`: InternationalForms
/// (invoice, and the EEI form when an ITN is given), the goods description,
/// the duties payer (`ShipmentCharge` type 02), tax ids and `InvoiceLineTotal`.
fn add_customs(shipment: &mut Value, d: &Declaration, s: &Shipment, account: &str) -> Result<(), CarrierError> {
    let units = Units::of(&s.from.country);
    let with_itn = matches!(d.export_filing, ExportFiling::Itn(_));
    let products = d
        .commodities
        .iter()
        .enumerate()
        .map(|(i, c)| product(i, c, units, with_itn))
        .collect::<Result<Vec<_>, _>>()?;
    let mut forms = json!({
        "FormType": if with_itn { json!(["01", "11"]) } else { json!(["01"]) },
        "InvoiceDate": d.invoice_date.unwrap_or_else(|| s.ship_date.unwrap_or_else(Date::today)).to_x12(),
        "ReasonForExport": reason_for_export(d),
        "CurrencyCode": d.currency.as_str(),
        "TermsOfShipment": d.incoterm.code(),
        "Product": products,
        "Contacts": { "SoldTo": party(&s.to, None, false) },
    });
    let set = |forms: &mut Value, key: &str, v: Option<Value>| {
        if let Some(v) = v {
            forms[key] = v;
        }
    };
    set(&mut forms, "InvoiceNumber", d.invoice_number.as_deref().map(|n| json!(n)));
    set(&mut forms, "PurchaseOrderNumber", d.po_number.as_deref().map(|n| json!(n)));
    set(
        &mut forms,
        "DeclarationStatement",
        d.declaration_statement.as_deref().map(|t| json!(t)),
    );
    let charge = |v: Option<Decimal>| v.map(|m| json!({ "MonetaryValue": money_text(m) }));
    set(&mut forms, "FreightCharges", charge(d.freight_charge));
    set(&mut forms, "InsuranceCharges", charge(d.insurance_charge));
    set(
        &mut forms,
        "OtherCharges",
        d.other_charges
            .map(|m| json!({ "MonetaryValue": money_text(m), "Description": "Other charges" })),
    );
    if with_itn {
        forms["Contacts"]["UltimateConsignee"] = party(&s.to, None, false);
    }
    // Shipper-filed EEI: code A carries the ITN, code B the exemption legend.
    match &d.export_filing {
        ExportFiling::Itn(itn) => {
            forms["EEIFilingOption"] = json!({ "Code": "1", "ShipperFiled": { "Code": "A", "PreDepartureITNNumber": itn.as_str() } })
        }
        ExportFiling::Exemption(legend) => {
            forms["EEIFilingOption"] = json!({ "Code": "1", "ShipperFiled": { "Code": "B", "ExemptionLegend": legend } })
        }
        ExportFiling::NotApplicable => {}
    }
    shipment["ShipmentServiceOptions"] = json!({ "InternationalForms": forms });
    // Description of the goods (≤ 50), cut at a word.
    let goods = wrap(&d.commodities[0].description, 50, usize::MAX).and_then(|l| l.into_iter().next());
    shipment["Description"] = json!(goods.unwrap_or_default());
    if let Some(total) = invoice_line_total(d) {
        shipment["InvoiceLineTotal"] = total;
    }
    let duties = match (d.duties_payer, d.duties_account.as_deref()) {
        (DutiesPayer::Sender, _) => Some(json!({ "Type": "02", "BillShipper": { "AccountNumber": account } })),
        (DutiesPayer::Recipient, Some(acct)) => Some(json!({ "Type": "02", "BillReceiver": { "AccountNumber": acct } })),
        (DutiesPayer::ThirdParty, Some(acct)) => Some(json!({ "Type": "02", "BillThirdParty": {
            "AccountNumber": acct, "Address": { "CountryCode": d.destination.as_str() } } })),
        // Without an account UPS bills duties to the receiver.
        (_, None) => None,
    };
    if let (Some(duties), Some(charges)) = (duties, shipment["PaymentInformation"]["ShipmentCharge"].as_array_mut()) {
        charges.push(duties);
    }
    let tax_id = |importer: bool| {
        let ids = if importer { &d.importer_tax_ids } else { &d.exporter_tax_ids };
        ids.first().map(|t| t.number.clone())
    };
    if let Some(t) = tax_id(false) {
        shipment["Shipper"]["TaxIdentificationNumber"] = json!(t);
    }
    if let Some(t) = tax_id(true) {
        shipment["ShipTo"]["TaxIdentificationNumber"] = json!(t);
    }
    Ok(())
}

fn json_headers(r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    trans_headers(r).header(CONTENT_TYPE, "application/json")
}

/// `transId` (unique per attempt, ≤ 32 chars) and `transactionSrc`.
fn trans_headers(r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    r.header("transId", crate::store::new_id(""))
        .header("transactionSrc", TRANSACTION_SRC)
}

/// UPS prints labels as GIF, ZPL, EPL or SPL: ZPL maps directly; PDF and
/// PNG are made here from the GIF (see [`image`]).
fn label_code(f: LabelFormat) -> &'static str {
    match f {
        LabelFormat::Zpl => "ZPL",
        LabelFormat::Pdf | LabelFormat::Png => "GIF",
    }
}

fn check_shipment(s: &Shipment) -> Result<(), CarrierError> {
    if s.packages.is_empty() {
        return Err(CarrierError::Invalid("shipment without packages".into()));
    }
    for (who, a) in [("from", &s.from), ("to", &s.to)] {
        if a.country.len() != 2 || a.city.trim().is_empty() {
            return Err(CarrierError::Invalid(format!("{who} address needs a city and a 2-letter country")));
        }
    }
    Ok(())
}

/// Tracking numbers and shipment ids go into the URL path: letters and digits only, 7–34 long.
fn check_number(n: &str) -> Result<(), CarrierError> {
    if (7..=34).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(CarrierError::Invalid(format!("not a UPS tracking number: {n:?}")))
    }
}

fn context(s: &Shipment) -> String {
    s.packages
        .iter()
        .find_map(|p| p.reference.as_deref())
        .map(|r| clip(r, 512))
        .unwrap_or_default()
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A Shipper / ShipTo / ShipFrom element.
fn party(a: &Address, shipper_number: Option<&str>, ship_to: bool) -> Value {
    let name = a.company.as_deref().or(a.name.as_deref()).unwrap_or("");
    let mut address = json!({
        "AddressLine": a.street.iter().take(3).map(|l| clip(l, 35)).collect::<Vec<_>>(),
        "City": clip(&a.city, 30),
        "PostalCode": a.postal_code.trim(),
        "CountryCode": a.country,
    });
    if let Some(st) = a.state.as_deref().filter(|s| !s.is_empty()) {
        address["StateProvinceCode"] = json!(st);
    }
    if ship_to && a.residential {
        address["ResidentialAddressIndicator"] = json!("");
    }
    let mut v = json!({ "Name": clip(name, 35), "Address": address });
    if let Some(attention) = a.name.as_deref().filter(|n| !n.is_empty()) {
        v["AttentionName"] = json!(clip(attention, 35));
    }
    if let Some(phone) = a.phone.as_deref().filter(|p| !p.is_empty()) {
        v["Phone"] = json!({ "Number": clip(phone, 15) });
    }
    if let Some(n) = shipper_number {
        v["ShipperNumber"] = json!(n);
    }
    v
}

/// The unit system UPS accepts for an origin country: pounds/inches in the
/// US and Puerto Rico, kilograms/centimetres elsewhere.
#[derive(Clone, Copy, PartialEq)]
enum Units {
    Imperial,
    Metric,
}

impl Units {
    fn of(country: &str) -> Self {
        if matches!(country, "US" | "PR") {
            Units::Imperial
        } else {
            Units::Metric
        }
    }
}

/// Dimensions and weight of one package, converted to the origin's units.
fn package(p: &Package, units: Units) -> Value {
    let dec = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let (weight, weight_code) = match (units, p.weight_unit) {
        (Units::Imperial, WeightUnit::Lb) | (Units::Metric, WeightUnit::Kg) => {
            (p.weight, if units == Units::Imperial { "LBS" } else { "KGS" })
        }
        (Units::Imperial, WeightUnit::Kg) => (p.weight * dec("2.20462262185"), "LBS"),
        (Units::Metric, WeightUnit::Lb) => (p.weight * dec("0.45359237"), "KGS"),
    };
    let mut v = json!({ "PackageWeight": { "UnitOfMeasurement": { "Code": weight_code }, "Weight": round_up(weight, 1).to_string() } });
    if let Some(d) = &p.dimensions {
        let (factor, code) = match (units, d.unit) {
            (Units::Imperial, LengthUnit::In) => (None, "IN"),
            (Units::Metric, LengthUnit::Cm) => (None, "CM"),
            (Units::Imperial, LengthUnit::Cm) => (Some(dec("0.3937007874")), "IN"),
            (Units::Metric, LengthUnit::In) => (Some(dec("2.54")), "CM"),
        };
        let side = |x: Decimal| round_up(factor.map(|f| x * f).unwrap_or(x), 2).to_string();
        v["Dimensions"] = json!({
            "UnitOfMeasurement": { "Code": code },
            "Length": side(d.length), "Width": side(d.width), "Height": side(d.height),
        });
    }
    v
}

/// Rounds a non-negative value up to `places` decimals (never under-declares a weight or size).
fn round_up(d: Decimal, places: usize) -> Decimal {
    let text = d.to_string();
    let Some((int, frac)) = text.split_once('.') else { return d };
    if frac.len() <= places {
        return d;
    }
    let kept: Decimal = format!("{int}.{}0", &frac[..places]).parse().unwrap_or(d);
    if frac[places..].bytes().all(|b| b == b'0') || text.starts_with('-') {
        return kept;
    }
    let step = if places == 0 {
        "1".to_string()
    } else {
        format!("0.{}1", "0".repeat(places - 1))
    };
    kept + step.parse().unwrap_or_default()
}

// ---- responses ----

/// A 2xx reply, or the typed error for anything else.
fn ok(reply: Reply) -> Result<Reply, CarrierError> {
    if reply.status.is_success() {
        Ok(reply)
    } else {
        Err(error_of(reply.status.as_u16(), &reply.body))
    }
}

/// Maps a non-2xx answer: auth, throttling and outages keep their own types
/// (with UPS's code in the text); other statuses become `Rejected`.
pub fn error_of(status: u16, body: &[u8]) -> CarrierError {
    let reply = quoted(body);
    let first = Json::parse(&reply).ok().and_then(|v| {
        let e = list(&v["response"]["errors"]).into_iter().next()?;
        Some((text(&e["code"]).unwrap_or_default(), text(&e["message"]).unwrap_or_default()))
    });
    match (status, first) {
        (401 | 403, Some((code, message))) => CarrierError::Auth(format!("{code}: {message}")),
        (429, _) => CarrierError::RateLimited,
        (500..=599, _) => CarrierError::Unavailable(status),
        (_, Some((code, message))) => CarrierError::Rejected {
            carrier: CARRIER,
            code,
            message,
        },
        (_, None) => CarrierError::from_status(status, body),
    }
}

/// A UPS reply read from its [`quoted`] text (numbers keep their own text).
fn read(text: &[u8]) -> Result<Json<'_>, CarrierError> {
    Json::parse(text).map_err(|e| CarrierError::Parse(format!("invalid JSON from UPS: {e}")))
}

/// An element that is an array on current versions and a bare object on older ones.
fn list<'a, 'b>(v: &'a Json<'b>) -> Vec<&'a Json<'b>> {
    match v {
        Json::Array(a) => a.iter().collect(),
        Json::Null => Vec::new(),
        other => vec![other],
    }
}

/// A trimmed, non-empty string (CIE sometimes leaves `&#xD;` in values).
fn text(v: &Json<'_>) -> Option<String> {
    let s = v.as_str()?;
    let s = if s.contains("&#xD;") {
        std::borrow::Cow::Owned(s.replace("&#xD;", ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn decimal(v: &Json<'_>) -> Option<Decimal> {
    super::json::decimal_text(&text(v)?)
}

fn date(v: &Json<'_>) -> Option<Date> {
    Date::from_x12(&text(v)?).ok()
}

/// A UPS `{CurrencyCode, MonetaryValue}` element.
fn money(v: &Json<'_>, currency: &str) -> Option<Money> {
    Some(Money {
        amount: decimal(&v["MonetaryValue"])?,
        currency: text(&v["CurrencyCode"]).unwrap_or_else(|| currency.to_string()),
    })
}

/// Parses a Rating response into one rate per service.
pub fn parse_rates(body: &[u8]) -> Result<Vec<Rate>, CarrierError> {
    let reply = quoted(body);
    let v = read(&reply)?;
    let r = &v["RateResponse"];
    if r.is_null() {
        return Err(CarrierError::Parse("UPS answer without RateResponse".into()));
    }
    Ok(list(&r["RatedShipment"]).into_iter().filter_map(rated_shipment).collect())
}

fn rated_shipment(s: &Json<'_>) -> Option<Rate> {
    let code = text(&s["Service"]["Code"])?;
    let currency = text(&s["TransportationCharges"]["CurrencyCode"])
        .or_else(|| text(&s["TotalCharges"]["CurrencyCode"]))
        .unwrap_or_else(|| "USD".into());
    // Negotiated (account) rates replace the published ones when the account has them.
    let negotiated = &s["NegotiatedRateCharges"];
    let source = if negotiated.is_object() && !negotiated["TotalCharge"].is_null() {
        negotiated
    } else {
        s
    };
    let total = ["TotalChargesWithTaxes", "TotalCharges", "TotalCharge"]
        .iter()
        .find_map(|k| money(&source[*k], &currency))?;
    let summary = &s["TimeInTransit"]["ServiceSummary"];
    let arrival = &summary["EstimatedArrival"];
    let guaranteed_delivery = &s["GuaranteedDelivery"];
    let transit_days = text(&arrival["BusinessDaysInTransit"])
        .or_else(|| text(&guaranteed_delivery["BusinessDaysInTransit"]))
        .and_then(|d| d.parse().ok());
    let guaranteed = !summary["GuaranteedIndicator"].is_null()
        || text(&guaranteed_delivery["BusinessDaysInTransit"]).is_some()
        || text(&guaranteed_delivery["DeliveryByTime"]).is_some();
    Some(Rate {
        carrier: CARRIER.into(),
        service_name: service_name(&code)
            .map(str::to_string)
            .or_else(|| text(&s["Service"]["Description"]))
            .unwrap_or_else(|| format!("UPS service {code}")),
        service_code: code,
        breakdown: breakdown(source, s, &currency),
        total,
        transit_days,
        estimated_delivery: date(&arrival["Arrival"]["Date"]),
        guaranteed,
    })
}

/// Base charge, itemized surcharges, options and taxes of the charges actually billed.
fn breakdown(source: &Json<'_>, shipment: &Json<'_>, currency: &str) -> Vec<Charge> {
    let mut out = Vec::new();
    let mut push = |code: String, description: Option<String>, amount: Option<Money>| {
        if let Some(amount) = amount {
            out.push(Charge { code, description, amount });
        }
    };
    if let Some(base) = money(&source["BaseServiceCharge"], currency) {
        push("BASE".into(), Some("Base service charge".into()), Some(base));
        for c in list(&source["ItemizedCharges"]) {
            let raw = text(&c["Code"]).unwrap_or_default();
            let (code, description) = match raw.as_str() {
                "375" => ("FUEL".to_string(), Some("Fuel surcharge".to_string())),
                _ => (raw, text(&c["Description"]).or_else(|| text(&c["SubType"]))),
            };
            push(code, description, money(c, currency));
        }
    } else {
        push(
            "TRANSPORTATION".into(),
            Some("Transportation charges".into()),
            money(&shipment["TransportationCharges"], currency),
        );
    }
    if let Some(options) = money(&shipment["ServiceOptionsCharges"], currency).filter(|m| !m.amount.is_zero()) {
        push("OPTIONS".into(), Some("Service options".into()), Some(options));
    }
    for t in list(&source["TaxCharges"]) {
        push("TAX".into(), text(&t["Type"]), money(t, currency));
    }
    out
}

/// Parses a Shipping response into a label.
pub fn parse_label(body: &[u8], service_code: &str, format: LabelFormat) -> Result<Label, CarrierError> {
    let reply = quoted(body);
    let v = read(&reply)?;
    let results = &v["ShipmentResponse"]["ShipmentResults"];
    if results.is_null() {
        return Err(CarrierError::Parse("UPS answer without ShipmentResults".into()));
    }
    let (mut tracking_numbers, mut labels) = (Vec::new(), Vec::new());
    for p in list(&results["PackageResults"]) {
        let number = text(&p["TrackingNumber"]).ok_or_else(|| CarrierError::Parse("UPS package result without TrackingNumber".into()))?;
        let image =
            text(&p["ShippingLabel"]["GraphicImage"]).ok_or_else(|| CarrierError::Parse(format!("UPS returned no label for {number}")))?;
        tracking_numbers.push(number);
        labels.push(label_image(&image.split_whitespace().collect::<String>(), format)?);
    }
    if tracking_numbers.is_empty() {
        return Err(CarrierError::Parse("UPS answer without PackageResults".into()));
    }
    let charges = &results["ShipmentCharges"];
    let currency = text(&charges["TotalCharges"]["CurrencyCode"]).unwrap_or_else(|| "USD".into());
    let charges = money(&results["NegotiatedRateCharges"]["TotalCharge"], &currency)
        .or_else(|| money(&charges["TotalChargesWithTaxes"], &currency))
        .or_else(|| money(&charges["TotalCharges"], &currency))
        .ok_or_else(|| CarrierError::Parse("UPS answer without shipment charges".into()))?;
    Ok(Label {
        carrier: CARRIER.into(),
        service_code: service_code.into(),
        shipment_id: text(&results["ShipmentIdentificationNumber"]).or_else(|| tracking_numbers.first().cloned()),
        tracking_numbers,
        label_format: format,
        labels,
        charges,
    })
}

/// The label in the requested format from UPS's base64 image (GIF for PDF and PNG).
fn label_image(b64: &str, format: LabelFormat) -> Result<String, CarrierError> {
    if format == LabelFormat::Zpl {
        return Ok(b64.to_string());
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let raw = engine
        .decode(b64)
        .map_err(|e| CarrierError::Parse(format!("UPS label is not base64: {e}")))?;
    let gif = image::decode_gif(&raw).ok_or_else(|| CarrierError::Parse("UPS label is not a readable GIF".into()))?;
    Ok(engine.encode(match format {
        LabelFormat::Png => image::png(&gif),
        _ => image::pdf(&gif),
    }))
}

/// Checks a void response: the summary status must be "1" (voided).
pub fn parse_void(body: &[u8]) -> Result<(), CarrierError> {
    let reply = quoted(body);
    let v = read(&reply)?;
    let status = &v["VoidShipmentResponse"]["SummaryResult"]["Status"];
    match text(&status["Code"]).as_deref() {
        Some("1") => Ok(()),
        Some(code) => Err(CarrierError::Rejected {
            carrier: CARRIER,
            code: code.into(),
            message: text(&status["Description"]).unwrap_or_else(|| "not voided".into()),
        }),
        None => Err(CarrierError::Parse("UPS void answer without SummaryResult status".into())),
    }
}

/// Normalizes a UPS tracking status (`type`, `code`, description).
pub fn status_of(kind: &str, code: &str, description: &str) -> TrackingStatus {
    let d = description.to_ascii_lowercase();
    if d.contains("returned to") || d.contains("return to sender") || d.contains("returning to") {
        return TrackingStatus::Returned;
    }
    match kind {
        "D" => TrackingStatus::Delivered,
        "M" => TrackingStatus::PreTransit,
        "X" => TrackingStatus::Exception,
        "I" if code == "OT" || d.contains("out for delivery") => TrackingStatus::OutForDelivery,
        // Freight: delivered to origin / destination CFS, warehousing.
        "I" | "P" | "DO" | "DD" | "W" => TrackingStatus::InTransit,
        _ => TrackingStatus::Unknown,
    }
}

fn status_parts(s: &Json<'_>) -> (TrackingStatus, String, String) {
    let kind = text(&s["type"]).unwrap_or_default();
    let code = text(&s["code"]).unwrap_or_default();
    let description = text(&s["description"]).unwrap_or_default();
    let raw = if code.is_empty() { kind.clone() } else { code.clone() };
    (status_of(&kind, &code, &description), raw, description)
}

/// `YYYYMMDD` + `HHMMSS` (+ offset) → ISO 8601.
fn instant(date: &Json<'_>, time: &Json<'_>, offset: &Json<'_>) -> Option<String> {
    let d = Date::from_x12(&text(date)?).ok()?;
    let t = text(time).filter(|t| t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()));
    let mut s = d.to_string();
    if let Some(t) = t {
        s.push_str(&format!("T{}:{}:{}", &t[0..2], &t[2..4], &t[4..6]));
        if let Some(o) = text(offset) {
            s.push_str(&o);
        }
    }
    Some(s)
}

/// Parses a Track v1 response (first package of the first shipment).
pub fn parse_tracking(body: &[u8]) -> Result<Tracking, CarrierError> {
    let reply = quoted(body);
    let v = read(&reply)?;
    let shipment = list(&v["trackResponse"]["shipment"])
        .into_iter()
        .next()
        .ok_or_else(|| CarrierError::Parse("UPS answer without trackResponse.shipment".into()))?;
    let Some(package) = list(&shipment["package"]).into_iter().next() else {
        // Not found comes back as a warning and no package.
        let w = list(&shipment["warnings"]).into_iter().next();
        return Err(CarrierError::Rejected {
            carrier: CARRIER,
            code: w.and_then(|w| text(&w["code"])).unwrap_or_default(),
            message: w
                .and_then(|w| text(&w["message"]))
                .unwrap_or_else(|| "no tracking information".into()),
        });
    };
    let mut events: Vec<(String, TrackingEvent)> = list(&package["activity"])
        .into_iter()
        .filter_map(|a| {
            let occurred_at = instant(&a["date"], &a["time"], &a["gmtOffset"])?;
            // Sort on UTC when given: activities can span time zones.
            let key = match (text(&a["gmtDate"]), text(&a["gmtTime"])) {
                (Some(d), Some(t)) => format!("{d}{}", t.replace(':', "")),
                _ => occurred_at.clone(),
            };
            let (status, carrier_code, description) = status_parts(&a["status"]);
            let addr = &a["location"]["address"];
            let place: Vec<String> = [&addr["city"], &addr["stateProvince"], &addr["countryCode"]]
                .into_iter()
                .filter_map(text)
                .collect();
            Some((
                key,
                TrackingEvent {
                    occurred_at,
                    status,
                    carrier_code,
                    description,
                    location: (!place.is_empty()).then(|| place.join(", ")),
                },
            ))
        })
        .collect();
    events.sort_by(|a, b| b.0.cmp(&a.0));
    let events: Vec<TrackingEvent> = events.into_iter().map(|(_, e)| e).collect();
    // The latest event decides (canonical rule); currentStatus only when there are no events.
    let (status, carrier_code) = match events.first() {
        Some(e) => (e.status, e.carrier_code.clone()),
        None => {
            let (s, c, _) = status_parts(&package["currentStatus"]);
            (s, c)
        }
    };
    let dates = list(&package["deliveryDate"]);
    let delivery = |kind: &str| {
        dates
            .iter()
            .find(|d| text(&d["type"]).as_deref() == Some(kind))
            .and_then(|d| date(&d["date"]))
    };
    Ok(Tracking {
        carrier: CARRIER.into(),
        tracking_number: text(&package["trackingNumber"])
            .or_else(|| text(&shipment["inquiryNumber"]))
            .unwrap_or_default(),
        status,
        carrier_code,
        estimated_delivery: delivery("RDD").or_else(|| delivery("SDD")).or_else(|| delivery("DEL")),
        events,
    })
}

/// GIF decoding and PDF / PNG writing for labels (UPS prints no PDF or PNG).
/// Only what a label needs: the first frame, palette colours, no compression
/// libraries (PDF run-length, PNG stored deflate blocks).
mod image {
    /// A palette image: RGB palette, one index byte per pixel, rows top down.
    pub struct Indexed {
        pub width: usize,
        pub height: usize,
        pub palette: Vec<u8>,
        pub pixels: Vec<u8>,
    }

    /// Labels are far smaller; this bounds what hostile input can allocate.
    const MAX_PIXELS: usize = 16 << 20;

    /// Decodes the first frame of a GIF onto its logical screen.
    pub fn decode_gif(b: &[u8]) -> Option<Indexed> {
        if !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
            return None;
        }
        let word = |i: usize| -> Option<usize> { Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as usize) };
        let (screen_w, screen_h, flags, background) = (word(6)?, word(8)?, *b.get(10)?, *b.get(11)?);
        let mut pos = 13;
        let mut palette = Vec::new();
        if flags & 0x80 != 0 {
            let n = 3 << ((flags & 7) + 1);
            palette = b.get(pos..pos + n)?.to_vec();
            pos += n;
        }
        loop {
            match *b.get(pos)? {
                // Extension: label, then sub-blocks.
                0x21 => pos = sub_blocks(b, pos + 2, &mut Vec::new())?,
                0x2C => break,
                _ => return None,
            }
        }
        let (left, top, w, h, f) = (word(pos + 1)?, word(pos + 3)?, word(pos + 5)?, word(pos + 7)?, *b.get(pos + 9)?);
        pos += 10;
        if f & 0x80 != 0 {
            let n = 3 << ((f & 7) + 1);
            palette = b.get(pos..pos + n)?.to_vec();
            pos += n;
        }
        let min_code = *b.get(pos)?;
        let mut data = Vec::new();
        sub_blocks(b, pos + 1, &mut data)?;
        let (width, height) = if screen_w == 0 || screen_h == 0 {
            (w, h)
        } else {
            (screen_w, screen_h)
        };
        if palette.len() < 3 || width == 0 || height == 0 || width.checked_mul(height)? > MAX_PIXELS || w.checked_mul(h)? > MAX_PIXELS {
            return None;
        }
        let frame = lzw(&data, min_code, w * h)?;
        let top_index = (palette.len() / 3 - 1) as u8;
        let mut pixels = vec![background.min(top_index); width * height];
        // Interlaced frames store rows in four passes.
        let rows: Vec<usize> = if f & 0x40 != 0 {
            [(0, 8), (4, 8), (2, 4), (1, 2)]
                .iter()
                .flat_map(|&(start, step)| (start..h).step_by(step))
                .collect()
        } else {
            (0..h).collect()
        };
        for (i, &row) in rows.iter().enumerate() {
            let y = top + row;
            let src = frame.get(i * w..((i + 1) * w).min(frame.len())).unwrap_or(&[]);
            if y >= height || src.is_empty() {
                continue;
            }
            for (x, &p) in src.iter().enumerate().filter(|(x, _)| left + x < width) {
                pixels[y * width + left + x] = p.min(top_index);
            }
        }
        Some(Indexed {
            width,
            height,
            palette,
            pixels,
        })
    }

    /// Collects sub-blocks from `pos`; returns the position after the terminator.
    fn sub_blocks(b: &[u8], mut pos: usize, out: &mut Vec<u8>) -> Option<usize> {
        loop {
            let n = *b.get(pos)? as usize;
            pos += 1;
            if n == 0 {
                return Some(pos);
            }
            out.extend_from_slice(b.get(pos..pos + n)?);
            pos += n;
        }
    }

    /// GIF's variable-width LZW (LSB first, up to 12 bits, deferred clear).
    fn lzw(data: &[u8], min_code: u8, limit: usize) -> Option<Vec<u8>> {
        if !(2..=11).contains(&min_code) {
            return None;
        }
        let clear = 1usize << min_code;
        let end = clear + 1;
        let (mut prefix, mut suffix, mut first) = (vec![0u16; 4096], vec![0u8; 4096], vec![0u8; 4096]);
        for i in 0..clear {
            suffix[i] = i as u8;
            first[i] = i as u8;
        }
        let (mut size, mut next, mut prev) = (u32::from(min_code) + 1, end + 1, None::<usize>);
        let (mut acc, mut bits) = (0u32, 0u32);
        let (mut out, mut stack) = (Vec::with_capacity(limit), Vec::new());
        for &byte in data {
            acc |= u32::from(byte) << bits;
            bits += 8;
            while bits >= size {
                let code = (acc & ((1 << size) - 1)) as usize;
                acc >>= size;
                bits -= size;
                if code == clear {
                    (size, next, prev) = (u32::from(min_code) + 1, end + 1, None);
                    continue;
                }
                if code == end {
                    return Some(out);
                }
                let head = match (code < next, prev) {
                    (true, _) if code < clear || code > end => first[code],
                    (false, Some(p)) if code == next => first[p],
                    _ => return None,
                };
                if let Some(p) = prev {
                    if next < 4096 {
                        prefix[next] = p as u16;
                        suffix[next] = head;
                        first[next] = first[p];
                        next += 1;
                    }
                }
                // Each entry's prefix is a smaller code, so the walk ends.
                let mut c = code;
                stack.clear();
                loop {
                    stack.push(suffix[c]);
                    if c < clear {
                        break;
                    }
                    c = prefix[c] as usize;
                }
                out.extend(stack.iter().rev());
                if out.len() >= limit {
                    out.truncate(limit);
                    return Some(out);
                }
                prev = Some(code);
                if next == 1 << size && size < 12 {
                    size += 1;
                }
            }
        }
        Some(out)
    }

    /// One page, 4×6 in (landscape for landscape images), the image scaled to fit.
    pub fn pdf(img: &Indexed) -> Vec<u8> {
        let (page_w, page_h) = if img.width > img.height { (432.0, 288.0) } else { (288.0, 432.0) };
        let scale = f64::min(page_w / img.width as f64, page_h / img.height as f64);
        let (draw_w, draw_h) = (img.width as f64 * scale, img.height as f64 * scale);
        let hex: String = img.palette.iter().map(|b| format!("{b:02x}")).collect();
        let content = format!("q {draw_w:.2} 0 0 {draw_h:.2} 0 {:.2} cm /Im0 Do Q", page_h - draw_h);
        let data = run_length(&img.pixels);
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        let objects: Vec<(String, Option<&[u8]>)> = vec![
            ("<< /Type /Catalog /Pages 2 0 R >>".into(), None),
            ("<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(), None),
            (
                format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w} {page_h}] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"),
                None,
            ),
            (
                format!(
                    "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace [/Indexed /DeviceRGB {} <{hex}>] /BitsPerComponent 8 /Filter /RunLengthDecode /Length {} >>",
                    img.width,
                    img.height,
                    img.palette.len() / 3 - 1,
                    data.len()
                ),
                Some(&data),
            ),
            (format!("<< /Length {} >>", content.len()), Some(content.as_bytes())),
        ];
        for (i, (dict, stream)) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{dict}\n", i + 1).as_bytes());
            if let Some(s) = stream {
                out.extend_from_slice(b"stream\n");
                out.extend_from_slice(s);
                out.extend_from_slice(b"\nendstream\n");
            }
            out.extend_from_slice(b"endobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
        out
    }

    /// PDF RunLengthDecode: runs of 2–128 equal bytes, literals of up to 128.
    fn run_length(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let run = data[i..].iter().take(128).take_while(|&&b| b == data[i]).count();
            if run >= 2 {
                out.push((257 - run) as u8);
                out.push(data[i]);
                i += run;
                continue;
            }
            let start = i;
            while i < data.len() && i - start < 128 && !(i + 1 < data.len() && data[i + 1] == data[i]) {
                i += 1;
            }
            if i == start {
                i += 1;
            }
            out.push((i - start - 1) as u8);
            out.extend_from_slice(&data[start..i]);
        }
        out.push(128);
        out
    }

    /// A palette PNG with stored (uncompressed) deflate blocks.
    pub fn png(img: &Indexed) -> Vec<u8> {
        let mut raw = Vec::with_capacity((img.width + 1) * img.height);
        for row in img.pixels.chunks(img.width.max(1)) {
            raw.push(0);
            raw.extend_from_slice(row);
        }
        let mut z = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            z.push(u8::from(i + 1 == blocks.len()));
            let n = block.len() as u16;
            z.extend_from_slice(&n.to_le_bytes());
            z.extend_from_slice(&(!n).to_le_bytes());
            z.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &raw {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        z.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(img.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(img.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (b"IHDR", &ihdr[..]),
            (b"PLTE", &img.palette[..]),
            (b"IDAT", &z[..]),
            (b"IEND", &[][..]),
        ] {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
            }
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_places() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(round_up(d("5.5"), 1), d("5.5"));
        assert_eq!(round_up(d("2.26796185"), 1), d("2.3"));
        assert_eq!(round_up(d("4.5359237"), 1), d("4.6"));
        assert_eq!(round_up(d("30.48"), 2), d("30.48"));
        assert_eq!(round_up(d("11.811023622"), 2), d("11.82"));
        assert_eq!(round_up(d("7"), 1), d("7"));
    }

    #[test]
    fn decodes_small_gifs_from_the_wild() {
        let engine = base64::engine::general_purpose::STANDARD;
        // 1×1 white, with an end code.
        let g = image::decode_gif(&engine.decode("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=").unwrap()).unwrap();
        assert_eq!(
            (g.width, g.height, g.pixels.clone(), g.palette.clone()),
            (1, 1, vec![0], vec![255, 255, 255, 0, 0, 0])
        );
        // 1×1 with a graphic control extension and no end code.
        let g = image::decode_gif(&engine.decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7").unwrap()).unwrap();
        assert_eq!((g.width, g.height, g.pixels), (1, 1, vec![0]));
    }

    #[test]
    fn fixture_gif_decodes_and_truncations_never_panic() {
        let fixture = include_str!("../../../fixtures/carriers/ups/ship_gif.json");
        let v: Value = serde_json::from_str(fixture).unwrap();
        let b64 = v["ShipmentResponse"]["ShipmentResults"]["PackageResults"][0]["ShippingLabel"]["GraphicImage"]
            .as_str()
            .unwrap();
        let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        let g = image::decode_gif(&raw).unwrap();
        assert_eq!((g.width, g.height), (1200, 800));
        assert_eq!(g.pixels.iter().filter(|&&p| p == 1).count(), 182_580);
        // Border drawn from (20,20) to (1180,26); inside the frame is white.
        assert_eq!(
            (g.pixels[20 * 1200 + 20], g.pixels[19 * 1200 + 20], g.pixels[100 * 1200 + 600]),
            (1, 0, 0)
        );
        for cut in (0..raw.len()).step_by(97) {
            let _ = image::decode_gif(&raw[..cut]);
        }
        let mut noisy = raw.clone();
        for i in (40..noisy.len()).step_by(31) {
            noisy[i] = noisy[i].wrapping_mul(7).wrapping_add(3);
        }
        let _ = image::decode_gif(&noisy);
    }

    #[test]
    fn statuses() {
        assert_eq!(status_of("D", "KB", "DELIVERED"), TrackingStatus::Delivered);
        assert_eq!(status_of("I", "OT", "Out For Delivery Today"), TrackingStatus::OutForDelivery);
        assert_eq!(status_of("I", "DP", "Departed from Facility"), TrackingStatus::InTransit);
        assert_eq!(status_of("M", "MP", "Shipper created a label"), TrackingStatus::PreTransit);
        assert_eq!(status_of("X", "RS", "Returned to shipper"), TrackingStatus::Returned);
        assert_eq!(status_of("X", "U2", "Severe weather delay"), TrackingStatus::Exception);
        assert_eq!(status_of("NA", "", ""), TrackingStatus::Unknown);
    }
}
