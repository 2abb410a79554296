//! Gateway configuration, layered: built-in defaults, then `tradelane.toml`
//! (or the file given with `--config`), then `TRADELANE_*` environment
//! variables, then command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file or a variable is invalid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// Connections in the pool.
    pub database_connections: u32,
    /// Folder with `x12/` and `partners/`.
    pub mappings: Option<PathBuf>,
    /// Largest request body for X12 (bytes).
    pub body_limit: usize,
    /// Largest JSON request body (bytes).
    pub json_limit: usize,
    /// HTTP worker threads.
    pub http_workers: usize,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Seconds between overdue-acknowledgment sweeps.
    pub overdue_check_secs: u64,
    /// Outbox behaviour.
    pub outbox: OutboxConfig,
    /// Where messages go, by name.
    pub destinations: BTreeMap<String, DestinationConfig>,
    /// Per-partner routing: the destination that receives acks and outbound documents.
    pub partners: BTreeMap<String, PartnerRoute>,
    /// Where canonical documents from inbound X12 go.
    pub routing: Routing,
    /// Carrier accounts and limits, by carrier id (`ups`, `fedex`, `usps`, `dhl`, `canadapost`).
    pub carriers: BTreeMap<String, crate::connectors::carriers::CarrierConfig>,
    /// Rate shopping and tracking.
    pub shipping: ShippingConfig,
    /// Landed-cost (duty and tax) providers.
    pub landed_cost: crate::connectors::landed_cost::LandedCostConfig,
}

/// Rate shopping and tracking settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShippingConfig {
    /// Deadline for each carrier's rate answer (ms).
    pub rate_timeout_ms: u64,
    /// Seconds between tracking polls of a subscription.
    pub tracking_poll_secs: u64,
}

impl Default for ShippingConfig {
    fn default() -> Self {
        Self {
            rate_timeout_ms: 3_000,
            tracking_poll_secs: 300,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite:data/tradelane.db".into(),
            database_connections: 8,
            mappings: None,
            body_limit: 50 << 20,
            json_limit: 10 << 20,
            http_workers: 2,
            log_format: "text".into(),
            overdue_check_secs: 60,
            outbox: OutboxConfig::default(),
            destinations: BTreeMap::new(),
            partners: BTreeMap::new(),
            routing: Routing::default(),
            carriers: BTreeMap::new(),
            shipping: ShippingConfig::default(),
            landed_cost: Default::default(),
        }
    }
}

/// Delivery defaults (each destination may override some).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Run delivery workers in this process.
    pub enabled: bool,
    /// Lease on a claimed message (ms); longer than any delivery timeout.
    pub lease_ms: i64,
    /// Idle poll interval (ms).
    pub poll_ms: u64,
    /// Attempts before a message is dead.
    pub max_attempts: i64,
    /// Age after which a message is dead instead of retried (s).
    pub max_age_secs: i64,
    /// First backoff step (ms).
    pub base_delay_ms: u64,
    /// Largest backoff step (s).
    pub max_delay_secs: u64,
    /// Largest Retry-After honoured (s).
    pub max_retry_after_secs: u64,
    /// Seconds to let in-flight deliveries finish on shutdown.
    pub shutdown_grace_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lease_ms: 60_000,
            poll_ms: 250,
            max_attempts: 12,
            max_age_secs: 3 * 86_400,
            base_delay_ms: 1_000,
            max_delay_secs: 600,
            max_retry_after_secs: 3_600,
            shutdown_grace_secs: 10,
        }
    }
}

/// One destination: an HTTP endpoint. `Debug` leaves the secret and header values out.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// URL messages are POSTed to.
    pub url: String,
    /// Requests per second (none = unlimited).
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Burst above the rate.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Deliveries in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Deliver messages with the same ordering key one at a time, in order.
    #[serde(default)]
    pub ordered: bool,
    /// Request timeout (ms).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// HMAC-SHA256 signing secret (Standard Webhooks headers) when set.
    #[serde(default)]
    pub secret: Option<String>,
    /// Extra headers (e.g. an API key the destination wants).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Override of `outbox.max_attempts`.
    #[serde(default)]
    pub max_attempts: Option<i64>,
    /// Credentials the destination wants on every request.
    #[serde(default)]
    pub auth: Option<DestinationAuth>,
}

impl std::fmt::Debug for DestinationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DestinationConfig")
            .field("url", &self.url)
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .field("concurrency", &self.concurrency)
            .field("ordered", &self.ordered)
            .field("timeout_ms", &self.timeout_ms)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_attempts", &self.max_attempts)
            .field("auth", &self.auth)
            .finish()
    }
}

/// How a destination authenticates requests. Secrets come from the named
/// environment variable (`*_env`) or, for development, inline.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestinationAuth {
    /// OAuth 2.0 client credentials: a bearer token from `token_url`, cached
    /// until it expires and fetched again after a 401.
    OauthClientCredentials {
        /// Token endpoint.
        token_url: String,
        /// Client id.
        client_id: String,
        /// Client secret (prefer `client_secret_env`).
        #[serde(default)]
        client_secret: Option<String>,
        /// Environment variable holding the client secret.
        #[serde(default)]
        client_secret_env: Option<String>,
        /// Requested scope.
        #[serde(default)]
        scope: Option<String>,
    },
    /// A fixed key in a header.
    ApiKey {
        /// Header name.
        header: String,
        /// Key (prefer `value_env`).
        #[serde(default)]
        value: Option<String>,
        /// Environment variable holding the key.
        #[serde(default)]
        value_env: Option<String>,
    },
}

