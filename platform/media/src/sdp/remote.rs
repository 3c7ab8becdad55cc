//! What the other side described: its audio address, codecs in its order of preference, the
//! telephone-event payload type, ptime and direction. Only reads; never decides.

use std::net::{IpAddr, SocketAddr};

use sdp_types::Session;

use super::{Direction, SdpError};
use crate::codec::Codec;

/// The smallest and largest ptime accepted (RFC 3551 frames G.711 in 10 ms steps; anything
/// past 200 ms is not a telephone call).
pub const PTIME_RANGE_MS: std::ops::RangeInclusive<u32> = 10..=200;

/// One `m=` line as the answer must echo it (RFC 3264 §6: same count and order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaLine {
    pub media: String,
    pub proto: String,
    pub fmt: String,
}

/// The audio stream of a description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAudio {
    /// Index of the `m=` line.
    pub index: usize,
    /// Where to send RTP; `None` for `c=0.0.0.0` (RFC 2543 hold) or port 0 (stream refused).
    pub rtp_addr: Option<SocketAddr>,
    /// Explicit `a=rtcp:` (RFC 3605); otherwise RTP port + 1.
    pub rtcp_addr: Option<SocketAddr>,
    /// G.711 formats in the order offered, with the payload type the sender uses.
    pub codecs: Vec<(u8, Codec)>,
    /// Every format on the line, as offered (for errors).
    pub formats: Vec<String>,
    pub telephone_event: Option<u8>,
    pub ptime_ms: Option<u32>,
    pub direction: Direction,
    pub proto: String,
    pub port: u16,
}

/// A parsed description: every `m=` line and the audio one Hotline uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteDescription {
    pub lines: Vec<MediaLine>,
    pub audio: RemoteAudio,
    pub origin_session_id: String,
    pub origin_version: u64,
}

impl RemoteDescription {
    pub fn parse(body: &[u8]) -> Result<RemoteDescription, SdpError> {
        let session = Session::parse(body).map_err(|e| SdpError::Malformed(e.to_string()))?;
        from_session(&session)
    }
}

