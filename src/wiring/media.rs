//! The media side of `hotline serve`: the media engine on the `[rtp]` settings, and where call
//! recordings go (the tenants' file store in the data directory, under each tenant's prefix).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use hotline_core::blob::{BlobKey, BlobStore, DirStore};
use hotline_core::ids::{CallId, TenantId};
use hotline_core::TenantScope;
use hotline_media::{MediaConfig, MediaEngine};

use crate::config::Config;

/// The media engine for the configured ports and addresses.
pub fn start(config: &Config) -> Result<MediaEngine> {
    let rtp = &config.rtp;
    let advertise_v4 = rtp
        .advertise
        .filter(IpAddr::is_ipv4)
        .or(config.sip.advertise.filter(IpAddr::is_ipv4))
        .or_else(|| {
            let sip = config.sip.listen.ip();
            (rtp.listen.is_unspecified() && !sip.is_unspecified() && sip.is_ipv4()).then_some(sip)
        });
    if advertise_v4.is_none() && rtp.listen.is_unspecified() {
        tracing::warn!(
            "rtp.advertise is unset and RTP listens on every interface: SDP names 127.0.0.1, \
             which only local peers can reach; set rtp.advertise (or sip.advertise)"
        );
    }
    let media = MediaConfig {
        bind_v4: Some(rtp.listen),
        bind_v6: rtp.listen_ipv6,
        advertised_v4: advertise_v4,
        advertised_v6: rtp
            .advertise
            .filter(IpAddr::is_ipv6)
            .or(config.sip.advertise.filter(IpAddr::is_ipv6)),
        port_min: rtp.port_min,
        port_max: rtp.port_max,
        media_timeout: Duration::from_secs(rtp.media_timeout_secs),
        ..MediaConfig::default()
    };
    MediaEngine::start(media).context("cannot start the media engine ([rtp] settings)")
}

/// Recordings as files of the tenants' file store.
pub struct RecordingDir {
    files: DirStore,
}

impl RecordingDir {
    pub fn new(files: DirStore) -> Self {
        Self { files }
    }
}

impl hotline_routing::RecordingFiles for RecordingDir {
    fn create(
        &self,
        tenant_id: TenantId,
        call_id: CallId,
        arrived_at: DateTime<Utc>,
    ) -> Result<(String, PathBuf), String> {
        let key = BlobKey::recording(&TenantScope::from_verified(tenant_id), call_id, arrived_at);
        let path = self
            .files
            .local_path(&key)
            .ok_or_else(|| "the file store keeps no local files".to_string())?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        Ok((key.as_str().to_string(), path))
    }
}

/// Prompts until the tenant store serves them: every lookup says the prompt is not there, so
/// an IVR or a hotline message falls back as it would for a missing prompt.
pub struct NoPromptsYet;

#[async_trait::async_trait]
impl hotline_routing::PromptSource for NoPromptsYet {
    async fn by_name(
        &self,
        _tenant_id: TenantId,
        name: &str,
    ) -> Result<hotline_media::prompt::Prompt, hotline_routing::PromptLookupError> {
        Err(hotline_routing::PromptLookupError::NotFound(
            name.to_string(),
        ))
    }

    async fn by_id(
        &self,
        _tenant_id: TenantId,
        prompt_id: hotline_core::ids::PromptId,
    ) -> Result<hotline_media::prompt::Prompt, hotline_routing::PromptLookupError> {
        Err(hotline_routing::PromptLookupError::NotFound(
            prompt_id.to_string(),
        ))
    }
}
