//! Credentials a destination wants on every request: an API key header, or
//! an OAuth 2.0 client-credentials bearer token (RFC 6749 §4.4) cached until
//! shortly before it expires and fetched again after a 401. Secrets are read
//! from the environment once, at start, and never logged.

use std::time::{Duration, Instant};

use crate::config::DestinationAuth;

/// Seconds before the announced expiry at which a token is renewed.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// The longest a token is cached, whatever its `expires_in` says.
const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;

enum Kind {
    OAuth {
        token_url: String,
        client_id: String,
        secret: Option<String>,
        scope: Option<String>,
    },
    ApiKey {
        header: String,
        value: Option<String>,
    },
}

/// A destination's credentials at run time.
pub struct Authorizer {
    kind: Kind,
    cached: tokio::sync::Mutex<Option<(String, Instant)>>,
}

fn resolve(inline: &Option<String>, env: &Option<String>) -> Option<String> {
    env.as_ref().and_then(|v| std::env::var(v).ok()).or_else(|| inline.clone())
}

/// `application/x-www-form-urlencoded` value encoding.
fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Authorizer {
    /// Reads the secret (environment first, then inline).
    pub fn new(auth: &DestinationAuth) -> Self {
        let kind = match auth {
            DestinationAuth::OauthClientCredentials {
                token_url,
                client_id,
                client_secret,
                client_secret_env,
                scope,
            } => Kind::OAuth {
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                secret: resolve(client_secret, client_secret_env),
                scope: scope.clone(),
            },
            DestinationAuth::ApiKey { header, value, value_env } => Kind::ApiKey {
                header: header.clone(),
                value: resolve(value, value_env),
            },
        };
        Self {
            kind,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// True when the secret is set.
    pub fn has_secret(&self) -> bool {
        match &self.kind {
            Kind::OAuth { secret, .. } => secret.is_some(),
            Kind::ApiKey { value, .. } => value.is_some(),
        }
    }

    /// True when a 401 may be cured by fetching a new token.
    pub fn refreshes(&self) -> bool {
        matches!(self.kind, Kind::OAuth { .. })
    }

    /// Forgets the cached token (the destination answered 401).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// The header to send: `(name, value)`.
    ///
    /// # Errors
    /// A description (without secrets) when the secret is unset or the token
    /// endpoint fails; the delivery is then retried like a network error.
    pub async fn header(&self, client: &reqwest::Client) -> Result<(String, String), String> {
        match &self.kind {
            Kind::ApiKey { header, value } => value
                .clone()
                .map(|v| (header.clone(), v))
                .ok_or_else(|| format!("auth: the {header} key is not configured")),
            Kind::OAuth {
                token_url,
                client_id,
                secret,
                scope,
            } => {
                let mut cached = self.cached.lock().await;
                if let Some((t, until)) = cached.as_ref() {
                    if Instant::now() < *until {
                        return Ok(("authorization".into(), format!("Bearer {t}")));
                    }
                }
                let secret = secret.as_ref().ok_or("auth: the OAuth client secret is not configured")?;
                let mut body = "grant_type=client_credentials".to_string();
                if let Some(s) = scope {
                    body.push_str(&format!("&scope={}", form_encode(s)));
                }
                let resp = client
                    .post(token_url)
                    .timeout(Duration::from_secs(10))
                    .basic_auth(client_id, Some(secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| format!("auth: token request failed: {}", if e.is_timeout() { "timeout" } else { "connect" }))?;
                let status = resp.status().as_u16();
                let json: serde_json::Value = resp.json().await.unwrap_or_default();
                let token = json["access_token"].as_str().filter(|_| (200..300).contains(&status));
                let Some(token) = token else {
                    return Err(format!("auth: token endpoint answered HTTP {status}"));
                };
                // Capped: an absurd `expires_in` must not overflow the clock (nor outlive a day).
                let lifetime = Duration::from_secs(json["expires_in"].as_u64().unwrap_or(300).min(MAX_TOKEN_LIFETIME_SECS));
                let until = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
                *cached = Some((token.to_string(), until));
                Ok(("authorization".into(), format!("Bearer {token}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_declare_credentials_in_the_configuration() {
        let d: crate::config::DestinationConfig = toml::from_str(
            r#"
            url = "https://api.example/orders"
            auth = { kind = "oauth_client_credentials", token_url = "https://auth.example/token", client_id = "gw", client_secret = "s3cret" }
            "#,
        )
        .unwrap();
        let auth = d.auth.unwrap();
        assert!(!format!("{auth:?}").contains("s3cret"));
        let a = Authorizer::new(&auth);
        assert!(a.has_secret() && a.refreshes());
        let k: crate::config::DestinationConfig =
            toml::from_str("url = \"https://x.example\"\nauth = { kind = \"api_key\", header = \"x-api-key\", value = \"k\" }").unwrap();
        assert_eq!(format!("{:?}", k.auth.unwrap()), "ApiKey { header: \"x-api-key\", .. }");
        assert!(toml::from_str::<crate::config::DestinationConfig>("url = \"u\"\nauth = { kind = \"basic\" }").is_err());
    }

    #[tokio::test]
    async fn an_absurd_token_lifetime_is_capped() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).unwrap();
            let body = r#"{"access_token": "t0k", "token_type": "Bearer", "expires_in": 18446744073709551615}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(body.as_bytes()).unwrap();
        });
        let a = Authorizer::new(&DestinationAuth::OauthClientCredentials {
            token_url: url,
            client_id: "gw".into(),
            client_secret: Some("s".into()),
            client_secret_env: None,
            scope: None,
        });
        let h = a.header(&reqwest::Client::new()).await.unwrap();
        assert_eq!(h, ("authorization".to_string(), "Bearer t0k".to_string()));
        server.join().unwrap();
        // Cached: no second request (the server is gone).
        assert_eq!(a.header(&reqwest::Client::new()).await.unwrap().1, "Bearer t0k");
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(form_encode("orders:write parts.read"), "orders%3Awrite+parts.read");
    }

    #[test]
    fn the_environment_wins_over_inline_secrets() {
        let a = Authorizer::new(&DestinationAuth::ApiKey {
            header: "x-api-key".into(),
            value: Some("inline".into()),
            value_env: Some("TRADELANE_TEST_UNSET_VARIABLE_7731".into()),
        });
        assert!(a.has_secret() && !a.refreshes());
        let none = Authorizer::new(&DestinationAuth::ApiKey {
            header: "x-api-key".into(),
            value: None,
            value_env: Some("TRADELANE_TEST_UNSET_VARIABLE_7731".into()),
        });
        assert!(!none.has_secret());
    }
}
