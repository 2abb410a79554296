//! The duty and tax tables of the mock landed-cost services
//! (`fixtures/landed_cost/tariffs.json`) and the calculation both mocks share:
//! duty by the longest HS prefix for the destination (none for preferential
//! origins), duty on freight for CIF destinations, VAT/GST on value + duty,
//! de minimis thresholds in USD, clearance fees; each amount rounded half away
//! from zero to the cent.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::model::Decimal;

#[derive(Debug, Deserialize)]
pub(super) struct Tables {
    usd_per_unit: BTreeMap<String, Decimal>,
    destinations: BTreeMap<String, Destination>,
}

#[derive(Debug, Deserialize)]
struct Destination {
    valuation: String,
    duty_de_minimis_usd: Decimal,
    tax_de_minimis_usd: Decimal,
    default_duty_rate: Decimal,
    shipping_duty_rate: Decimal,
    duty_rates: BTreeMap<String, Decimal>,
    duty_free_origins: Vec<String>,
    tax: Tax,
    fees: Vec<FeeRow>,
}

#[derive(Debug, Deserialize)]
struct Tax {
    name: String,
    rate: Decimal,
    on_shipping: bool,
}

#[derive(Debug, Deserialize)]
struct FeeRow {
    description: String,
    #[serde(rename = "type")]
    kind: String,
    amount: Decimal,
}

