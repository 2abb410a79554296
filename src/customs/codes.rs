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

/// What [`HsCode::from_str`] accepts, in the form the schema announces: 6 to 10 digits, optionally
/// dotted (`6109.10.0012`); the canonical form written back is the digits alone.
pub const HS_CODE_PATTERN: &str = r"^[0-9](\.?[0-9]){5,9}$";

/// An ISO 3166-1 alpha-2 country code as the schema announces it (lower case is read as well).
pub const COUNTRY_PATTERN: &str = "^[A-Z]{2}$";

/// An ISO 4217 currency code as the schema announces it (lower case is read as well).
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";

/// An AES ITN as the schema announces it (lower case is read as well).
pub const ITN_PATTERN: &str = r"^(AES\s?)?X\d{14}$";

/// `PartialSchema` + `ToSchema` for a code newtype: a string with a pattern.
macro_rules! text_schema {
    ($t:ty, $pattern:expr, $description:expr, $example:expr) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {}
    };
}

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
            return Err(CodeError(format!(
                "HS code {trimmed:?} has {bad:?}; only digits (with dots or spaces) are allowed"
            )));
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
text_schema!(
    HsCode,
    HS_CODE_PATTERN,
    "A Harmonized System code (export Schedule B for US exports): 6 to 10 digits, dots allowed \
     (`6109.10.0012`). Written back as the digits alone.",
    "8708.30.5090"
);

/// ISO 3166-1 alpha-2 codes assigned by the ISO 3166 Maintenance Agency (249),
/// plus `XK` (Kosovo), user-assigned but used by every carrier and by the EU.
/// Sorted by code, for binary search; English short names (ASCII).
const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AQ", "Antarctica"),
    ("AR", "Argentina"),
    ("AS", "American Samoa"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AW", "Aruba"),
    ("AX", "Aland Islands"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BL", "Saint Barthelemy"),
    ("BM", "Bermuda"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivia"),
    ("BQ", "Bonaire, Sint Eustatius and Saba"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BV", "Bouvet Island"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Congo, Democratic Republic of the"),
    ("CF", "Central African Republic"),
    ("CG", "Congo"),
    ("CH", "Switzerland"),
    ("CI", "Cote d'Ivoire"),
    ("CK", "Cook Islands"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cabo Verde"),
    ("CW", "Curacao"),
    ("CX", "Christmas Island"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("EH", "Western Sahara"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FK", "Falkland Islands"),
    ("FM", "Micronesia"),
    ("FO", "Faroe Islands"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GF", "French Guiana"),
    ("GG", "Guernsey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Greenland"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GP", "Guadeloupe"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GS", "South Georgia and the South Sandwich Islands"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Heard Island and McDonald Islands"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IM", "Isle of Man"),
    ("IN", "India"),
    ("IO", "British Indian Ocean Territory"),
    ("IQ", "Iraq"),
    ("IR", "Iran"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JE", "Jersey"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "Saint Kitts and Nevis"),
    ("KP", "Korea, Democratic People's Republic of"),
    ("KR", "Korea, Republic of"),
    ("KW", "Kuwait"),
    ("KY", "Cayman Islands"),
    ("KZ", "Kazakhstan"),
    ("LA", "Lao People's Democratic Republic"),
    ("LB", "Lebanon"),
    ("LC", "Saint Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova"),
    ("ME", "Montenegro"),
    ("MF", "Saint Martin (French part)"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MO", "Macao"),
    ("MP", "Northern Mariana Islands"),
    ("MQ", "Martinique"),
    ("MR", "Mauritania"),
    ("MS", "Montserrat"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NC", "New Caledonia"),
    ("NE", "Niger"),
    ("NF", "Norfolk Island"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PF", "French Polynesia"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PM", "Saint Pierre and Miquelon"),
    ("PN", "Pitcairn"),
    ("PR", "Puerto Rico"),
    ("PS", "Palestine, State of"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "Reunion"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russian Federation"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("SI", "Slovenia"),
    ("SJ", "Svalbard and Jan Mayen"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "Sao Tome and Principe"),
    ("SV", "El Salvador"),
    ("SX", "Sint Maarten (Dutch part)"),
    ("SY", "Syrian Arab Republic"),
    ("SZ", "Eswatini"),
    ("TC", "Turks and Caicos Islands"),
    ("TD", "Chad"),
    ("TF", "French Southern Territories"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Turkiye"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taiwan"),
    ("TZ", "Tanzania"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("UM", "United States Minor Outlying Islands"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VA", "Holy See"),
    ("VC", "Saint Vincent and the Grenadines"),
    ("VE", "Venezuela"),
    ("VG", "Virgin Islands (British)"),
    ("VI", "Virgin Islands (U.S.)"),
    ("VN", "Viet Nam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis and Futuna"),
    ("WS", "Samoa"),
    ("XK", "Kosovo"),
    ("YE", "Yemen"),
    ("YT", "Mayotte"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
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

    /// The country's English short name (`Germany`, `Korea, Republic of`).
    pub fn name(&self) -> &'static str {
        COUNTRIES
            .binary_search_by(|(c, _)| c.cmp(&self.as_str()))
            .map(|i| COUNTRIES[i].1)
            .unwrap_or("")
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
        match COUNTRIES.binary_search_by(|(c, _)| c.cmp(&up.as_str())) {
            Ok(i) => {
                let b = COUNTRIES[i].0.as_bytes();
                Ok(Self([b[0], b[1]]))
            }
            Err(_) => Err(CodeError(format!("{s:?} is not an ISO 3166-1 alpha-2 country code"))),
        }
    }
}

text_serde!(CountryCode);
text_schema!(
    CountryCode,
    COUNTRY_PATTERN,
    "An ISO 3166-1 alpha-2 country code (`XK` for Kosovo).",
    "DE"
);

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
text_schema!(CurrencyCode, CURRENCY_PATTERN, "An ISO 4217 currency code in circulation.", "USD");

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
text_schema!(
    Itn,
    ITN_PATTERN,
    "An AES Internal Transaction Number: `X`, the filing date `YYYYMMDD` and 6 digits; an `AES ` prefix is \
     accepted. Written back as `X` + 14 digits.",
    "X20250317123456"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_complete() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(COUNTRIES.len(), 250);
        assert!(COUNTRIES.iter().all(|(c, n)| c.len() == 2 && !n.is_empty()) && CURRENCIES.iter().all(|c| c.len() == 3));
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
        assert_eq!("DE".parse::<CountryCode>().unwrap().name(), "Germany");
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
        for s in [
            "X20250317123456",
            "AES X20250317123456",
            "AESX20250317123456",
            "aes x20250317123456",
        ] {
            assert_eq!(s.parse::<Itn>().unwrap().as_str(), "X20250317123456", "{s}");
        }
        assert_eq!("X20250317123456".parse::<Itn>().unwrap().printed(), "AES X20250317123456");
        for s in [
            "X2025031712345",
            "X202503171234567",
            "Y20250317123456",
            "X20251317123456",
            "20250317123456",
            "X2025031712345A",
        ] {
            assert!(s.parse::<Itn>().is_err(), "{s}");
        }
    }
}
