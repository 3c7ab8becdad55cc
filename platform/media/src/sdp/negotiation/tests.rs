use super::*;

fn local() -> LocalMedia {
    LocalMedia {
        address: "192.0.2.10".parse().unwrap(),
        rtp_port: 20000,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        ptime_ms: 20,
    }
}

fn crlf(text: &str) -> Vec<u8> {
    text.lines()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect::<String>()
        .into_bytes()
}

fn text(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).unwrap()
}

const LINPHONE: &str = "
v=0
o=alice 1580 3260 IN IP4 192.168.1.20
s=Talk
c=IN IP4 192.168.1.20
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=rtpmap:98 speex/8000
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
m=video 9078 RTP/AVP 96
a=rtpmap:96 VP8/90000
";

const ZOIPER: &str = "
v=0
o=Z 0 24064826 IN IP4 10.0.0.7
s=Z
c=IN IP4 10.0.0.7
t=0 0
m=audio 8000 RTP/AVP 106 9 98 101 0 8 3
a=rtpmap:106 opus/48000/2
a=fmtp:106 sprop-maxplaybackrate=16000; stereo=0
a=rtpmap:98 telephone-event/48000
a=fmtp:98 0-16
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
";

const ASTERISK: &str = "
v=0
o=- 1990211549 1990211549 IN IP4 203.0.113.5
s=Asterisk
c=IN IP4 203.0.113.5
t=0 0
m=audio 13472 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
";

#[test]
fn linphone_offer_gets_pcmu_and_the_8k_telephone_event() {
    let mut n = SdpNegotiation::new(local(), 42);
    let (neg, body) = n.answer(&crlf(LINPHONE)).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.send_payload_type, 0);
    assert_eq!(neg.send_telephone_event, Some(100));
    assert_eq!(neg.remote_rtp, Some("192.168.1.20:7078".parse().unwrap()));
    assert_eq!(neg.remote_rtcp, Some("192.168.1.20:7079".parse().unwrap()));
    assert_eq!(neg.direction, Direction::SendRecv);
    let body = text(&body);
    assert!(body.contains("m=audio 20000 RTP/AVP 0 100\r\n"), "{body}");
    assert!(body.contains("a=rtpmap:100 telephone-event/8000\r\n"));
    // The video line is refused with port 0, keeping the m= line count (RFC 3264 §6).
    assert!(body.contains("m=video 0 RTP/AVP 96\r\n"), "{body}");
    assert!(body.contains("c=IN IP4 192.0.2.10\r\n"));
    assert!(body.contains("a=sendrecv\r\n"));
}

#[test]
fn zoiper_offer_takes_pcmu_after_the_codecs_hotline_lacks() {
    let mut n = SdpNegotiation::new(local(), 1);
    let (neg, body) = n.answer(&crlf(ZOIPER)).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert_eq!(neg.send_telephone_event, Some(101));
    assert_eq!(neg.ptime_ms, 20);
    assert!(text(&body).contains("m=audio 20000 RTP/AVP 0 101\r\n"));
}

#[test]
fn asterisk_offer_keeps_its_pcma_preference() {
    let mut n = SdpNegotiation::new(local(), 1);
    let (neg, body) = n.answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.send_payload_type, 8);
    assert!(text(&body).contains("a=rtpmap:8 PCMA/8000\r\n"));
}

#[test]
fn static_payload_types_without_rtpmap_are_understood() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 8\n",
    );
    let (neg, _) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.send_telephone_event, None);
}

#[test]
fn dynamic_payload_type_for_pcmu_is_echoed() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 110\na=rtpmap:110 pcmu/8000\n",
    );
    let (neg, body) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!((neg.codec, neg.send_payload_type), (Codec::Pcmu, 110));
    assert!(text(&body).contains("a=rtpmap:110 PCMU/8000"));
}

#[test]
fn no_common_codec_is_a_488() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 18 9 101\na=rtpmap:18 G729/8000\na=rtpmap:101 telephone-event/8000\n",
    );
    let mut n = SdpNegotiation::new(local(), 1);
    let err = n.answer(&offer).unwrap_err();
    assert!(matches!(err, SdpError::NoCommonCodec { .. }));
    assert!(err.is_not_acceptable());
    assert!(n.current().is_none());
}

#[test]
fn a_pcmu_named_at_the_wrong_rate_is_not_pcmu() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU/16000\n",
    );
    let err = SdpNegotiation::new(local(), 1).answer(&offer).unwrap_err();
    assert!(err.is_not_acceptable());
}

#[test]
fn srtp_only_offer_is_refused_as_not_acceptable() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n",
    );
    let err = SdpNegotiation::new(local(), 1).answer(&offer).unwrap_err();
    assert_eq!(err, SdpError::UnsupportedTransport("RTP/SAVP".into()));
    assert!(err.is_not_acceptable());
}

