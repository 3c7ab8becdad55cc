//! The one shape every plain tenant-owned resource shares (prompts, queues, hotlines, numbers):
//! create, get, list with a cursor, update under optimistic concurrency, delete, each writing
//! its audit entry in the same transaction as the change.
//!
//! A resource describes itself once (`Spec`: table, columns, how to bind and read them,
//! validation); the SQL is assembled here from those constants, never from caller input. Every
//! statement filters on the caller's `TenantScope`, so a row of another tenant is simply not
//! found.

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, TrunkId, TypedId};
use hotline_core::{time, TenantScope};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};
use uuid::Uuid;

use crate::agents;
use crate::audit::{self, Actor, AuditAction};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::Store;

pub type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// The writable part of a resource, as clients send it and as the table stores it.
pub trait Spec:
    Serialize + DeserializeOwned + utoipa::ToSchema + Clone + Send + Sync + Unpin + 'static
{
    type Id: TypedId;
    /// Singular name for errors and the audit log: `hotline`.
    const RESOURCE: &'static str;
    const TABLE: &'static str;
    /// The spec's columns, in the order `bind` binds them.
    const COLUMNS: &'static [&'static str];

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q>;
    fn from_row(row: &AnyRow) -> StoreResult<Self>;
    /// Checks that need no database.
    fn validate(&self) -> Result<(), Invalid>;

    /// Put equivalent inputs into one form before validation (E.164 numbers, say).
    fn normalize(&mut self) {}

    /// Other rows this spec points at, as (field, table, id); each must exist in the same
    /// tenant. The schema's composite foreign keys back this up; checking here first gives the
    /// caller an error that names the field.
    fn references(&self) -> Vec<(&'static str, &'static str, Uuid)> {
        Vec::new()
    }

    /// Agents this spec names, as (field, agent). Each must serve the tenant: its own agent or a
    /// firm agent assigned to it (agents have no tenant-scoped foreign key to lean on).
    fn agent_references(&self) -> Vec<(String, AgentId)> {
        Vec::new()
    }

    /// Carrier trunks this spec names, as (field, trunk); each must exist (trunks are the
    /// operator's and belong to no tenant).
    fn trunk_references(&self) -> Vec<(&'static str, TrunkId)> {
        Vec::new()
    }

    /// Does a change of this resource change how calls are routed? Then a committed write bumps
    /// the store's routing generation, so cached number routes are dropped.
    const ROUTES_CALLS: bool = false;

    /// Rules about what may change (fields fixed after creation).
    fn check_update(&self, _before: &Self) -> Result<(), Invalid> {
        Ok(())
    }

    /// Where other rows of the tenant name a row of this resource, as (their resource, table,
    /// column); the column holds the id or a JSON document containing it. Deleting a row that
    /// is still named there is refused, saying where: JSON references have no foreign key to
    /// refuse it, and a foreign key's error cannot say which row is in the way.
    const REFERENCED_BY: &'static [(&'static str, &'static str, &'static str)] = &[];
}

/// Every reference of `spec` must name a row of the caller's tenant.
async fn check_references<S: Spec>(
    conn: &mut AnyConnection,
    scope: &TenantScope,
    spec: &S,
) -> StoreResult<()> {
    let mut invalid = Invalid::new();
    for (field, table, id) in spec.references() {
        let found = sqlx::query(&format!(
            "SELECT id FROM {table} WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(scope.db_id())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            invalid.add(
                field,
                format!(
                    "no {} with id {id} in this tenant",
                    table.trim_end_matches('s')
                ),
            );
        }
    }
    for (field, agent) in spec.agent_references() {
        match agents::fetch_visible(conn, scope, agent).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => invalid.add(
                field,
                format!("no agent with id {agent} serves this tenant (its own, or a firm agent assigned to it)"),
            ),
            Err(other) => return Err(other),
        }
    }
    for (field, trunk) in spec.trunk_references() {
        let found = sqlx::query("SELECT id FROM trunks WHERE id = $1")
            .bind(trunk.to_db())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            invalid.add(field, format!("no trunk with id {trunk}"));
        }
    }
    Ok(invalid.into_result()?)
}

/// A stored resource: its spec plus what the server manages.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(bound(serialize = ""))]
pub struct Stored<S: Spec> {
    #[schema(value_type = String, format = Uuid)]
    pub id: S::Id,
    pub tenant_id: hotline_core::ids::TenantId,
    /// Increases by one on every change; the HTTP layer's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub spec: S,
}

/// A page request: at most `limit` items after the item with id `after`.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The limit within bounds, plus one to learn whether another page exists.
    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT)) + 1
    }
}