fn from_session(session: &Session) -> Result<RemoteDescription, SdpError> {
    let lines: Vec<MediaLine> = session
        .medias
        .iter()
        .map(|m| MediaLine {
            media: m.media.clone(),
            proto: m.proto.clone(),
            fmt: m.fmt.clone(),
        })
        .collect();
    let session_direction = session
        .attributes
        .iter()
        .find_map(|a| Direction::from_attribute(&a.attribute));

    // Prefer the first usable plain-RTP audio line; remember the first refusal reason.
    let mut first_error = None;
    for (index, media) in session.medias.iter().enumerate() {
        if !media.media.eq_ignore_ascii_case("audio") || media.port == 0 {
            continue;
        }
        match audio_line(session, index, session_direction) {
            Ok(audio) => {
                return Ok(RemoteDescription {
                    lines,
                    audio,
                    origin_session_id: session.origin.sess_id.clone(),
                    origin_version: session.origin.sess_version,
                })
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(SdpError::NoAudio))
}

fn audio_line(
    session: &Session,
    index: usize,
    session_direction: Option<Direction>,
) -> Result<RemoteAudio, SdpError> {
    let media = &session.medias[index];
    // RTP/AVPF is AVP with optional feedback (RFC 4585); an answer may keep it and send none.
    // Secure profiles (SAVP, SAVPF, DTLS) need keys Hotline does not have.
    if !media.proto.eq_ignore_ascii_case("RTP/AVP") && !media.proto.eq_ignore_ascii_case("RTP/AVPF")
    {
        return Err(SdpError::UnsupportedTransport(media.proto.clone()));
    }
    let formats: Vec<String> = media
        .fmt
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();

    let mut codecs = Vec::new();
    let mut telephone_event = None;
    for format in &formats {
        let Ok(pt) = format.parse::<u8>() else {
            return Err(SdpError::Malformed(format!("payload type {format:?}")));
        };
        if pt > 127 {
            return Err(SdpError::Malformed(format!("payload type {pt}")));
        }
        match rtpmap(media, pt) {
            Some((name, rate)) => {
                if name.eq_ignore_ascii_case("telephone-event") {
                    if rate == 8000 && telephone_event.is_none() {
                        telephone_event = Some(pt);
                    }
                } else if let Some(codec) = Codec::from_encoding_name(name) {
                    if rate == codec.clock_rate() {
                        codecs.push((pt, codec));
                    }
                }
            }
            None => {
                if let Some(codec) = Codec::from_static_payload_type(pt) {
                    codecs.push((pt, codec));
                }
            }
        }
    }

    let ptime_ms = match media.get_first_attribute_value("ptime") {
        Some(Some(value)) => Some(parse_ptime(value)?),
        Some(None) => return Err(SdpError::BadPtime(String::new())),
        None => None,
    };

    let direction = media
        .attributes
        .iter()
        .find_map(|a| Direction::from_attribute(&a.attribute))
        .or(session_direction)
        .unwrap_or(Direction::SendRecv);

    let connection = media
        .connections
        .first()
        .or(session.connection.as_ref())
        .ok_or_else(|| SdpError::BadAddress("no c= line".into()))?;
    let ip = connection_ip(&connection.connection_address)?;
    let rtp_addr = (!ip.is_unspecified()).then_some(SocketAddr::new(ip, media.port));
    let rtcp_addr = match media.get_first_attribute_value("rtcp") {
        Some(Some(value)) => rtcp_attribute(value, ip)?,
        _ => rtp_addr.map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1))),
    };

    // RFC 2543 hold (c=0.0.0.0): the holder receives nothing; it may still send.
    let direction = if ip.is_unspecified() {
        Direction::from_flags(direction.sends(), false)
    } else {
        direction
    };

    Ok(RemoteAudio {
        index,
        rtp_addr,
        rtcp_addr: rtcp_addr.filter(|_| !ip.is_unspecified()),
        codecs,
        formats,
        telephone_event,
        ptime_ms,
        direction,
        proto: media.proto.clone(),
        port: media.port,
    })
}

fn rtpmap(media: &sdp_types::Media, pt: u8) -> Option<(&str, u32)> {
    media.get_attribute_values("rtpmap").find_map(|value| {
        let value = value?;
        let (number, rest) = value.split_once(char::is_whitespace)?;
        if number.trim().parse::<u8>().ok()? != pt {
            return None;
        }
        let mut parts = rest.trim().split('/');
        let name = parts.next()?;
        let rate = parts.next()?.trim().parse().ok()?;
        Some((name, rate))
    })
}

fn parse_ptime(value: &str) -> Result<u32, SdpError> {
    let value = value.trim();
    // Some phones write a fraction ("20.0"); a ptime is whole milliseconds for G.711.
    let whole = value.strip_suffix(".0").unwrap_or(value);
    match whole.parse::<u32>() {
        Ok(ms) if PTIME_RANGE_MS.contains(&ms) => Ok(ms),
        _ => Err(SdpError::BadPtime(value.to_owned())),
    }
}

fn connection_ip(address: &str) -> Result<IpAddr, SdpError> {
    // Multicast "ttl/count" suffixes are meaningless for a phone call; an address is required.
    let host = address.split('/').next().unwrap_or(address);
    host.parse::<IpAddr>()
        .map_err(|_| SdpError::BadAddress(address.to_owned()))
}

fn rtcp_attribute(value: &str, default_ip: IpAddr) -> Result<Option<SocketAddr>, SdpError> {
    let mut parts = value.split_ascii_whitespace();
    let port: u16 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| SdpError::Malformed(format!("a=rtcp:{value}")))?;
    let ip = match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(_), Some(addr)) => connection_ip(addr)?,
        _ => default_ip,
    };
    Ok((!ip.is_unspecified()).then_some(SocketAddr::new(ip, port)))
}
