//! People who log in: the operator's platform admins (no tenant) and tenants' users (one tenant,
//! one role). Passwords are kept only as argon2id hashes, and no read of a user ever returns one.

use chrono::{DateTime, Utc};
use hotline_core::ids::{TenantId, UserId};
use hotline_core::{time, PlatformScope, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Actor, AuditAction};
use crate::crud::{bool_column, conflict_or, opt_uuid_column, uuid_column, Page, PageRequest};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::rbac::Role;
use crate::{password, validate, Store};

pub const MIN_PASSWORD_LEN: usize = 12;

/// A user as clients send it; `password` is write-only (required on create).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    /// Absent for the operator's platform admins.
    pub tenant_id: Option<TenantId>,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The writable fields, as a merge-patch target.
    pub fn input(&self) -> UserInput {
        UserInput {
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            disabled: self.disabled,
            password: None,
        }
    }
}

impl UserInput {
    fn validate(&mut self, creating: bool) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        self.email = self.email.trim().to_ascii_lowercase();
        let valid_email = self.email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && self.email.len() <= 254
            && !self.email.chars().any(char::is_whitespace);
        if !valid_email {
            invalid.add("email", "must be an email address");
        }
        validate::name(&mut invalid, "display_name", &self.display_name);
        match &self.password {
            None if creating => invalid.add("password", "is required"),
            Some(p) if p.chars().count() < MIN_PASSWORD_LEN => invalid.add(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            ),
            Some(p) if p.len() > 1024 => invalid.add("password", "must be at most 1024 bytes"),
            _ => {}
        }
        invalid.into_result()
    }
}

const SELECT: &str = "SELECT id, tenant_id, email, display_name, role, disabled, version, created_at, updated_at FROM users";

pub(crate) fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(uuid_column(row, "id")?),
        tenant_id: opt_uuid_column(row, "tenant_id")?.map(TenantId),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        disabled: bool_column(row, "disabled")?,
        version: row.try_get("version")?,
        created_at: time::from_millis(row.try_get("created_at")?),
        updated_at: time::from_millis(row.try_get("updated_at")?),
    })
}

/// Where a user lives: a tenant, or the operator.
#[derive(Clone, Copy)]
enum Owner {
    Tenant(TenantId),
    Platform,
}

impl Owner {
    fn db_id(self) -> Option<String> {
        match self {
            Owner::Tenant(id) => Some(id.to_db()),
            Owner::Platform => None,
        }
    }

    fn filter(self) -> &'static str {
        match self {
            Owner::Tenant(_) => "tenant_id = $1",
            Owner::Platform => "tenant_id IS NULL AND $1 IS NULL",
        }
    }

    fn check_role(self, role: Role) -> Result<(), Invalid> {
        match (self, role.is_platform()) {
            (Owner::Tenant(_), true) => Err(Invalid::one(
                "role",
                "platform-admin belongs to the operator, not to a tenant",
            )),
            (Owner::Platform, false) => Err(Invalid::one(
                "role",
                "operator users are platform-admin; tenant roles belong to a tenant",
            )),
            _ => Ok(()),
        }
    }

    fn audit_tenant(self) -> Option<TenantId> {
        match self {
            Owner::Tenant(id) => Some(id),
            Owner::Platform => None,
        }
    }
}

async fn fetch_user(conn: &mut AnyConnection, owner: Owner, id: UserId) -> StoreResult<User> {
    let row = sqlx::query(&format!("{SELECT} WHERE {} AND id = $2", owner.filter()))
        .bind(owner.db_id())
        .bind(id.to_db())
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::not_found("user"))?;
    user_from_row(&row)
}

