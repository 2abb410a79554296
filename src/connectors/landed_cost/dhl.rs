//! DHL Express MyDHL landed cost: `POST /landed-cost` with HTTP Basic auth
//! and the MyDHL headers. The answer has the rating envelope: `products[]`
//! with `detailedPriceBreakdown[].breakdown[]` entries of `typeCode` DUTY,
//! TAX and FEE (`TOTAL DUTIES`, `TOTAL TAXES`, `TOTAL FEES`, and single fees
//! such as brokerage) and per item `items[{number, breakdown[{name, typeCode,
//! price, tariffRateFormula}]}]`. DHL leaves out the DUTY/TAX entries a de
//! minimis threshold waived. Errors are DHL's problem+json, read by the
//! carrier adapter's [`parse_error`](crate::connectors::carriers::dhl::parse_error).

use std::time::SystemTime;

use serde_json::{json, Value};

use super::{cents, totals, ItemCharges, LandedCost, QuoteRequest};
use crate::connectors::carriers::dhl::rate_address;
use crate::connectors::carriers::json::number as num;
use crate::connectors::carriers::json::{decimal, exact};
use crate::connectors::carriers::{CarrierAccount, CarrierError, CarrierHttp, LengthUnit, WeightUnit};
use crate::model::Decimal;

const PROVIDER: &str = "dhl";
const API_VERSION: &str = "3.1.0";

/// DHL Express landed cost.
pub struct DhlLandedCost {
    account: CarrierAccount,
    http: CarrierHttp,
}

impl DhlLandedCost {
    /// The adapter for one MyDHL account (`key`/`secret` are the user and password).
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        Self {
            account: account.clone(),
            http,
        }
    }

    /// Requests a landed cost estimate.
    ///
    /// # Errors
    /// DHL's rejection, auth, throttling, 5xx, parse.
    pub async fn quote(&self, r: &QuoteRequest) -> Result<LandedCost, CarrierError> {
        let user = self.account.need("key (MyDHL user)", &self.account.key)?.to_string();
        let pass = self.account.need("secret (MyDHL password)", &self.account.secret)?.to_string();
        let account = self.account.need("account_number", &self.account.account_number)?.to_string();
        let url = format!("{}/landed-cost", self.account.base()?);
        let product = self.account.extra.get("product_code").cloned().unwrap_or_else(|| "P".into());
        let body = request(r, &account, &product);
        let reply = self
            .http
            .send(
                |c| {
                    c.post(&url)
                        .basic_auth(&user, Some(&pass))
                        .header("Message-Reference", crate::store::new_id("lc-"))
                        .header("Message-Reference-Date", httpdate::fmt_http_date(SystemTime::now()))
                        .header("x-version", API_VERSION)
                        .header("Accept", "application/json")
                        .json(&body)
                },
                None,
                true,
            )
            .await?;
        if !reply.status.is_success() {
            return Err(crate::connectors::carriers::dhl::parse_error(reply.status.as_u16(), &reply.body));
        }
        parse(&reply.body, r)
    }
}

fn kg(weight: Decimal, unit: WeightUnit) -> Decimal {
    match unit {
        WeightUnit::Kg => weight,
        // 1 lb = 0.45359237 kg, rounded to 0.01 kg.
        WeightUnit::Lb => Decimal::from_cents((weight * "0.45359237".parse().unwrap_or_default()).to_cents()),
    }
}

fn cm(d: Decimal, unit: LengthUnit) -> Decimal {
    match unit {
        LengthUnit::Cm => d,
        LengthUnit::In => Decimal::from_cents((d * "2.54".parse().unwrap_or_default()).to_cents()),
    }
}

