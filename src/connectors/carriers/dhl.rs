//! DHL Express adapter speaking the MyDHL API (REST/JSON, HTTP Basic auth):
//! `POST /rates`, `POST /shipments` and `GET /shipments/{n}/tracking`.
//! DHL Express has no void operation. Request bodies are built and responses
//! parsed by pure functions so they can be checked without a server; every
//! amount is read from the JSON text into an exact `Decimal`.

use std::time::SystemTime;

use serde_json::{json, Map, Value};

use super::json::{number as num, quoted, Json};

use super::{
    customs_of, CarrierAccount, CarrierError, CarrierHttp, Charge, Label, LabelFormat, LabelRequest, LengthUnit, Money, Package, Rate,
    Shipment, Tracking, TrackingEvent, TrackingStatus, WeightUnit,
};
use crate::customs::{round, Declaration, DutiesPayer, ExportReason, TaxIdKind};
use crate::model::{Date, Decimal};

const CARRIER: &str = "dhl";
/// `x-version` is declared required by the MyDHL spec ("do not change").
const API_VERSION: &str = "3.1.0";
/// Total price currency types in order of preference: billing currency,
/// public list price in local currency, DHL base currency.
const CURRENCY_PREFERENCE: [&str; 3] = ["BILLC", "PULCL", "BASEC"];

/// DHL Express (MyDHL API).
pub struct Dhl {
    account: CarrierAccount,
    http: CarrierHttp,
}

