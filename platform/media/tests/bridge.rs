//! Two real legs on loopback UDP, bridged by the engine: audio both ways with rewritten
//! SSRC/sequence, PCMU<->PCMA transcoding, RFC 4733 passthrough, latching, refused packets,
//! media timeout, recording, unbridge back to prompts, and every port released at the end.

mod common;

use std::time::Duration;

use common::{assert_ports_released, engine, tone, tone_share, Phone};
use hotline_media::bridge::Side;
use hotline_media::codec::Codec;
use hotline_media::dtmf::rfc4733::write_payload;
use hotline_media::dtmf::Digit;
use hotline_media::leg::{LegEvent, MediaTimeoutReason, PlayOutcome};
use hotline_media::prompt::{PlayItem, Playlist, Prompt};
use hotline_media::{LegOptions, RecordingTarget};

/// How long a test waits for packets it expects (on a quiet machine they take milliseconds).
const PATIENCE: Duration = Duration::from_secs(5);

#[tokio::test]
async fn bridged_audio_flows_both_ways_with_our_ssrc_and_sequence() {
    let engine = engine(30000, 30099);
    let mut caller = Phone::new(0xCA11).await;
    let mut agent = Phone::new(0xA6E7).await;
    let (leg_a, _) = engine
        .inbound_leg(&caller.offer("0 101"), LegOptions::default())
        .await
        .unwrap();
    let (leg_b, _) = engine
        .inbound_leg(&agent.offer("0 101"), LegOptions::default())
        .await
        .unwrap();
    let (to_a, to_b) = (leg_a.local_addr(), leg_b.local_addr());
    let bridge = engine.bridge(leg_a, leg_b).await.unwrap();

    for i in 0..20 {
        caller
            .send_audio(to_a, Codec::Pcmu, &tone(1000.0, 8000.0, i * 160, 160))
            .await;
        agent
            .send_audio(to_b, Codec::Pcmu, &tone(600.0, 8000.0, i * 160, 160))
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_agent = agent.collect_n(20, PATIENCE).await;
    let at_caller = caller.collect_n(20, PATIENCE).await;
    assert_eq!(at_agent.len(), 20);
    assert_eq!(at_caller.len(), 20);
    // Each phone sees one stream from Hotline's port, with Hotline's SSRC, in sequence.
    for (received, from) in [(&at_agent, to_b), (&at_caller, to_a)] {
        assert!(received.iter().all(|r| r.from == from && r.pt == 0));
        let ssrc = received[0].ssrc;
        assert!(received.iter().all(|r| r.ssrc == ssrc));
        assert!(ssrc != 0xCA11 && ssrc != 0xA6E7);
        for w in received.windows(2) {
            assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
            assert_eq!(w[1].ts, w[0].ts.wrapping_add(160));
        }
    }
    let mut pcm = vec![0i16; 160 * 20];
    for (i, r) in at_agent.iter().enumerate() {
        Codec::Pcmu.decode(&r.payload, &mut pcm[i * 160..(i + 1) * 160]);
    }
    assert!(
        tone_share(&pcm, 1000.0) > 0.9,
        "the caller's tone reached the agent"
    );
    assert_eq!(bridge.relayed(Side::A).await.unwrap(), (20, 0));
    drop(bridge);
    assert_ports_released(&engine).await;
}

#[tokio::test]
async fn pcmu_caller_and_pcma_agent_are_transcoded() {
    let engine = engine(30100, 30199);
    let mut caller = Phone::new(1).await;
    let mut agent = Phone::new(2).await;
    let (leg_a, answer_a) = engine
        .inbound_leg(&caller.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let (leg_b, answer_b) = engine
        .inbound_leg(&agent.offer("8"), LegOptions::default())
        .await
        .unwrap();
    assert!(String::from_utf8(answer_a).unwrap().contains("RTP/AVP 0"));
    assert!(String::from_utf8(answer_b).unwrap().contains("RTP/AVP 8"));
    let (to_a, to_b) = (leg_a.local_addr(), leg_b.local_addr());
    let bridge = engine.bridge(leg_a, leg_b).await.unwrap();
    for i in 0..10 {
        caller
            .send_audio(to_a, Codec::Pcmu, &tone(1000.0, 10000.0, i * 160, 160))
            .await;
        agent
            .send_audio(to_b, Codec::Pcma, &tone(440.0, 10000.0, i * 160, 160))
            .await;
    }
    let at_agent = agent.collect_n(10, PATIENCE).await;
    let at_caller = caller.collect_n(10, PATIENCE).await;
    assert_eq!(at_agent.len(), 10);
    assert!(at_agent.iter().all(|r| r.pt == 8));
    assert!(at_caller.iter().all(|r| r.pt == 0));
    let mut pcm = vec![0i16; 1600];
    for (i, r) in at_agent.iter().enumerate() {
        Codec::Pcma.decode(&r.payload, &mut pcm[i * 160..(i + 1) * 160]);
    }
    assert!(tone_share(&pcm, 1000.0) > 0.9);
    let mut pcm = vec![0i16; 1600];
    for (i, r) in at_caller.iter().enumerate() {
        Codec::Pcmu.decode(&r.payload, &mut pcm[i * 160..(i + 1) * 160]);
    }
    assert!(tone_share(&pcm, 440.0) > 0.9);
    assert_eq!(bridge.relayed(Side::A).await.unwrap(), (10, 10));
    drop(bridge);
    assert_ports_released(&engine).await;
}

#[tokio::test]
async fn rfc_4733_digits_pass_through_and_are_reported() {
    let engine = engine(30200, 30299);
    let mut caller = Phone::new(1).await;
    let agent = Phone::new(2).await;
    let (leg_a, _) = engine
        .inbound_leg(&caller.offer("0 101"), LegOptions::default())
        .await
        .unwrap();
    let agent_offer = String::from_utf8(agent.offer("0 101"))
        .unwrap()
        .replace("101", "96");
    let (leg_b, _) = engine
        .inbound_leg(agent_offer.as_bytes(), LegOptions::default())
        .await
        .unwrap();
    let to_a = leg_a.local_addr();
    let mut bridge = engine.bridge(leg_a, leg_b).await.unwrap();
    let mut ev = [0u8; 4];
    caller.ts = 8000;
    for (i, (end, duration)) in [
        (false, 160u16),
        (false, 320),
        (true, 480),
        (true, 480),
        (true, 480),
    ]
    .into_iter()
    .enumerate()
    {
        write_payload(Digit::D8, end, 10, duration, &mut ev);
        let p = caller.packet(101, &ev, i == 0);
        caller.socket.send_to(&p, to_a).await.unwrap();
    }
    let got = agent.collect_n(5, PATIENCE).await;
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|r| r.pt == 96));
    assert!(got[0].marker);
    assert!(got.iter().all(|r| r.ts == got[0].ts));
    let digit = loop {
        match tokio::time::timeout(PATIENCE, bridge.leg_mut(Side::A).next_event()).await {
            Ok(Some(LegEvent::Digit(d))) => break d,
            Ok(Some(_)) => continue,
            other => panic!("no digit: {other:?}"),
        }
    };
    assert_eq!(digit.digit, Digit::D8);
    assert_eq!(digit.duration_ms, 60);
}

