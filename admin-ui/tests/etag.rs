//! Optimistic concurrency: two admins editing one hotline (or any versioned resource) with the
//! same `If-Match` cannot silently overwrite each other. One wins (200, new ETag); the other gets
//! 412 problem+json and its change is not stored. Sequentially and truly concurrently (two
//! tasks on a multi-threaded runtime, spawned at once).

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use serde_json::{json, Value};

fn etag_of(reply: &Reply) -> String {
    reply
        .1
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no ETag in {:?}: {}", reply.0, reply.2))
        .to_string()
}

/// Two tenant admins of A, and the operator.
async fn two_admins(world: &World) -> (String, String) {
    let a = &world.a;
    world
        .app
        .create(
            &a.url("/users"),
            &a.admin,
            json!({ "email": "second-admin@tenant-a.example", "display_name": "Second admin", "role": "tenant-admin", "password": PASSWORD }),
        )
        .await;
    let second = world
        .app
        .login("second-admin@tenant-a.example", PASSWORD)
        .await;
    (a.admin.clone(), second)
}

/// (path, first admin's token, second admin's token, first change, second change, field).
fn targets(
    world: &World,
    first: &str,
    second: &str,
) -> Vec<(String, String, String, Value, Value, &'static str)> {
    let a = &world.a;
    let op = world.app.operator.clone();
    let item = |collection: &str| {
        a.url(&format!(
            "/{collection}/{}",
            a.ids.for_collection(collection)
        ))
    };
    let t = |s: &str| s.to_string();
    vec![
        (
            item("hotlines"),
            t(first),
            t(second),
            json!({ "name": "first's name" }),
            json!({ "name": "second's name" }),
            "name",
        ),
        (
            item("queues"),
            t(first),
            t(second),
            json!({ "max_wait_secs": 111 }),
            json!({ "max_wait_secs": 222 }),
            "max_wait_secs",
        ),
        (
            item("prompts"),
            t(first),
            t(second),
            json!({ "description": "first" }),
            json!({ "description": "second" }),
            "description",
        ),
        (
            item("numbers"),
            t(first),
            t(second),
            json!({ "label": "first" }),
            json!({ "label": "second" }),
            "label",
        ),
        (
            item("agents"),
            t(first),
            t(second),
            json!({ "name": "First" }),
            json!({ "name": "Second" }),
            "name",
        ),
        (
            item("users"),
            t(first),
            t(second),
            json!({ "display_name": "First" }),
            json!({ "display_name": "Second" }),
            "display_name",
        ),
        (
            a.url(""),
            op.clone(),
            op,
            json!({ "name": "First Co" }),
            json!({ "name": "Second Co" }),
            "name",
        ),
    ]
}

