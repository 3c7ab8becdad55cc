//! `hotline plugin new --lang rust|python|js NAME`: scaffolds a plugin project in `./NAME` that
//! builds with one command (`./build.sh`) and whose `scenarios.toml` passes `hotline plugin
//! test`. Everything it writes is embedded in this binary (the templates under
//! `plugins/sdk/templates/`, the SDK of the language and the WIT contract), so the project
//! matches the host that made it and needs nothing from the network but its toolchain.
//!
//! It must never overwrite anything: an existing `./NAME` is refused untouched.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// A file to write: its path in the project and its text (`{{name}}` and `{{crate}}` filled).
type Embedded = (&'static str, &'static str);

macro_rules! embed {
    ($($dest:literal => $src:literal),* $(,)?) => {
        &[$(($dest, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $src)))),*]
    };
}

const WIT: &[Embedded] = embed![
    "wit/agent-screen.wit" => "plugins/wit/agent-screen.wit",
    "wit/call.wit" => "plugins/wit/call.wit",
    "wit/clock.wit" => "plugins/wit/clock.wit",
    "wit/http.wit" => "plugins/wit/http.wit",
    "wit/kv.wit" => "plugins/wit/kv.wit",
    "wit/log.wit" => "plugins/wit/log.wit",
    "wit/types.wit" => "plugins/wit/types.wit",
    "wit/worlds.wit" => "plugins/wit/worlds.wit",
];

const COMMON: &[Embedded] = embed![
    "scenarios.toml" => "plugins/sdk/templates/scenarios.toml",
];

const RUST: &[Embedded] = embed![
    "Cargo.toml" => "plugins/sdk/templates/rust/Cargo.toml",
    "Cargo.lock" => "plugins/sdk/templates/rust/Cargo.lock",
    "build.sh" => "plugins/sdk/templates/rust/build.sh",
    "README.md" => "plugins/sdk/templates/rust/README.md",
    ".gitignore" => "plugins/sdk/templates/rust/gitignore",
    "src/lib.rs" => "plugins/sdk/templates/rust/src/lib.rs",
    "sdk/rust/Cargo.toml" => "plugins/sdk/rust/Cargo.toml",
    "sdk/rust/src/agent.rs" => "plugins/sdk/rust/src/agent.rs",
    "sdk/rust/src/bindings.rs" => "plugins/sdk/rust/src/bindings.rs",
    "sdk/rust/src/call.rs" => "plugins/sdk/rust/src/call.rs",
    "sdk/rust/src/callback.rs" => "plugins/sdk/rust/src/callback.rs",
    "sdk/rust/src/clock.rs" => "plugins/sdk/rust/src/clock.rs",
    "sdk/rust/src/collect.rs" => "plugins/sdk/rust/src/collect.rs",
    "sdk/rust/src/enqueue.rs" => "plugins/sdk/rust/src/enqueue.rs",
    "sdk/rust/src/error.rs" => "plugins/sdk/rust/src/error.rs",
    "sdk/rust/src/http.rs" => "plugins/sdk/rust/src/http.rs",
    "sdk/rust/src/kv.rs" => "plugins/sdk/rust/src/kv.rs",
    "sdk/rust/src/lib.rs" => "plugins/sdk/rust/src/lib.rs",
    "sdk/rust/src/log.rs" => "plugins/sdk/rust/src/log.rs",
    "sdk/rust/src/outcome.rs" => "plugins/sdk/rust/src/outcome.rs",
    "sdk/rust/src/voicemail.rs" => "plugins/sdk/rust/src/voicemail.rs",
    "sdk/rust/macros/Cargo.toml" => "plugins/sdk/rust/macros/Cargo.toml",
    "sdk/rust/macros/src/lib.rs" => "plugins/sdk/rust/macros/src/lib.rs",
];

