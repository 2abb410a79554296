//! FedEx adapter over FedEx's REST APIs: OAuth client-credentials token,
//! `rate/v1` quotes across services, `ship/v1` shipments and cancel, and
//! `track/v1` tracking by number.
//!
//! Request bodies are built and responses read by pure functions so tests can
//! check both against the published schemas without a server.
//!
//! Amounts: FedEx sends money as JSON numbers and this build of serde_json
//! reads numbers as f64. Before parsing, `quote_numbers` rewrites every number
//! outside a string into a string holding its exact text, so `15.23` reaches
//! `Decimal::from_str` as the characters `15.23` and is never rounded.

use std::cmp::Reverse;

use base64::Engine as _;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::{json, Value};

use super::json::{number, quoted, Json};

use super::{
    customs_of, Address, CarrierAccount, CarrierError, CarrierHttp, Charge, Label, LabelFormat, LabelRequest, LengthUnit, Money, Package,
    Rate, Shipment, TokenSource, Tracking, TrackingEvent, TrackingStatus, WeightUnit,
};
use crate::customs::{round, ContentsType, CurrencyCode, Declaration, DutiesPayer, ExportFiling, ExportReason, TaxId, TaxIdKind};
use crate::model::{Date, Decimal};

const CARRIER: &str = "fedex";

/// FedEx.
pub struct FedEx {
    account: CarrierAccount,
    http: CarrierHttp,
    token: TokenSource,
    /// Track may sit on its own API project (`extra.track_key` / `extra.track_secret`).
    track_token: Option<TokenSource>,
}

fn token_source(base: &str, key: &str, secret: &str) -> TokenSource {
    let (url, key, secret) = (format!("{base}/oauth/token"), key.to_string(), secret.to_string());
    TokenSource::new(move |c| {
        c.post(&url).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", key.as_str()),
            ("client_secret", secret.as_str()),
        ])
    })
}

