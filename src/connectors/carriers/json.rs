//! Carrier JSON read exactly: serde_json turns numbers into `f64`, which would
//! bend amounts like `15.31`. Numbers are rewritten as strings of their own
//! text before parsing and read back as exact [`Decimal`]s.
//!
//! The carrier adapters read replies into a [`Json`] tree that borrows its strings
//! from the reply: no map and no string allocated per key or value. [`exact`]
//! gives a `serde_json::Value` where that matters less (landed-cost providers).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::model::Decimal;

/// Rewrites every number token outside a string as a JSON string holding its text.
/// Invalid JSON stays invalid; serde_json reports it afterwards. Strings are skipped
/// with `memchr` and copied in runs: replies are mostly string bytes.
fn quote_numbers(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 8);
    // Bytes before `copied` are in `out`.
    let (mut i, mut copied) = (0, 0);
    while i < body.len() {
        match body[i] {
            b'"' => i = string_end(body, i),
            b'-' | b'0'..=b'9' => {
                out.extend_from_slice(&body[copied..i]);
                let start = i;
                while i < body.len() && matches!(body[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                out.push(b'"');
                out.extend_from_slice(&body[start..i]);
                out.push(b'"');
                copied = i;
            }
            _ => {
                // Structure and whitespace: skip to the next quote, minus sign or digit.
                i += 1;
                while i < body.len() && !STARTS_TOKEN[body[i] as usize] {
                    i += 1;
                }
            }
        }
    }
    out.extend_from_slice(&body[copied..]);
    out
}

/// Bytes that start a string or a number outside strings.
static STARTS_TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'-' as usize] = true;
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = true;
        d += 1;
    }
    t
};

/// The index just past the string whose opening quote is at `open` (the end of
/// `body` when the string is not closed).
fn string_end(body: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while let Some(k) = memchr::memchr2(b'"', b'\\', &body[i..]) {
        if body[i + k] == b'"' {
            return i + k + 1;
        }
        // A backslash and the byte it escapes.
        i += k + 2;
        if i >= body.len() {
            break;
        }
    }
    body.len()
}

/// Parses a carrier's JSON with every number kept as its exact text.
pub fn exact(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(&quote_numbers(body))
}

/// A reply's text with every number quoted, ready for [`Json::parse`].
pub fn quoted(body: &[u8]) -> Vec<u8> {
    quote_numbers(body)
}

/// A JSON value that borrows its strings from the text it was read from.
/// Numbers are strings holding their own text (the text went through [`quoted`]).
/// Objects keep their members in order; a repeated key reads as its last value,
/// as in `serde_json::Value`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json<'a> {
    /// `null`, and what indexing finds where nothing is.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string, or a number's text.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's members in order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

static NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
    /// Reads `text` (from [`quoted`]); serde_json does the parsing, with its depth limit.
    pub fn parse(text: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string (or number).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An exact decimal from a number's text or a numeric string.
    pub fn decimal(&self) -> Option<Decimal> {
        self.as_str().and_then(decimal_text)
    }

    /// True for `null` (and for what is missing).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// True for an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

impl<'a> std::ops::Index<&str> for Json<'a> {
    type Output = Json<'a>;

    fn index(&self, key: &str) -> &Json<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::Index<usize> for Json<'a> {
    type Output = Json<'a>;

    fn index(&self, i: usize) -> &Json<'a> {
        self.as_array().and_then(|items| items.get(i)).unwrap_or(&NULL)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    // Numbers arrive quoted; these keep an unquoted one readable all the same.
    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(n.to_string())))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(n.to_string())))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(n.to_string())))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

/// An object key, borrowed unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A decimal as a JSON number, for carrier requests that want numbers (weights,
/// sizes, declared values). Non-integers go through f64 only for writing: serde_json
/// prints the shortest text that reads back to the same f64, which is the decimal's
/// own text for the few digits these values have.
pub fn number(d: Decimal) -> Value {
    let text = d.to_string();
    if let Ok(i) = text.parse::<i64>() {
        return i.into();
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A decimal from a number's text (as [`exact`] leaves it), a numeric string or an
/// integer, exponent form included (`1.5E1`).
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => decimal_text(s),
        Value::Number(n) => decimal_text(&n.as_i64().map(|i| i.to_string()).or_else(|| n.as_u64().map(|u| u.to_string()))?),
        _ => None,
    }
}