impl Dhl {
    /// The adapter for one account (`key`/`secret` are the MyDHL user and password).
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        Self {
            account: account.clone(),
            http,
        }
    }

    /// Rates of every product DHL offers for the shipment.
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        check_shipment(s)?;
        if s.packages.iter().any(|p| p.dimensions.is_none()) {
            return Err(CarrierError::Invalid(
                "DHL Express rating needs the dimensions of every package".into(),
            ));
        }
        let url = format!("{}/rates", self.account.base()?);
        let body = self.rate_request(s)?;
        let reply = self.send(|c| c.post(&url).json(&body), true).await?;
        parse_rates(&reply)
    }

    /// Creates a shipment and returns its label.
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        check_shipment(&r.shipment)?;
        if r.label_format == LabelFormat::Png {
            return Err(CarrierError::Invalid("DHL Express labels are PDF or ZPL, not PNG".into()));
        }
        if r.service_code.trim().is_empty() {
            return Err(CarrierError::Invalid("no DHL product code".into()));
        }
        let url = format!("{}/shipments", self.account.base()?);
        let body = self.shipment_request(r)?;
        // Never retried: a second attempt could book a second waybill.
        let reply = self.send(|c| c.post(&url).json(&body), false).await?;
        parse_label(&reply, &r.service_code, r.label_format)
    }

    /// DHL Express cannot void a waybill.
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        let awb = label.tracking_numbers.first().map(String::as_str).unwrap_or("?");
        Err(CarrierError::Unsupported(format!(
            "DHL Express has no void/cancel operation: waybill {awb} is simply not tendered and an unused \
             waybill is not billed; cancel the pickup if one was booked, or contact DHL customer service"
        )))
    }

    /// Tracking of one waybill, every checkpoint.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        let number = number.trim();
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CarrierError::Invalid(format!("not a DHL tracking number: {number:?}")));
        }
        let url = format!(
            "{}/shipments/{number}/tracking?trackingView=all-checkpoints&levelOfDetail=all&requestGMTOffsetPerEvent=true",
            self.account.base()?
        );
        let reply = self.send(|c| c.get(&url), true).await?;
        parse_tracking(&reply)
    }

    /// Body of `POST /rates`; with a customs declaration, its value as `declaredValue`.
    pub fn rate_request(&self, s: &Shipment) -> Result<Value, CarrierError> {
        let customs = customs_of(s, false)?;
        let (unit, packages) = packages(&s.packages, false);
        let mut v = json!({
            "customerDetails": {
                "shipperDetails": rate_address(&s.from),
                "receiverDetails": rate_address(&s.to),
            },
            "accounts": [{ "typeCode": "shipper", "number": self.account_number() }],
            "payerCountryCode": s.from.country,
            "plannedShippingDateAndTime": format!("{}T12:00:00GMT+00:00", ship_date(s)),
            "unitOfMeasurement": unit,
            "isCustomsDeclarable": customs_declarable(s),
            "estimatedDeliveryDate": { "isRequested": true, "typeCode": "QDDC" },
            "packages": packages,
        });
        if let Some(d) = &customs {
            v["monetaryAmount"] = json!([{
                "typeCode": "declaredValue", "value": num(round(d.total_value(), 2)), "currency": d.currency.as_str(),
            }]);
        }
        Ok(v)
    }

    /// Body of `POST /shipments`, with the customs declaration as
    /// `content.exportDeclaration` when the shipment crosses a border.
    pub fn shipment_request(&self, r: &LabelRequest) -> Result<Value, CarrierError> {
        let s = &r.shipment;
        let customs = customs_of(s, true)?;
        let (unit, packages) = packages(&s.packages, true);
        let format = match r.label_format {
            LabelFormat::Zpl => "zpl",
            _ => "pdf",
        };
        let extra = |k: &str, default: &str| self.account.extra.get(k).cloned().unwrap_or_else(|| default.to_string());
        let mut v = json!({
            "plannedShippingDateAndTime": format!("{}T12:00:00 GMT+00:00", ship_date(s)),
            "pickup": { "isRequested": false },
            "productCode": r.service_code,
            "getRateEstimates": true,
            "accounts": [{ "typeCode": "shipper", "number": self.account_number() }],
            "outputImageProperties": {
                "encodingFormat": format,
                "imageOptions": [{ "typeCode": "label", "templateName": "ECOM26_84_001" }],
            },
            "customerDetails": {
                "shipperDetails": party(&s.from),
                "receiverDetails": party(&s.to),
            },
            "content": {
                "packages": packages,
                "isCustomsDeclarable": customs_declarable(s),
                "description": extra("content_description", "Merchandise"),
                "incoterm": extra("incoterm", "DAP"),
                "unitOfMeasurement": unit,
            },
            "estimatedDeliveryDate": { "isRequested": true, "typeCode": "QDDC" },
        });
        if let Some(d) = &customs {
            add_customs(&mut v, d, unit == "metric")?;
        }
        Ok(v)
    }

    fn account_number(&self) -> String {
        self.account.account_number.clone().unwrap_or_default()
    }

    /// Sends with basic auth and the MyDHL headers; non-2xx become typed errors.
    async fn send(&self, build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder, idempotent: bool) -> Result<Vec<u8>, CarrierError> {
        let user = self.account.need("key (MyDHL user)", &self.account.key)?.to_string();
        let pass = self.account.need("secret (MyDHL password)", &self.account.secret)?.to_string();
        self.account.need("account_number", &self.account.account_number)?;
        let reply = self
            .http
            .send(
                |c| {
                    build(c)
                        .basic_auth(&user, Some(&pass))
                        .header("Message-Reference", message_reference())
                        .header("Message-Reference-Date", httpdate::fmt_http_date(SystemTime::now()))
                        .header("x-version", API_VERSION)
                        .header("Accept", "application/json")
                },
                None,
                idempotent,
            )
            .await?;
        if reply.status.is_success() {
            Ok(reply.body.to_vec())
        } else {
            Err(parse_error(reply.status.as_u16(), &reply.body))
        }
    }
}

/// Maps a non-2xx answer: 401/403 → `Auth` (basic auth, nothing to refresh),
/// 429 → `RateLimited`, 5xx → `Unavailable`, otherwise DHL's problem+json
/// (`status` is a string, sometimes DHL's own such as `"998"`) → `Rejected`.
pub fn parse_error(status: u16, body: &[u8]) -> CarrierError {
    let reply = quoted(body);
    let v = read_json(&reply).ok();
    let text = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Json::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (title, detail) = (text("title"), text("detail"));
    match status {
        401 | 403 => {
            let why = [title, detail].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(": ");
            CarrierError::Auth(if why.is_empty() { format!("HTTP {status}") } else { why })
        }
        429 | 500..=599 => CarrierError::from_status(status, body),
        _ if title.is_empty() && detail.is_empty() => CarrierError::from_status(status, body),
        _ => {
            let code = Some(text("status")).filter(|s| !s.is_empty()).unwrap_or_else(|| status.to_string());
            let mut message = match (title.is_empty(), detail.is_empty()) {
                (false, false) => format!("{title}: {detail}"),
                (true, _) => detail,
                (_, true) => title,
            };
            let more: Vec<&str> = v
                .as_ref()
                .and_then(|v| v.get("additionalDetails"))
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            if !more.is_empty() {
                message = format!("{message} ({})", more.join("; "));
            }
            CarrierError::Rejected {
                carrier: CARRIER,
                code,
                message,
            }
        }
    }
}

