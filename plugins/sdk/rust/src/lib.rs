//! Write Hotline plugins in Rust: IVR scripts that talk to callers, and agent scripts that
//! drive an operator's screen. A thin, typed layer over the `hotline:plugin@0.1.0` WIT worlds
//! (the raw bindings stay reachable in [`bindings`]); build with
//! `cargo build --release --target wasm32-wasip2` and test with `hotline plugin test`.
//!
//! An IVR plugin is one function:
//!
//! ```no_run
//! use hotline::{Call, Outcome, Result};
//!
//! #[hotline::ivr]
//! fn handle(call: &mut Call) -> Result<Outcome> {
//!     call.play("welcome")?;
//!     let choice = call.collect().prompt("menu").retry_prompt("sorry").retries(2).run()?;
//!     match choice.as_str() {
//!         "1" => call.enqueue("sales").priority(5).skill("ru").run()?,
//!         "2" => call.enqueue("support").run()?,
//!         _ => return Ok(Outcome::fallback("no valid choice")),
//!     };
//!     Ok(Outcome::Operator)
//! }
//! ```
//!
//! An agent script (world `agent-script`) implements [`agent::AgentScript`] on a type marked
//! `#[hotline::agent_script]`; it needs the crate feature `agent-script`.
//!
//! Every host call returns [`Result`]; `?` ends the handler with the right outcome: a caller
//! who hung up is `caller-hung-up`, a call already handed to a queue is `operator`, anything
//! else is `fallback` with the error as the reason, which the tenant sees in its plugin log.
//!
//! What a plugin must never do is wait or spin on its own: the host charges CPU to the tenant's
//! budget and stops a plugin that overruns it. Waiting for the caller is free (host calls
//! suspend the plugin), so always wait through `collect`, `play` or `http`.

#[cfg(feature = "agent-script")]
pub mod agent;
pub mod bindings;
mod call;
mod callback;
pub mod clock;
mod collect;
mod enqueue;
mod error;
pub mod http;
pub mod kv;
pub mod log;
mod outcome;
mod voicemail;

pub use call::{
    silence, Call, CallInfo, CallbackDecision, HangupCause, IntoPrompt, LocalTime, Prompt,
    QueueTicket, ScheduleBranch, Var, Voicemail, Weekday,
};
pub use callback::OfferCallback;
pub use collect::{Collect, CollectEnd, Collected};
pub use enqueue::Enqueue;
pub use error::{CallError, Error, HttpError, KvError, LogError, Result};
pub use hotline_plugin_sdk_macros::{agent_script, ivr};
pub use outcome::{IntoOutcome, Outcome};
pub use voicemail::RecordVoicemail;

/// The names most plugins use: `use hotline::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "agent-script")]
    pub use crate::agent::{Accepted, AgentScript, Context, Field, Form, Rejection, Screen};
    pub use crate::{clock, http, kv, log};
    pub use crate::{silence, Call, Error, Outcome, Result};
}

#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "agent-script")]
    use crate::agent::{AgentScript, Context, FieldValue, Form, Screen, SubmitResult};
    #[cfg(feature = "agent-script")]
    use crate::bindings::wit_types::Var;
    use crate::bindings::wit_types::{CallInfo, Outcome};
    use crate::{Call, IntoOutcome};

    #[cfg(feature = "agent-script")]
    pub use crate::bindings::agent_script::Guest as AgentScriptGuest;
    pub use crate::bindings::ivr::Guest as IvrGuest;

    pub fn run_ivr<R: IntoOutcome>(info: CallInfo, handler: fn(&mut Call) -> R) -> Outcome {
        let mut call = Call::new(info);
        handler(&mut call).into_outcome()
    }

    #[cfg(feature = "agent-script")]
    pub fn render<S: AgentScript>(info: CallInfo, vars: Vec<Var>) -> Screen {
        S::render(&Context::new(info, vars))
    }

    #[cfg(feature = "agent-script")]
    pub fn submit<S: AgentScript>(
        info: CallInfo,
        vars: Vec<Var>,
        form: Vec<FieldValue>,
    ) -> SubmitResult {
        crate::agent::__submit_or_reject(S::submit(&Context::new(info, vars), &Form::new(form)))
    }
}

/// The glue `#[hotline::ivr]` expands to: a `Guest` impl calling the handler, exported.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_ivr {
    ($handler:ident) => {
        const _: () = {
            struct __HotlineIvr;
            impl $crate::__private::IvrGuest for __HotlineIvr {
                fn handle_call(info: $crate::CallInfo) -> $crate::Outcome {
                    $crate::__private::run_ivr(info, $handler)
                }
            }
            $crate::bindings::ivr::export_ivr!(
                __HotlineIvr with_types_in $crate::bindings::ivr
            );
        };
    };
}

/// Without the `agent-script` feature, `#[hotline::agent_script]` says what is missing.
#[cfg(not(feature = "agent-script"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_agent_script {
    ($script:ident) => {
        ::core::compile_error!(
            "#[hotline::agent_script] needs the SDK's agent-script feature: hotline-plugin-sdk = { ..., features = [\"agent-script\"] }"
        );
    };
}

/// The glue `#[hotline::agent_script]` expands to.
#[cfg(feature = "agent-script")]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_agent_script {
    ($script:ident) => {
        const _: () = {
            impl $crate::__private::AgentScriptGuest for $script {
                fn render(
                    info: $crate::CallInfo,
                    vars: ::std::vec::Vec<$crate::Var>,
                ) -> $crate::agent::Screen {
                    $crate::__private::render::<$script>(info, vars)
                }
                fn submit(
                    info: $crate::CallInfo,
                    vars: ::std::vec::Vec<$crate::Var>,
                    form: ::std::vec::Vec<$crate::agent::FieldValue>,
                ) -> $crate::agent::SubmitResult {
                    $crate::__private::submit::<$script>(info, vars, form)
                }
            }
            $crate::bindings::agent_script::export_agent_script!(
                $script with_types_in $crate::bindings::agent_script
            );
        };
    };
}
