//! The one place ScanPro starts other programs.
//!
//! # Layout
//! - [`runner`]: [`Subprocess`]. Every child process starts here: no shell, its own process group,
//!   a private temp dir removed with it, resource limits, a parent-death signal, a deadline, a
//!   bounded stderr tail; timeout, cancel and drop kill the whole group. [`Subprocess::spawn`]
//!   starts long-lived children (warm engines) under the same rules.
//! - [`sandbox`]: the Landlock ruleset every child runs under: the system, its temp dir and the
//!   files it was granted, no network.
//! - [`budget`]: how long a child may run on one input (pages, bytes, pixels), and the image
//!   size above which an input is refused outright.
//! - [`progress`]: [`PageProgress`](progress::PageProgress), what a long-running child reports as
//!   pages finish.

pub mod budget;
pub mod progress;
pub mod runner;
pub mod sandbox;

pub use runner::{Limits, ProcessError, ProcessOutput, RunningProcess, Subprocess};
