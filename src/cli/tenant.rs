//! `hotline tenant ...`: creating and listing tenants as the local operator, through the same
//! store functions as the REST API, so the command line never skips the store's validation or
//! the audit log (changes are recorded as made by `cli:<user>`).

use anyhow::{Context, Result};
use hotline_core::PlatformScope;
use hotline_tenants::audit::Actor;
use hotline_tenants::tenants::{Tenant, TenantLimits, TenantSpec, TenantStatus};
use hotline_tenants::{PageRequest, Store, StoreConfig};

use crate::cli::TenantCreateArgs;
use crate::config::Config;

async fn open_store(config: &Config) -> Result<Store> {
    let db = crate::database::connect_and_migrate(config).await?;
    Ok(Store::new(
        db,
        StoreConfig {
            sip_domain_suffix: config.sip.domain_suffix.clone(),
        },
    ))
}

pub async fn create(config: &Config, args: TenantCreateArgs) -> Result<()> {
    let defaults = TenantLimits::default();
    let spec = TenantSpec {
        slug: args.slug,
        name: args.name,
        status: if args.suspended {
            TenantStatus::Suspended
        } else {
            TenantStatus::Active
        },
        time_zone: args.time_zone,
        limits: TenantLimits {
            max_concurrent_calls: args
                .max_concurrent_calls
                .unwrap_or(defaults.max_concurrent_calls),
            max_calls_per_second: args
                .max_calls_per_second
                .unwrap_or(defaults.max_calls_per_second),
            plugin_cpu_ms_per_call: args
                .plugin_cpu_ms_per_call
                .unwrap_or(defaults.plugin_cpu_ms_per_call),
        },
    };
    let slug = spec.slug.clone();
    let store = open_store(config).await?;
    let result = store
        .create_tenant(&Actor::cli(), &PlatformScope::from_verified(), spec)
        .await;
    store.db().close().await;
    let tenant = result.with_context(|| format!("cannot create tenant {slug:?}"))?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&tenant)?);
    } else {
        println!(
            "Created tenant {} ({}), id {}, SIP domain {}.",
            tenant.spec.slug, tenant.spec.name, tenant.id, tenant.sip_domain
        );
    }
    Ok(())
}

pub async fn list(config: &Config, json: bool) -> Result<()> {
    let store = open_store(config).await?;
    let result = all_tenants(&store).await;
    store.db().close().await;
    let tenants = result.context("cannot list tenants")?;

    if json {
        println!("{}", serde_json::to_string_pretty(&tenants)?);
    } else {
        print!("{}", table(&tenants));
    }
    Ok(())
}

async fn all_tenants(store: &Store) -> Result<Vec<Tenant>> {
    let scope = PlatformScope::from_verified();
    let mut tenants = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let batch = store.list_tenants(&scope, &page).await?;
        tenants.extend(batch.items);
        match batch.next {
            Some(after) => page.after = Some(after),
            None => return Ok(tenants),
        }
    }
}

/// A plain aligned table, one tenant a line (no borders: it must stay greppable).
fn table(tenants: &[Tenant]) -> String {
    if tenants.is_empty() {
        return "No tenants yet. Create one with: hotline tenant create --slug SLUG --name NAME --time-zone ZONE\n".into();
    }
    let header = ["SLUG", "NAME", "STATUS", "TIME ZONE", "SIP DOMAIN", "ID"];
    let rows: Vec<[String; 6]> = tenants
        .iter()
        .map(|t| {
            [
                t.spec.slug.clone(),
                t.spec.name.clone(),
                match t.spec.status {
                    TenantStatus::Active => "active".into(),
                    TenantStatus::Suspended => "suspended".into(),
                },
                t.spec.time_zone.clone(),
                t.sip_domain.clone(),
                t.id.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}
