//! Carrier JSON read exactly: serde_json turns numbers into `f64`, which would
//! bend amounts like `15.31`. Numbers are rewritten as strings of their own
//! text before parsing and read back as exact [`Decimal`]s.

use serde_json::Value;

use crate::model::Decimal;

/// Rewrites every number token outside a string as a JSON string holding its text.
/// Invalid JSON stays invalid; serde_json reports it afterwards.
fn quote_numbers(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 8);
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

/// Parses a carrier's JSON with every number kept as its exact text.
pub fn exact(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(&quote_numbers(body))
}

/// A decimal from a number's text (as [`exact`] leaves it), a numeric string or an
/// integer, exponent form included (`1.5E1`).
pub fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.as_i64().map(|i| i.to_string()).or_else(|| n.as_u64().map(|u| u.to_string()))?,
        _ => return None,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

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
