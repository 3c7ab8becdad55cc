//! The `hotline` configuration: built-in defaults, overlaid by `hotline.toml`, overlaid by the
//! environment (`HOTLINE_<SECTION>_<KEY>`, plus `DATABASE_URL`), then validated as a whole.
//!
//! The layering is generic on purpose: defaults and file are merged as a JSON tree, and the
//! environment variable of every leaf is derived from its path (`rtp.port_min` ->
//! `HOTLINE_RTP_PORT_MIN`). A new key in [`Config`] therefore gets its file key and its variable
//! without touching the loader, and the table in `docs/configuration.md` is the only other
//! place to update.
//!
//! Rules this module keeps:
//! - a key the file does not know is an error naming the key (a typo must never be silently
//!   ignored and leave a default in force);
//! - an error names where the bad value came from: the file and key, or the variable;
//! - an empty environment variable counts as unset (what `${VAR:-}` in compose files produces);
//! - secrets (the JWT secret, a database password) never reach a log line, a `Debug` print or
//!   `hotline config`: [`Config::redacted`] is the only way the configuration is shown.
//!
//! Loading has no side effects: it never creates the data directory or the JWT key file
//! (`data_dir.rs` does that, and only for commands that need them).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use hotline_sip::registrar::DigestAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The file read from the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "hotline.toml";

/// Prefix of every configuration environment variable.
const ENV_PREFIX: &str = "HOTLINE";

/// Conventional variable for the database, read after the file and before `HOTLINE_DATABASE_URL`.
const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// Shortest accepted `auth.jwt_secret`: HS256 wants at least as many key bytes as hash bytes.
const MIN_JWT_SECRET_LEN: usize = 32;

/// The effective configuration of one `hotline` process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database, the generated JWT key, recordings and prompts live.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub files: FilesConfig,
    pub http: HttpConfig,
    pub sip: SipConfig,
    pub rtp: RtpConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub billing: BillingConfig,
}

#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://...` or `postgres://...`; absent means the SQLite file in the data directory.
    pub url: Option<String>,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "url",
                &self.url.as_deref().map(hotline_core::db::redact_url),
            )
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// The tenants' files (prompt audio, call recordings), each tenant under its own prefix;
    /// absent means `<data_dir>/files`.
    pub dir: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of the REST API, health and metrics endpoints.
    pub listen: SocketAddr,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Address SIP is served on, UDP and TCP alike.
    pub listen: SocketAddr,
    /// Tenants' SIP domains (and digest realms) are `<slug>.<domain_suffix>`.
    pub domain_suffix: String,
    /// A second address for IPv6 (e.g. `[::]:5060`), served over UDP and TCP like `listen`.
    pub listen_ipv6: Option<SocketAddr>,
    /// The address peers must use to reach this host, written into Via and Contact when the
    /// listen address is a wildcard or behind NAT.
    pub advertise: Option<IpAddr>,
    /// Calls in progress beyond which new calls are refused at once with 503 + Retry-After.
    pub max_active_calls: usize,
    /// Scheduling lag (milliseconds, smoothed) beyond which new calls are refused with 503 +
    /// Retry-After until it falls below half of it; 0 turns this off.
    pub overload_lag_ms: u64,
    /// Shortest registration the registrar grants (seconds); shorter requests get 423.
    pub register_min_expires: u32,
    /// Longest registration granted (seconds); longer requests get this.
    pub register_max_expires: u32,
    /// Registration granted when a phone asks for none (seconds).
    pub register_default_expires: u32,
    /// Phones one agent may have registered at once.
    pub register_max_contacts: usize,
    /// How long a digest nonce may be answered (seconds); later answers get `stale=true`.
    pub nonce_ttl_secs: u64,
    /// Digest algorithms offered, in challenge order (`SHA-256`, `MD5`).
    pub digest_algorithms: Vec<String>,
    /// Failed authentications from one address, or for one user, that start a ban...
    pub auth_failure_limit: u32,
    /// ...within this many seconds.
    pub auth_failure_window_secs: u64,
    /// How long a ban lasts (seconds).
    pub auth_ban_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtpConfig {
    /// First UDP port for media; even, since RTP takes the even port and RTCP the next one.
    pub port_min: u16,
    pub port_max: u16,
    /// Address the RTP sockets bind to (`0.0.0.0`: every IPv4 interface).
    pub listen: IpAddr,
    /// An IPv6 address for media (e.g. `::`); without it, IPv6 offers are refused with 488.
    pub listen_ipv6: Option<IpAddr>,
    /// The address written into SDP for peers to send media to; unset: `sip.advertise`, else the
    /// bound address, else (for a wildcard) the SIP listen address.
    pub advertise: Option<IpAddr>,
    /// Seconds without any RTP after which a connected call is ended (`media_timeout`).
    pub media_timeout_secs: u64,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// HMAC key for access tokens; absent means a random key kept in `<data_dir>/jwt.key`.
    /// Several nodes sharing one database must share this secret.
    pub jwt_secret: Option<String>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| REDACTED))
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_secs", &self.refresh_token_ttl_secs)
            .finish()
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// Stripe secret key (`sk_live_...`, `sk_test_...`, `rk_...`); absent means finalized
    /// invoices stay local and nothing is sent to Stripe.
    pub stripe_secret_key: Option<String>,
    /// Stripe's webhook signing secret (`whsec_...`); without it every webhook is refused.
    pub stripe_webhook_secret: Option<String>,
    /// Stripe's API root without `/v1` (a mock in tests); absent means `https://api.stripe.com`.
    pub stripe_api_base: Option<String>,
    /// Grace period for late call records of billing accounts created without one, in hours.
    pub grace_period_hours: u32,
    /// The firm printed as the seller on invoices.
    pub seller_name: String,
    /// The seller's address, registration and tax numbers, one printed line each.
    pub seller_address: Vec<String>,
}

