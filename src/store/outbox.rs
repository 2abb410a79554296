//! Outbox rows: enqueue inside the caller's transaction, claim with a lease,
//! finish with a compare-and-set on that lease, and the admin queries.
//!
//! States: `pending` (due at `next_attempt_at`), `inflight` (leased until
//! `locked_until`), `delivered`, `dead`, `cancelled`. An `inflight` row whose
//! lease expired (its worker died) is claimable again.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{new_id, now_ms, Dialect, Store, StoreError};

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Owner (partner, dealer or client) the message belongs to.
    pub owner: &'a str,
    /// Destination name from the configuration.
    pub destination: &'a str,
    /// `ack`, `document`, …
    pub kind: &'a str,
    /// Document it carries, if any.
    pub document_id: Option<&'a str>,
    /// Interchange it answers, if any.
    pub interchange_id: Option<&'a str>,
    /// Messages with the same key go out in order on ordered destinations.
    pub ordering_key: Option<&'a str>,
    /// Content-Type of the body.
    pub content_type: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// URL overriding the destination's (webhook subscriptions).
    pub url: Option<&'a str>,
    /// Signing secret overriding the destination's.
    pub secret: Option<&'a str>,
}

/// A claimed message, with the lease that proves the claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Message id (also the Idempotency-Key of every delivery).
    pub id: String,
    /// Destination.
    pub destination: String,
    /// Kind.
    pub kind: String,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
    /// Attempts including this one.
    pub attempts: i64,
    /// When it was enqueued (ms).
    pub created_at: i64,
    /// The lease token.
    pub lease_token: String,
    /// URL overriding the destination's.
    pub url: Option<String>,
    /// Signing secret overriding the destination's.
    pub secret: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Finish {
    /// The destination accepted it.
    Delivered,
    /// Try again at `at` (ms).
    Retry {
        /// Next attempt time.
        at: i64,
    },
    /// Give up.
    Dead,
}

/// What one attempt did, for the attempt log.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// Attempt number.
    pub attempt: i64,
    /// Start (ms).
    pub started_at: i64,
    /// Duration (ms).
    pub duration_ms: i64,
    /// `delivered`, `retry`, `dead`, `released`.
    pub outcome: String,
    /// HTTP status, when there was a response.
    pub status: Option<i64>,
    /// Network or protocol error.
    pub error: Option<String>,
    /// Response body (truncated).
    pub response: Option<String>,
}

/// One message as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageSummary {
    /// Id.
    pub id: String,
    /// Owner.
    pub owner: String,
    /// Destination.
    pub destination: String,
    /// Kind.
    pub kind: String,
    /// State.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt (ms), for pending messages.
    pub next_attempt_at: i64,
    /// Last error.
    pub last_error: Option<String>,
    /// Document carried.
    pub document_id: Option<String>,
    /// Interchange answered.
    pub interchange_id: Option<String>,
    /// Enqueued (ms).
    pub created_at: i64,
    /// Delivered (ms).
    pub delivered_at: Option<i64>,
}

/// Admin filter.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageFilter {
    /// State.
    pub status: Option<String>,
    /// Destination.
    pub destination: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// Depth and age of one destination's queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DestinationStats {
    /// Destination.
    pub destination: String,
    /// Pending messages.
    pub pending: i64,
    /// Messages being delivered.
    pub inflight: i64,
    /// Dead letters.
    pub dead: i64,
    /// Delivered messages.
    pub delivered: i64,
    /// Age of the oldest pending or inflight message (ms), if any.
    pub oldest_age_ms: Option<i64>,
}

/// Result of a replay or cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Done.
    Done,
    /// No such message.
    NotFound,
    /// The message is in a state that does not allow it.
    Conflict,
}

const SUMMARY_COLUMNS: &str =
    "id, owner, destination, kind, state, attempts, next_attempt_at, last_error, document_id, interchange_id, created_at, delivered_at";

