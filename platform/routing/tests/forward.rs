//! The call engine over a real SIP stack on loopback, with the far ends played by raw UDP
//! sockets that write SIP by hand: a carrier's INVITE forwarded to an agent's phone, answered,
//! hung up by the caller (the phone behind NAT, so its ACK and BYE must follow the address its
//! registration came from, not its Contact); the same with nobody answering. The record the engine hands to its
//! sink is checked for what the KPIs need.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_core::call::{CallRecord, EndCause, Party, Phase};
use hotline_core::ids::{AgentId, HotlineId, PromptId, TenantId, TrunkId};
use hotline_media::prompt::Prompt;
use hotline_media::{MediaConfig, MediaEngine};
use hotline_routing::{
    AgentContact, AgentLocator, CallRecordSink, Directory, DirectoryError, Engine, EngineParts,
    HotlineAction, HotlineRoute, NoAnswerTarget, NumberRoute, OpenHours, OutboundRoute,
    OutboundTrunks, PromptLookupError, PromptSource, QueueRef, QueueRoute, RecordingFiles,
    RecordingPolicy, SinkError, TenantRoute, TenantState,
};
use hotline_sip::{Admission, InboundGate, SipConfig, SipServices, SipStack};
use tokio::net::UdpSocket;

const NUMBER: &str = "+421233000111";
/// What the phone writes in its Contact: unroutable (TEST-NET-1), as behind a NAT.
const PRIVATE_CONTACT: &str = "192.0.2.99:5062";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

struct AnyTrunk;
impl InboundGate for AnyTrunk {
    fn admit(&self, _source: SocketAddr) -> Admission {
        Admission::Trunk {
            trunk_id: TrunkId::new(),
            slot: Box::new(()),
        }
    }
}

#[derive(Debug)]
struct AlwaysOpen;
impl OpenHours for AlwaysOpen {
    fn is_open(&self, _zone: Tz, _at: DateTime<Utc>) -> bool {
        true
    }
}

struct OneNumber {
    tenant_id: TenantId,
    agent_id: AgentId,
    recording: RecordingPolicy,
}
impl Directory for OneNumber {
    async fn lookup(&self, e164: &str) -> Result<Option<NumberRoute>, DirectoryError> {
        Ok((e164 == NUMBER).then(|| NumberRoute {
            e164: NUMBER.into(),
            tenant: TenantRoute {
                tenant_id: self.tenant_id,
                slug: "acme".into(),
                state: TenantState::Active,
                time_zone: chrono_tz::UTC,
                max_concurrent_calls: 10,
                max_calls_per_second: 10,
                plugin_cpu_ms_per_call: 50,
            },
            hotline: Some(HotlineRoute {
                hotline_id: HotlineId::new(),
                name: "support".into(),
                hours: Arc::new(AlwaysOpen),
                open: HotlineAction::ForwardAgent {
                    agent_id: self.agent_id,
                    ring_timeout: Duration::from_secs(2),
                    no_answer: NoAnswerTarget::Reject { status: 480 },
                },
                closed: HotlineAction::Reject { status: 480 },
                recording: self.recording,
                language: "en".into(),
            }),
        }))
    }

    async fn queue(
        &self,
        _tenant_id: TenantId,
        _queue: QueueRef<'_>,
    ) -> Result<Option<QueueRoute>, DirectoryError> {
        Ok(None)
    }

    async fn agent(
        &self,
        _tenant_id: TenantId,
        _username: &str,
    ) -> Result<Option<AgentId>, DirectoryError> {
        Ok(None)
    }
}

#[derive(Clone, Default)]
struct Records(Arc<Mutex<Vec<CallRecord>>>);
impl CallRecordSink for Records {
    async fn record(&self, record: &CallRecord) -> Result<(), SinkError> {
        self.0.lock().unwrap().push(record.clone());
        Ok(())
    }
}

struct Phone(SocketAddr);
impl AgentLocator for Phone {
    fn contacts(&self, _agent_id: AgentId) -> Vec<AgentContact> {
        // The phone sits behind NAT: its Contact is a private address nobody can reach; only
        // the address its REGISTER came from works.
        vec![AgentContact {
            uri: format!("sip:1001@{PRIVATE_CONTACT}"),
            destination: self.0,
            tcp: false,
        }]
    }
}

