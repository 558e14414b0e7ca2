//! What every test of the catalogue shares: corpus files as step inputs.

#![allow(dead_code)]

use scanpro_testkit::corpus::corpus;
use scanpro_tools::Input;
use std::path::PathBuf;

/// A step input named after its file.
pub fn input_at(path: PathBuf) -> Input {
    let filename = path.file_name().unwrap().to_string_lossy().into_owned();
    Input { path, filename }
}

/// A corpus file as a step input.
pub fn input(name: &str) -> Input {
    input_at(corpus(name))
}
