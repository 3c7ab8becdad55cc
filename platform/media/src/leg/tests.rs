use super::*;
use crate::prompt::Prompt;

fn negotiated(remote: &str) -> Negotiated {
    Negotiated::static_g711(Codec::Pcmu, remote.parse().unwrap(), Some(101))
}

fn leg(now: Instant) -> Leg {
    let mut leg = Leg::new(
        LegConfig::default(),
        0x11223344,
        1000,
        5000,
        now,
        SystemTime::now(),
    );
    leg.set_negotiated(negotiated("10.0.0.1:4000"), now);
    leg
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(pt)
        .sequence_number(seq)
        .timestamp(ts)
        .ssrc(ssrc)
        .payload(payload)
        .write_vec()
        .unwrap()
}

fn event(digit: Digit, end: bool, duration: u16) -> [u8; 4] {
    let mut p = [0u8; 4];
    crate::dtmf::rfc4733::write_payload(digit, end, 10, duration, &mut p);
    p
}

fn events(leg: &mut Leg) -> Vec<LegEvent> {
    std::iter::from_fn(|| leg.poll_event()).collect()
}

const PHONE: &str = "10.0.0.1:4000";

#[test]
fn a_prompt_is_paced_at_ptime_with_continuous_numbers() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let id = leg.play(
        Playlist::once(vec![PlayItem::Prompt(Prompt::from_pcm(vec![1000; 8000]))]),
        false,
        t0,
    );
    let mut buf = [0u8; 1500];
    let mut headers = Vec::new();
    for i in 0..60 {
        let now = t0 + Duration::from_millis(i * 20);
        while let Some(t) = leg.poll_transmit(now, &mut buf) {
            if t.rtcp {
                continue;
            }
            assert_eq!(t.to, PHONE.parse().unwrap());
            let p = RtpPacket::parse(&buf[..t.len]).unwrap();
            assert_eq!(p.payload_len(), 160);
            headers.push((p.sequence_number(), p.timestamp(), p.marker_bit(), p.ssrc()));
        }
    }
    assert_eq!(headers.len(), 50);
    assert!(headers[0].2, "marker on the first packet");
    for w in headers.windows(2) {
        assert_eq!(w[1].0, w[0].0.wrapping_add(1));
        assert_eq!(w[1].1, w[0].1.wrapping_add(160));
        assert!(!w[1].2);
        assert_eq!(w[1].3, 0x11223344);
    }
    assert!(events(&mut leg).contains(&LegEvent::PlayDone {
        play: id,
        outcome: PlayOutcome::Finished
    }));
    assert!(!leg.is_playing());
}

#[test]
fn a_digit_interrupts_a_prompt_with_barge_in_and_is_reported_once() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let id = leg.play(
        Playlist::looping(vec![PlayItem::Prompt(Prompt::from_pcm(vec![5; 800]))]),
        true,
        t0,
    );
    let from = PHONE.parse().unwrap();
    leg.handle_rtp(&rtp(0, 1, 100, 9, &[0xFF; 160]), from, t0)
        .unwrap();
    let at = t0 + Duration::from_millis(500);
    leg.handle_rtp(
        &rtp(101, 2, 4000, 9, &event(Digit::D7, false, 160)),
        from,
        at,
    )
    .unwrap();
    for seq in 3..6 {
        leg.handle_rtp(
            &rtp(101, seq, 4000, 9, &event(Digit::D7, true, 800)),
            from,
            at + Duration::from_millis(100),
        )
        .unwrap();
    }
    let got = events(&mut leg);
    assert!(got.contains(&LegEvent::RtpLatched { from }));
    assert!(got.contains(&LegEvent::PlayDone {
        play: id,
        outcome: PlayOutcome::Interrupted { digit: Digit::D7 }
    }));
    let digits: Vec<_> = got
        .iter()
        .filter_map(|e| match e {
            LegEvent::Digit(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(
        digits,
        vec![DigitEvent {
            digit: Digit::D7,
            source: DigitSource::Rfc4733,
            at_ms: 500,
            duration_ms: 100
        }]
    );
}

#[test]
fn without_barge_in_a_digit_leaves_the_prompt_playing() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    leg.play(
        Playlist::looping(vec![PlayItem::Prompt(Prompt::from_pcm(vec![5; 800]))]),
        false,
        t0,
    );
    let from = PHONE.parse().unwrap();
    leg.handle_rtp(
        &rtp(101, 2, 4000, 9, &event(Digit::D1, true, 800)),
        from,
        t0,
    )
    .unwrap();
    assert!(leg.is_playing());
}

#[test]
fn refused_packets_are_counted() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let from: SocketAddr = PHONE.parse().unwrap();
    assert_eq!(
        leg.handle_rtp(&[0x80, 0x00, 0x01], from, t0),
        Err(Refused::Malformed)
    );
    assert_eq!(
        leg.handle_rtp(b"not rtp at all, just text", from, t0),
        Err(Refused::Malformed)
    );
    assert_eq!(
        leg.handle_rtp(&rtp(18, 1, 0, 9, &[0; 20]), from, t0),
        Err(Refused::UnknownPayloadType(18))
    );
    let stranger: SocketAddr = "10.9.9.9:1234".parse().unwrap();
    assert_eq!(
        leg.handle_rtp(&rtp(0, 1, 0, 77, &[0xFF; 160]), stranger, t0),
        Err(Refused::WrongSource)
    );
    assert!(leg
        .handle_rtp(&rtp(0, 1, 0, 9, &[0xFF; 160]), from, t0)
        .is_ok());
    let q = leg.quality();
    assert_eq!(q.ignored, 4);
    assert_eq!(q.packets_in, 1);
    assert_eq!(leg.destination(), Some(from));
}

