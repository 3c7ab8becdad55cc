//! The `hotline` command line: argument parsing (clap derive, `--help` on every command) and the
//! dispatch from a parsed command to the code that carries it out.
//!
//! Every command loads the configuration the same way (defaults <- file <- environment <- global
//! flags) before it does anything else, so `hotline config` shows exactly what `serve` and the
//! administrative commands use. Administrative commands act as the local operator
//! ([`Actor::cli`](hotline_tenants::audit::Actor::cli)): whoever can run `hotline` on the host
//! owns the installation. Commands print their answer on standard output and logs on standard
//! error; they never print a secret except the one-time bootstrap password they generated.

mod admin;
mod billing;
mod plugin;
mod plugin_new;
mod tenant;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogFormat};

/// Hotline: a multi-tenant call-center platform.
///
/// Configuration comes from built-in defaults, then `hotline.toml` (the `--config` file, or
/// `./hotline.toml` when present), then environment variables `HOTLINE_<SECTION>_<KEY>` and
/// `DATABASE_URL`. `hotline config` prints the result.
#[derive(Debug, Parser)]
#[command(name = "hotline", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file [default: ./hotline.toml if it exists]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "HOTLINE_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Log format on standard error; overrides `log.format`
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (and, as they land, SIP and media) until Ctrl-C or SIGTERM.
    ///
    /// Applies pending database migrations first.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the effective configuration as TOML, secrets redacted.
    Config,
    /// Manage the platform operator's administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage tenants (the client companies this installation serves).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Run billing by hand: close periods, check invoices against their recomputation, list
    /// invoices.
    #[command(subcommand)]
    Billing(BillingCommand),
    /// Test IVR plugins offline, upload versions, scaffold projects.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run a call against an IVR plugin in the simulator and print its transcript, or check a
    /// scenario file case by case (exit 1 on a mismatch, 2 when unusable).
    Test(PluginTestArgs),
    /// Upload a component as the next version of a plugin: into the local database (as the
    /// operator on this host), or with --server over a server's API; into a tenant with
    /// --tenant, else the platform catalog.
    Upload(PluginUploadArgs),
    /// Scaffold a plugin project that builds with one command.
    New {
        /// rust, python or js
        #[arg(long, default_value = "rust")]
        lang: String,
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct PluginTestArgs {
    /// The component (.wasm)
    pub plugin: PathBuf,
    /// The caller's number, E.164 (or "anonymous")
    #[arg(long)]
    pub caller: Option<String>,
    /// The number dialed, E.164
    #[arg(long)]
    pub dialed: Option<String>,
    /// The caller's keys in order; "." is silence for one attempt
    #[arg(long)]
    pub digits: Option<String>,
    /// Tenant-local start of the call, YYYY-MM-DDTHH:MM[:SS]
    #[arg(long)]
    pub at: Option<String>,
    /// The tenant's time zone (IANA) [default: UTC]
    #[arg(long)]
    pub time_zone: Option<String>,
    /// The hotline's prompt language
    #[arg(long)]
    pub language: Option<String>,
    /// A scenario file (TOML) with cases and their expectations
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Run only the case of this name
    #[arg(long)]
    pub case: Option<String>,
    /// Print the transcript of passing cases too
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct PluginUploadArgs {
    /// The component (.wasm)
    pub plugin: PathBuf,
    /// The plugin's name (a-z, 0-9, -)
    #[arg(long)]
    pub name: String,
    /// The tenant (id or slug; with --server, its id) that owns it; without, the platform
    /// catalog
    #[arg(long)]
    pub tenant: Option<String>,
    /// Who made it (local uploads; over the API the token's owner is the author)
    #[arg(long)]
    pub author: Option<String>,
    /// What changed in this version
    #[arg(long)]
    pub notes: Option<String>,
    /// Upload over the REST API of the server at this URL (http://host:port) instead of into
    /// the local database
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// With --server: an access token or API key of a plugin author or admin
    #[arg(long, env = "HOTLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// Finalize billing periods that have ended.
    ///
    /// With --all: what `hotline serve` does every few minutes, for every tenant — make missing
    /// invoices, start the grace period of ended ones, finalize those whose grace is over. With
    /// --tenant: finalize that tenant's ended periods, oldest first, stopping at one whose grace
    /// period is still running (unless --skip-grace). Finalized invoices are sent to Stripe by
    /// `hotline serve` when a Stripe key is configured.
    ClosePeriod(ClosePeriodArgs),
    /// Recompute a finalized invoice from its stored usage and tariff versions and show every
    /// line that differs (a dry run: nothing is written).
    ///
    /// Exits 0 when the invoice matches its recomputation to the minor unit, 1 when it does not.
    /// For a period still open it shows what finalizing now would bill.
    Rerate {
        /// The tenant, by slug or id
        #[arg(long)]
        tenant: String,
        /// The billing period starting in this month (YYYY-MM), or on this date (YYYY-MM-DD)
        #[arg(long)]
        period: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's invoices, newest period first.
    Invoices {
        /// The tenant, by slug or id
        #[arg(long)]
        tenant: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["tenant", "all"])))]
pub struct ClosePeriodArgs {
    /// Only this tenant, by slug or id
    #[arg(long)]
    pub tenant: Option<String>,
    /// Every tenant
    #[arg(long)]
    pub all: bool,
    /// Close as of this moment instead of now: YYYY-MM-DD (midnight UTC) or an RFC 3339 time;
    /// never in the future
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// With --tenant: finalize ended periods even while their grace period for late call
    /// records is running (late records then land on the next invoice)
    #[arg(long, conflicts_with = "all")]
    pub skip_grace: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform administrator, normally the first one after installing.
    ///
    /// The password is taken from HOTLINE_BOOTSTRAP_PASSWORD; when that is not set, a strong
    /// random password is generated and printed once. Fails if the email is taken. Running it
    /// again with another email adds another administrator (the way back in when every
    /// administrator's password is lost).
    Bootstrap {
        /// Email address the administrator logs in with
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create(TenantCreateArgs),
    /// List all tenants.
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct TenantCreateArgs {
    /// Short name: 3-40 lowercase letters, digits and dashes; names the tenant's SIP domain and
    /// can never change
    #[arg(long)]
    pub slug: String,
    /// Display name
    #[arg(long)]
    pub name: String,
    /// IANA time zone for opening hours and reports, e.g. Europe/Bratislava
    #[arg(long)]
    pub time_zone: String,
    /// Calls the tenant may have in progress at once [default: 30]
    #[arg(long)]
    pub max_concurrent_calls: Option<u32>,
    /// New calls per second the tenant may receive [default: 5]
    #[arg(long)]
    pub max_calls_per_second: Option<u32>,
    /// CPU milliseconds the tenant's IVR plugin may use per call [default: 200]
    #[arg(long)]
    pub plugin_cpu_ms_per_call: Option<u32>,
    /// Create the tenant suspended (calls refused until it is activated)
    #[arg(long)]
    pub suspended: bool,
    /// Print the created tenant as JSON
    #[arg(long)]
    pub json: bool,
}

/// Load the configuration `cli` asks for, with its flags applied on top.
pub fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        config.log.format = format;
    }
    Ok(config)
}

/// Carry out the parsed command.
pub async fn run(cli: Cli) -> Result<()> {
    let config = load_config(&cli)?;
    crate::logging::init(&config)?;
    match cli.command {
        Command::Serve => crate::serve::run(&config, cli.config.as_deref()).await,
        Command::Migrate => migrate(&config).await,
        Command::Config => {
            let shown = config
                .to_redacted_toml()
                .context("cannot print the configuration")?;
            print!("{}", config_header(&config, cli.config.as_deref()));
            print!("{shown}");
            Ok(())
        }
        Command::Admin(AdminCommand::Bootstrap { email }) => {
            admin::bootstrap(&config, &email).await
        }
        Command::Tenant(TenantCommand::Create(args)) => tenant::create(&config, args).await,
        Command::Tenant(TenantCommand::List { json }) => tenant::list(&config, json).await,
        Command::Billing(BillingCommand::ClosePeriod(args)) => {
            billing::close_period(&config, args).await
        }
        Command::Billing(BillingCommand::Rerate {
            tenant,
            period,
            json,
        }) => billing::rerate(&config, &tenant, &period, json).await,
        Command::Plugin(PluginCommand::Test(args)) => {
            let status = plugin::test(args).await?;
            if status != 0 {
                std::process::exit(i32::from(status));
            }
            Ok(())
        }
        Command::Plugin(PluginCommand::Upload(args)) => plugin::upload(&config, args).await,
        Command::Plugin(PluginCommand::New { lang, name }) => plugin_new::run(&lang, &name),
        Command::Billing(BillingCommand::Invoices { tenant, json }) => {
            billing::invoices(&config, &tenant, json).await
        }
    }
}

/// Comment lines above the printed configuration: where it came from, and what is not shown.
fn config_header(config: &Config, file: Option<&std::path::Path>) -> String {
    let file = match file {
        Some(path) => path.display().to_string(),
        None if std::path::Path::new(crate::config::DEFAULT_FILE).is_file() => {
            format!("./{}", crate::config::DEFAULT_FILE)
        }
        None => "none".into(),
    };
    let mut header = format!(
        "# Effective Hotline configuration: defaults <- file ({file}) <- environment.\n\
         # Secrets are shown as \"{}\".\n",
        crate::config::REDACTED
    );
    if config.auth.jwt_secret.is_none() {
        header.push_str(&format!(
            "# auth.jwt_secret is not set: tokens are signed with the key in {}.\n",
            config
                .data_dir
                .join(crate::data_dir::JWT_KEY_FILE)
                .display()
        ));
    }
    header.push('\n');
    header
}

async fn migrate(config: &Config) -> Result<()> {
    let db = crate::database::connect(config).await?;
    let applied = db.migrate().await.context("migration failed")?;
    println!(
        "{} database {}: {applied} migration(s) applied, schema up to date",
        db.backend().name(),
        hotline_core::db::redact_url(&config.database_url())
    );
    db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn close_period_names_its_tenants() {
        assert!(Cli::try_parse_from(["hotline", "billing", "close-period"]).is_err());
        assert!(Cli::try_parse_from([
            "hotline",
            "billing",
            "close-period",
            "--all",
            "--tenant",
            "a"
        ])
        .is_err());
        assert!(Cli::try_parse_from([
            "hotline",
            "billing",
            "close-period",
            "--all",
            "--skip-grace"
        ])
        .is_err());
        let cli = Cli::try_parse_from([
            "hotline",
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2026-04-01",
        ])
        .expect("parses");
        match cli.command {
            Command::Billing(BillingCommand::ClosePeriod(args)) => {
                assert_eq!(args.tenant.as_deref(), Some("acme"));
                assert_eq!(args.at.as_deref(), Some("2026-04-01"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from([
            "hotline",
            "tenant",
            "list",
            "--log-format",
            "json",
            "--config",
            "x.toml",
        ])
        .expect("parses");
        assert_eq!(cli.log_format, Some(LogFormat::Json));
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));
    }
}