#[tokio::test]
async fn latching_ignores_strangers_and_follows_a_nat_port_after_probation() {
    let engine = engine(30300, 30399);
    let caller = Phone::new(1).await;
    // The phone's packets really come from another port (its NAT mapping).
    let mut behind_nat = Phone::new(0x5EED).await;
    let mut stranger = Phone::new(0xBAD).await;
    let (mut leg, _) = engine
        .inbound_leg(&caller.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let to = leg.local_addr();

    // Malformed datagrams and a stranger's single packet: ignored and counted.
    behind_nat.socket.send_to(b"\x80\x00", to).await.unwrap();
    behind_nat
        .socket
        .send_to(b"hello there, not RTP", to)
        .await
        .unwrap();
    stranger.send_audio(to, Codec::Pcmu, &[0; 160]).await;
    let q = common::quality_when(&leg, |q| q.ignored >= 3).await;
    assert_eq!((q.ignored, q.packets_in), (3, 0));

    // Three packets in sequence from the NAT address: latched, and Hotline now sends there.
    for _ in 0..3 {
        behind_nat.send_audio(to, Codec::Pcmu, &[0; 160]).await;
    }
    let latched = loop {
        match tokio::time::timeout(PATIENCE, leg.next_event()).await {
            Ok(Some(LegEvent::RtpLatched { from })) => break from,
            Ok(Some(_)) => continue,
            other => panic!("not latched: {other:?}"),
        }
    };
    assert_eq!(latched, behind_nat.socket.local_addr().unwrap());
    let outcome = tokio::time::timeout(
        Duration::from_secs(2),
        leg.play(
            Playlist::once(vec![PlayItem::Prompt(Prompt::from_pcm(vec![100; 800]))]),
            false,
        ),
    );
    let (outcome, got) = tokio::join!(outcome, behind_nat.collect_n(5, PATIENCE));
    assert_eq!(outcome.unwrap().unwrap(), PlayOutcome::Finished);
    assert_eq!(got.len(), 5, "the prompt went to the latched address");
    assert!(caller.collect(Duration::from_millis(50)).await.is_empty());

    // The stranger, even in sequence, cannot take over while the phone talks.
    for _ in 0..5 {
        stranger.send_audio(to, Codec::Pcmu, &[0; 160]).await;
        behind_nat.send_audio(to, Codec::Pcmu, &[0; 160]).await;
    }
    let q = common::quality_when(&leg, |q| q.packets_in + q.ignored >= 6 + 10).await;
    assert_eq!(
        q.packets_in,
        1 + 5,
        "the latching packet and the phone's five"
    );
    assert_eq!(
        q.ignored,
        3 + 2 + 5,
        "probation packets and the stranger's are counted"
    );
    drop(leg);
    assert_ports_released(&engine).await;
}

#[tokio::test]
async fn a_silent_leg_reports_a_media_timeout() {
    let engine = engine(30400, 30499);
    let mut phone = Phone::new(1).await;
    let (mut leg, _) = engine
        .inbound_leg(
            &phone.offer("0"),
            LegOptions {
                media_timeout: Some(Duration::from_millis(1500)),
                ..LegOptions::default()
            },
        )
        .await
        .unwrap();
    phone
        .send_audio(leg.local_addr(), Codec::Pcmu, &[0; 160])
        .await;
    let started = tokio::time::Instant::now();
    let event = loop {
        match tokio::time::timeout(Duration::from_secs(4), leg.next_event()).await {
            Ok(Some(LegEvent::MediaTimeout { reason, silent_ms })) => break (reason, silent_ms),
            Ok(Some(_)) => continue,
            other => panic!("no timeout: {other:?}"),
        }
    };
    assert_eq!(event.0, MediaTimeoutReason::RtpStopped);
    assert!(event.1 >= 1500);
    assert!(started.elapsed() >= Duration::from_millis(1400));
}

#[tokio::test]
async fn recording_holds_the_caller_left_and_the_agent_right() {
    let engine = engine(30500, 30599);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.wav");
    let mut call = common::bridged_call(&engine, "0", "8").await;
    call.bridge
        .start_recording(RecordingTarget::Path(path.clone()), Side::A)
        .await
        .unwrap();
    call.talk(Some(100)).await;
    let summary = call.bridge.stop_recording().await.unwrap();
    assert!((1900..3000).contains(&summary.duration_ms), "{summary:?}");
    let (left, right) = common::read_stereo(&path);
    // No audio lost in the middle of the call (a 20 ms packet is 160 samples).
    assert!(
        common::longest_silence(&left[2000..14_000]) < 40,
        "a gap on the left"
    );
    assert!(
        common::longest_silence(&right[2000..14_000]) < 40,
        "a gap on the right"
    );
    let middle = 2000..14_000;
    assert!(
        tone_share(&left[middle.clone()], 1000.0) > 0.8,
        "{}",
        tone_share(&left[middle.clone()], 1000.0)
    );
    assert!(tone_share(&right[middle.clone()], 500.0) > 0.8);
    assert!(
        tone_share(&left[middle], 500.0) < 0.05,
        "no agent on the caller's channel"
    );
    assert!(matches!(
        call.bridge.stop_recording().await,
        Err(hotline_media::MediaError::NotRecording)
    ));
}

#[tokio::test]
async fn unbridged_legs_play_prompts_again_with_continuous_numbers() {
    let engine = engine(30600, 30699);
    let mut caller = Phone::new(1).await;
    let agent = Phone::new(2).await;
    let (leg_a, _) = engine
        .inbound_leg(&caller.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let (leg_b, _) = engine
        .inbound_leg(&agent.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let to_a = leg_a.local_addr();
    let beep = Playlist::once(vec![PlayItem::Prompt(Prompt::from_pcm(vec![2000; 480]))]);
    let (played, before) = tokio::join!(
        leg_b.play(beep.clone(), false),
        agent.collect_n(3, PATIENCE)
    );
    assert_eq!(played.unwrap(), PlayOutcome::Finished);
    let bridge = engine.bridge(leg_a, leg_b).await.unwrap();
    for i in 0..5 {
        caller
            .send_audio(to_a, Codec::Pcmu, &tone(800.0, 5000.0, i * 160, 160))
            .await;
    }
    let during = agent.collect_n(5, PATIENCE).await;
    let (_leg_a, leg_b, _) = bridge.unbridge().await.unwrap();
    let (played, after) = tokio::join!(leg_b.play(beep, false), agent.collect_n(3, PATIENCE));
    assert_eq!(played.unwrap(), PlayOutcome::Finished);
    let all: Vec<_> = before.iter().chain(&during).chain(&after).collect();
    assert_eq!((before.len(), during.len(), after.len()), (3, 5, 3));
    assert!(
        all.iter().all(|r| r.ssrc == all[0].ssrc),
        "one SSRC for the leg's life"
    );
    for w in all.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1), "sequence continues");
        assert!(w[1].ts.wrapping_sub(w[0].ts) >= 160 && w[1].ts.wrapping_sub(w[0].ts) < 8000 * 5);
    }
    drop((_leg_a, leg_b));
    assert_ports_released(&engine).await;
}

