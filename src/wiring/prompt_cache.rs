//! The loaded prompts the call engine plays, kept for the next call: bounded by the bytes of
//! their samples, least recently used out first, each entry tagged with the prompt's version so
//! that a new upload (which moves the version) is never answered with the old sound.
//!
//! Pure bookkeeping, no I/O and no locks: its owner (`prompts`) serializes access. It must never
//! grow past its capacity; a prompt larger than the whole cache is played but not kept.

use std::collections::{BTreeMap, HashMap};

use hotline_core::ids::{PromptId, TenantId};
use hotline_media::prompt::Prompt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub tenant: TenantId,
    pub prompt: PromptId,
}

struct Entry {
    version: i64,
    name: String,
    prompt: Prompt,
    bytes: usize,
    used_at: u64,
}

pub struct PromptCache {
    capacity_bytes: usize,
    used_bytes: usize,
    clock: u64,
    entries: HashMap<CacheKey, Entry>,
    /// `used_at` -> key, oldest first: the eviction order.
    recency: BTreeMap<u64, CacheKey>,
}

fn size_of(prompt: &Prompt) -> usize {
    std::mem::size_of_val(prompt.samples())
}

impl PromptCache {
    pub fn new(capacity_bytes: usize) -> Self {
        Self {
            capacity_bytes,
            used_bytes: 0,
            clock: 0,
            entries: HashMap::new(),
            recency: BTreeMap::new(),
        }
    }

    #[cfg(test)]
    fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// The prompt at exactly `version`. An entry of another version is stale and dropped.
    pub fn get(&mut self, key: CacheKey, version: i64) -> Option<Prompt> {
        match self.entries.get(&key) {
            Some(entry) if entry.version == version => {
                self.touch(key);
                self.entries.get(&key).map(|e| e.prompt.clone())
            }
            Some(_) => {
                self.remove(key);
                None
            }
            None => None,
        }
    }

    /// Whatever version is kept of the prompt with this id: what can still be played while
    /// the database cannot say which version is current.
    pub fn last_known_by_id(&mut self, key: CacheKey) -> Option<Prompt> {
        if self.entries.contains_key(&key) {
            self.touch(key);
        }
        self.entries.get(&key).map(|e| e.prompt.clone())
    }

    /// The same, by the tenant and the prompt's name.
    pub fn last_known_by_name(&mut self, tenant: TenantId, name: &str) -> Option<Prompt> {
        let key = self
            .entries
            .iter()
            .find(|(key, entry)| key.tenant == tenant && entry.name == name)
            .map(|(key, _)| *key)?;
        self.last_known_by_id(key)
    }

    pub fn insert(&mut self, key: CacheKey, version: i64, name: &str, prompt: Prompt) {
        self.remove(key);
        let bytes = size_of(&prompt);
        if bytes > self.capacity_bytes {
            return;
        }
        while self.used_bytes + bytes > self.capacity_bytes {
            let Some((_, oldest)) = self.recency.pop_first() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&oldest) {
                self.used_bytes -= entry.bytes;
            }
        }
        self.clock += 1;
        self.recency.insert(self.clock, key);
        self.used_bytes += bytes;
        self.entries.insert(
            key,
            Entry {
                version,
                name: name.to_string(),
                prompt,
                bytes,
                used_at: self.clock,
            },
        );
    }

    fn touch(&mut self, key: CacheKey) {
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(&key) {
            self.recency.remove(&entry.used_at);
            entry.used_at = self.clock;
            self.recency.insert(self.clock, key);
        }
    }

    fn remove(&mut self, key: CacheKey) {
        if let Some(entry) = self.entries.remove(&key) {
            self.recency.remove(&entry.used_at);
            self.used_bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey {
            tenant: TenantId::new(),
            prompt: PromptId::new(),
        }
    }

    /// A prompt of `samples` samples (two bytes each), all `value`.
    fn prompt(samples: usize, value: i16) -> Prompt {
        Prompt::from_pcm(vec![value; samples])
    }

    #[test]
    fn hits_only_the_version_asked_for() {
        let mut cache = PromptCache::new(1_000);
        let k = key();
        cache.insert(k, 1, "welcome", prompt(100, 1));
        assert_eq!(cache.get(k, 1), Some(prompt(100, 1)));
        assert_eq!(cache.get(k, 2), None, "a new upload moved the version");
        assert_eq!(
            (cache.len(), cache.used_bytes()),
            (0, 0),
            "the stale entry is gone"
        );
        cache.insert(k, 2, "welcome", prompt(50, 2));
        cache.insert(k, 3, "welcome", prompt(60, 3));
        assert_eq!((cache.len(), cache.used_bytes()), (1, 120));
        assert_eq!(
            cache.last_known_by_name(k.tenant, "welcome"),
            Some(prompt(60, 3))
        );
        assert_eq!(cache.last_known_by_name(TenantId::new(), "welcome"), None);
        assert_eq!(cache.last_known_by_id(k), Some(prompt(60, 3)));
    }

    #[test]
    fn stays_within_its_bytes_dropping_the_least_recently_used() {
        let mut cache = PromptCache::new(1_000);
        let (a, b, c) = (key(), key(), key());
        cache.insert(a, 1, "a", prompt(200, 1)); // 400 bytes
        cache.insert(b, 1, "b", prompt(200, 2));
        assert!(cache.get(a, 1).is_some()); // a is now the more recent
        cache.insert(c, 1, "c", prompt(200, 3));
        assert_eq!(cache.used_bytes(), 800);
        assert!(cache.get(b, 1).is_none(), "b was the least recently used");
        assert!(cache.get(a, 1).is_some() && cache.get(c, 1).is_some());

        let huge = key();
        cache.insert(huge, 1, "huge", prompt(600, 4)); // 1,200 bytes: larger than the cache
        assert!(cache.get(huge, 1).is_none());
        assert_eq!(
            cache.used_bytes(),
            800,
            "nothing evicted for what cannot be kept"
        );

        for i in 0..50 {
            cache.insert(key(), 1, &format!("p{i}"), prompt(30 + i, 0));
            assert!(cache.used_bytes() <= 1_000);
        }
        let kept: usize = cache.entries.values().map(|e| e.bytes).sum();
        assert_eq!(kept, cache.used_bytes());
        assert_eq!(cache.recency.len(), cache.len());
    }
}
