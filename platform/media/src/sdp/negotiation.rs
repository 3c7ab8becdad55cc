//! One leg's side of the offer/answer exchange (RFC 3264): answers to the other side's offers
//! and re-offers, Hotline's own offers (outbound legs, hold, resume) and the answers to them.
//!
//! The answer carries one codec: the first of the offerer's list that Hotline speaks, so both
//! directions use the same codec and a relay never sees a codec switch it did not agree to.
//! The origin's version rises only when the body changes (RFC 3264 §8).

use std::net::{IpAddr, SocketAddr};

use sdp_types::{Attribute, Connection, Media, Origin, Session, Time};
use serde::{Deserialize, Serialize};

use super::remote::{RemoteAudio, RemoteDescription};
use super::{Direction, SdpError};
use crate::codec::Codec;

/// The telephone-event payload type Hotline offers.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// What Hotline offers for one leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address written in `c=` and `o=` (the advertised one, not necessarily the bound one).
    pub address: IpAddr,
    pub rtp_port: u16,
    /// Codecs in Hotline's order of preference.
    pub codecs: Vec<Codec>,
    pub ptime_ms: u32,
}

/// The agreed stream: what to send, where, and what to expect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negotiated {
    pub codec: Codec,
    /// Payload type of our audio packets.
    pub send_payload_type: u8,
    /// Payload type the peer's audio packets carry.
    pub recv_payload_type: u8,
    pub send_telephone_event: Option<u8>,
    pub recv_telephone_event: Option<u8>,
    /// Milliseconds of audio per packet Hotline sends (10 to 60 ms in 10 ms steps).
    pub ptime_ms: u32,
    pub remote_rtp: Option<SocketAddr>,
    pub remote_rtcp: Option<SocketAddr>,
    /// What Hotline does on this stream: `SendOnly` while it holds the peer, `RecvOnly` while the
    /// peer holds Hotline.
    pub direction: Direction,
}

impl Negotiated {
    /// A sendrecv G.711 stream on the static payload type, 20 ms, RTCP beside RTP: what most
    /// phones agree to, for legs set up without an SDP exchange (tests, replays, tools).
    pub fn static_g711(
        codec: Codec,
        remote: SocketAddr,
        telephone_event: Option<u8>,
    ) -> Negotiated {
        let pt = codec.static_payload_type();
        Negotiated {
            codec,
            send_payload_type: pt,
            recv_payload_type: pt,
            send_telephone_event: telephone_event,
            recv_telephone_event: telephone_event,
            ptime_ms: 20,
            remote_rtp: Some(remote),
            remote_rtcp: None,
            direction: Direction::SendRecv,
        }
    }

    pub fn samples_per_packet(&self) -> usize {
        (self.ptime_ms as usize) * 8
    }
}

/// Keeps the offer/answer state of one leg.
#[derive(Debug)]
pub struct SdpNegotiation {
    local: LocalMedia,
    session_id: u64,
    version: u64,
    last_body: Option<Vec<u8>>,
    holding: bool,
    /// `holding` as of the last completed exchange, to return to when an offer is refused.
    holding_agreed: bool,
    outstanding_offer: Option<Direction>,
    current: Option<Negotiated>,
}

impl SdpNegotiation {
    pub fn new(local: LocalMedia, session_id: u64) -> SdpNegotiation {
        SdpNegotiation {
            local,
            session_id,
            version: 1,
            last_body: None,
            holding: false,
            holding_agreed: false,
            outstanding_offer: None,
            current: None,
        }
    }

    pub fn current(&self) -> Option<&Negotiated> {
        self.current.as_ref()
    }

    pub fn local(&self) -> &LocalMedia {
        &self.local
    }

    pub fn holding(&self) -> bool {
        self.holding
    }

    /// Whether Hotline holds the peer (stops listening to it; music may still go out) in the
    /// next offer or answer it writes.
    pub fn set_holding(&mut self, holding: bool) {
        self.holding = holding;
    }

    /// The peer refused our last offer (a 488 or 491 to the re-INVITE): nothing changed, and
    /// the hold state goes back to what was last agreed.
    pub fn offer_rejected(&mut self) {
        self.outstanding_offer = None;
        self.holding = self.holding_agreed;
    }

    /// Answers an offer or re-offer. The current state changes only when the answer is Ok.
    pub fn answer(&mut self, offer: &[u8]) -> Result<(Negotiated, Vec<u8>), SdpError> {
        let remote = RemoteDescription::parse(offer)?;
        let audio = &remote.audio;
        let (pt, codec) = self.pick_codec(audio)?;
        let direction = Direction::answer_to(audio.direction, self.holding);
        let negotiated = Negotiated {
            codec,
            send_payload_type: pt,
            recv_payload_type: pt,
            send_telephone_event: audio.telephone_event,
            recv_telephone_event: audio.telephone_event,
            ptime_ms: sending_ptime(audio.ptime_ms, self.local.ptime_ms),
            remote_rtp: audio.rtp_addr,
            remote_rtcp: audio.rtcp_addr,
            direction,
        };

        let mut medias = Vec::with_capacity(remote.lines.len());
        for (index, line) in remote.lines.iter().enumerate() {
            if index == audio.index {
                medias.push(self.audio_media(
                    &audio.proto,
                    &[(pt, codec)],
                    audio.telephone_event,
                    direction,
                    audio.ptime_ms.unwrap_or(self.local.ptime_ms),
                ));
            } else {
                medias.push(refused_media(&line.media, &line.proto, &line.fmt));
            }
        }
        let body = self.write(medias);
        self.outstanding_offer = None;
        self.holding_agreed = self.holding;
        self.current = Some(negotiated.clone());
        Ok((negotiated, body))
    }