/// A decimal from a number's text, exponent form included.
pub fn decimal_text(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let Some((mantissa, exp)) = text.split_once(['e', 'E']) else {
        return text.parse().ok();
    };
    let exp: i64 = exp.parse().ok().filter(|e: &i64| e.abs() <= 30)?;
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + exp;
    let plain = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    format!("{}{plain}", if neg { "-" } else { "" }).parse().ok()
}

/// Every `fixtures/carriers/*/*.json`, with its path (tests).
#[cfg(test)]
pub(crate) fn carrier_fixtures() -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers");
    let mut out = Vec::new();
    for carrier in std::fs::read_dir(dir).expect("fixtures/carriers") {
        for f in std::fs::read_dir(carrier.expect("entry").path()).expect("carrier folder") {
            let path = f.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let body = std::fs::read(&path).expect("fixture");
                out.push((path, body));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time rewrite `quote_numbers` replaced, kept as its oracle.
    fn reference(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut in_string, mut escaped) = (false, false);
        let mut i = 0;
        while i < body.len() {
            let b = body[i];
            if in_string {
                out.push(b);
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                i += 1;
            } else if b == b'-' || b.is_ascii_digit() {
                let start = i;
                while i < body.len() && matches!(body[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                out.push(b'"');
                out.extend_from_slice(&body[start..i]);
                out.push(b'"');
            } else {
                in_string = b == b'"';
                out.push(b);
                i += 1;
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn quoting_matches_the_reference(body in proptest::collection::vec(proptest::sample::select(
            b"{}[]:, \"\\-+.eE0123456789abnu\n".to_vec()), 0..160)) {
            proptest::prop_assert_eq!(quote_numbers(&body), reference(&body));
        }
    }

    #[test]
    fn carrier_fixtures_quote_like_the_reference() {
        let fixtures = carrier_fixtures();
        assert!(fixtures.len() > 20, "{} fixtures", fixtures.len());
        for (path, body) in fixtures {
            assert_eq!(quote_numbers(&body), reference(&body), "{}", path.display());
        }
    }

    fn to_value(j: &Json<'_>) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Str(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(to_value).collect()),
            Json::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.to_string(), to_value(v))).collect()),
        }
    }

    /// The tree reads what `exact` reads, and fails where it fails.
    fn agrees(body: &[u8]) {
        let text = quoted(body);
        match (exact(body), Json::parse(&text)) {
            (Ok(v), Ok(j)) => assert_eq!(to_value(&j), v, "{}", String::from_utf8_lossy(body)),
            (Err(_), Err(_)) => {}
            (v, j) => panic!("{}: {v:?} vs {j:?}", String::from_utf8_lossy(body)),
        }
    }

    proptest::proptest! {
        #[test]
        fn the_tree_reads_what_value_reads(body in proptest::collection::vec(proptest::sample::select(
            b"{}[]:, \"\\-.e019abnultr".to_vec()), 0..48)) {
            agrees(&body);
        }
    }

    #[test]
    fn the_tree_reads_every_fixture_like_value() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut stack = vec![std::path::PathBuf::from(dir)];
        let mut seen = 0;
        while let Some(d) = stack.pop() {
            for f in std::fs::read_dir(d).unwrap() {
                let path = f.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    agrees(&std::fs::read(&path).unwrap());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "{seen} fixtures");
        agrees(br#"{"a": 1, "a": {"b": "\u00e9\"x"}, "c": [1.5e3, -0, true, false, null]}"#);
        let text = quoted(br#"{"a": 1, "a": 2, "k\u0041": [3]}"#);
        let j = Json::parse(&text).unwrap();
        assert_eq!(j["a"].as_str(), Some("2"));
        assert_eq!(j["kA"][0].decimal().unwrap().to_string(), "3");
        assert!(j["missing"]["deeper"][3].is_null());
    }

    #[test]
    fn numbers_stay_exact() {
        let v = exact(br#"{"a": 12345678.901234567, "b": [0.1, -2, 1.5E1], "s": "x\"9", "c": 2.5e-3}"#).unwrap();
        assert_eq!(decimal(&v["a"]).unwrap().to_string(), "12345678.901234567");
        assert_eq!(decimal(&v["b"][0]).unwrap().to_string(), "0.1");
        assert_eq!(decimal(&v["b"][1]).unwrap().to_string(), "-2");
        assert_eq!(decimal(&v["b"][2]).unwrap().to_string(), "15");
        assert_eq!(decimal(&v["c"]).unwrap().to_string(), "0.0025");
        assert_eq!(v["s"], "x\"9");
        assert!(exact(b"{\"a\": 1").is_err());
    }
}
