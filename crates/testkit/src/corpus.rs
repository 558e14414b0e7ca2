//! The shared document corpus: folders of real documents (`pdf-text`, `pdf-broken`,
//! `pdf-scanned`, `images`, `docx`, …) and its `MANIFEST.tsv`, kept outside the repository.

use std::path::{Path, PathBuf};

/// The corpus folder: `$SCANPRO_CORPUS`, else `shared/corpus` beside the workspace (the
/// workspace's `../shared/corpus`). Panics when it is not there.
pub fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os("SCANPRO_CORPUS") {
        // Absolute, so that programs started in another directory find it too.
        Some(dir) => std::path::absolute(dir).expect("SCANPRO_CORPUS is a usable path"),
        // This crate is `<workspace>/crates/testkit`.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(3).unwrap().join("shared/corpus"),
    };
    assert!(dir.is_dir(), "the test corpus is not at {} (set SCANPRO_CORPUS to where it is)", dir.display());
    dir
}

/// A file or folder of the corpus, e.g. `corpus("pdf-broken")` or
/// `corpus("images/ocrmypdf_baiona.png")`. Panics when it is not there.
pub fn corpus(relative: impl AsRef<Path>) -> PathBuf {
    let path = corpus_dir().join(relative);
    assert!(path.exists(), "corpus file {} is missing (set SCANPRO_CORPUS to a complete corpus)", path.display());
    path
}

/// A born-digital PDF of the corpus's `pdf-text` folder, by file name.
pub fn text_pdf(name: &str) -> PathBuf {
    corpus(Path::new("pdf-text").join(name))
}

/// The entries of a corpus folder, sorted by name.
pub fn corpus_files(folder: &str) -> Vec<PathBuf> {
    let dir = corpus(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}