/// Rates from a `POST /rates` answer. The total is the `BILLC` (billing
/// currency) entry of `totalPrice`, else `PULCL`, else `BASEC`; the breakdown
/// is `detailedPriceBreakdown` in that same currency type.
pub fn parse_rates(body: &[u8]) -> Result<Vec<Rate>, CarrierError> {
    let reply = quoted(body);
    let v = read_json(&reply)?;
    let products = v
        .get("products")
        .and_then(Json::as_array)
        .ok_or_else(|| CarrierError::Parse("rates: no products".into()))?;
    let mut rates = Vec::new();
    for p in products {
        let Some(code) = str_at(p, "productCode") else { continue };
        let Some((currency_type, total)) = pick_price(p.get("totalPrice")) else {
            continue;
        };
        let name = str_at(p, "productName").unwrap_or(code);
        let delivery = p.get("deliveryCapabilities");
        rates.push(Rate {
            carrier: CARRIER.into(),
            service_code: code.to_string(),
            service_name: name.to_string(),
            breakdown: breakdown(p, currency_type, &total.currency),
            total,
            transit_days: delivery.and_then(|d| d.get("totalTransitDays")).and_then(dec).and_then(whole),
            estimated_delivery: delivery
                .and_then(|d| str_at(d, "estimatedDeliveryDateAndTime"))
                .and_then(date_prefix),
            guaranteed: false,
        });
    }
    if rates.is_empty() && !products.is_empty() {
        return Err(CarrierError::Parse("rates: no product with a price".into()));
    }
    Ok(rates)
}

/// The label of a `POST /shipments` answer: the waybill number first, then the
/// piece license plates; the `label` documents (base64); the `BILLC` charge
/// (zero, without currency, when DHL gave no estimate).
pub fn parse_label(body: &[u8], service_code: &str, format: LabelFormat) -> Result<Label, CarrierError> {
    use base64::Engine;
    let reply = quoted(body);
    let v = read_json(&reply)?;
    let awb = str_at(&v, "shipmentTrackingNumber").ok_or_else(|| CarrierError::Parse("shipment: no shipmentTrackingNumber".into()))?;
    let mut tracking_numbers = vec![awb.to_string()];
    for p in v.get("packages").and_then(Json::as_array).into_iter().flatten() {
        if let Some(n) = str_at(p, "trackingNumber") {
            tracking_numbers.push(n.to_string());
        }
    }
    let mut labels = Vec::new();
    for d in v.get("documents").and_then(Json::as_array).into_iter().flatten() {
        if str_at(d, "typeCode") != Some("label") {
            continue;
        }
        let content = str_at(d, "content").ok_or_else(|| CarrierError::Parse("shipment: label document without content".into()))?;
        let content: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(&content)
            .map_err(|e| CarrierError::Parse(format!("shipment: label is not base64: {e}")))?;
        labels.push(content);
    }
    if labels.is_empty() {
        return Err(CarrierError::Parse("shipment: no label document".into()));
    }
    let charges = pick_price(v.get("shipmentCharges")).map(|(_, m)| m).unwrap_or(Money {
        amount: Decimal::default(),
        currency: String::new(),
    });
    Ok(Label {
        carrier: CARRIER.into(),
        service_code: service_code.to_string(),
        shipment_id: Some(awb.to_string()),
        tracking_numbers,
        label_format: format,
        labels,
        charges,
    })
}

