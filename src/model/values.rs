//! Value types: text, dates, exact decimals and money amounts.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr};

/// Text of a document field. Values of up to 24 bytes (nearly every X12
/// element) are stored inline, so reading a document allocates little;
/// in JSON, JSON Schema and OpenAPI it is a plain string.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(compact_str::CompactString);

impl Text {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        Self(s.into())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(s.into())
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Self(s.into())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.0.into()
    }
}

impl FromStr for Text {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.into())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl JsonSchema for Text {
    fn is_referenceable() -> bool {
        false
    }
    fn schema_name() -> String {
        String::schema_name()
    }
    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(gen)
    }
}

impl utoipa::PartialSchema for Text {
    fn schema() -> RefOr<Schema> {
        String::schema()
    }
}

impl utoipa::ToSchema for Text {}

/// A value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {value:?}")]
pub struct ValueError {
    /// What was expected.
    pub kind: &'static str,
    /// What was given.
    pub value: String,
}

fn invalid(kind: &'static str, value: &str) -> ValueError {
    ValueError {
        kind,
        value: value.to_string(),
    }
}

/// A calendar date, `YYYY-MM-DD` in JSON, `CCYYMMDD` in X12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Today's date in UTC.
    pub fn today() -> Self {
        Self::from_days(crate::calendar::unix_now_secs().div_euclid(crate::calendar::DAY_SECS)).unwrap_or(Self {
            year: 1970,
            month: 1,
            day: 1,
        })
    }

    /// The date of a day number counted from 1970-01-01 (`None` outside years 0–65535).
    pub fn from_days(days: i64) -> Option<Self> {
        let (y, m, d) = crate::calendar::civil_from_days(days);
        Self::new(u16::try_from(y).ok()?, m as u8, d as u8)
    }

    /// Day number counted from 1970-01-01, for date arithmetic.
    pub fn days(self) -> i64 {
        crate::calendar::days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day))
    }

    /// A date from its parts, checked.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let days = crate::calendar::days_in_month(i64::from(year), i64::from(month))?;
        (1..=days).contains(&i64::from(day)).then_some(Self { year, month, day })
    }

    /// Parses X12 `CCYYMMDD` (or `YYMMDD`, taken as 20YY).
    pub fn from_x12(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(invalid("date", s));
        }
        // At most four ASCII digits: no overflow, no parse error.
        let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        let d = match b.len() {
            8 => Self::new(num(0..4), num(4..6) as u8, num(6..8) as u8),
            6 => Self::new(2000 + num(0..2), num(2..4) as u8, num(4..6) as u8),
            _ => None,
        };
        d.ok_or_else(|| invalid("date", s))
    }

    /// X12 `CCYYMMDD`.
    pub fn to_x12(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl Date {
    /// `YYYY-MM-DD` without going through `fmt` (years up to 9999; `None` beyond).
    fn iso_bytes(&self) -> Option<[u8; 10]> {
        if self.year > 9999 {
            return None;
        }
        let digit = |n: u16| b'0' + (n % 10) as u8;
        let (y, m, d) = (self.year, u16::from(self.month), u16::from(self.day));
        Some([
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
        ])
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.iso_bytes() {
            // Digits and dashes only: always UTF-8.
            Some(b) => f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?),
            None => write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day),
        }
    }
}

impl FromStr for Date {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let p: Vec<&str> = s.split('-').collect();
        match p.as_slice() {
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                let (y, m, d) = (y.parse().ok(), m.parse().ok(), d.parse().ok());
                match (y, m, d) {
                    (Some(y), Some(m), Some(d)) => Self::new(y, m, d),
                    _ => None,
                }
            }
            _ => None,
        }
        .ok_or_else(|| invalid("date (YYYY-MM-DD)", s))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.iso_bytes() {
            Some(b) => s.serialize_str(std::str::from_utf8(&b).map_err(serde::ser::Error::custom)?),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Date {
    fn schema_name() -> String {
        "Date".into()
    }
    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("date".into()),
            ..Default::default()
        }
        .into()
    }
}

impl utoipa::PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(DATE_PATTERN))
            .description(Some("A calendar date, `YYYY-MM-DD`."))
            .examples(["2024-03-12"])
            .into()
    }
}

