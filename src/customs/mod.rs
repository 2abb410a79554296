//! Customs: the declaration that goes with an international shipment, its
//! validation, and the US export filing (EEI) rules.
//!
//! * [`codes`]: `HsCode`, `CountryCode`, `CurrencyCode`, `Itn` — newtypes
//!   that cannot hold an invalid value;
//! * [`declaration`]: the JSON shape ([`RawDeclaration`]) and the validated
//!   [`Declaration`]; validation reports every field error with its path;
//! * [`eei`]: when a US export needs an ITN and which exemption legend applies.
//!
//! Carrier adapters turn a [`Declaration`] into each carrier's own structure.

pub mod codes;
pub mod declaration;
pub mod eei;
pub mod invoice;
pub mod quote;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use codes::{CodeError, CountryCode, CurrencyCode, HsCode, Itn};
pub use declaration::{
    Commodity, ContentsType, Declaration, DutiesPayer, ExportReason, Incoterm, NonDelivery, RawCommodity, RawDeclaration, RawSigner,
    RawTaxId, Restriction, Signer, TaxId, TaxIdKind,
};
pub use eei::ExportFiling;

use crate::model::Decimal;

/// One invalid field: its path in the request (`shipment.customs.commodities[2].hs_code`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field in the request.
    #[schema(example = "declaration.commodities[1].hs_code")]
    pub field: String,
    /// What is wrong.
    #[schema(example = "HS code \"84A210\" has 'A'; only digits (with dots or spaces) are allowed")]
    pub message: String,
}

/// Every invalid field of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

/// Why a shipment's customs cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomsError {
    /// The shipment crosses a customs border and has no declaration.
    #[error("a customs declaration ({path}) is required for a shipment from {from} to {to}")]
    Required {
        /// Path where it belongs.
        path: String,
        /// Origin country.
        from: String,
        /// Destination country.
        to: String,
    },
    /// The declaration (or the lane's countries) is invalid.
    #[error("invalid customs declaration: {0}")]
    Invalid(FieldErrors),
}

/// Unit of a commodity's net weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MassUnit {
    /// Kilograms.
    Kg,
    /// Grams.
    G,
    /// Pounds.
    Lb,
    /// Ounces.
    Oz,
}

impl MassUnit {
    /// `w` in kilograms.
    pub fn to_kg(self, w: Decimal) -> Decimal {
        let factor = match self {
            MassUnit::Kg => return w,
            MassUnit::G => "0.001",
            MassUnit::Lb => "0.45359237",
            MassUnit::Oz => "0.028349523125",
        };
        w * factor.parse().unwrap_or_default()
    }

    /// `w` in pounds.
    pub fn to_lb(self, w: Decimal) -> Decimal {
        let factor = match self {
            MassUnit::Lb => return w,
            MassUnit::Oz => "0.0625",
            MassUnit::Kg => "2.20462262185",
            MassUnit::G => "0.00220462262185",
        };
        w * factor.parse().unwrap_or_default()
    }
}

/// Rounds half away from zero to `places` decimals (0–6).
pub fn round(d: Decimal, places: u32) -> Decimal {
    let places = places.min(6);
    // `to_cents` rounds to two places; shift the value so those are the wanted ones.
    let shift: Decimal = match places {
        0 => "0.01".parse(),
        1 => "0.1".parse(),
        2 => "1".parse(),
        n => format!("1{}", "0".repeat(n as usize - 2)).parse(),
    }
    .unwrap_or_default();
    let n = (d * shift).to_cents();
    let neg = n < 0;
    let digits = format!("{:0>width$}", n.unsigned_abs(), width = places as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - places as usize);
    let text = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    format!("{}{text}", if neg { "-" } else { "" }).parse().unwrap_or_default()
}

/// A money amount with exactly two decimals (`2500.50`, `12.00`).
pub fn money_text(d: Decimal) -> String {
    let cents = d.to_cents();
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.unsigned_abs() / 100,
        cents.unsigned_abs() % 100
    )
}

/// EU customs union members (plus Monaco, inside it through France).
const EU_CUSTOMS_UNION: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MC", "MT", "NL",
    "PL", "PT", "RO", "SE", "SI", "SK",
];

