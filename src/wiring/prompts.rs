//! The call engine's `PromptSource` over the tenant store and the tenants' file store: a
//! prompt found by name or id inside the call's tenant, its converted WAV read and loaded once,
//! then kept in a [`PromptCache`] bounded by bytes and shared by every call that plays it.
//!
//! Every lookup asks the store for the prompt's current version (one indexed row), so a new
//! upload is heard on the very next call, on every node sharing the database; only the samples
//! are cached. While the database cannot answer, the last loaded version of a prompt is played
//! rather than none (logged). Concurrent calls asking for a prompt not yet loaded wait for one
//! load instead of each reading the file.
//!
//! It must never resolve a name or an id outside the tenant it is given, nor open a file whose
//! stored key is not under that tenant's prefix.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use hotline_core::blob::{BlobError, BlobKey, BlobStore};
use hotline_core::ids::{PromptId, TenantId};
use hotline_core::TenantScope;
use hotline_media::prompt::{Prompt, PromptLimits};
use hotline_routing::{PromptLookupError, PromptSource};
use hotline_tenants::prompts::Prompt as StoredPrompt;
use hotline_tenants::{Store, StoreError};
use tokio::sync::OnceCell;

use super::prompt_cache::{CacheKey, PromptCache};

/// Samples kept in memory by default: 64 MiB, about 70 minutes of 8 kHz audio.
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;

type Load = Arc<OnceCell<Result<Prompt, PromptLookupError>>>;

/// How the engine names a prompt.
#[derive(Clone, Copy)]
enum Lookup<'a> {
    Name(&'a str),
    Id(PromptId),
}

impl std::fmt::Display for Lookup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Name(name) => f.write_str(name),
            Lookup::Id(id) => id.fmt(f),
        }
    }
}

pub struct StorePrompts {
    store: Store,
    files: Arc<dyn BlobStore>,
    limits: PromptLimits,
    cache: Mutex<PromptCache>,
    loading: Mutex<HashMap<(CacheKey, i64), Load>>,
}

impl StorePrompts {
    pub fn new(store: Store, files: Arc<dyn BlobStore>) -> Self {
        Self {
            store,
            files,
            limits: PromptLimits::default(),
            cache: Mutex::new(PromptCache::new(DEFAULT_CACHE_BYTES)),
            loading: Mutex::new(HashMap::new()),
        }
    }

    /// The same source keeping at most `bytes` of samples (tests size it down).
    #[cfg(test)]
    pub fn with_cache_bytes(mut self, bytes: usize) -> Self {
        self.cache = Mutex::new(PromptCache::new(bytes));
        self
    }
}

impl StorePrompts {
    fn cache(&self) -> MutexGuard<'_, PromptCache> {
        // The cache holds no invariant a panicking holder could break half-way that matters
        // more than playing prompts: keep using it.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn loading(&self) -> MutexGuard<'_, HashMap<(CacheKey, i64), Load>> {
        self.loading.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn resolve(
        &self,
        tenant: TenantId,
        lookup: Lookup<'_>,
    ) -> Result<Prompt, PromptLookupError> {
        let scope = TenantScope::from_verified(tenant);
        let found = match lookup {
            Lookup::Name(name) => self.store.find_prompt_by_name(&scope, name).await,
            Lookup::Id(id) => self.store.get_prompt(&scope, id).await,
        };
        let stored = match found {
            Ok(stored) => stored,
            Err(StoreError::NotFound { .. }) => {
                return Err(PromptLookupError::NotFound(lookup.to_string()))
            }
            Err(error) => return self.last_known(tenant, lookup, &error),
        };
        let key = CacheKey {
            tenant,
            prompt: stored.id(),
        };
        let version = stored.version();
        if let Some(prompt) = self.cache().get(key, version) {
            return Ok(prompt);
        }
        let load = self.loading().entry((key, version)).or_default().clone();
        let loaded = load
            .get_or_init(|| async {
                let loaded = self.load(&scope, &stored).await;
                if let Ok(prompt) = &loaded {
                    self.cache()
                        .insert(key, version, stored.name(), prompt.clone());
                }
                loaded
            })
            .await
            .clone();
        self.loading().remove(&(key, version));
        loaded
    }

    /// What can be played while the store cannot be asked: the last version loaded, if any.
    fn last_known(
        &self,
        tenant: TenantId,
        lookup: Lookup<'_>,
        error: &StoreError,
    ) -> Result<Prompt, PromptLookupError> {
        let cached = match lookup {
            Lookup::Name(name) => self.cache().last_known_by_name(tenant, name),
            Lookup::Id(prompt) => self.cache().last_known_by_id(CacheKey { tenant, prompt }),
        };
        match cached {
            Some(prompt) => {
                tracing::warn!(tenant = %tenant, prompt = %lookup, %error, "prompt store unavailable; playing the last version loaded");
                Ok(prompt)
            }
            None => Err(PromptLookupError::Unavailable(error.to_string())),
        }
    }

