//! The malformed-input corpus (tests/corpus, described in its README) thrown at a real
//! [`SipStack`] over UDP and TCP on 127.0.0.1: every broken message is answered with the status
//! the RFC names or dropped, every unusual-but-valid one gets its normal answer (INVITEs reach
//! the call engine with the number parsed), and afterwards the stack still answers OPTIONS on
//! both transports.
//!
//! Expectations are one table, [`CASES`]; a corpus file without a line there (or a line
//! without its file) fails the test, so the README, the corpus and the table cannot drift.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_core::ids::TrunkId;
use hotline_sip::registrar::memory::{MemoryBindingStore, MemoryDirectory};
use hotline_sip::registrar::{Registrar, RegistrarConfig};
use hotline_sip::{
    Admission, InboundGate, InviteInfo, RegisterHandler, SipConfig, SipServices, SipStack,
};
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Response, SipMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{timeout_at, Instant};

/// How long "nothing comes back" is watched for. A real answer arrives in milliseconds.
const QUIET: Duration = Duration::from_millis(1500);
/// How long an expected answer may take on a machine busy compiling.
const PATIENCE: Duration = Duration::from_secs(10);
/// The status the test's call engine refuses every call with, so the caller sees it came
/// through the engine.
const ENGINE_REFUSAL: u16 = 480;

/// What a corpus message must cause.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// A final response with this status; `header` must be in it when given.
    Answer {
        status: u16,
        header: Option<&'static str>,
    },
    /// Refused by Hotline's dispatcher: this status with this text in its Warning header.
    Refused { status: u16, warning: &'static str },
    /// No response at all within [`QUIET`] (dropped, or a stream still waiting for more).
    Silence,
    /// The INVITE reaches the call engine carrying these values.
    Call(Expected),
    /// The stack closes the TCP connection without answering.
    Closed,
    /// Larger than one UDP datagram can be: the kernel refuses to send it.
    Unsendable,
}

