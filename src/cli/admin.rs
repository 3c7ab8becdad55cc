//! `hotline admin ...`: administering the platform operator's own accounts from the host.
//!
//! A password given in `HOTLINE_BOOTSTRAP_PASSWORD` is never printed (the operator knows it); a
//! generated one is printed exactly once, on standard output, and never logged.

use anyhow::{Context, Result};
use hotline_tenants::{Store, StoreConfig, StoreError};
use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::config::Config;

/// Where `admin bootstrap` takes the password from.
pub const PASSWORD_VAR: &str = "HOTLINE_BOOTSTRAP_PASSWORD";

/// Length of a generated password: 24 alphanumerics, about 142 bits.
const GENERATED_PASSWORD_LEN: usize = 24;

pub async fn bootstrap(config: &Config, email: &str) -> Result<()> {
    let (password, generated) = match std::env::var(PASSWORD_VAR) {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (generate_password(), true),
    };

    let db = crate::database::connect_and_migrate(config).await?;
    let store = Store::new(
        db.clone(),
        StoreConfig {
            sip_domain_suffix: config.sip.domain_suffix.clone(),
        },
    );
    let result = store.bootstrap_platform_admin(email, &password).await;
    db.close().await;
    match result {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            anyhow::bail!("a user with the email {email:?} exists already; nothing was changed")
        }
        Err(err) => {
            return Err(err).with_context(|| format!("cannot create platform admin {email:?}"))
        }
    }

    println!("Created platform admin {email}.");
    if generated {
        println!("Password (shown only this once; store it now): {password}");
    } else {
        println!("Password: the one given in {PASSWORD_VAR}.");
    }
    println!();
    println!("Log in (with `hotline serve` running) with:");
    let shown_password = generated.then_some(password.as_str());
    println!(
        "  {}",
        crate::serve::login_command(config, email, shown_password, None)
    );
    Ok(())
}

fn generate_password() -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(GENERATED_PASSWORD_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), GENERATED_PASSWORD_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
