//! The plugin registry: uploads validated ([`validate`]) and precompiled into immutable
//! numbered versions ([`store`]) owned by a tenant (private) or the platform (the catalog every
//! tenant may use); precompiled artifacts cached on disk (`<data>/plugins/cache`) and in memory
//! (LRU by size); and plugins loaded for a call by the name and version a hotline pins.
//!
//! The registry never loads an artifact it did not make: a cached `.cwasm` is keyed by the
//! component's digest and the engine's compatibility hash, and its own digest is checked.

pub mod store;
pub mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hotline_core::{Db, TenantScope};
use sha2::{Digest, Sha256};

use crate::error::{StoreError, UploadError};
pub use crate::host::run::World;
use crate::host::run::{LoadedPlugin, Prepared};
use crate::host::{PluginHost, PluginIdentity};
pub use store::{NewVersion, OwnerScope, PluginSummary, RegistryStore, VersionInfo};

/// What an upload carries besides the bytes.
pub struct UploadMeta<'a> {
    pub name: &'a str,
    pub author: &'a str,
    pub notes: &'a str,
}

/// Names the API uses beside plugin names (`/plugins/log`, `/plugins/settings`): no plugin may
/// take them.
pub const RESERVED_NAMES: [&str; 2] = ["log", "settings"];

/// Is `name` a plugin name (1 to 64 of `a-z 0-9 -`, starting with a letter)?
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// In-memory cache of prepared components by digest, least recently used evicted past a size.
struct MemoryCache {
    capacity: usize,
    size: usize,
    clock: u64,
    entries: HashMap<String, (Prepared, usize, u64)>,
}

impl MemoryCache {
    fn get(&mut self, sha: &str) -> Option<Prepared> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(sha).map(|(prepared, _, used)| {
            *used = clock;
            prepared.clone()
        })
    }

    fn put(&mut self, sha: &str, prepared: Prepared, size: usize) {
        self.clock += 1;
        if let Some((_, old, _)) = self
            .entries
            .insert(sha.to_string(), (prepared, size, self.clock))
        {
            self.size -= old;
        }
        self.size += size;
        while self.size > self.capacity && self.entries.len() > 1 {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, _, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((_, size, _)) = self.entries.remove(&oldest) {
                self.size -= size;
            }
        }
    }
}

/// The registry over a host and a database.
#[derive(Clone)]
pub struct Registry {
    host: Arc<PluginHost>,
    store: RegistryStore,
    cache_dir: Option<PathBuf>,
    memory: Arc<Mutex<MemoryCache>>,
    max_component_bytes: usize,
    /// Compilations at once (uploads and cache misses): a Python guest keeps a core busy for
    /// seconds, and a burst of uploads must not take every core from the calls.
    compiles: Arc<tokio::sync::Semaphore>,
}

/// Compilations one registry runs at once.
const COMPILE_SLOTS: usize = 2;

