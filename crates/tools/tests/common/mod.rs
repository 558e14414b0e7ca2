//! What every test of the catalogue shares: corpus files, as paths and as step inputs.

#![allow(dead_code)]

use scanpro_tools::Input;
use std::path::{Path, PathBuf};

/// A file of the shared corpus; its absence fails the test.
pub fn corpus(name: &str) -> PathBuf {
    let dir = std::env::var_os("SCANPRO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let path = dir.join(name);
    assert!(path.is_file(), "corpus file missing: {} (set SCANPRO_CORPUS)", path.display());
    path
}

/// A step input named after its file.
pub fn input_at(path: PathBuf) -> Input {
    let filename = path.file_name().unwrap().to_string_lossy().into_owned();
    Input { path, filename }
}

/// A corpus file as a step input.
pub fn input(name: &str) -> Input {
    input_at(corpus(name))
}
