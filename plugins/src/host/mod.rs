//! The engine every plugin runs on: one [`PluginHost`] per process, holding the wasmtime
//! `Engine` (Cranelift, component model, async, epoch interruption, the pooling allocator sized
//! by [`HostConfig`]), the linker with every host import, and the epoch ticker.
//!
//! Each call gets a fresh instance in its own `Store` ([`run`]); nothing of one call survives in
//! the next. This module must never run a guest outside a store with a CPU meter and a memory
//! limiter.

pub(crate) mod meter;
pub mod run;
pub(crate) mod state;

use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{agent_script, ivr};
use meter::Ticker;
pub use state::{CallServices, CallState, Fault, PluginIdentity};

/// How the engine is sized.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Calls that may run at once (component instances in the pool); more wait for a slot.
    pub max_concurrent_calls: u32,
    /// Core instances one component may have: Rust guests need 1 to 4, componentize-py 14 to
    /// 38, JavaScript 2 to 6.
    pub max_core_instances_per_call: u32,
    /// Core instances of all calls together: size it for the mix of languages expected (the
    /// default, 20 per call, fits all-Python at half the calls or all-Rust at every call).
    pub total_core_instances: u32,
    /// Linear memories per call, and of all calls together.
    pub max_memories_per_call: u32,
    pub total_memories: u32,
    /// Largest memory a call may grow to (the sandbox's cap, per memory and in all).
    pub memory_bytes: usize,
    /// The epoch tick: CPU is accounted in these, and a running guest yields every tick.
    pub tick: Duration,
    /// Use the pooling allocator (false: on-demand allocation, for tools that instantiate once).
    pub pooling: bool,
    /// Bytes of each linear memory kept resident between calls: the pages a call dirtied
    /// there (found with Linux's `PAGEMAP_SCAN` where the kernel has it) are reset in place
    /// instead of being released and faulted in again by the next call. The rest is released.
    pub memory_keep_resident: usize,
    /// Released memory is handed back to the kernel in batches of this many slots.
    pub decommit_batch: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            max_concurrent_calls: 1_000,
            max_core_instances_per_call: 50,
            total_core_instances: 20_000,
            max_memories_per_call: 8,
            total_memories: 4_000,
            memory_bytes: 64 << 20,
            tick: Duration::from_millis(1),
            pooling: true,
            // Measured (BENCHMARKS.md, "Plugins"): resetting a Rust guest's few dirty pages in
            // place instead of madvise + page faults halves instantiate + first host call; 2 MiB
            // covers Rust and QuickJS guests whole and bounds what an idle warm slot keeps.
            memory_keep_resident: 2 << 20,
            // Batching saved about a microsecond per call but bunched the madvise calls into
            // one unlucky call's tail; one at a time keeps p99 even.
            decommit_batch: 1,
        }
    }
}

/// The plugin engine.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<CallState>,
    ticker: Ticker,
    config: HostConfig,
}

#[derive(Debug, thiserror::Error)]
#[error("could not start the plugin engine: {0}")]
pub struct HostError(String);

impl PluginHost {
    pub fn new(config: HostConfig) -> Result<Self, HostError> {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            // The guest's own stack (in the fiber) and the fiber around it.
            .max_wasm_stack(512 << 10)
            .async_stack_size(1 << 20)
            // Reserve only what a memory may grow to: bounds checks instead of 4 GiB of address
            // space per slot, so a thousand slots fit any machine.
            .memory_reservation(config.memory_bytes as u64)
            .memory_guard_size(64 << 10)
            .memory_reservation_for_growth(0);
        if config.pooling {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(config.max_concurrent_calls)
                .total_stacks(config.max_concurrent_calls)
                .max_core_instances_per_component(config.max_core_instances_per_call)
                .total_core_instances(config.total_core_instances)
                .max_memories_per_component(config.max_memories_per_call)
                .total_memories(config.total_memories)
                .max_tables_per_component(config.max_core_instances_per_call)
                .total_tables(config.total_core_instances)
                .max_memory_size(config.memory_bytes)
                .max_unused_warm_slots(64)
                .linear_memory_keep_resident(config.memory_keep_resident)
                .table_keep_resident(64 << 10)
                .decommit_batch_size(config.decommit_batch.max(1))
                .pagemap_scan(wasmtime::Enabled::Auto);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(|e| HostError(format!("{e:#}")))?;
        let mut linker: Linker<CallState> = Linker::new(&engine);
        ivr::Ivr::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(|e| HostError(format!("{e:#}")))?;
        agent_script::hotline::plugin::agent_screen::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| HostError(format!("{e:#}")))?;
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| HostError(format!("{e:#}")))?;
        let ticker = Ticker::start(engine.clone(), config.tick);
        Ok(Self {
            engine,
            linker,
            ticker,
            config,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Compile a component's bytes (seconds for a Python or JS guest: done once, at upload).
    pub fn compile(&self, bytes: &[u8]) -> wasmtime::Result<Component> {
        Component::new(&self.engine, bytes)
    }

    /// A precompiled artifact (`.cwasm`) of a component.
    pub fn precompile(&self, bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
        self.engine.precompile_component(bytes)
    }

    /// Load a precompiled artifact this engine made.
    ///
    /// Only bytes from [`PluginHost::precompile`] of this same build may be passed (the
    /// registry's cache keys them by the engine's compatibility hash and the component's
    /// digest); arbitrary bytes would be unsafe to load.
    pub fn load_precompiled(&self, cwasm: &[u8]) -> wasmtime::Result<Component> {
        // SAFETY: the registry only hands in artifacts it produced with `precompile` on an
        // engine of the same compatibility hash, stored under a digest it checks on read.
        unsafe { Component::deserialize(&self.engine, cwasm) }
    }

    /// The engine's compatibility hash, part of a cached artifact's key.
    pub fn compatibility_hash(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    pub(crate) fn tick_clock(&self) -> meter::TickClock {
        self.ticker.clock()
    }
}
