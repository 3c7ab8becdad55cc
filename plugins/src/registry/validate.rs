//! Checking an uploaded component before it becomes a version: WebAssembly at all, a component
//! and not a core module, within the size limit, compiles, imports only what the host provides,
//! and exports one of the Hotline worlds with the right types. Each refusal is an
//! [`UploadError`] a plugin author can act on.

use wasmtime::component::Component;

use crate::error::UploadError;
use crate::host::run::{Prepared, World};
use crate::host::PluginHost;

/// The largest component accepted (a componentize-py guest is 30-40 MB).
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;

/// Interfaces a plugin may import: the Hotline package, and WASI 0.2 interfaces the guest
/// toolchains need to start (the host provides them sealed). `wasi:sockets` is among them
/// because componentize-py's CPython imports it whatever the plugin does; the host links it
/// with TCP, UDP and name lookup switched off (`CallState::new`), so every socket a guest asks
/// for is refused. `wasi:http` is not: plugins reach the network only through
/// `hotline:plugin/http` and the tenant's allowlist.
/// Import names are `namespace:package/interface@version`; these prefixes match them.
const ALLOWED_IMPORTS: [&str; 7] = [
    "hotline:plugin/",
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

fn allowed(import: &str) -> bool {
    ALLOWED_IMPORTS
        .iter()
        .any(|prefix| import.starts_with(prefix))
}

/// A component that passed every check, compiled and linked.
pub struct Validated {
    pub world: World,
    pub imports: Vec<String>,
    pub component: Component,
    pub prepared: Prepared,
}

/// Check the bytes' header without compiling.
pub fn check_header(bytes: &[u8]) -> Result<(), UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(UploadError::TooLarge {
            size: bytes.len(),
            limit: MAX_COMPONENT_BYTES,
        });
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(UploadError::NotWasm);
    }
    match &bytes[4..8] {
        [1, 0, 0, 0] => Err(UploadError::CoreModule),
        [_, _, 1, 0] => Ok(()),
        other => Err(UploadError::Malformed(format!(
            "unknown WebAssembly version/layer bytes {other:02x?}"
        ))),
    }
}

/// Validate and compile an upload.
pub fn validate(host: &PluginHost, bytes: &[u8]) -> Result<Validated, UploadError> {
    check_header(bytes)?;
    let component = host.compile(bytes).map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("unexpected end")
            || text.contains("section")
            || text.contains("malformed")
            || text.contains("invalid")
        {
            UploadError::Malformed(text.lines().next().unwrap_or("").to_string())
        } else {
            UploadError::Compile(text.lines().next().unwrap_or("").to_string())
        }
    })?;
    let ty = component.component_type();
    let engine = host.engine();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for import in &imports {
        if let Some(version) = import
            .strip_prefix("hotline:plugin/")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, v)| v)
        {
            if version != "0.1.0" {
                return Err(UploadError::UnsupportedVersion(version.to_string()));
            }
        }
        if !allowed(import) {
            return Err(UploadError::UnknownImport(import.clone()));
        }
    }
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let world = if exports.iter().any(|e| e == "handle-call") {
        World::Ivr
    } else if exports.iter().any(|e| e == "render") && exports.iter().any(|e| e == "submit") {
        World::AgentScript
    } else {
        return Err(UploadError::WrongWorld { exports });
    };
    let prepared = host
        .prepare(&component, world)
        .map_err(|e| UploadError::Mismatch {
            world,
            detail: format!("{e:#}").lines().next().unwrap_or("").to_string(),
        })?;
    Ok(Validated {
        world,
        imports,
        component,
        prepared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_tell_modules_from_components() {
        assert!(matches!(check_header(b""), Err(UploadError::Empty)));
        assert!(matches!(
            check_header(b"hello world!"),
            Err(UploadError::NotWasm)
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(UploadError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
        assert!(matches!(
            check_header(b"\0asm\x07\x07\x07\x07"),
            Err(UploadError::Malformed(_))
        ));
    }

    #[test]
    fn python_guests_sealed_sockets_pass_but_wasi_http_does_not() {
        assert!(allowed("wasi:sockets/tcp-create-socket@0.2.9"));
        assert!(allowed("hotline:plugin/call@0.1.0"));
        assert!(!allowed("wasi:http/outgoing-handler@0.2.9"));
        assert!(!allowed("acme:evil/backdoor"));
    }
}
