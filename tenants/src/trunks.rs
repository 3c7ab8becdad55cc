//! Carrier trunks: how calls enter and leave the installation through the phone network.
//! Platform-level configuration (`PlatformScope`): a trunk belongs to no tenant.
//!
//! Inbound, a carrier is recognized by its source address (an allowlist of IPs and CIDRs, v4
//! and v6) and/or by digest credentials it authenticates with; of those only the HA1s are kept
//! (computed in the platform realm, the SIP domain suffix), as for agents. Outbound, the trunk
//! names the provider's address, how we present the caller, whether we register with the
//! provider, and the digest username and password we answer its challenges with. That password
//! is the one secret stored reversibly (we must send it, and the provider's realm is known only
//! from its challenge), in its own column: never in the JSON documents, the API's answers or the
//! audit log, where it reads `"***"`. Only [`Store::trunks_for_sip`] hands it out, to the SIP
//! stack.
//!
//! Writing `"***"` back (as a merge patch of what the API returned does) keeps the stored secret.
//! Every committed change bumps the store's trunk generation, which the SIP side reloads on.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use hotline_core::ids::TrunkId;
use hotline_core::{time, PlatformScope};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::agents::digest_ha1;
use crate::audit::{self, Actor, AuditAction};
use crate::crud::{bool_column, conflict_or, json_column, to_json, uuid_column, Page, PageRequest};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::numbers::normalize_e164;
use crate::{validate, Store};

/// What the API shows, and accepts back, in place of a stored secret.
pub const SECRET_MASK: &str = "***";

const MAX_SOURCES: usize = 100;
const REGISTER_EXPIRES_RANGE_S: std::ops::RangeInclusive<u32> = 60..=86_400;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    #[default]
    Udp,
    Tcp,
}

/// The caller number presented to the provider on calls we send out through the trunk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CallerIdPolicy {
    /// The original caller's number, as it reached us.
    #[default]
    PassThrough,
    /// Always this number (E.164), e.g. the firm's main line.
    Fixed { number: String },
    /// The tenant number the caller dialed, so the person called back reaches the hotline.
    DialedNumber,
}

/// How the carrier's calls are recognized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSpec {
    /// IPs and CIDRs (v4 and v6) whose INVITEs are the carrier's; normalized to networks.
    #[serde(default)]
    #[schema(example = json!(["192.0.2.10", "198.51.100.0/24", "2001:db8::/48"]))]
    pub sources: Vec<String>,
    /// Digest username the carrier authenticates with (realm: the SIP domain suffix).
    #[serde(default)]
    pub username: Option<String>,
    /// Write-only: `"***"` when set. Required with a new username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Where and how calls leave through the trunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundSpec {
    /// The provider's proxy: a DNS name or an IP address.
    #[schema(example = "sip.carrier.example")]
    pub host: String,
    #[serde(default = "default_sip_port")]
    pub port: u16,
    #[serde(default)]
    pub transport: TrunkTransport,
    /// Digest username for the provider's challenges (and the user we register as).
    #[serde(default)]
    pub username: Option<String>,
    /// Write-only: `"***"` when set. Required with a username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Register with the provider (needs `username`), refreshed before `register_expires_s`.
    #[serde(default)]
    pub register: bool,
    #[serde(default = "default_register_expires")]
    pub register_expires_s: u32,
    #[serde(default)]
    pub caller_id: CallerIdPolicy,
}

fn default_sip_port() -> u16 {
    5060
}
fn default_register_expires() -> u32 {
    3600
}
fn enabled_by_default() -> bool {
    true
}
fn default_max_calls() -> u32 {
    100
}

/// The writable part of a trunk, as clients send it (secrets in the clear or `"***"`) and as
/// the API returns it (secrets always `"***"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrunkSpec {
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub inbound: InboundSpec,
    /// Absent: an inbound-only trunk.
    #[serde(default)]
    pub outbound: Option<OutboundSpec>,
    /// Calls through the trunk at once, both directions together.
    #[serde(default = "default_max_calls")]
    pub max_concurrent_calls: u32,
}

/// A stored trunk, secrets masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trunk {
    pub id: TrunkId,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub spec: TrunkSpec,
}

/// How a carrier's inbound digest is verified: HA1s in `realm`, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct InboundDigest {
    pub username: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl std::fmt::Debug for InboundDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundDigest")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// A trunk with what the SIP stack needs and nobody else may see: the inbound HA1s and the