impl Store {
    async fn insert_user(
        &self,
        actor: &Actor,
        owner: Owner,
        mut input: UserInput,
    ) -> StoreResult<User> {
        input.validate(true)?;
        owner.check_role(input.role)?;
        let hash = password::hash(input.password.as_deref().unwrap_or_default())?;
        let now = time::now();
        let user = User {
            id: UserId::new(),
            tenant_id: owner.audit_tenant(),
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            disabled: input.disabled,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, display_name, role, password_hash, disabled, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id.to_db())
        .bind(owner.db_id())
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(hash)
        .bind(user.disabled)
        .bind(user.version)
        .bind(time::to_millis(now))
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match conflict_or(e, "user") {
            StoreError::Conflict(_) => StoreError::Conflict("a user with this email exists already".into()),
            other => other,
        })?;
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Create,
            "user",
            &user.id.to_string(),
            None,
            Some(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn update_user_in(
        &self,
        actor: &Actor,
        owner: Owner,
        id: UserId,
        expected_version: i64,
        mut input: UserInput,
    ) -> StoreResult<User> {
        input.validate(false)?;
        owner.check_role(input.role)?;
        let hash = input.password.as_deref().map(password::hash).transpose()?;
        let mut tx = self.db.begin().await?;
        let before = fetch_user(&mut tx, owner, id).await?;
        if before.version != expected_version {
            return Err(StoreError::VersionMismatch {
                resource: "user",
                current: before.version,
            });
        }
        let now = time::now();
        let done = sqlx::query(
            "UPDATE users SET email = $1, display_name = $2, role = $3, disabled = $4,
             password_hash = COALESCE($5, password_hash), version = $6, updated_at = $7
             WHERE id = $8 AND version = $9",
        )
        .bind(&input.email)
        .bind(&input.display_name)
        .bind(input.role.as_str())
        .bind(input.disabled)
        .bind(hash)
        .bind(expected_version + 1)
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "user"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionMismatch {
                resource: "user",
                current: expected_version + 1,
            });
        }
        // A disabled user, a new password or a new role ends every session at its next refresh.
        if input.disabled || input.password.is_some() || input.role != before.role {
            crate::auth::revoke_user_sessions(&mut tx, id).await?;
        }
        let after = User {
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            disabled: input.disabled,
            version: expected_version + 1,
            updated_at: now,
            ..before.clone()
        };
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Update,
            "user",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_user_in(&self, actor: &Actor, owner: Owner, id: UserId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = fetch_user(&mut tx, owner, id).await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1")
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Delete,
            "user",
            &id.to_string(),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_users_in(&self, owner: Owner, page: &PageRequest) -> StoreResult<Page<User>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE {} AND ($2 IS NULL OR id > $3) ORDER BY id LIMIT $4",
            owner.filter()
        ))
        .bind(owner.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(user_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |u| u.id.0))
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        input: UserInput,
    ) -> StoreResult<User> {
        self.insert_user(actor, Owner::Tenant(scope.tenant_id()), input)
            .await
    }
    pub async fn get_user(&self, scope: &TenantScope, id: UserId) -> StoreResult<User> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_user(&mut conn, Owner::Tenant(scope.tenant_id()), id).await
    }
    pub async fn list_users(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        self.list_users_in(Owner::Tenant(scope.tenant_id()), page)
            .await
    }
    pub async fn update_user(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: UserId,
        expected_version: i64,
        input: UserInput,
    ) -> StoreResult<User> {
        self.update_user_in(
            actor,
            Owner::Tenant(scope.tenant_id()),
            id,
            expected_version,
            input,
        )
        .await
    }
    pub async fn delete_user(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: UserId,
    ) -> StoreResult<()> {
        self.delete_user_in(actor, Owner::Tenant(scope.tenant_id()), id)
            .await
    }

    pub async fn create_platform_user(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        input: UserInput,
    ) -> StoreResult<User> {
        self.insert_user(actor, Owner::Platform, input).await
    }
    pub async fn get_platform_user(&self, _scope: &PlatformScope, id: UserId) -> StoreResult<User> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_user(&mut conn, Owner::Platform, id).await
    }
    pub async fn list_platform_users(
        &self,
        _scope: &PlatformScope,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        self.list_users_in(Owner::Platform, page).await
    }
    pub async fn update_platform_user(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: UserId,
        expected_version: i64,
        input: UserInput,
    ) -> StoreResult<User> {
        self.update_user_in(actor, Owner::Platform, id, expected_version, input)
            .await
    }
    pub async fn delete_platform_user(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: UserId,
    ) -> StoreResult<()> {
        self.delete_user_in(actor, Owner::Platform, id).await
    }

    /// Any user by id, whatever their tenant: for turning a verified token back into a user.
    pub(crate) async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id.to_db())
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Create the first platform admin (from `hotline admin bootstrap`).
    pub async fn bootstrap_platform_admin(&self, email: &str, password: &str) -> StoreResult<User> {
        let input = UserInput {
            email: email.to_string(),
            display_name: "Platform admin".into(),
            role: Role::PlatformAdmin,
            disabled: false,
            password: Some(password.to_string()),
        };
        self.insert_user(&Actor::cli(), Owner::Platform, input)
            .await
    }

    pub async fn platform_admin_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE tenant_id IS NULL AND role = $1 AND disabled = $2")
            .bind(Role::PlatformAdmin.as_str())
            .bind(false)
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}
