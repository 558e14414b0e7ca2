//! Digital signatures: PAdES baseline B signing with a PKCS#12 certificate, and checking the
//! signatures a PDF holds.
//!
//! - [`keys`]: the PKCS#12 file opened into a key and its chain; signatures checked against a
//!   certificate's public key (RSA PKCS#1 v1.5, ECDSA P-256 and P-384).
//! - `cms`: the detached CMS `SignedData`, with an RFC 3161 time-stamp token when asked.
//! - [`sign`](mod@sign): the signature appended to the file as an incremental update.
//! - `appearance`: what a visible signature shows.
//! - [`verify`](mod@verify): each signature's integrity, coverage, time and trust.

mod appearance;
mod cms;
pub mod keys;
pub mod sign;
pub mod verify;

pub use keys::{Credentials, certificates_from_pem};
pub use sign::{SignReport, Signing, TimestampSender, Visible, sign};
pub use verify::{SignatureReport, TimestampReport, VerifyReport, verify};