impl FedEx {
    /// The adapter for one account.
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        // Missing settings are reported by each call (`check`), not here.
        let base = account.base().unwrap_or_default();
        let token = token_source(
            base,
            account.key.as_deref().unwrap_or_default(),
            account.secret.as_deref().unwrap_or_default(),
        );
        let track_token = match (account.extra.get("track_key"), account.extra.get("track_secret")) {
            (Some(k), Some(s)) => Some(token_source(base, k, s)),
            _ => None,
        };
        Self {
            account: account.clone(),
            http,
            token,
            track_token,
        }
    }

    fn check(&self) -> Result<&str, CarrierError> {
        self.account.need("key", &self.account.key)?;
        self.account.need("secret", &self.account.secret)?;
        self.account.base()
    }

    fn account_number(&self) -> Result<&str, CarrierError> {
        self.account.need("account_number", &self.account.account_number)
    }

    /// Sends one JSON call; returns the body of a 2xx answer, else the mapped error.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        auth: &TokenSource,
        idempotent: bool,
    ) -> Result<bytes::Bytes, CarrierError> {
        let url = format!("{}{path}", self.check()?);
        let payload = bytes::Bytes::from(serde_json::to_vec(body).map_err(|e| CarrierError::Invalid(e.to_string()))?);
        // One id for every attempt, so retries can be matched in FedEx's logs.
        let txid = crate::store::new_id("tl-");
        let reply = self
            .http
            .send(
                |c| {
                    c.request(method.clone(), &url)
                        .header(CONTENT_TYPE, "application/json")
                        .header("x-locale", "en_US")
                        .header("x-customer-transaction-id", &txid)
                        .body(payload.clone())
                },
                Some(auth),
                idempotent,
            )
            .await?;
        if reply.status.is_success() {
            Ok(reply.body)
        } else {
            Err(Self::parse_error(reply.status.as_u16(), &reply.body))
        }
    }

    /// Rate quotes across FedEx services (no `serviceType`: FedEx answers every service).
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        if s.packages.is_empty() {
            return Err(CarrierError::Invalid("shipment has no packages".into()));
        }
        let body = self.rate_request(s)?;
        let reply = self.call(Method::POST, "/rate/v1/rates/quotes", &body, &self.token, true).await?;
        let mut rates = Self::parse_rates(&reply)?;
        // Express answers carry a commit date, not a transit word: count business days from the ship date.
        if let Some(ship) = s.ship_date {
            for r in rates.iter_mut().filter(|r| r.transit_days.is_none()) {
                r.transit_days = r.estimated_delivery.and_then(|d| business_days(ship, d));
            }
        }
        Ok(rates)
    }

    /// Buys a label (never retried: a second POST could buy a second label).
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        let body = self.ship_request(r)?;
        let reply = self.call(Method::POST, "/ship/v1/shipments", &body, &self.token, false).await?;
        let mut label = Self::parse_label(&reply)?;
        // The service bought is the one asked for (FedEx echoes it).
        label.service_code = r.service_code.clone();
        Ok(label)
    }

    /// Cancels a shipment by its (master) tracking number.
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        let body = self.cancel_request(label)?;
        let reply = self
            .call(Method::PUT, "/ship/v1/shipments/cancel", &body, &self.token, true)
            .await?;
        Self::parse_cancel(&reply)
    }

    /// Tracks one tracking number.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        let number = number.trim();
        if number.is_empty() {
            return Err(CarrierError::Invalid("empty tracking number".into()));
        }
        let auth = self.track_token.as_ref().unwrap_or(&self.token);
        let reply = self
            .call(Method::POST, "/track/v1/trackingnumbers", &Self::track_request(number), auth, true)
            .await?;
        Self::parse_tracking(&reply)
    }

    // ---- request builders ----

    /// Body of `POST /rate/v1/rates/quotes`.
    pub fn rate_request(&self, s: &Shipment) -> Result<Value, CarrierError> {
        let mut shipment = json!({
            "shipper": { "address": address(&s.from) },
            "recipient": { "address": address(&s.to) },
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "packagingType": "YOUR_PACKAGING",
            "rateRequestType": ["ACCOUNT", "LIST"],
            "totalPackageCount": s.packages.len(),
            "requestedPackageLineItems": s.packages.iter().map(|p| package(p, None)).collect::<Vec<_>>(),
        });
        if let Some(d) = s.ship_date {
            shipment["shipDateStamp"] = json!(d.to_string());
        }
        if let Some(d) = customs_of(s, false)? {
            shipment["customsClearanceDetail"] = customs_clearance(&d, self.account_number()?, false)?;
        }
        Ok(json!({
            "accountNumber": { "value": self.account_number()? },
            "rateRequestControlParameters": { "returnTransitTimes": true, "rateSortOrder": "SERVICENAMETRADITIONAL" },
            "requestedShipment": shipment,
        }))
    }

    /// Body of `POST /ship/v1/shipments` (label bytes returned inline).
    pub fn ship_request(&self, r: &LabelRequest) -> Result<Value, CarrierError> {
        let s = &r.shipment;
        if s.packages.is_empty() {
            return Err(CarrierError::Invalid("shipment has no packages".into()));
        }
        if r.service_code.trim().is_empty() {
            return Err(CarrierError::Invalid("no FedEx service type".into()));
        }
        let (image, stock) = match r.label_format {
            LabelFormat::Pdf => ("PDF", "PAPER_4X6"),
            LabelFormat::Png => ("PNG", "PAPER_4X6"),
            LabelFormat::Zpl => ("ZPLII", "STOCK_4X6"),
        };
        let mut shipment = json!({
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "serviceType": r.service_code,
            "packagingType": "YOUR_PACKAGING",
            "shipper": { "contact": contact(&s.from, "shipper")?, "address": address(&s.from) },
            "recipients": [ { "contact": contact(&s.to, "recipient")?, "address": address(&s.to) } ],
            "shippingChargesPayment": { "paymentType": "SENDER" },
            "labelSpecification": { "imageType": image, "labelStockType": stock },
            "totalPackageCount": s.packages.len(),
            "requestedPackageLineItems": s.packages.iter().enumerate().map(|(i, p)| package(p, Some(i + 1))).collect::<Vec<_>>(),
        });
        if let Some(d) = s.ship_date {
            // Ship spells it `shipDatestamp`, Rate `shipDateStamp`.
            shipment["shipDatestamp"] = json!(d.to_string());
        }
        if let Some(d) = customs_of(s, true)? {
            shipment["customsClearanceDetail"] = customs_clearance(&d, self.account_number()?, true)?;
            let tins = |ids: &[TaxId]| ids.iter().map(tin).collect::<Vec<_>>();
            if !d.exporter_tax_ids.is_empty() {
                shipment["shipper"]["tins"] = json!(tins(&d.exporter_tax_ids));
            }
            if !d.importer_tax_ids.is_empty() {
                shipment["recipients"][0]["tins"] = json!(tins(&d.importer_tax_ids));
            }
        }
        Ok(json!({
            "labelResponseOptions": "LABEL",
            "accountNumber": { "value": self.account_number()? },
            "shipAction": "CONFIRM",
            "requestedShipment": shipment,
        }))
    }

    /// Body of `PUT /ship/v1/shipments/cancel`.
    pub fn cancel_request(&self, label: &Label) -> Result<Value, CarrierError> {
        let number = label
            .tracking_numbers
            .first()
            .or(label.shipment_id.as_ref())
            .ok_or_else(|| CarrierError::Invalid("label has no tracking number".into()))?;
        Ok(json!({
            "accountNumber": { "value": self.account_number()? },
            "trackingNumber": number,
            "deletionControl": "DELETE_ALL_PACKAGES",
            "emailShipment": false,
        }))
    }

    /// Body of `POST /track/v1/trackingnumbers`.
    pub fn track_request(number: &str) -> Value {
        json!({
            "includeDetailedScans": true,
            "trackingInfo": [ { "trackingNumberInfo": { "trackingNumber": number } } ],
        })
    }

    // ---- response parsers ----

    /// The error of a non-2xx answer: FedEx's `errors[0]` when readable.
    ///
    /// Statuses with their own meaning keep their variant (401/403 → `Auth`, 429 →
    /// `RateLimited`, 5xx → `Unavailable`); other answers with a FedEx error become `Rejected`.
    pub fn parse_error(status: u16, body: &[u8]) -> CarrierError {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let first = &v["errors"][0];
        let code = first["code"].as_str().unwrap_or_default();
        let message = first["message"].as_str().unwrap_or_default();
        match status {
            401 | 403 if !code.is_empty() => CarrierError::Auth(format!("{code}: {message}")),
            401 | 403 | 429 | 500..=599 => CarrierError::from_status(status, body),
            _ if !code.is_empty() => CarrierError::Rejected {
                carrier: CARRIER,
                code: code.to_string(),
                message: message.to_string(),
            },
            _ => CarrierError::from_status(status, body),
        }
    }

    /// Rates from a rate reply, one per service, priced with the ACCOUNT rate when present.
    pub fn parse_rates(body: &[u8]) -> Result<Vec<Rate>, CarrierError> {
        let reply = quoted(body);
        let v = read(&reply)?;
        let out = &v["output"];
        let Some(details) = out["rateReplyDetails"].as_array() else {
            return Err(match alert_error(&out["alerts"]) {
                Some(e) => e,
                None => CarrierError::Parse("rate reply without output.rateReplyDetails".into()),
            });
        };
        details.iter().map(rate).collect()
    }

    /// The label from a ship reply: tracking numbers (master first) and base64 images per package.
    pub fn parse_label(body: &[u8]) -> Result<Label, CarrierError> {
        let reply = quoted(body);
        let v = read(&reply)?;
        let shipment = &v["output"]["transactionShipments"][0];
        if shipment.is_null() {
            return Err(CarrierError::Parse("ship reply without output.transactionShipments".into()));
        }
        let pieces = shipment["pieceResponses"].as_array().unwrap_or_default();
        let mut tracking_numbers: Vec<String> = Vec::new();
        let master = text(&shipment["masterTrackingNumber"])
            .or_else(|| text(&shipment["completedShipmentDetail"]["masterTrackingId"]["trackingNumber"]));
        tracking_numbers.extend(master);
        let mut labels = Vec::new();
        let mut format = None;
        for p in pieces {
            if let Some(n) = text(&p["trackingNumber"]) {
                if !tracking_numbers.contains(&n) {
                    tracking_numbers.push(n);
                }
            }
            for doc in p["packageDocuments"].as_array().unwrap_or_default() {
                if doc["contentType"].as_str().is_some_and(|c| c != "LABEL") {
                    continue;
                }
                let Some(image) = text(&doc["encodedLabel"]) else { continue };
                base64::engine::general_purpose::STANDARD
                    .decode(image.as_bytes())
                    .map_err(|e| CarrierError::Parse(format!("label image is not base64: {e}")))?;
                format = format.or(match doc["docType"].as_str() {
                    Some("PDF") => Some(LabelFormat::Pdf),
                    Some("PNG") => Some(LabelFormat::Png),
                    Some("ZPLII") => Some(LabelFormat::Zpl),
                    _ => None,
                });
                labels.push(image);
            }
        }
        if tracking_numbers.is_empty() {
            return Err(CarrierError::Parse("ship reply without a tracking number".into()));
        }
        if labels.is_empty() {
            return Err(CarrierError::Parse("ship reply without an encoded label".into()));
        }
        Ok(Label {
            carrier: CARRIER.into(),
            service_code: text(&shipment["serviceType"]).unwrap_or_default(),
            shipment_id: None,
            tracking_numbers,
            label_format: format.unwrap_or_default(),
            labels,
            charges: label_charges(shipment),
        })
    }

    /// Checks a cancel reply: `cancelledShipment` must be true.
    pub fn parse_cancel(body: &[u8]) -> Result<(), CarrierError> {
        let reply = quoted(body);
        let v = read(&reply)?;
        let out = &v["output"];
        match out["cancelledShipment"].as_bool() {
            Some(true) => Ok(()),
            Some(false) => Err(CarrierError::Rejected {
                carrier: CARRIER,
                code: "SHIPMENT.CANCEL.FAILED".into(),
                message: text(&out["message"]).unwrap_or_else(|| "shipment was not cancelled".into()),
            }),
            None => Err(CarrierError::Parse("cancel reply without output.cancelledShipment".into())),
        }
    }

    /// Tracking of the first number in a track reply; a per-result `error` (HTTP 200) becomes `Rejected`.
    pub fn parse_tracking(body: &[u8]) -> Result<Tracking, CarrierError> {
        let reply = quoted(body);
        let v = read(&reply)?;
        let complete = &v["output"]["completeTrackResults"][0];
        let result = &complete["trackResults"][0];
        if result.is_null() {
            return Err(CarrierError::Parse(
                "track reply without output.completeTrackResults[].trackResults".into(),
            ));
        }
        if let Some(code) = text(&result["error"]["code"]) {
            return Err(CarrierError::Rejected {
                carrier: CARRIER,
                code,
                message: text(&result["error"]["message"]).unwrap_or_default(),
            });
        }
        let tracking_number = text(&result["trackingNumberInfo"]["trackingNumber"])
            .or_else(|| text(&complete["trackingNumber"]))
            .unwrap_or_default();
        let mut events: Vec<TrackingEvent> = result["scanEvents"]
            .as_array()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let raw = text(&e["eventType"]).or_else(|| text(&e["derivedStatusCode"])).unwrap_or_default();
                let derived = text(&e["derivedStatusCode"]).unwrap_or_else(|| raw.clone());
                TrackingEvent {
                    occurred_at: text(&e["date"]).unwrap_or_default(),
                    // The scan code is the more specific (FedEx derives OD scans as IT).
                    status: status_of(&raw).or_else(|| status_of(&derived)).unwrap_or(TrackingStatus::Unknown),
                    carrier_code: raw,
                    description: text(&e["eventDescription"])
                        .or_else(|| text(&e["derivedStatus"]))
                        .unwrap_or_default(),
                    location: location(&e["scanLocation"]),
                }
            })
            .collect();
        // FedEx lists newest first; sort anyway, by instant (timestamps carry different offsets).
        // The sort is stable, so equal or unreadable timestamps keep FedEx's order.
        events.sort_by_key(|e| Reverse(instant(&e.occurred_at)));
        let latest = &result["latestStatusDetail"];
        let code = text(&latest["code"]).or_else(|| text(&latest["derivedCode"]));
        let (status, carrier_code) = match code {
            Some(code) => {
                let status = status_of(&code)
                    .or_else(|| text(&latest["derivedCode"]).and_then(|d| status_of(&d)))
                    .unwrap_or(TrackingStatus::Unknown);
                (status, code)
            }
            None => events
                .first()
                .map(|e| (e.status, e.carrier_code.clone()))
                .unwrap_or((TrackingStatus::Unknown, String::new())),
        };
        let estimated_delivery = result["dateAndTimes"]
            .as_array()
            .unwrap_or_default()
            .iter()
            .find(|d| d["type"].as_str() == Some("ESTIMATED_DELIVERY"))
            .and_then(|d| date_prefix(&d["dateTime"]))
            .or_else(|| date_prefix(&result["estimatedDeliveryTimeWindow"]["window"]["ends"]));
        Ok(Tracking {
            carrier: CARRIER.into(),
            tracking_number,
            status,
            carrier_code,
            estimated_delivery,
            events,
        })
    }
}