impl std::fmt::Debug for DestinationAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        match self {
            DestinationAuth::OauthClientCredentials { token_url, client_id, .. } => f
                .debug_struct("OauthClientCredentials")
                .field("token_url", token_url)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            DestinationAuth::ApiKey { header, .. } => f.debug_struct("ApiKey").field("header", header).finish_non_exhaustive(),
        }
    }
}

fn default_concurrency() -> usize {
    4
}

fn default_timeout() -> u64 {
    15_000
}

/// A partner's routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerRoute {
    /// Destination receiving the partner's acks and outbound documents.
    pub destination: String,
}

/// Routing of canonical documents.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Routing {
    /// Destination receiving documents translated from inbound X12.
    pub documents: Option<String>,
}

impl Config {
    /// Reads `path` (or `./tradelane.toml` when it exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let default_path = Path::new("tradelane.toml");
        let path = path.or_else(|| default_path.exists().then_some(default_path));
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io {
                    path: p.display().to_string(),
                    source,
                })?;
                Self::parse(&text)?
            }
            None => Self::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Overrides from `TRADELANE_*` variables.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, ConfigError> {
            v.parse().map_err(|_| ConfigError::Invalid(format!("{name}={v:?} is not a number")))
        }
        if let Some(v) = var("TRADELANE_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("TRADELANE_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("TRADELANE_MAPPINGS") {
            self.mappings = Some(v.into());
        }
        if let Some(v) = var("TRADELANE_BODY_LIMIT") {
            self.body_limit = num("TRADELANE_BODY_LIMIT", v)?;
        }
        if let Some(v) = var("TRADELANE_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = var("TRADELANE_HTTP_WORKERS") {
            self.http_workers = num("TRADELANE_HTTP_WORKERS", v)?;
        }
        Ok(())
    }

    /// Cross-checks: routes name known destinations, timeouts fit in the lease.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (partner, route) in &self.partners {
            if !self.destinations.contains_key(&route.destination) {
                return Err(ConfigError::Invalid(format!(
                    "partners.{partner}.destination names unknown destination {:?}",
                    route.destination
                )));
            }
        }
        if let Some(d) = &self.routing.documents {
            if !self.destinations.contains_key(d) {
                return Err(ConfigError::Invalid(format!("routing.documents names unknown destination {d:?}")));
            }
        }
        for (name, d) in &self.destinations {
            if d.timeout_ms as i64 >= self.outbox.lease_ms {
                return Err(ConfigError::Invalid(format!(
                    "destinations.{name}.timeout_ms must be shorter than outbox.lease_ms"
                )));
            }
            if d.concurrency == 0 || d.rate_per_second == Some(0) {
                return Err(ConfigError::Invalid(format!(
                    "destinations.{name}: concurrency and rate must be positive"
                )));
            }
        }
        for id in self.carriers.keys() {
            if !crate::connectors::carriers::CARRIERS.contains(&id.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "carriers.{id}: unknown carrier (one of {})",
                    crate::connectors::carriers::CARRIERS.join(", ")
                )));
            }
        }
        self.landed_cost.check().map_err(ConfigError::Invalid)?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(format!("log_format {:?}: use text or json", self.log_format)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let mut c = Config::parse(
            r#"
            listen = "127.0.0.1:9000"
            [destinations.fulfillment]
            url = "http://127.0.0.1:9999/hook"
            rate_per_second = 5
            [partners.acme-parts]
            destination = "fulfillment"
            [routing]
            documents = "fulfillment"
            "#,
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.destinations["fulfillment"].concurrency, 4);
        c.apply_env(|k| (k == "TRADELANE_LISTEN").then(|| "127.0.0.1:7000".to_string()))
            .unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.body_limit, 50 << 20);
        c.check().unwrap();
        c.routing.documents = Some("nowhere".into());
        assert!(c.check().is_err());
        assert!(Config::parse("bogus = 1").is_err());
    }

    #[test]
    fn debug_output_leaves_secrets_out() {
        let c = Config::parse(
            r#"
            [destinations.oem]
            url = "http://127.0.0.1:9999/orders"
            secret = "whsec-very-secret"
            headers = { "x-api-key" = "header-secret" }
            [carriers.ups]
            base_url = "http://127.0.0.1:9101"
            key = "client-id"
            secret = "carrier-secret"
            [landed_cost.zonos]
            base_url = "http://127.0.0.1:9106"
            key = "zonos-token"
            secret = "zonos-secret"
            "#,
        )
        .unwrap();
        let text = format!("{c:?}");
        for secret in [
            "whsec-very-secret",
            "header-secret",
            "carrier-secret",
            "zonos-token",
            "zonos-secret",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("x-api-key") && text.contains("http://127.0.0.1:9106"));
    }
}
