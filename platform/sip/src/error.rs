//! Errors of the SIP crate. rsipstack's error type never leaves the crate: it is turned into
//! text here, so callers match on our variants only.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SipError {
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("invalid SIP address `{0}`")]
    InvalidUri(String),
    #[error("the call leg is gone")]
    LegGone,
    #[error("SIP stack error: {0}")]
    Stack(String),
}

impl From<rsipstack::Error> for SipError {
    fn from(error: rsipstack::Error) -> Self {
        SipError::Stack(error.to_string())
    }
}
