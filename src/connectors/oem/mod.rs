//! Declarative OEM REST connectors, one TOML file per OEM in `mappings/oem/`:
//! the base URL and orders endpoint, authentication (OAuth client
//! credentials or an API key), rate limit and timeout, and the field mapping
//! from a canonical dealer order to the OEM's JSON body and from the OEM's
//! answer back to an order id and status.
//!
//! Delivery itself is the outbox's: each OEM becomes a destination
//! ([`OemConfig::destination`]) with its own rate limit, retries and
//! credentials.

mod mapping;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{DestinationAuth, DestinationConfig};

pub use mapping::{apply, FieldMap};

/// Errors loading OEM connectors.
#[derive(Debug, thiserror::Error)]
pub enum OemError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A field mapping is invalid.
    #[error("field mapping: {0}")]
    Mapping(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default)]
    lines: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    line_fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    statuses: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOem {
    id: String,
    name: String,
    base_url: String,
    orders_path: String,
    #[serde(default)]
    rate_per_second: Option<u32>,
    #[serde(default)]
    burst: Option<u32>,
    #[serde(default = "two")]
    concurrency: usize,
    #[serde(default = "ten_seconds")]
    timeout_ms: u64,
    #[serde(default)]
    max_attempts: Option<i64>,
    auth: DestinationAuth,
    request: RawRequest,
    #[serde(default)]
    response: RawResponse,
}

fn two() -> usize {
    2
}

fn ten_seconds() -> u64 {
    10_000
}

/// A validated OEM connector.
#[derive(Debug, Clone)]
pub struct OemConfig {
    /// OEM id (file stem).
    pub id: String,
    /// Display name.
    pub name: String,
    destination: DestinationConfig,
    lines_target: Option<String>,
    fields: Vec<FieldMap>,
    line_fields: Vec<FieldMap>,
    order_id: Option<Vec<String>>,
    status: Option<Vec<String>>,
    statuses: BTreeMap<String, String>,
}

/// What an OEM answered to an order, in canonical terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OemReply {
    /// The OEM's order id.
    pub order_id: Option<String>,
    /// The OEM's status as sent.
    pub oem_status: Option<String>,
    /// The dealer-order status it maps to.
    pub status: Option<String>,
}

fn compile(pairs: &BTreeMap<String, String>) -> Result<Vec<FieldMap>, OemError> {
    pairs.iter().map(|(t, s)| FieldMap::parse(t, s)).collect()
}

impl OemConfig {
    /// Parses and checks one connector.
    ///
    /// # Errors
    /// Invalid TOML, a base URL that is not HTTP(S), a bad field mapping.
    pub fn parse(text: &str, path: &str) -> Result<Self, OemError> {
        let invalid = |message: String| OemError::Invalid {
            path: path.to_string(),
            message,
        };
        let raw: RawOem = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let base = raw.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid(format!("base_url {:?} must be http(s)", raw.base_url)));
        }
        if raw.concurrency == 0 || raw.rate_per_second == Some(0) {
            return Err(invalid("concurrency and rate_per_second must be positive".into()));
        }
        // A relative token URL is on the API's host.
        let mut auth = raw.auth;
        if let DestinationAuth::OauthClientCredentials { token_url, .. } = &mut auth {
            if token_url.starts_with('/') {
                *token_url = format!("{base}{token_url}");
            }
        }
        let in_path = |e: OemError| invalid(e.to_string());
        let dotted = |p: Option<String>| p.map(|p| p.split('.').map(str::to_string).collect::<Vec<_>>());
        Ok(Self {
            destination: DestinationConfig {
                url: format!("{base}{}", raw.orders_path),
                rate_per_second: raw.rate_per_second,
                burst: raw.burst,
                concurrency: raw.concurrency,
                ordered: false,
                timeout_ms: raw.timeout_ms,
                secret: None,
                headers: BTreeMap::new(),
                max_attempts: raw.max_attempts,
                auth: Some(auth),
            },
            id: raw.id,
            name: raw.name,
            lines_target: raw.request.lines,
            fields: compile(&raw.request.fields).map_err(in_path)?,
            line_fields: compile(&raw.request.line_fields).map_err(in_path)?,
            order_id: dotted(raw.response.order_id),
            status: dotted(raw.response.status),
            statuses: raw.response.statuses,
        })
    }

    /// The outbox destination name of this OEM.
    pub fn destination_name(&self) -> String {
        format!("oem-{}", self.id)
    }

    /// The outbox destination: orders URL, limits, credentials.
    pub fn destination(&self) -> &DestinationConfig {
        &self.destination
    }

    /// The OEM's JSON body for a canonical order (`lines` is an array of line objects).
    pub fn order_body(&self, order: &Value) -> Value {
        let mut body = apply(&self.fields, order);
        if let Some(target) = &self.lines_target {
            let lines: Vec<Value> = order["lines"]
                .as_array()
                .map(|ls| ls.iter().map(|l| apply(&self.line_fields, l)).collect())
                .unwrap_or_default();
            body[target.as_str()] = Value::Array(lines);
        }
        body
    }

    /// Reads the OEM's answer to an order.
    pub fn reply(&self, body: &str) -> OemReply {
        let json: Value = serde_json::from_str(body).unwrap_or_default();
        let get = |p: &Option<Vec<String>>| {
            p.as_ref()
                .and_then(|p| p.iter().try_fold(&json, |v, k| v.get(k.as_str())))
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
        };
        let oem_status = get(&self.status);
        OemReply {
            order_id: get(&self.order_id),
            status: oem_status.as_ref().and_then(|s| self.statuses.get(s)).cloned(),
            oem_status,
        }
    }
}

