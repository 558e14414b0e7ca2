//! What ScanPro's tests share, as a dev-dependency of the crates whose tests need it. Whatever
//! a test needs and does not find (the corpus, a checker, a server) fails it loudly, with what to
//! install or set: a skipped check is a silent pass.
//!
//! # Modules
//! - [`corpus`]: the shared document corpus (`SCANPRO_CORPUS`, else `../shared/corpus` beside
//!   the workspace) and the files in it.
//! - [`documents`]: small PDFs written for a test, when it needs text it knows by heart.
//! - [`checkers`]: the independent tools that judge outputs (qpdf, poppler's `pdfinfo`,
//!   `pdftotext` and `pdftoppm`), never ScanPro's own code.
//! - `postgres` (feature `postgres`): a fresh PostgreSQL database per test.
//! - [`redis`]: a private `redis-server` per test, and key prefixes no other test uses.
//! - [`moto`]: a real S3 API on loopback (moto's server).
//! - [`smtp`]: a real SMTP server on loopback (aiosmtpd) that keeps what it receives.
//! - [`oidc`]: a real OpenID Connect provider on loopback (node-oidc-provider).
//!
//! [`free_port`] gives the servers their ports.

pub mod checkers;
pub mod corpus;
pub mod documents;
pub mod moto;
pub mod oidc;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod redis;
pub mod signing;
pub mod smtp;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
