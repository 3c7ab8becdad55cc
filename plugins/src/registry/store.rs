//! The registry's tables (`plugins`, `plugin_versions`): plugins owned by a tenant or by the
//! platform, and their immutable numbered versions with the component's bytes.
//!
//! A tenant sees its own plugins and the platform's catalog, never another tenant's: every
//! read takes a `TenantScope` (or the operator's `PlatformScope`) and filters by it. A tenant's
//! plugin of the same name as a catalog plugin hides the catalog one for that tenant.

use chrono::{DateTime, Utc};
use hotline_core::{Db, PlatformScope, TenantScope};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult, UploadError};
use crate::host::run::World;

/// Whose plugins a store function acts on, as its proof of authorization.
#[derive(Clone, Copy, Debug)]
pub enum OwnerScope<'a> {
    /// A tenant: writes its own plugins; reads its own and the catalog's.
    Tenant(&'a TenantScope),
    /// The operator: writes and reads the catalog.
    Platform(&'a PlatformScope),
    /// A tenant reading the catalog alone (its own plugins of the same names do not hide the
    /// catalog's); nothing can be written through it.
    Catalog(&'a TenantScope),
}

impl OwnerScope<'_> {
    /// The owner a write goes to; `None` for a read-only view.
    fn writer(&self) -> Option<(String, Option<String>)> {
        match self {
            OwnerScope::Tenant(scope) => Some((scope.db_id(), Some(scope.db_id()))),
            OwnerScope::Platform(_) => Some((PLATFORM.into(), None)),
            OwnerScope::Catalog(_) => None,
        }
    }
}

const PLATFORM: &str = "platform";

/// A plugin as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginSummary {
    pub id: Uuid,
    pub name: String,
    /// `tenant` (private to the tenant) or `platform` (the catalog).
    pub owner: String,
    pub world: World,
    pub latest_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One immutable version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VersionInfo {
    pub plugin: String,
    /// `tenant` or `platform`, as for [`PluginSummary::owner`].
    pub owner: String,
    pub version: u32,
    pub world: World,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub author: String,
    pub notes: String,
    /// The interfaces the component imports.
    pub imports: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// What a new version is made of (validated by the registry first).
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub world: World,
    pub author: &'a str,
    pub notes: &'a str,
    pub imports: &'a [String],
    pub sha256: &'a str,
    pub bytes: &'a [u8],
}

#[derive(Clone, Debug)]
pub struct RegistryStore {
    db: Db,
}

fn owner_kind(owner: &str) -> &'static str {
    if owner == PLATFORM {
        "platform"
    } else {
        "tenant"
    }
}

fn summary(row: &AnyRow) -> StoreResult<PluginSummary> {
    let world: String = row.try_get("world")?;
    let owner: String = row.try_get("owner")?;
    let latest: i64 = row.try_get("latest_version")?;
    let id: String = row.try_get("id")?;
    Ok(PluginSummary {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("plugin id {id}")))?,
        name: row.try_get("name")?,
        owner: owner_kind(&owner).into(),
        world: World::parse(&world).ok_or_else(|| StoreError::Corrupt(format!("world {world}")))?,
        latest_version: u32::try_from(latest).unwrap_or_default(),
        created_at: hotline_core::time::from_millis(row.try_get("created_at")?),
        updated_at: hotline_core::time::from_millis(row.try_get("updated_at")?),
    })
}

fn version(row: &AnyRow) -> StoreResult<VersionInfo> {
    let world: String = row.try_get("world")?;
    let imports: String = row.try_get("imports")?;
    let version: i64 = row.try_get("version")?;
    let size: i64 = row.try_get("size_bytes")?;
    let owner: String = row.try_get("owner")?;
    Ok(VersionInfo {
        plugin: row.try_get("name")?,
        owner: owner_kind(&owner).into(),
        version: u32::try_from(version).unwrap_or_default(),
        world: World::parse(&world).ok_or_else(|| StoreError::Corrupt(format!("world {world}")))?,
        sha256: row.try_get("sha256")?,
        size_bytes: u64::try_from(size).unwrap_or_default(),
        author: row.try_get("author")?,
        notes: row.try_get("notes")?,
        imports: serde_json::from_str(&imports).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: hotline_core::time::from_millis(row.try_get("created_at")?),
    })
}

const VERSION_COLUMNS: &str = "p.name, p.owner, p.world, v.version, v.sha256, v.size_bytes, v.author, v.notes, v.imports, v.created_at";

