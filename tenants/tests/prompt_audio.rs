//! A prompt's audio in the store: an upload sets its storage key and duration under the
//! tenant's scope, moves its version and is audited; a change that is not committed (the file
//! write failed) leaves nothing behind; a stale version or another tenant's scope changes
//! nothing; edits of the metadata keep the audio.

mod common;

use common::*;
use hotline_tenants::audit::AuditAction;
use hotline_tenants::prompts::{PromptAudio, PromptSpec};
use hotline_tenants::{PageRequest, StoreError};

fn audio(key: &str, duration_ms: u64) -> PromptAudio {
    PromptAudio {
        storage_key: key.into(),
        duration_ms,
    }
}

async fn an_upload_sets_the_audio_moves_the_version_and_is_audited(backend: hotline_core::Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let actor = user_actor("admin@acme.example");
    let made = fx
        .store
        .create(&actor, &a, prompt("welcome"))
        .await
        .expect("create");
    let fresh = fx.store.get_prompt(&a, made.id).await.expect("get");
    assert!(!fresh.has_audio && fresh.duration_ms.is_none() && fresh.audio().is_none());
    let json = serde_json::to_value(&fresh).expect("json");
    assert_eq!(json["has_audio"], false);
    assert_eq!(json["name"], "welcome");
    assert!(json.get("storage_key").is_none(), "{json}");

    let change = fx
        .store
        .begin_prompt_audio_change(
            &actor,
            &a,
            made.id,
            Some(1),
            Some(audio("tenants/x/prompts/p.wav", 2_500)),
        )
        .await
        .expect("begin");
    assert_eq!(change.before().version(), 1);
    let after = change.commit().await.expect("commit");
    assert_eq!(after.version(), 2);
    assert_eq!(after.audio(), Some(audio("tenants/x/prompts/p.wav", 2_500)));

    let read = fx.store.get_prompt(&a, made.id).await.expect("get");
    assert_eq!(read, after);
    let by_name = fx
        .store
        .find_prompt_by_name(&a, "welcome")
        .await
        .expect("by name");
    assert_eq!(by_name, after);
    let listed = fx
        .store
        .list_prompts(&a, &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(listed.items, vec![after.clone()]);
    let json = serde_json::to_value(&read).expect("json");
    assert_eq!(
        (json["has_audio"].clone(), json["duration_ms"].clone()),
        (true.into(), 2_500.into())
    );
    assert!(!json.to_string().contains("tenants/x"), "{json}");

    let entry = fx.last_audit(made.id).await;
    assert_eq!(entry.action, AuditAction::Update);
    assert_eq!(entry.resource, "prompt");
    assert_eq!(entry.before.expect("before")["has_audio"], false);
    assert_eq!(entry.after.expect("after")["duration_ms"], 2_500);

    // Editing the metadata keeps the audio.
    let mut spec = made.spec.clone();
    spec.description = "Greets callers".into();
    fx.store
        .update::<PromptSpec>(&actor, &a, made.id, 2, spec)
        .await
        .expect("update");
    let edited = fx.store.get_prompt(&a, made.id).await.expect("get");
    assert_eq!(edited.version(), 3);
    assert_eq!(edited.audio(), after.audio());

    // Removing it.
    let removed = fx
        .store
        .begin_prompt_audio_change(&actor, &a, made.id, None, None)
        .await
        .expect("begin removal")
        .commit()
        .await
        .expect("commit removal");
    assert!(!removed.has_audio && removed.duration_ms.is_none());
    assert_eq!(removed.version(), 4);
    fx.finish().await;
}

async fn an_uncommitted_change_a_stale_version_or_a_foreign_scope_changes_nothing(
    backend: hotline_core::Backend,
) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let actor = user_actor("admin@acme.example");
    let made = fx
        .store
        .create(&actor, &a, prompt("welcome"))
        .await
        .expect("create");
    let before = fx.snapshot().await;
    let audit_len = fx.audit_all().await.len();
    let unchanged = fx.store.get_prompt(&a, made.id).await.expect("get");

    // The file write failed: the change is dropped, not committed.
    let change = fx
        .store
        .begin_prompt_audio_change(&actor, &a, made.id, None, Some(audio("k", 1_000)))
        .await
        .expect("begin");
    drop(change);
    assert_eq!(
        fx.store.get_prompt(&a, made.id).await.expect("get"),
        unchanged
    );

    match fx
        .store
        .begin_prompt_audio_change(&actor, &a, made.id, Some(7), Some(audio("k", 1_000)))
        .await
    {
        Err(StoreError::VersionMismatch { current: 1, .. }) => {}
        Err(other) => panic!("expected a version mismatch, got {other:?}"),
        Ok(_) => panic!("a stale version was accepted"),
    }
    for result in [
        fx.store
            .begin_prompt_audio_change(&actor, &b, made.id, None, Some(audio("k", 1_000)))
            .await
            .map(|_| ()),
        fx.store.get_prompt(&b, made.id).await.map(|_| ()),
        fx.store
            .find_prompt_by_name(&b, "welcome")
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound { resource: "prompt" })),
            "{result:?}"
        );
    }
    assert!(fx
        .store
        .list_prompts(&b, &PageRequest::first(10))
        .await
        .expect("list")
        .items
        .is_empty());
    assert_invalid(
        fx.store
            .begin_prompt_audio_change(&actor, &a, made.id, None, Some(audio("", 1)))
            .await
            .map(|_| ()),
        "audio",
    );

    assert_eq!(fx.snapshot().await, before);
    assert_eq!(fx.audit_all().await.len(), audit_len);
    assert_eq!(
        fx.store.get_prompt(&a, made.id).await.expect("get"),
        unchanged
    );
    fx.finish().await;
}

hotline_core::both_backends!(
    an_upload_sets_the_audio_moves_the_version_and_is_audited,
    an_uncommitted_change_a_stale_version_or_a_foreign_scope_changes_nothing,
);
