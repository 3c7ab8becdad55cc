//! The crate's error type: what the call engine gets back from the media engine.

use crate::prompt::PromptError;
use crate::record::RecordError;
use crate::rtp::ports::PortError;
use crate::sdp::SdpError;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The SDP was refused; [`SdpError::is_not_acceptable`] tells a 488 from a 400.
    #[error(transparent)]
    Sdp(#[from] SdpError),
    #[error(transparent)]
    Ports(#[from] PortError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad media configuration: {0}")]
    Config(String),
    /// The leg's task is gone (the leg ended, or the runtime is shutting down).
    #[error("the media leg has ended")]
    LegGone,
    #[error("no bridge recording is running")]
    NotRecording,
    #[error("the engine must be started inside a tokio runtime")]
    NoRuntime,
}

impl MediaError {
    /// True when the engine should answer the SDP's request with 488 Not Acceptable Here.
    pub fn is_not_acceptable(&self) -> bool {
        matches!(self, MediaError::Sdp(e) if e.is_not_acceptable())
    }
}
