//! Zonos-style landed cost over the legacy REST API: `POST /v1/landed_cost`
//! with `zonos-version: 2019-11-21` and the `serviceToken` credential header.
//!
//! Request: `currency`, `items[{id, amount (one unit), quantity, hs_code,
//! country_of_origin, description_customs}]`, `ship_from_country`, `ship_to
//! {city, country, postal_code, state}`, `shipping {amount}`. Answer: the
//! Landed Cost object `ldct_…` with `amount_subtotal {duties, fees, taxes}`
//! and itemised `duties[]`, `taxes[]`, `fees[]` (`{amount, description,
//! formula, item_id, type}`; `type` is `item` or `shipping` for duties and
//! taxes; fees of type `brokerage` count as brokerage), `deminimis[]` (the
//! thresholds that waived something) and `landed_cost_guarantee_code`.
//! Errors: `{"error": {"type", "code", "message", "param"}}`.

use serde_json::{json, Map, Value};

use super::{cents, totals, ItemCharges, LandedCost, QuoteRequest};
use crate::connectors::carriers::json::{decimal, exact, number as num};
use crate::connectors::carriers::{CarrierAccount, CarrierError, CarrierHttp};

const PROVIDER: &str = "zonos";
/// The API version the legacy endpoint requires.
pub const API_VERSION: &str = "2019-11-21";

/// The Zonos-style adapter.
pub struct Zonos {
    account: CarrierAccount,
    http: CarrierHttp,
}

impl Zonos {
    /// The adapter for one account (`key` is the service token).
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        Self {
            account: account.clone(),
            http,
        }
    }

    /// Requests a landed cost.
    ///
    /// # Errors
    /// Zonos' rejection (`Rejected` with its code and the offending `param`), auth, throttling, 5xx, parse.
    pub async fn quote(&self, r: &QuoteRequest) -> Result<LandedCost, CarrierError> {
        let token = self.account.need("key (service token)", &self.account.key)?.to_string();
        let url = format!("{}/v1/landed_cost", self.account.base()?);
        let body = request(r);
        let reply = self
            .http
            .send(
                |c| {
                    c.post(&url)
                        .header("zonos-version", API_VERSION)
                        .header("serviceToken", &token)
                        .header("Accept", "application/json")
                        .json(&body)
                },
                None,
                true,
            )
            .await?;
        if !reply.status.is_success() {
            return Err(parse_error(reply.status.as_u16(), &reply.body));
        }
        parse(&reply.body, r)
    }
}

/// The request body.
pub fn request(r: &QuoteRequest) -> Value {
    let items: Vec<Value> = r
        .lines
        .iter()
        .map(|l| {
            json!({
                "id": l.reference,
                "amount": num(l.unit_value),
                "quantity": num(l.quantity),
                "hs_code": l.hs_code,
                "country_of_origin": l.origin,
                "description_customs": l.description,
            })
        })
        .collect();
    let mut ship_to = Map::new();
    ship_to.insert("city".into(), r.to.city.clone().into());
    ship_to.insert("country".into(), r.to.country.clone().into());
    ship_to.insert("postal_code".into(), r.to.postal_code.clone().into());
    if let Some(s) = &r.to.state {
        ship_to.insert("state".into(), s.clone().into());
    }
    json!({
        "currency": r.currency,
        "items": items,
        "ship_from_country": r.from.country,
        "ship_to": ship_to,
        "shipping": { "amount": num(r.shipping) },
    })
}

/// Maps a non-2xx answer; 4xx other than 401/403/429 with an `error` object → `Rejected`.
pub fn parse_error(status: u16, body: &[u8]) -> CarrierError {
    let v = exact(body).ok();
    let e = v.as_ref().and_then(|v| v.get("error"));
    let text = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
    match status {
        401 | 403 => CarrierError::Auth(Some(text("message")).filter(|m| !m.is_empty()).unwrap_or(format!("HTTP {status}"))),
        429 | 500..=599 => CarrierError::from_status(status, body),
        _ if e.is_none() => CarrierError::from_status(status, body),
        _ => {
            let param = text("param");
            let mut message = text("message");
            if !param.is_empty() {
                message = format!("{message} (param {param})");
            }
            let code = Some(text("code")).filter(|c| !c.is_empty()).unwrap_or_else(|| text("type"));
            CarrierError::Rejected {
                carrier: PROVIDER,
                code,
                message,
            }
        }
    }
}

fn amount(v: &Value) -> i64 {
    decimal(&v["amount"]).map(|d| d.to_cents()).unwrap_or(0)
}

