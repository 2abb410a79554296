//! The durable store: SQLite by default (one file, WAL, `synchronous=FULL`),
//! PostgreSQL when several gateway processes share one store.
//!
//! Both run the same SQL through sqlx's `Any` driver; the few statements that
//! differ (DDL types, the outbox claim) ask [`Dialect`]. Times are Unix
//! milliseconds in `BIGINT` columns, ids are random hex strings.

mod console;
mod control;
mod customs;
mod dealers;
mod documents;
mod keys;
mod kpi;
mod migrate;
mod outbox;
mod sessions;
mod shipping;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};

pub use console::*;
pub use control::allocate;
pub use customs::{NewQuote, QuoteRecord};
pub use dealers::*;
pub use documents::*;
pub use keys::{ApiKey, IssuedKey, Scope};
pub use kpi::*;
pub use outbox::*;
pub use sessions::{ConsoleSession, SESSION_TTL_MS};
pub use shipping::{LabelRecord, Subscription};

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database url {0:?}: use sqlite:PATH or postgres://…")]
    Url(String),
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A control-number series ran out (ISA13 and GS06 have nine digits).
    #[error("control numbers exhausted for {partner} {kind}")]
    ControlNumbersExhausted {
        /// Partner id.
        partner: String,
        /// `isa`, `gs` or `st`.
        kind: String,
    },
}

/// Which SQL dialect the pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool plus its dialect.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer: queueing writers here is cheaper than SQLite's busy-wait sleeps.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Verified keys by token hash, for [`keys::KEY_CACHE_TTL`].
    keys: Arc<std::sync::Mutex<std::collections::HashMap<String, (ApiKey, std::time::Instant)>>>,
}

/// A write transaction; on SQLite it also holds the process's writer turn.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dialect", &self.dialect).finish()
    }
}

/// One entry of a record's history (documents, dealer orders), oldest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEvent {
    /// When (ms).
    pub at: i64,
    /// What happened.
    pub event: String,
    /// Details.
    pub detail: Option<String>,
}

impl Store {
    /// The history rows `sql` selects (`at, event, detail`, one `$1` bound to `id`).
    async fn history(&self, sql: &str, id: &str) -> Result<Vec<HistoryEvent>, sqlx::Error> {
        use sqlx::Row;
        sqlx::query(sql)
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(HistoryEvent {
                    at: r.try_get("at")?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Connects, creating the SQLite file and its folder when needed, and applies migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or(path);
            if path != ":memory:" {
                if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
            }
            (Dialect::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_string())
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(&url)?;
        if dialect == Dialect::Sqlite {
            // The journal mode is persistent and switching it needs the file to itself.
            let mut conn = sqlx::AnyConnection::connect_with(&options).await?;
            conn.execute("PRAGMA journal_mode=WAL").await?;
            conn.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute("PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            dialect,
            writer: Arc::new(tokio::sync::Mutex::new(())),
            keys: Arc::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that will write: `BEGIN IMMEDIATE` on SQLite, so a
    /// read-then-write never fails with a stale snapshot.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        Ok(match self.dialect {
            Dialect::Sqlite => {
                let turn = self.writer.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Dialect::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }

    /// Waits for the writer turn (SQLite) before a single-statement write.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.writer.clone().lock_owned().await),
            Dialect::Postgres => None,
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random identifier: `prefix` + 24 hex digits (96 bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut s = String::with_capacity(prefix.len() + 24);
    s.push_str(prefix);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}