impl fmt::Debug for BillingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillingConfig")
            .field(
                "stripe_secret_key",
                &self.stripe_secret_key.as_ref().map(|_| REDACTED),
            )
            .field(
                "stripe_webhook_secret",
                &self.stripe_webhook_secret.as_ref().map(|_| REDACTED),
            )
            .field("stripe_api_base", &self.stripe_api_base)
            .field("grace_period_hours", &self.grace_period_hours)
            .field("seller_name", &self.seller_name)
            .field("seller_address", &self.seller_address)
            .finish()
    }
}

/// The longest grace period an account may have (billing refuses more): 31 days.
const MAX_GRACE_PERIOD_HOURS: u32 = 31 * 24;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter (`info`, `hotline=debug,sqlx=warn`); `RUST_LOG` wins when set.
    pub level: String,
}

/// How log lines are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// What a secret is replaced with wherever the configuration is shown.
pub const REDACTED: &str = "***";

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./hotline-data"),
            database: DatabaseConfig::default(),
            files: FilesConfig::default(),
            http: HttpConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            },
            sip: SipConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
                domain_suffix: "sip.hotline.local".into(),
                listen_ipv6: None,
                advertise: None,
                max_active_calls: 10_000,
                overload_lag_ms: 20,
                register_min_expires: 60,
                register_max_expires: 3600,
                register_default_expires: 600,
                register_max_contacts: 10,
                nonce_ttl_secs: 300,
                digest_algorithms: vec!["SHA-256".into(), "MD5".into()],
                auth_failure_limit: 10,
                auth_failure_window_secs: 60,
                auth_ban_secs: 300,
            },
            rtp: RtpConfig {
                port_min: 20000,
                port_max: 29999,
                listen: IpAddr::from([0, 0, 0, 0]),
                listen_ipv6: None,
                advertise: None,
                media_timeout_secs: 30,
            },
            auth: AuthConfig {
                jwt_secret: None,
                access_token_ttl_secs: 900,
                refresh_token_ttl_secs: 30 * 24 * 3600,
            },
            log: LogConfig {
                format: LogFormat::Text,
                level: "info".into(),
            },
            billing: BillingConfig {
                stripe_secret_key: None,
                stripe_webhook_secret: None,
                stripe_api_base: None,
                grace_period_hours: 24,
                seller_name: "Hotline".into(),
                seller_address: Vec::new(),
            },
        }
    }
}

/// Why the configuration could not be loaded. Each variant names where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{origin}: unknown key `{key}`")]
    UnknownKey { key: String, origin: Origin },
    #[error("{origin}: key `{key}`: {message}")]
    BadValue {
        key: String,
        origin: Origin,
        message: String,
    },
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::File(path) => write!(f, "configuration file {}", path.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
        }
    }
}

