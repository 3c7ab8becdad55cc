//! The routing decision for a new inbound call, as a pure function: dialed number and directory
//! answer in, "refuse with this status" or "run this hotline action" out. Limits are checked by
//! the caller between [`resolve`] and [`branch`], because they need shared counters.

use chrono::{DateTime, Utc};
use hotline_core::call::{RejectReason, ScheduleBranch};

use crate::directory::{
    DirectoryError, HotlineAction, HotlineRoute, NumberRoute, TenantRoute, TenantState,
};

/// A call refused before anyone answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub retry_after: Option<u32>,
    pub reason: RejectReason,
}

impl Refusal {
    pub fn new(status: u16, reason: RejectReason) -> Self {
        Self {
            status,
            retry_after: None,
            reason,
        }
    }
}

/// The dialed number resolved to a hotline the tenant may run.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub e164: String,
    pub tenant: TenantRoute,
    pub hotline: HotlineRoute,
}

/// The dialed number as E.164, or 404 when it cannot be one.
pub fn normalize_dialed(dialed: Option<&str>) -> Result<String, Refusal> {
    dialed
        .and_then(|raw| hotline_core::e164::normalize(raw).ok())
        .ok_or(Refusal::new(404, RejectReason::UnknownNumber))
}

/// The directory's answer for `e164` → the hotline, or why not.
pub fn resolve(
    e164: String,
    lookup: Result<Option<NumberRoute>, DirectoryError>,
) -> Result<Resolved, Refusal> {
    let route = match lookup {
        Ok(Some(route)) => route,
        Ok(None) => return Err(Refusal::new(404, RejectReason::UnknownNumber)),
        Err(DirectoryError::Unavailable(_)) => {
            return Err(Refusal {
                status: 503,
                retry_after: Some(5),
                reason: RejectReason::Overload,
            })
        }
    };
    if route.tenant.state == TenantState::Suspended {
        return Err(Refusal::new(403, RejectReason::TenantSuspended));
    }
    let hotline = route
        .hotline
        .ok_or(Refusal::new(404, RejectReason::UnknownNumber))?;
    Ok(Resolved {
        e164,
        tenant: route.tenant,
        hotline,
    })
}

/// The schedule's branch at `now` in the tenant's zone, and the action it names.
pub fn branch(resolved: &Resolved, now: DateTime<Utc>) -> (ScheduleBranch, HotlineAction) {
    if resolved
        .hotline
        .hours
        .is_open(resolved.tenant.time_zone, now)
    {
        (ScheduleBranch::Open, resolved.hotline.open.clone())
    } else {
        (ScheduleBranch::Closed, resolved.hotline.closed.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Timelike};
    use chrono_tz::Tz;
    use hotline_core::ids::{HotlineId, TenantId};

    use super::*;
    use crate::directory::OpenHours;

    #[derive(Debug)]
    struct NineToFive;

    impl OpenHours for NineToFive {
        fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
            (9..17).contains(&at.with_timezone(&zone).hour())
        }
    }

    fn route(state: TenantState, with_hotline: bool) -> NumberRoute {
        NumberRoute {
            e164: "+421233000111".into(),
            tenant: TenantRoute {
                tenant_id: TenantId::new(),
                slug: "acme".into(),
                state,
                time_zone: chrono_tz::Europe::Bratislava,
                max_concurrent_calls: 10,
                max_calls_per_second: 5,
                plugin_cpu_ms_per_call: 50,
            },
            hotline: with_hotline.then(|| HotlineRoute {
                hotline_id: HotlineId::new(),
                name: "support".into(),
                hours: Arc::new(NineToFive),
                open: HotlineAction::Reject { status: 486 },
                closed: HotlineAction::Reject { status: 480 },
                recording: crate::directory::RecordingPolicy::Never,
                language: "en".into(),
            }),
        }
    }

    fn number() -> String {
        "+421233000111".to_string()
    }

    #[test]
    fn unknown_and_unparseable_numbers_are_404() {
        assert_eq!(resolve(number(), Ok(None)).unwrap_err().status, 404);
        assert_eq!(normalize_dialed(Some("hello")).unwrap_err().status, 404);
        assert_eq!(normalize_dialed(None).unwrap_err().status, 404);
    }

    #[test]
    fn dialed_number_is_normalized_before_lookup() {
        assert_eq!(
            normalize_dialed(Some("00421 2 3300 0111")).unwrap(),
            number()
        );
    }

    #[test]
    fn suspended_tenant_is_403_and_directory_failure_is_503() {
        let refused = resolve(number(), Ok(Some(route(TenantState::Suspended, true)))).unwrap_err();
        assert_eq!(
            (refused.status, refused.reason),
            (403, RejectReason::TenantSuspended)
        );
        let refused = resolve(number(), Err(DirectoryError::Unavailable("db".into()))).unwrap_err();
        assert_eq!((refused.status, refused.retry_after), (503, Some(5)));
    }

    #[test]
    fn number_without_hotline_is_refused_as_unknown() {
        let refused = resolve(number(), Ok(Some(route(TenantState::Active, false)))).unwrap_err();
        assert_eq!(refused.status, 404);
    }

    #[test]
    fn schedule_is_read_in_the_tenant_zone() {
        let resolved = resolve(number(), Ok(Some(route(TenantState::Active, true)))).unwrap();
        // 08:30 UTC in winter is 09:30 in Bratislava: open.
        let at = Utc.with_ymd_and_hms(2026, 1, 15, 8, 30, 0).unwrap();
        assert_eq!(branch(&resolved, at).0, ScheduleBranch::Open);
        // 16:30 UTC is 17:30 there: closed.
        let at = Utc.with_ymd_and_hms(2026, 1, 15, 16, 30, 0).unwrap();
        assert_eq!(
            branch(&resolved, at),
            (
                ScheduleBranch::Closed,
                HotlineAction::Reject { status: 480 }
            )
        );
    }
}