/// Why a plugin could not be loaded for a call.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("version {version} of plugin {name} no longer compiles on this host: {detail}")]
    Compile {
        name: String,
        version: u32,
        detail: String,
    },
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Registry {
    /// `cache_dir`: where precompiled artifacts are kept (`None`: memory only); `memory_bytes`:
    /// the in-memory cache's size.
    pub fn new(
        host: Arc<PluginHost>,
        db: Db,
        cache_dir: Option<PathBuf>,
        memory_bytes: usize,
    ) -> Self {
        Self {
            host,
            store: RegistryStore::new(db),
            cache_dir,
            memory: Arc::new(Mutex::new(MemoryCache {
                capacity: memory_bytes,
                size: 0,
                clock: 0,
                entries: HashMap::new(),
            })),
            max_component_bytes: validate::MAX_COMPONENT_BYTES,
            compiles: Arc::new(tokio::sync::Semaphore::new(COMPILE_SLOTS)),
        }
    }

    /// Accept components up to `bytes` (at most [`validate::MAX_COMPONENT_BYTES`]).
    pub fn with_max_component_bytes(mut self, bytes: usize) -> Self {
        self.max_component_bytes = bytes.min(validate::MAX_COMPONENT_BYTES);
        self
    }

    /// The largest component an upload may be.
    pub fn max_component_bytes(&self) -> usize {
        self.max_component_bytes
    }

    pub fn store(&self) -> &RegistryStore {
        &self.store
    }

    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Validate, precompile and store a new version. Compiling runs on a blocking thread (a
    /// Python guest takes seconds), [`COMPILE_SLOTS`] at a time.
    pub async fn upload(
        &self,
        owner: OwnerScope<'_>,
        meta: UploadMeta<'_>,
        bytes: Vec<u8>,
    ) -> Result<VersionInfo, UploadError> {
        if !valid_name(meta.name) {
            return Err(UploadError::InvalidName);
        }
        if RESERVED_NAMES.contains(&meta.name) {
            return Err(UploadError::ReservedName(meta.name.to_string()));
        }
        if bytes.len() > self.max_component_bytes {
            return Err(UploadError::TooLarge {
                size: bytes.len(),
                limit: self.max_component_bytes,
            });
        }
        if meta.author.len() > 200 || meta.notes.len() > 4_000 {
            return Err(UploadError::Invalid(
                "author is at most 200 bytes and notes at most 4000".into(),
            ));
        }
        let host = self.host.clone();
        let _slot = self
            .compiles
            .acquire()
            .await
            .map_err(|_| UploadError::Compile("the registry is shutting down".into()))?;
        let (validated, cwasm, bytes) = tokio::task::spawn_blocking(move || {
            let validated = validate::validate(&host, &bytes)?;
            let cwasm = host
                .precompile(&bytes)
                .map_err(|e| UploadError::Compile(format!("{e:#}")))?;
            Ok::<_, UploadError>((validated, cwasm, bytes))
        })
        .await
        .map_err(|e| UploadError::Compile(format!("the compiler stopped: {e}")))??;
        let digest = sha256(&bytes);
        self.write_artifact(&digest, &cwasm);
        self.memory
            .lock()
            .map(|mut m| m.put(&digest, validated.prepared.clone(), cwasm.len()))
            .ok();
        self.store
            .add_version(
                owner,
                NewVersion {
                    name: meta.name,
                    world: validated.world,
                    author: meta.author,
                    notes: meta.notes,
                    imports: &validated.imports,
                    sha256: &digest,
                    bytes: &bytes,
                },
            )
            .await
    }

    /// May the tenant use version `version` of plugin `name` (its own or the catalog's)?
    pub async fn visible(
        &self,
        scope: &TenantScope,
        name: &str,
        version: u32,
    ) -> Result<Option<VersionInfo>, StoreError> {
        match self
            .store
            .version(OwnerScope::Tenant(scope), name, version)
            .await
        {
            Ok((info, _)) => Ok(Some(info)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The pinned version of `name`, ready to run for one of the tenant's calls.
    pub async fn load(
        &self,
        scope: &TenantScope,
        name: &str,
        version: u32,
    ) -> Result<LoadedPlugin, LoadError> {
        let (info, bytes) = self
            .store
            .version(OwnerScope::Tenant(scope), name, version)
            .await?;
        let identity = PluginIdentity {
            name: info.plugin.clone(),
            version: info.version,
        };
        if let Some(prepared) = self
            .memory
            .lock()
            .ok()
            .and_then(|mut m| m.get(&info.sha256))
        {
            return Ok(LoadedPlugin { identity, prepared });
        }
        let host = self.host.clone();
        let cached = self.read_artifact(&info.sha256);
        let world = info.world;
        let compile_error = |detail: String| LoadError::Compile {
            name: info.plugin.clone(),
            version: info.version,
            detail,
        };
        // Only a compilation waits for a slot; loading a cached artifact never queues a call
        // behind an upload.
        let _slot = match cached {
            Some(_) => None,
            None => Some(
                self.compiles
                    .acquire()
                    .await
                    .map_err(|_| compile_error("the registry is shutting down".into()))?,
            ),
        };
        let (prepared, size, fresh) = tokio::task::spawn_blocking(move || {
            let (component, cwasm) =
                match cached.and_then(|c| host.load_precompiled(&c).ok().map(|comp| (comp, c))) {
                    Some((component, cwasm)) => (component, (cwasm, false)),
                    None => {
                        let cwasm = host.precompile(&bytes).map_err(|e| format!("{e:#}"))?;
                        let component = host
                            .load_precompiled(&cwasm)
                            .map_err(|e| format!("{e:#}"))?;
                        (component, (cwasm, true))
                    }
                };
            let prepared = host
                .prepare(&component, world)
                .map_err(|e| format!("{e:#}"))?;
            Ok::<_, String>((prepared, cwasm.0.len(), cwasm.1.then_some(cwasm.0)))
        })
        .await
        .map_err(|e| compile_error(e.to_string()))?
        .map_err(compile_error)?;
        if let Some(cwasm) = fresh {
            self.write_artifact(&info.sha256, &cwasm);
        }
        self.memory
            .lock()
            .map(|mut m| m.put(&info.sha256, prepared.clone(), size))
            .ok();
        Ok(LoadedPlugin { identity, prepared })
    }

    fn artifact_path(&self, digest: &str) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{digest}-{}.cwasm", self.host.compatibility_hash())))
    }

    /// The artifact and its digest file are written beside each other; a torn write fails the
    /// digest check on read and is compiled anew.
    fn write_artifact(&self, digest: &str, cwasm: &[u8]) {
        let Some(path) = self.artifact_path(digest) else {
            return;
        };
        if let Some(dir) = path.parent() {
            if std::fs::create_dir_all(dir).is_err() {
                return;
            }
        }
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, cwasm).is_ok()
            && std::fs::write(path.with_extension("sha256"), sha256(cwasm)).is_ok()
        {
            let _ = std::fs::rename(&tmp, &path);
        }
    }

    fn read_artifact(&self, digest: &str) -> Option<Vec<u8>> {
        let path = self.artifact_path(digest)?;
        let cwasm = std::fs::read(&path).ok()?;
        let want = std::fs::read_to_string(path.with_extension("sha256")).ok()?;
        (sha256(&cwasm) == want.trim()).then_some(cwasm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names() {
        for good in ["menu", "crm-lookup", "a1"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Menu", "1menu", "menu_x", "-x", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