// ---- request pieces ----

fn address(a: &Address) -> Value {
    let mut v = json!({
        "streetLines": a.street,
        "city": a.city,
        "postalCode": a.postal_code,
        "countryCode": a.country,
        "residential": a.residential,
    });
    if let Some(s) = &a.state {
        v["stateOrProvinceCode"] = json!(s);
    }
    v
}

fn contact(a: &Address, role: &str) -> Result<Value, CarrierError> {
    let phone = a
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| CarrierError::Invalid(format!("FedEx needs the {role}'s phone number")))?;
    if a.name.is_none() && a.company.is_none() {
        return Err(CarrierError::Invalid(format!("FedEx needs the {role}'s name or company")));
    }
    let mut v = json!({ "phoneNumber": phone });
    if let Some(n) = &a.name {
        v["personName"] = json!(n);
    }
    if let Some(c) = &a.company {
        v["companyName"] = json!(c);
    }
    if let Some(e) = &a.email {
        v["emailAddress"] = json!(e);
    }
    Ok(v)
}

/// Money as FedEx's JSON number, rounded to cents first (two decimals survive
/// the float formatting exactly).
fn amount(d: Decimal, currency: CurrencyCode) -> Value {
    json!({ "amount": number(round(d, 2)), "currency": currency.as_str() })
}