/// outbound password in the clear. Its `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct SipTrunk {
    pub trunk: Trunk,
    pub inbound_digest: Option<InboundDigest>,
    pub outbound_password: Option<String>,
}

impl std::fmt::Debug for SipTrunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipTrunk")
            .field("trunk", &self.trunk)
            .field("inbound_digest", &self.inbound_digest)
            .field(
                "outbound_password",
                &self.outbound_password.as_ref().map(|_| SECRET_MASK),
            )
            .finish()
    }
}

/// An allowlist entry as a network: `192.0.2.10` is `192.0.2.10/32`, host bits are cleared, and
/// an IPv4-mapped IPv6 network is written as the IPv4 network it is.
pub fn normalize_source(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => text
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?,
    };
    let net = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .map_err(|e| e.to_string())?,
            None => net,
        },
        other => other,
    };
    if net.prefix_len() == 0 {
        return Err(format!(
            "{text:?} admits every address; list the carrier's networks, or use credentials"
        ));
    }
    Ok(net.trunc())
}

fn sip_username_ok(username: &str) -> bool {
    !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

/// Credentials a provider hands out: anything printable, within reason.
fn provider_credential_ok(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && !value.chars().any(char::is_control)
}

fn host_ok(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A write-only secret the client actually sent (not absent, not the mask).
fn new_secret(secret: &Option<String>) -> Option<&str> {
    secret.as_deref().filter(|s| *s != SECRET_MASK)
}

impl TrunkSpec {
    fn normalize(&mut self) {
        let mut normalized: Vec<String> = Vec::with_capacity(self.inbound.sources.len());
        for source in &self.inbound.sources {
            normalized.push(
                normalize_source(source)
                    .map(|net| net.to_string())
                    .unwrap_or_else(|_| source.clone()),
            );
        }
        self.inbound.sources = normalized;
        if let Some(outbound) = &mut self.outbound {
            let host = outbound.host.trim();
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            outbound.host = host.to_ascii_lowercase();
            if let CallerIdPolicy::Fixed { number } = &mut outbound.caller_id {
                if let Ok(e164) = normalize_e164(number) {
                    *number = e164;
                }
            }
        }
    }

    /// Checks that need no stored state. Secrets are checked only when new (not the mask).
    fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &self.name);
        validate::range(
            &mut invalid,
            "max_concurrent_calls",
            self.max_concurrent_calls,
            1,
            100_000,
        );

        let inbound = &self.inbound;
        if inbound.sources.len() > MAX_SOURCES {
            invalid.add(
                "inbound.sources",
                format!("at most {MAX_SOURCES} entries; use wider networks"),
            );
        }
        for (i, source) in inbound.sources.iter().enumerate() {
            let field = format!("inbound.sources[{i}]");
            match normalize_source(source) {
                Err(why) => invalid.add(field, why),
                Ok(net) => {
                    let duplicate = inbound.sources[..i]
                        .iter()
                        .any(|s| normalize_source(s).is_ok_and(|n| n == net));
                    if duplicate {
                        invalid.add(field, format!("{net} is listed twice"));
                    }
                }
            }
        }
        match (&inbound.username, new_secret(&inbound.password)) {
            (Some(username), _) if !sip_username_ok(username) => {
                invalid.add("inbound.username", "1 to 64 letters, digits, or - _ . +")
            }
            (None, Some(_)) => invalid.add("inbound.password", "needs inbound.username"),
            _ => {}
        }
        if let Some(password) = new_secret(&inbound.password) {
            if password.chars().count() < 8 || password.len() > 256 {
                invalid.add("inbound.password", "8 characters to 256 bytes");
            }
        }

        if let Some(outbound) = &self.outbound {
            if !host_ok(&outbound.host) {
                invalid.add(
                    "outbound.host",
                    format!("{:?} is not a DNS name or IP address", outbound.host),
                );
            }
            if outbound.port == 0 {
                invalid.add("outbound.port", "must be between 1 and 65535");
            }
            match (&outbound.username, new_secret(&outbound.password)) {
                (Some(username), _) if !provider_credential_ok(username, 128) => invalid.add(
                    "outbound.username",
                    "1 to 128 bytes without control characters",
                ),
                (None, Some(_)) => invalid.add("outbound.password", "needs outbound.username"),
                _ => {}
            }
            if let Some(password) = new_secret(&outbound.password) {
                if !provider_credential_ok(password, 256) {
                    invalid.add(
                        "outbound.password",
                        "1 to 256 bytes without control characters",
                    );
                }
            }
            if outbound.register && outbound.username.is_none() {
                invalid.add(
                    "outbound.register",
                    "registering needs outbound.username (the user we register as)",
                );
            }
            if !REGISTER_EXPIRES_RANGE_S.contains(&outbound.register_expires_s) {
                invalid.add(
                    "outbound.register_expires_s",
                    format!(
                        "must be between {} and {} seconds",
                        REGISTER_EXPIRES_RANGE_S.start(),
                        REGISTER_EXPIRES_RANGE_S.end()
                    ),
                );
            }
            if let CallerIdPolicy::Fixed { number } = &outbound.caller_id {
                if let Err(why) = normalize_e164(number) {
                    invalid.add(
                        "outbound.caller_id.number",
                        format!("{number:?} is not an E.164 number: {why}"),
                    );
                }
            }
        }

        if inbound.sources.is_empty() && inbound.username.is_none() && self.outbound.is_none() {
            invalid.add(
                "inbound",
                "a trunk needs inbound sources, inbound credentials or an outbound target",
            );
        }
        invalid.into_result()
    }

    /// The spec as stored and shown: secrets replaced by the mask where one is kept.
    fn masked(mut self, inbound_secret: bool, outbound_secret: bool) -> Self {
        self.inbound.password = inbound_secret.then(|| SECRET_MASK.to_string());
        if let Some(outbound) = &mut self.outbound {
            outbound.password = outbound_secret.then(|| SECRET_MASK.to_string());
        }
        self
    }
}