impl utoipa::ToSchema for Date {}

/// What [`Date::from_str`] accepts (the calendar check comes on top).
pub const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// What [`Decimal::from_str`] and [`Amount::from_str`] accept, at most 18 digits in all.
pub const DECIMAL_PATTERN: &str = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$";

/// An exact decimal (quantities, prices): mantissa × 10^-scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    /// A whole number.
    pub fn from_int(n: i64) -> Self {
        Self {
            mantissa: n as i128,
            scale: 0,
        }
    }

    /// Arithmetic saturates instead of overflowing: parsed values have at most
    /// 18 digits, so only absurd sums get near the limits.
    fn rescale(self, scale: u32) -> i128 {
        self.mantissa.saturating_mul(10i128.saturating_pow(scale - self.scale))
    }

    /// Rounded to whole cents (half away from zero).
    pub fn to_cents(self) -> i64 {
        let cents = if self.scale <= 2 {
            self.rescale(2)
        } else {
            let div = 10i128.saturating_pow(self.scale - 2);
            let q = self.mantissa / div;
            let r = self.mantissa % div;
            let adj = if r.abs().saturating_mul(2) >= div { r.signum() } else { 0 };
            q + adj
        };
        i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX })
    }

    /// From whole cents.
    pub fn from_cents(c: i64) -> Self {
        Self {
            mantissa: c as i128,
            scale: 2,
        }
        .normalized()
    }

    fn normalized(mut self) -> Self {
        if self.scale == 0 {
            return self;
        }
        // 64-bit division is far cheaper than 128-bit, and parsed values always fit.
        if let Ok(mut m) = i64::try_from(self.mantissa) {
            while self.scale > 0 && m % 10 == 0 {
                m /= 10;
                self.scale -= 1;
            }
            self.mantissa = i128::from(m);
            return self;
        }
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    /// True when zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        self.rescale(scale).cmp(&other.rescale(scale))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::ops::Add for Decimal {
    type Output = Decimal;
    fn add(self, other: Self) -> Self {
        if self.scale == other.scale {
            return Self {
                mantissa: self.mantissa.saturating_add(other.mantissa),
                scale: self.scale,
            }
            .normalized();
        }
        let scale = self.scale.max(other.scale);
        Self {
            mantissa: self.rescale(scale).saturating_add(other.rescale(scale)),
            scale,
        }
        .normalized()
    }
}

impl std::ops::Mul for Decimal {
    type Output = Decimal;
    fn mul(self, other: Self) -> Self {
        let mut mantissa = self.mantissa.saturating_mul(other.mantissa);
        let mut scale = self.scale.saturating_add(other.scale);
        // Beyond 36 decimals only precision is lost, never magnitude.
        while scale > 36 {
            mantissa /= 10;
            scale -= 1;
        }
        Self { mantissa, scale }.normalized()
    }
}

impl FromStr for Decimal {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bytes = s.as_bytes();
        let (neg, body) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        // One pass: digits, and at most one point. 18 digits fit an i64.
        let mut m: i64 = 0;
        let mut digits = 0usize;
        let mut point = None;
        for (i, &b) in body.iter().enumerate() {
            match b {
                b'0'..=b'9' if digits < 18 => {
                    m = m * 10 + i64::from(b - b'0');
                    digits += 1;
                }
                b'.' if point.is_none() => point = Some(i),
                _ => return Err(invalid("decimal", s)),
            }
        }
        if digits == 0 {
            return Err(invalid("decimal", s));
        }
        let scale = point.map_or(0, |p| body.len() - p - 1) as u32;
        Ok(Self {
            mantissa: i128::from(if neg { -m } else { m }),
            scale,
        }
        .normalized())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let (int, frac) = if digits.len() > scale {
            (
                digits[..digits.len() - scale].to_string(),
                digits[digits.len() - scale..].to_string(),
            )
        } else {
            ("0".to_string(), format!("{digits:0>scale$}"))
        };
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&int)?;
        if !frac.is_empty() {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.scale == 0 {
            if let Ok(i) = i64::try_from(self.mantissa) {
                return s.serialize_i64(i);
            }
        }
        let f: f64 = self.to_string().parse().unwrap_or(0.0);
        s.serialize_f64(f)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            I(i64),
            F(f64),
            S(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::I(i) => i.to_string(),
            Raw::F(f) => f.to_string(),
            Raw::S(s) => s,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Decimal {
    fn schema_name() -> String {
        "Decimal".into()
    }
    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::Number.into()),
            ..Default::default()
        }
        .into()
    }
}

