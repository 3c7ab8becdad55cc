//! The call engine's `Directory` over the tenant store: number → tenant → hotline, cached per
//! number.
//!
//! The cache is bounded ([`StoreDirectory::with_limits`]) and every entry carries the store's
//! routing generation read *before* its lookup: once a write that routes calls commits (a number
//! moved, a tenant suspended, a hotline or an agent assignment changed) the generation moves and
//! older entries are misses. Entries also expire after a time-to-live, which bounds how long
//! another node's change goes unseen until a cross-node signal (PostgreSQL LISTEN/NOTIFY or
//! NATS) bumps the generation here too. Unknown numbers are cached as well, so a flood of them
//! costs one query per number and TTL, not one per call. When the database is away, an entry
//! only past its TTL (same generation) is served rather than failing calls; with nothing cached
//! the engine gets `Unavailable` (503).
//!
//! The hotline's actions become the engine's `HotlineAction`s here: the IVR path runs the pinned
//! plugin with the fallback queue (or, without one, the closed action) as its fallback; without a
//! plugin the fallback queue takes the call; an IVR hotline with neither is `Unsupported` with 480
//! Temporarily Unavailable, the answer a carrier passes to the caller without hunting for
//! another route (503 would make it try again elsewhere, pointlessly). An agent the hotline
//! names who no longer serves the tenant is treated as an agent who did not answer.
//!
//! Queues and agents named by plugins are looked up as they are asked for (not cached: an IVR
//! asks once per call, after seconds of menu).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_core::ids::{AgentId, TenantId};
use hotline_core::{PlatformScope, TenantScope};
use hotline_routing::{
    Directory, DirectoryError, HotlineAction, HotlineRoute, NoAnswerTarget, NumberRoute, OpenHours,
    PluginPin, QueueMember, QueueRef, QueueRoute, TenantRoute, TenantState,
};
use hotline_tenants::directory::{NumberRouteRow, RouteHotline};
use hotline_tenants::hotlines::{
    ClosedAction, NoAnswer, OpenAction, RecordingPolicy, DEFAULT_RING_TIMEOUT_S,
};
use hotline_tenants::route_queues::QueueName;
use hotline_tenants::schedule::Schedule;
use hotline_tenants::tenants::TenantStatus;
use hotline_tenants::Store;

/// Numbers remembered at most.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// How long an entry is trusted without a local change.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// What the engine answers for a branch it cannot carry out yet.
const UNSUPPORTED_STATUS: u16 = 480;

/// Opening hours from the tenant store's schedule.
#[derive(Clone, Debug)]
pub struct ScheduleHours {
    pub always_open: bool,
    pub schedule: Schedule,
}

impl OpenHours for ScheduleHours {
    fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        self.always_open || self.schedule.is_open(zone, at)
    }
}

struct Cached {
    generation: u64,
    loaded: Instant,
    route: Option<NumberRoute>,
}

/// `Directory` over the tenant store, with the cache described above.
pub struct StoreDirectory {
    store: Store,
    capacity: usize,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
}

impl StoreDirectory {
    pub fn new(store: Store) -> Self {
        Self::with_limits(store, DEFAULT_CAPACITY, DEFAULT_TTL)
    }

