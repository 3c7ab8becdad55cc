//! Per-tenant call limits: concurrent calls and new calls per second, so one tenant's burst
//! cannot take the capacity every other tenant shares. Admission is a counter check under one
//! short lock; the permit gives the concurrent slot back when the call ends.
//!
//! Pure apart from the clock the caller passes in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hotline_core::ids::TenantId;

/// Entries of idle tenants are dropped once the map holds more than this many.
const PRUNE_ABOVE: usize = 256;

#[derive(Debug, Default)]
struct Counters {
    active: u32,
    window_start: Option<Instant>,
    in_window: u32,
}

/// Why a call was not admitted, and when to try again (seconds, for Retry-After).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitExceeded {
    Concurrent { retry_after: u32 },
    PerSecond { retry_after: u32 },
}

impl LimitExceeded {
    pub fn retry_after(self) -> u32 {
        match self {
            Self::Concurrent { retry_after } | Self::PerSecond { retry_after } => retry_after,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct TenantLimiter {
    tenants: Arc<Mutex<HashMap<TenantId, Counters>>>,
}

/// One admitted call's concurrent slot.
#[derive(Debug)]
pub struct TenantPermit {
    tenant_id: TenantId,
    tenants: Arc<Mutex<HashMap<TenantId, Counters>>>,
}

impl Drop for TenantPermit {
    fn drop(&mut self) {
        if let Ok(mut tenants) = self.tenants.lock() {
            if let Some(counters) = tenants.get_mut(&self.tenant_id) {
                counters.active = counters.active.saturating_sub(1);
            }
        }
    }
}

impl TenantLimiter {
    pub fn admit(
        &self,
        tenant_id: TenantId,
        max_concurrent: u32,
        max_per_second: u32,
        now: Instant,
    ) -> Result<TenantPermit, LimitExceeded> {
        let mut tenants = self
            .tenants
            .lock()
            .map_err(|_| LimitExceeded::Concurrent { retry_after: 1 })?;
        if tenants.len() > PRUNE_ABOVE {
            // Keep the map as small as the set of tenants that are calling right now.
            tenants.retain(|_, c| {
                c.active > 0
                    || c.window_start
                        .is_some_and(|s| now.duration_since(s).as_millis() < 1000)
            });
        }
        let counters = tenants.entry(tenant_id).or_default();
        if counters.active >= max_concurrent {
            return Err(LimitExceeded::Concurrent { retry_after: 5 });
        }
        let window_fresh = counters
            .window_start
            .is_some_and(|start| now.duration_since(start).as_millis() < 1000);
        if !window_fresh {
            counters.window_start = Some(now);
            counters.in_window = 0;
        }
        if counters.in_window >= max_per_second {
            return Err(LimitExceeded::PerSecond { retry_after: 1 });
        }
        counters.in_window += 1;
        counters.active += 1;
        Ok(TenantPermit {
            tenant_id,
            tenants: self.tenants.clone(),
        })
    }

    /// Calls in progress for a tenant.
    pub fn active(&self, tenant_id: TenantId) -> u32 {
        self.tenants
            .lock()
            .ok()
            .and_then(|tenants| tenants.get(&tenant_id).map(|c| c.active))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn concurrent_limit_frees_on_drop() {
        let limiter = TenantLimiter::default();
        let tenant = TenantId::new();
        let now = Instant::now();
        let first = limiter.admit(tenant, 2, 100, now).unwrap();
        let _second = limiter.admit(tenant, 2, 100, now).unwrap();
        assert_eq!(
            limiter.admit(tenant, 2, 100, now).unwrap_err(),
            LimitExceeded::Concurrent { retry_after: 5 }
        );
        drop(first);
        assert!(limiter.admit(tenant, 2, 100, now).is_ok());
    }

    #[test]
    fn per_second_window_resets_after_a_second() {
        let limiter = TenantLimiter::default();
        let tenant = TenantId::new();
        let start = Instant::now();
        let mut permits = Vec::new();
        for _ in 0..3 {
            permits.push(limiter.admit(tenant, 100, 3, start).unwrap());
        }
        assert_eq!(
            limiter
                .admit(tenant, 100, 3, start + Duration::from_millis(500))
                .unwrap_err(),
            LimitExceeded::PerSecond { retry_after: 1 }
        );
        assert!(limiter
            .admit(tenant, 100, 3, start + Duration::from_millis(1001))
            .is_ok());
    }

    #[test]
    fn tenants_do_not_share_limits() {
        let limiter = TenantLimiter::default();
        let (a, b) = (TenantId::new(), TenantId::new());
        let now = Instant::now();
        let _held = limiter.admit(a, 1, 10, now).unwrap();
        assert!(limiter.admit(a, 1, 10, now).is_err());
        assert!(limiter.admit(b, 1, 10, now).is_ok());
    }

    #[test]
    fn short_calls_still_count_against_calls_per_second() {
        let limiter = TenantLimiter::default();
        let tenant = TenantId::new();
        let now = Instant::now();
        drop(limiter.admit(tenant, 10, 1, now).unwrap());
        assert_eq!(limiter.active(tenant), 0);
        assert!(limiter.admit(tenant, 10, 1, now).is_err());
    }

    #[test]
    fn idle_tenants_are_pruned() {
        let limiter = TenantLimiter::default();
        let start = Instant::now();
        for _ in 0..=PRUNE_ABOVE {
            drop(limiter.admit(TenantId::new(), 1, 1, start).unwrap());
        }
        let later = start + std::time::Duration::from_secs(2);
        drop(limiter.admit(TenantId::new(), 1, 1, later).unwrap());
        assert_eq!(limiter.tenants.lock().unwrap().len(), 1);
    }
}