    async fn load(
        &self,
        scope: &TenantScope,
        stored: &StoredPrompt,
    ) -> Result<Prompt, PromptLookupError> {
        let name = stored.name();
        let audio = stored
            .audio()
            .ok_or_else(|| PromptLookupError::NoAudio(name.to_string()))?;
        let unavailable =
            |what: String| PromptLookupError::Unavailable(format!("prompt {name}: {what}"));
        let key = BlobKey::parse(scope, &audio.storage_key).map_err(|e| {
            tracing::error!(prompt = %stored.id(), error = %e, "a prompt names a file outside its tenant");
            unavailable("its stored file key is refused".into())
        })?;
        let file = self.files.read(&key, None).await.map_err(|e| match e {
            BlobError::NotFound => unavailable("its audio file is missing".into()),
            other => unavailable(other.to_string()),
        })?;
        let limits = self.limits;
        tokio::task::spawn_blocking(move || Prompt::load(&file.bytes, &limits))
            .await
            .map_err(|e| unavailable(format!("loading stopped: {e}")))?
            .map_err(|e| unavailable(format!("its stored audio cannot be read: {e}")))
    }
}

#[async_trait]
impl PromptSource for StorePrompts {
    async fn by_name(&self, tenant_id: TenantId, name: &str) -> Result<Prompt, PromptLookupError> {
        self.resolve(tenant_id, Lookup::Name(name)).await
    }

    async fn by_id(
        &self,
        tenant_id: TenantId,
        prompt_id: PromptId,
    ) -> Result<Prompt, PromptLookupError> {
        self.resolve(tenant_id, Lookup::Id(prompt_id)).await
    }
}

#[cfg(test)]
mod tests {
    use hotline_core::blob::DirStore;
    use hotline_core::testing::TestDb;
    use hotline_core::{Backend, PlatformScope};
    use hotline_tenants::audit::Actor;
    use hotline_tenants::prompts::{PromptAudio, PromptSpec};
    use hotline_tenants::tenants::{TenantLimits, TenantSpec, TenantStatus};
    use hotline_tenants::StoreConfig;

    use super::*;

    struct World {
        db: TestDb,
        store: Store,
        files: Arc<DirStore>,
        _dir: tempfile::TempDir,
        actor: Actor,
    }

    impl World {
        async fn new(backend: Backend) -> Self {
            let db = TestDb::new(backend).await;
            let store = Store::new(db.db.clone(), StoreConfig::default());
            let dir = tempfile::tempdir().expect("temp dir");
            Self {
                db,
                store,
                files: Arc::new(DirStore::new(dir.path())),
                _dir: dir,
                actor: Actor::cli(),
            }
        }

        async fn tenant(&self, slug: &str) -> TenantScope {
            let spec = TenantSpec {
                slug: slug.into(),
                name: slug.into(),
                status: TenantStatus::Active,
                time_zone: "UTC".into(),
                limits: TenantLimits::default(),
            };
            let tenant = self
                .store
                .create_tenant(&self.actor, &PlatformScope::from_verified(), spec)
                .await
                .expect("tenant");
            TenantScope::from_verified(tenant.id)
        }

        async fn prompt(&self, scope: &TenantScope, name: &str) -> PromptId {
            let spec: PromptSpec =
                serde_json::from_value(serde_json::json!({ "name": name })).expect("spec");
            self.store
                .create(&self.actor, scope, spec)
                .await
                .expect("prompt")
                .id
        }

        /// Upload `samples` as the prompt's audio, the way the API stores an upload.
        async fn upload(&self, scope: &TenantScope, id: PromptId, samples: Vec<i16>) {
            let prompt = Prompt::from_pcm(samples);
            let key = BlobKey::prompt(scope, id);
            let change = self
                .store
                .begin_prompt_audio_change(
                    &self.actor,
                    scope,
                    id,
                    None,
                    Some(PromptAudio {
                        storage_key: key.to_string(),
                        duration_ms: prompt.duration().as_millis() as u64,
                    }),
                )
                .await
                .expect("begin");
            self.files.put(&key, prompt.to_wav()).await.expect("file");
            change.commit().await.expect("commit");
        }

        fn source(&self) -> StorePrompts {
            StorePrompts::new(self.store.clone(), self.files.clone())
        }
    }

