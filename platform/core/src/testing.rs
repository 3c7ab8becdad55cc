//! Throw-away databases for tests: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database created on the server at `HOTLINE_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped by [`TestDb::finish`].
//!
//! PostgreSQL being unreachable is a test failure, not a skip: every test run covers both
//! backends. The test command (`scripts/test.sh`) starts the server when it is down and drops
//! databases left behind by tests that panicked (they are all named `hotline_test_*`).

use crate::db::{Backend, Db};

pub const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated database that exists only for one test.
pub struct TestDb {
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for a test database");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = Db::connect_and_migrate(&url)
            .await
            .expect("migrate a test SQLite database");
        Self {
            db,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("hotline_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Db::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for the store tests and is unreachable at {admin_url}: {e}. \
                 Run scripts/test.sh, which starts it, or set HOTLINE_TEST_POSTGRES_URL."
            )
        });
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .expect("create a test database");
        admin.close().await;
        let db = Db::connect_and_migrate(&database_url(&admin_url, &name))
            .await
            .expect("migrate a test PostgreSQL database");
        Self {
            db,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// The URL another process (the `hotline` binary under test) can use for this database.
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => {
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display())
            }
            Cleanup::Postgres { admin_url, name } => database_url(admin_url, name),
        }
    }

    /// The tables the migrations made (not their own bookkeeping), sorted: read from the schema,
    /// so scans that must cover all stored data cannot miss a table added later.
    pub async fn tables(&self) -> Vec<String> {
        use sqlx::Row;
        let sql = match self.db.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables WHERE table_schema = 'public'"
            }
        };
        let mut names: Vec<String> = sqlx::query(sql)
            .fetch_all(self.db.pool())
            .await
            .expect("list the schema's tables")
            .iter()
            .map(|row| row.try_get("name").expect("table name"))
            .filter(|name: &String| name != "hotline_migrations")
            .collect();
        names.sort();
        names
    }

    /// Close the pool and drop the database.
    pub async fn finish(self) {
        self.db.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup {
            if let Ok(admin) = Db::connect(&admin_url).await {
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(admin.pool())
                    .await;
                admin.close().await;
            }
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("HOTLINE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_string())
}

/// The same server and credentials, another database.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let server = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|j| j + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Generate one `#[tokio::test]` per backend for an async test function taking a `Backend`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn swaps_database_name() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
