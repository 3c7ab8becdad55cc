//! `/tenants/{tenant_id}/queues`: ACD queue configuration. Memberships are in `members`.

use hotline_core::ids::QueueId;
use hotline_tenants::queues::QueueSpec;
use hotline_tenants::rbac::Action;

crate::api::spec_resource::spec_resource! {
    spec: QueueSpec,
    id: QueueId,
    tag: "queues",
    collection: "/api/v1/tenants/{tenant_id}/queues",
    item: "/api/v1/tenants/{tenant_id}/queues/{id}",
    read: Action::QueueRead,
    create: Action::QueueWrite,
    update: Action::QueueWrite,
    delete: Action::QueueWrite,
}
