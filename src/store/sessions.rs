//! Console sessions: a browser that logged in with an admin API key gets a
//! random session token; only its SHA-256 is stored, with an expiry. A
//! session dies with its key: revoking the key ends it.

use super::{now_ms, sha256_hex, Store, StoreError};

/// How long a console session lasts (8 hours).
pub const SESSION_TTL_MS: i64 = 8 * 3600 * 1000;

/// A live console session.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The API key the operator logged in with.
    pub key_id: String,
    /// That key's owner.
    pub owner: String,
    /// Expiry (ms).
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session for `token` (kept only as its hash) and drops expired ones.
    pub async fn create_session(&self, token: &str, key_id: &str, owner: &str) -> Result<ConsoleSession, StoreError> {
        let now = now_ms();
        let expires_at = now + SESSION_TTL_MS;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO console_sessions (token_hash, key_id, owner, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(token.as_bytes()))
            .bind(key_id)
            .bind(owner)
            .bind(now)
            .bind(expires_at)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(ConsoleSession {
            key_id: key_id.to_string(),
            owner: owner.to_string(),
            expires_at,
        })
    }

    /// The session `token` stands for: `None` when unknown, expired, or its key was revoked.
    pub async fn session(&self, token: &str) -> Result<Option<ConsoleSession>, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT s.key_id, s.owner, s.expires_at FROM console_sessions s JOIN api_keys k ON k.key_id = s.key_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(key_id, owner, expires_at)| ConsoleSession { key_id, owner, expires_at }))
    }

    /// Ends a session (logout); false when there was none.
    pub async fn end_session(&self, token: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(sha256_hex(token.as_bytes()))
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
