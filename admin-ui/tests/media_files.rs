//! Prompt audio and call recordings through the API: an upload of any common WAV or an MP3 is
//! converted once to 8 kHz mono 16-bit, stored under the tenant's prefix and served back with
//! byte ranges; removing the audio or the prompt removes the file; a call's recording streams
//! whole or by range (`a-b`, `a-`, `-n`, 416 past the end), and a record naming a file outside
//! its tenant, or no file at all, is refused without opening anything.

mod common;

use std::io::Cursor;

use axum::http::{header, HeaderMap, Method, StatusCode};
use common::*;
use hotline_core::blob::{BlobKey, BlobStore};
use hotline_core::call::{CallEventKind, CallTimeline, Direction, EndCause, Party, ScheduleBranch};
use hotline_core::ids::{CallId, HotlineId, TenantId};
use hotline_core::{PlatformScope, TenantScope};
use serde_json::json;

/// The MP3 the media crate's converter tests use: a 440 Hz tone at 44.1 kHz.
const MP3: &[u8] = include_bytes!("../../platform/media/tests/data/tone-440hz-44k1.mp3");

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
}

/// A 32-bit float WAV, as audio editors export.
fn float_wav(rate: u32, seconds: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).expect("writer");
    for n in 0..(rate as f32 * seconds) as u32 {
        writer
            .write_sample((n as f32 * 0.05).sin() * 0.5)
            .expect("sample");
    }
    writer.finalize().expect("finish");
    out.into_inner()
}

