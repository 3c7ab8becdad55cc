//! This crate's errors: the store's ([`StoreError`]) and the registry's ([`UploadError`], what
//! an upload is refused for, each a message a plugin author can act on).

use crate::host::run::World;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("changed meanwhile: version {current} is current, the change was based on {expected}")]
    VersionMismatch { expected: i64, current: i64 },
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err),
            other => StoreError::Database(other),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from_sqlx(err)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload is empty")]
    Empty,
    #[error("the component is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not WebAssembly: the file does not start with the \\0asm magic bytes")]
    NotWasm,
    #[error("this is a core WebAssembly module, not a component: build for wasm32-wasip2 (cargo), or wrap it with `wasm-tools component new`")]
    CoreModule,
    #[error("the component is truncated or malformed: {0}")]
    Malformed(String),
    #[error("the component imports {0}, which Hotline does not provide; plugins may import hotline:plugin/{{call,kv,http,log,clock,types}}@0.1.0 and the WASI 0.2 cli, io, clocks, random, filesystem and sockets interfaces (sealed: no files, no sockets)")]
    UnknownImport(String),
    #[error("the component targets no Hotline world: it exports {exports:?}; an IVR plugin exports `handle-call` (world hotline:plugin/ivr@0.1.0), an agent script `render` and `submit` (world hotline:plugin/agent-script@0.1.0)")]
    WrongWorld { exports: Vec<String> },
    #[error("the component imports hotline:plugin version {0}; this host supports 0.1.0")]
    UnsupportedVersion(String),
    #[error("the component does not match world {world}: {detail}")]
    Mismatch { world: World, detail: String },
    #[error("the component failed to compile: {0}")]
    Compile(String),
    #[error("plugin names are 1 to 64 characters of a-z, 0-9 and -, starting with a letter")]
    InvalidName,
    #[error("{0:?} is reserved (the API names the plugin log and settings so); choose another plugin name")]
    ReservedName(String),
    #[error("{0}")]
    Invalid(String),
    #[error("plugin {0:?} is a {1} plugin; a new version must target the same world")]
    WorldChanged(String, World),
    #[error(transparent)]
    Store(#[from] StoreError),
}
