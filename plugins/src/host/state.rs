//! The data of one call's `Store`: its sandbox limits and accounts (CPU, host-call rate, log
//! bytes), the call's variables and hand-off state, the tenant's kv store, HTTP transport and
//! allowlist, the sealed WASI context, and the transcript when simulated.
//!
//! Everything here belongs to this one call; it must never hold anything of another call or
//! another tenant.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_core::ids::CallId;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::call_control::CallControl;
use crate::host::meter::{CpuMeter, TickClock, Verdict};
use crate::http_client::{Allowlist, HttpFetch};
use crate::kv::{KvBackend, KvQuota};
use crate::limits::SandboxLimits;
use crate::plugin_log::{LogLevel, LogLine, LogSource, RunLog};
use crate::transcript::Transcript;

/// Why the host stopped a guest (beside a trap of the guest's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    CpuBudget { budget_ms: u64 },
    WallClock { secs: u64 },
    Memory { cap_mib: usize },
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::CpuBudget { budget_ms } => {
                write!(f, "cpu budget of {budget_ms} ms exhausted")
            }
            Fault::WallClock { secs } => {
                write!(f, "the IVR held the call longer than {secs} s")
            }
            Fault::Memory { cap_mib } => write!(f, "memory cap of {cap_mib} MiB reached"),
        }
    }
}

/// What a call's plugin is: for log lines and the transcript.
#[derive(Clone, Debug)]
pub struct PluginIdentity {
    pub name: String,
    pub version: u32,
}

/// The call-control side of the state: what happened to the call so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CallProgress {
    pub answered: bool,
    pub hung_up: bool,
    pub handed_off: bool,
    pub plugin_hung_up: bool,
}

/// The shared services a call's host calls use, made once per call by the caller.
#[derive(Clone)]
pub struct CallServices {
    pub kv: Arc<dyn KvBackend>,
    pub http: Arc<dyn HttpFetch>,
    pub allow: Allowlist,
}

/// A token bucket on the call's clock.
#[derive(Debug)]
pub struct RateBucket {
    tokens: f64,
    capacity: f64,
    per_ms: f64,
    last: DateTime<Utc>,
    pub refused: u32,
}

impl RateBucket {
    pub fn new(per_second: u32, burst: u32, now: DateTime<Utc>) -> Self {
        Self {
            tokens: f64::from(burst.max(1)),
            capacity: f64::from(burst.max(1)),
            per_ms: f64::from(per_second) / 1_000.0,
            last: now,
            refused: 0,
        }
    }

    /// Take a token; false when the bucket is empty.
    pub fn take(&mut self, now: DateTime<Utc>) -> bool {
        let elapsed = (now - self.last).num_milliseconds().max(0) as f64;
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    pub(crate) sandbox: SandboxLimits,
    pub(crate) meter: CpuMeter,
    pub(crate) rate: RateBucket,
    pub(crate) control: Option<Box<dyn CallControl>>,
    pub(crate) progress: CallProgress,
    pub(crate) vars: Vec<(String, String)>,
    pub(crate) services: CallServices,
    pub(crate) zone: Tz,
    pub(crate) call_id: Option<CallId>,
    pub(crate) plugin: PluginIdentity,
    pub(crate) log: RunLog,
    pub(crate) log_bytes: u32,
    pub(crate) log_dropped: bool,
    pub(crate) transcript: Option<Transcript>,
    pub(crate) fault: Option<Fault>,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) host_calls: u32,
    pub(crate) started_at: DateTime<Utc>,
}

/// Bytes of guest stderr kept (a panic message); the rest is cut.
const STDERR_BYTES: usize = 4_096;

