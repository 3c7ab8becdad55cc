//! What a plugin costs per call, per guest language: a fresh instance per call from the pooling
//! allocator, as live calls run (`run_ivr`, the same sandbox: CPU meter, memory limiter, sealed
//! WASI, rate bucket), measured two ways. Prints figures; asserts no timings.
//!
//! - **to first host call**: from `run_ivr` being called to the guest's first call-control
//!   host call arriving (instantiation, the guest's start-up, its first import). The call then
//!   ends at once (the caller "hangs up"), and **whole call** is the run from start to report,
//!   instance torn down. Median and p99 over many sequential calls on one thread.
//! - **memory per suspended call**: N calls started together, each parked inside that first
//!   host call (an awaited future that never resolves, as when waiting for the caller's key);
//!   the process's resident memory with all N parked, less before, over N. From it, how many
//!   such waiting IVR calls fit in 1 GiB.
//!
//! Guests: the sandbox tests' probe (Rust, its cheapest round trip: `answer` then return) and
//! the `language-menu` example in Rust, Python (componentize-py) and JavaScript (QuickJS), whose
//! first host call is `play("welcome")`. A language whose component is not built is named and
//! skipped (`plugins/tests/guests/build.sh`, `plugins/build.sh`).
//!
//! Run: `cargo bench -p hotline-plugins --bench instantiate`
//! Knobs: `HOTLINE_BENCH_ITERS` (calls per latency figure, default 3,000; Python and JavaScript
//! a tenth), `HOTLINE_BENCH_PARKED` (suspended calls, default 2,000; Python a tenth, JavaScript
//! a quarter), `HOTLINE_BENCH_GUESTS` (comma-separated names from the table below), and the
//! engine's `HOTLINE_BENCH_KEEP_RESIDENT` / `HOTLINE_BENCH_DECOMMIT_BATCH` (`HostConfig`'s
//! `memory_keep_resident` and `decommit_batch`, to compare settings).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hotline_plugins::bindings::ivr::hotline::plugin::types::{CallInfo, ScheduleBranch, Var};
use hotline_plugins::call_control::*;
use hotline_plugins::kv::MemoryKv;
use hotline_plugins::registry::validate::validate;
use hotline_plugins::simulate::sim_http::SimHttpFetch;
use hotline_plugins::{
    run_ivr, CallServices, HostConfig, IvrCall, LoadedPlugin, PluginHost, PluginIdentity,
    SandboxLimits,
};
use tokio::sync::Notify;

/// A guest to measure: name, language, component path (from the crate), the probe mode.
struct Guest {
    name: &'static str,
    language: &'static str,
    path: &'static str,
    probe: Option<&'static str>,
    /// Core instances one call uses at most (sizes the pool).
    core_instances: u32,
}

const GUESTS: &[Guest] = &[
    Guest {
        name: "probe-rust",
        language: "Rust",
        path: "tests/guests/out/probe.wasm",
        probe: Some("first-call"),
        core_instances: 4,
    },
    Guest {
        name: "menu-rust",
        language: "Rust",
        path: "../target/plugins/language-menu-rust.wasm",
        probe: None,
        core_instances: 4,
    },
    Guest {
        name: "menu-js",
        language: "JavaScript (QuickJS)",
        path: "../target/plugins/language-menu-js.wasm",
        probe: None,
        core_instances: 8,
    },
    Guest {
        name: "menu-python",
        language: "Python (componentize-py)",
        path: "../target/plugins/language-menu-python.wasm",
        probe: None,
        core_instances: 40,
    },
];

/// What the call control does at the guest's first host call.
#[derive(Clone, Copy)]
enum AtFirstCall {
    /// Note the time and hang up.
    HangUp,
    /// Tell the bench, then wait for ever.
    Park,
}

struct BenchCall {
    started: Instant,
    first: Arc<Mutex<Option<Duration>>>,
    mode: AtFirstCall,
    parked: Arc<(AtomicUsize, Notify)>,
}

impl BenchCall {
    async fn first_call<T>(&mut self) -> Result<T, CallError> {
        if let Ok(mut first) = self.first.lock() {
            first.get_or_insert(self.started.elapsed());
        }
        match self.mode {
            AtFirstCall::HangUp => Err(CallError::HungUp),
            AtFirstCall::Park => {
                self.parked.0.fetch_add(1, Ordering::SeqCst);
                self.parked.1.notify_one();
                std::future::pending().await
            }
        }
    }
}

