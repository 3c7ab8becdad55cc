//! `hotline:plugin/kv`: the tenant's key-value store, within its quotas.

use crate::bindings::ivr::hotline::plugin::kv::{Host, KvError};
use crate::host::state::CallState;
use crate::kv::KvFailure;

type Answer<T> = wasmtime::Result<Result<T, KvError>>;

fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() || key.len() > 256 {
        Err(KvError::InvalidKey("a key is 1 to 256 bytes".into()))
    } else {
        Ok(())
    }
}

fn convert(failure: KvFailure) -> KvError {
    match failure {
        KvFailure::ValueTooLarge(limit) => KvError::ValueTooLarge(limit),
        KvFailure::QuotaExceeded(detail) => KvError::QuotaExceeded(detail),
        KvFailure::NotANumber => KvError::NotANumber,
        KvFailure::Unavailable(detail) => KvError::Unavailable(detail),
    }
}

fn kind(error: &KvError) -> String {
    match error {
        KvError::InvalidKey(d) => format!("invalid-key: {d}"),
        KvError::ValueTooLarge(limit) => format!("value-too-large (limit {limit} bytes)"),
        KvError::QuotaExceeded(d) => format!("quota-exceeded: {d}"),
        KvError::RateLimited => "rate-limited".into(),
        KvError::NotANumber => "not-a-number".into(),
        KvError::Unavailable(d) => format!("unavailable: {d}"),
    }
}

/// Common prelude: the rate cap and the key.
fn begin(
    state: &mut CallState,
    function: &str,
    key: &str,
) -> wasmtime::Result<Result<(), KvError>> {
    if !state.enter(function)? {
        state.leave();
        return Ok(Err(KvError::RateLimited));
    }
    if let Err(e) = check_key(key) {
        state.note("kv", format!("{function} {key:?} -> error: {}", kind(&e)));
        state.leave();
        return Ok(Err(e));
    }
    Ok(Ok(()))
}

impl Host for CallState {
    async fn get(&mut self, key: String) -> Answer<Option<String>> {
        if let Err(e) = begin(self, "get", &key)? {
            return Ok(Err(e));
        }
        let result = self.services.kv.get(&key).await.map_err(convert);
        match &result {
            Ok(Some(v)) => self.note("kv", format!("get {key} -> {v:?}")),
            Ok(None) => self.note("kv", format!("get {key} -> none")),
            Err(e) => self.note("kv", format!("get {key} -> error: {}", kind(e))),
        }
        self.leave();
        Ok(result)
    }

    async fn set(&mut self, key: String, value: String) -> Answer<()> {
        if let Err(e) = begin(self, "set", &key)? {
            return Ok(Err(e));
        }
        let quota = self.kv_quota();
        let result = if value.len() > quota.value_bytes as usize {
            Err(KvError::ValueTooLarge(quota.value_bytes))
        } else {
            self.services
                .kv
                .set(&key, &value, &quota)
                .await
                .map_err(convert)
        };
        match &result {
            Ok(()) => self.note("kv", format!("set {key} = {value:?}")),
            Err(e) => {
                self.note("kv", format!("set {key} -> error: {}", kind(e)));
                if matches!(e, KvError::ValueTooLarge(_) | KvError::QuotaExceeded(_)) {
                    self.host_line(
                        crate::plugin_log::LogLevel::Warn,
                        format!("kv set {key:?} refused: {}", kind(e)),
                    );
                }
            }
        }
        self.leave();
        Ok(result)
    }

    async fn delete(&mut self, key: String) -> Answer<bool> {
        if let Err(e) = begin(self, "delete", &key)? {
            return Ok(Err(e));
        }
        let result = self.services.kv.delete(&key).await.map_err(convert);
        match &result {
            Ok(existed) => self.note("kv", format!("delete {key} -> {existed}")),
            Err(e) => self.note("kv", format!("delete {key} -> error: {}", kind(e))),
        }
        self.leave();
        Ok(result)
    }

    async fn increment(&mut self, key: String, by: i64) -> Answer<i64> {
        if let Err(e) = begin(self, "increment", &key)? {
            return Ok(Err(e));
        }
        let quota = self.kv_quota();
        let result = self
            .services
            .kv
            .increment(&key, by, &quota)
            .await
            .map_err(convert);
        match &result {
            Ok(n) => self.note("kv", format!("increment {key} by {by} -> {n}")),
            Err(e) => self.note("kv", format!("increment {key} -> error: {}", kind(e))),
        }
        self.leave();
        Ok(result)
    }

    async fn list_keys(&mut self, prefix: String, limit: u32) -> Answer<Vec<String>> {
        if !self.enter("list-keys")? {
            self.leave();
            return Ok(Err(KvError::RateLimited));
        }
        if !(1..=1_000).contains(&limit) || prefix.len() > 256 {
            self.leave();
            return Ok(Err(KvError::InvalidKey(
                "limit is 1 to 1000 and a prefix at most 256 bytes".into(),
            )));
        }
        let result = self
            .services
            .kv
            .list_keys(&prefix, limit)
            .await
            .map_err(convert);
        match &result {
            Ok(keys) => self.note("kv", format!("list {prefix} -> {} keys", keys.len())),
            Err(e) => self.note("kv", format!("list {prefix} -> error: {}", kind(e))),
        }
        self.leave();
        Ok(result)
    }
}
