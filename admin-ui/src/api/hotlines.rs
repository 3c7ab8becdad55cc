//! `/tenants/{tenant_id}/hotlines`: what a tenant's numbers lead to.

use hotline_core::ids::HotlineId;
use hotline_tenants::hotlines::HotlineSpec;
use hotline_tenants::rbac::Action;

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
}