async fn the_second_writer_with_a_stale_etag_gets_412(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (first, second) = two_admins(&world).await;
    for (path, first, second, change_1, change_2, field) in targets(&world, &first, &second) {
        // Both read the same version.
        let read = app.get(&path, Some(&first)).await;
        assert_eq!(read.0, StatusCode::OK, "{path}: {}", read.2);
        let etag = etag_of(&read);
        assert_eq!(
            etag,
            format!("\"{}\"", read.2["version"]),
            "{path}: the ETag is the version"
        );
        assert_eq!(etag_of(&app.get(&path, Some(&second)).await), etag);

        // The first writes: 200 and the next ETag.
        let won = app
            .patch(&path, Some(&first), &etag, change_1.clone())
            .await;
        assert_eq!(won.0, StatusCode::OK, "{path}: {}", won.2);
        let new_etag = etag_of(&won);
        assert_ne!(new_etag, etag);
        assert_eq!(won.2[field], change_1[field]);

        // The second, with the ETag it read: 412, and nothing written.
        let before = app.fingerprint().await;
        let lost = app
            .patch(&path, Some(&second), &etag, change_2.clone())
            .await;
        assert_problem(
            &lost,
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
        );
        assert_eq!(
            app.fingerprint().await,
            before,
            "{path}: the loser wrote something"
        );

        // The winner's change is stored, under the new ETag.
        let now = app.get(&path, Some(&second)).await;
        assert_eq!(now.2[field], change_1[field], "{path}");
        assert_eq!(etag_of(&now), new_etag, "{path}");

        // Having reloaded, the second admin can make its change.
        let retried = app
            .patch(&path, Some(&second), &new_etag, change_2.clone())
            .await;
        assert_eq!(retried.0, StatusCode::OK, "{path}: {}", retried.2);
        assert_eq!(app.get(&path, Some(&first)).await.2[field], change_2[field]);
    }

    // A stale DELETE is refused too and deletes nothing.
    let prompt = app
        .create(
            &world.a.url("/prompts"),
            &first,
            json!({ "name": "short-lived" }),
        )
        .await;
    let path = world.a.url(&format!("/prompts/{}", str_of(&prompt, "id")));
    let changed = app
        .patch(
            &path,
            Some(&second),
            "\"1\"",
            json!({ "description": "changed" }),
        )
        .await;
    assert_eq!(changed.0, StatusCode::OK);
    let before = app.fingerprint().await;
    assert_problem(
        &app.delete(&path, Some(&first), Some("\"1\"")).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
    );
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(
        app.delete(&path, Some(&first), Some(&etag_of(&changed)))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    world.finish().await;
}

/// Both PATCHes spawned at once, several rounds per resource: exactly one wins each round.
async fn concurrent_writers_exactly_one_wins(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (first, second) = two_admins(&world).await;
    let rounds_of = |path: &str| if path.contains("/hotlines/") { 8 } else { 2 };
    let audit_before = app.audit_len().await;
    let mut changes = 0;
    for (path, first, second, _, _, field) in targets(&world, &first, &second) {
        if field == "max_wait_secs" {
            continue; // a number field; the rounds below write strings
        }
        for round in 0..rounds_of(&path) {
            let etag = etag_of(&app.get(&path, Some(&first)).await);
            let mut tasks = Vec::new();
            for (who, token) in [("first", &first), ("second", &second)] {
                let value = json!(format!("{who} {round}"));
                let request = build_request(
                    Method::PATCH,
                    &path,
                    Some(token),
                    json!({ field: value }).to_string().into_bytes(),
                    &[
                        ("if-match", etag.as_str()),
                        ("content-type", "application/merge-patch+json"),
                    ],
                );
                let router = app.router.clone();
                tasks.push((value, tokio::spawn(send(router, request))));
            }
            let mut winners = Vec::new();
            for (value, task) in tasks {
                let reply = task.await.expect("the request task");
                match reply.0 {
                    StatusCode::OK => winners.push((value, etag_of(&reply))),
                    StatusCode::PRECONDITION_FAILED => {
                        assert_problem(
                            &reply,
                            StatusCode::PRECONDITION_FAILED,
                            "precondition-failed",
                        );
                    }
                    other => panic!("{path} round {round}: {other} {}", reply.2),
                }
            }
            assert_eq!(
                winners.len(),
                1,
                "{path} round {round}: exactly one writer wins"
            );
            let (value, winners_etag) = &winners[0];
            let now = app.get(&path, Some(&first)).await;
            assert_eq!(
                &now.2[field], value,
                "{path} round {round}: the winner's change is stored"
            );
            assert_eq!(&etag_of(&now), winners_etag);
            changes += 1;
        }
    }
    // Every successful change left exactly one audit entry, and no refused one left any.
    assert_eq!(app.audit_len().await, audit_before + changes);
    world.finish().await;
}

hotline_core::both_backends!(the_second_writer_with_a_stale_etag_gets_412);

mod concurrent {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::concurrent_writers_exactly_one_wins(hotline_core::Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::concurrent_writers_exactly_one_wins(hotline_core::Backend::Postgres).await
    }
}