/// Recordings go into a temporary directory, one file per call.
struct TempRecordings(PathBuf);
impl RecordingFiles for TempRecordings {
    fn create(
        &self,
        _tenant_id: TenantId,
        call_id: hotline_core::ids::CallId,
        _arrived_at: DateTime<Utc>,
    ) -> Result<(String, PathBuf), String> {
        let key = format!("{call_id}.wav");
        Ok((key.clone(), self.0.join(key)))
    }
}

struct NoPrompts;
#[async_trait::async_trait]
impl PromptSource for NoPrompts {
    async fn by_name(&self, _: TenantId, name: &str) -> Result<Prompt, PromptLookupError> {
        Err(PromptLookupError::NotFound(name.into()))
    }
    async fn by_id(&self, _: TenantId, id: PromptId) -> Result<Prompt, PromptLookupError> {
        Err(PromptLookupError::NotFound(id.to_string()))
    }
}

struct NoTrunks;
impl OutboundTrunks for NoTrunks {
    fn route(&self, _: Option<TrunkId>, _: &str, _: &str, _: &str) -> Option<OutboundRoute> {
        None
    }
}

/// A SIP peer written by hand.
struct Peer {
    socket: UdpSocket,
    hotline: SocketAddr,
}

impl Peer {
    async fn new(hotline: SocketAddr) -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            hotline,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.hotline)
            .await
            .unwrap();
    }

    /// The next message whose first line contains `start` (retransmissions of others skipped).
    async fn expect(&self, start: &str) -> String {
        let mut buf = vec![0u8; 8192];
        loop {
            let (len, _) =
                tokio::time::timeout(Duration::from_secs(5), self.socket.recv_from(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("timed out waiting for {start}"))
                    .unwrap();
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            if text.lines().next().unwrap_or_default().contains(start) {
                return text;
            }
        }
    }
}

fn private() -> SocketAddr {
    PRIVATE_CONTACT.parse().unwrap()
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in {message}"))
}

/// The response to `request` a UAS sends: its Via, From, Call-ID, CSeq, and To with a tag.
fn response(request: &str, status: &str, tag: &str, body: &str, contact: SocketAddr) -> String {
    let mut text = format!("SIP/2.0 {status}\r\n");
    for line in request.lines() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if ["via", "from", "call-id", "cseq"].contains(&name.as_str()) {
            text.push_str(line);
            text.push_str("\r\n");
        }
    }
    text.push_str(&format!("To: {};tag={tag}\r\n", header(request, "To")));
    text.push_str(&format!("Contact: <sip:1001@{contact}>\r\n"));
    if body.is_empty() {
        text.push_str("Content-Length: 0\r\n\r\n");
    } else {
        text.push_str(&format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }
    text
}

struct World {
    stack: SipStack,
    records: Records,
    carrier: Peer,
    phone: Peer,
    tenant_id: TenantId,
    agent_id: AgentId,
    media: Option<MediaEngine>,
    recordings: tempfile::TempDir,
}

/// Signaling only: every SDP passes through.
async fn world() -> World {
    world_with(None, RecordingPolicy::Never).await
}

/// Media anchored by a media engine on its own port range, with that recording policy.
async fn anchored_world(recording: RecordingPolicy, media_timeout: Duration) -> World {
    let media = MediaEngine::start(MediaConfig {
        bind_v4: Some("127.0.0.1".parse().unwrap()),
        port_min: 32_000,
        port_max: 32_999,
        media_timeout,
        ..MediaConfig::default()
    })
    .unwrap();
    world_with(Some(media), recording).await
}

async fn world_with(media: Option<MediaEngine>, recording: RecordingPolicy) -> World {
    let config = SipConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..SipConfig::default()
    };
    let services = SipServices {
        gate: Arc::new(AnyTrunk),
        registrar: None,
    };
    let (stack, calls) = SipStack::start(config, services).await.unwrap();
    let hotline = stack.local_addrs()[0];
    let carrier = Peer::new(hotline).await;
    let phone = Peer::new(hotline).await;
    let records = Records::default();
    let (tenant_id, agent_id) = (TenantId::new(), AgentId::new());
    let recordings = tempfile::tempdir().unwrap();
    let (engine, _writer) = Engine::new(EngineParts {
        directory: Arc::new(OneNumber {
            tenant_id,
            agent_id,
            recording,
        }),
        sink: Arc::new(records.clone()),
        sip: stack.clone(),
        agents: Arc::new(Phone(phone.addr())),
        trunks: Arc::new(NoTrunks),
        media: media.clone(),
        prompts: Arc::new(NoPrompts),
        recordings: Arc::new(TempRecordings(recordings.path().to_path_buf())),
        ivr: None,
    });
    tokio::spawn(engine.run(calls));
    World {
        stack,
        records,
        carrier,
        phone,
        tenant_id,
        agent_id,
        media,
        recordings,
    }
}