/// The request body (metric units).
pub fn request(r: &QuoteRequest, account: &str, product: &str) -> Value {
    // Without packages, one parcel weighing what the lines weigh (0.5 kg when no line says).
    let packages: Vec<Value> = if r.packages.is_empty() {
        let total = r.lines.iter().filter_map(|l| l.weight_kg).fold(Decimal::default(), |a, w| a + w);
        let weight = if total.is_zero() { Decimal::from_cents(50) } else { total };
        vec![json!({ "weight": num(weight) })]
    } else {
        r.packages
            .iter()
            .map(|p| {
                let mut v = json!({ "weight": num(kg(p.weight, p.weight_unit)) });
                if let Some(d) = &p.dimensions {
                    v["dimensions"] = json!({
                        "length": num(cm(d.length, d.unit)),
                        "width": num(cm(d.width, d.unit)),
                        "height": num(cm(d.height, d.unit)),
                    });
                }
                v
            })
            .collect()
    };
    let items: Vec<Value> = r
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v = json!({
                "number": i + 1,
                "name": l.description.chars().take(35).collect::<String>(),
                "description": l.description,
                "manufacturerCountry": l.origin,
                "quantity": num(l.quantity),
                "quantityType": "prt",
                "unitPrice": num(l.unit_value),
                "unitPriceCurrencyCode": r.currency,
                "commodityCode": l.hs_code,
            });
            if let Some(sku) = &l.sku {
                v["partNumber"] = sku.clone().into();
            }
            if let Some(w) = l.weight_kg {
                v["weight"] = num(w);
                v["weightUnitOfMeasurement"] = "metric".into();
            }
            v
        })
        .collect();
    let mut charges = vec![json!({ "typeCode": "freight", "amount": num(r.shipping), "currencyCode": r.currency })];
    if !r.insurance.is_zero() {
        charges.push(json!({ "typeCode": "insurance", "amount": num(r.insurance), "currencyCode": r.currency }));
    }
    json!({
        "customerDetails": {
            "shipperDetails": rate_address(&r.from),
            "receiverDetails": rate_address(&r.to),
        },
        "accounts": [{ "typeCode": "shipper", "number": account }],
        "productCode": product,
        "unitOfMeasurement": "metric",
        "currencyCode": r.currency,
        "isCustomsDeclarable": true,
        "isDTPRequested": r.incoterm.as_deref() == Some("DDP"),
        "isInsuranceRequested": !r.insurance.is_zero(),
        "getCostBreakdown": true,
        "charges": charges,
        "shipmentPurpose": if r.commercial { "commercial" } else { "personal" },
        "transportationMode": "air",
        "merchantSelectedCarrierName": "DHL",
        "packages": packages,
        "items": items,
        "getTariffFormula": true,
        "getQuotationID": true,
    })
}

fn price(v: &Value) -> i64 {
    decimal(&v["price"]).map(|d| d.to_cents()).unwrap_or(0)
}