impl utoipa::PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type([Type::Number, Type::String].into_iter().collect::<SchemaType>())
            .pattern(Some(DECIMAL_PATTERN))
            .description(Some(
                "An exact decimal of at most 18 digits. Written as a JSON number; \
                 read from a number or a decimal string (`\"4.5\"`), kept exact either way.",
            ))
            .examples([serde_json::json!(4.5), serde_json::json!("12")])
            .into()
    }
}

impl utoipa::ToSchema for Decimal {}

/// A price as written (`16.00`, `0.125`): a decimal string whose text is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount(Text);

impl Amount {
    /// The value as a decimal.
    pub fn value(&self) -> Decimal {
        self.0.parse().unwrap_or_default()
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Amount {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        s.parse::<Decimal>().map_err(|_| invalid("amount", s))?;
        Ok(Self(s.into()))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(serde_json::Number),
        }
        let text = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::N(n) => n.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> String {
        "Amount".into()
    }
    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            string: Some(Box::new(schemars::schema::StringValidation {
                pattern: Some(r"^-?[0-9]*\.?[0-9]+$".into()),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

impl utoipa::PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(DECIMAL_PATTERN))
            .description(Some(
                "A price as written, a decimal string of at most 18 digits whose text is kept \
                 (`\"16.00\"` stays `\"16.00\"`). A JSON number is read as well.",
            ))
            .examples(["24.95"])
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        let q: Decimal = "24".parse().unwrap();
        let p: Decimal = "16.00".parse().unwrap();
        assert_eq!((q * p).to_cents(), 38400);
        assert_eq!(("0.125".parse::<Decimal>().unwrap() * Decimal::from_int(3)).to_cents(), 38);
        let big: Decimal = "999999999999999999".parse().unwrap();
        assert_eq!((big * big * big).to_cents(), i64::MAX);
        assert!("1234567890123456789".parse::<Decimal>().is_err());
        assert_eq!("-1.005".parse::<Decimal>().unwrap().to_cents(), -101);
        assert_eq!("1.50".parse::<Decimal>().unwrap().to_string(), "1.5");
        assert_eq!(Decimal::from_cents(5).to_string(), "0.05");
        assert!("1.2.3".parse::<Decimal>().is_err());
        assert!("".parse::<Decimal>().is_err());
        for bad in ["-", "+", ".", "+-1", "-+1", "1e5", " 1", "12a", "1..", "0.0000000000000000001"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
        for (text, shown) in [
            ("+1.10", "1.1"),
            ("-.5", "-0.5"),
            ("7.", "7"),
            ("-0", "0"),
            ("000.000", "0"),
            ("999999999999999999", "999999999999999999"),
            ("-9.99999999999999999", "-9.99999999999999999"),
        ] {
            assert_eq!(text.parse::<Decimal>().unwrap().to_string(), shown, "{text}");
        }
        let sum = "1.25".parse::<Decimal>().unwrap() + "0.75".parse::<Decimal>().unwrap();
        assert_eq!((sum, sum.to_string()), (Decimal::from_int(2), "2".to_string()));
    }

    #[test]
    fn dates() {
        assert_eq!(Date::from_x12("20240229").unwrap().to_string(), "2024-02-29");
        assert!(Date::from_x12("20230229").is_err());
        assert_eq!("2024-03-15".parse::<Date>().unwrap().to_x12(), "20240315");
        assert!("2024-3-15".parse::<Date>().is_err());
        let early = Date::new(7, 1, 9).unwrap();
        assert_eq!(
            (early.to_string(), serde_json::to_string(&early).unwrap()),
            ("0007-01-09".into(), "\"0007-01-09\"".into())
        );
        let late = Date::new(12024, 12, 31).unwrap();
        assert_eq!(
            (late.to_string(), serde_json::to_string(&late).unwrap()),
            ("12024-12-31".into(), "\"12024-12-31\"".into())
        );
    }
}