#[test]
fn media_timeout_fires_once_with_its_reason_and_rearms_on_media() {
    let t0 = Instant::now();
    let mut leg = Leg::new(
        LegConfig {
            media_timeout: Duration::from_secs(5),
            ..LegConfig::default()
        },
        1,
        0,
        0,
        t0,
        SystemTime::now(),
    );
    leg.set_negotiated(negotiated(PHONE), t0);
    assert_eq!(leg.poll_timeout(), t0 + Duration::from_millis(2500 + 1)); // first RTCP
    leg.handle_timeout(t0 + Duration::from_secs(4));
    assert!(events(&mut leg).is_empty());
    leg.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(
        events(&mut leg),
        vec![LegEvent::MediaTimeout {
            reason: MediaTimeoutReason::NoRtpEver,
            silent_ms: 5000
        }]
    );
    leg.handle_timeout(t0 + Duration::from_secs(6));
    assert!(events(&mut leg).is_empty(), "once");

    let from = PHONE.parse().unwrap();
    let t1 = t0 + Duration::from_secs(7);
    leg.handle_rtp(&rtp(0, 1, 0, 9, &[0xFF; 160]), from, t1)
        .unwrap();
    events(&mut leg);
    leg.handle_timeout(t1 + Duration::from_secs(5));
    assert_eq!(
        events(&mut leg),
        vec![LegEvent::MediaTimeout {
            reason: MediaTimeoutReason::RtpStopped,
            silent_ms: 5000
        }]
    );
}

#[test]
fn no_timeout_while_the_peer_holds_us() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    leg.set_negotiated(
        Negotiated {
            direction: Direction::SendOnly,
            ..negotiated(PHONE)
        },
        t0,
    );
    leg.handle_timeout(t0 + Duration::from_secs(300));
    assert!(events(&mut leg).is_empty());
    // Resume: the clock starts again from the resume.
    let t1 = t0 + Duration::from_secs(300);
    leg.set_negotiated(negotiated(PHONE), t1);
    leg.handle_timeout(t1 + Duration::from_secs(29));
    assert!(events(&mut leg).is_empty());
    leg.handle_timeout(t1 + Duration::from_secs(30));
    assert_eq!(events(&mut leg).len(), 1);
}

#[test]
fn while_the_peer_holds_us_our_audio_stops_but_the_prompt_keeps_time() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    leg.set_negotiated(
        Negotiated {
            direction: Direction::RecvOnly,
            ..negotiated(PHONE)
        },
        t0,
    );
    leg.play(
        Playlist::once(vec![PlayItem::Prompt(Prompt::from_pcm(vec![1; 1600]))]),
        false,
        t0,
    );
    let mut buf = [0u8; 1500];
    let mut sent = 0;
    for i in 0..20 {
        while let Some(t) = leg.poll_transmit(t0 + Duration::from_millis(i * 20), &mut buf) {
            sent += usize::from(!t.rtcp);
        }
    }
    assert_eq!(sent, 0);
    assert!(!leg.is_playing(), "the 200 ms prompt is over after 400 ms");
}

#[test]
fn dtmf_goes_out_as_rfc_4733_with_one_timestamp_and_three_ends() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    leg.send_dtmf(&[Digit::D4, Digit::Pound], Duration::from_millis(100), t0);
    let mut buf = [0u8; 1500];
    let mut packets = Vec::new();
    for i in 0..40 {
        let now = t0 + Duration::from_millis(i * 20);
        while let Some(t) = leg.poll_transmit(now, &mut buf) {
            if !t.rtcp {
                let p = RtpPacket::parse(&buf[..t.len]).unwrap();
                packets.push((
                    p.payload_type(),
                    p.timestamp(),
                    p.marker_bit(),
                    p.payload().to_vec(),
                    p.sequence_number(),
                ));
            }
        }
    }
    assert!(packets.iter().all(|p| p.0 == 101));
    let mut rx = Rfc4733Receiver::default();
    let mut got = Vec::new();
    for p in &packets {
        if let Ok(Some(EventUpdate::Ended { digit, .. })) = rx.on_packet(p.1, &p.3, t0) {
            got.push(digit);
        }
    }
    assert_eq!(got, vec![Digit::D4, Digit::Pound]);
    assert_eq!(
        packets.iter().filter(|p| p.2).count(),
        2,
        "one marker per event"
    );
    for w in packets.windows(2) {
        assert_eq!(w[1].4, w[0].4.wrapping_add(1));
    }
}