/// The canonical quote from a `/landed-cost` answer (first product).
///
/// # Errors
/// `Parse` when there is no product or no breakdown.
pub fn parse(body: &[u8], r: &QuoteRequest) -> Result<LandedCost, CarrierError> {
    let v = exact(body).map_err(|e| CarrierError::Parse(format!("invalid JSON from DHL: {e}")))?;
    let product = v["products"]
        .as_array()
        .and_then(|a| a.first())
        .ok_or_else(|| CarrierError::Parse("landed cost: no products".into()))?;
    let detailed = product["detailedPriceBreakdown"].as_array().cloned().unwrap_or_default();
    // The billing-currency breakdown, else the first.
    let chosen = detailed
        .iter()
        .find(|d| d["currencyType"].as_str() == Some("BILLC"))
        .or_else(|| detailed.first())
        .ok_or_else(|| CarrierError::Parse("landed cost: no detailedPriceBreakdown".into()))?;
    let currency = chosen["priceCurrency"].as_str().unwrap_or(&r.currency).to_string();
    let entries = chosen["breakdown"].as_array().cloned().unwrap_or_default();
    let of = |type_code: &'static str| entries.iter().filter(move |e| e["typeCode"].as_str() == Some(type_code));
    let total =
        |type_code: &'static str, name: &str| -> Option<i64> { of(type_code).find(|e| e["name"].as_str() == Some(name)).map(price) };
    let mut items = Vec::new();
    let mut waived = false;
    let dhl_items = product["items"].as_array().cloned().unwrap_or_default();
    let (mut item_duties, mut item_taxes, mut item_fees) = (0, 0, 0);
    for (i, l) in r.lines.iter().enumerate() {
        let number = (i + 1).to_string();
        let breakdown = dhl_items
            .iter()
            .find(|it| it["number"].as_str() == Some(number.as_str()))
            .and_then(|it| it["breakdown"].as_array().cloned())
            .unwrap_or_default();
        let sum = |t: &str| -> i64 { breakdown.iter().filter(|b| b["typeCode"].as_str() == Some(t)).map(price).sum() };
        let has = |t: &str| breakdown.iter().any(|b| b["typeCode"].as_str() == Some(t));
        if !has("DUTY") || !has("TAX") {
            waived = true;
        }
        let formulas: Vec<String> = ["DUTY", "TAX"]
            .iter()
            .filter_map(|t| {
                breakdown
                    .iter()
                    .find(|b| b["typeCode"].as_str() == Some(*t))
                    .and_then(|b| b["tariffRateFormula"].as_str())
                    .map(|f| format!("{} {f}", t.to_ascii_lowercase()))
            })
            .collect();
        let (duty, tax, fee) = (sum("DUTY"), sum("TAX"), sum("FEE"));
        item_duties += duty;
        item_taxes += tax;
        item_fees += fee;
        items.push(ItemCharges {
            reference: l.reference.clone(),
            sku: l.sku.clone(),
            hs_code: l.hs_code.clone(),
            duty: cents(duty),
            tax: cents(tax),
            fees: cents(fee),
            formula: (!formulas.is_empty()).then(|| formulas.join("; ")),
        });
    }
    let duties = total("DUTY", "TOTAL DUTIES").unwrap_or(item_duties);
    let taxes = total("TAX", "TOTAL TAXES").unwrap_or(item_taxes);
    let brokerage: i64 = of("FEE")
        .filter(|e| e["name"].as_str().is_some_and(|n| n.to_ascii_uppercase().contains("BROKER")))
        .map(price)
        .sum();
    let all_fees = total("FEE", "TOTAL FEES").unwrap_or(item_fees + brokerage);
    Ok(LandedCost {
        provider: PROVIDER.into(),
        currency,
        items,
        totals: totals(r.goods(), r.shipping, duties, taxes, all_fees - brokerage, brokerage),
        de_minimis_applied: waived,
        guaranteed: false,
        quote_id: v["quotationId"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_metric_to_the_hundredth() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // 4.51 lb = 2.0457… kg; 10 lb = 4.5359… kg; 12.5 in = 31.75 cm.
        assert_eq!(kg(d("4.51"), WeightUnit::Lb), d("2.05"));
        assert_eq!(kg(d("10"), WeightUnit::Lb), d("4.54"));
        assert_eq!(kg(d("3.2"), WeightUnit::Kg), d("3.2"));
        assert_eq!(cm(d("12.5"), LengthUnit::In), d("31.75"));
    }

    #[test]
    fn breakdowns_are_read_per_type() {
        let r: QuoteRequest = serde_json::from_value(serde_json::json!({
            "from": {"street": ["a"], "city": "Columbus", "postal_code": "43228", "country": "US"},
            "to": {"street": ["b"], "city": "Toronto", "postal_code": "M5H 1J9", "country": "CA"},
            "currency": "USD", "shipping": 20, "insurance": 0, "incoterm": null, "commercial": true, "packages": [],
            "lines": [{"reference": "1", "sku": null, "description": "Pad", "hs_code": "870830", "origin": "CN",
                       "quantity": 2, "unit_value": 50, "weight_kg": null}]
        }))
        .unwrap();
        let body = br#"{"products": [{"productCode": "P", "detailedPriceBreakdown": [
              {"currencyType": "BASEC", "priceCurrency": "EUR", "breakdown": [{"name": "TOTAL DUTIES", "typeCode": "DUTY", "price": 99}]},
              {"currencyType": "BILLC", "priceCurrency": "USD", "breakdown": [
                {"name": "TOTAL DUTIES", "typeCode": "DUTY", "price": 6.0}, {"name": "TOTAL TAXES", "typeCode": "TAX", "price": 6.3},
                {"name": "BROKERAGE FEE", "typeCode": "FEE", "price": 9.95}, {"name": "TOTAL FEES", "typeCode": "FEE", "price": 12.45}]}],
            "items": [{"number": 1, "breakdown": [{"name": "DUTY", "typeCode": "DUTY", "price": 6.0, "tariffRateFormula": "(0.06 * COST)"}]}]}]}"#;
        let q = parse(body, &r).unwrap();
        assert_eq!(q.currency, "USD");
        assert_eq!(q.items[0].duty.to_string(), "6");
        assert_eq!(q.items[0].formula.as_deref(), Some("duty (0.06 * COST)"));
        assert!(q.de_minimis_applied, "no TAX entry on the item: waived");
        let t = &q.totals;
        assert_eq!(
            [t.duties, t.taxes, t.fees, t.brokerage, t.landed_total].map(|d| d.to_string()),
            ["6", "6.3", "2.5", "9.95", "144.75"]
        );
        assert!(matches!(parse(br#"{"products": []}"#, &r), Err(CarrierError::Parse(_))));
    }
}
