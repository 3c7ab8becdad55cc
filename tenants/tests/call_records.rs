//! Call history on both backends: a record is stored once however often it is handed over,
//! read back whole, listed newest first, and never shown to another tenant.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use hotline_core::call::{
    CallEventKind, CallRecord, CallTimeline, Direction, EndCause, Party, ScheduleBranch,
};
use hotline_core::ids::{CallId, HotlineId, TenantId};
use hotline_core::Backend;
use hotline_tenants::{PageRequest, StoreError};

hotline_core::both_backends!(
    record_is_stored_once_and_read_back_whole,
    tenants_see_only_their_own_calls,
    calls_are_listed_newest_first_in_pages,
    a_batch_is_stored_in_one_go_and_once_per_call,
);

fn record(tenant_id: Option<TenantId>) -> CallRecord {
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let mut timeline = CallTimeline::new(CallId::new());
    timeline
        .record(
            start,
            CallEventKind::Arrived {
                direction: Direction::Inbound,
                caller: "+421900111222".into(),
                dialed: "+421233000111".into(),
                trunk_id: None,
            },
        )
        .unwrap();
    if let Some(tenant_id) = tenant_id {
        timeline
            .record(
                start,
                CallEventKind::Routed {
                    tenant_id,
                    hotline_id: HotlineId::new(),
                    branch: ScheduleBranch::Open,
                },
            )
            .unwrap();
        timeline
            .record(start + Duration::seconds(2), CallEventKind::Answered)
            .unwrap();
    }
    timeline.end(
        start + Duration::seconds(62),
        EndCause::Completed,
        Party::Caller,
    );
    timeline.to_record().unwrap()
}

async fn record_is_stored_once_and_read_back_whole(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (tenant, scope) = fx.tenant("acme").await;
    let call = record(Some(tenant.id));
    assert!(fx
        .store
        .append_call_record(&fx.platform, &call)
        .await
        .unwrap());
    assert!(!fx
        .store
        .append_call_record(&fx.platform, &call)
        .await
        .unwrap());
    assert_eq!(fx.count("call_records").await, 1);
    let back = fx
        .store
        .get_call_record(&scope, call.call_id)
        .await
        .unwrap();
    assert_eq!(back, call);
    assert_eq!(back.answered_ms(), 60_000);
    fx.finish().await;
}

async fn tenants_see_only_their_own_calls(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (acme, acme_scope) = fx.tenant("acme").await;
    let (_globex, globex_scope) = fx.tenant("globex").await;
    let acme_call = record(Some(acme.id));
    let unrouted = record(None);
    fx.store
        .append_call_record(&fx.platform, &acme_call)
        .await
        .unwrap();
    fx.store
        .append_call_record(&fx.platform, &unrouted)
        .await
        .unwrap();

    let err = fx
        .store
        .get_call_record(&globex_scope, acme_call.call_id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let globex_list = fx
        .store
        .list_call_records(&globex_scope, &PageRequest::first(50))
        .await
        .unwrap();
    assert!(globex_list.items.is_empty());
    let acme_list = fx
        .store
        .list_call_records(&acme_scope, &PageRequest::first(50))
        .await
        .unwrap();
    let ids: Vec<CallId> = acme_list.items.iter().map(|r| r.call_id).collect();
    assert_eq!(
        ids,
        vec![acme_call.call_id],
        "the unrouted call belongs to no tenant"
    );
    fx.finish().await;
}

async fn calls_are_listed_newest_first_in_pages(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (tenant, scope) = fx.tenant("acme").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let call = record(Some(tenant.id));
        ids.push(call.call_id);
        fx.store
            .append_call_record(&fx.platform, &call)
            .await
            .unwrap();
    }
    ids.reverse();
    let first = fx
        .store
        .list_call_records(&scope, &PageRequest::first(3))
        .await
        .unwrap();
    let second = fx
        .store
        .list_call_records(
            &scope,
            &PageRequest {
                limit: 3,
                after: first.next,
            },
        )
        .await
        .unwrap();
    let listed: Vec<CallId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|r| r.call_id)
        .collect();
    assert_eq!(listed, ids);
    assert!(second.next.is_none());
    fx.finish().await;
}

async fn a_batch_is_stored_in_one_go_and_once_per_call(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (tenant, scope) = fx.tenant("acme").await;
    let stored_before = record(Some(tenant.id));
    fx.store
        .append_call_record(&fx.platform, &stored_before)
        .await
        .unwrap();
    // More rows than one INSERT statement takes, a repeat inside the batch, one stored before
    // and a call that belongs to no tenant.
    let mut batch: Vec<CallRecord> = (0..150).map(|_| record(Some(tenant.id))).collect();
    batch.push(batch[7].clone());
    batch.push(stored_before.clone());
    batch.push(record(None));
    let new = fx
        .store
        .append_call_records(&fx.platform, &batch)
        .await
        .unwrap();
    assert_eq!(new, 151, "150 of the tenant's calls and the tenantless one");
    assert_eq!(fx.count("call_records").await, 152);
    assert_eq!(
        fx.store
            .append_call_records(&fx.platform, &batch)
            .await
            .unwrap(),
        0,
        "handed over again, nothing is stored twice"
    );
    assert_eq!(
        fx.store
            .append_call_records(&fx.platform, &[])
            .await
            .unwrap(),
        0
    );
    let back = fx
        .store
        .get_call_record(&scope, batch[42].call_id)
        .await
        .unwrap();
    assert_eq!(back, batch[42], "read back whole");
    fx.finish().await;
}