async fn uploads_are_converted_stored_and_served_by_range(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let prompt = app
        .create(&a.url("/prompts"), &a.admin, json!({ "name": "menu" }))
        .await;
    assert_eq!(
        (prompt["has_audio"].clone(), prompt["duration_ms"].clone()),
        (json!(false), json!(null))
    );
    let id = str_of(&prompt, "id");
    let item = a.url(&format!("/prompts/{id}"));
    let audio = a.url(&format!("/prompts/{id}/audio"));

    // A CD-quality stereo second, sent as audio/x-wav.
    let (status, headers, voiced) = app
        .put_audio(&audio, &a.admin, tone_wav(44100, 2, 16, 1.0), "audio/x-wav")
        .await;
    assert_eq!(status, StatusCode::OK, "{voiced}");
    assert_eq!(header_of(&headers, header::ETAG), "\"2\"");
    assert_eq!(
        (voiced["has_audio"].clone(), voiced["version"].clone()),
        (json!(true), json!(2))
    );
    let duration = voiced["duration_ms"].as_u64().expect("a duration");
    assert!((990..=1010).contains(&duration), "{duration}");
    assert!(
        !voiced.to_string().contains("tenants/"),
        "the storage key stays inside: {voiced}"
    );
    assert_eq!(app.read(&item, &a.admin).await, voiced);
    let listed = app.read(&a.url("/prompts?limit=500"), &a.admin).await;
    assert!(listed["items"].as_array().expect("items").contains(&voiced));

    // Stored once, converted, under the tenant's prefix.
    let scope = TenantScope::from_verified(a.id.parse::<TenantId>().expect("tenant id"));
    let key = BlobKey::prompt(&scope, id.parse().expect("prompt id"));
    let stored = app
        .files
        .read(&key, None)
        .await
        .expect("the stored file")
        .bytes;
    let reader = hound::WavReader::new(Cursor::new(stored.clone())).expect("a WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert!(
        (7_900..=8_100).contains(&reader.duration()),
        "{}",
        reader.duration()
    );

    // Served whole, then by range.
    let len = stored.len() as u64;
    let (status, headers, body) = app.download(Method::GET, &audio, &a.admin, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, stored);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "audio/wav");
    assert_eq!(header_of(&headers, header::ACCEPT_RANGES), "bytes");
    assert_eq!(header_of(&headers, header::CONTENT_LENGTH), len.to_string());
    assert_eq!(header_of(&headers, header::ETAG), "\"2\"");
    for (range, start, end) in [
        ("bytes=0-43", 0, 43),
        ("bytes=44-", 44, len - 1),
        ("bytes=-100", len - 100, len - 1),
        ("bytes=10-999999", 10, len - 1),
    ] {
        let (status, headers, body) = app
            .download(Method::GET, &audio, &a.admin, &[("range", range)])
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header_of(&headers, header::CONTENT_RANGE),
            format!("bytes {start}-{end}/{len}")
        );
        assert_eq!(body, stored[start as usize..=end as usize], "{range}");
    }
    let (status, headers, body) = app
        .download(
            Method::GET,
            &audio,
            &a.admin,
            &[("range", &format!("bytes={len}-"))],
        )
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        header_of(&headers, header::CONTENT_RANGE),
        format!("bytes */{len}")
    );
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem+json");
    assert_eq!(problem["type"], "urn:hotline:problem:range-not-satisfiable");
    let (status, headers, body) = app.download(Method::HEAD, &audio, &a.admin, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_LENGTH), len.to_string());
    assert!(body.is_empty());

    // Replaced by other formats: an MP3, a float WAV, 8-bit and 24-bit WAVs, each converted.
    for (what, bytes, content_type, seconds) in [
        ("mp3", MP3.to_vec(), "audio/mpeg", None),
        (
            "float",
            float_wav(22050, 0.5),
            "application/octet-stream",
            Some(500),
        ),
        ("8-bit", tone_wav(11025, 1, 8, 0.25), "audio/wav", Some(250)),
        (
            "24-bit",
            tone_wav(96000, 2, 24, 0.25),
            "audio/wav",
            Some(250),
        ),
    ] {
        let (status, _, voiced) = app.put_audio(&audio, &a.admin, bytes, content_type).await;
        assert_eq!(status, StatusCode::OK, "{what}: {voiced}");
        let duration = voiced["duration_ms"].as_u64().expect("a duration");
        match seconds {
            Some(ms) => assert!(duration.abs_diff(ms) <= 10, "{what}: {duration}"),
            None => assert!(duration > 100, "{what}: {duration}"),
        }
        let stored = app.files.read(&key, None).await.expect("file").bytes;
        let spec = hound::WavReader::new(Cursor::new(stored))
            .expect("a WAV")
            .spec();
        assert_eq!((spec.sample_rate, spec.channels), (8000, 1), "{what}");
    }
    let version = app.read(&item, &a.admin).await["version"]
        .as_i64()
        .expect("version");
    assert_eq!(version, 6);
    // If-Match, when sent and current, is accepted.
    let (status, _, _) = app
        .request_raw(
            Method::PUT,
            &audio,
            Some(&a.admin),
            tone_wav(8000, 1, 16, 0.1),
            &[("content-type", "audio/wav"), ("if-match", "\"6\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Every upload is in the audit log.
    let audit = app.read(&a.url("/audit?limit=500"), &a.admin).await;
    let uploads = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["resource_id"] == json!(id) && e["action"] == json!("update"))
        .count();
    assert_eq!(uploads, 6);

    // Removing the audio removes the file; the prompt stays.
    let (status, headers, unvoiced) = app.delete(&audio, Some(&a.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{unvoiced}");
    assert_eq!(header_of(&headers, header::ETAG), "\"8\"");
    assert_eq!(
        (
            unvoiced["has_audio"].clone(),
            unvoiced["duration_ms"].clone()
        ),
        (json!(false), json!(null))
    );
    assert!(app.files.len(&key).await.is_err(), "the file is gone");
    assert_problem(
        &app.get(&audio, Some(&a.admin)).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );

    // Deleting a prompt with audio deletes its file.
    let (status, _, _) = app
        .put_audio(&audio, &a.admin, tone_wav(8000, 1, 16, 0.1), "audio/wav")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.files.len(&key).await.is_ok());
    let (status, _, body) = app.delete(&item, Some(&a.admin), Some("\"9\"")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        app.files.len(&key).await.is_err(),
        "the file went with the prompt"
    );
    world.finish().await;
}

/// A finished call of `tenant`, recorded to the file at `key` if one is given; its id.
async fn finished_call(app: &App, tenant: &str, recording: Option<&str>) -> String {
    let tenant_id: TenantId = tenant.parse().expect("tenant id");
    let mut timeline = CallTimeline::new(CallId::new());
    let at = hotline_core::time::now();
    timeline
        .record(
            at,
            CallEventKind::Arrived {
                direction: Direction::Inbound,
                caller: "+421900555777".into(),
                dialed: "+421233000999".into(),
                trunk_id: None,
            },
        )
        .expect("arrived");
    timeline
        .record(
            at,
            CallEventKind::Routed {
                tenant_id,
                hotline_id: HotlineId::new(),
                branch: ScheduleBranch::Open,
            },
        )
        .expect("routed");
    if let Some(key) = recording {
        timeline
            .record(at, CallEventKind::RecordingStarted { key: key.into() })
            .expect("recording");
    }
    timeline.end(at, EndCause::Abandoned, Party::Caller);
    let record = timeline.to_record().expect("record");
    app.store
        .append_call_record(&PlatformScope::from_verified(), &record)
        .await
        .expect("store the record");
    record.call_id.to_string()
}

async fn recordings_stream_by_range_and_only_from_their_tenant(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let supervisor = world
        .token(hotline_tenants::rbac::Role::Supervisor)
        .to_string();

    // The fixture's call: one second of stereo audio.
    let recording = a.url(&format!("/calls/{}/recording", a.ids.call));
    let (status, headers, whole) = app
        .download(Method::GET, &recording, &supervisor, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whole.len(), 44 + 8000 * 4);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "audio/wav");
    assert_eq!(header_of(&headers, header::ACCEPT_RANGES), "bytes");
    assert_eq!(
        header_of(&headers, header::CACHE_CONTROL),
        "private, no-store"
    );
    let spec = hound::WavReader::new(Cursor::new(whole.clone()))
        .expect("WAV")
        .spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 8000));
    let (status, headers, body) = app.download(Method::HEAD, &recording, &a.admin, &[]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    assert_eq!(header_of(&headers, header::CONTENT_LENGTH), "32044");

    // A recording longer than one read of the store (256 KiB), sought into across a boundary.
    let scope = TenantScope::from_verified(a.id.parse().expect("tenant id"));
    let long_key = BlobKey::recording(&scope, CallId::new(), hotline_core::time::now());
    let long = tone_wav(8000, 2, 16, 30.0);
    app.files.put(&long_key, long.clone()).await.expect("store");
    let long_call = finished_call(app, &a.id, Some(long_key.as_str())).await;
    let long_url = a.url(&format!("/calls/{long_call}/recording"));
    let (status, _, body) = app.download(Method::GET, &long_url, &a.admin, &[]).await;
    assert_eq!((status, body.len()), (StatusCode::OK, long.len()));
    assert_eq!(body, long);
    let n = long.len() as u64;
    for (range, start, end) in [
        ("bytes=262000-262300", 262_000u64, 262_300u64),
        ("bytes=100000-", 100_000, n - 1),
        ("bytes=-600000", n - 600_000, n - 1),
    ] {
        let (status, headers, body) = app
            .download(Method::GET, &long_url, &a.admin, &[("range", range)])
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header_of(&headers, header::CONTENT_RANGE),
            format!("bytes {start}-{end}/{n}")
        );
        assert_eq!(body, long[start as usize..=end as usize], "{range}");
    }
    let (status, _, _) = app
        .download(
            Method::GET,
            &long_url,
            &a.admin,
            &[("range", &format!("bytes={}-{}", n, n + 5))],
        )
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);

    // A call that was not recorded, one whose file is gone, and no call at all: 404.
    let unrecorded = finished_call(app, &a.id, None).await;
    let gone_key = BlobKey::recording(&scope, CallId::new(), hotline_core::time::now());
    let gone = finished_call(app, &a.id, Some(gone_key.as_str())).await;
    for call in [unrecorded, gone, CallId::new().to_string()] {
        let url = a.url(&format!("/calls/{call}/recording"));
        assert_problem(
            &app.get(&url, Some(&a.admin)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
        let (status, _, _) = app.download(Method::HEAD, &url, &a.admin, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    // A record naming B's recording, or a path out of the tenant: refused, never opened.
    let b_scope = TenantScope::from_verified(b.id.parse().expect("tenant id"));
    let b_key = BlobKey::recording(&b_scope, CallId::new(), hotline_core::time::now());
    app.files
        .put(&b_key, b"B's secret call".to_vec())
        .await
        .expect("store");
    for key in [
        b_key.to_string(),
        format!("tenants/{}/../{}/recordings/x.wav", a.id, b.id),
        "/etc/passwd".to_string(),
    ] {
        let call = finished_call(app, &a.id, Some(&key)).await;
        let url = a.url(&format!("/calls/{call}/recording"));
        let reply = app.get(&url, Some(&a.admin)).await;
        assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR, "internal");
        assert!(!reply.2.to_string().contains("secret"), "{}", reply.2);
    }
    world.finish().await;
}

hotline_core::both_backends!(
    uploads_are_converted_stored_and_served_by_range,
    recordings_stream_by_range_and_only_from_their_tenant,
);