/// `shipmentPurpose` of the commercial invoice.
fn purpose(r: ExportReason) -> &'static str {
    match r {
        ExportReason::Sale => "SOLD",
        ExportReason::Gift => "GIFT",
        ExportReason::Sample => "SAMPLE",
        ExportReason::Repair | ExportReason::Return => "REPAIR_AND_RETURN",
        ExportReason::PersonalUse => "PERSONAL_EFFECTS",
        ExportReason::Intercompany | ExportReason::Temporary | ExportReason::Other => "NOT_SOLD",
    }
}

/// A party's `tins[]` entry.
fn tin(t: &TaxId) -> Value {
    let kind = match t.kind {
        TaxIdKind::Eori | TaxIdKind::Ioss => "BUSINESS_UNION",
        TaxIdKind::Ein => "FEDERAL",
        _ => "BUSINESS_NATIONAL",
    };
    json!({ "number": t.number, "tinType": kind })
}

/// FedEx spells exemption legends as codes: `NO EEI 30.37(a)` → `NO_EEI_30_37_A`.
fn exemption_code(legend: &str) -> String {
    let mut out = String::new();
    for ch in legend.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_uppercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// `customsClearanceDetail` of a ship request (`full`), or the subset the rate API takes.
fn customs_clearance(d: &Declaration, account: &str, full: bool) -> Result<Value, CarrierError> {
    let metric = !d.origin.is_any(&["US", "PR"]);
    let commodities: Vec<Value> = d
        .commodities
        .iter()
        .map(|c| {
            let (weight, units) = if metric {
                (c.line_weight_kg(), "KG")
            } else {
                (c.line_weight_lb(), "LB")
            };
            let hundredth: Decimal = "0.01".parse().unwrap_or_default();
            let mut v = json!({
                "description": c.description,
                "quantity": c.quantity,
                "quantityUnits": c.unit,
                "numberOfPieces": 1,
                "unitPrice": amount(c.unit_value, d.currency),
                "customsValue": amount(c.line_value(), d.currency),
                "weight": { "units": units, "value": number(round(weight, 2).max(hundredth)) },
                "countryOfManufacture": c.origin_country.as_str(),
                "harmonizedCode": c.hs_code.as_str(),
            });
            if let Some(sku) = &c.sku {
                v["partNumber"] = json!(sku);
            }
            if let Some(l) = &c.export_licence {
                v["exportLicenseNumber"] = json!(l);
            }
            v
        })
        .collect();
    let payment_type = match d.duties_payer {
        DutiesPayer::Sender => "SENDER",
        DutiesPayer::Recipient => "RECIPIENT",
        DutiesPayer::ThirdParty => "THIRD_PARTY",
    };
    let mut duties = json!({ "paymentType": payment_type });
    let payor_account = match d.duties_payer {
        DutiesPayer::Sender => Some(account),
        _ => d.duties_account.as_deref(),
    };
    if let Some(a) = payor_account {
        duties["payor"] = json!({ "responsibleParty": { "accountNumber": { "value": a } } });
    }
    let mut v = json!({ "dutiesPayment": duties, "commodities": commodities });
    if !full {
        return Ok(v);
    }
    let mut invoice = json!({ "shipmentPurpose": purpose(d.reason_for_export), "termsOfSale": d.incoterm.code() });
    let mut references = Vec::new();
    if let Some(n) = &d.invoice_number {
        references.push(json!({ "customerReferenceType": "INVOICE_NUMBER", "value": n }));
    }
    if let Some(n) = &d.po_number {
        references.push(json!({ "customerReferenceType": "P_O_NUMBER", "value": n }));
    }
    if !references.is_empty() {
        invoice["customerReferences"] = json!(references);
    }
    if let Some(f) = d.freight_charge {
        invoice["freightCharge"] = amount(f, d.currency);
    }
    if let Some(i) = d.insurance_charge {
        invoice["insuranceCharge"] = amount(i, d.currency);
    }
    if let Some(t) = &d.declaration_statement {
        invoice["declarationStatement"] = json!(t);
    }
    v["isDocumentOnly"] = json!(d.contents_type == ContentsType::Documents);
    v["commercialInvoice"] = invoice;
    v["totalCustomsValue"] = amount(d.total_value(), d.currency);
    match &d.export_filing {
        // FedEx's example spells it `AESX20220714987654`.
        ExportFiling::Itn(itn) => v["exportDetail"] = json!({ "exportComplianceStatement": format!("AES{}", itn.as_str()) }),
        ExportFiling::Exemption(legend) => v["exportDetail"] = json!({ "exportComplianceStatement": exemption_code(legend) }),
        ExportFiling::NotApplicable => {}
    }
    Ok(v)
}

/// FedEx dimensions are whole units: round up, never down.
fn whole_up(d: Decimal) -> i64 {
    let cents = d.to_cents().max(0);
    cents.saturating_add(99) / 100
}

fn package(p: &Package, sequence: Option<usize>) -> Value {
    let mut v = json!({
        "weight": {
            "units": match p.weight_unit { WeightUnit::Lb => "LB", WeightUnit::Kg => "KG" },
            "value": number(p.weight),
        },
    });
    if let Some(d) = &p.dimensions {
        v["dimensions"] = json!({
            "length": whole_up(d.length),
            "width": whole_up(d.width),
            "height": whole_up(d.height),
            "units": match d.unit { LengthUnit::In => "IN", LengthUnit::Cm => "CM" },
        });
    }
    if let Some(n) = sequence {
        v["sequenceNumber"] = json!(n);
        if let Some(r) = &p.reference {
            v["customerReferences"] = json!([ { "customerReferenceType": "CUSTOMER_REFERENCE", "value": r } ]);
        }
    }
    v
}

// ---- response pieces ----

/// A FedEx reply with every number as its text.
fn read(text: &[u8]) -> Result<Json<'_>, CarrierError> {
    Json::parse(text).map_err(|e| CarrierError::Parse(format!("FedEx reply is not JSON: {e}")))
}