impl Config {
    /// Load the configuration the way `hotline` does: the file at `explicit` (which must exist),
    /// else `./hotline.toml` if it exists, then the process environment.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let default_file = Path::new(DEFAULT_FILE);
        let file = match explicit {
            Some(path) => Some(path),
            None if default_file.is_file() => Some(default_file),
            None => None,
        };
        Self::load_from(file, |var| std::env::var(var).ok())
    }

    /// Load from an optional file and an environment lookup (injected so tests need not touch
    /// the process environment, which is shared by all threads).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut tree = serde_json::to_value(Config::default())
            .map_err(|e| ConfigError::Invalid(vec![format!("built-in defaults: {e}")]))?;
        let mut sources: BTreeMap<String, Origin> = BTreeMap::new();

        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
                path: path.to_path_buf(),
                cause,
            })?;
            let overlay = parse_file(path, &text)?;
            let origin = Origin::File(path.to_path_buf());
            if let Value::Object(base) = &mut tree {
                merge(base, overlay, &mut Vec::new(), &origin, &mut sources)?;
            }
        }

        // Non-empty variables only: an empty one counts as unset.
        let env = |var: &str| env(var).filter(|value| !value.is_empty());
        apply_env(&mut tree, &mut Vec::new(), &env, &mut sources)?;
        // `DATABASE_URL` is the convention every tool knows; the namespaced variable, already
        // applied by the walk above, is more specific and wins.
        if !matches!(sources.get("database.url"), Some(Origin::Env(_))) {
            if let Some(url) = env(DATABASE_URL_VAR) {
                tree["database"]["url"] = Value::String(url);
                sources.insert("database.url".into(), Origin::Env(DATABASE_URL_VAR.into()));
            }
        }

        let config: Config = serde_path_to_error::deserialize(tree).map_err(|err| {
            let key = err.path().to_string();
            let origin = sources.get(&key).cloned().unwrap_or(Origin::Default);
            ConfigError::BadValue {
                key,
                origin,
                message: err.into_inner().to_string(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The database URL in force: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("hotline.db").display()
            ),
        }
    }

    /// The directory of the tenants' files: `files.dir`, or `files` in the data directory.
    pub fn files_dir(&self) -> PathBuf {
        self.files
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    /// A copy safe to show: the database URL resolved and its password masked, the JWT secret
    /// replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        shown.database.url = Some(hotline_core::db::redact_url(&self.database_url()));
        if shown.auth.jwt_secret.is_some() {
            shown.auth.jwt_secret = Some(REDACTED.into());
        }
        if shown.billing.stripe_secret_key.is_some() {
            shown.billing.stripe_secret_key = Some(REDACTED.into());
        }
        if shown.billing.stripe_webhook_secret.is_some() {
            shown.billing.stripe_webhook_secret = Some(REDACTED.into());
        }
        shown
    }

    /// The redacted configuration as a TOML document (what `hotline config` prints).
    pub fn to_redacted_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(&self.redacted())
    }

    /// The billing keys: usable Stripe settings (secrets are never echoed), a grace period
    /// billing accepts, a seller to print.
    fn validate_billing(&self, problem: &mut impl FnMut(&str, String)) {
        let billing = &self.billing;
        let unusable = |secret: &Option<String>| {
            secret
                .as_deref()
                .is_some_and(|s| s.is_empty() || s.trim() != s || s.contains(char::is_whitespace))
        };
        if unusable(&billing.stripe_secret_key) {
            problem(
                "billing.stripe_secret_key",
                "must not contain or be surrounded by whitespace".into(),
            );
        }
        if unusable(&billing.stripe_webhook_secret) {
            problem(
                "billing.stripe_webhook_secret",
                "must not contain or be surrounded by whitespace".into(),
            );
        }
        if billing.stripe_secret_key.is_none() {
            for (key, set) in [
                (
                    "billing.stripe_webhook_secret",
                    billing.stripe_webhook_secret.is_some(),
                ),
                ("billing.stripe_api_base", billing.stripe_api_base.is_some()),
            ] {
                if set {
                    problem(
                        key,
                        "has no effect without billing.stripe_secret_key".into(),
                    );
                }
            }
        }
        if let Some(base) = &billing.stripe_api_base {
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                problem(
                    "billing.stripe_api_base",
                    format!("{base:?} is not an http(s) URL"),
                );
            }
        }
        if billing.grace_period_hours > MAX_GRACE_PERIOD_HOURS {
            problem(
                "billing.grace_period_hours",
                format!(
                    "{} is more than {MAX_GRACE_PERIOD_HOURS} (31 days)",
                    billing.grace_period_hours
                ),
            );
        }
        if billing.seller_name.trim().is_empty() {
            problem(
                "billing.seller_name",
                "must name the firm issuing invoices".into(),
            );
        }
    }

    /// The registrar's keys: expiry bounds in order, algorithms it knows, non-zero limits.
    fn validate_registrar(&self, problem: &mut impl FnMut(&str, String)) {
        let sip = &self.sip;
        let (min, max, default) = (
            sip.register_min_expires,
            sip.register_max_expires,
            sip.register_default_expires,
        );
        if min == 0 {
            problem("sip.register_min_expires", "must be at least 1".into());
        }
        if min > max {
            problem(
                "sip.register_max_expires",
                format!("{max} is below sip.register_min_expires ({min})"),
            );
        } else if !(min..=max).contains(&default) {
            problem(
                "sip.register_default_expires",
                format!("{default} must be between {min} and {max}"),
            );
        }
        for (key, value) in [
            (
                "sip.register_max_contacts",
                sip.register_max_contacts as u64,
            ),
            ("sip.nonce_ttl_secs", sip.nonce_ttl_secs),
            ("sip.auth_failure_limit", u64::from(sip.auth_failure_limit)),
            ("sip.auth_failure_window_secs", sip.auth_failure_window_secs),
        ] {
            if value == 0 {
                problem(key, "must be at least 1".into());
            }
        }
        let mut seen: Vec<DigestAlgorithm> = Vec::new();
        for name in &sip.digest_algorithms {
            match DigestAlgorithm::parse(name) {
                None => problem(
                    "sip.digest_algorithms",
                    format!("{name:?} is not a digest algorithm; use \"SHA-256\" or \"MD5\""),
                ),
                Some(algorithm) if seen.contains(&algorithm) => {
                    problem("sip.digest_algorithms", format!("{name:?} is listed twice"))
                }
                Some(algorithm) => seen.push(algorithm),
            }
        }
        if sip.digest_algorithms.is_empty() {
            problem(
                "sip.digest_algorithms",
                "must name at least one algorithm".into(),
            );
        }
    }

    /// Check what types alone cannot; every problem is reported at once.
    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(format!("{key} ({}): {message}", env_var_for(key)));
        };

        if self.data_dir.as_os_str().is_empty() {
            problem("data_dir", "must not be empty".into());
        }
        if self
            .files
            .dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            problem(
                "files.dir",
                "must not be empty (leave it out for <data_dir>/files)".into(),
            );
        }
        if let Err(err) = hotline_core::Backend::from_url(&self.database_url()) {
            problem("database.url", err.to_string());
        }
        if self.http.listen.port() == self.sip.listen.port() {
            problem(
                "http.listen",
                format!(
                    "port {} is also sip.listen's port (SIP takes TCP too)",
                    self.http.listen.port()
                ),
            );
        }
        if !is_domain(&self.sip.domain_suffix) {
            problem(
                "sip.domain_suffix",
                format!(
                    "{:?} is not a DNS name (letters, digits, dashes, separated by dots)",
                    self.sip.domain_suffix
                ),
            );
        }
        self.validate_registrar(&mut problem);
        if self.rtp.listen.is_ipv6() {
            problem(
                "rtp.listen",
                "must be an IPv4 address (IPv6 media goes on rtp.listen_ipv6)".to_string(),
            );
        }
        if self.rtp.listen_ipv6.is_some_and(|ip| !ip.is_ipv6()) {
            problem("rtp.listen_ipv6", "must be an IPv6 address".to_string());
        }
        if !(1..=3600).contains(&self.rtp.media_timeout_secs) {
            problem(
                "rtp.media_timeout_secs",
                format!("{} must be 1 to 3600 seconds", self.rtp.media_timeout_secs),
            );
        }
        let (min, max) = (self.rtp.port_min, self.rtp.port_max);
        if min == 0 || min % 2 != 0 {
            problem(
                "rtp.port_min",
                format!("{min} must be a non-zero even port (RTP even, RTCP the odd one after)"),
            );
        }
        if min >= max {
            problem(
                "rtp.port_max",
                format!("{max} must be greater than rtp.port_min ({min})"),
            );
        } else if (min..=max).contains(&self.sip.listen.port()) {
            problem(
                "rtp.port_min",
                format!(
                    "the RTP range {min}-{max} contains the SIP port {}",
                    self.sip.listen.port()
                ),
            );
        }
        if let Some(secret) = &self.auth.jwt_secret {
            if secret.len() < MIN_JWT_SECRET_LEN {
                // Never echo the value: it is a secret even when it is a bad one.
                problem(
                    "auth.jwt_secret",
                    format!("must be at least {MIN_JWT_SECRET_LEN} bytes long"),
                );
            }
        }
        if self.auth.access_token_ttl_secs == 0 {
            problem("auth.access_token_ttl_secs", "must be at least 1".into());
        }
        if self.auth.refresh_token_ttl_secs <= self.auth.access_token_ttl_secs {
            problem(
                "auth.refresh_token_ttl_secs",
                format!(
                    "{} must be longer than auth.access_token_ttl_secs ({})",
                    self.auth.refresh_token_ttl_secs, self.auth.access_token_ttl_secs
                ),
            );
        }
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            problem("log.level", format!("{:?}: {err}", self.log.level));
        }
        self.validate_billing(&mut problem);

        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

