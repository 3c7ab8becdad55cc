//! Typed identifiers of billing's own rows (accounts, contracts, invoices, lines, credit notes,
//! outbox rows). Like the ids in `hotline_core::ids` they are UUIDv7 strings made by the
//! application, so they sort by creation time and one set of queries serves both backends, and
//! an invoice id can never be passed where a line id is meant.
//!
//! Plain data: this module must never touch the database.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! billing_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
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

billing_id!(
    /// A tenant's billing account: who is invoiced, in which currency and zone.
    AccountId
);
billing_id!(
    /// A tenant's contract: which tariff it is billed under, from when.
    ContractId
);
billing_id!(
    /// One invoice: one tenant, one billing period.
    InvoiceId
);
billing_id!(
    /// One line of a finalized invoice (also the tax item sent to the payment provider).
    LineId
);
billing_id!(
    /// A credit note against a finalized invoice.
    CreditNoteId
);
billing_id!(
    /// One unit of work for the payment provider in the outbox.
    OutboxId
);
billing_id!(
    /// One interval during which a tenant held a seat or a number.
    OwnershipId
);
