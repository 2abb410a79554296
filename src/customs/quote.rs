//! Landed-cost quotes of a declaration: the provider request built from a
//! validated [`Declaration`] and the canonical quote the API answers and
//! stores ([`CustomsQuote`]).

use serde::{Deserialize, Serialize};

use super::declaration::{Declaration, ExportReason};
use crate::connectors::carriers::{Address, Package};
use crate::connectors::landed_cost::{LandedCost, QuoteLine, QuoteRequest};
use crate::model::{Date, Decimal};

/// A stored landed-cost quote as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomsQuote {
    /// Tradelane's id (`lcq_…`).
    #[schema(example = "lcq_01JDX4S7Q9V2M8K3F6T1R0B5NW")]
    pub id: String,
    /// The provider's answer, canonical.
    #[serde(flatten)]
    pub quote: LandedCost,
    /// When it was asked (UTC, ISO 8601).
    #[schema(format = DateTime, example = "2026-11-25T15:30:00Z")]
    pub created_at: String,
    /// Until when it is valid (UTC, ISO 8601).
    #[schema(format = DateTime, example = "2026-11-26T15:30:00Z")]
    pub expires_at: String,
}

/// The reference of each line in the quote: its SKU when every SKU is present
/// and distinct, else its line number (`1`, `2` …).
fn references(d: &Declaration) -> Vec<String> {
    let skus: Vec<Option<&str>> = d.commodities.iter().map(|c| c.sku.as_deref()).collect();
    let mut seen = std::collections::BTreeSet::new();
    let unique = skus.iter().all(|s| s.is_some_and(|s| seen.insert(s)));
    skus.iter()
        .enumerate()
        .map(|(i, s)| match (unique, s) {
            (true, Some(s)) => s.to_string(),
            _ => (i + 1).to_string(),
        })
        .collect()
}

/// What the provider is asked for a declaration, its parties and the shipping charge.
pub fn quote_request(d: &Declaration, from: &Address, to: &Address, shipping: Decimal, packages: &[Package]) -> QuoteRequest {
    let refs = references(d);
    QuoteRequest {
        from: from.clone(),
        to: to.clone(),
        currency: d.currency.to_string(),
        shipping,
        insurance: d.insurance_charge.unwrap_or_default(),
        incoterm: Some(format!("{:?}", d.incoterm)),
        commercial: matches!(
            d.reason_for_export,
            ExportReason::Sale | ExportReason::Intercompany | ExportReason::Sample | ExportReason::Repair
        ),
        packages: packages.to_vec(),
        lines: d
            .commodities
            .iter()
            .zip(refs)
            .map(|(c, reference)| QuoteLine {
                reference,
                sku: c.sku.clone(),
                description: c.description.clone(),
                hs_code: c.hs_code.as_str().to_string(),
                origin: c.origin_country.to_string(),
                quantity: Decimal::from_int(i64::from(c.quantity)),
                unit_value: c.unit_value,
                weight_kg: Some(super::round(c.line_weight_kg(), 3)),
            })
            .collect(),
    }
}

/// The UTC date of Unix milliseconds.
pub fn date_of(ms: i64) -> Date {
    Date::from_days(ms.div_euclid(1000).div_euclid(crate::calendar::DAY_SECS)).unwrap_or_else(Date::today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(date_of(1_798_675_200_000).to_string(), "2026-12-31");
    }
}
