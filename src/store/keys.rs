//! API keys: `tl_<key id>_<secret>`. Only the SHA-256 of the secret is stored;
//! a 256-bit random secret needs no slow hash, and the comparison is constant-time.

use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::{now_ms, sha256_hex, Store, StoreError};

/// How long a verified key is trusted without asking the database again. A
/// revocation takes effect at once in the process that revokes, within this
/// long in the others.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum Scope {
    /// Send X12 interchanges (`POST /v1/x12`).
    #[serde(rename = "x12:write")]
    X12Write,
    /// Create outbound documents.
    #[serde(rename = "documents:write")]
    DocumentsWrite,
    /// Read documents and interchanges.
    #[serde(rename = "documents:read")]
    DocumentsRead,
    /// Operate the gateway: every owner's messages, replay, cancel.
    #[serde(rename = "admin")]
    Admin,
    /// Rates, labels and tracking.
    #[serde(rename = "shipping")]
    Shipping,
    /// Dealer replenishment orders and their status (owner = dealer id).
    #[serde(rename = "replenishment")]
    Replenishment,
}

impl Scope {
    /// The scope's name as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::X12Write => "x12:write",
            Scope::DocumentsWrite => "documents:write",
            Scope::DocumentsRead => "documents:read",
            Scope::Admin => "admin",
            Scope::Shipping => "shipping",
            Scope::Replenishment => "replenishment",
        }
    }

    /// All scopes.
    pub const ALL: [Scope; 6] = [
        Scope::X12Write,
        Scope::DocumentsWrite,
        Scope::DocumentsRead,
        Scope::Admin,
        Scope::Shipping,
        Scope::Replenishment,
    ];
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?} (x12:write, documents:write, documents:read, admin, shipping, replenishment)"))
    }
}

/// A verified key.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Public part of the key.
    pub key_id: String,
    /// Partner, dealer or client id the key acts for.
    pub owner: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
}

impl ApiKey {
    /// True when the key has `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A newly created key; `secret` is shown once and never stored.
#[derive(Debug)]
pub struct IssuedKey {
    /// The key id.
    pub key_id: String,
    /// The whole key to hand to the owner.
    pub token: String,
}

impl Store {
    /// Creates a key for `owner` with `scopes`.
    pub async fn create_key(&self, owner: &str, scopes: &[Scope]) -> Result<IssuedKey, StoreError> {
        let mut id = [0u8; 6];
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut id);
        rand::thread_rng().fill_bytes(&mut secret);
        let key_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO api_keys (key_id, owner, scopes, hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key_id)
            .bind(owner)
            .bind(scopes.join(" "))
            .bind(sha256_hex(secret.as_bytes()))
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(IssuedKey {
            token: format!("tl_{key_id}_{secret}"),
            key_id,
        })
    }

    /// Revokes a key; false when there was no such active key.
    pub async fn revoke_key(&self, key_id: &str) -> Result<bool, StoreError> {
        if let Ok(mut cache) = self.keys.lock() {
            cache.retain(|_, (k, _)| k.key_id != key_id);
        }
        let _turn = self.write_turn().await;
        let r = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(key_id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The key a presented token stands for, `None` when unknown, revoked or wrong.
    pub async fn verify_key(&self, token: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some((key_id, secret)) = token.strip_prefix("tl_").and_then(|t| t.split_once('_')) else {
            return Ok(None);
        };
        // The cache is keyed by the hash of the whole token, never the token itself.
        let token_hash = sha256_hex(token.as_bytes());
        if let Some((key, at)) = self.keys.lock().ok().and_then(|c| c.get(&token_hash).cloned()) {
            if at.elapsed() < KEY_CACHE_TTL {
                return Ok(Some(key));
            }
        }
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT owner, scopes, hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL")
                .bind(key_id)
                .fetch_optional(self.pool())
                .await?;
        let Some((owner, scopes, hash)) = row else {
            return Ok(None);
        };
        let presented = sha256_hex(secret.as_bytes());
        if !bool::from(presented.as_bytes().ct_eq(hash.as_bytes())) {
            return Ok(None);
        }
        let key = ApiKey {
            key_id: key_id.to_string(),
            owner,
            scopes: scopes.split_whitespace().filter_map(|s| s.parse().ok()).collect(),
        };
        if let Ok(mut cache) = self.keys.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(token_hash, (key.clone(), std::time::Instant::now()));
        }
        Ok(Some(key))
    }
}
