//! What the store test suites share: a store over a throw-away database of either backend,
//! tenants to act in, spec builders, and assertions that read the tables directly.
//!
//! Every test function takes a `Backend` and is run on both by `hotline_core::both_backends!`.

#![allow(dead_code)]

use std::fmt::Debug;

use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope, TenantScope};
use hotline_tenants::audit::{Actor, ActorKind, AuditAction, AuditEntry};
use hotline_tenants::hotlines::HotlineSpec;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::prompts::PromptSpec;
use hotline_tenants::queues::QueueSpec;
use hotline_tenants::tenants::{Tenant, TenantLimits, TenantSpec, TenantStatus};
use hotline_tenants::{Page, PageRequest, Spec, Store, StoreConfig, StoreError, Stored};
use sqlx::{Column, Row};
use uuid::Uuid;

/// The tables the migrations are expected to create (the migration test checks the schema
/// against it; scans read the schema itself through `TestDb::tables`).
pub const TABLES: &[&str] = &[
    "tenants",
    "prompts",
    "queues",
    "hotlines",
    "numbers",
    "agents",
    "agent_assignments",
    "queue_members",
    "users",
    "refresh_tokens",
    "api_keys",
    "audit_log",
    "trunks",
    "call_records",
    "sip_bindings",
];

/// A store over a fresh, migrated database.
pub struct Fixture {
    pub test_db: TestDb,
    pub store: Store,
    pub actor: Actor,
    pub platform: PlatformScope,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Self {
        let test_db = TestDb::new(backend).await;
        let store = Store::new(test_db.db.clone(), StoreConfig::default());
        Self {
            test_db,
            store,
            actor: Actor::cli(),
            platform: PlatformScope::from_verified(),
        }
    }

    /// Create a tenant with this slug and return it with the scope of its users.
    pub async fn tenant(&self, slug: &str) -> (Tenant, TenantScope) {
        let tenant = self
            .store
            .create_tenant(&self.actor, &self.platform, tenant_spec(slug))
            .await
            .unwrap_or_else(|e| panic!("create tenant {slug}: {e}"));
        let scope = TenantScope::from_verified(tenant.id);
        (tenant, scope)
    }

    /// Close the pool and drop the database (PostgreSQL).
    pub async fn finish(self) {
        self.test_db.finish().await;
    }

    /// `SELECT COUNT(*)` of a table.
    pub async fn count(&self, table: &str) -> i64 {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.store.db().pool())
            .await
            .unwrap_or_else(|e| panic!("count {table}: {e}"));
        row.try_get("n").expect("count")
    }

    /// The number of rows in every table, to show that a refused change wrote nothing.
    pub async fn snapshot(&self) -> Vec<(String, i64)> {
        let mut counts = Vec::new();
        for table in self.test_db.tables().await {
            let rows = self.count(&table).await;
            counts.push((table, rows));
        }
        counts
    }

    /// Every value of every row of `table`, as text (NULLs left out).
    pub async fn table_values(&self, table: &str) -> Vec<String> {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(self.store.db().pool())
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        let mut values = Vec::new();
        for row in &rows {
            for column in row.columns() {
                let i = column.ordinal();
                let value = if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                    v
                } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                    v.map(|v| v.to_string())
                } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                    v.map(|v| v.to_string())
                } else {
                    panic!(
                        "{table}.{}: a column of a type this scan cannot read",
                        column.name()
                    )
                };
                values.extend(value);
            }
        }
        values
    }

    /// `secret` must appear in no column of any table.
    pub async fn assert_stored_nowhere(&self, secret: &str) {
        assert!(!secret.is_empty());
        for table in self.test_db.tables().await {
            for value in self.table_values(&table).await {
                assert!(
                    !value.contains(secret),
                    "{table} stores {secret:?} in the clear: {value:?}"
                );
            }
        }
    }

    /// One text column of the row with this id.
    pub async fn column(&self, table: &str, column: &str, id: impl ToString) -> String {
        sqlx::query(&format!("SELECT {column} FROM {table} WHERE id = $1"))
            .bind(id.to_string())
            .fetch_one(self.store.db().pool())
            .await
            .unwrap_or_else(|e| panic!("read {table}.{column}: {e}"))
            .try_get(column)
            .expect("text column")
    }

    /// The whole audit log (the platform's view), oldest first.
    pub async fn audit_all(&self) -> Vec<AuditEntry> {
        let mut entries = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let got = self
                .store
                .platform_audit_log(&self.platform, &page)
                .await
                .expect("platform audit log");
            entries.extend(got.items);
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        entries.reverse();
        entries
    }

    /// The newest audit entry about `resource_id`.
    pub async fn last_audit(&self, resource_id: impl ToString) -> AuditEntry {
        let id = resource_id.to_string();
        self.audit_all()
            .await
            .into_iter()
            .rev()
            .find(|e| e.resource_id == id)
            .unwrap_or_else(|| panic!("no audit entry for {id}"))
    }

    /// Every item of a resource in a tenant, read page by page with `limit`.
    pub async fn list_all<S: Spec>(
        &self,
        scope: &TenantScope,
        limit: u32,
    ) -> (Vec<Stored<S>>, Vec<usize>) {
        collect_pages(limit, |page| async move {
            self.store.list::<S>(scope, &page).await
        })
        .await
    }
}