    /// Writes an offer (a new outbound leg, hold, resume). On a re-offer the codec in use is
    /// listed first so the peer keeps it.
    pub fn create_offer(&mut self) -> Vec<u8> {
        let mut codecs: Vec<(u8, Codec)> = self
            .local
            .codecs
            .iter()
            .map(|c| (c.static_payload_type(), *c))
            .collect();
        if let Some(current) = &self.current {
            codecs.sort_by_key(|(_, c)| *c != current.codec);
        }
        let direction = if self.holding {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let media = self.audio_media(
            "RTP/AVP",
            &codecs,
            Some(TELEPHONE_EVENT_PT),
            direction,
            self.local.ptime_ms,
        );
        self.outstanding_offer = Some(direction);
        self.write(vec![media])
    }

    /// Accepts the answer to our last offer.
    pub fn accept_answer(&mut self, answer: &[u8]) -> Result<Negotiated, SdpError> {
        let offered_direction = self.outstanding_offer.ok_or(SdpError::NoOfferOutstanding)?;
        let remote = RemoteDescription::parse(answer)?;
        let audio = &remote.audio;
        if audio.index != 0 {
            return Err(SdpError::AnswerMismatch(
                "the audio stream moved to another m= line".into(),
            ));
        }
        // An answer may list more than one format; the first Hotline offered is the one in use.
        let (pt, codec) = self.pick_codec(audio)?;
        let direction = Direction::from_flags(
            offered_direction.sends() && audio.direction.receives(),
            offered_direction.receives() && audio.direction.sends(),
        );
        let negotiated = Negotiated {
            codec,
            send_payload_type: pt,
            recv_payload_type: codec.static_payload_type(),
            send_telephone_event: audio.telephone_event,
            recv_telephone_event: audio.telephone_event.map(|_| TELEPHONE_EVENT_PT),
            ptime_ms: sending_ptime(audio.ptime_ms, self.local.ptime_ms),
            remote_rtp: audio.rtp_addr,
            remote_rtcp: audio.rtcp_addr,
            direction,
        };
        self.outstanding_offer = None;
        self.holding_agreed = self.holding;
        self.current = Some(negotiated.clone());
        Ok(negotiated)
    }

    fn pick_codec(&self, audio: &RemoteAudio) -> Result<(u8, Codec), SdpError> {
        // The offerer's preference wins (RFC 3264 §6.1 "SHOULD"), among what Hotline speaks.
        audio
            .codecs
            .iter()
            .copied()
            .find(|(_, c)| self.local.codecs.contains(c))
            .ok_or_else(|| SdpError::NoCommonCodec {
                offered: audio.formats.clone(),
            })
    }

    /// The answer echoes the offer's profile (RTP/AVP, or RTP/AVPF whose feedback Hotline
    /// simply does not send); Hotline's own offers are RTP/AVP.
    fn audio_media(
        &self,
        proto: &str,
        codecs: &[(u8, Codec)],
        telephone_event: Option<u8>,
        direction: Direction,
        ptime_ms: u32,
    ) -> Media {
        let mut fmt: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
        fmt.extend(telephone_event.map(|pt| pt.to_string()));
        let mut media = Media {
            media: "audio".into(),
            port: self.local.rtp_port,
            num_ports: None,
            proto: proto.to_owned(),
            fmt: fmt.join(" "),
            media_title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        };
        for (pt, codec) in codecs {
            media.add_attribute(Attribute::with_value(
                "rtpmap",
                format!("{pt} {}/{}", codec.encoding_name(), codec.clock_rate()),
            ));
        }
        if let Some(pt) = telephone_event {
            media.add_attribute(Attribute::with_value(
                "rtpmap",
                format!("{pt} telephone-event/8000"),
            ));
            media.add_attribute(Attribute::with_value("fmtp", format!("{pt} 0-16")));
        }
        media.add_attribute(Attribute::with_value("ptime", ptime_ms));
        media.add_attribute(Attribute::new(direction.attribute()));
        media
    }

    fn write(&mut self, medias: Vec<Media>) -> Vec<u8> {
        let body = self.render(&medias, self.version);
        if self.last_body.as_ref().is_some_and(|last| *last == body) {
            return body;
        }
        if self.last_body.is_some() {
            self.version += 1;
        }
        let body = self.render(&medias, self.version);
        self.last_body = Some(body.clone());
        body
    }

    fn render(&self, medias: &[Media], version: u64) -> Vec<u8> {
        let mut origin = Origin::with_ip_addr(self.session_id, version, self.local.address);
        origin.set_username("hotline");
        let mut session = Session::new(origin, "Hotline");
        session.set_connection(Connection::from_ip_addr(self.local.address));
        session.add_time(Time::new(0, 0));
        session.add_medias(medias.iter().cloned());
        let mut body = Vec::with_capacity(256);
        // Writing into a Vec cannot fail.
        let _ = session.write(&mut body);
        body
    }
}

fn refused_media(media: &str, proto: &str, fmt: &str) -> Media {
    Media {
        media: media.to_owned(),
        port: 0,
        num_ports: None,
        proto: proto.to_owned(),
        fmt: fmt.to_owned(),
        media_title: None,
        connections: Vec::new(),
        bandwidths: Vec::new(),
        key: None,
        attributes: Vec::new(),
    }
}

/// The peer's ptime is a receive preference; Hotline sends it when it is a frame size the
/// player produces (10 to 60 ms in 10 ms steps), otherwise its own default.
fn sending_ptime(remote: Option<u32>, default: u32) -> u32 {
    match remote {
        Some(ms) if ms % 10 == 0 && (10..=60).contains(&ms) => ms,
        _ => default,
    }
}

#[cfg(test)]
mod tests;
