//! Overload over a real [`SipStack`] on 127.0.0.1: while the runtime is too busy to keep its
//! timers, a new INVITE is refused at once with 503 and Retry-After (the call engine never sees
//! it); once the load is gone, the next INVITE reaches the engine again. The busy runtime is
//! made by a task that blocks its only thread in 60 ms slices — what thousands of calls do to
//! a saturated server, without needing thousands of calls.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hotline_core::ids::TrunkId;
use hotline_sip::{Admission, InboundGate, SipConfig, SipServices, SipStack};
use rsipstack::sip::{Response, SipMessage};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

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

fn invite(call_id: &str, port: u16) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
    format!(
        "INVITE sip:+421233000111@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+421900111222@127.0.0.1>;tag=caller-{call_id}\r\n\
         To: <sip:+421233000111@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:caller@127.0.0.1:{port}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// The first final response on `socket` within `wait`.
async fn final_response(socket: &UdpSocket, wait: Duration) -> Option<Response> {
    let deadline = Instant::now() + wait;
    let mut buffer = vec![0u8; 65_536];
    loop {
        let Ok(Ok(n)) = timeout_at(deadline, socket.recv(&mut buffer)).await else {
            return None;
        };
        if let Ok(SipMessage::Response(response)) = SipMessage::try_from(&buffer[..n]) {
            if response.status_code.code() >= 200 {
                return Some(response);
            }
        }
    }
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.to_string().lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

#[tokio::test(flavor = "current_thread")]
async fn a_saturated_runtime_refuses_new_calls_with_503_and_takes_them_again_after() {
    let config = SipConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        overload_lag: Some(Duration::from_millis(20)),
        ..SipConfig::default()
    };
    let services = SipServices {
        gate: Arc::new(LoopbackTrunk(TrunkId::new())),
        registrar: None,
    };
    let (stack, mut incoming) = SipStack::start(config, services).await.unwrap();
    let target = stack.local_addrs()[0];
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(call) = incoming.recv().await {
            let _ = seen_tx.send(call.info.sip_call_id.clone());
            call.reject(480, None).await;
        }
    });
    let caller = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = caller.local_addr().unwrap().port();

    // Saturate the runtime's one thread.
    let busy = Arc::new(AtomicBool::new(true));
    let hog = tokio::spawn({
        let busy = busy.clone();
        async move {
            while busy.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(60));
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    caller
        .send_to(&invite("while-saturated", port), target)
        .await
        .unwrap();
    let refused = final_response(&caller, Duration::from_secs(10))
        .await
        .expect("an answer while saturated");
    assert_eq!(refused.status_code.code(), 503);
    assert_eq!(header(&refused, "Retry-After").as_deref(), Some("5"));
    busy.store(false, Ordering::Relaxed);
    hog.await.unwrap();

    // Idle again: the lag decays below half the threshold within a few probes.
    // (A second caller: the first one's 503 is retransmitted until ACKed, which it never is.)
    tokio::time::sleep(Duration::from_millis(500)).await;
    let caller = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = caller.local_addr().unwrap().port();
    caller
        .send_to(&invite("after-recovery", port), target)
        .await
        .unwrap();
    let answered = final_response(&caller, Duration::from_secs(10))
        .await
        .expect("an answer after recovery");
    assert_eq!(answered.status_code.code(), 480, "the engine's refusal");
    let mut engine_saw = Vec::new();
    while let Ok(id) = seen.try_recv() {
        engine_saw.push(id);
    }
    assert_eq!(engine_saw, vec!["after-recovery".to_string()]);
    stack.shutdown();
}
