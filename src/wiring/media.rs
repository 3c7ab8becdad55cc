//! The media side of `hotline serve`: the media engine on the `[rtp]` settings. (Recordings and
//! prompts live in the tenants' file store: `wiring::files`, `wiring::prompts`.)

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result};
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
