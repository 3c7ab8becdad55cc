//! The raw `wit-bindgen` bindings of both worlds, for what the ergonomic layer does not cover.
//! The agent-script world shares the IVR world's types, kv, http, log and clock modules, so a
//! `LocalTime` or a `KvError` is one type whichever world a plugin targets.
//!
//! Export macros are public (`pub_export_macro`): the imports' custom section carries no
//! exports, and each export macro brings its world's exports along only into the plugin that
//! uses it, so an IVR plugin never has to implement `render` and an agent script never imports
//! call control. The agent-script world's bindings exist only with the `agent-script` feature:
//! its imports section would otherwise put the (type-only) `agent-screen` interface among an
//! IVR plugin's imports.

/// The `hotline:plugin/ivr@0.1.0` world.
pub mod ivr {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "ivr",
        pub_export_macro: true,
        additional_derives: [PartialEq, Eq],
        export_macro_name: "export_ivr",
        default_bindings_module: "::hotline::bindings::ivr",
    });
}

/// The `hotline:plugin/agent-script@0.1.0` world (feature `agent-script`).
#[cfg(feature = "agent-script")]
pub mod agent_script {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "agent-script",
        pub_export_macro: true,
        additional_derives: [PartialEq, Eq],
        export_macro_name: "export_agent_script",
        default_bindings_module: "::hotline::bindings::agent_script",
        with: {
            "hotline:plugin/types@0.1.0": crate::bindings::ivr::hotline::plugin::types,
            "hotline:plugin/kv@0.1.0": crate::bindings::ivr::hotline::plugin::kv,
            "hotline:plugin/http@0.1.0": crate::bindings::ivr::hotline::plugin::http,
            "hotline:plugin/log@0.1.0": crate::bindings::ivr::hotline::plugin::log,
            "hotline:plugin/clock@0.1.0": crate::bindings::ivr::hotline::plugin::clock,
        },
    });
}

pub(crate) use ivr::hotline::plugin::{call as wit_call, clock as wit_clock, http as wit_http};
pub(crate) use ivr::hotline::plugin::{kv as wit_kv, log as wit_log, types as wit_types};
