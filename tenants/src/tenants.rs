//! Tenants: the client companies one installation serves. Created, changed and suspended only by
//! the platform operator (`PlatformScope`); a tenant's own users may read their tenant.
//!
//! The slug names the tenant's SIP realm (`<slug>.<sip domain suffix>`) and so can never change:
//! agents' digest HA1s are computed over it.

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Actor, AuditAction};
use crate::crud::{conflict_or, uuid_column, Page, PageRequest};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::{validate, Store};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TenantStatus {
    #[default]
    Active,
    /// Calls are refused (403) and nothing is billed; configuration stays.
    Suspended,
}

impl TenantStatus {
    fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "active" => Ok(TenantStatus::Active),
            "suspended" => Ok(TenantStatus::Suspended),
            other => Err(StoreError::Corrupt(format!("tenant status {other:?}"))),
        }
    }
}

/// What one tenant may use at once, so that no tenant starves the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    #[serde(default = "default_concurrent_calls")]
    pub max_concurrent_calls: u32,
    #[serde(default = "default_calls_per_second")]
    pub max_calls_per_second: u32,
    /// CPU time a tenant's IVR plugin may use per call.
    #[serde(default = "default_plugin_cpu_ms")]
    pub plugin_cpu_ms_per_call: u32,
}

fn default_concurrent_calls() -> u32 {
    30
}
fn default_calls_per_second() -> u32 {
    5
}
fn default_plugin_cpu_ms() -> u32 {
    200
}

impl Default for TenantLimits {
    fn default() -> Self {
        Self {
            max_concurrent_calls: default_concurrent_calls(),
            max_calls_per_second: default_calls_per_second(),
            plugin_cpu_ms_per_call: default_plugin_cpu_ms(),
        }
    }
}

/// The writable part of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    /// Lowercase letters, digits and dashes; fixed once created (it names the SIP realm).
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub status: TenantStatus,
    /// IANA time zone that opening hours and reports use.
    pub time_zone: String,
    #[serde(default)]
    pub limits: TenantLimits,
}

impl TenantSpec {
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        let slug_ok = (3..=40).contains(&self.slug.len())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.slug.starts_with('-')
            && !self.slug.ends_with('-');
        if !slug_ok {
            invalid.add(
                "slug",
                "3 to 40 lowercase letters, digits or dashes, not starting or ending with a dash",
            );
        }
        validate::name(&mut invalid, "name", &self.name);
        validate::time_zone(&mut invalid, "time_zone", &self.time_zone);
        validate::range(
            &mut invalid,
            "limits.max_concurrent_calls",
            self.limits.max_concurrent_calls,
            1,
            100_000,
        );
        validate::range(
            &mut invalid,
            "limits.max_calls_per_second",
            self.limits.max_calls_per_second,
            1,
            10_000,
        );
        validate::range(
            &mut invalid,
            "limits.plugin_cpu_ms_per_call",
            self.limits.plugin_cpu_ms_per_call,
            1,
            60_000,
        );
        invalid.into_result()
    }
}

/// A client company.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: TenantId,
    /// The digest realm and domain its agents register in.
    pub sip_domain: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub spec: TenantSpec,
}

const SELECT: &str = "SELECT id, slug, name, status, time_zone, max_concurrent_calls, max_calls_per_second, plugin_cpu_ms_per_call, version, created_at, updated_at FROM tenants";

fn limit_column(row: &AnyRow, column: &str) -> StoreResult<u32> {
    let value: i64 = row.try_get(column)?;
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} = {value}")))
}

impl Store {
    /// The SIP domain (and digest realm) of the tenant with this slug.
    pub fn sip_domain(&self, slug: &str) -> String {
        format!("{slug}.{}", self.config.sip_domain_suffix)
    }