#[tokio::test]
async fn hold_and_resume_by_reoffer() {
    let engine = engine(30700, 30799);
    let phone = Phone::new(1).await;
    let (leg, _) = engine
        .inbound_leg(&phone.offer("0 8 101"), LegOptions::default())
        .await
        .unwrap();
    let held = String::from_utf8(phone.offer("0 8 101"))
        .unwrap()
        .replace("a=sendrecv", "a=sendonly");
    let answer = String::from_utf8(leg.answer_reoffer(held.as_bytes()).await.unwrap()).unwrap();
    assert!(answer.contains("a=recvonly"));
    // While held, Hotline sends nothing even when asked to play.
    let (_, got) = tokio::join!(
        tokio::time::timeout(
            Duration::from_millis(300),
            leg.play(
                Playlist::once(vec![PlayItem::Silence(Duration::from_millis(100))]),
                false
            )
        ),
        phone.collect(Duration::from_millis(200))
    );
    assert!(got.is_empty());
    let answer =
        String::from_utf8(leg.answer_reoffer(&phone.offer("0 8 101")).await.unwrap()).unwrap();
    assert!(answer.contains("a=sendrecv"));
    // Our own hold offer, and the answer to it.
    let offer = String::from_utf8(leg.hold_offer(true).await.unwrap()).unwrap();
    assert!(offer.contains("a=sendonly"));
    let their_answer = String::from_utf8(phone.offer("0"))
        .unwrap()
        .replace("a=sendrecv", "a=recvonly");
    let negotiated = leg.apply_answer(their_answer.as_bytes()).await.unwrap();
    assert_eq!(
        negotiated.direction,
        hotline_media::sdp::Direction::SendOnly
    );
    // A re-offer with nothing in common is refused, the call keeps its stream.
    let bad = String::from_utf8(phone.offer("18")).unwrap();
    assert!(leg
        .answer_reoffer(bad.as_bytes())
        .await
        .unwrap_err()
        .is_not_acceptable());
}

