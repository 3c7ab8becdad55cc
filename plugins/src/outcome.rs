//! How an IVR run ends: the guest's returned outcome checked against what happened to the call
//! (hang-up, hand-off), or the fault that stopped it, decided into the call record's
//! [`IvrOutcome`] and whether the hotline's fallback must take the call.
//!
//! Pure: no store, no guest. A guest that trapped, ran out of budget or returned an outcome the
//! call contradicts must never leave the caller on a dead line: it always ends in the fallback
//! unless the call is already gone or with a person.

use hotline_core::call::IvrOutcome;

use crate::bindings::ivr::hotline::plugin::types::Outcome;
use crate::host::state::CallProgress;

/// The longest fallback reason kept from a guest.
pub const MAX_REASON_BYTES: usize = 512;

/// The decision on a finished run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub outcome: IvrOutcome,
    /// `Some(reason)`: the hotline's fallback (its fallback queue or closed message) takes the
    /// call; the reason is in the tenant's plugin log.
    pub fallback: Option<String>,
    /// The plugin served the caller but left the call up: the engine hangs up.
    pub hang_up: bool,
    /// A failure to log even though the call needs no fallback (the caller was already gone
    /// or with a person).
    pub failure: Option<String>,
}

fn cut(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_string();
    }
    let mut end = MAX_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &reason[..end])
}

fn fallback(reason: String) -> Decision {
    Decision {
        outcome: IvrOutcome::Failed {
            reason: reason.clone(),
        },
        fallback: Some(reason),
        hang_up: false,
        failure: None,
    }
}

fn settled(outcome: IvrOutcome, failure: Option<String>) -> Decision {
    Decision {
        outcome,
        fallback: None,
        hang_up: false,
        failure,
    }
}

/// Decide a run: `returned` is the guest's outcome, or the fault that stopped it.
pub fn decide(returned: Result<Outcome, String>, progress: CallProgress) -> Decision {
    let with_person = progress.handed_off && !progress.plugin_hung_up;
    match returned {
        Err(fault) => {
            if progress.hung_up {
                settled(IvrOutcome::CallerHungUp, Some(fault))
            } else if progress.plugin_hung_up {
                settled(
                    IvrOutcome::Failed {
                        reason: fault.clone(),
                    },
                    Some(fault),
                )
            } else if with_person {
                settled(IvrOutcome::Operator, Some(fault))
            } else {
                fallback(fault)
            }
        }
        Ok(_) if progress.hung_up => settled(IvrOutcome::CallerHungUp, None),
        Ok(Outcome::SelfServed) => {
            if with_person {
                settled(IvrOutcome::Operator, None)
            } else {
                Decision {
                    hang_up: !progress.plugin_hung_up,
                    ..settled(IvrOutcome::SelfServed, None)
                }
            }
        }
        Ok(Outcome::Operator) => {
            if with_person {
                settled(IvrOutcome::Operator, None)
            } else {
                fallback("bad outcome: operator returned, but the call was never enqueued or transferred".into())
            }
        }
        Ok(Outcome::CallerHungUp) => fallback(
            "bad outcome: caller-hung-up returned while the caller is still on the line".into(),
        ),
        Ok(Outcome::Fallback(reason)) => {
            let reason = cut(&reason);
            if with_person {
                settled(IvrOutcome::Operator, Some(reason))
            } else if progress.plugin_hung_up {
                settled(
                    IvrOutcome::Failed {
                        reason: reason.clone(),
                    },
                    Some(reason),
                )
            } else {
                fallback(reason)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: CallProgress = CallProgress {
        answered: true,
        hung_up: false,
        handed_off: false,
        plugin_hung_up: false,
    };

    #[test]
    fn faults_fall_back_unless_the_call_is_gone_or_with_a_person() {
        let d = decide(Err("trap: unreachable".into()), FRESH);
        assert_eq!(d.fallback.as_deref(), Some("trap: unreachable"));
        assert!(matches!(d.outcome, IvrOutcome::Failed { .. }));
        let gone = CallProgress {
            hung_up: true,
            ..FRESH
        };
        assert_eq!(
            decide(Err("x".into()), gone).outcome,
            IvrOutcome::CallerHungUp
        );
        let queued = CallProgress {
            handed_off: true,
            ..FRESH
        };
        let d = decide(Err("x".into()), queued);
        assert_eq!((d.outcome, d.fallback), (IvrOutcome::Operator, None));
    }

    #[test]
    fn outcomes_the_call_contradicts_are_bad() {
        let d = decide(Ok(Outcome::Operator), FRESH);
        assert!(d
            .fallback
            .as_deref()
            .is_some_and(|r| r.contains("never enqueued")));
        let d = decide(Ok(Outcome::CallerHungUp), FRESH);
        assert!(d
            .fallback
            .as_deref()
            .is_some_and(|r| r.contains("still on the line")));
        let queued = CallProgress {
            handed_off: true,
            ..FRESH
        };
        assert_eq!(
            decide(Ok(Outcome::Operator), queued).outcome,
            IvrOutcome::Operator
        );
        assert_eq!(
            decide(Ok(Outcome::SelfServed), queued).outcome,
            IvrOutcome::Operator
        );
    }

    #[test]
    fn self_served_hangs_up_unless_the_plugin_did() {
        let d = decide(Ok(Outcome::SelfServed), FRESH);
        assert_eq!((d.outcome, d.hang_up), (IvrOutcome::SelfServed, true));
        let hung = CallProgress {
            plugin_hung_up: true,
            handed_off: true,
            ..FRESH
        };
        let d = decide(Ok(Outcome::SelfServed), hung);
        assert_eq!((d.outcome, d.hang_up), (IvrOutcome::SelfServed, false));
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let reason = "é".repeat(600);
        let d = decide(Ok(Outcome::Fallback(reason)), FRESH);
        let kept = d.fallback.expect("fallback");
        assert!(kept.len() <= MAX_REASON_BYTES + 3 && kept.ends_with("..."));
    }
}