/// Read every page of a cursor-paginated list; also returns the size of each page.
pub async fn collect_pages<T, F, Fut>(limit: u32, mut fetch: F) -> (Vec<T>, Vec<usize>)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let mut page = PageRequest::first(limit);
    loop {
        let got = fetch(page.clone()).await.expect("list a page");
        sizes.push(got.items.len());
        items.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
        assert!(sizes.len() < 1000, "pagination does not end");
    }
    (items, sizes)
}

/// A named actor, as the API would make one from a logged-in user.
pub fn user_actor(label: &str) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: Uuid::now_v7().to_string(),
        label: label.to_string(),
    }
}

pub fn tenant_spec(slug: &str) -> TenantSpec {
    TenantSpec {
        slug: slug.to_string(),
        name: format!("{slug} Ltd."),
        status: TenantStatus::Active,
        time_zone: "Europe/Bratislava".into(),
        limits: TenantLimits::default(),
    }
}

pub fn queue(name: &str) -> QueueSpec {
    serde_json::from_value(serde_json::json!({ "name": name })).expect("queue spec")
}

pub fn hotline(name: &str) -> HotlineSpec {
    serde_json::from_value(serde_json::json!({ "name": name })).expect("hotline spec")
}

pub fn prompt(name: &str) -> PromptSpec {
    serde_json::from_value(serde_json::json!({ "name": name })).expect("prompt spec")
}

pub fn number(e164: &str) -> NumberSpec {
    serde_json::from_value(serde_json::json!({ "e164": e164 })).expect("number spec")
}

/// The error must be `Invalid` and name `field`.
#[track_caller]
pub fn assert_invalid<T: Debug>(result: Result<T, StoreError>, field: &str) {
    match result {
        Err(StoreError::Invalid(invalid)) => assert!(
            invalid.0.iter().any(|e| e.field == field),
            "expected an error naming {field:?}, got {invalid}"
        ),
        other => panic!("expected Invalid naming {field:?}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "expected NotFound, got {result:?}"
    );
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_version_mismatch<T: Debug>(result: Result<T, StoreError>, current: i64) {
    match result {
        Err(StoreError::VersionMismatch { current: c, .. }) => {
            assert_eq!(c, current, "current version")
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
}

/// An audit entry says this actor did `action` to `resource`.
#[track_caller]
pub fn assert_entry(entry: &AuditEntry, actor: &Actor, action: AuditAction, resource: &str) {
    assert_eq!(&entry.actor, actor, "audit actor of {entry:?}");
    assert_eq!(entry.action, action, "audit action of {entry:?}");
    assert_eq!(entry.resource, resource, "audit resource of {entry:?}");
    match action {
        AuditAction::Create => {
            assert!(entry.before.is_none() && entry.after.is_some(), "{entry:?}")
        }
        AuditAction::Update => {
            assert!(entry.before.is_some() && entry.after.is_some(), "{entry:?}")
        }
        AuditAction::Delete => {
            assert!(entry.before.is_some() && entry.after.is_none(), "{entry:?}")
        }
    }
}
