//! Typed identifiers. Every id is a UUIDv7 made by the application (never by the database), so
//! one set of queries serves SQLite and PostgreSQL, ids sort by creation time (cursor
//! pagination relies on that), and a `TenantId` can never be passed where a `HotlineId` is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The text form stored in the database.
            pub fn to_db(self) -> String {
                self.0.to_string()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A client company served by the installation.
    TenantId
);
typed_id!(
    /// A person who logs in (platform admin, tenant admin, supervisor, agent, ...).
    UserId
);
typed_id!(
    /// A phone number (E.164) owned by a tenant.
    NumberId
);
typed_id!(
    /// A tenant's hotline: schedule, IVR and fallback for the numbers pointing at it.
    HotlineId
);
typed_id!(
    /// An ACD queue of a tenant.
    QueueId
);
typed_id!(
    /// An operator who answers calls on a SIP phone.
    AgentId
);
typed_id!(
    /// An audio prompt's metadata.
    PromptId
);
typed_id!(
    /// A machine credential scoped to a tenant and a role.
    ApiKeyId
);
typed_id!(
    /// One entry of the configuration audit log.
    AuditId
);

typed_id!(
    /// One call through Hotline, from the first INVITE to the final record. Billing is idempotent on it.
    CallId
);
typed_id!(
    /// A carrier trunk configured by the platform operator.
    TrunkId
);

/// What the generic stores need of a typed id.
pub trait TypedId:
    Copy
    + fmt::Display
    + fmt::Debug
    + PartialEq
    + Eq
    + Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    fn from_uuid(uuid: Uuid) -> Self;
    fn uuid(self) -> Uuid;
}

macro_rules! impl_typed_id {
    ($($name:ident),*) => {$(
        impl TypedId for $name {
            fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            fn uuid(self) -> Uuid {
                self.0
            }
        }
    )*};
}

impl_typed_id!(
    TenantId, UserId, NumberId, HotlineId, QueueId, AgentId, PromptId, ApiKeyId, AuditId, CallId,
    TrunkId
);
