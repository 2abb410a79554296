//! Mock landed-cost services: a Zonos-style `POST /v1/landed_cost` and the
//! DHL Express MyDHL `POST /landed-cost`, each on its own server so the DHL
//! carrier mock stays as it is. Both check credentials and required fields
//! and answer in the provider's own error shape, and compute duties, taxes
//! and fees from the tables in `fixtures/landed_cost/tariffs.json` (duty rate
//! by HS prefix and destination, VAT/GST by destination, de minimis
//! thresholds, clearance fees), so every answer is checkable to the cent.

use std::path::PathBuf;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{record, MockCarrier, MockState, RunningMock};
use crate::connectors::carriers::json::number as num;
use crate::connectors::carriers::json::{decimal, exact};
use crate::model::Decimal;

mod tariffs;

use tariffs::{compute, digits, percent, tables, Goods};

/// The service token the Zonos mock accepts.
pub const ZONOS_TOKEN: &str = "mock-zonos-token";

/// The provider settings each mock accepts, as TOML lines.
pub fn credentials(provider: &str) -> &'static str {
    match provider {
        "zonos" => "key = \"mock-zonos-token\"",
        _ => "key = \"mock-user\"\nsecret = \"mock-pass\"\naccount_number = \"123456789\"",
    }
}

/// The Zonos-style mock.
pub fn zonos() -> MockCarrier {
    MockCarrier {
        carrier: "zonos",
        routes: |cfg| {
            cfg.route("/v1/landed_cost", web::post().to(zonos_landed_cost));
        },
        fault_body: zonos_fault,
    }
}

/// The DHL Express landed-cost mock.
pub fn dhl() -> MockCarrier {
    MockCarrier {
        carrier: "dhl",
        routes: |cfg| {
            cfg.route("/landed-cost", web::post().to(dhl_landed_cost));
        },
        fault_body: dhl_fault,
    }
}

/// Starts both mocks on `first_port` and the next (0: any free ports); `fixtures` is `fixtures/landed_cost`.
///
/// # Errors
/// When a port cannot be bound.
pub fn start_all(fixtures: PathBuf, first_port: u16, workers: usize) -> std::io::Result<Vec<RunningMock>> {
    super::start_each([zonos(), dhl()], fixtures, first_port, workers)
}

fn money(c: i64) -> Value {
    num(Decimal::from_cents(c))
}

/// The first required key missing from `v` (paths `/`-separated, `*` for every array element).
fn missing(v: &Value, paths: &[&str], sep: &str, array: fn(&str, usize) -> String) -> Option<String> {
    fn walk(v: &Value, at: &str, rest: &[&str], sep: &str, array: fn(&str, usize) -> String) -> Option<String> {
        let (key, rest) = rest.split_first()?;
        if *key == "*" {
            let items = v.as_array()?;
            if items.is_empty() {
                return Some(at.to_string());
            }
            return items.iter().enumerate().find_map(|(i, e)| walk(e, &array(at, i), rest, sep, array));
        }
        let here = if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}{sep}{key}")
        };
        match v.get(key).filter(|x| !x.is_null() && x.as_str() != Some("")) {
            None => Some(here),
            Some(next) => walk(next, &here, rest, sep, array),
        }
    }
    paths.iter().find_map(|p| {
        let parts: Vec<&str> = p.split('/').collect();
        walk(v, "", &parts, sep, array)
    })
}

fn respond(status: u16, content_type: &str, body: String) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type(content_type)
        .body(body)
}

// ---------------------------------------------------------------- Zonos-style

fn zonos_error(status: u16, kind: &str, code: &str, message: &str, param: Option<&str>) -> HttpResponse {
    let mut e = json!({ "type": kind, "code": code, "message": message });
    if let Some(p) = param {
        e["param"] = p.into();
    }
    respond(status, "application/json", json!({ "error": e }).to_string())
}

fn zonos_fault(status: u16) -> (&'static str, String) {
    let (kind, message) = match status {
        401 => ("authentication_error", "Invalid service token."),
        429 => ("rate_limit_error", "Too many requests."),
        _ => ("api_error", "Something went wrong on our end."),
    };
    (
        "application/json",
        json!({ "error": { "type": kind, "code": kind, "message": message } }).to_string(),
    )
}

