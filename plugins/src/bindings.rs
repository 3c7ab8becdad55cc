//! Host bindings generated from `plugins/wit` (the `hotline:plugin@0.1.0` package): one module
//! per world. Shared interfaces are generated once, in [`ivr`], and reused by [`agent_script`].
//!
//! Every import is async (the guest is suspended while the host works) and trappable (a host
//! call can end the guest, e.g. when its CPU budget ran out while it waited on a rate limit).

pub mod ivr {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "ivr",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

pub mod agent_script {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "agent-script",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "hotline:plugin/types": super::ivr::hotline::plugin::types,
            "hotline:plugin/kv": super::ivr::hotline::plugin::kv,
            "hotline:plugin/http": super::ivr::hotline::plugin::http,
            "hotline:plugin/log": super::ivr::hotline::plugin::log,
            "hotline:plugin/clock": super::ivr::hotline::plugin::clock,
        },
    });
}
