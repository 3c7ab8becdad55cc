//! The `hotline` binary: command line, configuration, logging, and the wiring that joins the
//! crates into one server (`serve`).
//!
//! This is the only place that knows every crate; adapters between them (the call engine's
//! `Directory` over the tenant store, and the like) live here, never in the crates themselves.
//! Errors are `anyhow` here and only here; they are printed once, with their causes, and turn
//! into exit status 1 (clap uses 2 for a bad command line).

mod cli;
mod config;
mod data_dir;
mod database;
mod logging;
mod serve;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: under call load glibc's malloc spent a third of
/// the process's CPU consolidating free chunks (the SIP stack allocates and frees per message
/// from many threads), and kept the freed memory. Measured in BENCHMARKS.md ("SIP").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot open database ...: connection refused".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
