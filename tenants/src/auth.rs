//! Authentication: who is calling, turned into a [`Principal`] the API can ask questions of.
//!
//! - People log in with email and password and get a short-lived JWT access token (HS256 only;
//!   any other `alg`, including `none`, is refused) plus a refresh token.
//! - Refresh tokens rotate: each use returns a new one and retires the old. They are stored only
//!   as SHA-256 hashes and grouped in a family per login; presenting a retired token (a sign it
//!   was stolen) revokes the whole family.
//! - Machines use API keys (see `api_keys`), which map to a principal the same way.
//!
//! The tenant scope of a request comes from the principal, never from the URL alone:
//! [`Principal::tenant_scope`] checks the tenant a URL names against the credentials.

use std::time::Duration;

use base64::Engine;
use hotline_core::ids::{ApiKeyId, TenantId, UserId};
use hotline_core::{time, PlatformScope, TenantScope};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::audit::{Actor, ActorKind};
use crate::crud::bool_column;
use crate::error::StoreError;
use crate::rbac::{self, Action, Role};
use crate::users::User;
use crate::{password, Store};

const ISSUER: &str = "hotline";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    #[error(
        "the refresh token was already used or revoked; every session of this login was ended"
    )]
    RefreshReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        AuthError::Store(err.into())
    }
}

/// What the access token says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The tenant, absent for platform admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    pub role: Role,
    pub email: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

/// The answer to a login or a refresh.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
}

