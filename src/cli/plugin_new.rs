//! `hotline plugin new`: scaffolding a plugin project. Not available yet in this build.

use anyhow::{bail, Result};

pub fn run(lang: &str, name: &str) -> Result<()> {
    bail!("hotline plugin new --lang {lang} {name}: not available yet in this build")
}