/// Tracking from a `GET /shipments/{n}/tracking` answer (first shipment),
/// events newest first. No events yet means pre-transit.
pub fn parse_tracking(body: &[u8]) -> Result<Tracking, CarrierError> {
    let reply = quoted(body);
    let v = read_json(&reply)?;
    let s = v
        .get("shipments")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| CarrierError::Parse("tracking: no shipment".into()))?;
    let number = str_at(s, "shipmentTrackingNumber").ok_or_else(|| CarrierError::Parse("tracking: no shipmentTrackingNumber".into()))?;
    let mut events: Vec<(Option<i64>, TrackingEvent)> = s
        .get("events")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let code = str_at(e, "typeCode").unwrap_or("").to_string();
            let date = str_at(e, "date").unwrap_or("");
            let time = str_at(e, "time").unwrap_or("");
            let offset = str_at(e, "GMTOffset");
            let mut occurred_at = if time.is_empty() {
                date.to_string()
            } else {
                format!("{date}T{time}")
            };
            occurred_at.push_str(offset.unwrap_or(""));
            let event = TrackingEvent {
                occurred_at,
                status: status_of(&code),
                carrier_code: code,
                description: str_at(e, "description").unwrap_or("").to_string(),
                location: e
                    .get("serviceArea")
                    .and_then(Json::as_array)
                    .and_then(|a| a.first())
                    .and_then(|a| str_at(a, "description"))
                    .filter(|d| !d.trim().is_empty())
                    .map(str::to_string),
            };
            (epoch_seconds(date, time, offset), event)
        })
        .collect();
    // DHL lists checkpoints oldest first: reverse, then a stable sort on the
    // instant (checkpoints cross time zones, so local times do not order).
    events.reverse();
    events.sort_by_key(|e| std::cmp::Reverse(e.0));
    let events: Vec<TrackingEvent> = events.into_iter().map(|(_, e)| e).collect();
    let (status, carrier_code) = events
        .first()
        .map(|e| (e.status, e.carrier_code.clone()))
        .unwrap_or((TrackingStatus::PreTransit, String::new()));
    Ok(Tracking {
        carrier: CARRIER.into(),
        tracking_number: number.to_string(),
        status,
        carrier_code,
        estimated_delivery: s.get("estimatedDeliveryDate").and_then(Json::as_str).and_then(date_prefix),
        events,
    })
}

/// Normalizes a DHL Express checkpoint code.
pub fn status_of(code: &str) -> TrackingStatus {
    match code.trim().to_ascii_uppercase().as_str() {
        "OK" | "DD" | "DL" | "PD" => TrackingStatus::Delivered,
        "WC" => TrackingStatus::OutForDelivery,
        "PU" | "PL" | "AF" | "DF" | "AR" | "CC" | "CD" | "CR" | "RR" | "TR" | "IC" | "TP" => TrackingStatus::InTransit,
        // on hold, not home, bad address, closed on arrival, mis-sort, refused,
        // customer moved, missed delivery, transport delay, destroyed, stopped
        "OH" | "HP" | "HN" | "HX" | "NH" | "BA" | "CA" | "MS" | "RD" | "CM" | "MD" | "TD" | "DS" | "SS" => TrackingStatus::Exception,
        "RT" => TrackingStatus::Returned,
        "SA" | "SD" => TrackingStatus::PreTransit,
        _ => TrackingStatus::Unknown,
    }
}

fn check_shipment(s: &Shipment) -> Result<(), CarrierError> {
    if s.packages.is_empty() {
        return Err(CarrierError::Invalid("a shipment needs at least one package".into()));
    }
    Ok(())
}

fn customs_declarable(s: &Shipment) -> bool {
    !s.from.country.eq_ignore_ascii_case(&s.to.country)
}

/// An address as DHL's rating and landed-cost requests take it.
pub(crate) fn rate_address(a: &super::Address) -> Value {
    let mut m = Map::new();
    m.insert("postalCode".into(), a.postal_code.clone().into());
    m.insert("cityName".into(), a.city.clone().into());
    m.insert("countryCode".into(), a.country.clone().into());
    if let Some(state) = &a.state {
        m.insert("provinceCode".into(), state.clone().into());
    }
    for (i, line) in a.street.iter().take(3).enumerate() {
        m.insert(format!("addressLine{}", i + 1), line.clone().into());
    }
    Value::Object(m)
}

fn party(a: &super::Address) -> Value {
    let name = a.name.clone().or_else(|| a.company.clone()).unwrap_or_default();
    let mut contact = Map::new();
    contact.insert("fullName".into(), name.clone().into());
    contact.insert("companyName".into(), a.company.clone().unwrap_or(name).into());
    contact.insert("phone".into(), a.phone.clone().unwrap_or_default().into());
    if let Some(email) = &a.email {
        contact.insert("email".into(), email.clone().into());
    }
    json!({
        "postalAddress": rate_address(a),
        "contactInformation": contact,
        "typeCode": if a.residential { "private" } else { "business" },
    })
}

