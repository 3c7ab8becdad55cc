//! Users, login and tokens, and API keys against SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::*;
use hotline_core::{Backend, TenantScope};
use hotline_tenants::api_keys::ApiKeyInput;
use hotline_tenants::audit::AuditAction;
use hotline_tenants::auth::{AuthError, Subject, TokenPair, TokenService};
use hotline_tenants::rbac::{Action, Role};
use hotline_tenants::users::{User, UserInput};
use hotline_tenants::{PageRequest, Store};

hotline_core::both_backends!(
    users_passwords_and_roles,
    users_stay_in_their_tenant,
    login_verify_and_refresh_rotation,
    reused_refresh_token_ends_the_family,
    concurrent_refresh_with_one_token_ends_the_family,
    logout_revokes,
    disabling_or_changing_a_user_ends_sessions,
    api_keys_authenticate_until_revoked,
);

const PASSWORD: &str = "correct horse battery staple";

fn tokens() -> TokenService {
    TokenService::new(
        b"test-signing-key-of-32-bytes-min".to_vec(),
        Duration::from_secs(300),
        Duration::from_secs(3600),
    )
}

fn user_input(email: &str, role: Role) -> UserInput {
    UserInput {
        email: email.to_string(),
        display_name: "Ann Example".into(),
        role,
        disabled: false,
        password: Some(PASSWORD.into()),
    }
}

async fn tenant_admin(store: &Store, scope: &TenantScope, email: &str) -> User {
    store
        .create_user(
            &hotline_tenants::audit::Actor::cli(),
            scope,
            user_input(email, Role::TenantAdmin),
        )
        .await
        .unwrap()
}

#[track_caller]
fn assert_auth_err<T: std::fmt::Debug>(
    result: Result<T, AuthError>,
    expected: fn(&AuthError) -> bool,
    what: &str,
) {
    match result {
        Err(e) if expected(&e) => {}
        other => panic!("{what}: unexpected {other:?}"),
    }
}

fn reused(e: &AuthError) -> bool {
    matches!(e, AuthError::RefreshReused)
}