#[test]
fn video_only_offer_has_no_audio() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=video 4000 RTP/AVP 96\na=rtpmap:96 VP8/90000\n",
    );
    assert_eq!(
        SdpNegotiation::new(local(), 1).answer(&offer).unwrap_err(),
        SdpError::NoAudio
    );
}

#[test]
fn absurd_ptime_is_a_clear_error() {
    for ptime in ["0", "100000", "-20", "abc", "5"] {
        let offer = crlf(&format!(
            "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=ptime:{ptime}\n"
        ));
        let err = SdpNegotiation::new(local(), 1).answer(&offer).unwrap_err();
        assert_eq!(err, SdpError::BadPtime(ptime.into()), "ptime {ptime}");
    }
}

#[test]
fn unusual_but_sane_ptime_is_answered_and_sent_at_the_default() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=ptime:30\n",
    );
    let (neg, _) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!(neg.ptime_ms, 30);
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=ptime:150\n",
    );
    let (neg, _) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!(neg.ptime_ms, 20);
}

#[test]
fn malformed_bodies_are_errors_not_panics() {
    let cases: &[&[u8]] = &[
        b"",
        b"hello",
        b"v=0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 nonsense\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP x\r\n",
        b"v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 300\r\n",
        &[0xff, 0xfe, 0x00, 0x01],
    ];
    for body in cases {
        let mut n = SdpNegotiation::new(local(), 1);
        assert!(
            n.answer(body).is_err(),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn ipv6_offer_is_read() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP6 2001:db8::5\ns=-\nc=IN IP6 2001:db8::5\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtcp:4005\n",
    );
    let (neg, _) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!(neg.remote_rtp, Some("[2001:db8::5]:4000".parse().unwrap()));
    assert_eq!(neg.remote_rtcp, Some("[2001:db8::5]:4005".parse().unwrap()));
}

#[test]
fn hold_and_resume_reoffers_from_the_peer() {
    let mut n = SdpNegotiation::new(local(), 7);
    let (_, first) = n.answer(&crlf(ASTERISK)).unwrap();

    let hold = ASTERISK
        .replace("a=sendrecv", "a=sendonly")
        .replace("1990211549 1990211549", "1990211549 1990211550");
    let (neg, held) = n.answer(&crlf(&hold)).unwrap();
    assert_eq!(neg.direction, Direction::RecvOnly);
    assert!(text(&held).contains("a=recvonly"));
    assert!(
        text(&held).contains("o=hotline 7 2 IN IP4"),
        "{}",
        text(&held)
    );

    let inactive = ASTERISK.replace("a=sendrecv", "a=inactive");
    let (neg, _) = n.answer(&crlf(&inactive)).unwrap();
    assert_eq!(neg.direction, Direction::Inactive);

    // RFC 2543 hold: c=0.0.0.0 means "send me nothing".
    let old_hold = ASTERISK.replace("c=IN IP4 203.0.113.5", "c=IN IP4 0.0.0.0");
    let (neg, _) = n.answer(&crlf(&old_hold)).unwrap();
    assert_eq!(neg.remote_rtp, None);
    assert_eq!(neg.direction, Direction::RecvOnly);

    let (neg, resumed) = n.answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(neg.direction, Direction::SendRecv);
    assert!(text(&resumed).contains("a=sendrecv"));
    assert_ne!(first, resumed, "the version moved on");
}

#[test]
fn same_answer_twice_keeps_the_version() {
    let mut n = SdpNegotiation::new(local(), 7);
    let (_, a) = n.answer(&crlf(ASTERISK)).unwrap();
    let (_, b) = n.answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn codec_change_on_reoffer_is_followed() {
    let mut n = SdpNegotiation::new(local(), 7);
    n.answer(&crlf(ASTERISK)).unwrap();
    let pcmu = ASTERISK.replace("RTP/AVP 8 0 101", "RTP/AVP 0 101");
    let (neg, _) = n.answer(&crlf(&pcmu)).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
}

#[test]
fn failed_reoffer_keeps_the_previous_state() {
    let mut n = SdpNegotiation::new(local(), 7);
    n.answer(&crlf(ASTERISK)).unwrap();
    let g729 = ASTERISK.replace("RTP/AVP 8 0 101", "RTP/AVP 18");
    assert!(n.answer(&crlf(&g729)).is_err());
    assert_eq!(n.current().unwrap().codec, Codec::Pcma);
}

#[test]
fn our_offer_and_the_answer_to_it() {
    let mut n = SdpNegotiation::new(local(), 9);
    let offer = text(&n.create_offer());
    assert!(
        offer.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"),
        "{offer}"
    );
    assert!(offer.contains("a=fmtp:101 0-16\r\n"));
    assert!(offer.contains("a=ptime:20\r\n"));
    assert!(offer.contains("a=sendrecv\r\n"));
    // The offer must parse back as the peer would read it.
    let back = RemoteDescription::parse(offer.as_bytes()).unwrap();
    assert_eq!(back.audio.codecs, vec![(0, Codec::Pcmu), (8, Codec::Pcma)]);

    let answer = crlf(
        "v=0\no=- 5 5 IN IP4 10.9.9.9\ns=-\nc=IN IP4 10.9.9.9\nt=0 0\nm=audio 5000 RTP/AVP 8 96\na=rtpmap:96 telephone-event/8000\na=sendrecv\n",
    );
    let neg = n.accept_answer(&answer).unwrap();
    assert_eq!(neg.codec, Codec::Pcma);
    assert_eq!(neg.send_telephone_event, Some(96));
    assert_eq!(neg.recv_telephone_event, Some(TELEPHONE_EVENT_PT));
    assert_eq!(neg.remote_rtp, Some("10.9.9.9:5000".parse().unwrap()));
    assert_eq!(
        n.accept_answer(&answer).unwrap_err(),
        SdpError::NoOfferOutstanding
    );
}

#[test]
fn our_hold_offer_is_sendonly_and_resume_lists_the_current_codec_first() {
    let mut n = SdpNegotiation::new(local(), 9);
    n.answer(&crlf(ASTERISK)).unwrap();
    n.set_holding(true);
    let offer = text(&n.create_offer());
    assert!(offer.contains("a=sendonly"));
    assert!(offer.contains("RTP/AVP 8 0 101"), "{offer}");
    let answer = crlf(&ASTERISK.replace("a=sendrecv", "a=recvonly"));
    let neg = n.accept_answer(&answer).unwrap();
    assert_eq!(neg.direction, Direction::SendOnly);

    n.set_holding(false);
    let offer = text(&n.create_offer());
    assert!(offer.contains("a=sendrecv"));
    let neg = n.accept_answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(neg.direction, Direction::SendRecv);
}

#[test]
fn answering_while_we_hold_stops_our_listening() {
    let mut n = SdpNegotiation::new(local(), 9);
    n.set_holding(true);
    let (neg, body) = n.answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(neg.direction, Direction::SendOnly);
    assert!(text(&body).contains("a=sendonly"));
    // Held and holding at once: nothing flows.
    let inactive = ASTERISK.replace("a=sendrecv", "a=sendonly");
    let (neg, _) = n.answer(&crlf(&inactive)).unwrap();
    assert_eq!(neg.direction, Direction::Inactive);
}

#[test]
fn a_refused_hold_offer_leaves_the_call_as_it_was() {
    let mut n = SdpNegotiation::new(local(), 9);
    n.answer(&crlf(ASTERISK)).unwrap();
    n.set_holding(true);
    n.create_offer();
    n.offer_rejected();
    assert!(!n.holding());
    assert_eq!(
        n.accept_answer(&crlf(ASTERISK)).unwrap_err(),
        SdpError::NoOfferOutstanding
    );
    let (neg, _) = n.answer(&crlf(ASTERISK)).unwrap();
    assert_eq!(neg.direction, Direction::SendRecv);
}

#[test]
fn answer_with_a_codec_we_did_not_offer_is_refused() {
    let mut n = SdpNegotiation::new(
        LocalMedia {
            codecs: vec![Codec::Pcmu],
            ..local()
        },
        9,
    );
    n.create_offer();
    let answer = crlf(
        "v=0\no=- 5 5 IN IP4 10.9.9.9\ns=-\nc=IN IP4 10.9.9.9\nt=0 0\nm=audio 5000 RTP/AVP 8\n",
    );
    assert!(matches!(
        n.accept_answer(&answer).unwrap_err(),
        SdpError::NoCommonCodec { .. }
    ));
}

#[test]
fn an_avpf_offer_is_answered_in_its_own_profile() {
    let offer = crlf(
        "v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVPF 0 101\na=rtpmap:101 telephone-event/8000\na=rtcp-fb:* trr-int 1000\n",
    );
    let (neg, body) = SdpNegotiation::new(local(), 1).answer(&offer).unwrap();
    assert_eq!(neg.codec, Codec::Pcmu);
    assert!(
        text(&body).contains("m=audio 20000 RTP/AVPF 0 101\r\n"),
        "{}",
        text(&body)
    );
    let savpf = crlf("v=0\no=- 1 1 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\n");
    assert!(SdpNegotiation::new(local(), 1)
        .answer(&savpf)
        .unwrap_err()
        .is_not_acceptable());
}
