//! The sandbox's limits for one call: CPU, memory, host-call rate, and the size caps of log, kv
//! and HTTP. They come from the tenant's limits (its plugin CPU per call) and the installation's
//! defaults; the host enforces every one of them, the guest can only read their effect.

use std::time::Duration;

/// Everything one call's sandbox is held to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxLimits {
    /// CPU time the guest may spend running (not waiting in host calls) per call.
    pub cpu_budget: Duration,
    /// Largest linear memory of the guest, in bytes; growing past it traps.
    pub memory_bytes: usize,
    /// The longest an IVR may hold a call, waiting included (the guest cannot hold a line for
    /// ever even while it uses no CPU).
    pub wall_clock: Duration,
    /// Host calls per second of the call's clock (sustained) ...
    pub host_calls_per_second: u32,
    /// ... and the burst allowed above it.
    pub host_call_burst: u32,
    /// Longest log line, in bytes.
    pub log_line_bytes: u32,
    /// Log bytes per call.
    pub log_bytes_per_call: u32,
    /// Largest kv value, in bytes.
    pub kv_value_bytes: u32,
    /// Keys per tenant.
    pub kv_keys: u32,
    /// Bytes (keys and values) per tenant.
    pub kv_total_bytes: u64,
    /// Default and longest HTTP timeouts.
    pub http_default_timeout: Duration,
    pub http_max_timeout: Duration,
    /// Largest HTTP request and response bodies, in bytes.
    pub http_request_bytes: u32,
    pub http_response_bytes: u32,
    /// Variables per call, and their sizes.
    pub vars_per_call: u32,
    pub var_value_bytes: u32,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            cpu_budget: Duration::from_millis(50),
            memory_bytes: 64 << 20,
            wall_clock: Duration::from_secs(30 * 60),
            host_calls_per_second: 100,
            host_call_burst: 200,
            log_line_bytes: 2_048,
            log_bytes_per_call: 16 << 10,
            kv_value_bytes: 64 << 10,
            kv_keys: 10_000,
            kv_total_bytes: 16 << 20,
            http_default_timeout: Duration::from_secs(3),
            http_max_timeout: Duration::from_secs(10),
            http_request_bytes: 64 << 10,
            http_response_bytes: 256 << 10,
            vars_per_call: 64,
            var_value_bytes: 1_024,
        }
    }
}

impl SandboxLimits {
    /// The defaults with the tenant's plugin CPU per call (`limits.plugin_cpu_ms_per_call`).
    pub fn for_tenant(plugin_cpu_ms_per_call: u32) -> Self {
        Self {
            cpu_budget: Duration::from_millis(u64::from(plugin_cpu_ms_per_call.max(1))),
            ..Self::default()
        }
    }
}