/// The unit system and DHL packages. All kg/cm → metric, all lb/in → imperial,
/// mixed → metric with converted values rounded to 0.01.
fn packages(ps: &[Package], with_reference: bool) -> (&'static str, Vec<Value>) {
    let all_metric = ps
        .iter()
        .all(|p| p.weight_unit == WeightUnit::Kg && p.dimensions.as_ref().is_none_or(|d| d.unit == LengthUnit::Cm));
    let all_imperial = ps
        .iter()
        .all(|p| p.weight_unit == WeightUnit::Lb && p.dimensions.as_ref().is_none_or(|d| d.unit == LengthUnit::In));
    let unit = if all_imperial && !all_metric { "imperial" } else { "metric" };
    let convert = !all_metric && !all_imperial;
    let kg_per_lb = "0.45359237".parse().unwrap_or_default();
    let cm_per_in = "2.54".parse().unwrap_or_default();
    let conv = |v: Decimal, factor: Decimal, needed: bool| {
        if convert && needed {
            Decimal::from_cents((v * factor).to_cents())
        } else {
            v
        }
    };
    let out = ps
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("weight".into(), num(conv(p.weight, kg_per_lb, p.weight_unit == WeightUnit::Lb)));
            if let Some(d) = &p.dimensions {
                let inch = d.unit == LengthUnit::In;
                m.insert(
                    "dimensions".into(),
                    json!({
                        "length": num(conv(d.length, cm_per_in, inch)),
                        "width": num(conv(d.width, cm_per_in, inch)),
                        "height": num(conv(d.height, cm_per_in, inch)),
                    }),
                );
            }
            if let (true, Some(r)) = (with_reference, &p.reference) {
                m.insert("customerReferences".into(), json!([{ "typeCode": "CU", "value": r }]));
            }
            Value::Object(m)
        })
        .collect();
    (unit, out)
}

// ---- customs ----

/// MyDHL `exportReasonType`.
fn export_reason_type(r: ExportReason) -> &'static str {
    match r {
        ExportReason::Sale => "commercial_purpose_or_sale",
        ExportReason::Gift => "gift",
        ExportReason::Sample => "sample",
        ExportReason::Return => "return",
        ExportReason::Repair | ExportReason::Temporary => "temporary",
        ExportReason::Intercompany => "intercompany_use",
        ExportReason::PersonalUse => "personal_belongings_or_personal_use",
        ExportReason::Other => "permanent",
    }
}

/// MyDHL `registrationNumbers[].typeCode` (IOSS and VOEC go as `SDT`).
fn registration_type(k: TaxIdKind) -> &'static str {
    match k {
        TaxIdKind::Eori => "EOR",
        TaxIdKind::Vat => "VAT",
        TaxIdKind::Ioss | TaxIdKind::Voec => "SDT",
        TaxIdKind::Gst => "GST",
        TaxIdKind::Ein => "EIN",
        TaxIdKind::Tin => "TAX",
    }
}

/// MyDHL's quantity unit codes for the common units; others are sent as given.
fn quantity_unit(u: &str) -> &str {
    match u {
        "EA" | "PC" | "PCS" => "PCS",
        "PR" | "PRS" => "PRS",
        "DZ" | "DOZ" => "DOZ",
        "G" | "GM" => "GM",
        other => other,
    }
}

