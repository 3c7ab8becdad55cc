//! Roles and the one table that decides every action.
//!
//! Every API handler names the `Action` it performs and asks [`permits`]; there is no other
//! place where a role is compared. Tenant roles act only inside their own tenant (the scope
//! comes from their credentials); `platform-admin` belongs to the operator and may act in any
//! tenant.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The outsourcing firm's administrator: tenants, numbers, firm agents, everything.
    PlatformAdmin,
    /// A client company's administrator: its hotlines, queues, own agents, users, keys.
    TenantAdmin,
    /// Watches queues and agents, changes queue memberships.
    Supervisor,
    /// Answers calls; reads what a call needs.
    Agent,
    /// Writes IVR and script plugins; reads the configuration they refer to.
    PluginAuthor,
    /// Reads usage and invoices.
    BillingViewer,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::PlatformAdmin,
        Role::TenantAdmin,
        Role::Supervisor,
        Role::Agent,
        Role::PluginAuthor,
        Role::BillingViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform-admin",
            Role::TenantAdmin => "tenant-admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
            Role::PluginAuthor => "plugin-author",
            Role::BillingViewer => "billing-viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Does this role belong to the operator rather than to a tenant?
    pub fn is_platform(self) -> bool {
        self == Role::PlatformAdmin
    }
}

/// Everything the API lets someone do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    // Operator-only.
    TenantCreate,
    TenantUpdate,
    TenantList,
    NumberAssign,
    NumberRelease,
    FirmAgentManage,
    PlatformUserManage,
    PlatformAuditRead,
    /// Carrier trunks: their addresses and the credentials sent to providers.
    TrunkManage,
    /// Tariffs and their versions: the prices every contract bills by.
    TariffManage,
    /// Billing accounts, contracts, closing periods, finalizing, voiding, credit notes, and the
    /// firm's revenue across tenants.
    BillingManage,
    /// Upload versions into the platform's plugin catalog (every tenant may use them).
    PluginCatalogManage,
    // Inside a tenant.
    TenantRead,
    NumberRead,
    /// Point a number at a hotline, relabel it.
    NumberRoute,
    HotlineRead,
    HotlineWrite,
    QueueRead,
    QueueWrite,
    QueueMembersWrite,
    AgentRead,
    AgentWrite,
    PromptRead,
    PromptWrite,
    UserRead,
    UserWrite,
    ApiKeyManage,
    AuditRead,
    /// The tenant's call history (caller numbers included).
    CallHistoryRead,
    /// Play or download a call's recording (what was said: card numbers, health data).
    RecordingListen,
    /// The tenant's usage, invoices, credit notes, billing account and contract.
    BillingRead,
    /// The tenant's plugins and the platform's catalog, their versions, the plugin settings.
    PluginRead,
    /// Upload a version of one of the tenant's plugins.
    PluginUpload,
    /// The tenant's plugin log (why a plugin failed, what it logged; may name callers).
    PluginLogRead,
    /// The tenant's plugin settings: which hosts its plugins may reach.
    PluginSettingsWrite,
}

use Action::*;
use Role::*;

/// The RBAC table: which role may do what. `PlatformAdmin` may do everything.
const TABLE: &[(Role, &[Action])] = &[
    (
        TenantAdmin,
        &[
            TenantRead,
            NumberRead,
            NumberRoute,
            HotlineRead,
            HotlineWrite,
            QueueRead,
            QueueWrite,
            QueueMembersWrite,
            AgentRead,
            AgentWrite,
            PromptRead,
            PromptWrite,
            UserRead,
            UserWrite,
            ApiKeyManage,
            AuditRead,
            CallHistoryRead,
            RecordingListen,
            BillingRead,
            PluginRead,
            PluginUpload,
            PluginLogRead,
            PluginSettingsWrite,
        ],
    ),
    (
        Supervisor,
        &[
            TenantRead,
            NumberRead,
            HotlineRead,
            QueueRead,
            QueueMembersWrite,
            AgentRead,
            PromptRead,
            UserRead,
            CallHistoryRead,
            PluginLogRead,
            RecordingListen,
        ],
    ),
    (Agent, &[TenantRead, QueueRead, PromptRead]),
    (
        PluginAuthor,
        &[
            TenantRead,
            NumberRead,
            HotlineRead,
            QueueRead,
            PromptRead,
            PromptWrite,
            PluginRead,
            PluginUpload,
            PluginLogRead,
        ],
    ),
    (BillingViewer, &[TenantRead, NumberRead, BillingRead]),
];

/// May `role` perform `action`?
pub fn permits(role: Role, action: Action) -> bool {
    if role == PlatformAdmin {
        return true;
    }
    TABLE
        .iter()
        .find(|(r, _)| *r == role)
        .is_some_and(|(_, actions)| actions.contains(&action))
}

/// The roles a holder of `role` may hand out (to users or API keys) in its own tenant.
pub fn may_grant(granter: Role, granted: Role) -> bool {
    match granter {
        PlatformAdmin => true,
        TenantAdmin => !granted.is_platform(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_only_actions_stay_with_the_operator() {
        for role in Role::ALL.into_iter().filter(|r| !r.is_platform()) {
            for action in [
                TenantCreate,
                TenantUpdate,
                TenantList,
                NumberAssign,
                NumberRelease,
                FirmAgentManage,
                PlatformUserManage,
                PlatformAuditRead,
                TrunkManage,
                TariffManage,
                BillingManage,
                PluginCatalogManage,
            ] {
                assert!(!permits(role, action), "{role:?} must not {action:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn billing_is_read_by_tenant_admins_and_billing_viewers_only() {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| permits(*role, BillingRead))
            .collect();
        assert_eq!(readers, vec![PlatformAdmin, TenantAdmin, BillingViewer]);
    }

    #[test]
    fn plugins_are_uploaded_by_plugin_authors_and_admins_only() {
        let uploaders: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| permits(*role, PluginUpload))
            .collect();
        assert_eq!(uploaders, vec![PlatformAdmin, TenantAdmin, PluginAuthor]);
        let allowlisters: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| permits(*role, PluginSettingsWrite))
            .collect();
        assert_eq!(allowlisters, vec![PlatformAdmin, TenantAdmin]);
    }

    #[test]
    fn recordings_are_heard_by_admins_and_supervisors_only() {
        let listeners: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| permits(*role, RecordingListen))
            .collect();
        assert_eq!(listeners, vec![PlatformAdmin, TenantAdmin, Supervisor]);
    }

    #[test]
    fn only_admins_grant_and_never_platform_admin_from_a_tenant() {
        assert!(may_grant(TenantAdmin, Supervisor));
        assert!(!may_grant(TenantAdmin, PlatformAdmin));
        assert!(!may_grant(Supervisor, Agent));
    }
}