    fn tenant_from_row(&self, row: &AnyRow) -> StoreResult<Tenant> {
        let status: String = row.try_get("status")?;
        let spec = TenantSpec {
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            status: TenantStatus::parse(&status)?,
            time_zone: row.try_get("time_zone")?,
            limits: TenantLimits {
                max_concurrent_calls: limit_column(row, "max_concurrent_calls")?,
                max_calls_per_second: limit_column(row, "max_calls_per_second")?,
                plugin_cpu_ms_per_call: limit_column(row, "plugin_cpu_ms_per_call")?,
            },
        };
        Ok(Tenant {
            id: TenantId(uuid_column(row, "id")?),
            sip_domain: self.sip_domain(&spec.slug),
            version: row.try_get("version")?,
            created_at: time::from_millis(row.try_get("created_at")?),
            updated_at: time::from_millis(row.try_get("updated_at")?),
            spec,
        })
    }

    pub async fn create_tenant(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        spec: TenantSpec,
    ) -> StoreResult<Tenant> {
        spec.validate()?;
        let now = time::now();
        let tenant = Tenant {
            id: TenantId::new(),
            sip_domain: self.sip_domain(&spec.slug),
            version: 1,
            created_at: now,
            updated_at: now,
            spec,
        };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, name, status, time_zone, max_concurrent_calls, max_calls_per_second, plugin_cpu_ms_per_call, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.id.to_db())
        .bind(&tenant.spec.slug)
        .bind(&tenant.spec.name)
        .bind(tenant.spec.status.as_str())
        .bind(&tenant.spec.time_zone)
        .bind(i64::from(tenant.spec.limits.max_concurrent_calls))
        .bind(i64::from(tenant.spec.limits.max_calls_per_second))
        .bind(i64::from(tenant.spec.limits.plugin_cpu_ms_per_call))
        .bind(tenant.version)
        .bind(time::to_millis(now))
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "tenant"))?;
        audit::record(
            &mut tx,
            None,
            actor,
            AuditAction::Create,
            "tenant",
            &tenant.id.to_string(),
            None,
            Some(&tenant),
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    /// A tenant as its own users see it.
    pub async fn get_tenant(&self, scope: &TenantScope) -> StoreResult<Tenant> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(scope.db_id())
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(StoreError::not_found("tenant"))?;
        self.tenant_from_row(&row)
    }

    /// Find a tenant by id or slug (the operator's view).
    pub async fn find_tenant(
        &self,
        _scope: &PlatformScope,
        id_or_slug: &str,
    ) -> StoreResult<Tenant> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1 OR slug = $2"))
            .bind(id_or_slug)
            .bind(id_or_slug)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(StoreError::not_found("tenant"))?;
        self.tenant_from_row(&row)
    }

    pub async fn list_tenants(
        &self,
        _scope: &PlatformScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Tenant>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE ($1 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(|r| self.tenant_from_row(r))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |t| t.id.0))
    }

    pub async fn update_tenant(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: TenantId,
        expected_version: i64,
        spec: TenantSpec,
    ) -> StoreResult<Tenant> {
        spec.validate()?;
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id.to_db())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::not_found("tenant"))?;
        let before = self.tenant_from_row(&row)?;
        if before.version != expected_version {
            return Err(StoreError::VersionMismatch {
                resource: "tenant",
                current: before.version,
            });
        }
        if spec.slug != before.spec.slug {
            return Err(
                Invalid::one("slug", "cannot change: it names the tenant's SIP realm").into(),
            );
        }
        let now = time::now();
        let done = sqlx::query(
            "UPDATE tenants SET name = $1, status = $2, time_zone = $3, max_concurrent_calls = $4, max_calls_per_second = $5,
             plugin_cpu_ms_per_call = $6, version = $7, updated_at = $8 WHERE id = $9 AND version = $10",
        )
        .bind(&spec.name)
        .bind(spec.status.as_str())
        .bind(&spec.time_zone)
        .bind(i64::from(spec.limits.max_concurrent_calls))
        .bind(i64::from(spec.limits.max_calls_per_second))
        .bind(i64::from(spec.limits.plugin_cpu_ms_per_call))
        .bind(expected_version + 1)
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionMismatch {
                resource: "tenant",
                current: expected_version + 1,
            });
        }
        let after = Tenant {
            version: expected_version + 1,
            updated_at: now,
            spec,
            ..before.clone()
        };
        audit::record(
            &mut tx,
            None,
            actor,
            AuditAction::Update,
            "tenant",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        // Status, time zone and limits are part of every number route of the tenant.
        self.changes.routing_changed();
        Ok(after)
    }
}
