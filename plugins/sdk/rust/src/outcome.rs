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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallError, HttpError, KvError};

    #[test]
    fn errors_escaping_a_handler_end_the_call_the_right_way() {
        let ended = |r: Result<Outcome, Error>| r.into_outcome();
        assert_eq!(ended(Err(CallError::HungUp.into())), Outcome::CallerHungUp);
        assert_eq!(ended(Err(CallError::HandedOff.into())), Outcome::Operator);
        assert_eq!(
            ended(Err(CallError::UnknownQueue("sales".into()).into())),
            Outcome::Fallback("call: unknown queue sales".into())
        );
        assert_eq!(
            ended(Err(Error::plugin("the CRM answered 500"))),
            Outcome::Fallback("the CRM answered 500".into())
        );
        assert_eq!(ended(Ok(Outcome::SelfServed)), Outcome::SelfServed);
    }

    /// The texts the Python and JavaScript SDKs repeat word for word (see their _errors.py and
    /// errors.js): a plugin's fallback reason reads the same in every language.
    #[test]
    fn error_messages_are_the_cross_language_contract() {
        let cases: Vec<(Error, &str)> = vec![
            (
                CallError::QueueRefused("full".into()).into(),
                "call: queue refused the call: full",
            ),
            (
                KvError::NotANumber.into(),
                "kv: the stored value is not a number",
            ),
            (
                KvError::InvalidKey("a key is 1 to 256 bytes".into()).into(),
                "kv: invalid key: a key is 1 to 256 bytes",
            ),
            (HttpError::Timeout.into(), "http: timeout"),
            (
                HttpError::HostNotAllowed("crm.example.com".into()).into(),
                "http: host crm.example.com is not on the tenant's allowlist",
            ),
            (
                crate::LogError::TooLong(2048).into(),
                "log: line longer than 2048 bytes",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