impl CallState {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sandbox: SandboxLimits,
        clock: TickClock,
        control: Option<Box<dyn CallControl>>,
        vars: Vec<(String, String)>,
        services: CallServices,
        zone: Tz,
        call_id: Option<CallId>,
        plugin: PluginIdentity,
        transcript: Option<Transcript>,
        log: RunLog,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_BYTES);
        // Sealed WASI: no preopened directories, no environment or arguments, no sockets, no
        // stdin; stdout is dropped and stderr (a panic message) is kept for the plugin log.
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let memory = MemoryLimiter {
            cap: sandbox.memory_bytes,
            total: 0,
            hit: false,
        };
        let now = control.as_ref().map(|c| c.now()).unwrap_or_else(Utc::now);
        let meter = CpuMeter::new(clock, sandbox.cpu_budget);
        let rate = RateBucket::new(sandbox.host_calls_per_second, sandbox.host_call_burst, now);
        Self {
            wasi,
            table: ResourceTable::new(),
            memory,
            sandbox,
            meter,
            rate,
            control,
            progress: CallProgress::default(),
            vars,
            services,
            zone,
            call_id,
            plugin,
            log,
            log_bytes: 0,
            log_dropped: false,
            transcript,
            fault: None,
            stderr,
            host_calls: 0,
            started_at: now,
        }
    }

    /// Now on the call's clock.
    pub(crate) fn call_time(&self) -> DateTime<Utc> {
        self.control
            .as_ref()
            .map(|c| c.now())
            .unwrap_or_else(Utc::now)
    }

    /// Every host call starts here: CPU accounting, the wall clock, and the rate cap. `Err`
    /// ends the guest (budget or wall clock spent); `Ok(false)` means "rate-limited".
    pub(crate) fn enter(&mut self, function: &str) -> wasmtime::Result<bool> {
        self.enter_unrated()?;
        let now = self.call_time();
        if self.rate.take(now) {
            Ok(true)
        } else {
            if self.rate.refused == 1 {
                self.host_line(
                    LogLevel::Warn,
                    format!(
                        "host-call rate cap hit ({} per second, burst {}) at {function}; further calls over the cap are refused with rate-limited",
                        self.sandbox.host_calls_per_second, self.sandbox.host_call_burst
                    ),
                );
            }
            self.note("error", format!("{function} -> rate-limited"));
            Ok(false)
        }
    }

    /// The start of a host call that reaches nothing outside the store (variables, the clock):
    /// CPU account and wall clock only. Such calls are bounded by the CPU budget, not the rate
    /// cap.
    pub(crate) fn enter_unrated(&mut self) -> wasmtime::Result<()> {
        self.host_calls += 1;
        if self.meter.enter_host() == Verdict::Exhausted {
            let fault = Fault::CpuBudget {
                budget_ms: self.meter.budget().as_millis() as u64,
            };
            self.fault = Some(fault.clone());
            return Err(wasmtime::format_err!("{fault}"));
        }
        let now = self.call_time();
        let held = (now - self.started_at).num_milliseconds().max(0) as u128;
        if held > self.sandbox.wall_clock.as_millis() {
            let fault = Fault::WallClock {
                secs: self.sandbox.wall_clock.as_secs(),
            };
            self.fault = Some(fault.clone());
            return Err(wasmtime::format_err!("{fault}"));
        }
        Ok(())
    }

    /// Every host call ends here.
    pub(crate) fn leave(&mut self) {
        self.meter.leave_host();
    }

    /// A transcript line at the call's clock now (simulated calls only).
    pub(crate) fn note(&self, event: &str, details: impl AsRef<str>) {
        if let Some(t) = &self.transcript {
            t.line(self.call_time(), event, details);
        }
    }

    /// A line of the host's in the tenant's plugin log.
    pub(crate) fn host_line(&mut self, level: LogLevel, message: String) {
        self.push_line(level, LogSource::Host, message);
    }

    pub(crate) fn push_line(&mut self, level: LogLevel, source: LogSource, message: String) {
        self.log.push(LogLine {
            id: uuid::Uuid::now_v7(),
            at: self.call_time(),
            call_id: self.call_id,
            plugin: self.plugin.name.clone(),
            version: self.plugin.version,
            level,
            source,
            message,
        });
    }

    pub(crate) fn kv_quota(&self) -> KvQuota {
        KvQuota {
            value_bytes: self.sandbox.kv_value_bytes,
            keys: self.sandbox.kv_keys,
            total_bytes: self.sandbox.kv_total_bytes,
        }
    }

    pub(crate) fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.memory
    }

    /// Did the guest try to grow past its memory cap?
    pub(crate) fn memory_cap_hit(&self) -> bool {
        self.memory.hit
    }

    /// What the guest wrote to stderr (a panic message), cut to the kept size.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The memory cap: all linear memories of the call together (a componentize-py guest has
/// several). Growing past it traps at once (a guest's allocator would otherwise turn the refusal
/// into its own, vaguer failure).
struct MemoryLimiter {
    cap: usize,
    total: usize,
    hit: bool,
}

/// Table elements per table: far above any toolchain's needs, far below a table bomb.
const TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total - current.min(self.total) + desired;
        if total > self.cap {
            self.hit = true;
            return Err(wasmtime::format_err!(
                "memory cap of {} MiB reached (the guest asked for {} KiB in all)",
                self.cap >> 20,
                total >> 10
            ));
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > TABLE_ELEMENTS {
            return Err(wasmtime::format_err!(
                "table limit of {TABLE_ELEMENTS} elements reached"
            ));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}