/// A non-empty string (numbers arrive as strings, see `quote_numbers`).
fn text(v: &Json<'_>) -> Option<String> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A decimal from a number's text, exponent form included (`1.5E1`).
fn decimal(v: &Json<'_>) -> Option<Decimal> {
    v.decimal()
}

fn money(amount: Decimal, currency: &str) -> Money {
    Money {
        amount,
        currency: currency.to_string(),
    }
}

/// A 200 answer without results but with a WARNING/ERROR alert (e.g. no service to that address).
fn alert_error(alerts: &Json<'_>) -> Option<CarrierError> {
    let a = alerts
        .as_array()?
        .iter()
        .find(|a| matches!(a["alertType"].as_str(), Some("WARNING") | Some("ERROR")))?;
    Some(CarrierError::Rejected {
        carrier: CARRIER,
        code: text(&a["code"]).unwrap_or_default(),
        message: text(&a["message"]).unwrap_or_default(),
    })
}

/// Which rated detail prices the quote: what the account pays, else the first, LIST last.
fn pick_rated<'b, 'a>(details: &'b [Json<'a>]) -> Option<&'b Json<'a>> {
    let kind = |d: &Json<'_>| d["rateType"].as_str().unwrap_or_default().to_string();
    details
        .iter()
        .find(|d| kind(d) == "ACCOUNT")
        .or_else(|| details.iter().find(|d| kind(d).starts_with("PAYOR_ACCOUNT")))
        .or_else(|| details.iter().find(|d| kind(d) != "LIST"))
        .or_else(|| details.first())
}

