//! RTP/RTCP port pairs from the configured range: RTP on the even port, RTCP on the odd one
//! above it (RFC 3550 §11). A [`PortPair`] gives its ports back when dropped, on every path
//! (normal end, error, a caller's panic), so the range never leaks.
//!
//! Freed pairs go to the back of the pool: a port is reused as late as possible, so stray
//! packets of a finished call do not land in the next one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// The configured range cannot give a pair.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortError {
    #[error("the RTP port range {min}-{max} is exhausted")]
    Exhausted { min: u16, max: u16 },
    #[error("bad RTP port range {min}-{max}: need an even minimum and at least one even/odd pair")]
    BadRange { min: u16, max: u16 },
}

#[derive(Debug)]
struct Pool {
    free: VecDeque<u16>,
    in_use: usize,
}

/// Hands out port pairs; cheap to clone.
#[derive(Clone, Debug)]
pub struct PortAllocator {
    pool: Arc<Mutex<Pool>>,
    min: u16,
    max: u16,
}

impl PortAllocator {
    /// `min` must be even; the last pair is the highest even port whose odd twin is `<= max`.
    pub fn new(min: u16, max: u16) -> Result<PortAllocator, PortError> {
        if !min.is_multiple_of(2) || min == 0 || max <= min {
            return Err(PortError::BadRange { min, max });
        }
        let free: VecDeque<u16> = (min..max).step_by(2).collect();
        Ok(PortAllocator {
            pool: Arc::new(Mutex::new(Pool { free, in_use: 0 })),
            min,
            max,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // A panic while holding this lock cannot leave the pool inconsistent (each operation is
        // one push or pop), so a poisoned lock is still good.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn allocate(&self) -> Result<PortPair, PortError> {
        let mut pool = self.lock();
        let rtp = pool.free.pop_front().ok_or(PortError::Exhausted {
            min: self.min,
            max: self.max,
        })?;
        pool.in_use += 1;
        Ok(PortPair {
            rtp,
            pool: Arc::clone(&self.pool),
        })
    }

    /// Pairs currently handed out.
    pub fn in_use(&self) -> usize {
        self.lock().in_use
    }

    /// Pairs the range holds in all.
    pub fn capacity(&self) -> usize {
        ((self.max - self.min) as usize).div_ceil(2)
    }
}

/// An allocated even/odd pair; returns to the pool on drop.
#[derive(Debug)]
pub struct PortPair {
    rtp: u16,
    pool: Arc<Mutex<Pool>>,
}

impl PortPair {
    pub fn rtp(&self) -> u16 {
        self.rtp
    }

    pub fn rtcp(&self) -> u16 {
        self.rtp + 1
    }
}

impl Drop for PortPair {
    fn drop(&mut self) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.in_use -= 1;
        pool.free.push_back(self.rtp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_even_odd_and_come_back() {
        let ports = PortAllocator::new(30000, 30009).unwrap();
        assert_eq!(ports.capacity(), 5);
        let pairs: Vec<_> = (0..5).map(|_| ports.allocate().unwrap()).collect();
        assert!(pairs
            .iter()
            .all(|p| p.rtp() % 2 == 0 && p.rtcp() == p.rtp() + 1));
        assert_eq!(
            ports.allocate().unwrap_err(),
            PortError::Exhausted {
                min: 30000,
                max: 30009
            }
        );
        assert_eq!(ports.in_use(), 5);
        drop(pairs);
        assert_eq!(ports.in_use(), 0);
        assert!(ports.allocate().is_ok());
    }

    #[test]
    fn the_last_even_port_needs_its_odd_twin() {
        let ports = PortAllocator::new(30000, 30004).unwrap();
        let all: Vec<u16> = (0..2).map(|_| ports.allocate().unwrap().rtp()).collect();
        assert_eq!(all, vec![30000, 30002]);
    }

    #[test]
    fn freed_ports_are_reused_last() {
        let ports = PortAllocator::new(30000, 30005).unwrap();
        let first = ports.allocate().unwrap();
        assert_eq!(first.rtp(), 30000);
        drop(first);
        assert_eq!(ports.allocate().unwrap().rtp(), 30002);
    }

    #[test]
    fn a_panic_while_holding_a_pair_still_returns_it() {
        let ports = PortAllocator::new(30000, 30010).unwrap();
        let cloned = ports.clone();
        let result = std::panic::catch_unwind(move || {
            let _pair = cloned.allocate().unwrap();
            panic!("caller bug");
        });
        assert!(result.is_err());
        assert_eq!(ports.in_use(), 0);
    }

    #[test]
    fn odd_or_empty_ranges_are_refused() {
        assert!(PortAllocator::new(30001, 30010).is_err());
        assert!(PortAllocator::new(30000, 30000).is_err());
    }
}
