//! Carrier adapters behind one interface: rates, labels, void and tracking
//! for UPS, FedEx, USPS, DHL Express and Canada Post, each speaking the
//! carrier's real API (JSON or XML), plus rate shopping across them.

pub mod canadapost;
pub mod dhl;
pub mod fedex;
pub mod http;
pub mod json;
pub mod model;
pub mod ups;
pub mod usps;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use http::{CarrierHttp, Reply, TokenSource};
pub use model::*;

/// Errors of a carrier call, whatever the carrier.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CarrierError {
    /// Credentials refused (after one token refresh).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The carrier rejected the request; `code` and `message` are the carrier's own.
    #[error("{carrier} rejected the request: {code}: {message}")]
    Rejected {
        /// Carrier id.
        carrier: &'static str,
        /// The carrier's error code.
        code: String,
        /// The carrier's message.
        message: String,
    },
    /// Still throttled after the retries.
    #[error("rate limited by the carrier")]
    RateLimited,
    /// The carrier answered 5xx after the retries.
    #[error("carrier unavailable: HTTP {0}")]
    Unavailable(u16),
    /// No answer (connect, timeout, reset).
    #[error("network error: {0}")]
    Network(String),
    /// The carrier's answer could not be read.
    #[error("unreadable carrier response: {0}")]
    Parse(String),
    /// The carrier has no such operation.
    #[error("{0}")]
    Unsupported(String),
    /// The request cannot be expressed for this carrier.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No answer within the rate-shopping deadline.
    #[error("no answer within {0} ms")]
    Timeout(u64),
}

impl CarrierError {
    /// From a reqwest error.
    pub fn network(e: reqwest::Error) -> Self {
        CarrierError::Network(if e.is_timeout() { "timeout".to_string() } else { e.to_string() })
    }

    /// Maps a non-2xx status whose body the adapter could not turn into a `Rejected`.
    pub fn from_status(status: u16, body: &[u8]) -> Self {
        match status {
            401 | 403 => CarrierError::Auth(format!("HTTP {status}")),
            429 => CarrierError::RateLimited,
            500..=599 => CarrierError::Unavailable(status),
            _ => CarrierError::Parse(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))),
        }
    }
}

/// The shipment's validated customs declaration, for an adapter: present
/// when the origin and destination countries differ and one was given;
/// required (`Invalid` otherwise) on labels that cross a customs border.
pub fn customs_of(s: &Shipment, label: bool) -> Result<Option<crate::customs::Declaration>, CarrierError> {
    let declaration = s.declaration("shipment", label).map_err(|e| CarrierError::Invalid(e.to_string()))?;
    Ok(declaration.filter(|_| !s.from.country.trim().eq_ignore_ascii_case(s.to.country.trim())))
}

/// Word-wraps a customs description into at most `lines` lines of `width`
/// characters (UPS, DHL); `None` when it does not fit.
pub fn wrap(text: &str, width: usize, lines: usize) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            match out.last_mut() {
                Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                    line.push(' ');
                    line.push_str(&word);
                    break;
                }
                _ if word.chars().count() <= width => {
                    out.push(word);
                    break;
                }
                _ => {
                    // A word longer than a line is cut.
                    let head: String = word.chars().take(width).collect();
                    word = word.chars().skip(width).collect();
                    out.push(head);
                }
            }
        }
    }
    (out.len() <= lines && !out.is_empty()).then_some(out)
}

/// Credentials and settings of one carrier account. `Debug` leaves the credentials out.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierAccount {
    /// API base URL (sandbox, production or a mock), without trailing slash.
    #[serde(default)]
    pub base_url: Option<String>,
    /// OAuth client id, or user name for basic auth (DHL, Canada Post).
    #[serde(default)]
    pub key: Option<String>,
    /// OAuth client secret, or password.
    #[serde(default)]
    pub secret: Option<String>,
    /// Shipper / account number (UPS shipper number, FedEx account, DHL account, Canada Post customer number).
    #[serde(default)]
    pub account_number: Option<String>,
    /// Carrier-specific values (USPS CRID/MID/EPS account, Canada Post contract id …).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

impl std::fmt::Debug for CarrierAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarrierAccount")
            .field("base_url", &self.base_url)
            // Some services take their token as the key (Zonos): both stay out.
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("account_number", &self.account_number)
            .field("extra", &self.extra)
            .finish()
    }
}

impl CarrierAccount {
    /// Fills what `self` leaves out from `base`.
    pub fn over(&self, base: &CarrierAccount) -> CarrierAccount {
        let mut extra = base.extra.clone();
        extra.extend(self.extra.clone());
        CarrierAccount {
            base_url: self.base_url.clone().or_else(|| base.base_url.clone()),
            key: self.key.clone().or_else(|| base.key.clone()),
            secret: self.secret.clone().or_else(|| base.secret.clone()),
            account_number: self.account_number.clone().or_else(|| base.account_number.clone()),
            extra,
        }
    }

