//! Rebuilds the crate when any file under `web/app` changes, including files added since the
//! last build, which the embedding derive alone would not notice.

fn main() {
    println!("cargo:rerun-if-changed=../../web/app");
}
