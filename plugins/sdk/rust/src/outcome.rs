//! How an IVR handler's return value becomes the call's outcome. A handler may return an
//! [`Outcome`] or a [`Result<Outcome>`](crate::Result); an error that escapes with `?` is not a
//! crash: a hung-up caller is `caller-hung-up`, a call already handed off is `operator`, and
//! anything else is `fallback` with the error as the reason (the tenant's plugin log shows it).

pub use crate::bindings::wit_types::Outcome;
use crate::Error;

impl Outcome {
    /// Give up on the call: the hotline's fallback (its fallback queue or closed message)
    /// takes it, and `reason` goes to the plugin log and the call record.
    pub fn fallback(reason: impl Into<String>) -> Self {
        Outcome::Fallback(reason.into())
    }
}

/// What an IVR handler may return.
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

impl IntoOutcome for Result<Outcome, Error> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(outcome) => outcome,
            Err(e) => Outcome::from(e),
        }
    }
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        if e.is_hung_up() {
            Outcome::CallerHungUp
        } else if e.is_handed_off() {
            Outcome::Operator
        } else {
            Outcome::Fallback(e.to_string())
        }
    }
}