/// The secrets a write ends with, worked out from the spec and what was stored before.
struct Secrets {
    inbound: Option<InboundDigest>,
    outbound_password: Option<String>,
}

impl Secrets {
    fn resolve(
        spec: &TrunkSpec,
        before: Option<&SipTrunk>,
        realm: &str,
    ) -> Result<Secrets, Invalid> {
        let mut invalid = Invalid::new();
        let inbound = match &spec.inbound.username {
            None => None,
            Some(username) => match new_secret(&spec.inbound.password) {
                Some(password) => {
                    let (ha1_md5, ha1_sha256) = digest_ha1(username, realm, password);
                    Some(InboundDigest {
                        username: username.clone(),
                        realm: realm.to_string(),
                        ha1_md5,
                        ha1_sha256,
                    })
                }
                None => {
                    let kept = before
                        .and_then(|b| b.inbound_digest.clone())
                        .filter(|digest| &digest.username == username);
                    if kept.is_none() {
                        invalid.add(
                            "inbound.password",
                            "is required with a new inbound.username (the digest covers both)",
                        );
                    }
                    kept
                }
            },
        };
        let outbound_password = match &spec.outbound {
            Some(OutboundSpec {
                username: Some(_),
                password,
                ..
            }) => match new_secret(password) {
                Some(password) => Some(password.to_string()),
                None => {
                    let kept = before.and_then(|b| b.outbound_password.clone());
                    if kept.is_none() {
                        invalid.add("outbound.password", "is required with outbound.username");
                    }
                    kept
                }
            },
            _ => None,
        };
        invalid.into_result()?;
        Ok(Secrets {
            inbound,
            outbound_password,
        })
    }
}

const SELECT: &str = "SELECT id, name, enabled, inbound_sources, inbound_username, inbound_realm, inbound_ha1_md5, inbound_ha1_sha256, outbound, outbound_password, max_concurrent_calls, version, created_at, updated_at FROM trunks";

fn sip_trunk_from_row(row: &AnyRow) -> StoreResult<SipTrunk> {
    let outbound: Option<String> = row.try_get("outbound")?;
    let outbound: Option<OutboundSpec> = outbound
        .map(|text| serde_json::from_str(&text))
        .transpose()?;
    let inbound_username: Option<String> = row.try_get("inbound_username")?;
    let inbound_digest = match inbound_username.clone() {
        None => None,
        Some(username) => Some(InboundDigest {
            username,
            realm: row
                .try_get::<Option<String>, _>("inbound_realm")?
                .unwrap_or_default(),
            ha1_md5: row
                .try_get::<Option<String>, _>("inbound_ha1_md5")?
                .unwrap_or_default(),
            ha1_sha256: row
                .try_get::<Option<String>, _>("inbound_ha1_sha256")?
                .unwrap_or_default(),
        }),
    };
    let outbound_password: Option<String> = row.try_get("outbound_password")?;
    let max_calls: i64 = row.try_get("max_concurrent_calls")?;
    let spec = TrunkSpec {
        name: row.try_get("name")?,
        enabled: bool_column(row, "enabled")?,
        inbound: InboundSpec {
            sources: json_column(row, "inbound_sources")?,
            username: inbound_username,
            password: None,
        },
        outbound,
        max_concurrent_calls: u32::try_from(max_calls)
            .map_err(|_| StoreError::Corrupt(format!("max_concurrent_calls = {max_calls}")))?,
    }
    .masked(inbound_digest.is_some(), outbound_password.is_some());
    Ok(SipTrunk {
        trunk: Trunk {
            id: TrunkId(uuid_column(row, "id")?),
            version: row.try_get("version")?,
            created_at: time::from_millis(row.try_get("created_at")?),
            updated_at: time::from_millis(row.try_get("updated_at")?),
            spec,
        },
        inbound_digest,
        outbound_password,
    })
}

