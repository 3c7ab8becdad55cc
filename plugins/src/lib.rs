//! The wasmtime host for tenants' plugins: the `hotline:plugin` WIT worlds (IVR and agent
//! script), the sandbox (CPU, memory, host-call and log limits per tenant) and the plugin
//! registry of immutable, precompiled versions.
//!
//! A plugin sees only its own call and its own tenant's data; this crate must never hand a
//! guest anything another tenant owns.
//!
//! Not built yet: the WASM plugins issue fills it.
