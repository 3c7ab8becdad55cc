//! `/tenants/{tenant_id}/prompts`: audio prompt metadata (the audio arrives with media).

use hotline_core::ids::PromptId;
use hotline_tenants::prompts::PromptSpec;
use hotline_tenants::rbac::Action;

crate::api::spec_resource::spec_resource! {
    spec: PromptSpec,
    id: PromptId,
    tag: "prompts",
    collection: "/api/v1/tenants/{tenant_id}/prompts",
    item: "/api/v1/tenants/{tenant_id}/prompts/{id}",
    read: Action::PromptRead,
    create: Action::PromptWrite,
    update: Action::PromptWrite,
    delete: Action::PromptWrite,
}
