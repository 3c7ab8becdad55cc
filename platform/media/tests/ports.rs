//! No port pair leaks: not on a normal end, not on refused offers, not when the caller's task
//! panics holding a leg or a bridge, not when the range runs out.

mod common;

use common::{assert_ports_released, engine, Phone};
use hotline_media::{LegOptions, MediaError};

#[tokio::test]
async fn every_path_gives_the_ports_back() {
    let engine = engine(31000, 31019); // ten pairs
    let phone = Phone::new(1).await;

    // Refused offers allocate nothing.
    for bad in [
        &b"garbage"[..],
        b"v=0\r\n",
        &phone.offer("18")[..],
        &phone.offer("0")[..].replace_ptime(),
    ] {
        let err = engine
            .inbound_leg(bad, LegOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, MediaError::Sdp(_)), "{err}");
        assert_eq!(engine.ports_in_use(), 0);
    }
    assert!(engine
        .inbound_leg(&phone.offer("18"), LegOptions::default())
        .await
        .unwrap_err()
        .is_not_acceptable());

    // Normal use and drop.
    let (a, _) = engine
        .inbound_leg(&phone.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let (b, _) = engine.outbound_leg(LegOptions::default()).await.unwrap();
    assert_eq!(engine.ports_in_use(), 2);
    let bridge = engine.bridge(a, b).await.unwrap();
    drop(bridge);
    assert_ports_released(&engine).await;

    // A caller task that panics while holding a leg and a bridge.
    let e = engine.clone();
    let offer = phone.offer("0");
    let crashed = tokio::spawn(async move {
        let (a, _) = e.inbound_leg(&offer, LegOptions::default()).await.unwrap();
        let (b, _) = e.inbound_leg(&offer, LegOptions::default()).await.unwrap();
        let _bridge = e.bridge(a, b).await.unwrap();
        let (_c, _) = e.outbound_leg(LegOptions::default()).await.unwrap();
        panic!("a bug in the call engine");
    })
    .await;
    assert!(crashed.is_err());
    assert_ports_released(&engine).await;

    // Exhaustion is an error, and the range is whole again afterwards.
    let mut legs = Vec::new();
    for _ in 0..10 {
        legs.push(engine.outbound_leg(LegOptions::default()).await.unwrap());
    }
    assert!(matches!(
        engine
            .outbound_leg(LegOptions::default())
            .await
            .unwrap_err(),
        MediaError::Ports(_)
    ));
    drop(legs);
    assert_ports_released(&engine).await;

    // Unbridge, then drop the legs one by one.
    let (a, _) = engine
        .inbound_leg(&phone.offer("0"), LegOptions::default())
        .await
        .unwrap();
    let (b, _) = engine
        .inbound_leg(&phone.offer("8"), LegOptions::default())
        .await
        .unwrap();
    let (a, b, _) = engine.bridge(a, b).await.unwrap().unbridge().await.unwrap();
    drop(a);
    common::assert_ports_in_use(&engine, 1).await;
    drop(b);
    assert_ports_released(&engine).await;
}

#[tokio::test]
async fn a_port_taken_by_another_process_is_skipped() {
    let engine = engine(31100, 31105);
    // Something else holds the first pair's RTP port.
    let squatter = std::net::UdpSocket::bind("127.0.0.1:31100").unwrap();
    let (leg, _) = engine.outbound_leg(LegOptions::default()).await.unwrap();
    assert_ne!(leg.local_addr().port(), 31100);
    assert_eq!(engine.ports_in_use(), 1);
    drop(leg);
    drop(squatter);
    assert_ports_released(&engine).await;
}

trait ReplacePtime {
    fn replace_ptime(&self) -> Vec<u8>;
}

impl ReplacePtime for [u8] {
    fn replace_ptime(&self) -> Vec<u8> {
        String::from_utf8_lossy(self)
            .replace("a=ptime:20", "a=ptime:99999")
            .into_bytes()
    }
}

/// The call engine moves handles into its per-call tasks and shares the engine.
#[test]
fn handles_can_move_between_tasks() {
    fn send<T: Send>() {}
    fn shared<T: Send + Sync + Clone>() {}
    send::<hotline_media::LegHandle>();
    send::<hotline_media::BridgeHandle>();
    send::<hotline_media::RecordingTarget>();
    shared::<hotline_media::MediaEngine>();
    shared::<hotline_media::prompt::Prompt>();
}
