//! End-to-end tests of the tenants' files in the built `hotline` binary: a recording left open
//! by a crash (its header behind the audio, half a frame at the end) is repaired when `serve`
//! starts, before calls are taken, and then read back through the API whole and by range; a
//! prompt uploaded over HTTP is converted and stored under the tenant's prefix in the
//! configured files directory. On SQLite and on PostgreSQL.

mod support;

use std::path::{Path, PathBuf};

use hotline_core::blob::BlobKey;
use hotline_core::call::{CallEventKind, CallTimeline, Direction, EndCause, Party, ScheduleBranch};
use hotline_core::ids::{CallId, HotlineId, TenantId};
use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope, TenantScope};
use hotline_media::record::WavWriter;
use hotline_tenants::{Store, StoreConfig};
use serde_json::{json, Value};
use support::{free_port, http_client, login, Sandbox, ADMIN_EMAIL, ADMIN_PASSWORD};

/// Frames the torn recording's header admits to, and frames really in the file.
const CLAIMED_FRAMES: usize = 4_000;
const WRITTEN_FRAMES: usize = 12_000;

/// A recording as the recorder leaves it when the process dies between two flushes: the header
/// counts `CLAIMED_FRAMES`, the file holds `WRITTEN_FRAMES` and half of one more.
fn torn_recording(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("recording directory");
    let mut writer = WavWriter::create(path).expect("recording");
    writer
        .write_frames(&vec![1_000i16; CLAIMED_FRAMES * 2])
        .expect("frames");
    writer.flush().expect("flush");
    drop(writer);
    let mut bytes = std::fs::read(path).expect("read");
    bytes.extend(std::iter::repeat_n(
        0x11u8,
        (WRITTEN_FRAMES - CLAIMED_FRAMES) * 4 + 2,
    ));
    std::fs::write(path, bytes).expect("tear");
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// A 16 kHz mono 16-bit WAV of `samples` samples: not the rate prompts are kept at.
fn wav_16k(samples: usize) -> Vec<u8> {
    let data = (samples * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&32_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for n in 0..samples {
        let value = ((n as f32 * 0.1).sin() * 8_000.0) as i16;
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// A finished call of `tenant` whose recording is `key`, stored as the call engine stores it.
async fn recorded_call(store: &Store, tenant: TenantId, key: &BlobKey) -> CallId {
    let mut timeline = CallTimeline::new(CallId::new());
    let at = hotline_core::time::now();
    let events = [
        CallEventKind::Arrived {
            direction: Direction::Inbound,
            caller: "+421900111222".into(),
            dialed: "+421233000111".into(),
            trunk_id: None,
        },
        CallEventKind::Routed {
            tenant_id: tenant,
            hotline_id: HotlineId::new(),
            branch: ScheduleBranch::Open,
        },
        CallEventKind::RecordingStarted {
            key: key.to_string(),
        },
    ];
    for event in events {
        timeline.record(at, event).expect("event");
    }
    timeline.end(at, EndCause::Completed, Party::Caller);
    let record = timeline.to_record().expect("record");
    store
        .append_call_record(&PlatformScope::from_verified(), &record)
        .await
        .expect("store the call");
    record.call_id
}

async fn a_torn_recording_is_repaired_at_start_and_prompts_are_stored(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut sandbox = Sandbox::new();
    sandbox.set("DATABASE_URL", db.url());
    // PostgreSQL runs with the files somewhere else than the data directory.
    let files_dir: PathBuf = match backend {
        Backend::Sqlite => sandbox.path("hotline-data/files"),
        Backend::Postgres => {
            let dir = sandbox.path("elsewhere/files");
            sandbox.set("HOTLINE_FILES_DIR", dir.display().to_string());
            dir
        }
    };
    sandbox.ok(
        &["admin", "bootstrap", "--email", ADMIN_EMAIL],
        &[("HOTLINE_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)],
    );
    sandbox.ok(
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--time-zone",
            "UTC",
        ],
        &[],
    );
    let listed: Value =
        serde_json::from_str(&sandbox.ok(&["tenant", "list", "--json"], &[]).stdout)
            .expect("tenant list --json");
    let tenant: TenantId = listed[0]["id"]
        .as_str()
        .expect("a tenant id")
        .parse()
        .expect("tenant id");

    // The crash: a call was being recorded when the process died.
    let store = Store::new(db.db.clone(), StoreConfig::default());
    let scope = TenantScope::from_verified(tenant);
    let key = BlobKey::recording(&scope, CallId::new(), hotline_core::time::now());
    let path = files_dir.join(key.as_str());
    torn_recording(&path);
    let call = recorded_call(&store, tenant, &key).await;

    let http = http_client();
    let mut server = sandbox.serve(&[], free_port());
    server.wait_healthy(&http).await;
    let log = server.log();
    assert!(log.contains("repaired a recording left open"), "{log}");

    // Fixed on disk before anything was served...
    let fixed = std::fs::read(&path).expect("the recording");
    let data_bytes = (WRITTEN_FRAMES * 4) as u32;
    assert_eq!(
        fixed.len(),
        44 + WRITTEN_FRAMES * 4,
        "the half frame is cut off"
    );
    assert_eq!(
        (le_u32(&fixed, 4), le_u32(&fixed, 40)),
        (36 + data_bytes, data_bytes)
    );

    // ...and read back through the API, a header's worth first, as a player seeking does.
    let token = login(&http, &server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let url = server.url(&format!("/api/v1/tenants/{tenant}/calls/{call}/recording"));
    let head = http
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-43")
        .send()
        .await
        .expect("range request");
    assert_eq!(head.status(), 206);
    assert_eq!(
        head.headers()["content-range"].to_str().expect("text"),
        format!("bytes 0-43/{}", fixed.len())
    );
    let header = head.bytes().await.expect("body");
    assert_eq!(
        le_u32(&header, 40),
        data_bytes,
        "the served header tells the true length"
    );
    let whole = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.expect("body").to_vec(), fixed);

    // A prompt uploaded over HTTP: converted to 8 kHz and kept in the files directory.
    let prompt: Value = http
        .post(server.url(&format!("/api/v1/tenants/{tenant}/prompts")))
        .bearer_auth(&token)
        .json(&json!({ "name": "welcome" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let prompt_id = prompt["id"].as_str().expect("prompt id").to_string();
    let audio = server.url(&format!(
        "/api/v1/tenants/{tenant}/prompts/{prompt_id}/audio"
    ));
    let uploaded = http
        .put(&audio)
        .bearer_auth(&token)
        .header("content-type", "audio/wav")
        .body(wav_16k(16_000))
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 200);
    let uploaded: Value = uploaded.json().await.expect("json");
    assert_eq!(
        (
            uploaded["has_audio"].clone(),
            uploaded["duration_ms"].clone()
        ),
        (json!(true), json!(1000))
    );
    let stored = files_dir.join(format!("tenants/{tenant}/prompts/{prompt_id}.wav"));
    let stored = std::fs::read(&stored).expect("the stored prompt");
    assert_eq!(le_u32(&stored, 24), 8_000, "stored at 8 kHz");
    let served = http
        .get(&audio)
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.expect("body").to_vec(), stored);
    let refused = http
        .put(&audio)
        .bearer_auth(&token)
        .header("content-type", "audio/wav")
        .body(b"GIF89a not a sound".to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:hotline:problem:not-audio");

    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");

    // The next start checks only the days since this one, and finds nothing to do.
    let mut again = sandbox.serve(&[], free_port());
    again.wait_healthy(&http).await;
    let log = again.log();
    assert!(!log.contains("repaired a recording left open"), "{log}");
    let (status, _) = again.terminate();
    assert!(status.success());
    db.finish().await;
}

#[tokio::test]
async fn recordings_and_prompts_on_sqlite() {
    a_torn_recording_is_repaired_at_start_and_prompts_are_stored(Backend::Sqlite).await;
}

#[tokio::test]
async fn recordings_and_prompts_on_postgres() {
    a_torn_recording_is_repaired_at_start_and_prompts_are_stored(Backend::Postgres).await;
}