fn invite(carrier: &Peer, call_id: &str) -> String {
    format!(
        "INVITE sip:{NUMBER}@{hotline} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK-{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+421900111222@{me}>;tag=carrier\r\n\
         To: <sip:{NUMBER}@{hotline}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:carrier@{me}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{SDP}",
        hotline = carrier.hotline,
        me = carrier.addr(),
        len = SDP.len(),
    )
}

async fn wait_for_record(records: &Records) -> CallRecord {
    for _ in 0..100 {
        if let Some(record) = records.0.lock().unwrap().first().cloned() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no call record");
}

#[tokio::test]
async fn forwarded_call_is_answered_bridged_and_hung_up_by_the_caller() {
    let w = world().await;
    w.carrier.send(&invite(&w.carrier, "fwd-1")).await;

    // The phone rings with the caller's SDP, passed through untouched, and a call of its own.
    let offer = w.phone.expect("INVITE").await;
    assert!(offer.ends_with(SDP), "SDP passed through: {offer}");
    assert_ne!(
        header(&offer, "Call-ID"),
        "fwd-1",
        "the B2BUA's own Call-ID"
    );
    assert_eq!(header(&offer, "Max-Forwards"), "69");
    w.phone
        .send(&response(&offer, "180 Ringing", "phone", "", private()))
        .await;
    w.carrier.expect("180").await;
    w.phone
        .send(&response(&offer, "200 OK", "phone", SDP, private()))
        .await;
    let ok = w.carrier.expect("200 OK").await;
    assert!(ok.ends_with(SDP));
    w.phone.expect("ACK").await;

    // The caller acknowledges and hangs up; the BYE reaches the phone.
    let to = header(&ok, "To").to_string();
    let ack_bye = |method: &str, cseq: u32| {
        format!(
            "{method} sip:hotline@{hotline} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch=z9hG4bK-{method}-{cseq};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:+421900111222@{me}>;tag=carrier\r\n\
             To: {to}\r\n\
             Call-ID: fwd-1\r\n\
             CSeq: {cseq} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            hotline = w.carrier.hotline,
            me = w.carrier.addr(),
        )
    };
    w.carrier.send(&ack_bye("ACK", 1)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    w.carrier.send(&ack_bye("BYE", 2)).await;
    w.carrier.expect("200 OK").await;
    let bye = w.phone.expect("BYE").await;
    w.phone
        .send(&response(&bye, "200 OK", "phone", "", private()))
        .await;

    let record = wait_for_record(&w.records).await;
    assert_eq!(record.tenant_id, Some(w.tenant_id));
    assert_eq!(record.end_cause, EndCause::Completed);
    assert_eq!(record.hangup_by, Party::Caller);
    assert_eq!(record.agent_id, Some(w.agent_id));
    assert!(record.agent_answered_at.is_some());
    assert_eq!(record.phase_at_end, Phase::Talking);
    assert_eq!(record.legs.len(), 1);
    assert!(record.legs[0].ringing_at.is_some());
    assert!(w.stack.active_calls() <= 1);
}

#[tokio::test]
async fn unanswered_forward_times_out_to_the_no_answer_target() {
    let w = world().await;
    w.carrier.send(&invite(&w.carrier, "fwd-2")).await;
    let offer = w.phone.expect("INVITE").await;
    w.phone
        .send(&response(&offer, "180 Ringing", "phone", "", private()))
        .await;
    w.carrier.expect("180").await;
    // Nobody answers: after the ring timeout the phone is cancelled and the caller gets 480.
    let cancel = w.phone.expect("CANCEL").await;
    w.phone
        .send(&response(&cancel, "200 OK", "phone", "", private()))
        .await;
    w.phone
        .send(&response(
            &offer,
            "487 Request Terminated",
            "phone",
            "",
            private(),
        ))
        .await;
    w.carrier.expect("480").await;

    let record = wait_for_record(&w.records).await;
    assert_eq!(record.end_cause, EndCause::NoAnswer);
    assert_eq!(record.agent_answered_at, None);
    assert_eq!(
        record.legs[0].end,
        Some(hotline_core::call::LegEnd::NoAnswer)
    );
}

#[tokio::test]
async fn unknown_number_is_refused_with_404_and_recorded() {
    let w = world().await;
    let text = invite(&w.carrier, "unknown-1").replace(NUMBER, "+421299999999");
    w.carrier.send(&text).await;
    w.carrier.expect("404").await;
    let record = wait_for_record(&w.records).await;
    assert_eq!(record.tenant_id, None);
    assert!(matches!(
        record.end_cause,
        EndCause::Rejected { status: 404, .. }
    ));
}

// ---- anchored media -------------------------------------------------------------------------

fn sdp_for(port: u16, formats: &str, attributes: &str) -> String {
    format!(
        "v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {formats}\r\n{attributes}"
    )
}

fn invite_with(carrier: &Peer, call_id: &str, sdp: &str) -> String {
    invite(carrier, call_id).replace(
        &format!("Content-Length: {}\r\n\r\n{SDP}", SDP.len()),
        &format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len()),
    )
}

/// The port of the SDP body's audio line.
fn audio_port(message: &str) -> u16 {
    message
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no audio line in {message}"))
}

/// A PCMU packet: 20 ms of one constant sample value.
fn rtp(seq: u16, ssrc: u32, sample: u8) -> Vec<u8> {
    let mut packet = vec![0x80, 0x00];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend(std::iter::repeat_n(sample, 160));
    packet
}

/// RTP packets arriving on `socket` within `within`: (SSRC, sequence, first payload byte).
async fn received(socket: &UdpSocket, within: Duration) -> Vec<(u32, u16, u8)> {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = vec![0u8; 2048];
    let mut seen = Vec::new();
    while let Ok(Ok(len)) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
        if len >= 13 && buf[1] & 0x7f == 0 {
            let seq = u16::from_be_bytes([buf[2], buf[3]]);
            let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            seen.push((ssrc, seq, buf[12]));
        }
    }
    seen
}

