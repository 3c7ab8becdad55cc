//! End-to-end media tests: real peers through the built `hotline serve`, which anchors every
//! call's RTP. A real softphone (PJSIP's pjsua2, `tests/softphone/phone.py`) plays a tone into
//! the call and records what it hears; SIPp plays the RTP captures Debian's sip-tester ships.
//! What the far ends heard is judged here, by frequency (Goertzel), not by the phones.
//!
//! One server per test; inside a test the calls that share nothing run at the same time, each
//! with its own agent and number. The caller side is 127.0.0.1, the carrier's trunk.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use support::audio::{rms, tone_share, write_tone, Wav};
use support::hotline::{
    all_ok, check_record, join_all, sipp_available, Agent, Check, Expect, Hotline,
};
use support::sipp::Sipp;
use support::softphone::{PhoneReport, Softphone};
use support::{free_rtp_pair, free_udp_tcp_port};

const RING_TIMEOUT_S: u64 = 10;
const CALLER_TONE: f64 = 1_000.0;
const AGENT_TONE: f64 = 440.0;
/// How long a softphone call stays up once answered.
const TALK_MS: u64 = 4_000;
/// A stretch of audio "is" a tone when this share of its power is at the tone's frequency.
const TONE: f64 = 0.5;

/// Tone files the phones play.
struct Tones {
    _dir: tempfile::TempDir,
    caller: PathBuf,
    agent: PathBuf,
}

fn tones() -> Tones {
    let dir = tempfile::tempdir().expect("tone directory");
    let caller = dir.path().join("caller-1000hz.wav");
    let agent = dir.path().join("agent-440hz.wav");
    write_tone(&caller, CALLER_TONE, 3.0);
    write_tone(&agent, AGENT_TONE, 3.0);
    Tones {
        _dir: dir,
        caller,
        agent,
    }
}

fn forward(agent: &Agent) -> Value {
    json!({
        "action": "forward-agent",
        "agent_id": agent.id,
        "ring_timeout_s": RING_TIMEOUT_S,
        "no_answer": { "action": "reject", "sip_status": 480 },
    })
}

/// An agent's softphone, registered, answering after 200 ms, playing the agent's tone.
async fn agent_phone(
    hotline: &Hotline,
    agent: &Agent,
    tones: &Tones,
    codec: Option<&str>,
    root: &Path,
) -> Result<support::softphone::RunningPhone, String> {
    let mut phone = Softphone::new(&agent.username)
        .register(
            &format!("sip:{}@{}", agent.username, agent.domain),
            &agent.password,
            &hotline.sip.to_string(),
        )
        .sip_port(free_udp_tcp_port("127.0.0.1"))
        .rtp_port(free_rtp_pair())
        .answer_after(200)
        .play(&tones.agent)
        .record()
        .duration(Duration::from_secs(25));
    if let Some(codec) = codec {
        phone = phone.codec(codec);
    }
    let mut running = phone.spawn(root);
    running.ready(Duration::from_secs(15)).await?;
    Ok(running)
}

/// A caller's softphone dialing `number` through the trunk, playing the caller's tone.
fn caller_phone(hotline: &Hotline, label: &str, number: &str, tones: &Tones) -> Softphone {
    Softphone::new(label)
        .call(&format!("sip:{number}@{}", hotline.sip))
        .caller_id("sip:+421900555666@127.0.0.1")
        .sip_port(free_udp_tcp_port("127.0.0.1"))
        .rtp_port(free_rtp_pair())
        .play(&tones.caller)
        .record()
        .hangup_after(TALK_MS)
        .duration(Duration::from_secs(20))
}

/// What a phone heard between `from` and `to` seconds of its recording is `frequency`.
fn heard(report: &PhoneReport, frequency: f64, from: f64, to: f64) -> Result<(), String> {
    let path = report
        .recording
        .as_ref()
        .ok_or_else(|| format!("{} recorded nothing\n{}", report.label, report.report()))?;
    let wav = Wav::read(path);
    let stretch = wav.stretch(0, from, to);
    let share = tone_share(stretch, frequency, wav.rate);
    if share < TONE {
        let shares: Vec<String> = [AGENT_TONE, CALLER_TONE]
            .iter()
            .map(|f| format!("{f} Hz {:.0} %", tone_share(stretch, *f, wav.rate) * 100.0))
            .collect();
        return Err(format!(
            "{} heard {:.0} % of {frequency} Hz between {from} s and {to} s ({}; level {:.0}, \
             {:.1} s recorded)\n{}",
            report.label,
            share * 100.0,
            shares.join(", "),
            rms(stretch),
            wav.seconds(),
            report.report()
        ));
    }
    Ok(())
}