/// Adds the declaration to a shipment body: `content.exportDeclaration`
/// (line items with outbound commodity codes, invoice, charges), the
/// declared value, incoterm, US filing value, the parties' registration
/// numbers and who pays duties.
fn add_customs(v: &mut Value, d: &Declaration, metric: bool) -> Result<(), CarrierError> {
    let reason = export_reason_type(d.reason_for_export);
    let thousandth: Decimal = "0.001".parse().unwrap_or_default();
    let items: Vec<Value> = d
        .commodities
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let weight = num(round(if metric { c.line_weight_kg() } else { c.line_weight_lb() }, 3).max(thousandth));
            let mut item = json!({
                "number": i + 1,
                "description": c.description,
                "price": num(round(c.unit_value, 3)),
                "quantity": { "value": c.quantity, "unitOfMeasurement": quantity_unit(&c.unit) },
                "commodityCodes": [{ "typeCode": "outbound", "value": c.hs_code.as_str() }],
                "exportReasonType": reason,
                "manufacturerCountry": c.origin_country.as_str(),
                "weight": { "netValue": weight, "grossValue": weight },
            });
            if let Some(e) = &c.eccn {
                item["exportControlClassificationNumber"] = json!(e);
            }
            if let Some(sku) = &c.sku {
                // PAN: part number.
                item["customerReferences"] = json!([{ "typeCode": "PAN", "value": sku }]);
            }
            item
        })
        .collect();
    let mut invoice = json!({
        "number": d.invoice_number.clone().unwrap_or_else(|| "N/A".into()),
        "date": d.invoice_date.map(|x| x.to_string()).unwrap_or_else(|| v["plannedShippingDateAndTime"].as_str().unwrap_or("").chars().take(10).collect()),
    });
    if let Some(signer) = &d.signer {
        invoice["signatureName"] = json!(signer.name);
        if let Some(t) = &signer.title {
            invoice["signatureTitle"] = json!(t);
        }
    }
    if let Some(po) = &d.po_number {
        // PON: purchase order number.
        invoice["customerReferences"] = json!([{ "typeCode": "PON", "value": po }]);
    }
    let mut declaration = json!({
        "lineItems": items,
        "invoice": invoice,
        "exportReasonType": reason,
        "shipmentType": if matches!(d.reason_for_export, ExportReason::Gift | ExportReason::PersonalUse) { "personal" } else { "commercial" },
    });
    if let Some(r) = &d.reason_explanation {
        declaration["exportReason"] = json!(r);
    }
    let charges: Vec<Value> = [
        ("freight", d.freight_charge),
        ("insurance", d.insurance_charge),
        ("other", d.other_charges),
    ]
    .into_iter()
    .filter_map(|(kind, amount)| amount.map(|a| json!({ "value": num(round(a, 2)), "typeCode": kind })))
    .collect();
    if !charges.is_empty() {
        declaration["additionalCharges"] = json!(charges);
    }
    let licences: Vec<Value> = d
        .commodities
        .iter()
        .filter_map(|c| c.export_licence.as_ref())
        .map(|l| json!({ "typeCode": "export", "value": l }))
        .collect();
    if !licences.is_empty() {
        declaration["licenses"] = json!(licences);
    }
    if let Some(t) = &d.declaration_statement {
        declaration["declarationNotes"] = json!([{ "value": t }]);
    }
    let content = &mut v["content"];
    content["isCustomsDeclarable"] = json!(true);
    content["declaredValue"] = num(round(d.total_value(), 2));
    content["declaredValueCurrency"] = json!(d.currency.as_str());
    content["incoterm"] = json!(d.incoterm.code());
    let description: String = d.commodities.iter().map(|c| c.description.as_str()).collect::<Vec<_>>().join(", ");
    content["description"] = json!(description.chars().take(70).collect::<String>());
    if let Some(filing) = d.export_filing.printed() {
        content["USFilingTypeValue"] = json!(filing);
    }
    content["exportDeclaration"] = declaration;
    for (who, ids) in [("shipperDetails", &d.exporter_tax_ids), ("receiverDetails", &d.importer_tax_ids)] {
        if !ids.is_empty() {
            v["customerDetails"][who]["registrationNumbers"] = json!(ids
                .iter()
                .map(|t| json!({ "typeCode": registration_type(t.kind), "number": t.number, "issuerCountryCode": t.country.as_str() }))
                .collect::<Vec<_>>());
        }
    }
    match (d.duties_payer, &d.duties_account) {
        // Duties paid by the shipper: the DD (duty paid) service.
        (DutiesPayer::Sender, _) => v["valueAddedServices"] = json!([{ "serviceCode": "DD" }]),
        (_, Some(account)) => {
            if let Some(accounts) = v["accounts"].as_array_mut() {
                accounts.push(json!({ "typeCode": "duties-taxes", "number": account }));
            }
        }
        (_, None) => {}
    }
    Ok(())
}

fn ship_date(s: &Shipment) -> String {
    s.ship_date.unwrap_or_else(Date::today).to_string()
}

/// Seconds since the epoch of a checkpoint's local `YYYY-MM-DD`, `HH:MM:SS`
/// and `±HH:MM` offset (taken as UTC when absent).
fn epoch_seconds(date: &str, time: &str, offset: Option<&str>) -> Option<i64> {
    let n = |s: &str, r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, m, d) = (n(date, 0..4)?, n(date, 5..7)?, n(date, 8..10)?);
    let secs = if time.is_empty() {
        0
    } else {
        n(time, 0..2)? * 3600 + n(time, 3..5)? * 60 + n(time, 6..8).unwrap_or(0)
    };
    let off = match offset {
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (n(o, 1..3)? * 3600 + n(o, 4..6)? * 60)
        }
        None => 0,
    };
    let days = crate::calendar::days_from_civil(y, m, d);
    Some(days * 86_400 + secs - off)
}