fn ack_or_bye(w: &World, method: &str, cseq: u32, call_id: &str, to: &str) -> String {
    format!(
        "{method} sip:hotline@{hotline} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK-{call_id}-{method}-{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+421900111222@{me}>;tag=carrier\r\n\
         To: {to}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Content-Length: 0\r\n\r\n",
        hotline = w.carrier.hotline,
        me = w.carrier.addr(),
    )
}

async fn ports_released(media: &MediaEngine) {
    for _ in 0..100 {
        if media.ports_in_use() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} RTP port pairs still held", media.ports_in_use());
}

#[tokio::test]
async fn anchored_call_relays_rtp_both_ways_records_it_and_keeps_its_quality() {
    let w = anchored_world(RecordingPolicy::Always, Duration::from_secs(30)).await;
    let media = w.media.clone().unwrap();
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let caller_sdp = sdp_for(
        carrier_rtp.local_addr().unwrap().port(),
        "0 101",
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
    );
    w.carrier
        .send(&invite_with(&w.carrier, "media-1", &caller_sdp))
        .await;

    // The phone gets Hotline's own offer, not the caller's.
    let offer = w.phone.expect("INVITE").await;
    let hotline_to_phone = audio_port(&offer);
    assert_ne!(hotline_to_phone, carrier_rtp.local_addr().unwrap().port());
    assert!(!offer.contains("o=- 7 7"), "not the caller's SDP: {offer}");
    let phone_sdp = sdp_for(
        phone_rtp.local_addr().unwrap().port(),
        "0",
        "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
    );
    w.phone
        .send(&response(&offer, "200 OK", "phone", &phone_sdp, private()))
        .await;
    let ok = w.carrier.expect("200 OK").await;
    let hotline_to_carrier = audio_port(&ok);
    assert_ne!(hotline_to_carrier, phone_rtp.local_addr().unwrap().port());
    let to = header(&ok, "To").to_string();
    w.carrier
        .send(&ack_or_bye(&w, "ACK", 1, "media-1", &to))
        .await;
    w.phone.expect("ACK").await;

    // Audio both ways through Hotline: the caller sends 0x11, the phone 0x22.
    let (caller_ssrc, phone_ssrc) = (0x0CA1_1E00, 0x0A6E_0700);
    let to_hotline = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    for seq in 0..25u16 {
        carrier_rtp
            .send_to(&rtp(seq, caller_ssrc, 0x11), to_hotline(hotline_to_carrier))
            .await
            .unwrap();
        phone_rtp
            .send_to(&rtp(seq, phone_ssrc, 0x22), to_hotline(hotline_to_phone))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_phone = received(&phone_rtp, Duration::from_millis(500)).await;
    let at_carrier = received(&carrier_rtp, Duration::from_millis(500)).await;
    for (label, seen, foreign, byte) in [
        ("phone", &at_phone, caller_ssrc, 0x11),
        ("carrier", &at_carrier, phone_ssrc, 0x22),
    ] {
        let relayed: Vec<_> = seen.iter().filter(|(_, _, b)| *b == byte).collect();
        assert!(
            relayed.len() >= 20,
            "{label} heard {} of 25 packets: {seen:?}",
            relayed.len()
        );
        assert!(
            relayed.iter().all(|(ssrc, _, _)| *ssrc != foreign),
            "{label}: Hotline's own SSRC, not the far end's"
        );
        assert!(
            relayed.windows(2).all(|w| w[1].1 == w[0].1.wrapping_add(1)),
            "{label}: consecutive sequence numbers"
        );
    }

    w.carrier
        .send(&ack_or_bye(&w, "BYE", 2, "media-1", &to))
        .await;
    w.carrier.expect("200 OK").await;
    let bye = w.phone.expect("BYE").await;
    w.phone
        .send(&response(&bye, "200 OK", "phone", "", private()))
        .await;

    let record = wait_for_record(&w.records).await;
    assert_eq!(record.end_cause, EndCause::Completed);
    assert_eq!(record.media.len(), 2, "{:?}", record.media);
    for leg in &record.media {
        assert_eq!(leg.codec, "PCMU");
        assert!(leg.packets_in >= 20, "{leg:?}");
        assert!(leg.packets_out >= 20, "{leg:?}");
    }
    assert_eq!(
        record.media.iter().map(|m| m.leg).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let recording = record.recording.expect("recorded");
    assert_eq!(recording.failed, None);
    assert!(recording.duration_ms >= 300, "{recording:?}");
    let wav = hound::WavReader::open(w.recordings.path().join(&recording.key)).unwrap();
    assert_eq!(wav.spec().channels, 2, "caller left, agent right");
    assert_eq!(wav.spec().sample_rate, 8_000);
    ports_released(&media).await;
}

#[tokio::test]
async fn an_offer_with_nothing_in_common_is_refused_with_488() {
    let w = anchored_world(RecordingPolicy::Never, Duration::from_secs(30)).await;
    let g729 = sdp_for(40_000, "18", "a=rtpmap:18 G729/8000\r\n");
    w.carrier
        .send(&invite_with(&w.carrier, "media-488", &g729))
        .await;
    w.carrier.expect("488").await;
    let record = wait_for_record(&w.records).await;
    assert_eq!(
        record.end_cause,
        EndCause::Rejected {
            reason: hotline_core::call::RejectReason::MediaNotAcceptable,
            status: 488
        }
    );
    ports_released(w.media.as_ref().unwrap()).await;
}

#[tokio::test]
async fn a_silent_anchored_call_ends_with_a_media_timeout() {
    let w = anchored_world(RecordingPolicy::Never, Duration::from_secs(1)).await;
    let carrier_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sdp = sdp_for(
        carrier_rtp.local_addr().unwrap().port(),
        "8",
        "a=rtpmap:8 PCMA/8000\r\n",
    );
    w.carrier
        .send(&invite_with(&w.carrier, "media-silent", &sdp))
        .await;
    let offer = w.phone.expect("INVITE").await;
    let phone_sdp = sdp_for(41_000, "8", "a=rtpmap:8 PCMA/8000\r\n");
    w.phone
        .send(&response(&offer, "200 OK", "phone", &phone_sdp, private()))
        .await;
    let ok = w.carrier.expect("200 OK").await;
    let to = header(&ok, "To").to_string();
    w.carrier
        .send(&ack_or_bye(&w, "ACK", 1, "media-silent", &to))
        .await;
    // Nobody sends a packet: Hotline hangs up both sides.
    let bye = w.phone.expect("BYE").await;
    w.phone
        .send(&response(&bye, "200 OK", "phone", "", private()))
        .await;
    let bye = w.carrier.expect("BYE").await;
    w.carrier
        .send(&response(&bye, "200 OK", "carrier", "", w.carrier.addr()))
        .await;
    let record = wait_for_record(&w.records).await;
    assert_eq!(record.end_cause, EndCause::MediaTimeout);
    assert_eq!(record.hangup_by, Party::System);
    assert!(record
        .media
        .iter()
        .all(|leg| leg.codec == "PCMA" && leg.packets_in == 0));
    ports_released(w.media.as_ref().unwrap()).await;
}