/// The environment variable that overrides the key at dotted `path`.
pub fn env_var_for(path: &str) -> String {
    let mut var = String::from(ENV_PREFIX);
    for part in path.split('.') {
        var.push('_');
        var.push_str(&part.to_ascii_uppercase());
    }
    var
}

fn parse_file(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Syntax {
        path: path.to_path_buf(),
        // toml's message carries the line, the column and the offending snippet.
        message: err.to_string().trim_end().to_string(),
    })?;
    match serde_json::to_value(table) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(err) => Err(ConfigError::Syntax {
            path: path.to_path_buf(),
            message: err.to_string(),
        }),
    }
}

/// Overlay the table `overlay` onto the table `base`, refusing keys `base` does not have.
fn merge(
    base: &mut Map<String, Value>,
    overlay: Map<String, Value>,
    path: &mut Vec<String>,
    origin: &Origin,
    sources: &mut BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    for (key, value) in overlay {
        path.push(key);
        let dotted = path.join(".");
        let Some(slot) = path.last().and_then(|key| base.get_mut(key)) else {
            return Err(ConfigError::UnknownKey {
                key: dotted,
                origin: origin.clone(),
            });
        };
        match (slot, value) {
            (Value::Object(section), Value::Object(values)) => {
                merge(section, values, path, origin, sources)?;
            }
            (Value::Object(_), _) => {
                return Err(ConfigError::BadValue {
                    key: dotted,
                    origin: origin.clone(),
                    message: "expected a table ([section]), found a value".into(),
                });
            }
            // A table where a value belongs is left to deserialization, which names the
            // expected type.
            (slot, value) => {
                *slot = value;
                sources.insert(dotted, origin.clone());
            }
        }
        path.pop();
    }
    Ok(())
}

