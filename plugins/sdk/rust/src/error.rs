//! One error type for everything a plugin calls, so `?` works across call control, kv, http
//! and log in one function, and a handler that gives up with an error still ends the call the
//! right way (see [`crate::IntoOutcome`]).

use std::fmt;

pub use crate::bindings::wit_call::CallError;
pub use crate::bindings::wit_http::HttpError;
pub use crate::bindings::wit_kv::KvError;
pub use crate::bindings::wit_log::LogError;

/// Anything a host call refused, or a plugin's own reason to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Call control refused (the caller hung up, the call was handed off, an unknown queue...).
    Call(CallError),
    /// The tenant's key-value store refused.
    Kv(KvError),
    /// No HTTP response came back.
    Http(HttpError),
    /// A log line was not written.
    Log(LogError),
    /// The plugin's own reason (e.g. "the CRM answered 500"); ends the call in the fallback.
    Plugin(String),
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A plugin's own reason to give up; the hotline's fallback takes the call.
    pub fn plugin(reason: impl Into<String>) -> Self {
        Error::Plugin(reason.into())
    }

    /// The caller hung up: nothing more can be played or collected.
    pub fn is_hung_up(&self) -> bool {
        matches!(self, Error::Call(CallError::HungUp))
    }

    /// The call already belongs to a queue, an agent or a number.
    pub fn is_handed_off(&self) -> bool {
        matches!(self, Error::Call(CallError::HandedOff))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Call(e) => write!(f, "call: {}", describe_call(e)),
            Error::Kv(e) => write!(f, "kv: {}", describe_kv(e)),
            Error::Http(e) => write!(f, "http: {}", describe_http(e)),
            Error::Log(LogError::TooLong(limit)) => {
                write!(f, "log: line longer than {limit} bytes")
            }
            Error::Log(LogError::BudgetExhausted(limit)) => {
                write!(f, "log: this call's {limit} bytes of log are used up")
            }
            Error::Plugin(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Error {}

fn describe_call(e: &CallError) -> String {
    match e {
        CallError::HungUp => "the caller hung up".into(),
        CallError::HandedOff => "the call was already handed off".into(),
        CallError::UnknownPrompt(p) => format!("unknown prompt {p}"),
        CallError::UnknownQueue(q) => format!("unknown queue {q}"),
        CallError::UnknownAgent(a) => format!("unknown agent {a}"),
        CallError::InvalidNumber(n) => format!("invalid number {n}"),
        CallError::InvalidArgument(a) => format!("invalid argument: {a}"),
        CallError::QueueRefused(why) => format!("queue refused the call: {why}"),
        CallError::TransferFailed(why) => format!("transfer failed: {why}"),
        CallError::RateLimited => "rate-limited".into(),
        CallError::QuotaExceeded(what) => format!("quota exceeded: {what}"),
        CallError::Unavailable(why) => format!("unavailable: {why}"),
    }
}

fn describe_kv(e: &KvError) -> String {
    match e {
        KvError::InvalidKey(why) => format!("invalid key: {why}"),
        KvError::ValueTooLarge(limit) => format!("value larger than {limit} bytes"),
        KvError::QuotaExceeded(what) => format!("quota exceeded: {what}"),
        KvError::RateLimited => "rate-limited".into(),
        KvError::NotANumber => "the stored value is not a number".into(),
        KvError::Unavailable(why) => format!("unavailable: {why}"),
    }
}

fn describe_http(e: &HttpError) -> String {
    match e {
        HttpError::InvalidUrl(u) => format!("invalid URL {u}"),
        HttpError::HostNotAllowed(h) => format!("host {h} is not on the tenant's allowlist"),
        HttpError::InvalidRequest(why) => format!("invalid request: {why}"),
        HttpError::RequestTooLarge(limit) => format!("request body over {limit} bytes"),
        HttpError::ResponseTooLarge(limit) => format!("response body over {limit} bytes"),
        HttpError::NotText => "the response is not UTF-8 text".into(),
        HttpError::Timeout => "timeout".into(),
        HttpError::ConnectionFailed(why) => format!("connection failed: {why}"),
        HttpError::RateLimited => "rate-limited".into(),
    }
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Self {
        Error::Call(e)
    }
}

impl From<KvError> for Error {
    fn from(e: KvError) -> Self {
        Error::Kv(e)
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::Http(e)
    }
}

impl From<LogError> for Error {
    fn from(e: LogError) -> Self {
        Error::Log(e)
    }
}
