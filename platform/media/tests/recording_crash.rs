//! A recording survives its process being killed mid-call: a child process records a bridged
//! call (a 1 kHz tone from the caller, 500 Hz from the agent) and is killed with SIGKILL; the
//! parent repairs the file as start-up would and reads it back.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{engine, tone_share};
use hotline_media::bridge::Side;
use hotline_media::record::repair;
use hotline_media::RecordingTarget;

const CHILD_ENV: &str = "HOTLINE_MEDIA_CRASH_CHILD";

#[test]
fn a_killed_process_leaves_a_repairable_recording() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        record_until_killed(PathBuf::from(path));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.wav");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_process_leaves_a_repairable_recording",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it record for about three seconds once the file exists.
    for _ in 0..500 {
        if path.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(path.exists(), "the child never started recording");
    std::thread::sleep(Duration::from_millis(3000));
    child.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.wait().unwrap();

    // The header tells the length as of the last flush; anything written after it (a partial
    // buffer, half a frame) is what repair cuts or counts in.
    let report = repair(&path).unwrap();
    assert!(report.data_bytes.is_multiple_of(4), "{report:?}");
    let (left, right) = common::read_stereo(&path);
    let seconds = left.len() as f64 / 8000.0;
    // Three seconds recorded; at most the last flush interval (1 s) and the mixer's 300 ms
    // lag are lost.
    assert!(
        seconds >= 3.0 - 1.0 - 0.3 - 0.2,
        "only {seconds:.2} s survived"
    );
    assert!(seconds <= 3.5, "{seconds:.2} s");
    let middle = 2000..left.len() - 800;
    assert!(
        common::longest_silence(&left[middle.clone()]) < 40,
        "a gap on the left"
    );
    assert!(
        common::longest_silence(&right[middle.clone()]) < 40,
        "a gap on the right"
    );
    assert!(
        tone_share(&left[middle.clone()], 1000.0) > 0.8,
        "caller on the left"
    );
    assert!(
        tone_share(&right[middle.clone()], 500.0) > 0.8,
        "agent on the right"
    );
}

fn record_until_killed(path: PathBuf) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let engine = engine(31300, 31399);
        let mut call = common::bridged_call(&engine, "0", "8").await;
        call.bridge
            .start_recording(RecordingTarget::Path(path), Side::A)
            .await
            .unwrap();
        call.talk(None).await;
    });
}
