//! Schema migrations, applied in order at start-up and recorded in
//! `schema_migrations`. On PostgreSQL an advisory lock keeps several
//! starting processes from migrating at once.

use sqlx::Executor;

use super::{now_ms, Dialect, Store, StoreError};

/// Each migration is a list of statements; `{pk}` and `{blob}` become the dialect's types.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sql/0001_init.sql")),
    (2, include_str!("sql/0002_shipping.sql")),
    (3, include_str!("sql/0003_customs.sql")),
    (4, include_str!("sql/0004_dealers.sql")),
    (5, include_str!("sql/0005_console.sql")),
];

pub(super) async fn run(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    if store.dialect() == Dialect::Postgres {
        conn.execute("SELECT pg_advisory_lock(7391026)").await?;
    }
    let result = apply(store, &mut conn).await;
    if store.dialect() == Dialect::Postgres {
        conn.execute("SELECT pg_advisory_unlock(7391026)").await?;
    }
    result
}

async fn apply(store: &Store, conn: &mut sqlx::pool::PoolConnection<sqlx::Any>) -> Result<(), StoreError> {
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut **conn)
            .await?;
        if done.is_some() {
            continue;
        }
        let (pk, blob) = match store.dialect() {
            Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
            Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
        };
        let sql = sql.replace("{pk}", pk).replace("{blob}", blob);
        let mut tx = sqlx::Connection::begin(&mut **conn).await?;
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute(statement).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