fn rate(d: &Json<'_>) -> Result<Rate, CarrierError> {
    let service_code = text(&d["serviceType"]).ok_or_else(|| CarrierError::Parse("rate reply detail without serviceType".into()))?;
    let details = d["ratedShipmentDetails"].as_array().unwrap_or_default();
    let rated = pick_rated(details).ok_or_else(|| CarrierError::Parse(format!("{service_code}: no ratedShipmentDetails")))?;
    let detail = &rated["shipmentRateDetail"];
    let currency = text(&rated["currency"])
        .or_else(|| text(&detail["currency"]))
        .ok_or_else(|| CarrierError::Parse(format!("{service_code}: rate without currency")))?;
    let total = decimal(&rated["totalNetCharge"])
        .or_else(|| decimal(&rated["totalNetFedExCharge"]))
        .ok_or_else(|| CarrierError::Parse(format!("{service_code}: rate without a readable totalNetCharge")))?;
    let mut breakdown = Vec::new();
    if let Some(base) = decimal(&rated["totalBaseCharge"]) {
        breakdown.push(Charge {
            code: "BASE".into(),
            description: Some("Base charge".into()),
            amount: money(base, &currency),
        });
    }
    for (list, what) in [(&detail["surCharges"], "surcharge"), (&detail["taxes"], "tax")] {
        for c in list.as_array().unwrap_or_default() {
            let amount = decimal(&c["amount"]).ok_or_else(|| CarrierError::Parse(format!("{service_code}: {what} without amount")))?;
            breakdown.push(Charge {
                code: text(&c["type"]).unwrap_or_else(|| what.to_uppercase()),
                description: text(&c["description"]),
                amount: money(amount, &currency),
            });
        }
    }
    if let Some(discount) = decimal(&rated["totalDiscounts"]).filter(|d| !d.is_zero()) {
        // FedEx reports discounts as a positive amount taken off.
        breakdown.push(Charge {
            code: "DISCOUNT".into(),
            description: Some("Discounts".into()),
            amount: money(discount * Decimal::from_int(-1), &currency),
        });
    }
    let op = &d["operationalDetail"];
    let transit_days = op["transitTime"]
        .as_str()
        .and_then(transit_word)
        .or_else(|| d["commit"]["daysInTransit"].as_str().and_then(transit_word));
    let estimated_delivery = date_prefix(&op["deliveryDate"])
        .or_else(|| date_prefix(&op["commitDate"]))
        .or_else(|| date_prefix(&d["commit"]["dateDetail"]["dayFormat"]));
    // Only a commitment FedEx states as money-back eligible counts as guaranteed.
    let guaranteed = estimated_delivery.is_some() && op["ineligibleForMoneyBackGuarantee"].as_bool() == Some(false);
    Ok(Rate {
        carrier: CARRIER.into(),
        service_name: text(&d["serviceName"])
            .or_else(|| text(&d["serviceDescription"]["description"]))
            .unwrap_or_else(|| service_code.clone()),
        service_code,
        total: money(total, &currency),
        breakdown,
        transit_days,
        estimated_delivery,
        guaranteed,
    })
}