impl Outcome {
    /// How long to wait for something to come back.
    fn wait(self) -> Duration {
        match self {
            Outcome::Silence => QUIET,
            _ => PATIENCE,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Expected {
    dialed: &'static str,
    caller: &'static str,
    caller_name: Option<&'static str>,
    sdp: bool,
}

struct Case {
    file: &'static str,
    udp: Outcome,
    /// Only a subset also goes over TCP (framing cases, and enough valid ones to show TCP works).
    tcp: Option<Outcome>,
}

const fn answer(status: u16) -> Outcome {
    Outcome::Answer {
        status,
        header: None,
    }
}

const fn answer_with(status: u16, header: &'static str) -> Outcome {
    Outcome::Answer {
        status,
        header: Some(header),
    }
}

const fn refused(status: u16, warning: &'static str) -> Outcome {
    Outcome::Refused { status, warning }
}

const fn call(
    dialed: &'static str,
    caller: &'static str,
    caller_name: Option<&'static str>,
    sdp: bool,
) -> Outcome {
    Outcome::Call(Expected {
        dialed,
        caller,
        caller_name,
        sdp,
    })
}

use Outcome::{Closed, Silence, Unsendable};

#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---- broken ----
    Case { file: "garbage-ascii.sip", udp: Silence, tcp: Some(Closed) },
    Case { file: "binary-noise.sip", udp: Silence, tcp: Some(Silence) },
    Case { file: "not-sip-http-request.sip", udp: Silence, tcp: Some(Closed) },
    Case { file: "truncated-start-line.sip", udp: Silence, tcp: None },
    Case { file: "truncated-mid-headers.sip", udp: Silence, tcp: Some(Silence) },
    Case { file: "missing-via.sip", udp: Silence, tcp: None },
    Case { file: "missing-from.sip", udp: Silence, tcp: None },
    Case { file: "missing-to.sip", udp: Silence, tcp: Some(Silence) },
    Case { file: "missing-call-id.sip", udp: Silence, tcp: None },
    Case { file: "missing-cseq.sip", udp: Silence, tcp: None },
    Case { file: "from-without-tag.sip", udp: Silence, tcp: None },
    Case { file: "via-unparseable.sip", udp: Silence, tcp: None },
    Case { file: "via-unbalanced-quote.sip", udp: Silence, tcp: None },
    Case { file: "cseq-method-mismatch.sip", udp: refused(400, "Bad CSeq"), tcp: Some(refused(400, "Bad CSeq")) },
    Case { file: "cseq-not-a-number.sip", udp: Silence, tcp: None },
    Case { file: "content-length-negative.sip", udp: refused(400, "Bad Content-Length"), tcp: Some(Closed) },
    Case { file: "content-length-overflow.sip", udp: refused(400, "Bad Content-Length"), tcp: Some(Closed) },
    Case { file: "content-length-larger-than-body.sip", udp: refused(400, "Bad Content-Length"), tcp: None },
    Case { file: "content-length-smaller-than-body.sip", udp: answer(200), tcp: None },
    Case { file: "header-without-colon.sip", udp: Silence, tcp: None },
    Case { file: "header-without-colon-optional.sip", udp: answer(200), tcp: None },
    Case { file: "oversized-140k.sip", udp: Unsendable, tcp: Some(Closed) },
    Case { file: "oversized-udp-header-20k.sip", udp: Silence, tcp: Some(refused(513, "too large")) },
    Case { file: "oversized-udp-body-20k.sip", udp: refused(400, "Bad Content-Length"), tcp: Some(refused(513, "too large")) },
    Case { file: "nul-in-header-value.sip", udp: answer(200), tcp: None },
    Case { file: "nul-in-request-uri.sip", udp: answer(200), tcp: None },
    Case { file: "invalid-utf8-late-header.sip", udp: answer(200), tcp: None },
    Case { file: "invalid-utf8-from-display-name.sip", udp: Silence, tcp: None },
    Case { file: "max-forwards-zero.sip", udp: answer(483), tcp: Some(answer(483)) },
    Case { file: "max-forwards-absurd.sip", udp: answer(400), tcp: None },
    Case { file: "max-forwards-negative.sip", udp: answer(400), tcp: None },
    Case { file: "max-forwards-out-of-range.sip", udp: answer(400), tcp: None },
    Case { file: "unknown-method.sip", udp: Silence, tcp: Some(Closed) },
    Case { file: "sip-version-3.sip", udp: refused(505, "Version SIP/3.0 not supported"), tcp: Some(refused(505, "SIP/3.0")) },
    Case { file: "stray-response.sip", udp: Silence, tcp: None },
    // ---- unusual but valid ----
    Case { file: "options.sip", udp: answer_with(200, "Allow"), tcp: Some(answer_with(200, "Allow")) },
    Case { file: "options-max-forwards-zero.sip", udp: answer(200), tcp: None },
    Case {
        file: "compact-headers-invite.sip",
        udp: call("+421233000222", "+421900222333", None, true),
        tcp: Some(call("+421233000222", "+421900222333", None, true)),
    },
    Case {
        file: "ipv6-request-uri-and-via.sip",
        udp: call("+421233000333", "+421900333444", None, true),
        tcp: None,
    },
    Case {
        file: "folded-headers.sip",
        udp: call("+421233000666", "+421900444555", Some("Folded Caller"), false),
        tcp: Some(call("+421233000666", "+421900444555", Some("Folded Caller"), false)),
    },
    Case {
        file: "tel-request-uri.sip",
        udp: call("+421233000444", "+421900111222", Some("Jane Doe"), false),
        tcp: Some(call("+421233000444", "+421900111222", Some("Jane Doe"), false)),
    },
    Case { file: "mixed-case-header-names.sip", udp: answer(200), tcp: Some(answer(200)) },
    Case {
        file: "extra-whitespace.sip",
        udp: call("+421233000777", "+421900555666", Some("Spacey"), false),
        tcp: None,
    },
    Case { file: "sips-uri.sip", udp: answer(200), tcp: None },
    Case {
        file: "params-without-value.sip",
        udp: call("+421233000555", "+421900111222", Some("Jane Doe"), false),
        tcp: None,
    },
    Case { file: "multiple-via-one-line.sip", udp: answer(200), tcp: None },
    Case { file: "register-several-contacts.sip", udp: answer_with(401, "WWW-Authenticate"), tcp: Some(answer_with(401, "WWW-Authenticate")) },
    Case {
        file: "invite-udp-no-content-length.sip",
        // rsipstack reads a missing Content-Length as 0 and drops the body (see the README).
        udp: call("+421233000888", "+421900111222", Some("Jane Doe"), false),
        tcp: None,
    },
    Case { file: "message-method.sip", udp: answer_with(405, "Allow"), tcp: None },
    Case { file: "bye-outside-dialog.sip", udp: answer(481), tcp: None },
    Case { file: "cancel-without-invite.sip", udp: answer(481), tcp: None },
    Case { file: "ack-stray.sip", udp: Silence, tcp: None },
];

/// Admits INVITEs from loopback addresses only, as one trunk.
struct LoopbackTrunk(TrunkId);

impl InboundGate for LoopbackTrunk {
    fn admit(&self, source: SocketAddr) -> Admission {
        if source.ip().is_loopback() {
            Admission::Trunk {
                trunk_id: self.0,
                slot: Box::new(()),
            }
        } else {
            Admission::NotATrunk
        }
    }
}

/// The stack under test and what its call engine saw, by SIP Call-ID.
struct Harness {
    stack: SipStack,
    addr: SocketAddr,
    calls: Arc<Mutex<HashMap<String, InviteInfo>>>,
}

async fn start_stack() -> Harness {
    let directory = MemoryDirectory::default();
    directory.add_agent(None, "acme.sip.example", "1001", "secret-1001");
    let registrar = Registrar::start(
        RegistrarConfig::default(),
        directory,
        MemoryBindingStore::default(),
    )
    .await
    .unwrap();
    let registrar: Arc<dyn RegisterHandler> = registrar;
    let config = SipConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        ..SipConfig::default()
    };
    let services = SipServices {
        gate: Arc::new(LoopbackTrunk(TrunkId::new())),
        registrar: Some(registrar),
    };
    let (stack, incoming) = SipStack::start(config, services).await.unwrap();
    let addr = stack.local_addrs()[0];
    let calls = Arc::new(Mutex::new(HashMap::new()));
    tokio::spawn(refuse_every_call(incoming, calls.clone()));
    Harness { stack, addr, calls }
}

/// The stand-in call engine: remembers each call's info, then refuses it.
async fn refuse_every_call(
    mut incoming: mpsc::Receiver<hotline_sip::IncomingCall>,
    calls: Arc<Mutex<HashMap<String, InviteInfo>>>,
) {
    while let Some(call) = incoming.recv().await {
        let info = call.info.clone();
        calls.lock().unwrap().insert(info.sip_call_id.clone(), info);
        call.reject(ENGINE_REFUSAL, None).await;
    }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn corpus() -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sip"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// What actually came back for one message.
#[derive(Debug)]
enum Seen {
    Final(Box<Response>),
    Silence,
    Closed,
    /// The kernel refused the datagram (over 65,507 bytes).
    Unsendable,
}

/// Read responses until a final one or `wait` has passed.
async fn await_final_udp(socket: &UdpSocket, wait: Duration) -> Seen {
    let deadline = Instant::now() + wait;
    let mut buffer = vec![0u8; 65_536];
    loop {
        let Ok(Ok(n)) = timeout_at(deadline, socket.recv(&mut buffer)).await else {
            return Seen::Silence;
        };
        if let Ok(SipMessage::Response(response)) = SipMessage::try_from(&buffer[..n]) {
            if response.status_code.code() >= 200 {
                return Seen::Final(Box::new(response));
            }
        }
    }
}

async fn send_udp(target: SocketAddr, bytes: Vec<u8>, wait: Duration) -> Seen {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    if socket.send_to(&bytes, target).await.is_err() {
        return Seen::Unsendable;
    }
    await_final_udp(&socket, wait).await
}

/// Cut complete SIP messages off the front of a stream buffer (framed by Content-Length).
fn next_stream_message(buffer: &mut Vec<u8>) -> Option<SipMessage> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            matches!(name.trim(), "content-length" | "l").then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    if buffer.len() < end + length {
        return None;
    }
    let message: Vec<u8> = buffer.drain(..end + length).collect();
    SipMessage::try_from(&message[..]).ok()
}

/// Read responses until a final one, the end of the stream or `wait` has passed.
async fn await_final_tcp(stream: &mut TcpStream, wait: Duration) -> Seen {
    let deadline = Instant::now() + wait;
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 65_536];
    loop {
        while let Some(message) = next_stream_message(&mut buffer) {
            if let SipMessage::Response(response) = message {
                if response.status_code.code() >= 200 {
                    return Seen::Final(Box::new(response));
                }
            }
        }
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return Seen::Silence,
            Ok(Ok(0)) | Ok(Err(_)) => return Seen::Closed,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Send `parts` one after another on a fresh connection; `close_after` half-closes it then.
async fn send_tcp(
    target: SocketAddr,
    parts: Vec<Vec<u8>>,
    close_after: bool,
    wait: Duration,
) -> Seen {
    let mut stream = TcpStream::connect(target).await.unwrap();
    for part in parts {
        // A peer that reset the connection after an earlier part is an outcome, not a failure.
        if stream.write_all(&part).await.is_err() {
            return Seen::Closed;
        }
    }
    if close_after {
        stream.shutdown().await.unwrap();
    }
    await_final_tcp(&mut stream, wait).await
}

/// The same message as a distinct TCP transaction: the UDP run's transactions (same branch,
/// same Call-ID) may still be alive, and a copy would be taken for their retransmission.
fn for_tcp(bytes: &[u8]) -> Vec<u8> {
    let text = bytes.to_vec();
    let swaps: [(&[u8], &[u8]); 3] = [
        (b"SIP/2.0/UDP 192.0.2.1", b"SIP/2.0/TCP 192.0.2.1"),
        (b"z9hG4bK-", b"z9hG4bKtcp-"),
        (b"@corpus", b"@corpus-tcp"),
    ];
    swaps
        .iter()
        .fold(text, |text, (from, to)| replace_all(&text, from, to))
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn warning(response: &Response) -> String {
    response
        .headers
        .iter()
        .find(|header| header.name().eq_ignore_ascii_case("Warning"))
        .map(|header| header.value().to_string())
        .unwrap_or_default()
}

/// Fails the enclosing check with a message unless the condition holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

/// Check one outcome: the Call-ID the engine must have seen (for `Call` outcomes), or what
/// went wrong.
fn check(
    label: &str,
    want: Outcome,
    seen: Seen,
    harness: &Harness,
) -> Result<Option<String>, String> {
    match (want, seen) {
        (Outcome::Answer { status, header }, Seen::Final(response)) => {
            let code = response.status_code.code();
            ensure!(code == status, "{label}: expected {status}, got {response}");
            if let Some(name) = header {
                let present = response
                    .headers
                    .iter()
                    .any(|h| h.name().eq_ignore_ascii_case(name));
                ensure!(present, "{label}: no {name} in {response}");
            }
            Ok(None)
        }
        (
            Outcome::Refused {
                status,
                warning: text,
            },
            Seen::Final(response),
        ) => {
            let code = response.status_code.code();
            ensure!(code == status, "{label}: expected {status}, got {response}");
            ensure!(
                warning(&response).contains(text),
                "{label}: Warning should say {text:?}: {response}"
            );
            Ok(None)
        }
        (Outcome::Call(expected), Seen::Final(response)) => {
            ensure!(
                response.status_code.code() == ENGINE_REFUSAL,
                "{label}: expected the call engine's {ENGINE_REFUSAL}, got {response}"
            );
            let call_id = response
                .call_id_header()
                .map(|id| id.value().to_string())
                .map_err(|_| format!("{label}: no Call-ID in {response}"))?;
            let calls = harness.calls.lock().unwrap();
            let Some(info) = calls.get(&call_id) else {
                return Err(format!("{label}: the engine never saw {call_id}"));
            };
            let got = (
                info.dialed.as_deref(),
                info.caller.as_str(),
                info.caller_name.as_deref(),
                info.sdp.is_some(),
                info.max_forwards,
            );
            let want = (
                Some(expected.dialed),
                expected.caller,
                expected.caller_name,
                expected.sdp,
                70,
            );
            ensure!(
                got == want,
                "{label}: (dialed, caller, name, sdp, max-forwards) {got:?} != {want:?}"
            );
            ensure!(
                info.source.ip().is_loopback(),
                "{label}: source {}",
                info.source
            );
            Ok(Some(call_id))
        }
        (Outcome::Silence, Seen::Silence) | (Outcome::Closed, Seen::Closed) => Ok(None),
        (Outcome::Unsendable, Seen::Unsendable) => Ok(None),
        (want, seen) => Err(format!("{label}: expected {want:?}, got {seen:?}")),
    }
}

/// A plain OPTIONS gets 200 on both transports: the stack is still serving.
async fn assert_options_answered(harness: &Harness, round: &str) {
    let request = |transport: &str| {
        let tag = format!("{round}-{}", transport.to_ascii_lowercase());
        format!(
            "OPTIONS sip:hotline.example SIP/2.0\r\n\
             Via: SIP/2.0/{transport} 192.0.2.1:5060;branch=z9hG4bK-probe-{tag};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:probe@192.0.2.1>;tag=probe-{tag}\r\n\
             To: <sip:hotline.example>\r\n\
             Call-ID: probe-{tag}\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let udp = send_udp(harness.addr, request("UDP"), PATIENCE).await;
    check(&format!("OPTIONS {round} (UDP)"), answer(200), udp, harness).unwrap();
    let tcp = send_tcp(harness.addr, vec![request("TCP")], false, PATIENCE).await;
    check(&format!("OPTIONS {round} (TCP)"), answer(200), tcp, harness).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_is_answered_or_dropped_and_the_stack_survives() {
    let corpus = corpus();
    let listed: Vec<&str> = CASES.iter().map(|case| case.file).collect();
    let unlisted: Vec<&String> = corpus
        .keys()
        .filter(|name| !listed.contains(&name.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "corpus files without a case: {unlisted:?}"
    );
    let missing: Vec<&&str> = listed
        .iter()
        .filter(|name| !corpus.contains_key(**name))
        .collect();
    assert!(
        missing.is_empty(),
        "cases without a corpus file: {missing:?}"
    );

    let harness = start_stack().await;
    let mut expected_calls = Vec::new();
    let mut failures = Vec::new();

    // Every file over UDP, all at once: each from its own socket, so answers cannot mix.
    let mut sends = JoinSet::new();
    for case in CASES {
        let bytes = corpus[case.file].clone();
        let (target, wait) = (harness.addr, case.udp.wait());
        sends.spawn(async move { (case.file, send_udp(target, bytes, wait).await) });
    }
    let mut udp_seen = HashMap::new();
    while let Some(joined) = sends.join_next().await {
        let (file, seen) = joined.unwrap();
        udp_seen.insert(file, seen);
    }
    for case in CASES {
        let seen = udp_seen.remove(case.file).unwrap();
        let label = format!("{} over UDP", case.file);
        match check(&label, case.udp, seen, &harness) {
            Ok(call) => expected_calls.extend(call),
            Err(failure) => failures.push(failure),
        }
    }
    assert_options_answered(&harness, "after-udp-corpus").await;

    // The TCP subset, one connection per message.
    let mut sends = JoinSet::new();
    for case in CASES {
        let Some(want) = case.tcp else { continue };
        let bytes = for_tcp(&corpus[case.file]);
        let (target, wait) = (harness.addr, want.wait());
        sends.spawn(async move { (case.file, send_tcp(target, vec![bytes], false, wait).await) });
    }
    let mut tcp_seen = HashMap::new();
    while let Some(joined) = sends.join_next().await {
        let (file, seen) = joined.unwrap();
        tcp_seen.insert(file, seen);
    }
    for case in CASES {
        if let Some(want) = case.tcp {
            let seen = tcp_seen.remove(case.file).unwrap();
            let label = format!("{} over TCP", case.file);
            match check(&label, want, seen, &harness) {
                Ok(call) => expected_calls.extend(call),
                Err(failure) => failures.push(failure),
            }
        }
    }

    // Garbage, then a valid OPTIONS on the same connection: the stream cannot be re-framed,
    // so rsipstack drops the connection; neither message is answered.
    for noise in ["garbage-ascii.sip", "binary-noise.sip"] {
        let options = for_tcp(&corpus["options.sip"]);
        let seen = send_tcp(
            harness.addr,
            vec![corpus[noise].clone(), options],
            false,
            PATIENCE,
        )
        .await;
        let label = format!("{noise} then OPTIONS over TCP");
        failures.extend(check(&label, Closed, seen, &harness).err());
    }
    // A Content-Length promising more than is sent before the client closes: nothing reaches
    // the engine, the connection is closed without an answer.
    let short = for_tcp(&corpus["content-length-larger-than-body.sip"]);
    let seen = send_tcp(harness.addr, vec![short], true, PATIENCE).await;
    let label = "Content-Length then early close over TCP";
    failures.extend(check(label, Closed, seen, &harness).err());

    assert_options_answered(&harness, "after-tcp-corpus").await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The engine saw exactly the INVITEs expected to reach it, nothing refused earlier.
    let mut seen_calls: Vec<String> = harness.calls.lock().unwrap().keys().cloned().collect();
    seen_calls.sort();
    expected_calls.sort();
    assert_eq!(seen_calls, expected_calls);
    harness.stack.shutdown();
}
