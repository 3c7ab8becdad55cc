//! The media engine's settings, as the binary's configuration fills them.

use std::net::IpAddr;
use std::time::Duration;

use crate::codec::Codec;
use crate::error::MediaError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    /// Address the IPv4 RTP sockets bind to (`0.0.0.0` for all).
    pub bind_v4: Option<IpAddr>,
    /// Address the IPv6 RTP sockets bind to (`::` for all).
    pub bind_v6: Option<IpAddr>,
    /// The IPv4 address written in SDP (the public one behind a 1:1 NAT); the bound one if unset.
    pub advertised_v4: Option<IpAddr>,
    pub advertised_v6: Option<IpAddr>,
    /// RTP port range: `port_min` even; pairs up to `port_max`.
    pub port_min: u16,
    pub port_max: u16,
    /// No RTP for this long ends the call (`EndCause::MediaTimeout`).
    pub media_timeout: Duration,
    /// How often recordings reach the disk (at most 1 s).
    pub recording_flush: Duration,
    /// Codecs offered, in order of preference.
    pub codecs: Vec<Codec>,
    pub ptime_ms: u32,
    /// Silence of a latched source after which another may latch.
    pub relatch_after: Duration,
    /// RTCP SDES CNAME (the host's name).
    pub cname: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_v4: Some(IpAddr::from([0, 0, 0, 0])),
            bind_v6: None,
            advertised_v4: None,
            advertised_v6: None,
            port_min: 20_000,
            port_max: 39_999,
            media_timeout: Duration::from_secs(30),
            recording_flush: Duration::from_secs(1),
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            ptime_ms: 20,
            relatch_after: Duration::from_secs(2),
            cname: "hotline".into(),
        }
    }
}

impl MediaConfig {
    pub fn validate(&self) -> Result<(), MediaError> {
        let bad = |m: &str| Err(MediaError::Config(m.into()));
        if self.bind_v4.is_none() && self.bind_v6.is_none() {
            return bad("no bind address");
        }
        if self.bind_v4.is_some_and(|a| !a.is_ipv4()) || self.bind_v6.is_some_and(|a| !a.is_ipv6())
        {
            return bad("bind_v4 must be IPv4 and bind_v6 IPv6");
        }
        if !self.port_min.is_multiple_of(2) || self.port_max <= self.port_min {
            return bad("the port range needs an even minimum below the maximum");
        }
        if self.media_timeout < Duration::from_secs(1) {
            return bad("media timeout under 1 s");
        }
        if self.codecs.is_empty() {
            return bad("no codec");
        }
        if !(10..=60).contains(&self.ptime_ms) || !self.ptime_ms.is_multiple_of(10) {
            return bad("ptime must be 10 to 60 ms in 10 ms steps");
        }
        if self.recording_flush.is_zero() {
            return bad("recording flush interval of zero");
        }
        Ok(())
    }

    /// The address SDP names for a socket bound to `bound`.
    pub fn advertised_for(&self, bound: IpAddr) -> IpAddr {
        let configured = if bound.is_ipv4() {
            self.advertised_v4
        } else {
            self.advertised_v6
        };
        match configured {
            Some(addr) => addr,
            None if bound.is_unspecified() => {
                if bound.is_ipv4() {
                    IpAddr::from([127, 0, 0, 1])
                } else {
                    IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
                }
            }
            None => bound,
        }
    }
}
