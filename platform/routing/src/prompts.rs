//! Where the engine gets a tenant's audio: prompts by name (what IVR plugins say) or by id
//! (what hotline settings point at), already loaded for playback, and where a call's recording
//! is written. Traits owned here, implemented by the binary over the tenant store and the
//! tenants' file store, so the engine never touches storage and its tests use in-memory ones.
//!
//! Implementations must resolve names and ids inside the given tenant only, and should cache
//! loaded prompts (many calls play the same one); a prompt is shared, never copied per call.

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_core::ids::{CallId, PromptId, TenantId};
use hotline_media::prompt::Prompt;
use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PromptLookupError {
    #[error("the tenant has no prompt {0}")]
    NotFound(String),
    #[error("the prompt {0} has no audio uploaded")]
    NoAudio(String),
    #[error("prompt storage unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait PromptSource: Send + Sync + 'static {
    async fn by_name(&self, tenant_id: TenantId, name: &str) -> Result<Prompt, PromptLookupError>;

    async fn by_id(
        &self,
        tenant_id: TenantId,
        prompt_id: PromptId,
    ) -> Result<Prompt, PromptLookupError>;
}

/// Where a call's recording file goes.
pub trait RecordingFiles: Send + Sync + 'static {
    /// The storage key (recorded in the call record) and the local path the recorder writes,
    /// creating the directories it needs. `Err` says why the call cannot be recorded; the call
    /// goes on unrecorded and the record says so.
    fn create(
        &self,
        tenant_id: TenantId,
        call_id: CallId,
        arrived_at: DateTime<Utc>,
    ) -> Result<(String, PathBuf), String>;
}
