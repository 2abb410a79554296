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

/// Largest 2xx body kept: one per delivered message, and it is read (an OEM's
/// order id from an answer that echoes the order's lines), so cutting it at
/// [`KEEP_RESPONSE`] would break its JSON.
const KEEP_DELIVERED: usize = 64 * 1024;

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

/// The first `limit` bytes of a response body: a destination that answers with
/// an endless body costs no more memory than what is kept.
async fn read_at_most(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut kept = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - kept.len();
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if kept.len() == limit {
            break;
        }
    }
    Ok(kept)
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
            let keep = if (200..300).contains(&status) {
                KEEP_DELIVERED
            } else {
                KEEP_RESPONSE
            };
            match read_at_most(resp, keep).await {
                Ok(b) => Response::Http {
                    status,
                    retry_after,
                    body: String::from_utf8_lossy(&b).into_owned(),
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

    /// Serves one HTTP response with `status` and `body` on a local port.
    fn answer_once(status: &'static str, body: String) -> (String, std::thread::JoinHandle<()>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/orders", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = s.read(&mut buf).unwrap();
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(body.as_bytes()).unwrap();
        });
        (url, server)
    }

    fn message() -> Claimed {
        Claimed {
            id: "msg_1".into(),
            destination: "oem-northstar".into(),
            kind: "oem_order".into(),
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
            attempts: 1,
            created_at: 0,
            lease_token: "l".into(),
            url: None,
            secret: None,
        }
    }

    #[tokio::test]
    async fn a_delivered_answer_that_echoes_a_long_order_is_kept_whole() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!(r#"{{"lineNumber": {i}, "partNumber": "FL-500S", "quantity": 12, "status": "ACCEPTED"}}"#))
            .collect();
        let answer = format!(
            r#"{{"orderId": "NS-00000042", "status": "ACCEPTED", "orderLines": [{}]}}"#,
            lines.join(",")
        );
        assert!(answer.len() > KEEP_RESPONSE);
        let (url, server) = answer_once("201 Created", answer.clone());
        let d: DestinationConfig = toml::from_str(&format!("url = \"{url}\"")).unwrap();
        let r = post(&client().unwrap(), &d, &message(), None).await;
        server.join().unwrap();
        match r {
            Response::Http { status: 201, body, .. } => assert_eq!(body, answer),
            other => panic!("{other:?}"),
        }
        // Error pages are still cut for the attempt log.
        let (url, server) = answer_once("500 Internal Server Error", "x".repeat(KEEP_RESPONSE * 2));
        let d: DestinationConfig = toml::from_str(&format!("url = \"{url}\"")).unwrap();
        let r = post(&client().unwrap(), &d, &message(), None).await;
        server.join().unwrap();
        match r {
            Response::Http { status: 500, body, .. } => assert_eq!(body.len(), KEEP_RESPONSE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn signature_golden_vector() {
        // Standard Webhooks test vector: secret "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" (base64 of the key), id, ts, body.
        let key = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