fn connected(report: &PhoneReport) -> Result<(), String> {
    if report.was_connected() {
        Ok(())
    } else {
        Err(format!(
            "{} was never connected\n{}",
            report.label,
            report.report()
        ))
    }
}

/// One softphone call through Hotline: the agent's phone answers, both play their tone, the
/// caller hangs up after [`TALK_MS`]. Returns (caller, agent) reports.
async fn softphone_call(
    hotline: &Hotline,
    agent: &Agent,
    tones: &Tones,
    caller: Softphone,
    agent_codec: Option<&str>,
    root: &Path,
) -> Result<(PhoneReport, PhoneReport), String> {
    let agent_phone = agent_phone(hotline, agent, tones, agent_codec, root).await?;
    let caller = caller.spawn(root).finish().await;
    let agent = agent_phone.finish().await;
    connected(&caller)?;
    connected(&agent)?;
    Ok((caller, agent))
}

/// Calls between two softphones through Hotline: audio both ways with the same codec, a PCMU
/// caller bridged to a PCMA phone (transcoded), hold and resume, and a recorded call whose
/// stereo file has the caller on the left and the agent on the right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn softphone_calls_carry_audio_through_hotline() {
    let _ = support::softphone::python();
    let hotline = Hotline::start("").await;
    let acme = hotline.tenant("acme", 20).await;
    hotline.trunk(free_udp_tcp_port("127.0.0.1")).await;
    let tones = tones();
    let root = tempfile::tempdir().expect("phones directory");
    let (same, transcoded, holding, recorded) = (
        hotline.agent(&acme, "same-codec").await,
        hotline.agent(&acme, "pcma-phone").await,
        hotline.agent(&acme, "holding").await,
        hotline.agent(&acme, "recorded").await,
    );
    let (n_same, n_transcoded, n_hold, n_recorded) = (
        "+421255560101",
        "+421255560102",
        "+421255560103",
        "+421255560104",
    );
    for (number, agent) in [
        (n_same, &same),
        (n_transcoded, &transcoded),
        (n_hold, &holding),
    ] {
        hotline.number(&acme, number, forward(agent)).await;
    }
    hotline
        .number_with(
            &acme,
            n_recorded,
            forward(&recorded),
            json!({ "recording_policy": "always" }),
        )
        .await;
    hotline.wait_for_trunks("+421255560199").await;
    let h = &hotline;
    let (tones, root, acme) = (&tones, root.path(), &acme);

    let same_codec: Check = Box::pin(async move {
        let caller = caller_phone(h, "same-caller", n_same, tones).codec("PCMU");
        let (caller, agent) = softphone_call(h, &same, tones, caller, Some("PCMU"), root).await?;
        heard(&agent, CALLER_TONE, 1.0, 3.0)?;
        heard(&caller, AGENT_TONE, 1.0, 3.0)?;
        let records = h.records(acme, n_same, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause", json!({ "cause": "completed" })),
                Expect::Is("/media/0/codec", json!("PCMU")),
                Expect::Is("/media/1/codec", json!("PCMU")),
                Expect::Unset("/recording"),
            ],
        )?;
        packets_both_ways(&records[0])
    });

    let transcoding: Check = Box::pin(async move {
        let caller = caller_phone(h, "pcmu-caller", n_transcoded, tones).codec("PCMU");
        let (caller, agent) =
            softphone_call(h, &transcoded, tones, caller, Some("PCMA"), root).await?;
        if !caller.codecs().iter().all(|c| c == "PCMU")
            || !agent.codecs().iter().all(|c| c == "PCMA")
        {
            return Err(format!(
                "codecs: caller {:?}, agent {:?}",
                caller.codecs(),
                agent.codecs()
            ));
        }
        heard(&agent, CALLER_TONE, 1.0, 3.0)?;
        heard(&caller, AGENT_TONE, 1.0, 3.0)?;
        let records = h.records(acme, n_transcoded, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/media/0/codec", json!("PCMU")),
                Expect::Is("/media/1/codec", json!("PCMA")),
            ],
        )
    });

    let hold: Check = Box::pin(async move {
        // On hold from 1.2 s to 2.4 s after the answer; the caller hangs up at 4 s.
        let caller = caller_phone(h, "hold-caller", n_hold, tones).hold(1_200, 2_400);
        let (caller, agent) = softphone_call(h, &holding, tones, caller, None, root).await?;
        if caller.events("hold_sent").is_empty() || caller.events("resume_sent").is_empty() {
            return Err(format!(
                "the caller did not hold and resume\n{}",
                caller.report()
            ));
        }
        // The tone is back at the agent after the resume.
        heard(&agent, CALLER_TONE, 2.9, 3.8)?;
        let records = h.records(acme, n_hold, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/holds/0/by", json!("caller")),
                Expect::Set("/holds/0/ended_at"),
                Expect::Unset("/holds/1"),
                Expect::Is("/end_cause", json!({ "cause": "completed" })),
            ],
        )
    });

    let recording: Check = Box::pin(async move {
        let caller = caller_phone(h, "recorded-caller", n_recorded, tones);
        softphone_call(h, &recorded, tones, caller, None, root).await?;
        let records = h.records(acme, n_recorded, 1).await?;
        let record = &records[0];
        check_record(
            record,
            &[
                Expect::Set("/recording/key"),
                Expect::Unset("/recording/failed"),
            ],
        )?;
        let key = record["recording"]["key"].as_str().unwrap_or_default();
        let wav = Wav::read(&h.data_dir().join("files").join(key));
        check_recording(&wav, record)
    });

    let results = join_all(vec![same_codec, transcoding, hold, recording]).await;
    let failures: Vec<String> = ["same codec", "PCMU to PCMA", "hold and resume", "recording"]
        .iter()
        .zip(results)
        .filter_map(|(name, result)| {
            result
                .err()
                .map(|why| format!("==== {name} FAILED:\n{why}"))
        })
        .collect();
    hotline.fail_if_any(failures, 4);
}