    /// A required value, or an Invalid error naming it.
    pub fn need<'a>(&self, what: &'a str, v: &'a Option<String>) -> Result<&'a str, CarrierError> {
        v.as_deref()
            .ok_or_else(|| CarrierError::Invalid(format!("carrier account has no {what}")))
    }

    /// The base URL, required.
    pub fn base(&self) -> Result<&str, CarrierError> {
        self.base_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .ok_or_else(|| CarrierError::Invalid("carrier account has no base_url".into()))
    }
}

/// One carrier's configuration: the default account, per-shipper accounts, limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// Default account.
    #[serde(flatten)]
    pub account: CarrierAccount,
    /// Accounts by shipper id (fields left out come from the default).
    #[serde(default)]
    pub shippers: BTreeMap<String, CarrierAccount>,
    /// Requests per second to this carrier.
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Per-request timeout (ms).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Retries of idempotent calls (rates, tracking, void).
    #[serde(default = "default_retries")]
    pub retries: usize,
}

fn default_timeout() -> u64 {
    10_000
}

fn default_retries() -> usize {
    2
}

/// The carrier ids.
pub const CARRIERS: [&str; 5] = ["ups", "fedex", "usps", "dhl", "canadapost"];

/// One configured carrier.
pub enum Carrier {
    /// UPS.
    Ups(ups::Ups),
    /// FedEx.
    FedEx(fedex::FedEx),
    /// USPS.
    Usps(usps::Usps),
    /// DHL Express.
    Dhl(dhl::Dhl),
    /// Canada Post.
    CanadaPost(canadapost::CanadaPost),
}

macro_rules! dispatch {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Carrier::Ups($c) => $e,
            Carrier::FedEx($c) => $e,
            Carrier::Usps($c) => $e,
            Carrier::Dhl($c) => $e,
            Carrier::CanadaPost($c) => $e,
        }
    };
}

impl Carrier {
    /// Builds the adapter for carrier `id`.
    pub fn new(id: &str, account: &CarrierAccount, http: CarrierHttp) -> Option<Carrier> {
        Some(match id {
            "ups" => Carrier::Ups(ups::Ups::new(account, http)),
            "fedex" => Carrier::FedEx(fedex::FedEx::new(account, http)),
            "usps" => Carrier::Usps(usps::Usps::new(account, http)),
            "dhl" => Carrier::Dhl(dhl::Dhl::new(account, http)),
            "canadapost" => Carrier::CanadaPost(canadapost::CanadaPost::new(account, http)),
            _ => return None,
        })
    }

    /// Rates for a shipment.
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        dispatch!(self, c => c.rate(s).await)
    }

    /// Buys a label.
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        dispatch!(self, c => c.ship(r).await)
    }

    /// Voids a label.
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        dispatch!(self, c => c.void(label).await)
    }

    /// Tracks a shipment.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        dispatch!(self, c => c.track(number).await)
    }
}

/// Every configured carrier, with an adapter per shipper account.
pub struct Carriers {
    /// (carrier, shipper or "") → adapter.
    adapters: BTreeMap<(String, String), Carrier>,
}

impl Carriers {
    /// Builds adapters from the configuration.
    pub fn new(config: &BTreeMap<String, CarrierConfig>) -> Result<Self, String> {
        let client = CarrierHttp::client().map_err(|e| e.to_string())?;
        let mut adapters = BTreeMap::new();
        for (id, c) in config {
            let http = CarrierHttp::new(client.clone(), c.rate_per_second, Duration::from_millis(c.timeout_ms), c.retries);
            let make = |account: &CarrierAccount| Carrier::new(id, account, http.clone()).ok_or_else(|| format!("unknown carrier {id:?}"));
            adapters.insert((id.clone(), String::new()), make(&c.account)?);
            for (shipper, account) in &c.shippers {
                adapters.insert((id.clone(), shipper.clone()), make(&account.over(&c.account))?);
            }
        }
        Ok(Self { adapters })
    }

    /// Configured carrier ids.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.adapters.keys().map(|(c, _)| c.as_str()).collect();
        ids.dedup();
        ids
    }

    /// The adapter of `carrier` for `shipper` (its own account, else the default).
    pub fn get(&self, carrier: &str, shipper: Option<&str>) -> Option<&Carrier> {
        shipper
            .and_then(|s| self.adapters.get(&(carrier.to_string(), s.to_string())))
            .or_else(|| self.adapters.get(&(carrier.to_string(), String::new())))
    }
}
