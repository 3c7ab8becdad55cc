//! The SIP stack's settings, in the stack's own terms (the binary maps its config file onto it).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct SipConfig {
    /// Every address is served over both UDP and TCP. IPv4 and IPv6 addresses may be mixed.
    pub listen: Vec<SocketAddr>,
    /// The address written into Via and Contact when a listen address is a wildcard
    /// (`0.0.0.0`, `::`) or sits behind NAT; peers must be able to reach it.
    pub advertise: Option<IpAddr>,
    pub user_agent: String,
    /// Calls in progress beyond which new INVITEs are refused at once with 503 + Retry-After,
    /// so an overload costs the extra calls, not every call's setup time.
    pub max_active_calls: usize,
    /// Runtime scheduling lag (smoothed) beyond which new INVITEs are refused with 503 +
    /// Retry-After until it falls below half of it; `None` or zero turns this off. See
    /// `overload.rs`.
    pub overload_lag: Option<Duration>,
    /// Kernel send and receive buffer of each UDP socket, in bytes (capped by
    /// `net.core.rmem_max`/`wmem_max`); 0 keeps the system default.
    pub udp_buffer_bytes: usize,
    /// How many new calls may wait for the call engine before the stack answers 503.
    pub incoming_backlog: usize,
    /// Retry-After (seconds) sent with overload 503s.
    pub overload_retry_after: u32,
    /// Session interval Hotline asks for when the caller offers none (RFC 4028).
    pub session_expires: Duration,
    /// The smallest session interval Hotline accepts (Min-SE, at least 90 s).
    pub min_session_expires: Duration,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 5060))],
            advertise: None,
            user_agent: format!("Hotline/{}", env!("CARGO_PKG_VERSION")),
            max_active_calls: 10_000,
            overload_lag: Some(Duration::from_millis(20)),
            udp_buffer_bytes: 4 << 20,
            incoming_backlog: 1_024,
            overload_retry_after: 5,
            session_expires: Duration::from_secs(1800),
            min_session_expires: Duration::from_secs(90),
        }
    }
}