/// Both legs of a connected call carried packets in both directions.
fn packets_both_ways(record: &Value) -> Result<(), String> {
    let media = record["media"].as_array().cloned().unwrap_or_default();
    let flowing = media.len() == 2
        && media.iter().all(|leg| {
            leg["packets_in"].as_u64().unwrap_or(0) > 50
                && leg["packets_out"].as_u64().unwrap_or(0) > 50
        });
    if flowing {
        Ok(())
    } else {
        Err(format!("media per leg: {media:#?}"))
    }
}

/// The stereo recording: 8 kHz, the caller's tone on the left, the agent's on the right, as
/// long as the call was connected (within half a second).
fn check_recording(wav: &Wav, record: &Value) -> Result<(), String> {
    if wav.rate != 8_000 || wav.channels.len() != 2 {
        return Err(format!(
            "{} Hz, {} channels; expected 8000 Hz stereo",
            wav.rate,
            wav.channels.len()
        ));
    }
    let left = tone_share(wav.stretch(0, 1.0, 3.0), CALLER_TONE, wav.rate);
    let right = tone_share(wav.stretch(1, 1.0, 3.0), AGENT_TONE, wav.rate);
    if left < TONE || right < TONE {
        return Err(format!(
            "left has {:.0} % of the caller's {CALLER_TONE} Hz, right {:.0} % of the agent's \
             {AGENT_TONE} Hz",
            left * 100.0,
            right * 100.0
        ));
    }
    let recorded_ms = record["recording"]["duration_ms"].as_u64().unwrap_or(0) as f64;
    let file_ms = wav.seconds() * 1000.0;
    if (recorded_ms - file_ms).abs() > 100.0 || (file_ms - TALK_MS as f64).abs() > 600.0 {
        return Err(format!(
            "the file holds {file_ms:.0} ms, the record says {recorded_ms:.0} ms, the call was \
             up about {TALK_MS} ms"
        ));
    }
    Ok(())
}