    pub fn with_limits(store: Store, capacity: usize, ttl: Duration) -> Self {
        Self {
            store,
            capacity: capacity.max(1),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Numbers cached right now.
    #[cfg(test)]
    fn cached(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, e164: String, generation: u64, route: Option<NumberRoute>) {
        let mut cache = self.lock();
        if cache.len() >= self.capacity && !cache.contains_key(&e164) {
            cache.retain(|_, c| c.generation == generation);
            if cache.len() >= self.capacity {
                let oldest = cache
                    .iter()
                    .min_by_key(|(_, c)| c.loaded)
                    .map(|(number, _)| number.clone());
                if let Some(oldest) = oldest {
                    cache.remove(&oldest);
                }
            }
        }
        cache.insert(
            e164,
            Cached {
                generation,
                loaded: Instant::now(),
                route,
            },
        );
    }
}

impl Directory for StoreDirectory {
    async fn lookup(&self, e164: &str) -> Result<Option<NumberRoute>, DirectoryError> {
        let Ok(e164) = hotline_core::e164::normalize(e164) else {
            return Ok(None);
        };
        // Read before the database: a change committing meanwhile moves it past this entry.
        let generation = self.store.routing_generation();
        let stale = {
            let cache = self.lock();
            match cache.get(&e164) {
                Some(c) if c.generation == generation && c.loaded.elapsed() < self.ttl => {
                    return Ok(c.route.clone());
                }
                Some(c) if c.generation == generation => Some(c.route.clone()),
                _ => None,
            }
        };
        match self
            .store
            .route_for_number(&PlatformScope::from_verified(), &e164)
            .await
        {
            Ok(row) => {
                let route = row.map(to_route).transpose()?;
                self.remember(e164, generation, route.clone());
                Ok(route)
            }
            Err(error) => match stale {
                Some(route) => {
                    tracing::warn!(%error, number = %e164, "directory unavailable; using the route cached before");
                    Ok(route)
                }
                None => Err(DirectoryError::Unavailable(error.to_string())),
            },
        }
    }

    async fn queue(
        &self,
        tenant_id: TenantId,
        queue: QueueRef<'_>,
    ) -> Result<Option<QueueRoute>, DirectoryError> {
        let name = match queue {
            QueueRef::Id(id) => QueueName::Id(id),
            QueueRef::Name(name) => QueueName::Name(name),
        };
        let route = self
            .store
            .route_queue(&TenantScope::from_verified(tenant_id), name)
            .await
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        Ok(route.map(|queue| QueueRoute {
            queue_id: queue.id,
            name: queue.name,
            max_wait: seconds(queue.max_wait_secs),
            moh_prompt_id: queue.moh_prompt_id,
            members: queue
                .members
                .into_iter()
                .map(|member| QueueMember {
                    agent_id: member.agent_id,
                    skills: member.skills.into_iter().map(|skill| skill.name).collect(),
                })
                .collect(),
        }))
    }

    async fn agent(
        &self,
        tenant_id: TenantId,
        username: &str,
    ) -> Result<Option<AgentId>, DirectoryError> {
        self.store
            .route_agent_by_username(&TenantScope::from_verified(tenant_id), username)
            .await
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))
    }
}

/// A stored route in the engine's terms.
pub fn to_route(row: NumberRouteRow) -> Result<NumberRoute, DirectoryError> {
    let time_zone: Tz = row.tenant.time_zone.parse().map_err(|_| {
        DirectoryError::Unavailable(format!(
            "tenant {} has the unknown time zone {:?}",
            row.tenant.slug, row.tenant.time_zone
        ))
    })?;
    let tenant = TenantRoute {
        tenant_id: row.tenant.id,
        slug: row.tenant.slug,
        state: match row.tenant.status {
            TenantStatus::Active => TenantState::Active,
            TenantStatus::Suspended => TenantState::Suspended,
        },
        time_zone,
        max_concurrent_calls: row.tenant.limits.max_concurrent_calls,
        max_calls_per_second: row.tenant.limits.max_calls_per_second,
        plugin_cpu_ms_per_call: row.tenant.limits.plugin_cpu_ms_per_call,
    };
    Ok(NumberRoute {
        e164: row.e164,
        tenant,
        hotline: row.hotline.map(hotline_route),
    })
}

fn hotline_route(hotline: RouteHotline) -> HotlineRoute {
    let serving = &hotline.serving_agents;
    let open = open_action(&hotline, serving);
    let closed = closed_action(&hotline.closed_action);
    HotlineRoute {
        hotline_id: hotline.id,
        name: hotline.name,
        hours: Arc::new(ScheduleHours {
            always_open: hotline.always_open,
            schedule: hotline.schedule,
        }),
        open,
        closed,
        language: hotline.language.clone(),
        recording: match hotline.recording_policy {
            RecordingPolicy::Never => hotline_routing::RecordingPolicy::Never,
            RecordingPolicy::Always => hotline_routing::RecordingPolicy::Always,
            RecordingPolicy::OnDemand => hotline_routing::RecordingPolicy::OnDemand,
        },
    }
}