/// The canonical quote from a Landed Cost object.
///
/// # Errors
/// `Parse` when the body is not a landed cost object.
pub fn parse(body: &[u8], r: &QuoteRequest) -> Result<LandedCost, CarrierError> {
    let v = exact(body).map_err(|e| CarrierError::Parse(format!("invalid JSON from Zonos: {e}")))?;
    let id = v["id"].as_str().filter(|id| id.starts_with("ldct_"));
    let Some(id) = id else {
        return Err(CarrierError::Parse("Zonos answer is not a landed cost object (no ldct_ id)".into()));
    };
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let (duties, taxes, fees) = (list("duties"), list("taxes"), list("fees"));
    let mut items = Vec::new();
    for l in &r.lines {
        let mine = |list: &[Value]| -> (i64, Option<String>) {
            let hits: Vec<&Value> = list
                .iter()
                .filter(|d| d["item_id"].as_str() == Some(l.reference.as_str()))
                .collect();
            let formula = hits.iter().find_map(|d| d["formula"].as_str().map(str::to_string));
            (hits.iter().map(|d| amount(d)).sum(), formula)
        };
        let (duty, duty_formula) = mine(&duties);
        let (tax, tax_formula) = mine(&taxes);
        let (fee, _) = mine(&fees);
        let formula = match (duty_formula, tax_formula) {
            (Some(d), Some(t)) => Some(format!("duty {d}; tax {t}")),
            (Some(d), None) => Some(format!("duty {d}")),
            (None, Some(t)) => Some(format!("tax {t}")),
            (None, None) => None,
        };
        items.push(ItemCharges {
            reference: l.reference.clone(),
            sku: l.sku.clone(),
            hs_code: l.hs_code.clone(),
            duty: cents(duty),
            tax: cents(tax),
            fees: cents(fee),
            formula,
        });
    }
    let sum = |list: &[Value]| -> i64 { list.iter().map(amount).sum() };
    let subtotal = |k: &str, fallback: i64| decimal(&v["amount_subtotal"][k]).map(|d| d.to_cents()).unwrap_or(fallback);
    let brokerage: i64 = fees.iter().filter(|f| f["type"].as_str() == Some("brokerage")).map(amount).sum();
    let all_fees = subtotal("fees", sum(&fees));
    let currency = v["currency"]["base"].as_str().unwrap_or(&r.currency).to_string();
    Ok(LandedCost {
        provider: PROVIDER.into(),
        currency,
        items,
        totals: totals(
            r.goods(),
            r.shipping,
            subtotal("duties", sum(&duties)),
            subtotal("taxes", sum(&taxes)),
            all_fees - brokerage,
            brokerage,
        ),
        de_minimis_applied: v["deminimis"].as_array().is_some_and(|a| !a.is_empty()),
        guaranteed: v["landed_cost_guarantee_code"].as_str() == Some("ENABLED"),
        quote_id: Some(id.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::carriers::Address;
    use crate::connectors::landed_cost::QuoteLine;

    fn request() -> QuoteRequest {
        let address = |country: &str| Address {
            street: vec!["1 Main St".into()],
            city: "City".into(),
            postal_code: "10001".into(),
            country: country.into(),
            ..Default::default()
        };
        QuoteRequest {
            from: address("US"),
            to: address("GB"),
            currency: "USD".into(),
            shipping: "10".parse().unwrap(),
            insurance: Default::default(),
            incoterm: None,
            commercial: true,
            packages: Vec::new(),
            lines: vec![QuoteLine {
                reference: "A-1".into(),
                sku: Some("A-1".into()),
                description: "Gasket".into(),
                hs_code: "848410".into(),
                origin: "US".into(),
                quantity: "3".parse().unwrap(),
                unit_value: "0.1".parse().unwrap(),
                weight_kg: None,
            }],
        }
    }

    #[test]
    fn amounts_are_read_exactly() {
        let body = br#"{"id": "ldct_1", "amount_subtotal": {"duties": 0.30000000000000004, "fees": 12.1, "taxes": 0.2},
            "duties": [{"amount": 0.1, "item_id": "A-1", "formula": "4%", "type": "item"},
                       {"amount": 0.2, "item_id": "A-1", "formula": "4%", "type": "item"}],
            "taxes": [{"amount": 0.2, "item_id": null, "type": "shipping"}],
            "fees": [{"amount": 12.1, "type": "brokerage", "description": "Clearance"}],
            "currency": {"base": "USD"}, "deminimis": []}"#;
        let q = parse(body, &request()).unwrap();
        assert_eq!(q.items[0].duty.to_string(), "0.3");
        assert_eq!(q.items[0].tax.to_string(), "0");
        assert_eq!(q.items[0].formula.as_deref(), Some("duty 4%"));
        assert_eq!(q.totals.duties.to_string(), "0.3");
        assert_eq!(
            (q.totals.fees.to_string(), q.totals.brokerage.to_string()),
            ("0".into(), "12.1".into())
        );
        assert_eq!(q.totals.landed_total.to_string(), "22.9");
        assert!(!q.de_minimis_applied && !q.guaranteed);
        assert!(matches!(parse(br#"{"id": "x"}"#, &request()), Err(CarrierError::Parse(_))));
    }

    #[test]
    fn errors_map_by_status_and_shape() {
        let e = parse_error(
            400,
            br#"{"error": {"type": "invalid_request_error", "code": "invalid_hs_code", "message": "Invalid HS code.", "param": "items[0].hs_code"}}"#,
        );
        assert_eq!(
            e,
            CarrierError::Rejected {
                carrier: "zonos",
                code: "invalid_hs_code".into(),
                message: "Invalid HS code. (param items[0].hs_code)".into()
            }
        );
        assert!(
            matches!(parse_error(401, br#"{"error": {"message": "Invalid service token."}}"#), CarrierError::Auth(m) if m == "Invalid service token.")
        );
        assert_eq!(parse_error(503, b""), CarrierError::Unavailable(503));
        assert_eq!(parse_error(429, b"{}"), CarrierError::RateLimited);
        assert!(matches!(parse_error(404, b"<html>"), CarrierError::Parse(_)));
    }
}