async fn users_passwords_and_roles(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;

    let ann = store
        .create_user(actor, &a, user_input("  Ann@Acme.Test ", Role::TenantAdmin))
        .await
        .unwrap();
    assert_eq!(ann.email, "ann@acme.test");
    assert_eq!(ann.tenant_id, Some(acme.id));
    assert_eq!(store.get_user(&a, ann.id).await.unwrap(), ann);
    let hash = fx.column("users", "password_hash", ann.id).await;
    assert!(
        hash.starts_with("$argon2id$"),
        "not an argon2id PHC string: {hash}"
    );
    fx.assert_stored_nowhere(PASSWORD).await;
    assert_entry(
        &fx.last_audit(ann.id).await,
        actor,
        AuditAction::Create,
        "user",
    );

    // Refused: each with the field to fix, and nothing written.
    let before = fx.snapshot().await;
    assert_invalid(
        store
            .create_user(actor, &a, user_input("root@acme.test", Role::PlatformAdmin))
            .await,
        "role",
    );
    let mut promoted = ann.input();
    promoted.role = Role::PlatformAdmin;
    assert_invalid(
        store.update_user(actor, &a, ann.id, 1, promoted).await,
        "role",
    );
    assert_invalid(
        store
            .create_platform_user(
                actor,
                &fx.platform,
                user_input("op@firm.test", Role::Supervisor),
            )
            .await,
        "role",
    );
    assert_invalid(
        store
            .create_user(
                actor,
                &a,
                UserInput {
                    password: None,
                    ..user_input("bob@acme.test", Role::Agent)
                },
            )
            .await,
        "password",
    );
    assert_invalid(
        store
            .create_user(
                actor,
                &a,
                UserInput {
                    password: Some("short".into()),
                    ..user_input("bob@acme.test", Role::Agent)
                },
            )
            .await,
        "password",
    );
    assert_invalid(
        store
            .create_user(actor, &a, user_input("not-an-email", Role::Agent))
            .await,
        "email",
    );
    // Emails are unique across the installation, whatever the case.
    let message = assert_conflict(
        store
            .create_user(actor, &b, user_input("ANN@acme.test", Role::Agent))
            .await,
    );
    assert!(message.contains("email"), "{message}");
    assert_eq!(fx.snapshot().await, before);
    assert_eq!(store.get_user(&a, ann.id).await.unwrap(), ann);

    // Every tenant role is fine inside a tenant.
    for (i, role) in Role::ALL
        .into_iter()
        .filter(|r| !r.is_platform())
        .enumerate()
    {
        let user = store
            .create_user(actor, &b, user_input(&format!("user{i}@globex.test"), role))
            .await
            .unwrap();
        assert_eq!(user.role, role);
    }

    // The operator's own users.
    let op = store
        .create_platform_user(
            actor,
            &fx.platform,
            user_input("op@firm.test", Role::PlatformAdmin),
        )
        .await
        .unwrap();
    assert_eq!(op.tenant_id, None);
    assert_eq!(
        store.get_platform_user(&fx.platform, op.id).await.unwrap(),
        op
    );
    assert_not_found(store.get_user(&a, op.id).await);
    assert_not_found(store.get_platform_user(&fx.platform, ann.id).await);
    assert_eq!(
        store
            .list_platform_users(&fx.platform, &PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![op]
    );
    assert_eq!(store.platform_admin_count().await.unwrap(), 1);
    store
        .bootstrap_platform_admin("boot@firm.test", "bootstrap password 1")
        .await
        .unwrap();
    assert_eq!(store.platform_admin_count().await.unwrap(), 2);
    fx.finish().await;
}

async fn users_stay_in_their_tenant(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let mut ours = Vec::new();
    for i in 0..5 {
        ours.push(tenant_admin(store, &a, &format!("user{i}@acme.test")).await);
    }
    let theirs = tenant_admin(store, &b, "user@globex.test").await;

    let (listed, sizes) =
        collect_pages(2, |page| async move { store.list_users(&a, &page).await }).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(listed, ours);
    assert_eq!(
        store
            .list_users(&b, &PageRequest::first(50))
            .await
            .unwrap()
            .items,
        vec![theirs.clone()]
    );

    let before = fx.snapshot().await;
    assert_not_found(store.get_user(&b, ours[0].id).await);
    assert_not_found(
        store
            .update_user(actor, &b, ours[0].id, 1, ours[0].input())
            .await,
    );
    assert_not_found(store.delete_user(actor, &b, ours[0].id).await);
    assert_eq!(fx.snapshot().await, before);

    let mut input = ours[0].input();
    input.display_name = "Renamed".into();
    let updated = store
        .update_user(actor, &a, ours[0].id, 1, input.clone())
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.display_name.as_str()),
        (2, "Renamed")
    );
    assert!(matches!(
        store.update_user(actor, &a, ours[0].id, 1, input).await,
        Err(hotline_tenants::StoreError::VersionMismatch { current: 2, .. })
    ));
    store.delete_user(actor, &a, ours[1].id).await.unwrap();
    assert_not_found(store.get_user(&a, ours[1].id).await);
    assert_entry(
        &fx.last_audit(ours[1].id).await,
        actor,
        AuditAction::Delete,
        "user",
    );
    fx.finish().await;
}