/// True when goods from `from` to `to` cross a customs border, so a label
/// needs a declaration. Same country, US ↔ Puerto Rico (one US customs
/// territory) and shipments inside the EU customs union do not.
pub fn crosses_border(from: &str, to: &str) -> bool {
    let (from, to) = (from.trim().to_ascii_uppercase(), to.trim().to_ascii_uppercase());
    let within = |set: &[&str]| set.contains(&from.as_str()) && set.contains(&to.as_str());
    !(from == to || within(&["US", "PR"]) || within(EU_CUSTOMS_UNION))
}

/// The validated declaration of a shipment from `from` to `to`.
///
/// `base` is the path of the shipment in the request (`shipment`, or empty
/// for a top-level one): errors name `{base}.customs.…` and
/// `{base}.from.country` / `{base}.to.country`. A declaration is required
/// when `required` and the shipment crosses a customs border; one given for
/// a shipment that does not is still validated.
pub fn validate_for(
    from: &str,
    to: &str,
    raw: Option<&RawDeclaration>,
    base: &str,
    required: bool,
) -> Result<Option<Declaration>, CustomsError> {
    let path = |p: &str| if base.is_empty() { p.to_string() } else { format!("{base}.{p}") };
    if raw.is_none() {
        return if required && crosses_border(from, to) {
            Err(CustomsError::Required {
                path: path("customs"),
                from: from.to_string(),
                to: to.to_string(),
            })
        } else {
            Ok(None)
        };
    }
    let mut errors = Vec::new();
    let mut country = |field: &str, v: &str| match v.parse::<CountryCode>() {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(FieldError {
                field: path(field),
                message: e.to_string(),
            });
            None
        }
    };
    let (origin, destination) = (country("from.country", from), country("to.country", to));
    let (Some(origin), Some(destination), Some(raw)) = (origin, destination, raw) else {
        return Err(CustomsError::Invalid(FieldErrors(errors)));
    };
    raw.validate(origin, destination, &path("customs"))
        .map(Some)
        .map_err(CustomsError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(round(d("0.45359237"), 3), d("0.454"));
        assert_eq!(round(d("2.5"), 0), d("3"));
        assert_eq!(round(d("1.25"), 1), d("1.3"));
        assert_eq!(round(d("0.0004"), 3), d("0"));
        assert_eq!(round(d("12.345678"), 4), d("12.3457"));
        assert_eq!(money_text(d("2500.5")), "2500.50");
        assert_eq!(money_text(d("12")), "12.00");
    }

    #[test]
    fn weights() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(MassUnit::G.to_kg(d("250")), d("0.25"));
        assert_eq!(MassUnit::Oz.to_lb(d("8")), d("0.5"));
        assert_eq!(round(MassUnit::Kg.to_lb(d("1")), 3), d("2.205"));
        assert_eq!(round(MassUnit::Lb.to_kg(d("1")), 3), d("0.454"));
    }

    #[test]
    fn borders() {
        assert!(crosses_border("US", "CA"));
        assert!(crosses_border("US", "VI"));
        assert!(crosses_border("US", "GU"));
        assert!(!crosses_border("US", "PR"));
        assert!(!crosses_border("us", "US"));
        assert!(!crosses_border("DE", "FR"));
        assert!(crosses_border("DE", "GB"));
        assert!(crosses_border("DE", "CH"));
    }

    #[test]
    fn required_and_country_errors() {
        let e = validate_for("US", "DE", None, "shipment", true).unwrap_err();
        assert!(
            matches!(e, CustomsError::Required { ref path, .. } if path == "shipment.customs"),
            "{e}"
        );
        assert_eq!(validate_for("US", "PR", None, "shipment", true), Ok(None));
        assert_eq!(validate_for("US", "DE", None, "shipment", false), Ok(None));
        let raw = RawDeclaration::default();
        let CustomsError::Invalid(e) = validate_for("USA", "DE", Some(&raw), "", true).unwrap_err() else {
            panic!()
        };
        assert_eq!(e.0[0].field, "from.country");
    }
}