#[async_trait]
impl CallControl for BenchCall {
    async fn answer(&mut self) -> Result<(), CallError> {
        self.first_call().await
    }
    async fn play(&mut self, _: &Prompt, _: &PlayOptions) -> Result<Option<char>, CallError> {
        self.first_call().await
    }
    async fn collect(&mut self, _: &CollectOptions) -> Result<Collected, CallError> {
        self.first_call().await
    }
    async fn say_digits(&mut self, _: &str) -> Result<(), CallError> {
        self.first_call().await
    }
    async fn say_number(&mut self, _: i64) -> Result<(), CallError> {
        self.first_call().await
    }
    async fn record_voicemail(&mut self, _: &VoicemailOptions) -> Result<Voicemail, CallError> {
        self.first_call().await
    }
    async fn enqueue(&mut self, _: &str, _: &EnqueueOptions) -> Result<QueueTicket, CallError> {
        self.first_call().await
    }
    async fn transfer(&mut self, _: &TransferTarget) -> Result<(), CallError> {
        self.first_call().await
    }
    async fn offer_callback(&mut self, _: &CallbackOptions) -> Result<CallbackDecision, CallError> {
        self.first_call().await
    }
    async fn hangup(&mut self, _: HangupCause) -> Result<(), CallError> {
        self.first_call().await
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

fn info(guest: &Guest) -> CallInfo {
    CallInfo {
        call_id: "bench".into(),
        hotline_id: "bench".into(),
        hotline_name: "main".into(),
        caller: "+421900123456".into(),
        dialed: "+421233000111".into(),
        language: "en".into(),
        arrived_at: hotline_plugins::local_time(chrono::Utc::now(), chrono_tz::UTC),
        branch: ScheduleBranch::Open,
        vars: guest
            .probe
            .map(|p| Var {
                name: "probe".into(),
                value: p.into(),
            })
            .into_iter()
            .collect(),
    }
}

fn call(
    guest: &Guest,
    mode: AtFirstCall,
    first: Arc<Mutex<Option<Duration>>>,
    parked: Arc<(AtomicUsize, Notify)>,
) -> IvrCall {
    IvrCall {
        info: info(guest),
        zone: chrono_tz::UTC,
        limits: SandboxLimits::default(),
        control: Box::new(BenchCall {
            started: Instant::now(),
            first,
            mode,
            parked,
        }),
        services: CallServices {
            kv: Arc::new(MemoryKv::default()),
            http: Arc::new(SimHttpFetch { entries: vec![] }),
            allow: Default::default(),
        },
        call_id: None,
        transcript: None,
        log: None,
    }
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    first_median: Duration,
    first_p99: Duration,
    whole_median: Duration,
    whole_p99: Duration,
    parked: usize,
    per_call: u64,
}

async fn measure(
    host: &'static PluginHost,
    plugin: &LoadedPlugin,
    guest: &'static Guest,
    iters: usize,
    parked_n: usize,
) -> Figures {
    let idle = Arc::new((AtomicUsize::new(0), Notify::new()));
    // Warm up: code paths, the pool's warm slots, the allocator.
    for _ in 0..(iters / 10).max(20) {
        let first = Arc::new(Mutex::new(None));
        run_ivr(
            host,
            plugin,
            call(guest, AtFirstCall::HangUp, first, idle.clone()),
        )
        .await;
    }
    let (mut faults, mut fault) = (0usize, None::<String>);
    let mut to_first = Vec::with_capacity(iters);
    let mut whole = Vec::with_capacity(iters);
    for _ in 0..iters {
        let first = Arc::new(Mutex::new(None));
        let started = Instant::now();
        let report = run_ivr(
            host,
            plugin,
            call(guest, AtFirstCall::HangUp, first.clone(), idle.clone()),
        )
        .await;
        whole.push(started.elapsed());
        match first.lock().ok().and_then(|f| *f) {
            Some(d) => to_first.push(d),
            None => {
                // Stopped before its first host call: on a loaded machine the thread can be
                // descheduled for longer than the CPU budget, which epochs count as guest time.
                faults += 1;
                fault.get_or_insert(report.fallback.unwrap_or_default());
            }
        }
    }
    to_first.sort();
    whole.sort();

    // Suspended calls: all started, all parked in their first host call. A call that ends
    // instead (the pool ran out, say) is reported, not waited for.
    let parked = Arc::new((AtomicUsize::new(0), Notify::new()));
    let ended: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let before = rss();
    let mut tasks = Vec::with_capacity(parked_n);
    for _ in 0..parked_n {
        let run = call(
            guest,
            AtFirstCall::Park,
            Arc::new(Mutex::new(None)),
            parked.clone(),
        );
        let plugin = plugin.clone();
        let (parked, ended) = (parked.clone(), ended.clone());
        tasks.push(tokio::spawn(async move {
            let report = run_ivr(host, &plugin, run).await;
            if let Ok(mut ended) = ended.lock() {
                ended.push(
                    report
                        .fallback
                        .unwrap_or_else(|| format!("{:?}", report.outcome)),
                );
            }
            parked.1.notify_one();
        }));
    }
    loop {
        let waiting = parked.1.notified();
        let ended_now = ended.lock().map(|e| e.clone()).unwrap_or_default();
        assert!(
            ended_now.is_empty(),
            "{}: {} of {parked_n} calls ended instead of parking: {:?}",
            guest.name,
            ended_now.len(),
            ended_now.first()
        );
        if parked.0.load(Ordering::SeqCst) >= parked_n {
            break;
        }
        if tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .is_err()
        {
            panic!(
                "{}: only {} of {parked_n} calls parked within a minute",
                guest.name,
                parked.0.load(Ordering::SeqCst)
            );
        }
    }
    let during = rss();
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    if faults > 0 {
        println!(
            "{}: {faults} of {iters} calls stopped before their first host call ({}); left out",
            guest.name,
            fault.unwrap_or_default()
        );
    }
    Figures {
        first_median: percentile(&to_first, 0.5),
        first_p99: percentile(&to_first, 0.99),
        whole_median: percentile(&whole, 0.5),
        whole_p99: percentile(&whole, 0.99),
        parked: parked_n,
        per_call: during.saturating_sub(before) / parked_n as u64,
    }
}

fn main() {
    let chosen: Option<Vec<String>> = std::env::var("HOTLINE_BENCH_GUESTS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let iters = env("HOTLINE_BENCH_ITERS", 3_000);
    let parked = env("HOTLINE_BENCH_PARKED", 2_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!("plugin instantiate + first host call, memory per suspended call (fresh instance per call, pooling allocator)");
    println!(
        "{:<12} {:<26} {:>22} {:>22} {:>8} {:>14} {:>16}",
        "guest",
        "language",
        "to 1st host call",
        "whole call",
        "parked",
        "RSS per call",
        "waiting in 1 GiB"
    );
    println!(
        "{:<12} {:<26} {:>22} {:>22}",
        "", "", "median / p99", "median / p99"
    );
    for guest in GUESTS {
        if chosen
            .as_ref()
            .is_some_and(|c| !c.iter().any(|n| n == guest.name))
        {
            continue;
        }
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), guest.path].iter().collect();
        let Ok(bytes) = std::fs::read(&path) else {
            println!(
                "{:<12} {:<26} not built ({}): run plugins/tests/guests/build.sh and plugins/build.sh",
                guest.name,
                guest.language,
                path.display()
            );
            continue;
        };
        let (iters, parked_n) = match guest.language {
            "Rust" => (iters, parked),
            l if l.starts_with("Python") => ((iters / 10).max(50), (parked / 10).max(20)),
            _ => ((iters / 10).max(50), (parked / 4).max(20)),
        };
        // Room for every parked call, the warm slots, and decommits still queued.
        let slots = (parked_n as u32) + 128;
        let host: &'static PluginHost = Box::leak(Box::new(
            PluginHost::new(HostConfig {
                max_concurrent_calls: slots,
                total_core_instances: slots * guest.core_instances,
                max_memories_per_call: 8,
                total_memories: slots * if guest.core_instances > 8 { 8 } else { 4 },
                memory_keep_resident: env(
                    "HOTLINE_BENCH_KEEP_RESIDENT",
                    HostConfig::default().memory_keep_resident,
                ),
                decommit_batch: env(
                    "HOTLINE_BENCH_DECOMMIT_BATCH",
                    HostConfig::default().decommit_batch,
                ),
                ..HostConfig::default()
            })
            .expect("a plugin engine"),
        ));
        let validated = validate(host, &bytes).expect("a valid component");
        let plugin = LoadedPlugin {
            identity: PluginIdentity {
                name: guest.name.into(),
                version: 1,
            },
            prepared: validated.prepared,
        };
        let f = runtime.block_on(measure(host, &plugin, guest, iters, parked_n));
        let per_gib = (1u64 << 30).checked_div(f.per_call).unwrap_or(0);
        println!(
            "{:<12} {:<26} {:>22} {:>22} {:>8} {:>11.1} KB {:>16}",
            guest.name,
            guest.language,
            format!("{} / {}", micros(f.first_median), micros(f.first_p99)),
            format!("{} / {}", micros(f.whole_median), micros(f.whole_p99)),
            f.parked,
            f.per_call as f64 / 1000.0,
            per_gib
        );
    }
}
