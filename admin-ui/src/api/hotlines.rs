//! `/tenants/{tenant_id}/hotlines`: what a tenant's numbers lead to.
//!
//! A hotline's `ivr_plugin` pins one version of an IVR plugin the tenant can see (its own or
//! the catalog's); a create or patch naming anything else is refused (422, `ivr_plugin`), so a
//! tenant can never pin, and so never run, another tenant's private plugin. Rollback is
//! re-pinning an older version.

use hotline_core::ids::HotlineId;
use hotline_plugins::registry::valid_name;
use hotline_plugins::World;
use hotline_tenants::hotlines::HotlineSpec;
use hotline_tenants::rbac::Action;
use hotline_tenants::FieldError;

use crate::problem::ApiError;

crate::api::spec_resource::spec_resource! {
    spec: HotlineSpec,
    id: HotlineId,
    tag: "hotlines",
    collection: "/api/v1/tenants/{tenant_id}/hotlines",
    item: "/api/v1/tenants/{tenant_id}/hotlines/{id}",
    read: Action::HotlineRead,
    create: Action::HotlineWrite,
    update: Action::HotlineWrite,
    delete: Action::HotlineWrite,
    check: pinned_plugin_is_usable,
}

/// A new or changed pin must name an IVR version the tenant can see. A pin left as it was is
/// not looked up again (versions are immutable and never removed); names and versions the
/// store itself refuses are left to its validation, which names them better.
async fn pinned_plugin_is_usable(
    state: &AppState,
    ctx: &TenantCtx,
    current: Option<&HotlineSpec>,
    spec: &HotlineSpec,
) -> ApiResult<()> {
    let Some(pin) = &spec.ivr_plugin else {
        return Ok(());
    };
    if current.is_some_and(|c| c.ivr_plugin.as_ref() == Some(pin))
        || !valid_name(&pin.plugin)
        || pin.version == 0
    {
        return Ok(());
    }
    let refused = |message: String| ApiError {
        errors: vec![FieldError {
            field: "ivr_plugin".into(),
            message: message.clone(),
        }],
        ..ApiError::unprocessable(message)
    };
    match state
        .plugins()?
        .registry()
        .visible(&ctx.scope, &pin.plugin, pin.version)
        .await?
    {
        None => Err(refused(format!(
            "this tenant has no plugin {:?} version {} (neither its own nor in the platform catalog); upload it first, or pin a version listed under /plugins",
            pin.plugin, pin.version
        ))),
        Some(info) if info.world != World::Ivr => Err(refused(format!(
            "plugin {:?} is an agent script ({}); a hotline's ivr_plugin must be an IVR plugin ({})",
            pin.plugin,
            info.world,
            World::Ivr
        ))),
        Some(_) => Ok(()),
    }
}