/// One page of a list; `next` is the id to continue after, if there is more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Uuid>,
}

impl<T> Page<T> {
    /// Cut the one extra row a query fetched into the `next` marker.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        request: &PageRequest,
        id: impl Fn(&T) -> Uuid,
    ) -> Self {
        let limit = request.fetch_limit() as usize - 1;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(&id)
        } else {
            None
        };
        Self { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

pub(crate) fn uuid_column(row: &AnyRow, column: &str) -> StoreResult<Uuid> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn opt_uuid_column(row: &AnyRow, column: &str) -> StoreResult<Option<Uuid>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}"))))
        .transpose()
}

/// A boolean column: BOOLEAN in PostgreSQL, INTEGER 0/1 in SQLite (whose BOOLEAN columns
/// sqlx's Any driver cannot read, so the SQLite schema declares them INTEGER).
pub(crate) fn bool_column(row: &AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

pub(crate) fn json_column<T: DeserializeOwned>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text)?)
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Our own types always serialize; a failure here is a programming error worth seeing.
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "serializing a stored value failed");
        "null".into()
    })
}

pub(crate) fn stored_from_row<S: Spec>(row: &AnyRow) -> StoreResult<Stored<S>> {
    Ok(Stored {
        id: S::Id::from_uuid(uuid_column(row, "id")?),
        tenant_id: hotline_core::ids::TenantId(uuid_column(row, "tenant_id")?),
        version: row.try_get("version")?,
        created_at: time::from_millis(row.try_get("created_at")?),
        updated_at: time::from_millis(row.try_get("updated_at")?),
        spec: S::from_row(row)?,
    })
}

fn select_sql<S: Spec>() -> String {
    select_sql_with::<S>(&[])
}

/// The SELECT of a resource's rows with `extra` columns the server manages besides its spec
/// (constants of the resource's module, never caller input).
pub(crate) fn select_sql_with<S: Spec>(extra: &[&str]) -> String {
    let mut columns = S::COLUMNS.to_vec();
    columns.extend_from_slice(extra);
    format!(
        "SELECT id, tenant_id, version, created_at, updated_at, {} FROM {}",
        columns.join(", "),
        S::TABLE
    )
}

/// The WHERE clause of a page of a tenant's rows: `$1` tenant, `$2`/`$3` the cursor, `$4` the
/// limit (bound by [`bind_page`]).
pub(crate) const PAGE_CLAUSE: &str =
    "WHERE tenant_id = $1 AND ($2 IS NULL OR id > $3) ORDER BY id LIMIT $4";

pub(crate) fn bind_page<'q>(
    query: AnyQuery<'q>,
    scope: &TenantScope,
    page: &PageRequest,
) -> AnyQuery<'q> {
    let after = page.after.map(|u| u.to_string());
    query
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
}

pub(crate) async fn fetch_one<S: Spec>(
    conn: &mut AnyConnection,
    scope: &TenantScope,
    id: S::Id,
) -> StoreResult<Stored<S>> {
    let sql = format!("{} WHERE tenant_id = $1 AND id = $2", select_sql::<S>());
    let row = sqlx::query(&sql)
        .bind(scope.db_id())
        .bind(id.uuid().to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::not_found(S::RESOURCE))?;
    stored_from_row(&row)
}

