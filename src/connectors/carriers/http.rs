//! What every carrier call shares: a per-carrier rate limiter, a timeout,
//! OAuth tokens cached until they expire and refreshed once on 401, and
//! retries with backoff (honouring Retry-After) for idempotent calls only.
//! A label purchase is never retried here.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Mutex;

use super::CarrierError;

/// A response that arrived (any status).
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: bytes::Bytes,
}

/// How an OAuth token is fetched.
pub struct TokenSource {
    /// Builds the token request (URL, credentials in the carrier's style).
    pub request: Box<dyn Fn(&reqwest::Client) -> RequestBuilder + Send + Sync>,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    /// A source from a request builder.
    pub fn new(request: impl Fn(&reqwest::Client) -> RequestBuilder + Send + Sync + 'static) -> Self {
        Self {
            request: Box::new(request),
            cached: Mutex::new(None),
        }
    }

    /// A valid token: the cached one, or a fresh one.
    pub async fn token(&self, client: &reqwest::Client) -> Result<String, CarrierError> {
        let mut cached = self.cached.lock().await;
        if let Some((t, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let r = (self.request)(client).send().await.map_err(CarrierError::network)?;
        let status = r.status();
        let body = r.bytes().await.map_err(CarrierError::network)?;
        if !status.is_success() {
            // A throttled or failing token endpoint is not a credentials problem.
            return Err(match status.as_u16() {
                429 => CarrierError::RateLimited,
                s @ 500..=599 => CarrierError::Unavailable(s),
                _ => CarrierError::Auth(format!(
                    "token request answered {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
            });
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| CarrierError::Parse(format!("token: {e}")))?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| CarrierError::Parse("token response without access_token".into()))?
            .to_string();
        // expires_in is a number (FedEx, USPS) or a string (UPS); refresh a minute early.
        let secs = v["expires_in"]
            .as_u64()
            .or_else(|| v["expires_in"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(3600);
        *cached = Some((token.clone(), Instant::now() + Duration::from_secs(secs.saturating_sub(60).max(1))));
        Ok(token)
    }

    /// Drops the cached token (after a 401).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// Per-carrier HTTP settings and state.
#[derive(Clone)]
pub struct CarrierHttp {
    /// The shared client.
    pub client: reqwest::Client,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    timeout: Duration,
    retries: usize,
    base_delay: Duration,
}

impl CarrierHttp {
    /// The HTTP client carrier and landed-cost calls share: no redirects followed,
    /// a 5 s connect timeout, Tradelane's user agent.
    pub fn client() -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("tradelane/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Settings for one carrier.
    pub fn new(client: reqwest::Client, rate_per_second: Option<u32>, timeout: Duration, retries: usize) -> Self {
        Self {
            client,
            limiter: rate_per_second
                .and_then(NonZeroU32::new)
                .map(|r| Arc::new(RateLimiter::direct(Quota::per_second(r)))),
            timeout,
            retries,
            base_delay: Duration::from_millis(100),
        }
    }

    /// Shorter backoff steps (tests).
    pub fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Sends a request built by `build` (called again for each attempt).
    ///
    /// With `auth`, a bearer token is added, and a 401 refreshes it and tries once more.
    /// When `idempotent`, network errors, 429 and 5xx are retried with backoff.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        auth: Option<&TokenSource>,
        idempotent: bool,
    ) -> Result<Reply, CarrierError> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(Duration::from_secs(5))
            .with_jitter()
            .with_max_times(if idempotent { self.retries } else { 0 })
            .build();
        let mut refreshed = false;
        loop {
            if let Some(l) = &self.limiter {
                l.until_ready().await;
            }
            let mut req = build(&self.client).timeout(self.timeout);
            if let Some(a) = auth {
                match a.token(&self.client).await {
                    Ok(t) => req = req.bearer_auth(t),
                    Err(e @ (CarrierError::RateLimited | CarrierError::Unavailable(_) | CarrierError::Network(_))) => match delays.next() {
                        Some(delay) => {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        None => return Err(e),
                    },
                    Err(e) => return Err(e),
                }
            }
            let outcome = req.send().await;
            let (retryable, retry_after) = match &outcome {
                Ok(r) if r.status() == StatusCode::UNAUTHORIZED && auth.is_some() && !refreshed => {
                    refreshed = true;
                    if let Some(a) = auth {
                        a.invalidate().await;
                    }
                    continue;
                }
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS || r.status().is_server_error() => {
                    let after = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| crate::outbox::backoff::parse_retry_after(v, std::time::SystemTime::now()));
                    (true, after)
                }
                Ok(_) => (false, None),
                Err(e) => (e.is_timeout() || e.is_connect() || e.is_request(), None),
            };
            if retryable {
                if let Some(delay) = delays.next() {
                    tokio::time::sleep(retry_after.unwrap_or(delay).max(delay).min(Duration::from_secs(30))).await;
                    continue;
                }
            }
            let r = outcome.map_err(CarrierError::network)?;
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.bytes().await.map_err(CarrierError::network)?;
            return Ok(Reply { status, headers, body });
        }
    }
}