async fn login_verify_and_refresh_rotation(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let tokens = tokens();
    let (acme, a) = fx.tenant("acme").await;
    let (globex, _) = fx.tenant("globex").await;
    let ann = tenant_admin(store, &a, "ann@acme.test").await;

    let pair = tokens
        .login(store, " ANN@acme.test", PASSWORD)
        .await
        .unwrap();
    assert_eq!(pair.token_type, "Bearer");
    assert_eq!(pair.expires_in, 300);
    let principal = tokens.verify_access(&pair.access_token).unwrap();
    assert_eq!(principal.subject, Subject::User(ann.id));
    assert_eq!(principal.tenant_id, Some(acme.id));
    assert_eq!(principal.role, Role::TenantAdmin);
    assert_eq!(principal.label, "ann@acme.test");
    assert_eq!(principal.tenant_scope(acme.id), Some(a));
    assert_eq!(principal.tenant_scope(globex.id), None);
    assert_eq!(principal.platform_scope(), None);
    assert!(principal.may(Action::HotlineWrite) && !principal.may(Action::TenantCreate));
    // The refresh token is kept only as a hash.
    fx.assert_stored_nowhere(&pair.refresh_token).await;

    // A wrong password and an unknown email get the same answer.
    let wrong = tokens
        .login(store, "ann@acme.test", "wrong horse battery staple")
        .await
        .unwrap_err();
    let unknown = tokens
        .login(store, "nobody@acme.test", PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::InvalidCredentials), "{wrong:?}");
    assert!(
        matches!(unknown, AuthError::InvalidCredentials),
        "{unknown:?}"
    );
    assert_eq!(wrong.to_string(), unknown.to_string());

    // Someone else's signature is refused.
    let other = TokenService::new(
        b"another-signing-key-of-32-bytes!".to_vec(),
        Duration::from_secs(300),
        Duration::from_secs(3600),
    );
    assert_auth_err(
        other.verify_access(&pair.access_token),
        |e| matches!(e, AuthError::InvalidToken(_)),
        "forged",
    );

    // Refresh rotates: a new refresh token each time, each usable once.
    let second = tokens.refresh(store, &pair.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, pair.refresh_token);
    assert_eq!(
        tokens.verify_access(&second.access_token).unwrap().subject,
        Subject::User(ann.id)
    );
    let third = tokens.refresh(store, &second.refresh_token).await.unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);
    assert_auth_err(
        tokens.refresh(store, "hlr_not-a-token").await,
        |e| matches!(e, AuthError::InvalidToken(_)),
        "unknown token",
    );

    // Platform admins log in without a tenant.
    store
        .bootstrap_platform_admin("op@firm.test", "operator password 1")
        .await
        .unwrap();
    let op = tokens
        .login(store, "op@firm.test", "operator password 1")
        .await
        .unwrap();
    let principal = tokens.verify_access(&op.access_token).unwrap();
    assert_eq!(
        (principal.tenant_id, principal.role),
        (None, Role::PlatformAdmin)
    );
    assert!(principal.platform_scope().is_some());
    assert_eq!(principal.tenant_scope(acme.id), Some(a));
    fx.finish().await;
}

async fn reused_refresh_token_ends_the_family(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let tokens = tokens();
    let (_, a) = fx.tenant("acme").await;
    tenant_admin(store, &a, "ann@acme.test").await;
    let first = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();
    let elsewhere = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();

    let second = tokens.refresh(store, &first.refresh_token).await.unwrap();
    // The retired token comes back (stolen?): refused, and its whole family ends.
    assert_auth_err(
        tokens.refresh(store, &first.refresh_token).await,
        reused,
        "reusing the first token",
    );
    assert_auth_err(
        tokens.refresh(store, &second.refresh_token).await,
        reused,
        "the family's newest token",
    );
    // Another login's family is not touched.
    tokens
        .refresh(store, &elsewhere.refresh_token)
        .await
        .unwrap();
    fx.finish().await;
}

async fn concurrent_refresh_with_one_token_ends_the_family(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let tokens = tokens();
    let (_, a) = fx.tenant("acme").await;
    tenant_admin(store, &a, "ann@acme.test").await;
    for round in 0..5 {
        let pair = tokens
            .login(store, "ann@acme.test", PASSWORD)
            .await
            .unwrap();
        let (r1, r2) = tokio::join!(
            tokens.refresh(store, &pair.refresh_token),
            tokens.refresh(store, &pair.refresh_token)
        );
        let winner: TokenPair = match (r1, r2) {
            (Ok(won), Err(e)) | (Err(e), Ok(won)) => {
                assert!(reused(&e), "round {round}: the loser got {e:?}");
                won
            }
            (r1, r2) => panic!("round {round}: expected one refresh to win: {r1:?} / {r2:?}"),
        };
        // The reuse was seen, so the token the winner got belongs to a revoked family too.
        assert_auth_err(
            tokens.refresh(store, &winner.refresh_token).await,
            reused,
            "the winner's new token",
        );
    }
    fx.finish().await;
}