const PYTHON: &[Embedded] = embed![
    "build.sh" => "plugins/sdk/templates/python/build.sh",
    "README.md" => "plugins/sdk/templates/python/README.md",
    ".gitignore" => "plugins/sdk/templates/python/gitignore",
    "requirements-build.txt" => "plugins/sdk/templates/python/requirements-build.txt",
    "src/app.py" => "plugins/sdk/templates/python/src/app.py",
    "sdk/python/hotline/__init__.py" => "plugins/sdk/python/hotline/__init__.py",
    "sdk/python/hotline/_call.py" => "plugins/sdk/python/hotline/_call.py",
    "sdk/python/hotline/_errors.py" => "plugins/sdk/python/hotline/_errors.py",
    "sdk/python/hotline/agent.py" => "plugins/sdk/python/hotline/agent.py",
    "sdk/python/hotline/clock.py" => "plugins/sdk/python/hotline/clock.py",
    "sdk/python/hotline/http.py" => "plugins/sdk/python/hotline/http.py",
    "sdk/python/hotline/kv.py" => "plugins/sdk/python/hotline/kv.py",
    "sdk/python/hotline/log.py" => "plugins/sdk/python/hotline/log.py",
];

const JS: &[Embedded] = embed![
    "package.json" => "plugins/sdk/templates/js/package.json",
    "package-lock.json" => "plugins/sdk/templates/js/package-lock.json",
    "build.sh" => "plugins/sdk/templates/js/build.sh",
    "README.md" => "plugins/sdk/templates/js/README.md",
    ".gitignore" => "plugins/sdk/templates/js/gitignore",
    "src/plugin.js" => "plugins/sdk/templates/js/src/plugin.js",
    "sdk/js/package.json" => "plugins/sdk/js/package.json",
    "sdk/js/agent.js" => "plugins/sdk/js/agent.js",
    "sdk/js/call.js" => "plugins/sdk/js/call.js",
    "sdk/js/clock.js" => "plugins/sdk/js/clock.js",
    "sdk/js/errors.js" => "plugins/sdk/js/errors.js",
    "sdk/js/http.js" => "plugins/sdk/js/http.js",
    "sdk/js/index.js" => "plugins/sdk/js/index.js",
    "sdk/js/kv.js" => "plugins/sdk/js/kv.js",
    "sdk/js/log.js" => "plugins/sdk/js/log.js",
];

/// The languages and their files.
fn files(lang: &str) -> Option<&'static [Embedded]> {
    match lang {
        "rust" => Some(RUST),
        "python" => Some(PYTHON),
        "js" | "javascript" => Some(JS),
        _ => None,
    }
}

/// A plugin name as the registry accepts it: 1 to 64 of `a-z`, `0-9`, `-`, starting with a
/// letter (it names the project directory, the crate or package, and the upload).
fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!("{name:?} is not a plugin name: use 1 to 64 characters of a-z, 0-9 and -, starting with a letter");
    }
    Ok(())
}

fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
}

