//! The database handle every store shares, and the schema migrations.
//!
//! One pool type ([`sqlx::AnyPool`]) serves both backends: SQLite in the data directory (the
//! embedded default, WAL mode) and PostgreSQL (`DATABASE_URL=postgres://...`). Queries are
//! written once in portable SQL (`$1` placeholders, which SQLite accepts too; `BIGINT`
//! timestamps in UTC milliseconds; `TEXT` ids made by the application). A backend-specific
//! query is the exception and stays beside its twin.
//!
//! Migrations live in `migrations/<backend>/NNNN_name.sql` at the repository root and are
//! embedded into the binary here, so a deployed binary carries its schema. Each is applied in
//! its own transaction together with its row in `hotline_migrations`; an applied migration whose
//! text changed afterwards is refused rather than silently skipped.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

/// Which server sits behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The backend a database URL selects.
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact_url(url)))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {0:?} is neither sqlite: nor postgres:")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(
        "migration {version} ({name}) was applied with different contents; refusing to continue"
    )]
    MigrationChanged { version: i64, name: &'static str },
    #[error("the database has migration {0}, which this build of Hotline does not know; is it older than the database?")]
    UnknownMigration(i64),
}

/// One embedded migration.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($backend:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../../migrations/", $backend, "/", $name, ".sql")),
        }),*]
    };
}

const SQLITE_MIGRATIONS: &[Migration] = migrations!("sqlite":
    1 "0001_tenants",
    2 "0002_auth_audit",
    3 "0003_trunks",
    4 "0004_hotline_actions",
    5 "0005_sip_bindings",
    6 "0006_call_records",
    7 "0007_billing",
    8 "0008_billing_idempotency",
    9 "0009_plugins",
    10 "0010_plugin_settings",
);
const POSTGRES_MIGRATIONS: &[Migration] = migrations!("postgres":
    1 "0001_tenants",
    2 "0002_auth_audit",
    3 "0003_trunks",
    4 "0004_hotline_actions",
    5 "0005_sip_bindings",
    6 "0006_call_records",
    7 "0007_billing",
    8 "0008_billing_idempotency",
    9 "0009_plugins",
    10 "0010_plugin_settings",
);

/// A pool over SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connect to `url` (`sqlite://path?mode=rwc` or `postgres://...`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // SQLite serializes writers anyway; more connections only add lock waits.
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(sqlite_pragmas)
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Self { pool, backend })
    }

    /// Connect and bring the schema up to date.
    pub async fn connect_and_migrate(url: &str) -> Result<Self, DbError> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Is the database reachable right now? (`/readyz`)
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begin a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent writers wait their turn on the busy timeout; a plain `BEGIN`
    /// reads first and then fails with "database is locked" when it tries to write over a
    /// snapshot another writer made stale. PostgreSQL's row locks already serialize writers.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn migrations(&self) -> &'static [Migration] {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }

    /// Apply every embedded migration not applied yet; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS hotline_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )",
        )
        .execute(&self.pool)
        .await?;

        let applied: Vec<(i64, String)> =
            sqlx::query("SELECT version, checksum FROM hotline_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("version")?, row.try_get("checksum")?)))
                .collect::<Result<_, sqlx::Error>>()?;

        let known = self.migrations();
        for (version, _) in &applied {
            if !known.iter().any(|m| m.version == *version) {
                return Err(DbError::UnknownMigration(*version));
            }
        }

        let mut count = 0;
        for migration in known {
            let checksum = checksum(migration.sql);
            if let Some((_, done)) = applied.iter().find(|(v, _)| *v == migration.version) {
                if *done != checksum {
                    return Err(DbError::MigrationChanged {
                        version: migration.version,
                        name: migration.name,
                    });
                }
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO hotline_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(&checksum)
            .bind(crate::time::to_millis(crate::time::now()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                backend = self.backend.name(),
                "applied migration"
            );
            count += 1;
        }
        Ok(count)
    }
}

/// Per-connection SQLite settings: WAL so readers never block the writer, foreign keys on
/// (SQLite leaves them off per connection), and a busy timeout so writers queue instead of failing.
fn sqlite_pragmas<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
        ] {
            sqlx::query(pragma).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

fn checksum(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Did this statement fail on a unique constraint? (How stores turn a race into a 409.)
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Did this statement fail on a foreign key? (A reference to something that does not exist.)
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// A database URL with its password replaced, for logs and `hotline config`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://hot:secret@db:5432/hotline"),
            "postgres://hot:***@db:5432/hotline"
        );
        assert_eq!(
            redact_url("postgres://hot@db/hotline"),
            "postgres://hot@db/hotline"
        );
        assert_eq!(
            redact_url("sqlite://data/h.db?mode=rwc"),
            "sqlite://data/h.db?mode=rwc"
        );
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |ms: &[Migration]| ms.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE_MIGRATIONS), names(POSTGRES_MIGRATIONS));
    }

    #[test]
    fn rejects_unknown_scheme() {
        assert!(matches!(
            Backend::from_url("mysql://x"),
            Err(DbError::UnsupportedUrl(_))
        ));
    }
}