fn summary(row: &sqlx::any::AnyRow) -> Result<MessageSummary, sqlx::Error> {
    Ok(MessageSummary {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        destination: row.try_get("destination")?,
        kind: row.try_get("kind")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        document_id: row.try_get("document_id")?,
        interchange_id: row.try_get("interchange_id")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

/// Adds a message to the outbox inside `tx`; returns its id.
pub async fn enqueue(tx: &mut Transaction<'_, Any>, m: &NewMessage<'_>) -> Result<String, StoreError> {
    let id = new_id("msg_");
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, owner, destination, kind, document_id, interchange_id, ordering_key, content_type, body, \
         state, attempts, next_attempt_at, created_at, updated_at, url, secret) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10, $10, $11, $12)",
    )
    .bind(&id)
    .bind(m.owner)
    .bind(m.destination)
    .bind(m.kind)
    .bind(m.document_id)
    .bind(m.interchange_id)
    .bind(m.ordering_key)
    .bind(m.content_type)
    .bind(m.body.to_vec())
    .bind(now)
    .bind(m.url)
    .bind(m.secret)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Claims up to `limit` due messages of `destination` with a lease of
    /// `lease_ms`, in one statement. With `ordered`, a message waits while an
    /// earlier one with the same ordering key is pending or in flight.
    pub async fn claim(&self, destination: &str, limit: i64, lease_ms: i64, ordered: bool) -> Result<Vec<Claimed>, StoreError> {
        let now = now_ms();
        let token = new_id("lease_");
        let order_guard = if ordered {
            " AND (o.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination \
             AND p.ordering_key = o.ordering_key AND p.seq < o.seq AND p.state IN ('pending', 'inflight')))"
        } else {
            ""
        };
        let lock = match self.dialect() {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET state = 'inflight', lease_token = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE seq IN (SELECT o.seq FROM outbox o WHERE o.destination = $4 \
             AND ((o.state = 'pending' AND o.next_attempt_at <= $3) OR (o.state = 'inflight' AND o.locked_until < $3)){order_guard} \
             ORDER BY o.next_attempt_at, o.seq LIMIT $5{lock}) \
             RETURNING id, destination, kind, content_type, body, attempts, created_at, url, secret"
        );
        let turn = self.write_turn().await;
        let rows = sqlx::query(&sql)
            .bind(&token)
            .bind(now + lease_ms)
            .bind(now)
            .bind(destination)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        drop(turn);
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get("id")?,
                    destination: r.try_get("destination")?,
                    kind: r.try_get("kind")?,
                    content_type: r.try_get("content_type")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                    created_at: r.try_get("created_at")?,
                    lease_token: token.clone(),
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Records the attempt and moves the message on, only if the lease still
    /// holds. Returns false when another worker took the message over.
    pub async fn finish(&self, m: &Claimed, finish: &Finish, attempt: &Attempt) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let error = attempt.error.clone().or_else(|| attempt.status.map(|s| format!("HTTP {s}")));
        let (state, next_at) = match finish {
            Finish::Delivered => ("delivered", now),
            Finish::Retry { at } => ("pending", *at),
            Finish::Dead => ("dead", now),
        };
        let r = sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, lease_token = NULL, locked_until = NULL, \
             last_error = CASE WHEN $1 = 'delivered' THEN last_error ELSE COALESCE($3, last_error) END, \
             delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END, updated_at = $4 \
             WHERE id = $5 AND state = 'inflight' AND lease_token = $6",
        )
        .bind(state)
        .bind(next_at)
        .bind(error)
        .bind(now)
        .bind(&m.id)
        .bind(&m.lease_token)
        .execute(&mut **tx)
        .await?;
        let won = r.rows_affected() == 1;
        sqlx::query(
            "INSERT INTO outbox_attempts (message_id, attempt, started_at, duration_ms, outcome, status, error, response) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&m.id)
        .bind(attempt.attempt)
        .bind(attempt.started_at)
        .bind(attempt.duration_ms)
        .bind(if won {
            attempt.outcome.clone()
        } else {
            format!("{} (lease lost)", attempt.outcome)
        })
        .bind(attempt.status)
        .bind(attempt.error.clone())
        .bind(attempt.response.clone())
        .execute(&mut **tx)
        .await?;
        if won && matches!(finish, Finish::Delivered | Finish::Dead) {
            document_delivery_event(&mut tx, &m.id, matches!(finish, Finish::Delivered), now).await?;
        }
        tx.commit().await?;
        Ok(won)
    }

    /// Gives a lease back at shutdown: due now, and the interrupted attempt does not count.
    pub async fn release(&self, id: &str, lease_token: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let turn = self.write_turn().await;
        let r = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, attempts = attempts - 1, lease_token = NULL, \
             locked_until = NULL, updated_at = $1 WHERE id = $2 AND state = 'inflight' AND lease_token = $3",
        )
        .bind(now)
        .bind(id)
        .bind(lease_token)
        .execute(self.pool())
        .await?;
        drop(turn);
        Ok(r.rows_affected() == 1)
    }

    /// Messages, newest first. `owner` restricts to one owner (non-admin callers).
    pub async fn list_messages(&self, f: &MessageFilter) -> Result<Vec<MessageSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM outbox WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR destination = $2) \
             AND ($3 IS NULL OR owner = $3) ORDER BY seq DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(f.status.clone())
            .bind(f.destination.clone())
            .bind(f.owner.clone())
            .bind(f.limit.unwrap_or(100).clamp(1, 1000))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(summary).collect::<Result<_, _>>().map_err(Into::into)
    }

    /// One message and its attempts.
    pub async fn message(&self, id: &str) -> Result<Option<(MessageSummary, Vec<Attempt>)>, StoreError> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM outbox WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let attempts = sqlx::query(
            "SELECT attempt, started_at, duration_ms, outcome, status, error, response FROM outbox_attempts \
             WHERE message_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Attempt {
                attempt: r.try_get("attempt")?,
                started_at: r.try_get("started_at")?,
                duration_ms: r.try_get("duration_ms")?,
                outcome: r.try_get("outcome")?,
                status: r.try_get("status")?,
                error: r.try_get("error")?,
                response: r.try_get("response")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some((summary(&row)?, attempts)))
    }

    /// Puts a dead or cancelled message back in the queue, due now, with a fresh attempt budget.
    pub async fn replay(&self, id: &str) -> Result<Transition, StoreError> {
        self.transition(
            id,
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND state IN ('dead', 'cancelled')",
        )
        .await
    }

    /// Cancels a pending message.
    pub async fn cancel(&self, id: &str) -> Result<Transition, StoreError> {
        self.transition(
            id,
            "UPDATE outbox SET state = 'cancelled', updated_at = $1 WHERE id = $2 AND state = 'pending'",
        )
        .await
    }

    async fn transition(&self, id: &str, sql: &str) -> Result<Transition, StoreError> {
        let turn = self.write_turn().await;
        let r = sqlx::query(sql).bind(now_ms()).bind(id).execute(self.pool()).await?;
        drop(turn);
        if r.rows_affected() == 1 {
            return Ok(Transition::Done);
        }
        let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(if exists.is_some() {
            Transition::Conflict
        } else {
            Transition::NotFound
        })
    }

    /// Owner of a message, for access checks.
    pub async fn message_owner(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT owner FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Queue depth and oldest age per destination.
    pub async fn destination_stats(&self) -> Result<Vec<DestinationStats>, StoreError> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT destination, \
             SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending, \
             SUM(CASE WHEN state = 'inflight' THEN 1 ELSE 0 END) AS inflight, \
             SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead, \
             SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) AS delivered, \
             MIN(CASE WHEN state IN ('pending', 'inflight') THEN created_at END) AS oldest \
             FROM outbox GROUP BY destination ORDER BY destination",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let oldest: Option<i64> = r.try_get("oldest")?;
                Ok(DestinationStats {
                    destination: r.try_get("destination")?,
                    pending: r.try_get("pending")?,
                    inflight: r.try_get("inflight")?,
                    dead: r.try_get("dead")?,
                    delivered: r.try_get("delivered")?,
                    oldest_age_ms: oldest.map(|o| now - o),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Expired leases right now (should be none after recovery).
    pub async fn expired_leases(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE state = 'inflight' AND locked_until < $1")
            .bind(now_ms())
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

/// A delivered or dead message moves its document on and logs it in the history.
async fn document_delivery_event(tx: &mut Transaction<'_, Any>, message_id: &str, delivered: bool, now: i64) -> Result<(), StoreError> {
    let row: Option<(Option<String>, String, String)> = sqlx::query_as("SELECT document_id, kind, destination FROM outbox WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some((Some(document_id), _kind, destination)) = row else {
        return Ok(());
    };
    let (event, from, to) = if delivered {
        ("delivered", "queued", "sent")
    } else {
        ("delivery_failed", "queued", "delivery_failed")
    };
    // Inbound documents keep `received`; outbound ones go queued → sent (awaiting the 997/999).
    sqlx::query("UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
        .bind(to)
        .bind(now)
        .bind(&document_id)
        .bind(from)
        .execute(&mut **tx)
        .await?;
    super::documents::add_event(tx, &document_id, event, Some(&format!("{destination} ({message_id})"))).await
}