fn message_reference() -> String {
    let r: u128 = rand::random();
    // RFC 4122 version 4: version nibble 4, variant bits 10.
    let r = (r & !(0xfu128 << 76) & !(0x3u128 << 62)) | (0x4u128 << 76) | (0x2u128 << 62);
    let h = format!("{r:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Parses JSON with every number kept as its source text (a string value), so
/// amounts never pass through f64.
fn read_json(text: &[u8]) -> Result<Json<'_>, CarrierError> {
    Json::parse(text).map_err(|e| CarrierError::Parse(format!("invalid JSON from DHL: {e}")))
}

/// A decimal from a (quoted) JSON number or a numeric string, exponents included.
fn dec(v: &Json<'_>) -> Option<Decimal> {
    v.decimal()
}

fn whole(d: Decimal) -> Option<u32> {
    let c = d.to_cents();
    (c >= 0 && c % 100 == 0).then(|| u32::try_from(c / 100).ok()).flatten()
}

fn str_at<'a>(v: &'a Json<'_>, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Json::as_str).filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD…` → the date.
fn date_prefix(s: &str) -> Option<Date> {
    s.get(..10).and_then(|d| d.parse().ok())
}

/// The preferred priced entry of a DHL price list (`totalPrice`, `shipmentCharges`).
fn pick_price<'a>(list: Option<&'a Json<'_>>) -> Option<(&'a str, Money)> {
    let list = list?.as_array()?;
    let priced = |e: &&Json<'_>| e.get("price").and_then(dec).is_some() && str_at(e, "priceCurrency").is_some();
    let entry = CURRENCY_PREFERENCE
        .iter()
        .find_map(|t| list.iter().filter(priced).find(|e| str_at(e, "currencyType") == Some(t)))
        .or_else(|| list.iter().find(priced))?;
    Some((
        str_at(entry, "currencyType").unwrap_or(""),
        Money {
            amount: dec(entry.get("price")?)?,
            currency: str_at(entry, "priceCurrency")?.to_string(),
        },
    ))
}

fn breakdown(p: &Json<'_>, currency_type: &str, currency: &str) -> Vec<Charge> {
    let Some(list) = p.get("detailedPriceBreakdown").and_then(Json::as_array) else {
        return Vec::new();
    };
    let Some(entry) = list.iter().find(|e| str_at(e, "currencyType") == Some(currency_type)) else {
        return Vec::new();
    };
    let currency = str_at(entry, "priceCurrency").unwrap_or(currency);
    entry
        .get("breakdown")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let name = str_at(b, "name");
            // The line without a service code is the product's base charge.
            let code = str_at(b, "serviceCode").map(str::to_string).unwrap_or_else(|| "BASE".to_string());
            Some(Charge {
                code,
                description: name.map(str::to_string),
                amount: Money {
                    amount: dec(b.get("price")?)?,
                    currency: currency.to_string(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let reply = quoted(br#"{"a": 157.95, "b": "x\"1", "c": [-0.1, 2e2, 1.25E-1], "d": true}"#);
        let v = read_json(&reply).unwrap();
        assert_eq!(dec(&v["a"]).unwrap().to_string(), "157.95");
        assert_eq!(v["b"].as_str(), Some("x\"1"));
        assert_eq!(dec(&v["c"][0]).unwrap().to_string(), "-0.1");
        assert_eq!(dec(&v["c"][1]).unwrap().to_string(), "200");
        assert_eq!(dec(&v["c"][2]).unwrap().to_string(), "0.125");
        assert_eq!(v["d"].as_bool(), Some(true));
    }

    #[test]
    fn checkpoint_instants() {
        assert_eq!(epoch_seconds("1970-01-01", "00:00:00", None), Some(0));
        assert_eq!(epoch_seconds("2025-03-17", "14:02:11", Some("-04:00")), Some(1_742_234_531));
        assert_eq!(epoch_seconds("2025-03-17", "19:02:11", Some("+01:00")), Some(1_742_234_531));
        assert_eq!(epoch_seconds("2025-3-17", "", None), None);
    }

    #[test]
    fn message_reference_is_a_uuid() {
        let r = message_reference();
        assert_eq!(r.len(), 36);
        assert_eq!(&r[14..15], "4");
    }
}