/// Walk every leaf and apply its `HOTLINE_...` variable, parsed to the leaf's current type.
fn apply_env(
    tree: &mut Value,
    path: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
    sources: &mut BTreeMap<String, Origin>,
) -> Result<(), ConfigError> {
    let Value::Object(map) = tree else {
        return Ok(());
    };
    for (key, value) in map.iter_mut() {
        path.push(key.clone());
        if value.is_object() {
            apply_env(value, path, env, sources)?;
        } else {
            let dotted = path.join(".");
            let var = env_var_for(&dotted);
            if let Some(raw) = env(&var) {
                *value = parse_env_value(value, &raw).map_err(|message| ConfigError::BadValue {
                    key: dotted.clone(),
                    origin: Origin::Env(var.clone()),
                    message,
                })?;
                sources.insert(dotted, Origin::Env(var));
            }
        }
        path.pop();
    }
    Ok(())
}

/// Parse a variable's text as the kind of value the leaf holds now (its default or file value).
fn parse_env_value(current: &Value, raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    match current {
        Value::Bool(_) => match trimmed {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, found {raw:?}")),
        },
        Value::Number(n) if n.is_f64() => trimmed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("expected a number, found {raw:?}")),
        Value::Number(_) => {
            if let Ok(n) = trimmed.parse::<u64>() {
                Ok(Value::from(n))
            } else if let Ok(n) = trimmed.parse::<i64>() {
                Ok(Value::from(n))
            } else {
                Err(format!("expected a whole number, found {raw:?}"))
            }
        }
        Value::Array(_) | Value::Object(_) => {
            // Lists are written as a TOML inline value: `["a", "b"]`.
            let wrapped: toml::Table = toml::from_str(&format!("v = {trimmed}")).map_err(|_| {
                format!("expected a TOML value such as [\"a\", \"b\"], found {raw:?}")
            })?;
            let mut json = serde_json::to_value(wrapped).map_err(|e| e.to_string())?;
            Ok(json.get_mut("v").map(Value::take).unwrap_or(Value::Null))
        }
        // Strings and optional values (null) take the text as it is.
        Value::String(_) | Value::Null => Ok(Value::String(raw.to_string())),
    }
}