#[test]
fn without_telephone_event_dtmf_is_played_as_tones() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    leg.set_negotiated(
        Negotiated {
            send_telephone_event: None,
            recv_telephone_event: None,
            ..negotiated(PHONE)
        },
        t0,
    );
    leg.send_dtmf(&[Digit::D5], Duration::from_millis(100), t0);
    assert!(leg.is_playing());
    let mut detector = InbandDetector::new();
    let mut found = Vec::new();
    let mut buf = [0u8; 1500];
    for i in 0..20 {
        while let Some(t) = leg.poll_transmit(t0 + Duration::from_millis(i * 20), &mut buf) {
            if t.rtcp {
                continue;
            }
            let p = RtpPacket::parse(&buf[..t.len]).unwrap();
            let mut pcm = [0i16; 160];
            Codec::Pcmu.decode(p.payload(), &mut pcm);
            detector.process(&pcm, |u| {
                if let EventUpdate::Ended { digit, .. } = u {
                    found.push(digit)
                }
            });
        }
    }
    assert_eq!(found, vec![Digit::D5]);
}

#[test]
fn inband_digits_are_detected_when_enabled() {
    let t0 = Instant::now();
    let mut leg = Leg::new(
        LegConfig {
            inband_dtmf: true,
            ..LegConfig::default()
        },
        1,
        0,
        0,
        t0,
        SystemTime::now(),
    );
    leg.set_negotiated(negotiated(PHONE), t0);
    let from = PHONE.parse().unwrap();
    let (row, col) = Digit::D9.frequencies();
    let mut gen =
        crate::prompt::tone::ToneGenerator::new(&ToneSpec::continuous(vec![row, col], -10.0));
    let mut pcm = [0i16; 160];
    for i in 0..30u16 {
        if i < 5 {
            gen.fill(&mut pcm);
        } else {
            pcm = [0; 160];
        }
        let mut payload = [0u8; 160];
        Codec::Pcmu.encode(&pcm, &mut payload);
        leg.handle_rtp(
            &rtp(0, i, i as u32 * 160, 9, &payload),
            from,
            t0 + Duration::from_millis(i as u64 * 20),
        )
        .unwrap();
    }
    let digits: Vec<_> = events(&mut leg)
        .into_iter()
        .filter_map(|e| match e {
            LegEvent::Digit(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(digits.len(), 1);
    assert_eq!(digits[0].digit, Digit::D9);
    assert_eq!(digits[0].source, DigitSource::InBand);
    assert!(digits[0].at_ms <= 20, "{:?}", digits[0]);
}

#[test]
fn rtcp_reports_go_out_and_come_back() {
    let t0 = Instant::now();
    let mut a = leg(t0);
    let from = PHONE.parse().unwrap();
    for i in 0..50u16 {
        a.handle_rtp(
            &rtp(0, i, i as u32 * 160, 9, &[0xFF; 160]),
            from,
            t0 + Duration::from_millis(i as u64 * 20),
        )
        .unwrap();
    }
    let mut buf = [0u8; 1500];
    let at = t0 + Duration::from_secs(3);
    let t = a.poll_transmit(at, &mut buf).unwrap();
    assert!(t.rtcp);
    assert_eq!(t.to, "10.0.0.1:4001".parse().unwrap());
    let report = rtcp::read_report(&buf[..t.len], 9, 0).unwrap();
    assert_eq!(report.cumulative_lost, Some(0));
    // Not again until the interval has passed.
    assert!(a
        .poll_transmit(at + Duration::from_secs(1), &mut buf)
        .is_none());

    // A receiver report from the phone about our stream.
    let mut stats = ReceiveStats::default();
    stats.record(a.ssrc(), 1, 0, 0, 172);
    stats.record(a.ssrc(), 3, 320, 320, 172);
    let n = rtcp::write_report(&mut buf, 9, "phone", None, &mut stats, None, 0);
    assert!(a.handle_rtcp(&buf[..n], "10.0.0.1:4001".parse().unwrap(), at));
    let q = a.quality();
    assert!(q.remote_fraction_lost.unwrap() > 0.3);
    assert!(
        !a.handle_rtcp(&buf[..n], "10.6.6.6:4001".parse().unwrap(), at),
        "RTCP from a stranger"
    );
    assert!(!a.handle_rtcp(b"garbage", "10.0.0.1:4001".parse().unwrap(), at));
}

#[test]
fn sip_info_digits_share_the_event_path() {
    let t0 = Instant::now();
    let mut leg = leg(t0);
    let id = leg.play(
        Playlist::looping(vec![PlayItem::Silence(Duration::from_secs(1))]),
        true,
        t0,
    );
    leg.handle_sip_info_digit(
        Digit::Star,
        Duration::from_millis(160),
        t0 + Duration::from_millis(250),
    );
    assert_eq!(
        events(&mut leg),
        vec![
            LegEvent::PlayDone {
                play: id,
                outcome: PlayOutcome::Interrupted { digit: Digit::Star }
            },
            LegEvent::Digit(DigitEvent {
                digit: Digit::Star,
                source: DigitSource::SipInfo,
                at_ms: 250,
                duration_ms: 160
            }),
        ]
    );
}