#[tokio::test]
async fn outbound_leg_offers_and_accepts_the_answer() {
    let engine = engine(30800, 30899);
    let mut phone = Phone::new(9).await;
    let (leg, offer) = engine.outbound_leg(LegOptions::default()).await.unwrap();
    let offer = String::from_utf8(offer).unwrap();
    assert!(offer.contains(&format!(
        "m=audio {} RTP/AVP 0 8 101",
        leg.local_addr().port()
    )));
    let negotiated = leg.apply_answer(&phone.offer("8 101")).await.unwrap();
    assert_eq!(negotiated.codec, Codec::Pcma);
    phone
        .send_audio(leg.local_addr(), Codec::Pcma, &[0; 160])
        .await;
    let q = common::quality_when(&leg, |q| q.packets_in >= 1).await;
    assert_eq!(q.packets_in, 1);
}

#[tokio::test]
async fn ipv6_phones_get_ipv6_media() {
    let engine = hotline_media::MediaEngine::start(hotline_media::MediaConfig {
        bind_v4: Some("127.0.0.1".parse().unwrap()),
        bind_v6: Some("::1".parse().unwrap()),
        port_min: 30900,
        port_max: 30999,
        ..hotline_media::MediaConfig::default()
    })
    .unwrap();
    let socket = tokio::net::UdpSocket::bind("[::1]:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let offer = format!(
        "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
    );
    let (leg, answer) = engine
        .inbound_leg(offer.as_bytes(), LegOptions::default())
        .await
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.contains("c=IN IP6 ::1"), "{answer}");
    assert!(leg.local_addr().is_ipv6());
    let (played, got) = tokio::join!(
        leg.play(
            Playlist::once(vec![PlayItem::Prompt(Prompt::from_pcm(vec![1; 320]))]),
            false
        ),
        async {
            let mut buf = [0u8; 1500];
            tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
                .await
                .ok()
                .and_then(Result::ok)
        }
    );
    assert_eq!(played.unwrap(), PlayOutcome::Finished);
    assert_eq!(got.map(|(_, from)| from), Some(leg.local_addr()));

    // Without an IPv6 media address an IPv6 offer is a clear configuration error.
    let v4_only = common::engine(31950, 31959);
    assert!(matches!(
        v4_only
            .inbound_leg(offer.as_bytes(), LegOptions::default())
            .await
            .unwrap_err(),
        hotline_media::MediaError::Config(_)
    ));
    assert_eq!(v4_only.ports_in_use(), 0);
}

