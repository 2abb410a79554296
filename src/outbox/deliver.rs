//! One HTTP delivery: POST with the message's Idempotency-Key, signed when
//! the destination has a secret (Standard Webhooks: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).

use std::time::Duration;

use base64::Engine;
use hmac::{KeyInit, Mac};

use crate::config::DestinationConfig;
use crate::store::Claimed;

/// Largest response body kept in the attempt log.
const KEEP_RESPONSE: usize = 4096;

/// What the destination answered.
#[derive(Debug)]
pub enum Response {
    /// An HTTP response.
    Http {
        /// Status code.
        status: u16,
        /// Retry-After header, if any.
        retry_after: Option<String>,
        /// Body (truncated).
        body: String,
    },
    /// No response: connect, timeout, reset, TLS.
    Failed(String),
}

/// The shared client: rustls, no redirects (a POST is never replayed elsewhere).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("tradelane/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// POSTs the message, with `auth` (a header name and value) when given.
pub async fn post(client: &reqwest::Client, d: &DestinationConfig, m: &Claimed, auth: Option<&(String, String)>) -> Response {
    let mut req = client
        .post(m.url.as_deref().unwrap_or(&d.url))
        .timeout(Duration::from_millis(d.timeout_ms))
        .header("content-type", &m.content_type)
        .header("idempotency-key", &m.id)
        .header("x-tradelane-attempt", m.attempts.to_string())
        .header("x-tradelane-kind", &m.kind);
    for (k, v) in &d.headers {
        req = req.header(k, v);
    }
    if let Some((k, v)) = auth {
        req = req.header(k, v);
    }
    if let Some(secret) = m.secret.as_ref().or(d.secret.as_ref()) {
        // A fresh timestamp per attempt: a retry after minutes must not look stale.
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        req = req
            .header("webhook-id", &m.id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sign(&secret_bytes(secret), &m.id, ts, &m.body));
    }
    match req.body(m.body.clone()).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
            // A 2xx whose body breaks off is not a delivery.
            match resp.bytes().await {
                Ok(b) => Response::Http {
                    status,
                    retry_after,
                    body: String::from_utf8_lossy(&b[..b.len().min(KEEP_RESPONSE)]).into_owned(),
                },
                Err(e) => Response::Failed(format!("reading response: {e}")),
            }
        }
        Err(e) => Response::Failed(classify(&e)),
    }
}

/// A `whsec_…` secret is base64 (Standard Webhooks); any other string is used as is.
pub fn secret_bytes(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

fn classify(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    };
    // The error's Display can carry the URL; keep it (destinations are operator config, not secrets).
    format!("{kind}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_golden_vector() {
        // Standard Webhooks test vector: secret "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" (base64 of the key), id, ts, body.
        let key = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
