//! Declarative JSON field mapping: `"target.path" = "source.path|transform"`.
//!
//! Sources are dotted paths into a JSON value; `'text'` is a literal.
//! Transforms: `int` (a number or numeric string as an integer), `string`,
//! `upper`, `date_compact` (`2024-03-12` → `20240312`). Targets are dotted
//! paths, created as nested objects. An absent source leaves the target out.

use serde_json::{Map, Value};

use super::OemError;

/// One compiled `target = source|transform` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    target: Vec<String>,
    source: Source,
    transform: Option<Transform>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Path(Vec<String>),
    Literal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Int,
    String,
    Upper,
    DateCompact,
}

impl FieldMap {
    /// Compiles one pair.
    ///
    /// # Errors
    /// An empty path or an unknown transform, naming the target.
    pub fn parse(target: &str, source: &str) -> Result<Self, OemError> {
        let bad = |m: String| OemError::Mapping(format!("{target}: {m}"));
        let split = |p: &str| -> Result<Vec<String>, OemError> {
            let parts: Vec<String> = p.split('.').map(str::to_string).collect();
            if parts.iter().any(String::is_empty) {
                return Err(bad(format!("{p:?} is not a dotted path")));
            }
            Ok(parts)
        };
        let (src, transform) = match source.rsplit_once('|') {
            Some((s, t)) if !s.starts_with('\'') || s.ends_with('\'') => (s, Some(t)),
            _ => (source, None),
        };
        let transform = match transform {
            None => None,
            Some("int") => Some(Transform::Int),
            Some("string") => Some(Transform::String),
            Some("upper") => Some(Transform::Upper),
            Some("date_compact") => Some(Transform::DateCompact),
            Some(t) => return Err(bad(format!("unknown transform {t:?} (int, string, upper, date_compact)"))),
        };
        let source = match src.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            Some(lit) => Source::Literal(lit.to_string()),
            None => Source::Path(split(src)?),
        };
        Ok(Self {
            target: split(target)?,
            source,
            transform,
        })
    }

    fn value(&self, from: &Value) -> Option<Value> {
        let v = match &self.source {
            Source::Literal(s) => Value::String(s.clone()),
            Source::Path(p) => p.iter().try_fold(from, |v, k| v.get(k.as_str()))?.clone(),
        };
        if v.is_null() {
            return None;
        }
        let text = || match &v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(match self.transform {
            None => v.clone(),
            Some(Transform::String) => Value::String(text()),
            Some(Transform::Upper) => Value::String(text().to_uppercase()),
            Some(Transform::DateCompact) => Value::String(text().replace('-', "")),
            Some(Transform::Int) => match &v {
                Value::Number(n) if n.is_i64() => v.clone(),
                _ => text().parse::<i64>().map(Value::from).ok()?,
            },
        })
    }
}

/// Applies `maps` to `from`, building a new object.
pub fn apply(maps: &[FieldMap], from: &Value) -> Value {
    let mut out = Value::Object(Map::new());
    for m in maps {
        if let Some(v) = m.value(from) {
            set(&mut out, &m.target, v);
        }
    }
    out
}

fn set(out: &mut Value, path: &[String], v: Value) {
    let mut here = out;
    for k in &path[..path.len() - 1] {
        if !here.get(k.as_str()).is_some_and(Value::is_object) {
            here[k.as_str()] = Value::Object(Map::new());
        }
        here = &mut here[k.as_str()];
    }
    here[path[path.len() - 1].as_str()] = v;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_paths_literals_and_transforms() {
        let maps = [
            FieldMap::parse("order.ref", "po_number").unwrap(),
            FieldMap::parse("order.type", "'STOCK'").unwrap(),
            FieldMap::parse("order.date", "po_date|date_compact").unwrap(),
            FieldMap::parse("qty", "line.quantity|int").unwrap(),
            FieldMap::parse("lineNo", "line.no|string").unwrap(),
            FieldMap::parse("dealer", "dealer.code|upper").unwrap(),
            FieldMap::parse("absent", "nowhere.at_all").unwrap(),
        ];
        let from =
            json!({"po_number": "HCA000001", "po_date": "2024-03-12", "line": {"quantity": "12", "no": 3}, "dealer": {"code": "hca-1"}});
        assert_eq!(
            apply(&maps, &from),
            json!({"order": {"ref": "HCA000001", "type": "STOCK", "date": "20240312"}, "qty": 12, "lineNo": "3", "dealer": "HCA-1"})
        );
    }

    #[test]
    fn rejects_unknown_transforms_and_empty_paths() {
        assert_eq!(
            FieldMap::parse("qty", "quantity|float").unwrap_err().to_string(),
            "field mapping: qty: unknown transform \"float\" (int, string, upper, date_compact)"
        );
        assert!(FieldMap::parse("a..b", "x").is_err());
    }
}