async fn fetch_trunk(conn: &mut AnyConnection, id: TrunkId) -> StoreResult<SipTrunk> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.to_db())
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::not_found("trunk"))?;
    sip_trunk_from_row(&row)
}

/// The outbound settings as stored in the JSON column: never with the password.
fn outbound_json(spec: &TrunkSpec) -> Option<String> {
    spec.outbound.as_ref().map(|outbound| {
        to_json(&OutboundSpec {
            password: None,
            ..outbound.clone()
        })
    })
}

impl Store {
    pub async fn create_trunk(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        mut spec: TrunkSpec,
    ) -> StoreResult<Trunk> {
        spec.normalize();
        spec.validate()?;
        let secrets = Secrets::resolve(&spec, None, &self.config.sip_domain_suffix)?;
        let now = time::now();
        let trunk = Trunk {
            id: TrunkId::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            spec: spec.masked(
                secrets.inbound.is_some(),
                secrets.outbound_password.is_some(),
            ),
        };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO trunks (id, name, enabled, inbound_sources, inbound_username, inbound_realm, inbound_ha1_md5, inbound_ha1_sha256,
             outbound, outbound_password, max_concurrent_calls, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(trunk.id.to_db())
        .bind(&trunk.spec.name)
        .bind(trunk.spec.enabled)
        .bind(to_json(&trunk.spec.inbound.sources))
        .bind(secrets.inbound.as_ref().map(|d| d.username.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.realm.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.ha1_md5.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.ha1_sha256.clone()))
        .bind(outbound_json(&trunk.spec))
        .bind(secrets.outbound_password.clone())
        .bind(i64::from(trunk.spec.max_concurrent_calls))
        .bind(trunk.version)
        .bind(time::to_millis(now))
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "trunk"))?;
        audit::record(
            &mut tx,
            None,
            actor,
            AuditAction::Create,
            "trunk",
            &trunk.id.to_string(),
            None,
            Some(&trunk),
        )
        .await?;
        tx.commit().await?;
        self.changes.trunks_changed();
        Ok(trunk)
    }

    pub async fn get_trunk(&self, _scope: &PlatformScope, id: TrunkId) -> StoreResult<Trunk> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(fetch_trunk(&mut conn, id).await?.trunk)
    }

    pub async fn list_trunks(
        &self,
        _scope: &PlatformScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Trunk>> {
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
            .map(|row| sip_trunk_from_row(row).map(|t| t.trunk))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |t| t.id.0))
    }

    /// Every trunk with its secrets, for the SIP stack (and nothing else) to load.
    pub async fn trunks_for_sip(&self, _scope: &PlatformScope) -> StoreResult<Vec<SipTrunk>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY name"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(sip_trunk_from_row).collect()
    }

    /// Replace a trunk's spec if it is still at `expected_version`. Secrets sent as `"***"` or
    /// left out are kept; the inbound password must be sent again with a new inbound username.
    pub async fn update_trunk(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: TrunkId,
        expected_version: i64,
        mut spec: TrunkSpec,
    ) -> StoreResult<Trunk> {
        spec.normalize();
        spec.validate()?;
        let mut tx = self.db.begin().await?;
        let before = fetch_trunk(&mut tx, id).await?;
        if before.trunk.version != expected_version {
            return Err(StoreError::VersionMismatch {
                resource: "trunk",
                current: before.trunk.version,
            });
        }
        let secrets = Secrets::resolve(&spec, Some(&before), &self.config.sip_domain_suffix)?;
        let now = time::now();
        let after = Trunk {
            version: expected_version + 1,
            updated_at: now,
            spec: spec.masked(
                secrets.inbound.is_some(),
                secrets.outbound_password.is_some(),
            ),
            ..before.trunk.clone()
        };
        let done = sqlx::query(
            "UPDATE trunks SET name = $1, enabled = $2, inbound_sources = $3, inbound_username = $4, inbound_realm = $5,
             inbound_ha1_md5 = $6, inbound_ha1_sha256 = $7, outbound = $8, outbound_password = $9, max_concurrent_calls = $10,
             version = $11, updated_at = $12 WHERE id = $13 AND version = $14",
        )
        .bind(&after.spec.name)
        .bind(after.spec.enabled)
        .bind(to_json(&after.spec.inbound.sources))
        .bind(secrets.inbound.as_ref().map(|d| d.username.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.realm.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.ha1_md5.clone()))
        .bind(secrets.inbound.as_ref().map(|d| d.ha1_sha256.clone()))
        .bind(outbound_json(&after.spec))
        .bind(secrets.outbound_password.clone())
        .bind(i64::from(after.spec.max_concurrent_calls))
        .bind(after.version)
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "trunk"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionMismatch {
                resource: "trunk",
                current: expected_version + 1,
            });
        }
        audit::record(
            &mut tx,
            None,
            actor,
            AuditAction::Update,
            "trunk",
            &id.to_string(),
            Some(&before.trunk),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.changes.trunks_changed();
        Ok(after)
    }

    /// Delete a trunk no hotline forwards through (`expected_version` `None`: whatever its version).
    pub async fn delete_trunk(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: TrunkId,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = fetch_trunk(&mut tx, id).await?;
        if let Some(expected) = expected_version {
            if before.trunk.version != expected {
                return Err(StoreError::VersionMismatch {
                    resource: "trunk",
                    current: before.trunk.version,
                });
            }
        }
        // Hotline actions name trunks inside JSON, where no foreign key can refuse this.
        let user = sqlx::query(
            "SELECT id, tenant_id FROM hotlines WHERE open_action LIKE $1 OR closed_action LIKE $2",
        )
        .bind(format!("%{id}%"))
        .bind(format!("%{id}%"))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user) = user {
            let hotline: String = user.try_get("id")?;
            let tenant: String = user.try_get("tenant_id")?;
            return Err(StoreError::Conflict(format!(
                "the trunk is still in use by hotline {hotline} of tenant {tenant}; point it elsewhere first"
            )));
        }
        sqlx::query("DELETE FROM trunks WHERE id = $1")
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            None,
            actor,
            AuditAction::Delete,
            "trunk",
            &id.to_string(),
            Some(&before.trunk),
            None,
        )
        .await?;
        tx.commit().await?;
        self.changes.trunks_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_become_networks() {
        let cases = [
            ("192.0.2.10", "192.0.2.10/32"),
            ("198.51.100.77/24", "198.51.100.0/24"),
            ("2001:db8::1", "2001:db8::1/128"),
            ("2001:db8:aa::5/48", "2001:db8:aa::/48"),
            ("::ffff:192.0.2.1", "192.0.2.1/32"),
            ("::ffff:198.51.100.0/120", "198.51.100.0/24"),
            (" 10.0.0.0/8 ", "10.0.0.0/8"),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_source(input).map(|n| n.to_string()).as_deref(),
                Ok(want),
                "{input}"
            );
        }
        for bad in [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/33",
            "carrier.example",
            "",
            "1.2.3",
        ] {
            assert!(normalize_source(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hosts() {
        for good in [
            "sip.carrier.example",
            "192.0.2.1",
            "2001:db8::1",
            "x-1.example",
        ] {
            assert!(host_ok(good), "{good}");
        }
        for bad in ["", "-x.example", "a..b", "sip carrier", "a_b.example"] {
            assert!(!host_ok(bad), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let trunk = SipTrunk {
            trunk: Trunk {
                id: TrunkId::new(),
                version: 1,
                created_at: time::now(),
                updated_at: time::now(),
                spec: TrunkSpec {
                    name: "carrier".into(),
                    enabled: true,
                    inbound: InboundSpec::default(),
                    outbound: None,
                    max_concurrent_calls: 10,
                },
            },
            inbound_digest: Some(InboundDigest {
                username: "carrier".into(),
                realm: "sip.example".into(),
                ha1_md5: "md5-ha1-value".into(),
                ha1_sha256: "sha-ha1-value".into(),
            }),
            outbound_password: Some("provider-secret".into()),
        };
        let text = format!("{trunk:?}");
        for secret in ["provider-secret", "md5-ha1-value", "sha-ha1-value"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