impl RegistryStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Store the next version of `owner`'s plugin `name` (making the plugin at version 1).
    /// Concurrent uploads of one plugin get consecutive numbers: the first statement bumps the
    /// plugin's latest version, which takes the write lock (SQLite) or the row lock
    /// (PostgreSQL) before anything is read; two first uploads racing to create the plugin
    /// retry once the winner's row exists.
    pub async fn add_version(
        &self,
        owner: OwnerScope<'_>,
        new: NewVersion<'_>,
    ) -> Result<VersionInfo, UploadError> {
        let (owner_id, tenant_id) = owner.writer().ok_or_else(|| {
            UploadError::Invalid("a tenant uploads into its own plugins, not the catalog".into())
        })?;
        let mut attempt = 0;
        loop {
            match self
                .try_add_version(&owner_id, tenant_id.as_deref(), &new)
                .await
            {
                Err(UploadError::Store(StoreError::Conflict(_))) if attempt < 3 => attempt += 1,
                done => return done,
            }
        }
    }

    async fn try_add_version(
        &self,
        owner_id: &str,
        tenant_id: Option<&str>,
        new: &NewVersion<'_>,
    ) -> Result<VersionInfo, UploadError> {
        let conflict = |e: sqlx::Error| -> UploadError {
            if hotline_core::db::is_unique_violation(&e) {
                StoreError::Conflict("another upload of this plugin came first; retry".into())
                    .into()
            } else {
                StoreError::from(e).into()
            }
        };
        let mut tx = self.db.begin().await.map_err(StoreError::from)?;
        let now = hotline_core::time::to_millis(hotline_core::time::now());
        let bumped = sqlx::query(
            "UPDATE plugins SET latest_version = latest_version + 1, updated_at = $1 WHERE owner = $2 AND name = $3",
        )
        .bind(now)
        .bind(owner_id)
        .bind(new.name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let (id, number) = if bumped.rows_affected() == 1 {
            let row = sqlx::query(
                "SELECT id, world, latest_version FROM plugins WHERE owner = $1 AND name = $2",
            )
            .bind(owner_id)
            .bind(new.name)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let world: String = row.try_get("world").map_err(StoreError::from)?;
            if world != new.world.as_str() {
                // Dropping the transaction rolls the bump back.
                let was = World::parse(&world).unwrap_or(World::Ivr);
                return Err(UploadError::WorldChanged(new.name.to_string(), was));
            }
            let id: String = row.try_get("id").map_err(StoreError::from)?;
            let number: i64 = row.try_get("latest_version").map_err(StoreError::from)?;
            (id, number)
        } else {
            let id = uuid::Uuid::now_v7().to_string();
            sqlx::query(
                "INSERT INTO plugins (id, owner, tenant_id, name, world, latest_version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
            )
            .bind(&id)
            .bind(owner_id)
            .bind(tenant_id)
            .bind(new.name)
            .bind(new.world.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(conflict)?;
            (id, 1)
        };
        let imports =
            serde_json::to_string(new.imports).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO plugin_versions (plugin_id, version, sha256, size_bytes, author, notes, imports, component, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(number)
        .bind(new.sha256)
        .bind(new.bytes.len() as i64)
        .bind(new.author)
        .bind(new.notes)
        .bind(&imports)
        .bind(new.bytes.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(VersionInfo {
            plugin: new.name.to_string(),
            owner: owner_kind(owner_id).into(),
            version: u32::try_from(number).unwrap_or_default(),
            world: new.world,
            sha256: new.sha256.to_string(),
            size_bytes: new.bytes.len() as u64,
            author: new.author.to_string(),
            notes: new.notes.to_string(),
            imports: new.imports.to_vec(),
            created_at: hotline_core::time::from_millis(now),
        })
    }

    /// One page of the plugins `view` sees, oldest first: a tenant its own and the catalog's
    /// (a plugin of its own hides a catalog plugin of the same name), the operator and
    /// [`OwnerScope::Catalog`] the catalog. The second value is the cursor of the next page.
    pub async fn list(
        &self,
        view: OwnerScope<'_>,
        page: &ListPage,
    ) -> StoreResult<(Vec<PluginSummary>, Option<Uuid>)> {
        let mut sql = String::from(
            "SELECT id, name, owner, world, latest_version, created_at, updated_at FROM plugins WHERE ",
        );
        let mut binds: Vec<String> = Vec::new();
        match view {
            OwnerScope::Tenant(scope) => {
                sql.push_str("(owner = $1 OR (owner = $2 AND name NOT IN (SELECT name FROM plugins WHERE owner = $1)))");
                binds.push(scope.db_id());
                binds.push(PLATFORM.into());
            }
            OwnerScope::Platform(_) | OwnerScope::Catalog(_) => {
                sql.push_str("owner = $1");
                binds.push(PLATFORM.into());
            }
        }
        if let Some(after) = page.after {
            binds.push(after.to_string());
            sql.push_str(&format!(" AND id > ${}", binds.len()));
        }
        let limit = page.limit.clamp(1, ListPage::MAX_LIMIT);
        sql.push_str(&format!(" ORDER BY id LIMIT {}", limit + 1));
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        let mut items = rows.iter().map(summary).collect::<StoreResult<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|p| p.id)
        } else {
            None
        };
        Ok((items, next))
    }

    /// The id of the plugin `name` as `view` resolves it: a tenant's own first, then the
    /// catalog; the operator and [`OwnerScope::Catalog`] the catalog only.
    async fn resolve(&self, view: OwnerScope<'_>, name: &str) -> StoreResult<Option<String>> {
        let owners = match view {
            OwnerScope::Tenant(scope) => vec![scope.db_id(), PLATFORM.to_string()],
            OwnerScope::Platform(_) | OwnerScope::Catalog(_) => vec![PLATFORM.to_string()],
        };
        for o in owners {
            let row = sqlx::query("SELECT id FROM plugins WHERE owner = $1 AND name = $2")
                .bind(&o)
                .bind(name)
                .fetch_optional(self.db.pool())
                .await?;
            if let Some(row) = row {
                return Ok(Some(row.try_get("id")?));
            }
        }
        Ok(None)
    }

    /// The plugin `name` as `view` resolves it.
    pub async fn plugin(&self, view: OwnerScope<'_>, name: &str) -> StoreResult<PluginSummary> {
        let id = self
            .resolve(view, name)
            .await?
            .ok_or(StoreError::NotFound("plugin"))?;
        let row = sqlx::query("SELECT id, name, owner, world, latest_version, created_at, updated_at FROM plugins WHERE id = $1")
            .bind(&id)
            .fetch_one(self.db.pool())
            .await?;
        summary(&row)
    }

    /// One page of the plugin's versions, newest first, those below `page.before` (a version
    /// number) when given. The second value is the `before` of the next page.
    pub async fn versions(
        &self,
        view: OwnerScope<'_>,
        name: &str,
        page: &VersionPage,
    ) -> StoreResult<(Vec<VersionInfo>, Option<u32>)> {
        let id = self
            .resolve(view, name)
            .await?
            .ok_or(StoreError::NotFound("plugin"))?;
        let limit = page.limit.clamp(1, ListPage::MAX_LIMIT);
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM plugin_versions v JOIN plugins p ON p.id = v.plugin_id
             WHERE v.plugin_id = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT {}",
            limit + 1
        ))
        .bind(&id)
        .bind(page.before.map_or(i64::MAX, i64::from))
        .fetch_all(self.db.pool())
        .await?;
        let mut items = rows.iter().map(version).collect::<StoreResult<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|v| v.version)
        } else {
            None
        };
        Ok((items, next))
    }

    /// One version's description and the component's bytes.
    pub async fn version(
        &self,
        view: OwnerScope<'_>,
        name: &str,
        number: u32,
    ) -> StoreResult<(VersionInfo, Vec<u8>)> {
        let id = self
            .resolve(view, name)
            .await?
            .ok_or(StoreError::NotFound("plugin"))?;
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS}, v.component FROM plugin_versions v JOIN plugins p ON p.id = v.plugin_id WHERE v.plugin_id = $1 AND v.version = $2"
        ))
        .bind(&id)
        .bind(i64::from(number))
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(StoreError::NotFound("plugin version"))?;
        let bytes: Vec<u8> = row.try_get("component")?;
        Ok((version(&row)?, bytes))
    }
}

/// A page of plugins: `limit` of them after the plugin `after` (a cursor from the last page).
#[derive(Clone, Copy, Debug)]
pub struct ListPage {
    pub limit: u32,
    pub after: Option<Uuid>,
}

impl ListPage {
    pub const MAX_LIMIT: u32 = 500;
}

/// A page of versions: `limit` of them below version `before`.
#[derive(Clone, Copy, Debug)]
pub struct VersionPage {
    pub limit: u32,
    pub before: Option<u32>,
}