#[tokio::test]
async fn a_held_caller_hears_music_not_the_agent_and_resumes() {
    let engine = engine(31200, 31299);
    let mut call = common::bridged_call(&engine, "0", "0").await;
    let held_answer = String::from_utf8(call.caller.offer("0"))
        .unwrap()
        .replace("a=sendrecv", "a=recvonly");
    let offer = call.bridge.leg(Side::A).hold_offer(true).await.unwrap();
    assert!(String::from_utf8(offer).unwrap().contains("a=sendonly"));
    call.bridge
        .leg(Side::A)
        .apply_answer(held_answer.as_bytes())
        .await
        .unwrap();
    for i in 0..5 {
        call.agent
            .send_audio(call.to_b, Codec::Pcmu, &tone(700.0, 6000.0, i * 160, 160))
            .await;
    }
    assert!(
        call.caller
            .collect(Duration::from_millis(200))
            .await
            .is_empty(),
        "the held caller heard the agent"
    );
    let music = Playlist::looping(vec![PlayItem::Tone(
        hotline_media::prompt::ToneSpec::continuous(vec![440.0], -15.0),
        None,
    )]);
    let leg_a = call.bridge.leg(Side::A);
    let (played, heard) = tokio::join!(leg_a.play(music, false), async {
        let heard = call.caller.collect_n(10, PATIENCE).await;
        leg_a.stop_playing().unwrap();
        heard
    });
    assert_eq!(played.unwrap(), PlayOutcome::Stopped);
    assert_eq!(heard.len(), 10, "music on hold");
    // Music sent before the stop may still be in the socket.
    call.caller.collect(Duration::from_millis(100)).await;
    leg_a.hold_offer(false).await.unwrap();
    leg_a.apply_answer(&call.caller.offer("0")).await.unwrap();
    for i in 0..5 {
        call.agent
            .send_audio(call.to_b, Codec::Pcmu, &tone(700.0, 6000.0, i * 160, 160))
            .await;
    }
    assert_eq!(call.caller.collect_n(5, PATIENCE).await.len(), 5);
}

#[tokio::test]
async fn a_bridged_leg_that_goes_silent_reports_a_media_timeout() {
    // The common engine's media timeout is 2 s.
    let engine = engine(31400, 31499);
    let mut call = common::bridged_call(&engine, "0", "0").await;
    call.caller
        .send_audio(call.to_a, Codec::Pcmu, &[0; 160])
        .await;
    let started = tokio::time::Instant::now();
    let agent_talks = async {
        // The agent keeps talking; only the caller's side is dead.
        for i in 0..150 {
            call.agent
                .send_audio(call.to_b, Codec::Pcmu, &tone(500.0, 4000.0, i * 160, 160))
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let caller_events = async {
        loop {
            match tokio::time::timeout(
                Duration::from_secs(5),
                call.bridge.leg_mut(Side::A).next_event(),
            )
            .await
            {
                Ok(Some(LegEvent::MediaTimeout { reason, silent_ms })) => {
                    break (reason, silent_ms)
                }
                Ok(Some(_)) => continue,
                other => panic!("no media timeout on the caller's leg: {other:?}"),
            }
        }
    };
    let ((reason, silent_ms), ()) = tokio::join!(caller_events, agent_talks);
    assert_eq!(reason, MediaTimeoutReason::RtpStopped);
    assert!(silent_ms >= 2000);
    assert!(started.elapsed() < Duration::from_secs(4));
    let leg_b = call.bridge.leg_mut(Side::B);
    assert!(
        std::iter::from_fn(|| leg_b.try_event())
            .all(|e| !matches!(e, LegEvent::MediaTimeout { .. })),
        "the talking agent did not time out"
    );
}
