//! Code newtypes that cannot hold an invalid value: HS / Schedule B codes,
//! ISO 3166-1 countries, ISO 4217 currencies and AES ITNs. Each parses from
//! the loose forms people type and keeps one canonical form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a code did not parse; the text is meant for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(pub String);

/// Serde for a type that round-trips through its canonical text.
macro_rules! text_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A Harmonized System code: 6 to 10 digits (6 = WCO HS subheading, 8 = most
/// national tariffs, 10 = US HTS / Schedule B, Canada, EU TARIC). Dots and
/// spaces are accepted on input (`6109.10.0012`); only the digits are kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HsCode(String);

impl HsCode {
    /// The digits, as UPS, FedEx, DHL and USPS take them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit international subheading.
    pub fn subheading(&self) -> &str {
        &self.0[..6]
    }

    /// Canada Post's dotted form `dddd.dd[.dd[.dd]]`. Its pattern only has
    /// pairs after the heading, so an odd trailing digit (a 7- or 9-digit
    /// national code) is left out.
    pub fn dotted(&self) -> String {
        let even = self.0.len() - self.0.len() % 2;
        let mut out = self.0[..4].to_string();
        for pair in self.0.as_bytes()[4..even].chunks(2) {
            out.push('.');
            out.push_str(std::str::from_utf8(pair).unwrap_or_default());
        }
        out
    }
}

impl FromStr for HsCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let trimmed = s.trim();
        if let Some(bad) = trimmed.chars().find(|c| !(c.is_ascii_digit() || matches!(c, '.' | ' ' | '-'))) {
            return Err(CodeError(format!("HS code {trimmed:?} has {bad:?}; only digits (with dots or spaces) are allowed")));
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if !(6..=10).contains(&digits.len()) {
            return Err(CodeError(format!(
                "HS code {trimmed:?} has {} digits; 6 to 10 are required",
                digits.len()
            )));
        }
        Ok(Self(digits))
    }
}

text_serde!(HsCode);

/// ISO 3166-1 alpha-2 codes assigned by the ISO 3166 Maintenance Agency (249),
/// plus `XK` (Kosovo), user-assigned but used by every carrier and by the EU.
/// Sorted, for binary search.
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH",
    "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL",
    "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU",
    "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE",
    "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC",
    "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC",
    "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT",
    "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR",
    "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA",
    "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// True for `code` (upper case).
    pub fn is(&self, code: &str) -> bool {
        self.as_str() == code
    }

    /// True when the code is one of `codes`.
    pub fn is_any(&self, codes: &[&str]) -> bool {
        codes.contains(&self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let up = s.trim().to_ascii_uppercase();
        match COUNTRIES.binary_search(&up.as_str()) {
            Ok(i) => {
                let b = COUNTRIES[i].as_bytes();
                Ok(Self([b[0], b[1]]))
            }
            Err(_) => Err(CodeError(format!("{s:?} is not an ISO 3166-1 alpha-2 country code"))),
        }
    }
}

text_serde!(CountryCode);

/// ISO 4217 currencies in circulation (list 1, 2025 amendments: XCG replaces
/// ANG, ZWG replaces ZWL, SLE replaces SLL). Fund codes (BOV, CLF, USN …),
/// precious metals, SDR and the test / no-currency codes cannot price goods
/// and are left out. Sorted.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL",
    "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR",
    "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER", "ZAR", "ZMW", "ZWG",
];

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// US dollar.
    pub const USD: CurrencyCode = CurrencyCode(*b"USD");
    /// Canadian dollar.
    pub const CAD: CurrencyCode = CurrencyCode(*b"CAD");

    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl FromStr for CurrencyCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let up = s.trim().to_ascii_uppercase();
        match CURRENCIES.binary_search(&up.as_str()) {
            Ok(i) => {
                let b = CURRENCIES[i].as_bytes();
                Ok(Self([b[0], b[1], b[2]]))
            }
            Err(_) => Err(CodeError(format!("{s:?} is not an ISO 4217 currency code"))),
        }
    }
}

text_serde!(CurrencyCode);

/// An AES Internal Transaction Number: `X`, the filing date `YYYYMMDD` and six
/// digits (15 characters). `AES X…`, `AESX…` and lower case are accepted;
/// the canonical form is `X` + 14 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Itn(String);

impl Itn {
    /// `X20250317123456`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `AES X20250317123456`, as printed on labels and invoices.
    pub fn printed(&self) -> String {
        format!("AES {}", self.0)
    }
}

impl FromStr for Itn {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let up = s.trim().to_ascii_uppercase();
        let rest = up.strip_prefix("AES").map(str::trim_start).unwrap_or(&up);
        let ok = rest.len() == 15 && rest.starts_with('X') && rest[1..].bytes().all(|b| b.is_ascii_digit());
        let date_ok = ok && crate::model::Date::from_x12(&rest[1..9]).is_ok();
        if !date_ok {
            return Err(CodeError(format!(
                "{s:?} is not an AES ITN (X, the filing date YYYYMMDD and 6 digits, e.g. X20250317123456)"
            )));
        }
        Ok(Self(rest.to_string()))
    }
}

text_serde!(Itn);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_complete() {
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(COUNTRIES.len(), 250);
        assert!(COUNTRIES.iter().all(|c| c.len() == 2) && CURRENCIES.iter().all(|c| c.len() == 3));
    }

    #[test]
    fn hs_codes() {
        let hs: HsCode = "6109.10.0012".parse().unwrap();
        assert_eq!(hs.as_str(), "6109100012");
        assert_eq!(hs.dotted(), "6109.10.00.12");
        assert_eq!(hs.subheading(), "610910");
        assert_eq!("610910".parse::<HsCode>().unwrap().dotted(), "6109.10");
        assert_eq!("61091000".parse::<HsCode>().unwrap().dotted(), "6109.10.00");
        assert_eq!("610910001".parse::<HsCode>().unwrap().dotted(), "6109.10.00");
        assert_eq!(" 8471 30 0100 ".parse::<HsCode>().unwrap().as_str(), "8471300100");
        assert!("6109".parse::<HsCode>().is_err());
        assert!("61091000123".parse::<HsCode>().is_err());
        assert!("6109.1O".parse::<HsCode>().is_err());
        assert!("".parse::<HsCode>().is_err());
    }

    #[test]
    fn countries_and_currencies() {
        assert_eq!("us".parse::<CountryCode>().unwrap().as_str(), "US");
        assert!("UK".parse::<CountryCode>().is_err());
        assert!("USA".parse::<CountryCode>().is_err());
        assert!("ZZ".parse::<CountryCode>().is_err());
        assert_eq!("eur".parse::<CurrencyCode>().unwrap().as_str(), "EUR");
        assert_eq!("USD".parse::<CurrencyCode>().unwrap(), CurrencyCode::USD);
        assert!("XXX".parse::<CurrencyCode>().is_err());
        assert!("HRK".parse::<CurrencyCode>().is_err());
        assert!("US$".parse::<CurrencyCode>().is_err());
    }

    #[test]
    fn itns() {
        for s in ["X20250317123456", "AES X20250317123456", "AESX20250317123456", "aes x20250317123456"] {
            assert_eq!(s.parse::<Itn>().unwrap().as_str(), "X20250317123456", "{s}");
        }
        assert_eq!("X20250317123456".parse::<Itn>().unwrap().printed(), "AES X20250317123456");
        for s in ["X2025031712345", "X202503171234567", "Y20250317123456", "X20251317123456", "20250317123456", "X2025031712345A"] {
            assert!(s.parse::<Itn>().is_err(), "{s}");
        }
    }
}