/// Cargo keeps a lock file's packages sorted by name: the template's root package, written
/// under a placeholder, must move to where its real name sorts or `--locked` would refuse it.
fn sort_lock_packages(lock: &str) -> String {
    let mut parts = lock.split("\n[[package]]\n");
    let head = parts.next().unwrap_or_default().to_string();
    let mut packages: Vec<&str> = parts.collect();
    let key = |block: &&str| -> (String, String) {
        let field = |name: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} = \"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap_or_default()
        };
        (field("name"), field("version"))
    };
    packages.sort_by_key(key);
    let mut out = head;
    for block in packages {
        out.push_str("\n[[package]]\n");
        out.push_str(block.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// What a scaffolded project's files are: path in the project and text.
fn project_files(lang: &str, name: &str) -> Result<Vec<(PathBuf, String)>> {
    let Some(lang_files) = files(lang) else {
        bail!("--lang {lang:?}: choose rust, python or js");
    };
    let mut out = Vec::new();
    for (dest, text) in WIT.iter().chain(COMMON).chain(lang_files) {
        let mut text = fill(text, name);
        if *dest == "Cargo.lock" {
            text = sort_lock_packages(&text);
        }
        out.push((PathBuf::from(dest), text));
    }
    Ok(out)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

/// Write the project into `dir` (which must not exist yet).
pub fn scaffold(dir: &Path, lang: &str, name: &str) -> Result<()> {
    check_name(name)?;
    let files = project_files(lang, name)?;
    if dir.exists() {
        bail!(
            "{} already exists; choose another name or remove it first",
            dir.display()
        );
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        if path.file_name().is_some_and(|n| n == "build.sh") {
            make_executable(&path).with_context(|| format!("chmod {}", path.display()))?;
        }
    }
    Ok(())
}

pub fn run(lang: &str, name: &str) -> Result<()> {
    let dir = PathBuf::from(name);
    scaffold(&dir, lang, name)?;
    println!("created {name}/ ({lang} IVR plugin)");
    println!("  cd {name} && ./build.sh");
    println!("  hotline plugin test dist/plugin.wasm --scenario scenarios.toml");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every file of an SDK directory is embedded (a new SDK module cannot be forgotten).
    fn embedded_cover(lang_files: &[Embedded], dest_prefix: &str, src_dir: &str, ext: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(src_dir);
        let mut on_disk = BTreeSet::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read the SDK directory") {
                let path = entry.expect("an entry").path();
                let rel = path.strip_prefix(&root).expect("inside").to_path_buf();
                let skip = rel.components().any(|c| {
                    matches!(
                        c.as_os_str().to_str(),
                        Some("target" | "toolchain" | "tests" | "__pycache__" | "node_modules")
                    )
                });
                if skip {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == ext) {
                    on_disk.insert(format!("{dest_prefix}{}", rel.display()));
                }
            }
        }
        let embedded: BTreeSet<String> = lang_files
            .iter()
            .map(|(dest, _)| dest.to_string())
            .filter(|d| d.starts_with(dest_prefix) && d.ends_with(ext))
            .collect();
        assert_eq!(embedded, on_disk, "embedded files of {src_dir}");
    }

    #[test]
    fn every_sdk_and_wit_file_is_embedded() {
        embedded_cover(RUST, "sdk/rust/", "plugins/sdk/rust", "rs");
        embedded_cover(PYTHON, "sdk/python/", "plugins/sdk/python", "py");
        embedded_cover(JS, "sdk/js/", "plugins/sdk/js", "js");
        embedded_cover(WIT, "wit/", "plugins/wit", "wit");
    }

    #[test]
    fn names_are_checked_before_anything_is_written() {
        let dir = std::env::temp_dir().join(format!("hotline-new-{}", std::process::id()));
        for bad in ["", "Menu", "1menu", "my_menu", "../escape", &"a".repeat(65)] {
            let err = scaffold(&dir.join("x"), "rust", bad).expect_err(bad);
            assert!(err.to_string().contains("is not a plugin name"), "{err}");
        }
        let err = scaffold(&dir.join("x"), "cobol", "menu").expect_err("unknown language");
        assert!(
            err.to_string().contains("choose rust, python or js"),
            "{err}"
        );
        assert!(
            !dir.exists(),
            "nothing written for a refused name or language"
        );
    }

    #[test]
    fn an_existing_directory_is_left_alone() {
        let dir = std::env::temp_dir().join(format!("hotline-new-exists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        std::fs::write(dir.join("keep.txt"), "mine").expect("a file");
        let err = scaffold(&dir, "python", "menu").expect_err("exists");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.join("keep.txt"))
                .ok()
                .as_deref(),
            Some("mine")
        );
        assert_eq!(std::fs::read_dir(&dir).expect("read").count(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn names_fill_the_templates_and_the_lock_stays_sorted() {
        let files = project_files("rust", "zz-menu").expect("files");
        let text = |p: &str| {
            files
                .iter()
                .find(|(path, _)| path == Path::new(p))
                .map(|(_, t)| t.clone())
                .expect(p)
        };
        assert!(text("Cargo.toml").contains("name = \"zz-menu\""));
        assert!(text("build.sh").contains("release/zz_menu.wasm"));
        assert!(
            files.iter().all(|(_, t)| !t.contains("{{")),
            "no placeholder left"
        );
        let lock = text("Cargo.lock");
        let names: Vec<&str> = lock
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .map(|n| n.trim_end_matches('"'))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.contains(&"zz-menu"));
    }
}
