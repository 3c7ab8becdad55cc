//! The call engine over a real SIP stack on loopback, with the far ends played by raw UDP
//! sockets that write SIP by hand: a carrier's INVITE forwarded to an agent's phone, answered,
//! hung up by the caller (the phone behind NAT, so its ACK and BYE must follow the address its
//! registration came from, not its Contact); the same with nobody answering. The record the engine hands to its
//! sink is checked for what the KPIs need.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_core::call::{CallRecord, EndCause, Party, Phase};
use hotline_core::ids::{AgentId, HotlineId, TenantId, TrunkId};
use hotline_routing::{
    AgentContact, AgentLocator, CallRecordSink, Directory, DirectoryError, Engine, HotlineAction,
    HotlineRoute, NoAnswerTarget, NumberRoute, OpenHours, OutboundRoute, OutboundTrunks, SinkError,
    TenantRoute, TenantState,
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
            }),
        }))
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
}

async fn world() -> World {
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
    let (engine, _writer) = Engine::new(
        Arc::new(OneNumber {
            tenant_id,
            agent_id,
        }),
        Arc::new(records.clone()),
        stack.clone(),
        Arc::new(Phone(phone.addr())),
        Arc::new(NoTrunks),
    );
    tokio::spawn(engine.run(calls));
    World {
        stack,
        records,
        carrier,
        phone,
        tenant_id,
        agent_id,
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
