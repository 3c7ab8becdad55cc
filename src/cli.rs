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