/// `ONE_DAY` … `TWENTY_DAYS` → 1 … 20.
fn transit_word(w: &str) -> Option<u32> {
    const WORDS: [&str; 20] = [
        "ONE",
        "TWO",
        "THREE",
        "FOUR",
        "FIVE",
        "SIX",
        "SEVEN",
        "EIGHT",
        "NINE",
        "TEN",
        "ELEVEN",
        "TWELVE",
        "THIRTEEN",
        "FOURTEEN",
        "FIFTEEN",
        "SIXTEEN",
        "SEVENTEEN",
        "EIGHTEEN",
        "NINETEEN",
        "TWENTY",
    ];
    let head = w.strip_suffix("_DAYS").or_else(|| w.strip_suffix("_DAY"))?;
    WORDS.iter().position(|x| *x == head).map(|i| i as u32 + 1)
}

fn label_charges(shipment: &Json<'_>) -> Money {
    let rating = shipment["completedShipmentDetail"]["shipmentRating"]["shipmentRateDetails"]
        .as_array()
        .unwrap_or_default();
    let rated = rating
        .iter()
        .find(|r| r["rateType"].as_str().is_some_and(|t| t.starts_with("PAYOR_ACCOUNT")))
        .or_else(|| rating.first());
    if let Some(r) = rated {
        if let (Some(amount), Some(currency)) = (decimal(&r["totalNetCharge"]), text(&r["currency"])) {
            return money(amount, &currency);
        }
    }
    // Without shipment rating: the pieces' net charges. The label is already bought,
    // so an unpriced answer must not fail; the currency stays empty when FedEx gives none.
    let pieces = shipment["pieceResponses"].as_array().unwrap_or_default();
    let amount = pieces
        .iter()
        .filter_map(|p| decimal(&p["netChargeAmount"]))
        .fold(Decimal::default(), |a, b| a + b);
    let currency = pieces.iter().find_map(|p| text(&p["currency"])).unwrap_or_default();
    money(amount, &currency)
}