async fn logout_revokes(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let tokens = tokens();
    let (_, a) = fx.tenant("acme").await;
    tenant_admin(store, &a, "ann@acme.test").await;

    let pair = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();
    let other = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();
    tokens.logout(store, &pair.refresh_token).await.unwrap();
    assert_auth_err(
        tokens.refresh(store, &pair.refresh_token).await,
        reused,
        "after logout",
    );
    tokens.logout(store, "hlr_unknown").await.unwrap();

    // Logging out with an already rotated token still ends the family's newest one.
    let next = tokens.refresh(store, &other.refresh_token).await.unwrap();
    tokens.logout(store, &other.refresh_token).await.unwrap();
    assert_auth_err(
        tokens.refresh(store, &next.refresh_token).await,
        reused,
        "after logout with an old token",
    );
    fx.finish().await;
}

async fn disabling_or_changing_a_user_ends_sessions(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let tokens = tokens();
    let (_, a) = fx.tenant("acme").await;
    let ann = tenant_admin(store, &a, "ann@acme.test").await;

    // Disabled: every session ends and login is refused.
    let s1 = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();
    let s2 = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();
    let mut input = ann.input();
    input.disabled = true;
    let disabled = store
        .update_user(actor, &a, ann.id, 1, input)
        .await
        .unwrap();
    for s in [&s1, &s2] {
        assert!(
            tokens.refresh(store, &s.refresh_token).await.is_err(),
            "a disabled user's session lives on"
        );
    }
    assert_auth_err(
        tokens.login(store, "ann@acme.test", PASSWORD).await,
        |e| matches!(e, AuthError::InvalidCredentials),
        "disabled login",
    );

    // Enabled again: old sessions stay dead, a new login works.
    let mut input = disabled.input();
    input.disabled = false;
    let enabled = store
        .update_user(actor, &a, ann.id, 2, input)
        .await
        .unwrap();
    assert!(tokens.refresh(store, &s1.refresh_token).await.is_err());
    let s3 = tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .unwrap();

    // A new password: sessions end, only the new password works.
    let mut input = enabled.input();
    input.password = Some("a brand new password".into());
    let changed = store
        .update_user(actor, &a, ann.id, 3, input)
        .await
        .unwrap();
    assert!(tokens.refresh(store, &s3.refresh_token).await.is_err());
    assert!(tokens
        .login(store, "ann@acme.test", PASSWORD)
        .await
        .is_err());
    let s4 = tokens
        .login(store, "ann@acme.test", "a brand new password")
        .await
        .unwrap();
    fx.assert_stored_nowhere("a brand new password").await;

    // A new role: sessions end (the old role is in their access tokens).
    let mut input = changed.input();
    input.role = Role::Supervisor;
    store
        .update_user(actor, &a, ann.id, 4, input)
        .await
        .unwrap();
    assert!(tokens.refresh(store, &s4.refresh_token).await.is_err());
    let s5 = tokens
        .login(store, "ann@acme.test", "a brand new password")
        .await
        .unwrap();
    assert_eq!(
        tokens.verify_access(&s5.access_token).unwrap().role,
        Role::Supervisor
    );

    // Deleted: gone, sessions and all.
    store.delete_user(actor, &a, ann.id).await.unwrap();
    assert!(tokens.refresh(store, &s5.refresh_token).await.is_err());
    assert!(tokens
        .login(store, "ann@acme.test", "a brand new password")
        .await
        .is_err());
    assert_eq!(fx.count("refresh_tokens").await, 0);
    fx.finish().await;
}

