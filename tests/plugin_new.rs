//! `hotline plugin new` end to end, the way a plugin author meets it: scaffold a project in each
//! language with the built binary, build it with the one command its README gives
//! (`./build.sh`, which installs the language's pinned toolchain), and run its scenario file
//! with `hotline plugin test`. A toolchain that cannot be installed fails the test with the
//! build's output; nothing is skipped.
//!
//! The Rust project builds into a shared target directory (`target/plugins/template-cargo`) so
//! that a second run does not compile wit-bindgen again; Python and JavaScript projects install
//! their toolchains into the project itself, as an author's machine would (pip's and npm's
//! download caches make the second run quick).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// One project at a time: a build running beside `hotline plugin test` would take the cores a
/// guest's epoch-counted CPU budget is charged for, and the scaffold keeps the tenant default.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn hotline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scaffold_build_and_test(lang: &str) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let work = tempfile::tempdir().expect("a temporary directory");
    let name = format!("menu-{lang}");
    let out = hotline()
        .current_dir(work.path())
        .args(["plugin", "new", "--lang", lang, &name])
        .output()
        .expect("run hotline plugin new");
    assert!(
        out.status.success(),
        "plugin new --lang {lang}: {}",
        text(&out)
    );
    let project = work.path().join(&name);
    for file in ["build.sh", "README.md", "scenarios.toml", "wit/worlds.wit"] {
        assert!(
            project.join(file).is_file(),
            "{lang}: {file} was not written"
        );
    }
    let readme = std::fs::read_to_string(project.join("README.md")).expect("README");
    assert!(
        readme.contains("./build.sh"),
        "the README names the build command"
    );

    // Scaffolding the same name again must refuse and leave the project as it is.
    let again = hotline()
        .current_dir(work.path())
        .args(["plugin", "new", "--lang", lang, &name])
        .output()
        .expect("run hotline plugin new again");
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let shared_target: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "target",
        "plugins",
        "template-cargo",
    ]
    .iter()
    .collect();
    let build = Command::new("bash")
        .arg("build.sh")
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &shared_target)
        .output()
        .expect("run build.sh");
    assert!(
        build.status.success(),
        "{lang}: ./build.sh failed (its toolchain could not be installed or the template does not build):\n{}",
        text(&build)
    );
    let wasm = project.join("dist/plugin.wasm");
    assert!(wasm.is_file(), "{lang}: build.sh wrote no dist/plugin.wasm");

    let run = hotline()
        .current_dir(&project)
        .args(["plugin", "test"])
        .arg(Path::new("dist/plugin.wasm"))
        .args(["--scenario", "scenarios.toml"])
        .output()
        .expect("run hotline plugin test");
    let report = text(&run);
    assert!(
        run.status.success(),
        "{lang}: the scaffold's scenarios fail:\n{report}"
    );
    assert!(report.contains("5 passed, 0 failed"), "{lang}: {report}");
}

#[test]
fn a_rust_project_builds_and_passes_its_scenarios() {
    scaffold_build_and_test("rust");
}

#[test]
fn a_python_project_builds_and_passes_its_scenarios() {
    scaffold_build_and_test("python");
}

#[test]
fn a_javascript_project_builds_and_passes_its_scenarios() {
    scaffold_build_and_test("js");
}