/// FedEx status codes (latest `derivedCode`/`code`, scan `derivedStatusCode`/`eventType`).
fn status_of(code: &str) -> Option<TrackingStatus> {
    use TrackingStatus::*;
    Some(match code {
        "OC" | "IN" => PreTransit,
        "PU" | "IT" | "AR" | "AF" | "DP" | "AA" | "AC" | "AP" | "CC" | "EA" | "EO" | "EP" | "FD" | "LO" | "OF" | "PF" | "PL" | "PM"
        | "PX" | "SF" | "TR" | "HP" => InTransit,
        "OD" => OutForDelivery,
        "DL" => Delivered,
        // Cancelled has no canonical status; the package will not arrive, so it is an exception.
        "DE" | "SE" | "CD" | "DY" | "DD" | "HL" | "CA" | "RC" => Exception,
        "RS" | "RP" => Returned,
        _ => return None,
    })
}

fn location(l: &Json<'_>) -> Option<String> {
    let parts: Vec<String> = ["city", "stateOrProvinceCode", "countryCode"]
        .iter()
        .filter_map(|k| text(&l[*k]))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The date of `2025-03-20` or `2025-03-20T10:30:00-05:00`.
fn date_prefix(v: &Json<'_>) -> Option<Date> {
    v.as_str()?.get(..10)?.parse().ok()
}

/// Weekdays after `from` up to and including `to`.
fn business_days(from: Date, to: Date) -> Option<u32> {
    let (a, b) = (from.days(), to.days());
    if b < a || b - a > 90 {
        return None;
    }
    // 1970-01-01 (day 0) was a Thursday: weekday 0 = Monday.
    Some(((a + 1)..=b).filter(|d| (d + 3).rem_euclid(7) < 5).count() as u32)
}

/// Seconds since the epoch of an ISO timestamp with optional offset (none: UTC).
fn instant(ts: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| ts.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = if ts.len() >= 19 {
        (n(11..13)?, n(14..16)?, n(17..19)?)
    } else {
        (0, 0, 0)
    };
    let rest = ts.get(19..).unwrap_or_default();
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest.as_bytes().first() {
        Some(b'+') | Some(b'-') => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(rest.len().saturating_sub(2)..)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
        _ => 0,
    };
    Some(crate::calendar::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let reply = quoted(br#"{"a": 15.23, "b": [-0.10, 1.5E1, 3], "c": "x\"1.0", "d": "2.5e-2"}"#);
        let v = read(&reply).unwrap();
        assert_eq!(v["a"].as_str(), Some("15.23"));
        assert_eq!(decimal(&v["b"][0]).unwrap().to_cents(), -10);
        assert_eq!(decimal(&v["b"][1]).unwrap(), Decimal::from_int(15));
        assert_eq!(v["c"].as_str(), Some("x\"1.0"));
        assert_eq!(decimal(&v["d"]).unwrap().to_string(), "0.025");
    }

    #[test]
    fn dates_and_days() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        // Mon 2025-03-17 → Thu 2025-03-20: 3 business days; Fri → Mon: 1.
        assert_eq!(business_days(d("2025-03-17"), d("2025-03-20")), Some(3));
        assert_eq!(business_days(d("2025-03-21"), d("2025-03-24")), Some(1));
        assert_eq!(instant("2025-03-18T07:13:56-05:00"), instant("2025-03-18T12:13:56Z"));
        assert_eq!(transit_word("THREE_DAYS"), Some(3));
        assert_eq!(transit_word("ONE_DAY"), Some(1));
        assert_eq!(whole_up("10.2".parse().unwrap()), 11);
    }
}