async fn zonos_landed_cost(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    let header = |k: &str| req.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    if header("servicetoken") != ZONOS_TOKEN {
        return zonos_error(401, "authentication_error", "invalid_token", "Invalid service token.", None);
    }
    if header("zonos-version") != crate::connectors::landed_cost::zonos::API_VERSION {
        return zonos_error(
            400,
            "invalid_request_error",
            "invalid_version",
            "The zonos-version header is required (2019-11-21).",
            Some("zonos-version"),
        );
    }
    let Ok(v) = exact(&body) else {
        return zonos_error(400, "invalid_request_error", "invalid_json", "The body is not valid JSON.", None);
    };
    let required = ["currency", "ship_to/country", "items/*/id", "items/*/amount", "items/*/quantity"];
    if let Some(param) = missing(&v, &required, ".", |at, i| format!("{at}[{i}]")) {
        return zonos_error(
            400,
            "invalid_request_error",
            "parameter_missing",
            &format!("Missing required param: {param}."),
            Some(&param),
        );
    }
    let mut goods = Vec::new();
    for (i, item) in v["items"].as_array().into_iter().flatten().enumerate() {
        let hs = item["hs_code"].as_str().unwrap_or("");
        let Some(hs) = digits(hs) else {
            let param = format!("items[{i}].hs_code");
            return zonos_error(400, "invalid_request_error", "invalid_hs_code", "Invalid HS code.", Some(&param));
        };
        let (Some(amount), Some(qty)) = (decimal(&item["amount"]), decimal(&item["quantity"])) else {
            let param = format!("items[{i}].amount");
            return zonos_error(
                400,
                "invalid_request_error",
                "invalid_amount",
                "Amounts must be decimals.",
                Some(&param),
            );
        };
        goods.push(Goods {
            id: item["id"].as_str().unwrap_or("").to_string(),
            value: amount * qty,
            hs,
            origin: item["country_of_origin"].as_str().unwrap_or("").to_string(),
        });
    }
    let currency = v["currency"].as_str().unwrap_or("");
    let dest = v["ship_to"]["country"].as_str().unwrap_or("");
    let shipping = decimal(&v["shipping"]["amount"]).unwrap_or_default();
    let c = match compute(&tables(&state.fixtures), dest, currency, shipping, &goods) {
        Ok(c) => c,
        Err((param, message)) => {
            let param = if param == "destination" {
                "ship_to.country".to_string()
            } else {
                param
            };
            return zonos_error(400, "invalid_request_error", "unsupported", &message, Some(&param));
        }
    };
    let mut duties = Vec::new();
    let mut taxes = Vec::new();
    for (g, l) in goods.iter().zip(&c.lines) {
        if let Some(d) = l.duty {
            duties.push(json!({"amount": money(d), "description": "Duty", "formula": percent(l.duty_rate),
                               "item_id": g.id, "note": null, "type": "item"}));
        }
        if let Some(t) = l.tax {
            taxes.push(
                json!({"amount": money(t), "description": c.tax_name, "formula": format!("{} of (item + duty)", percent(c.tax_rate)),
                              "item_id": g.id, "note": null, "type": "item"}),
            );
        }
    }
    if let Some(d) = c.shipping_duty {
        duties.push(
            json!({"amount": money(d), "description": "Duty", "formula": percent(c.shipping_duty_rate),
                           "item_id": null, "note": null, "type": "shipping"}),
        );
    }
    if let Some(t) = c.shipping_tax {
        taxes.push(
            json!({"amount": money(t), "description": c.tax_name, "formula": format!("{} of (shipping + duty)", percent(c.tax_rate)),
                          "item_id": null, "note": null, "type": "shipping"}),
        );
    }
    let fees: Vec<Value> = c
        .fees
        .iter()
        .map(|(desc, kind, amount)| json!({"amount": money(*amount), "description": desc, "formula": null, "item_id": null, "note": null, "type": kind}))
        .collect();
    let duty_total: i64 = c.lines.iter().filter_map(|l| l.duty).sum::<i64>() + c.shipping_duty.unwrap_or(0);
    let tax_total: i64 = c.lines.iter().filter_map(|l| l.tax).sum::<i64>() + c.shipping_tax.unwrap_or(0);
    let fee_total: i64 = c.fees.iter().map(|f| f.2).sum();
    let deminimis: Vec<Value> = c
        .waived
        .iter()
        .map(|(kind, threshold)| json!({"type": kind, "threshold": num(*threshold), "currency": "USD"}))
        .collect();
    let body = json!({
        "id": crate::store::new_id("ldct_"),
        "amount_subtotal": { "duties": money(duty_total), "fees": money(fee_total), "taxes": money(tax_total) },
        "currency": { "id": crate::store::new_id("curr_"), "base": currency, "date": "2026-11-25T00:00:00.000Z", "rates": {} },
        "customs": { "ship_to_country": dest },
        "duties": duties,
        "taxes": taxes,
        "fees": fees,
        "deminimis": deminimis,
        "landed_cost_guarantee_code": "ENABLED",
    });
    respond(200, "application/json", body.to_string())
}

