//! Labels bought (keyed by the caller's Idempotency-Key, so a purchase is
//! never repeated) and tracking subscriptions.

use serde::Serialize;
use sqlx::Row;

use super::{new_id, now_ms, Store, StoreError};

/// A label purchase as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelRecord {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Carrier.
    pub carrier: String,
    /// Shipper account used.
    pub shipper: Option<String>,
    /// Service.
    pub service_code: String,
    /// `pending` (carrier called, answer not recorded), `purchased`, `failed`, `voided`.
    pub status: String,
    /// Master tracking number.
    pub tracking_number: Option<String>,
    /// The carrier's label (JSON of the canonical `Label`).
    #[schema(schema_with = label_or_null)]
    pub label: Option<serde_json::Value>,
    /// Why it failed: `{"type": "carrier-rejected", "detail": "…"}`.
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    /// Created (ms).
    pub created_at: i64,
    #[serde(skip)]
    request_hash: String,
}

/// Schema of [`LabelRecord::label`]: the carrier model's `Label` (listed in the OpenAPI
/// components by the HTTP layer), or null until the purchase succeeded.
fn label_or_null() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("Label"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

impl LabelRecord {
    /// Hash of the request that created it.
    pub fn request_hash(&self) -> &str {
        &self.request_hash
    }
}

/// A tracking subscription.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Webhook URL.
    pub url: String,
    /// Still polled.
    pub active: bool,
    /// Last status pushed.
    pub last_status: Option<String>,
    #[serde(skip)]
    pub(crate) secret: String,
    #[serde(skip)]
    pub(crate) last_event_at: Option<String>,
}

impl Subscription {
    /// The signing secret (shown to the subscriber once, at creation).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Time of the last event pushed.
    pub fn last_event_at(&self) -> Option<&str> {
        self.last_event_at.as_deref()
    }
}

const LABEL_COLUMNS: &str = "id, owner, carrier, shipper, service_code, status, tracking_number, label, error, created_at, request_hash";

fn label(r: &sqlx::any::AnyRow) -> Result<LabelRecord, sqlx::Error> {
    let json = |v: Option<String>| v.and_then(|t| serde_json::from_str(&t).ok());
    Ok(LabelRecord {
        id: r.try_get("id")?,
        owner: r.try_get("owner")?,
        carrier: r.try_get("carrier")?,
        shipper: r.try_get("shipper")?,
        service_code: r.try_get("service_code")?,
        status: r.try_get("status")?,
        tracking_number: r.try_get("tracking_number")?,
        label: json(r.try_get("label")?),
        error: json(r.try_get("error")?),
        created_at: r.try_get("created_at")?,
        request_hash: r.try_get("request_hash")?,
    })
}

const SUB_COLUMNS: &str = "id, owner, carrier, tracking_number, url, secret, active, last_status, last_event_at";

fn subscription(r: &sqlx::any::AnyRow) -> Result<Subscription, sqlx::Error> {
    let active: i64 = r.try_get("active")?;
    Ok(Subscription {
        id: r.try_get("id")?,
        owner: r.try_get("owner")?,
        carrier: r.try_get("carrier")?,
        tracking_number: r.try_get("tracking_number")?,
        url: r.try_get("url")?,
        secret: r.try_get("secret")?,
        active: active != 0,
        last_status: r.try_get("last_status")?,
        last_event_at: r.try_get("last_event_at")?,
    })
}

impl Store {
    /// Reserves a label purchase under the caller's key before the carrier is
    /// called. `Err(existing)` when the key was used before.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve_label(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        carrier: &str,
        shipper: Option<&str>,
        service_code: &str,
    ) -> Result<Result<String, LabelRecord>, StoreError> {
        let id = new_id("lbl_");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO labels (id, owner, idempotency_key, request_hash, carrier, shipper, service_code, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(owner)
        .bind(key)
        .bind(request_hash)
        .bind(carrier)
        .bind(shipper)
        .bind(service_code)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        if r.rows_affected() == 1 {
            return Ok(Ok(id));
        }
        let existing = self
            .label_by_key(owner, key)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
        Ok(Err(existing))
    }

    /// The label an owner bought with a key.
    pub async fn label_by_key(&self, owner: &str, key: &str) -> Result<Option<LabelRecord>, StoreError> {
        let sql = format!("SELECT {LABEL_COLUMNS} FROM labels WHERE owner = $1 AND idempotency_key = $2");
        let row = sqlx::query(&sql).bind(owner).bind(key).fetch_optional(self.pool()).await?;
        row.as_ref().map(label).transpose().map_err(Into::into)
    }

    /// One label.
    pub async fn label(&self, id: &str) -> Result<Option<LabelRecord>, StoreError> {
        let sql = format!("SELECT {LABEL_COLUMNS} FROM labels WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(label).transpose().map_err(Into::into)
    }

    /// Records the carrier's answer: a label (`purchased`), an error (`failed`) or a void (`voided`).
    pub async fn finish_label(
        &self,
        id: &str,
        status: &str,
        tracking_number: Option<&str>,
        label: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE labels SET status = $1, tracking_number = COALESCE($2, tracking_number), label = COALESCE($3, label), \
             error = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(tracking_number)
        .bind(label)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a subscription; the secret is generated by the caller.
    pub async fn create_subscription(
        &self,
        owner: &str,
        carrier: &str,
        number: &str,
        url: &str,
        secret: &str,
    ) -> Result<Subscription, StoreError> {
        let id = new_id("sub_trk_");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tracking_subscriptions (id, owner, carrier, tracking_number, url, secret, active, next_poll_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $7)",
        )
        .bind(&id)
        .bind(owner)
        .bind(carrier)
        .bind(number)
        .bind(url)
        .bind(secret)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(Subscription {
            id,
            owner: owner.into(),
            carrier: carrier.into(),
            tracking_number: number.into(),
            url: url.into(),
            secret: secret.into(),
            active: true,
            last_status: None,
            last_event_at: None,
        })
    }

    /// One subscription.
    pub async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        let sql = format!("SELECT {SUB_COLUMNS} FROM tracking_subscriptions WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(subscription).transpose().map_err(Into::into)
    }

    /// Active subscriptions due for a poll, pushed back by `lease_ms` so other instances skip them.
    pub async fn due_subscriptions(&self, limit: i64, lease_ms: i64) -> Result<Vec<Subscription>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // Several instances on one PostgreSQL store each take different subscriptions.
        let lock = match self.dialect() {
            super::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            super::Dialect::Sqlite => "",
        };
        let sql = format!(
            "SELECT {SUB_COLUMNS} FROM tracking_subscriptions WHERE active = 1 AND next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2{lock}"
        );
        let rows = sqlx::query(&sql).bind(now).bind(limit).fetch_all(&mut **tx).await?;
        let subs: Vec<Subscription> = rows.iter().map(subscription).collect::<Result<_, _>>()?;
        for s in &subs {
            sqlx::query("UPDATE tracking_subscriptions SET next_poll_at = $1 WHERE id = $2")
                .bind(now + lease_ms)
                .bind(&s.id)
                .execute(&mut **tx)
                .await?;
        }
        tx.commit().await?;
        Ok(subs)
    }

    /// Records a poll: the status and last event pushed, when to poll next, whether to go on.
    pub async fn polled(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        status: Option<&str>,
        last_event_at: Option<&str>,
        next_poll_at: i64,
        active: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tracking_subscriptions SET last_status = COALESCE($1, last_status), last_event_at = COALESCE($2, last_event_at), \
             next_poll_at = $3, active = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(last_event_at)
        .bind(next_poll_at)
        .bind(i64::from(active))
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