impl Store {
    pub async fn create<S: Spec>(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        mut spec: S,
    ) -> StoreResult<Stored<S>> {
        spec.normalize();
        spec.validate()?;
        let now = time::now();
        let stored = Stored {
            id: S::Id::from_uuid(Uuid::now_v7()),
            tenant_id: scope.tenant_id(),
            version: 1,
            created_at: now,
            updated_at: now,
            spec,
        };
        let placeholders: Vec<String> =
            (6..6 + S::COLUMNS.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} (id, tenant_id, version, created_at, updated_at, {}) VALUES ($1, $2, $3, $4, $5, {})",
            S::TABLE,
            S::COLUMNS.join(", "),
            placeholders.join(", ")
        );
        let mut tx = self.db.begin().await?;
        check_references(&mut tx, scope, &stored.spec).await?;
        let query = sqlx::query(&sql)
            .bind(stored.id.uuid().to_string())
            .bind(scope.db_id())
            .bind(stored.version)
            .bind(time::to_millis(now))
            .bind(time::to_millis(now));
        stored
            .spec
            .bind(query)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, S::RESOURCE))?;
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Create,
            S::RESOURCE,
            &stored.id.to_string(),
            None,
            Some(&stored),
        )
        .await?;
        tx.commit().await?;
        self.committed::<S>();
        Ok(stored)
    }

    pub async fn get<S: Spec>(&self, scope: &TenantScope, id: S::Id) -> StoreResult<Stored<S>> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_one(&mut conn, scope, id).await
    }

    pub async fn list<S: Spec>(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Stored<S>>> {
        let sql = format!("{} {PAGE_CLAUSE}", select_sql::<S>());
        let rows = bind_page(sqlx::query(&sql), scope, page)
            .fetch_all(self.db.pool())
            .await?;
        let items = rows
            .iter()
            .map(stored_from_row::<S>)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |s| s.id.uuid()))
    }

    /// Replace the spec if the stored version is still `expected_version`.
    pub async fn update<S: Spec>(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: S::Id,
        expected_version: i64,
        mut spec: S,
    ) -> StoreResult<Stored<S>> {
        spec.normalize();
        spec.validate()?;
        let mut tx = self.db.begin().await?;
        let before = fetch_one::<S>(&mut tx, scope, id).await?;
        if before.version != expected_version {
            return Err(StoreError::VersionMismatch {
                resource: S::RESOURCE,
                current: before.version,
            });
        }
        spec.check_update(&before.spec)?;
        check_references(&mut tx, scope, &spec).await?;
        let now = time::now();
        let assignments: Vec<String> = S::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 6))
            .collect();
        let sql = format!(
            "UPDATE {} SET version = $1, updated_at = $2, {} WHERE tenant_id = $3 AND id = $4 AND version = $5",
            S::TABLE,
            assignments.join(", ")
        );
        let query = sqlx::query(&sql)
            .bind(expected_version + 1)
            .bind(time::to_millis(now))
            .bind(scope.db_id())
            .bind(id.uuid().to_string())
            .bind(expected_version);
        let done = spec
            .bind(query)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, S::RESOURCE))?;
        if done.rows_affected() != 1 {
            // Lost a race between our read and our write.
            return Err(StoreError::VersionMismatch {
                resource: S::RESOURCE,
                current: expected_version + 1,
            });
        }
        let after = Stored {
            version: expected_version + 1,
            updated_at: now,
            spec,
            ..before.clone()
        };
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Update,
            S::RESOURCE,
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.committed::<S>();
        Ok(after)
    }

    /// Delete if the stored version is still `expected_version` (`None`: whatever it is).
    pub async fn delete<S: Spec>(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: S::Id,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = fetch_one::<S>(&mut tx, scope, id).await?;
        if let Some(expected) = expected_version {
            if before.version != expected {
                return Err(StoreError::VersionMismatch {
                    resource: S::RESOURCE,
                    current: before.version,
                });
            }
        }
        for (resource, table, column) in S::REFERENCED_BY {
            let user = sqlx::query(&format!(
                "SELECT id FROM {table} WHERE tenant_id = $1 AND {column} LIKE $2 AND id <> $3"
            ))
            .bind(scope.db_id())
            .bind(format!("%{}%", id.uuid()))
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(user) = user {
                let user: String = user.try_get("id")?;
                return Err(StoreError::Conflict(format!(
                    "the {} is still in use by {resource} {user} ({column}); remove that reference first",
                    S::RESOURCE
                )));
            }
        }
        let sql = format!("DELETE FROM {} WHERE tenant_id = $1 AND id = $2", S::TABLE);
        sqlx::query(&sql)
            .bind(scope.db_id())
            .bind(id.uuid().to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| in_use_or(e, S::RESOURCE))?;
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Delete,
            S::RESOURCE,
            &id.to_string(),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.committed::<S>();
        Ok(())
    }

    /// After a committed write of `S`: tell the caches that depend on it.
    fn committed<S: Spec>(&self) {
        if S::ROUTES_CALLS {
            self.changes.routing_changed();
        }
    }
}

/// A unique violation on write means a name or number is taken: say which resource.
pub(crate) fn conflict_or(err: sqlx::Error, resource: &str) -> StoreError {
    if hotline_core::db::is_unique_violation(&err) {
        StoreError::Conflict(format!(
            "a {resource} with the same unique value exists already"
        ))
    } else {
        err.into()
    }
}

/// A foreign-key violation on delete means something still points at the row.
pub(crate) fn in_use_or(err: sqlx::Error, resource: &str) -> StoreError {
    if hotline_core::db::is_foreign_key_violation(&err) {
        StoreError::Conflict(format!(
            "the {resource} is still in use; remove what refers to it first"
        ))
    } else {
        err.into()
    }
}