// ---------------------------------------------------------------- DHL Express

fn dhl_problem(status: u16, title: &str, detail: &str) -> HttpResponse {
    respond(
        status,
        "application/problem+json",
        json!({
            "instance": "/expressapi/landed-cost",
            "detail": detail,
            "title": title,
            "message": title,
            "status": status.to_string(),
        })
        .to_string(),
    )
}

fn dhl_fault(status: u16) -> (&'static str, String) {
    let (title, detail) = match status {
        401 => ("Unauthorized", "Invalid Credentials"),
        429 => ("Too many requests", "Too many requests. Please try again later."),
        503 => ("Service Unavailable", "The service is temporarily unavailable."),
        _ => ("Internal Server Error", "Process failure occurred."),
    };
    (
        "application/problem+json",
        json!({"instance": "/expressapi/landed-cost", "detail": detail, "title": title, "message": title, "status": status.to_string()})
            .to_string(),
    )
}

fn dhl_auth_ok(req: &HttpRequest) -> bool {
    use base64::Engine;
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .is_some_and(|d| d == format!("{}:{}", super::dhl::USER, super::dhl::PASSWORD).as_bytes())
}

async fn dhl_landed_cost(state: web::Data<MockState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    record(&state, &req, &body);
    if !dhl_auth_ok(&req) {
        return dhl_problem(401, "Unauthorized", "Invalid Credentials");
    }
    let Ok(v) = exact(&body) else {
        return dhl_problem(400, "Bad request", "Invalid JSON");
    };
    let required = [
        "customerDetails/shipperDetails/postalCode",
        "customerDetails/shipperDetails/cityName",
        "customerDetails/shipperDetails/countryCode",
        "customerDetails/receiverDetails/postalCode",
        "customerDetails/receiverDetails/cityName",
        "customerDetails/receiverDetails/countryCode",
        "accounts/*/typeCode",
        "accounts/*/number",
        "productCode",
        "unitOfMeasurement",
        "currencyCode",
        "isCustomsDeclarable",
        "getCostBreakdown",
        "charges/*/typeCode",
        "charges/*/amount",
        "charges/*/currencyCode",
        "shipmentPurpose",
        "transportationMode",
        "merchantSelectedCarrierName",
        "packages/*/weight",
        "items/*/number",
        "items/*/name",
        "items/*/manufacturerCountry",
        "items/*/quantity",
        "items/*/unitPrice",
        "items/*/unitPriceCurrencyCode",
        "items/*/commodityCode",
    ];
    let dhl_path = |at: &str, i: usize| format!("{at}/{i}");
    if let Some(path) = missing(&v, &required, "/", dhl_path) {
        let (at, key) = path.rsplit_once('/').unwrap_or(("", &path));
        return dhl_problem(400, "Bad request", &format!("#/{at}: required key [{key}] not found"));
    }
    let currency = v["currencyCode"].as_str().unwrap_or("");
    let mut goods = Vec::new();
    for (i, item) in v["items"].as_array().into_iter().flatten().enumerate() {
        let Some(hs) = item["commodityCode"].as_str().and_then(digits) else {
            return dhl_problem(
                400,
                "Bad request",
                &format!("#/items/{i}/commodityCode: string does not match pattern"),
            );
        };
        let (Some(price), Some(qty)) = (decimal(&item["unitPrice"]), decimal(&item["quantity"])) else {
            return dhl_problem(400, "Bad request", &format!("#/items/{i}/unitPrice: expected type: Number"));
        };
        goods.push(Goods {
            id: item["number"].as_str().unwrap_or("").to_string(),
            value: price * qty,
            hs,
            origin: item["manufacturerCountry"].as_str().unwrap_or("").to_string(),
        });
    }
    let freight = v["charges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["typeCode"].as_str() == Some("freight"))
        .filter_map(|c| decimal(&c["amount"]))
        .fold(Decimal::default(), |a, b| a + b);
    let dest = v["customerDetails"]["receiverDetails"]["countryCode"].as_str().unwrap_or("");
    let c = match compute(&tables(&state.fixtures), dest, currency, freight, &goods) {
        Ok(c) => c,
        Err((_, message)) => return dhl_problem(422, "Unprocessable entity", &message),
    };
    let rate_text = |r: Decimal| r.to_string();
    let items: Vec<Value> = goods
        .iter()
        .zip(&c.lines)
        .map(|(g, l)| {
            let mut breakdown = Vec::new();
            if let Some(d) = l.duty {
                breakdown.push(json!({"name": "DUTY", "serviceCode": "II", "typeCode": "DUTY", "price": money(d),
                                      "priceCurrency": currency, "tariffRateFormula": format!("({} * COST)", rate_text(l.duty_rate))}));
            }
            if let Some(t) = l.tax {
                breakdown.push(
                    json!({"name": c.tax_name, "typeCode": "TAX", "price": money(t), "priceCurrency": currency,
                                      "tariffRateFormula": format!("({} * (COST + DUTY))", rate_text(c.tax_rate))}),
                );
            }
            json!({ "number": num(decimal(&Value::String(g.id.clone())).unwrap_or_default()), "breakdown": breakdown })
        })
        .collect();
    let duties: i64 = c.lines.iter().filter_map(|l| l.duty).sum::<i64>() + c.shipping_duty.unwrap_or(0);
    let taxes: i64 = c.lines.iter().filter_map(|l| l.tax).sum::<i64>() + c.shipping_tax.unwrap_or(0);
    let fees: i64 = c.fees.iter().map(|f| f.2).sum();
    let goods_total = goods.iter().fold(Decimal::default(), |a, g| a + g.value);
    let mut breakdown = vec![
        json!({"name": "MFCHG", "price": num(freight)}),
        json!({"name": "SCUSV", "price": num(goods_total)}),
        json!({"name": "TOTAL DUTIES", "typeCode": "DUTY", "price": money(duties)}),
        json!({"name": "TOTAL TAXES", "typeCode": "TAX", "price": money(taxes)}),
    ];
    for (desc, _, amount) in &c.fees {
        breakdown.push(json!({"name": desc.to_ascii_uppercase(), "typeCode": "FEE", "price": money(*amount)}));
    }
    breakdown.push(json!({"name": "TOTAL FEES", "typeCode": "FEE", "price": money(fees)}));
    let total = freight.to_cents() + duties + taxes + fees;
    let body = json!({
        "products": [{
            "productName": "EXPRESS WORLDWIDE",
            "productCode": v["productCode"],
            "localProductCode": v["productCode"],
            "localProductCountryCode": v["customerDetails"]["shipperDetails"]["countryCode"],
            "networkTypeCode": "TD",
            "isCustomerAgreement": false,
            "totalPrice": [{ "currencyType": "BILLC", "priceCurrency": currency, "price": money(total) }],
            "detailedPriceBreakdown": [{ "currencyType": "BILLC", "priceCurrency": currency, "breakdown": breakdown }],
            "items": items,
            "pricingDate": "2026-11-25",
        }],
        "exchangeRates": [],
    });
    respond(200, "application/json", body.to_string())
}