async fn api_keys_authenticate_until_revoked(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = user_actor("ann@acme.test");
    let (acme, a) = fx.tenant("acme").await;
    let (globex, b) = fx.tenant("globex").await;

    let created = store
        .create_api_key(
            &actor,
            &a,
            ApiKeyInput {
                name: "crm".into(),
                role: Role::Supervisor,
            },
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with("hlk_"));
    assert_eq!(
        (created.key.tenant_id, created.key.role),
        (acme.id, Role::Supervisor)
    );
    assert_eq!(created.key.created_by, "ann@acme.test");
    fx.assert_stored_nowhere(&created.secret).await;
    assert_entry(
        &fx.last_audit(created.key.id).await,
        &actor,
        AuditAction::Create,
        "api-key",
    );

    let principal = store
        .authenticate_api_key(&created.secret)
        .await
        .unwrap()
        .expect("a live key authenticates");
    assert_eq!(principal.subject, Subject::ApiKey(created.key.id));
    assert_eq!(
        (principal.tenant_id, principal.role),
        (Some(acme.id), Role::Supervisor)
    );
    assert_eq!(principal.tenant_scope(acme.id), Some(a));
    assert_eq!(principal.tenant_scope(globex.id), None);
    assert_eq!(principal.platform_scope(), None);
    assert!(principal.may(Action::QueueMembersWrite) && !principal.may(Action::HotlineWrite));
    assert!(store
        .get_api_key(&a, created.key.id)
        .await
        .unwrap()
        .last_used_at
        .is_some());
    for wrong in [
        "",
        "hlk_",
        "hlk_wrong",
        &created.secret[..created.secret.len() - 1],
    ] {
        assert_eq!(
            store.authenticate_api_key(wrong).await.unwrap(),
            None,
            "{wrong:?}"
        );
    }

    // Another tenant: cannot see it, cannot revoke it.
    let before = fx.snapshot().await;
    assert_not_found(store.get_api_key(&b, created.key.id).await);
    assert_not_found(store.revoke_api_key(&actor, &b, created.key.id).await);
    assert!(store
        .list_api_keys(&b, &PageRequest::first(50))
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(fx.snapshot().await, before);
    assert!(store
        .authenticate_api_key(&created.secret)
        .await
        .unwrap()
        .is_some());
    let listed = store
        .list_api_keys(&a, &PageRequest::first(50))
        .await
        .unwrap()
        .items;
    assert_eq!(
        listed.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![created.key.id]
    );

    // Bad input writes nothing.
    assert_invalid(
        store
            .create_api_key(
                &actor,
                &a,
                ApiKeyInput {
                    name: "root".into(),
                    role: Role::PlatformAdmin,
                },
            )
            .await,
        "role",
    );
    assert_invalid(
        store
            .create_api_key(
                &actor,
                &a,
                ApiKeyInput {
                    name: " ".into(),
                    role: Role::Agent,
                },
            )
            .await,
        "name",
    );
    assert_eq!(fx.snapshot().await, before);

    // Revoked: stops working at once; revoking again changes nothing.
    let revoked = store
        .revoke_api_key(&actor, &a, created.key.id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        store.authenticate_api_key(&created.secret).await.unwrap(),
        None
    );
    assert_entry(
        &fx.last_audit(created.key.id).await,
        &actor,
        AuditAction::Update,
        "api-key",
    );
    let audit_entries = fx.count("audit_log").await;
    assert_eq!(
        store
            .revoke_api_key(&actor, &a, created.key.id)
            .await
            .unwrap()
            .revoked_at,
        revoked.revoked_at
    );
    assert_eq!(fx.count("audit_log").await, audit_entries);
    // Another key of the same tenant is unaffected.
    let other = store
        .create_api_key(
            &actor,
            &a,
            ApiKeyInput {
                name: "billing".into(),
                role: Role::BillingViewer,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .authenticate_api_key(&other.secret)
            .await
            .unwrap()
            .map(|p| p.role),
        Some(Role::BillingViewer)
    );
    fx.finish().await;
}