fn seconds(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn gone() -> NoAnswerTarget {
    NoAnswerTarget::Reject {
        status: UNSUPPORTED_STATUS,
    }
}

fn no_answer_target(no_answer: &NoAnswer, serving: &[AgentId]) -> NoAnswerTarget {
    match no_answer {
        NoAnswer::Reject { sip_status } => NoAnswerTarget::Reject {
            status: *sip_status,
        },
        NoAnswer::ForwardAgent { agent_id } if serving.contains(agent_id) => {
            NoAnswerTarget::ForwardAgent {
                agent_id: *agent_id,
            }
        }
        NoAnswer::ForwardAgent { .. } => gone(),
        NoAnswer::ForwardNumber { number } => NoAnswerTarget::ForwardExternal {
            number: number.clone(),
            trunk_id: None,
        },
    }
}

/// The no-answer target taken at once, as the action itself (the agent to ring is gone).
fn no_answer_now(target: NoAnswerTarget) -> HotlineAction {
    let ring_timeout = seconds(DEFAULT_RING_TIMEOUT_S);
    match target {
        NoAnswerTarget::Reject { status } => HotlineAction::Reject { status },
        NoAnswerTarget::ForwardAgent { agent_id } => HotlineAction::ForwardAgent {
            agent_id,
            ring_timeout,
            no_answer: gone(),
        },
        NoAnswerTarget::ForwardExternal { number, trunk_id } => HotlineAction::ForwardExternal {
            number,
            trunk_id,
            ring_timeout,
            no_answer: gone(),
        },
    }
}

/// Where a call goes when the IVR plugin fails, or the hotline has none.
fn fallback(hotline: &RouteHotline) -> HotlineAction {
    match hotline.fallback_queue_id {
        Some(queue_id) => HotlineAction::Queue { queue_id },
        None => closed_action(&hotline.closed_action),
    }
}

fn open_action(hotline: &RouteHotline, serving: &[AgentId]) -> HotlineAction {
    match &hotline.open_action {
        OpenAction::Ivr => match (&hotline.ivr_plugin, hotline.fallback_queue_id) {
            (Some(plugin), _) => HotlineAction::Ivr {
                plugin: PluginPin {
                    name: plugin.plugin.clone(),
                    version: plugin.version,
                },
                fallback: Box::new(fallback(hotline)),
            },
            (None, Some(queue_id)) => HotlineAction::Queue { queue_id },
            (None, None) => HotlineAction::Unsupported {
                what: "an IVR hotline with neither a plugin nor a fallback queue",
                status: UNSUPPORTED_STATUS,
            },
        },
        OpenAction::Reject { sip_status } => HotlineAction::Reject {
            status: *sip_status,
        },
        OpenAction::ForwardAgent {
            agent_id,
            ring_timeout_s,
            no_answer,
        } => {
            let no_answer = no_answer_target(no_answer, serving);
            if serving.contains(agent_id) {
                HotlineAction::ForwardAgent {
                    agent_id: *agent_id,
                    ring_timeout: seconds(*ring_timeout_s),
                    no_answer,
                }
            } else {
                no_answer_now(no_answer)
            }
        }
        OpenAction::ForwardNumber {
            number,
            trunk_id,
            ring_timeout_s,
            no_answer,
        } => HotlineAction::ForwardExternal {
            number: number.clone(),
            trunk_id: *trunk_id,
            ring_timeout: seconds(*ring_timeout_s),
            no_answer: no_answer_target(no_answer, serving),
        },
    }
}

fn closed_action(action: &ClosedAction) -> HotlineAction {
    match action {
        ClosedAction::Reject { sip_status } => HotlineAction::Reject {
            status: *sip_status,
        },
        ClosedAction::Message { prompt_id } => HotlineAction::Message {
            prompt_id: *prompt_id,
        },
        ClosedAction::Forward {
            number,
            ring_timeout_s,
        } => HotlineAction::ForwardExternal {
            number: number.clone(),
            trunk_id: None,
            ring_timeout: seconds(*ring_timeout_s),
            no_answer: gone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use hotline_core::ids::{HotlineId, NumberId, QueueId, TenantId, TrunkId};
    use hotline_core::testing::TestDb;
    use hotline_core::TenantScope;
    use hotline_tenants::audit::Actor;
    use hotline_tenants::directory::RouteTenant;
    use hotline_tenants::hotlines::{HotlineSpec, PluginRef};
    use hotline_tenants::numbers::NumberSpec;
    use hotline_tenants::tenants::{TenantLimits, TenantSpec};
    use hotline_tenants::StoreConfig;
    use serde_json::json;

    use super::*;

    struct World {
        db: TestDb,
        store: Store,
        actor: Actor,
        platform: PlatformScope,
    }

    impl World {
        async fn new() -> Self {
            let db = TestDb::sqlite().await;
            let store = Store::new(db.db.clone(), StoreConfig::default());
            Self {
                db,
                store,
                actor: Actor::cli(),
                platform: PlatformScope::from_verified(),
            }
        }

        async fn tenant(&self, slug: &str) -> (TenantId, TenantScope) {
            let spec = TenantSpec {
                slug: slug.into(),
                name: slug.into(),
                status: TenantStatus::Active,
                time_zone: "Europe/Bratislava".into(),
                limits: TenantLimits::default(),
            };
            let tenant = self
                .store
                .create_tenant(&self.actor, &self.platform, spec)
                .await
                .expect("tenant");
            (tenant.id, TenantScope::from_verified(tenant.id))
        }

        async fn hotline(&self, scope: &TenantScope, spec: serde_json::Value) -> HotlineId {
            let spec: HotlineSpec = serde_json::from_value(spec).expect("hotline spec");
            self.store
                .create(&self.actor, scope, spec)
                .await
                .expect("hotline")
                .id
        }

        async fn number(&self, scope: &TenantScope, e164: &str, hotline: HotlineId) -> NumberId {
            let spec = NumberSpec {
                e164: e164.into(),
                label: String::new(),
                hotline_id: Some(hotline),
            };
            self.store
                .create(&self.actor, scope, spec)
                .await
                .expect("number")
                .id
        }
    }

    #[tokio::test]
    async fn routes_are_cached_until_a_number_moves_or_a_tenant_is_suspended() {
        let world = World::new().await;
        let (acme, a) = world.tenant("acme").await;
        let (globex, b) = world.tenant("globex").await;
        let support = world
            .hotline(&a, json!({ "name": "support", "always_open": true, "open_action": { "action": "reject", "sip_status": 486 } }))
            .await;
        let sales = world
            .hotline(&b, json!({ "name": "sales", "open_action": { "action": "forward-number", "number": "+421255550100" } }))
            .await;
        let number = world.number(&a, "+421211110001", support).await;
        let directory = StoreDirectory::new(world.store.clone());

        let route = directory
            .lookup("00421 2 1111 0001")
            .await
            .expect("lookup")
            .expect("a route");
        assert_eq!(route.tenant.tenant_id, acme);
        assert_eq!(route.tenant.state, TenantState::Active);
        let hotline = route.hotline.expect("the hotline");
        assert_eq!(hotline.hotline_id, support);
        assert_eq!(hotline.open, HotlineAction::Reject { status: 486 });
        assert!(
            hotline.hours.is_open(chrono_tz::UTC, Utc::now()),
            "always open"
        );
        assert_eq!(directory.cached(), 1);
        assert!(directory
            .lookup("+421299999999")
            .await
            .expect("lookup")
            .is_none());
        assert_eq!(directory.cached(), 2, "unknown numbers are remembered too");

        // The operator moves the number from acme to globex: the next call goes to globex.
        world
            .store
            .delete::<NumberSpec>(&world.actor, &a, number, None)
            .await
            .expect("release");
        world.number(&b, "+421211110001", sales).await;
        let route = directory
            .lookup("+421211110001")
            .await
            .expect("lookup")
            .expect("a route");
        assert_eq!(route.tenant.tenant_id, globex);
        let hotline = route.hotline.expect("the hotline");
        assert_eq!(hotline.hotline_id, sales);
        assert!(
            matches!(hotline.open, HotlineAction::ForwardExternal { ref number, .. } if number == "+421255550100")
        );

        // globex is suspended: the cached route says so at once.
        let tenant = world.store.get_tenant(&b).await.expect("tenant");
        let mut spec = tenant.spec.clone();
        spec.status = TenantStatus::Suspended;
        world
            .store
            .update_tenant(&world.actor, &world.platform, globex, tenant.version, spec)
            .await
            .expect("suspend");
        let route = directory
            .lookup("+421211110001")
            .await
            .expect("lookup")
            .expect("a route");
        assert_eq!(route.tenant.state, TenantState::Suspended);

        // With the database gone, cached routes still answer; an unseen number is a 503.
        world.store.db().close().await;
        assert!(directory
            .lookup("+421211110001")
            .await
            .expect("cached")
            .is_some());
        assert!(matches!(
            directory.lookup("+421233330000").await,
            Err(DirectoryError::Unavailable(_))
        ));
        world.db.finish().await;
    }

    #[tokio::test]
    async fn an_expired_entry_is_refreshed_or_served_while_the_database_is_away() {
        let world = World::new().await;
        let (_, a) = world.tenant("acme").await;
        let hotline = world.hotline(&a, json!({ "name": "support" })).await;
        world.number(&a, "+421211110001", hotline).await;
        let directory =
            StoreDirectory::with_limits(world.store.clone(), 10, Duration::from_millis(1));
        assert!(directory
            .lookup("+421211110001")
            .await
            .expect("lookup")
            .is_some());
        tokio::time::sleep(Duration::from_millis(5)).await;
        world.store.db().close().await;
        // Past its TTL but of the current generation: served rather than failing the call.
        assert!(directory
            .lookup("+421211110001")
            .await
            .expect("stale")
            .is_some());
        world.db.finish().await;
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_capacity() {
        let world = World::new().await;
        let directory = StoreDirectory::with_limits(world.store.clone(), 3, DEFAULT_TTL);
        for n in 0..20 {
            let number = format!("+4212000000{n:02}");
            assert!(directory.lookup(&number).await.expect("lookup").is_none());
            assert!(directory.cached() <= 3, "{} cached", directory.cached());
        }
        // Not a number at all: answered without the database or the cache.
        assert!(directory.lookup("alice").await.expect("lookup").is_none());
        assert_eq!(directory.cached(), 3);
        world.db.finish().await;
    }

    fn row(
        open_action: OpenAction,
        closed_action: ClosedAction,
        serving: Vec<AgentId>,
    ) -> NumberRouteRow {
        NumberRouteRow {
            number_id: NumberId::new(),
            e164: "+421211110001".into(),
            tenant: RouteTenant {
                id: TenantId::new(),
                slug: "acme".into(),
                status: TenantStatus::Active,
                time_zone: "Europe/Bratislava".into(),
                limits: TenantLimits::default(),
            },
            hotline: Some(RouteHotline {
                id: HotlineId::new(),
                name: "support".into(),
                always_open: false,
                schedule: serde_json::from_value(
                    json!({ "weekly": [{ "day": "mon", "start": "08:00", "end": "17:00" }] }),
                )
                .expect("schedule"),
                open_action,
                closed_action,
                ivr_plugin: None,
                fallback_queue_id: Some(QueueId::new()),
                recording_policy: RecordingPolicy::Always,
                language: "sk".into(),
                serving_agents: serving,
            }),
        }
    }

    fn actions(row: NumberRouteRow) -> (HotlineAction, HotlineAction) {
        let hotline = to_route(row).expect("route").hotline.expect("hotline");
        (hotline.open, hotline.closed)
    }

    #[test]
    fn actions_map_to_what_the_engine_does() {
        let (ann, bob) = (AgentId::new(), AgentId::new());
        let forward = OpenAction::ForwardAgent {
            agent_id: ann,
            ring_timeout_s: 20,
            no_answer: NoAnswer::ForwardAgent { agent_id: bob },
        };
        let closed = ClosedAction::Forward {
            number: "+421255550101".into(),
            ring_timeout_s: 15,
        };
        let (open, closed_now) = actions(row(forward.clone(), closed.clone(), vec![ann, bob]));
        assert_eq!(
            open,
            HotlineAction::ForwardAgent {
                agent_id: ann,
                ring_timeout: Duration::from_secs(20),
                no_answer: NoAnswerTarget::ForwardAgent { agent_id: bob },
            }
        );
        assert_eq!(
            closed_now,
            HotlineAction::ForwardExternal {
                number: "+421255550101".into(),
                trunk_id: None,
                ring_timeout: Duration::from_secs(15),
                no_answer: NoAnswerTarget::Reject { status: 480 },
            }
        );

        // Ann no longer serves the tenant: Bob is rung at once. Neither: the call is refused.
        let (open, _) = actions(row(forward.clone(), closed.clone(), vec![bob]));
        assert!(matches!(open, HotlineAction::ForwardAgent { agent_id, .. } if agent_id == bob));
        let (open, _) = actions(row(forward, closed.clone(), vec![]));
        assert_eq!(open, HotlineAction::Reject { status: 480 });

        // Forward to a number through a named trunk, its no-answer target a number too.
        let trunk = TrunkId::new();
        let external = OpenAction::ForwardNumber {
            number: "+421255550199".into(),
            trunk_id: Some(trunk),
            ring_timeout_s: 25,
            no_answer: NoAnswer::ForwardNumber {
                number: "+421255550198".into(),
            },
        };
        let (open, _) = actions(row(external, closed, vec![]));
        assert_eq!(
            open,
            HotlineAction::ForwardExternal {
                number: "+421255550199".into(),
                trunk_id: Some(trunk),
                ring_timeout: Duration::from_secs(25),
                no_answer: NoAnswerTarget::ForwardExternal {
                    number: "+421255550198".into(),
                    trunk_id: None
                },
            }
        );

        // The IVR path: the plugin with the fallback queue behind it; without a plugin, the
        // queue; with neither, a refusal that says why. A closed message plays its prompt.
        let prompt_id = hotline_core::ids::PromptId::new();
        let message = ClosedAction::Message { prompt_id };
        let ivr_row = row(OpenAction::Ivr, message.clone(), vec![]);
        let queue_id = ivr_row
            .hotline
            .as_ref()
            .and_then(|h| h.fallback_queue_id)
            .expect("fixture queue");
        let (open, closed) = actions(ivr_row);
        assert_eq!(open, HotlineAction::Queue { queue_id });
        assert_eq!(closed, HotlineAction::Message { prompt_id });
        let mut with_plugin = row(OpenAction::Ivr, message.clone(), vec![]);
        if let Some(hotline) = &mut with_plugin.hotline {
            hotline.ivr_plugin = Some(PluginRef {
                plugin: "menu".into(),
                version: 3,
            });
            hotline.fallback_queue_id = Some(queue_id);
        }
        assert_eq!(
            actions(with_plugin.clone()).0,
            HotlineAction::Ivr {
                plugin: PluginPin {
                    name: "menu".into(),
                    version: 3
                },
                fallback: Box::new(HotlineAction::Queue { queue_id }),
            }
        );
        if let Some(hotline) = &mut with_plugin.hotline {
            hotline.fallback_queue_id = None;
        }
        assert_eq!(
            actions(with_plugin.clone()).0,
            HotlineAction::Ivr {
                plugin: PluginPin {
                    name: "menu".into(),
                    version: 3
                },
                fallback: Box::new(HotlineAction::Message { prompt_id }),
            },
            "without a fallback queue the closed action catches a failed plugin"
        );
        if let Some(hotline) = &mut with_plugin.hotline {
            hotline.ivr_plugin = None;
        }
        assert!(matches!(
            actions(with_plugin).0,
            HotlineAction::Unsupported { status: 480, .. }
        ));
    }

    #[test]
    fn hours_follow_the_schedule_in_the_tenant_zone() {
        let hotline = to_route(row(OpenAction::Ivr, ClosedAction::default(), vec![]))
            .expect("route")
            .hotline
            .expect("hotline");
        let zone = chrono_tz::Europe::Bratislava;
        // Monday 2026-11-23, 07:30 UTC is 08:30 in Bratislava: open; 16:30 UTC is 17:30: closed.
        let open = Utc
            .with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
            .single()
            .expect("time");
        let closed = Utc
            .with_ymd_and_hms(2026, 11, 23, 16, 30, 0)
            .single()
            .expect("time");
        assert!(hotline.hours.is_open(zone, open));
        assert!(!hotline.hours.is_open(zone, closed));
    }

    #[test]
    fn an_unknown_stored_time_zone_is_a_directory_failure() {
        let mut broken = row(OpenAction::Ivr, ClosedAction::default(), vec![]);
        broken.tenant.time_zone = "Mars/Olympus".into();
        assert!(matches!(
            to_route(broken),
            Err(DirectoryError::Unavailable(_))
        ));
    }
}