/// SIPp plays the RFC 4733 captures (digits 1, 2, 3) and then G.711 A-law speech into a call
/// forwarded to a softphone: the digits reach the phone in order, and it hears the speech.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_rtp_and_digits_from_sipp_reach_the_phone() {
    if !sipp_available("recorded_rtp_and_digits_from_sipp_reach_the_phone") {
        return;
    }
    let _ = support::softphone::python();
    let pcaps = Path::new("/usr/share/sip-tester");
    assert!(
        pcaps.join("dtmf_2833_1.pcap").exists(),
        "the RTP captures of Debian's sip-tester are missing ({}); scripts/test.sh installs it",
        pcaps.display()
    );
    let hotline = Hotline::start("").await;
    let acme = hotline.tenant("acme", 5).await;
    hotline.trunk(free_udp_tcp_port("127.0.0.1")).await;
    let agent = hotline.agent(&acme, "digits").await;
    let number = "+421255560201";
    hotline.number(&acme, number, forward(&agent)).await;
    hotline.wait_for_trunks("+421255560299").await;
    let tones = tones();
    let root = tempfile::tempdir().expect("phones directory");
    let check: Check = Box::pin(async {
        let phone = agent_phone(&hotline, &agent, &tones, None, root.path()).await?;
        let carrier = Sipp::new("pcap-carrier", "carrier_pcap.xml")
            .to(hotline.sip)
            .service(number)
            .arg("-mi")
            .arg("127.0.0.1")
            .arg("-mp")
            .arg(&free_udp_tcp_port("127.0.0.1").to_string())
            .timeout(Duration::from_secs(30));
        let outcome = hotline.run(carrier).await;
        let phone = phone.finish().await;
        all_ok(&[&outcome])?;
        connected(&phone)?;
        if phone.digits() != "123" {
            return Err(format!(
                "the phone got digits {:?}, expected \"123\"\n{}",
                phone.digits(),
                phone.report()
            ));
        }
        // The speech (g711a.pcap) starts about 3.5 s after the answer.
        let recording = phone
            .recording
            .clone()
            .ok_or("the phone recorded nothing")?;
        let wav = Wav::read(&recording);
        let speech = rms(wav.stretch(0, 4.0, 7.0));
        let quiet = rms(wav.stretch(0, 0.0, 0.4));
        if speech < 200.0 || speech < 4.0 * quiet.max(1.0) {
            return Err(format!(
                "no speech heard: level {speech:.0} against {quiet:.0} before it\n{}",
                phone.report()
            ));
        }
        let records = hotline.records(&acme, number, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause", json!({ "cause": "completed" })),
                Expect::Is("/media/0/codec", json!("PCMA")),
            ],
        )
    });
    hotline.expect_all(vec![("RTP captures", check)]).await;
}

/// A call that carries no RTP at all is ended by Hotline after `rtp.media_timeout_secs`, and
/// its record says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_call_ends_with_a_media_timeout() {
    if !sipp_available("a_silent_call_ends_with_a_media_timeout") {
        return;
    }
    let hotline = Hotline::start("\n[rtp]\nmedia_timeout_secs = 2").await;
    let acme = hotline.tenant("acme", 5).await;
    hotline.trunk(free_udp_tcp_port("127.0.0.1")).await;
    let agent = hotline.agent(&acme, "silent").await;
    let number = "+421255560301";
    hotline.number(&acme, number, forward(&agent)).await;
    hotline.wait_for_trunks("+421255560399").await;
    let check: Check = Box::pin(async {
        // The phone answers and then waits for a BYE; the caller waits for one too (SIPp's
        // carrier_uas-style callee scenario); neither sends a packet of RTP.
        let phone = hotline
            .phone("silent-phone", &agent, "phone_answer.xml", 1, false)
            .await?;
        let caller = hotline
            .carrier("silent-caller", "carrier_call_callee_hangs_up.xml", number)
            .timeout(Duration::from_secs(20));
        let outcome = hotline.run(caller).await;
        let phone = phone.finish().await;
        all_ok(&[&outcome, &phone])?;
        let records = hotline.records(&acme, number, 1).await?;
        check_record(
            &records[0],
            &[
                Expect::Is("/end_cause", json!({ "cause": "media_timeout" })),
                Expect::Is("/hangup_by", json!("system")),
            ],
        )
    });
    hotline.expect_all(vec![("silent call", check)]).await;
}