fn is_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |var| map.get(var).cloned()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hotline.toml");
        std::fs::write(&path, text).expect("write config");
        (dir, path)
    }

    #[test]
    fn defaults_load_and_use_sqlite_in_the_data_dir() {
        let config = Config::load_from(None, env_of(&[])).expect("defaults are valid");
        assert_eq!(config, Config::default());
        assert_eq!(
            config.database_url(),
            "sqlite://./hotline-data/hotline.db?mode=rwc"
        );
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.sip.listen.to_string(), "0.0.0.0:5060");
        assert_eq!((config.rtp.port_min, config.rtp.port_max), (20000, 29999));
        assert_eq!(config.auth.refresh_token_ttl_secs, 2_592_000);
        assert_eq!(config.files_dir(), PathBuf::from("./hotline-data/files"));
    }

    #[test]
    fn the_files_directory_follows_the_data_directory_unless_set() {
        let moved = Config::load_from(None, env_of(&[("HOTLINE_DATA_DIR", "/var/lib/hotline")]))
            .expect("valid");
        assert_eq!(moved.files_dir(), PathBuf::from("/var/lib/hotline/files"));
        let (_dir, path) = file("[files]\ndir = \"/srv/hotline-files\"\n");
        let set = Config::load_from(Some(&path), env_of(&[])).expect("valid");
        assert_eq!(set.files_dir(), PathBuf::from("/srv/hotline-files"));
        let from_env =
            Config::load_from(None, env_of(&[("HOTLINE_FILES_DIR", "/mnt/files")])).expect("valid");
        assert_eq!(from_env.files_dir(), PathBuf::from("/mnt/files"));
        let (_dir, path) = file("[files]\ndir = \"\"\n");
        let err = Config::load_from(Some(&path), env_of(&[])).expect_err("empty");
        assert!(
            err.to_string().contains("files.dir (HOTLINE_FILES_DIR)"),
            "{err}"
        );
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let (_dir, path) = file(
            r#"
            data_dir = "/var/lib/hotline"
            [http]
            listen = "0.0.0.0:9000"
            [rtp]
            port_min = 30000
            port_max = 30999
            [log]
            format = "json"
            "#,
        );
        let config = Config::load_from(
            Some(&path),
            env_of(&[
                ("HOTLINE_HTTP_LISTEN", "127.0.0.1:9001"),
                ("HOTLINE_RTP_PORT_MAX", "31999"),
                (
                    "HOTLINE_AUTH_JWT_SECRET",
                    "0123456789abcdef0123456789abcdef",
                ),
                ("HOTLINE_LOG_LEVEL", "debug"),
            ]),
        )
        .expect("valid");
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/hotline"));
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:9001");
        assert_eq!((config.rtp.port_min, config.rtp.port_max), (30000, 31999));
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.log.level, "debug");
        assert_eq!(
            config.auth.jwt_secret.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            config.database_url(),
            "sqlite:///var/lib/hotline/hotline.db?mode=rwc"
        );
    }

    #[test]
    fn database_url_precedence() {
        let (_dir, path) = file("[database]\nurl = \"postgres://file@h/db\"\n");
        let from_file = Config::load_from(Some(&path), env_of(&[])).expect("valid");
        assert_eq!(from_file.database_url(), "postgres://file@h/db");

        let plain = Config::load_from(
            Some(&path),
            env_of(&[("DATABASE_URL", "postgres://plain@h/db")]),
        )
        .expect("valid");
        assert_eq!(plain.database_url(), "postgres://plain@h/db");

        let both = Config::load_from(
            Some(&path),
            env_of(&[
                ("DATABASE_URL", "postgres://plain@h/db"),
                ("HOTLINE_DATABASE_URL", "postgres://namespaced@h/db"),
            ]),
        )
        .expect("valid");
        assert_eq!(both.database_url(), "postgres://namespaced@h/db");

        let empty = Config::load_from(None, env_of(&[("DATABASE_URL", "")])).expect("valid");
        assert!(empty.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn unknown_key_is_named() {
        let (_dir, path) = file("[http]\nlisten = \"127.0.0.1:8080\"\nlisen = \"x\"\n");
        let err = Config::load_from(Some(&path), env_of(&[])).expect_err("unknown key");
        assert!(
            matches!(&err, ConfigError::UnknownKey { key, .. } if key == "http.lisen"),
            "{err}"
        );
        assert!(err.to_string().contains("http.lisen"), "{err}");

        let (_dir, path) = file("[smtp]\nhost = \"x\"\n");
        let err = Config::load_from(Some(&path), env_of(&[])).expect_err("unknown section");
        assert!(err.to_string().contains("unknown key `smtp`"), "{err}");
    }

    #[test]
    fn malformed_file_is_a_syntax_error_naming_the_file() {
        let (_dir, path) = file("[http\nlisten = ");
        let err = Config::load_from(Some(&path), env_of(&[])).expect_err("bad toml");
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("hotline.toml"), "{err}");
    }

    #[test]
    fn wrong_types_name_key_and_source() {
        let (_dir, path) = file("[rtp]\nport_min = \"low\"\n");
        let err = Config::load_from(Some(&path), env_of(&[])).expect_err("bad type");
        let text = err.to_string();
        assert!(
            text.contains("rtp.port_min") && text.contains("hotline.toml"),
            "{text}"
        );

        let err = Config::load_from(None, env_of(&[("HOTLINE_RTP_PORT_MIN", "abc")]))
            .expect_err("bad env");
        assert!(err.to_string().contains("HOTLINE_RTP_PORT_MIN"), "{err}");

        // Parses as a number but not as a port: reported by deserialization, still named.
        let err = Config::load_from(None, env_of(&[("HOTLINE_RTP_PORT_MIN", "70000")]))
            .expect_err("out of range");
        assert!(err.to_string().contains("HOTLINE_RTP_PORT_MIN"), "{err}");

        let err = Config::load_from(None, env_of(&[("HOTLINE_HTTP_LISTEN", "localhost")]))
            .expect_err("not a socket address");
        assert!(err.to_string().contains("HOTLINE_HTTP_LISTEN"), "{err}");
    }

    #[test]
    fn validation_reports_every_problem() {
        let err = Config::load_from(
            None,
            env_of(&[
                ("HOTLINE_RTP_PORT_MIN", "20001"),
                ("HOTLINE_RTP_PORT_MAX", "20000"),
                ("HOTLINE_AUTH_JWT_SECRET", "short-secret-value"),
                ("HOTLINE_SIP_DOMAIN_SUFFIX", "-bad..name"),
                ("HOTLINE_LOG_LEVEL", "=nonsense=["),
                ("DATABASE_URL", "mysql://x/y"),
            ]),
        )
        .expect_err("invalid");
        let text = err.to_string();
        for key in [
            "rtp.port_min",
            "rtp.port_max",
            "auth.jwt_secret",
            "sip.domain_suffix",
            "log.level",
            "database.url",
        ] {
            assert!(text.contains(key), "{key} missing from: {text}");
        }
        assert!(
            !text.contains("short-secret-value"),
            "secret echoed: {text}"
        );
    }

    #[test]
    fn rtp_range_must_not_contain_the_sip_port() {
        let err = Config::load_from(None, env_of(&[("HOTLINE_SIP_LISTEN", "0.0.0.0:25000")]))
            .expect_err("overlap");
        assert!(err.to_string().contains("SIP port 25000"), "{err}");
    }

    #[test]
    fn registrar_keys_are_checked_together() {
        let err = Config::load_from(
            None,
            env_of(&[
                ("HOTLINE_SIP_REGISTER_MIN_EXPIRES", "120"),
                ("HOTLINE_SIP_REGISTER_DEFAULT_EXPIRES", "60"),
                (
                    "HOTLINE_SIP_DIGEST_ALGORITHMS",
                    r#"["SHA-256", "MD5-sess", "sha-256"]"#,
                ),
                ("HOTLINE_SIP_AUTH_FAILURE_LIMIT", "0"),
            ]),
        )
        .expect_err("invalid registrar settings");
        let text = err.to_string();
        for needle in [
            "sip.register_default_expires (HOTLINE_SIP_REGISTER_DEFAULT_EXPIRES): 60 must be between 120 and 3600",
            "\"MD5-sess\" is not a digest algorithm",
            "\"sha-256\" is listed twice",
            "sip.auth_failure_limit (HOTLINE_SIP_AUTH_FAILURE_LIMIT): must be at least 1",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
        let md5_first = Config::load_from(
            None,
            env_of(&[("HOTLINE_SIP_DIGEST_ALGORITHMS", r#"["MD5", "SHA-256"]"#)]),
        )
        .expect("MD5 first is allowed");
        assert_eq!(md5_first.sip.digest_algorithms, vec!["MD5", "SHA-256"]);
    }

    #[test]
    fn redaction_hides_secrets_everywhere() {
        let config = Config::load_from(
            None,
            env_of(&[
                (
                    "HOTLINE_AUTH_JWT_SECRET",
                    "super-secret-super-secret-super-secret",
                ),
                (
                    "DATABASE_URL",
                    "postgres://hotline:pa55word@db:5432/hotline",
                ),
            ]),
        )
        .expect("valid");
        let shown = config.to_redacted_toml().expect("toml");
        assert!(shown.contains("jwt_secret = \"***\""), "{shown}");
        assert!(
            shown.contains("url = \"postgres://hotline:***@db:5432/hotline\""),
            "{shown}"
        );
        assert!(!shown.contains("super-secret") && !shown.contains("pa55word"));

        let debug = format!("{config:?}");
        assert!(
            !debug.contains("super-secret") && !debug.contains("pa55word"),
            "{debug}"
        );

        // The printed document is itself a loadable configuration file.
        let (_dir, path) = file(&shown.replace("\"***\"", "\"0123456789abcdef0123456789abcdef\""));
        Config::load_from(Some(&path), env_of(&[])).expect("printed config loads back");
    }

    #[test]
    fn stripe_secrets_are_redacted_and_billing_keys_checked() {
        let config = Config::load_from(
            None,
            env_of(&[
                ("HOTLINE_BILLING_STRIPE_SECRET_KEY", "sk_test_topsecret123"),
                ("HOTLINE_BILLING_STRIPE_WEBHOOK_SECRET", "whsec_hushhush456"),
                ("HOTLINE_BILLING_GRACE_PERIOD_HOURS", "48"),
                (
                    "HOTLINE_BILLING_SELLER_ADDRESS",
                    r#"["Main Street 1", "VAT SK2020123456"]"#,
                ),
            ]),
        )
        .expect("valid");
        assert_eq!(config.billing.grace_period_hours, 48);
        assert_eq!(config.billing.seller_address.len(), 2);
        let shown = config.to_redacted_toml().expect("toml");
        assert!(shown.contains("stripe_secret_key = \"***\""), "{shown}");
        assert!(shown.contains("stripe_webhook_secret = \"***\""), "{shown}");
        let debug = format!("{config:?}");
        for text in [&shown, &debug] {
            assert!(
                !text.contains("topsecret123") && !text.contains("hushhush456"),
                "{text}"
            );
        }

        let err = Config::load_from(
            None,
            env_of(&[
                ("HOTLINE_BILLING_STRIPE_WEBHOOK_SECRET", "whsec_orphan"),
                ("HOTLINE_BILLING_GRACE_PERIOD_HOURS", "745"),
                ("HOTLINE_BILLING_SELLER_NAME", " "),
            ]),
        )
        .expect_err("invalid billing keys");
        let text = err.to_string();
        for needle in [
            "billing.stripe_webhook_secret (HOTLINE_BILLING_STRIPE_WEBHOOK_SECRET): has no effect without billing.stripe_secret_key",
            "billing.grace_period_hours (HOTLINE_BILLING_GRACE_PERIOD_HOURS): 745 is more than 744",
            "billing.seller_name",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
        assert!(!text.contains("whsec_orphan"), "secret echoed: {text}");

        let err = Config::load_from(
            None,
            env_of(&[
                ("HOTLINE_BILLING_STRIPE_SECRET_KEY", "sk_test_x"),
                ("HOTLINE_BILLING_STRIPE_API_BASE", "stripe.local"),
            ]),
        )
        .expect_err("not a URL");
        assert!(err.to_string().contains("billing.stripe_api_base"), "{err}");
    }

    #[test]
    fn printed_default_shows_the_resolved_sqlite_url_and_no_secret() {
        let shown = Config::default().to_redacted_toml().expect("toml");
        assert!(
            shown.contains("url = \"sqlite://./hotline-data/hotline.db?mode=rwc\""),
            "{shown}"
        );
        assert!(!shown.contains("jwt_secret"), "{shown}");
    }

    /// Every leaf of the configuration, as dotted paths.
    fn leaf_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(map) = value {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                if child.is_object() {
                    leaf_paths(child, &path, out);
                } else {
                    out.push(path);
                }
            }
        }
    }

    #[test]
    fn example_file_and_docs_cover_every_key() {
        let example = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/hotline.example.toml"));
        let docs = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/configuration.md"
        ));
        // The example comments every key out as `#key = value`; uncommented it must load.
        let uncommented: String = example
            .lines()
            .map(|line| match line.strip_prefix('#') {
                Some(rest)
                    if rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty()
                            && k.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    }) =>
                {
                    rest
                }
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let (_dir, path) = file(&uncommented);
        Config::load_from(Some(&path), env_of(&[])).expect("the uncommented example loads");
        let table: toml::Table = toml::from_str(&uncommented).expect("example is TOML");
        let mut in_example = Vec::new();
        leaf_paths(
            &serde_json::to_value(table).expect("json"),
            "",
            &mut in_example,
        );

        let mut keys = Vec::new();
        leaf_paths(
            &serde_json::to_value(Config::default()).expect("json"),
            "",
            &mut keys,
        );
        for key in keys {
            assert!(
                in_example.contains(&key),
                "hotline.example.toml lacks {key}"
            );
            let row = format!("| `{key}` | `{}`", env_var_for(&key));
            assert!(
                docs.contains(&row),
                "docs/configuration.md lacks the row {row}"
            );
        }
    }

    #[test]
    fn env_names_follow_the_path() {
        assert_eq!(env_var_for("http.listen"), "HOTLINE_HTTP_LISTEN");
        assert_eq!(env_var_for("auth.jwt_secret"), "HOTLINE_AUTH_JWT_SECRET");
        assert_eq!(env_var_for("data_dir"), "HOTLINE_DATA_DIR");
    }
}
