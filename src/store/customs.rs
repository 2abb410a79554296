//! Landed-cost quotes: the canonical quote and the request it answered (the
//! parties, the shipping charge and the customs declaration as sent), kept
//! per owner so the commercial invoice can be printed from them later.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A stored quote.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteRecord {
    /// Id (`lcq_…`).
    pub id: String,
    /// Owner of the key that asked.
    pub owner: String,
    /// Provider id.
    pub provider: String,
    /// The request: `{from, to, shipping, declaration, packages}`.
    pub request: serde_json::Value,
    /// The canonical quote.
    pub quote: serde_json::Value,
    /// Created (ms).
    pub created_at: i64,
    /// Valid until (ms).
    pub expires_at: i64,
}

/// What [`Store::insert_customs_quote`] writes.
#[derive(Debug)]
pub struct NewQuote<'a> {
    /// Id.
    pub id: &'a str,
    /// Owner.
    pub owner: &'a str,
    /// Provider id.
    pub provider: &'a str,
    /// The provider's own quote id.
    pub provider_quote_id: Option<&'a str>,
    /// Currency of the amounts.
    pub currency: &'a str,
    /// Landed total, as exact text.
    pub landed_total: &'a str,
    /// Request JSON.
    pub request: &'a str,
    /// Quote JSON.
    pub quote: &'a str,
    /// Created (ms).
    pub created_at: i64,
    /// Valid until (ms).
    pub expires_at: i64,
}

fn record(r: &sqlx::any::AnyRow) -> Result<QuoteRecord, sqlx::Error> {
    let json = |t: String| serde_json::from_str(&t).unwrap_or(serde_json::Value::Null);
    Ok(QuoteRecord {
        id: r.try_get("id")?,
        owner: r.try_get("owner")?,
        provider: r.try_get("provider")?,
        request: json(r.try_get("request")?),
        quote: json(r.try_get("quote")?),
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Stores a quote; committed before this returns.
    ///
    /// # Errors
    /// The database's.
    pub async fn insert_customs_quote(&self, q: &NewQuote<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO customs_quotes (id, owner, provider, provider_quote_id, currency, landed_total, request, quote, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(q.id)
        .bind(q.owner)
        .bind(q.provider)
        .bind(q.provider_quote_id)
        .bind(q.currency)
        .bind(q.landed_total)
        .bind(q.request)
        .bind(q.quote)
        .bind(q.created_at)
        .bind(q.expires_at)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One quote, whoever owns it (callers check the owner).
    ///
    /// # Errors
    /// The database's.
    pub async fn customs_quote(&self, id: &str) -> Result<Option<QuoteRecord>, StoreError> {
        let row = sqlx::query("SELECT id, owner, provider, request, quote, created_at, expires_at FROM customs_quotes WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(record).transpose().map_err(Into::into)
    }
}