    async fn prompts_are_found_inside_the_tenant_only(backend: Backend) {
        let world = World::new(backend).await;
        let a = world.tenant("acme").await;
        let b = world.tenant("globex").await;
        let welcome = world.prompt(&a, "welcome").await;
        world.upload(&a, welcome, vec![100; 800]).await;
        let silent = world.prompt(&a, "silent").await;
        let theirs = world.prompt(&b, "their-welcome").await;
        world.upload(&b, theirs, vec![-5; 80]).await;
        let source = world.source();

        let by_name = source
            .by_name(a.tenant_id(), "welcome")
            .await
            .expect("by name");
        assert_eq!(by_name.samples(), &[100; 800][..]);
        let by_id = source.by_id(a.tenant_id(), welcome).await.expect("by id");
        assert_eq!(by_id, by_name);
        assert_eq!(
            source.by_name(a.tenant_id(), "missing").await,
            Err(PromptLookupError::NotFound("missing".into()))
        );
        assert_eq!(
            source.by_name(a.tenant_id(), "silent").await,
            Err(PromptLookupError::NoAudio("silent".into()))
        );
        assert_eq!(
            source.by_id(a.tenant_id(), silent).await,
            Err(PromptLookupError::NoAudio("silent".into()))
        );
        // Another tenant's names and ids do not exist here, and ours not there.
        assert_eq!(
            source.by_name(a.tenant_id(), "their-welcome").await,
            Err(PromptLookupError::NotFound("their-welcome".into()))
        );
        assert_eq!(
            source.by_id(a.tenant_id(), theirs).await,
            Err(PromptLookupError::NotFound(theirs.to_string()))
        );
        assert_eq!(
            source.by_name(b.tenant_id(), "welcome").await,
            Err(PromptLookupError::NotFound("welcome".into()))
        );
        assert_eq!(
            source
                .by_name(b.tenant_id(), "their-welcome")
                .await
                .expect("theirs")
                .samples(),
            &[-5; 80][..]
        );
        world.db.finish().await;
    }

    async fn the_cache_serves_repeats_and_a_new_upload_replaces_it(backend: Backend) {
        let world = World::new(backend).await;
        let a = world.tenant("acme").await;
        let welcome = world.prompt(&a, "welcome").await;
        world.upload(&a, welcome, vec![1; 800]).await;
        let source = world.source();
        let first = source
            .by_name(a.tenant_id(), "welcome")
            .await
            .expect("load");

        // Kept: the file is not read again (it could not be: it is gone).
        let key = BlobKey::prompt(&a, welcome);
        let wav = world.files.read(&key, None).await.expect("file").bytes;
        world.files.delete(&key).await.expect("delete");
        let again = source.by_id(a.tenant_id(), welcome).await.expect("cached");
        assert_eq!(again, first);
        assert!(same_buffer(&first, &again), "shared, not copied");
        world.files.put(&key, wav).await.expect("restore");

        // A new upload moves the version: the next call hears the new sound.
        world.upload(&a, welcome, vec![2; 400]).await;
        let replaced = source
            .by_name(a.tenant_id(), "welcome")
            .await
            .expect("reload");
        assert_eq!(replaced.samples(), &[2; 400][..]);

        // A file gone behind the store's back is an unavailable prompt, not a panic.
        world.upload(&a, welcome, vec![3; 400]).await;
        world.files.delete(&key).await.expect("delete");
        assert!(matches!(
            source.by_name(a.tenant_id(), "welcome").await,
            Err(PromptLookupError::Unavailable(message)) if message.contains("missing")
        ));

        // The database goes away: the last version loaded still plays; unknown ones cannot.
        world.upload(&a, welcome, vec![4; 400]).await;
        let last = source
            .by_name(a.tenant_id(), "welcome")
            .await
            .expect("load");
        world.store.db().close().await;
        assert_eq!(
            source.by_name(a.tenant_id(), "welcome").await,
            Ok(last.clone())
        );
        assert_eq!(source.by_id(a.tenant_id(), welcome).await, Ok(last));
        assert!(matches!(
            source.by_name(a.tenant_id(), "other").await,
            Err(PromptLookupError::Unavailable(_))
        ));
        world.db.finish().await;
    }

    async fn concurrent_calls_share_one_load(backend: Backend) {
        let world = World::new(backend).await;
        let a = world.tenant("acme").await;
        let moh = world.prompt(&a, "moh").await;
        world.upload(&a, moh, vec![9; 8000]).await;
        let source = Arc::new(world.source().with_cache_bytes(1024 * 1024));
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let source = source.clone();
                let tenant = a.tenant_id();
                tokio::spawn(async move { source.by_name(tenant, "moh").await })
            })
            .collect();
        let mut loaded = Vec::new();
        for call in calls {
            loaded.push(call.await.expect("task").expect("prompt"));
        }
        assert!(
            loaded.iter().all(|p| same_buffer(p, &loaded[0])),
            "every call plays the one loaded copy"
        );
        assert!(source.loading().is_empty());
        world.db.finish().await;
    }

    /// Whether two prompts play from one buffer (clones of one load share it).
    fn same_buffer(a: &Prompt, b: &Prompt) -> bool {
        std::ptr::eq(a.samples().as_ptr(), b.samples().as_ptr())
    }

    hotline_core::both_backends!(
        prompts_are_found_inside_the_tenant_only,
        the_cache_serves_repeats_and_a_new_upload_replaces_it,
        concurrent_calls_share_one_load,
    );
}