impl TokenService {
    pub fn new(secret: Vec<u8>, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn issue_access(&self, user: &User) -> Result<String, AuthError> {
        let now = time::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            tid: user.tenant_id.map(|t| t.to_string()),
            role: user.role,
            email: user.email.clone(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            jti: Uuid::now_v7().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::InvalidToken(format!("signing failed: {e}")))
    }

    /// Verify signature, algorithm, issuer and expiry; turn the claims into a principal.
    pub fn verify_access(&self, token: &str) -> Result<Principal, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidAlgorithm => {
                    AuthError::InvalidToken("algorithm not accepted".into())
                }
                ErrorKind::InvalidSignature => AuthError::InvalidToken("bad signature".into()),
                _ => AuthError::InvalidToken(e.to_string()),
            })?;
        let claims = data.claims;
        let user_id = claims
            .sub
            .parse::<UserId>()
            .map_err(|_| AuthError::InvalidToken("bad subject".into()))?;
        let tenant_id = claims
            .tid
            .map(|t| t.parse::<TenantId>())
            .transpose()
            .map_err(|_| AuthError::InvalidToken("bad tenant".into()))?;
        if claims.role.is_platform() == tenant_id.is_some() {
            return Err(AuthError::InvalidToken("role and tenant disagree".into()));
        }
        Ok(Principal {
            subject: Subject::User(user_id),
            tenant_id,
            role: claims.role,
            label: claims.email,
        })
    }

    async fn pair(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        family: Option<Uuid>,
    ) -> Result<TokenPair, AuthError> {
        let refresh_token = issue_refresh(
            conn,
            user.id,
            family.unwrap_or_else(Uuid::now_v7),
            self.refresh_ttl,
        )
        .await?;
        Ok(TokenPair {
            access_token: self.issue_access(user)?,
            token_type: "Bearer".into(),
            expires_in: self.access_ttl.as_secs(),
            refresh_token,
        })
    }

    /// Email and password → tokens. Unknown email and wrong password answer alike.
    pub async fn login(
        &self,
        store: &Store,
        email: &str,
        password_given: &str,
    ) -> Result<TokenPair, AuthError> {
        let email = email.trim().to_ascii_lowercase();
        let row = sqlx::query("SELECT id, password_hash, disabled FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(store.db.pool())
            .await?;
        let Some(row) = row else {
            password::verify_nothing(password_given);
            return Err(AuthError::InvalidCredentials);
        };
        let hash: String = row.try_get("password_hash")?;
        let disabled = bool_column(&row, "disabled")?;
        if !password::verify(password_given, &hash) || disabled {
            return Err(AuthError::InvalidCredentials);
        }
        let id: String = row.try_get("id")?;
        let user_id = id
            .parse::<UserId>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let user = store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        let mut conn = store.db.pool().acquire().await?;
        self.pair(&mut conn, &user, None).await
    }

    /// Trade a refresh token for a new pair. A token used twice ends its whole family.
    pub async fn refresh(
        &self,
        store: &Store,
        refresh_token: &str,
    ) -> Result<TokenPair, AuthError> {
        let hash = sha256_hex(refresh_token);
        let mut tx = store.db.begin().await?;
        let row = sqlx::query("SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AuthError::InvalidToken("unknown refresh token".into()))?;
        let id: String = row.try_get("id")?;
        let family: String = row.try_get("family_id")?;
        let user_id: String = row.try_get("user_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        let now = time::to_millis(time::now());
        if used_at.is_some() || revoked_at.is_some() {
            revoke_family(&mut tx, &family, now).await?;
            tx.commit().await?;
            tracing::warn!(family = %family, "refresh token reused; family revoked");
            return Err(AuthError::RefreshReused);
        }
        if expires_at <= now {
            return Err(AuthError::Expired);
        }
        // Mark used only if nobody else did in between: two concurrent refreshes cannot both win.
        let done = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            revoke_family(&mut tx, &family, now).await?;
            tx.commit().await?;
            return Err(AuthError::RefreshReused);
        }
        let user_id = user_id
            .parse::<UserId>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let user = store
            .user_by_id(user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(AuthError::InvalidCredentials)?;
        let family = Uuid::parse_str(&family).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // The successor joins the family in the transaction that retires this token: a
        // concurrent reuse, which revokes the family once this commits, cannot miss it.
        let pair = self.pair(&mut tx, &user, Some(family)).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Log out: the refresh token's whole family ends. Unknown tokens are ignored.
    pub async fn logout(&self, store: &Store, refresh_token: &str) -> Result<(), AuthError> {
        let mut tx = store.db.begin().await?;
        let family: Option<String> =
            sqlx::query("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
                .bind(sha256_hex(refresh_token))
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get("family_id"))
                .transpose()?;
        if let Some(family) = family {
            revoke_family(&mut tx, &family, time::to_millis(time::now())).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn issue_refresh(
    conn: &mut AnyConnection,
    user: UserId,
    family: Uuid,
    ttl: Duration,
) -> Result<String, AuthError> {
    let token = random_token("hlr");
    let now = time::now();
    sqlx::query(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(family.to_string())
    .bind(user.to_db())
    .bind(sha256_hex(&token))
    .bind(time::to_millis(now))
    .bind(time::to_millis(now) + ttl.as_millis() as i64)
    .execute(conn)
    .await?;
    Ok(token)
}

async fn revoke_family(
    conn: &mut AnyConnection,
    family: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(conn)
    .await?;
    Ok(())
}

/// End every refresh family of a user (disabled, new password, new role).
pub(crate) async fn revoke_user_sessions(
    conn: &mut AnyConnection,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(time::to_millis(time::now()))
    .bind(user.to_db())
    .execute(conn)
    .await?;
    Ok(())
}

/// A random secret with a readable prefix (so a leaked one is recognizable in logs and scanners).
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub(crate) fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who the credentials belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    User(UserId),
    ApiKey(ApiKeyId),
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub subject: Subject,
    /// The tenant the credentials belong to; `None` for the operator.
    pub tenant_id: Option<TenantId>,
    pub role: Role,
    /// Email or key name, for logs and the audit log.
    pub label: String,
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        rbac::permits(self.role, action)
    }

    /// The scope for acting in `tenant`, if these credentials cover it: their own tenant, or any
    /// tenant for a platform admin. `None` means "no such tenant" to this caller.
    pub fn tenant_scope(&self, tenant: TenantId) -> Option<TenantScope> {
        if self.role.is_platform() || self.tenant_id == Some(tenant) {
            Some(TenantScope::from_verified(tenant))
        } else {
            None
        }
    }

    pub fn platform_scope(&self) -> Option<PlatformScope> {
        self.role.is_platform().then(PlatformScope::from_verified)
    }

    pub fn actor(&self) -> Actor {
        match self.subject {
            Subject::User(id) => Actor {
                kind: ActorKind::User,
                id: id.to_string(),
                label: self.label.clone(),
            },
            Subject::ApiKey(id) => Actor {
                kind: ActorKind::ApiKey,
                id: id.to_string(),
                label: self.label.clone(),
            },
        }
    }
}