/// Reads the tables from `dir/tariffs.json`.
///
/// # Panics
/// When the fixture is missing or invalid (a broken test set-up).
pub(super) fn tables(dir: &Path) -> Tables {
    let path = dir.join("tariffs.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// One line of goods as the mocks see it.
pub(super) struct Goods {
    /// The provider's line id.
    pub id: String,
    /// Quantity × unit price.
    pub value: Decimal,
    /// HS digits.
    pub hs: String,
    /// Country of origin.
    pub origin: String,
}

/// One line's duty and tax in cents (`None`: waived by de minimis).
pub(super) struct LineResult {
    pub duty: Option<i64>,
    pub duty_rate: Decimal,
    pub tax: Option<i64>,
}

/// The whole calculation.
pub(super) struct Computed {
    pub lines: Vec<LineResult>,
    pub shipping_duty: Option<i64>,
    pub shipping_tax: Option<i64>,
    pub shipping_duty_rate: Decimal,
    pub tax_name: String,
    pub tax_rate: Decimal,
    pub fees: Vec<(String, String, i64)>,
    pub waived: Vec<(&'static str, Decimal)>,
}

/// The digits of an HS code with optional dots, when 6–10.
pub(super) fn digits(hs: &str) -> Option<String> {
    let d: String = hs.chars().filter(|c| *c != '.').collect();
    (d.len() >= 6 && d.len() <= 10 && d.bytes().all(|b| b.is_ascii_digit())).then_some(d)
}

/// `0.045` → `4.5%`.
pub(super) fn percent(rate: Decimal) -> String {
    format!("{}%", rate * Decimal::from_int(100))
}

/// Duties, taxes and fees; `Err((param, message))` for an unsupported destination or currency.
pub(super) fn compute(t: &Tables, dest: &str, currency: &str, shipping: Decimal, goods: &[Goods]) -> Result<Computed, (String, String)> {
    let d = t.destinations.get(dest).ok_or_else(|| {
        (
            "destination".to_string(),
            format!("landed cost is not available for destination {dest}"),
        )
    })?;
    let fx = t
        .usd_per_unit
        .get(currency)
        .ok_or_else(|| ("currency".to_string(), format!("unsupported currency {currency}")))?;
    let total = goods.iter().fold(Decimal::default(), |a, g| a + g.value);
    let usd = total * *fx;
    let no_duty = usd <= d.duty_de_minimis_usd;
    let no_tax = usd <= d.tax_de_minimis_usd;
    let mut waived = Vec::new();
    if no_duty {
        waived.push(("duty", d.duty_de_minimis_usd));
    }
    if no_tax {
        waived.push(("tax", d.tax_de_minimis_usd));
    }
    let lines = goods
        .iter()
        .map(|g| {
            let rate = if d.duty_free_origins.contains(&g.origin) {
                Decimal::default()
            } else {
                d.duty_rates
                    .iter()
                    .filter(|(prefix, _)| g.hs.starts_with(prefix.as_str()))
                    .max_by_key(|(prefix, _)| prefix.len())
                    .map(|(_, r)| *r)
                    .unwrap_or(d.default_duty_rate)
            };
            let duty = (!no_duty).then(|| (g.value * rate).to_cents());
            let tax = (!no_tax).then(|| ((g.value + Decimal::from_cents(duty.unwrap_or(0))) * d.tax.rate).to_cents());
            LineResult {
                duty,
                duty_rate: rate,
                tax,
            }
        })
        .collect();
    let shipping_duty = (!no_duty && d.valuation == "CIF").then(|| (shipping * d.shipping_duty_rate).to_cents());
    let shipping_tax =
        (!no_tax && d.tax.on_shipping).then(|| ((shipping + Decimal::from_cents(shipping_duty.unwrap_or(0))) * d.tax.rate).to_cents());
    let fees = if no_duty && no_tax {
        Vec::new()
    } else {
        d.fees
            .iter()
            .map(|f| (f.description.clone(), f.kind.clone(), f.amount.to_cents()))
            .collect()
    };
    Ok(Computed {
        lines,
        shipping_duty,
        shipping_tax,
        shipping_duty_rate: d.shipping_duty_rate,
        tax_name: d.tax.name.clone(),
        tax_rate: d.tax.rate,
        fees,
        waived,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goods(id: &str, value: &str, hs: &str, origin: &str) -> Goods {
        Goods {
            id: id.into(),
            value: value.parse().unwrap(),
            hs: hs.into(),
            origin: origin.into(),
        }
    }

    fn fixture() -> Tables {
        tables(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/landed_cost"))
    }

    #[test]
    fn longest_prefix_cif_freight_and_half_cent_rounding() {
        let t = fixture();
        let c = compute(
            &t,
            "DE",
            "USD",
            "35".parse().unwrap(),
            &[goods("a", "170", "870830", "US"), goods("b", "123.5", "848210", "US")],
        )
        .unwrap();
        assert_eq!(
            c.lines.iter().map(|l| (l.duty, l.tax)).collect::<Vec<_>>(),
            [(Some(510), Some(3327)), (Some(988), Some(2534))]
        );
        assert_eq!((c.shipping_duty, c.shipping_tax), (Some(105), Some(685)));
        // 123.50 × 5 % = 6.175 → 6.18; US origin is duty free into Canada.
        let c = compute(
            &t,
            "CA",
            "USD",
            "0".parse().unwrap(),
            &[goods("a", "123.5", "848210", "CN"), goods("b", "99", "870830", "US")],
        )
        .unwrap();
        assert_eq!((c.lines[0].duty, c.lines[1].duty), (Some(618), Some(0)));
        assert_eq!(c.shipping_duty, None, "Canada values FOB");
    }

    #[test]
    fn de_minimis_compares_in_usd() {
        let t = fixture();
        // 100 EUR = 108 USD: under Canada's 110 USD duty threshold, over its 30 USD tax threshold.
        let c = compute(&t, "CA", "EUR", "0".parse().unwrap(), &[goods("a", "100", "870830", "CN")]).unwrap();
        assert_eq!((c.lines[0].duty, c.lines[0].tax), (None, Some(500)));
        assert_eq!(c.waived.len(), 1);
        assert!(compute(&t, "JP", "USD", "0".parse().unwrap(), &[]).is_err());
        assert!(compute(&t, "DE", "CHF", "0".parse().unwrap(), &[]).is_err());
        assert_eq!(digits("8708.30.00"), Some("87083000".into()));
        assert_eq!(digits("8708"), None);
        assert_eq!(percent("0.045".parse().unwrap()), "4.5%");
    }
}
