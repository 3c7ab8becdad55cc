//! `/tenants/{tenant_id}/numbers`: the operator assigns and releases numbers; the tenant points
//! them at its hotlines.

use hotline_core::ids::NumberId;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::rbac::Action;

crate::api::spec_resource::spec_resource! {
    spec: NumberSpec,
    id: NumberId,
    tag: "numbers",
    collection: "/api/v1/tenants/{tenant_id}/numbers",
    item: "/api/v1/tenants/{tenant_id}/numbers/{id}",
    read: Action::NumberRead,
    create: Action::NumberAssign,
    update: Action::NumberRoute,
    delete: Action::NumberRelease,
}
