//! Upload validation: what the registry refuses, each with the message the author reads.

mod common;

use common::*;
use hotline_plugins::error::UploadError;
use hotline_plugins::registry::validate::validate;
use hotline_plugins::World;

fn refused(bytes: &[u8]) -> UploadError {
    match validate(host(), bytes) {
        Ok(v) => panic!("accepted as {:?}", v.world),
        Err(e) => e,
    }
}

#[test]
fn good_components_are_recognised_by_world() {
    assert_eq!(
        validate(host(), &guest("probe")).map(|v| v.world).ok(),
        Some(World::Ivr)
    );
    assert_eq!(
        validate(host(), &guest("script")).map(|v| v.world).ok(),
        Some(World::AgentScript)
    );
}

#[test]
fn an_unknown_import_is_refused_by_name() {
    let err = refused(&guest("foreign-import"));
    assert!(
        matches!(&err, UploadError::UnknownImport(name) if name == "hotline:evil/files@0.1.0"),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("imports hotline:evil/files@0.1.0, which Hotline does not provide"));
}

#[test]
fn a_component_of_another_world_is_refused() {
    let err = refused(&guest("wrong-world"));
    assert!(
        matches!(&err, UploadError::WrongWorld { exports } if exports.contains(&"greet".to_string())),
        "{err}"
    );
    assert!(
        err.to_string().contains("targets no Hotline world"),
        "{err}"
    );
}

#[test]
fn a_core_module_truncated_file_and_random_bytes_are_refused_clearly() {
    // The smallest core module: magic and version 1.
    let err = refused(b"\0asm\x01\0\0\0");
    assert!(matches!(err, UploadError::CoreModule));
    assert!(err
        .to_string()
        .contains("core WebAssembly module, not a component"));

    let probe = guest("probe");
    let err = refused(&probe[..probe.len() / 2]);
    assert!(matches!(err, UploadError::Malformed(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("the component is truncated or malformed"),
        "{err}"
    );

    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let err = refused(&random);
    assert!(matches!(err, UploadError::NotWasm), "{err}");
    assert!(err.to_string().contains("not WebAssembly"));

    assert!(matches!(refused(b""), UploadError::Empty));
}