/// Every OEM connector, by id.
#[derive(Debug, Clone, Default)]
pub struct Oems {
    oems: BTreeMap<String, OemConfig>,
}

impl Oems {
    /// Loads every `*.toml` in `dir` (none when the folder is absent).
    ///
    /// # Errors
    /// An unreadable or invalid file.
    pub fn load(dir: &Path) -> Result<Self, OemError> {
        let mut oems = BTreeMap::new();
        if !dir.is_dir() {
            return Ok(Self { oems });
        }
        let io = |path: &Path, source| OemError::Io {
            path: path.display().to_string(),
            source,
        };
        for path in crate::mapping::toml_files(dir).map_err(|e| io(dir, e))? {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let o = OemConfig::parse(&text, &path.display().to_string())?;
            oems.insert(o.id.clone(), o);
        }
        Ok(Self { oems })
    }

    /// One OEM.
    pub fn get(&self, id: &str) -> Option<&OemConfig> {
        self.oems.get(id)
    }

    /// All OEMs.
    pub fn iter(&self) -> impl Iterator<Item = &OemConfig> {
        self.oems.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shipped() -> OemConfig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/oem/northstar.toml");
        OemConfig::parse(&std::fs::read_to_string(&path).unwrap(), "northstar.toml").unwrap()
    }

    #[test]
    fn builds_the_oem_body_from_a_canonical_order() {
        let oem = shipped();
        let order = json!({
            "po_number": "HCA000007", "po_date": "2024-03-12", "currency": "USD",
            "dealer": {"id": "harbor-city-auto", "code": "HCA-20417", "name": "Harbor City Auto"},
            "ship_to": {"name": "HARBOR CITY AUTO", "postal_code": "90731"},
            "lines": [{"line_number": 1, "part": "FL-500S", "requested_part": "FL-1A", "quantity": 40, "uom": "EA"}]
        });
        let body = oem.order_body(&order);
        assert_eq!(body["dealerCode"], "HCA-20417");
        assert_eq!(body["purchaseOrderNumber"], "HCA000007");
        assert_eq!(body["orderType"], "STOCK");
        assert_eq!(body["shipTo"]["postalCode"], "90731");
        assert_eq!(
            body["orderLines"],
            json!([{"lineNumber": 1, "partNumber": "FL-500S", "orderedPartNumber": "FL-1A", "quantity": 40, "unitOfMeasure": "EA"}])
        );
        assert_eq!(oem.destination_name(), "oem-northstar");
        assert!(oem.destination().url.ends_with("/dealer-orders/v2/orders"));
    }

    #[test]
    fn reads_the_order_id_and_maps_the_status() {
        let oem = shipped();
        let r = oem.reply(r#"{"orderId": "NS-88410273", "status": "ACCEPTED"}"#);
        assert_eq!(r.order_id.as_deref(), Some("NS-88410273"));
        assert_eq!(
            (r.oem_status.as_deref(), r.status.as_deref()),
            (Some("ACCEPTED"), Some("acknowledged"))
        );
        assert_eq!(oem.reply("not json").order_id, None);
    }
}
