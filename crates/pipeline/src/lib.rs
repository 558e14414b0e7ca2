//! The use cases of ScanPro, in the order a document meets them.
//!
//! # Layout
//! - [`Pipeline`]: the handle holding the store, blobs, queue and settings; its methods are the
//!   use cases below, shared by every role (`serve`, `api`, `worker`).
//! - [`ingest`]: upload → blob store + metadata; submit → validate → job row → dispatch.
//! - [`execute`]: a leased job → fetch inputs → run each step (its outputs feed the next) →
//!   store outputs → commit once, with heartbeats and cancellation meanwhile.
//! - [`steps`]: how one step runs: in a child `scanpro step-exec` process under the subprocess
//!   runner (timeout, memory limit, crash isolation), or in-process for the CLI; engine tools
//!   beside their engines, here or on an engine service (`scanpro_engine_service`).
//! - [`cleanup`]: the sweeper: expired files and jobs, abandoned leases, stale work dirs, blobs
//!   no file row names.
//! - [`reads`]: what an owner reads and removes (files, their bytes, jobs, outputs), waiting
//!   for a job to change or end, readiness, and a worker's side of the queue (next job,
//!   acknowledge, hand back).
//! - [`notify`]: what happens when a job ends: its secrets are erased, its webhook is sent.
//! - [`webhook`]: webhook targets (refused when internal, at creation and at each attempt) and
//!   signed deliveries (Standard Webhooks).
//! - [`secrets`]: [`SecretKey`]: secret parameters and webhook secrets sealed at rest, and the
//!   keyed request hash.
//! - [`accounts`]: who is asking ([`accounts::Caller`]), accounts, sessions, API keys, quotas and
//!   administration.
//! - [`events`]: in-process notifications that a job changed (Server-Sent Events listen here).
//! - [`error`]: [`Error`], what a use case can fail with, with a stable code.

pub mod accounts;
pub mod cleanup;
pub mod error;
pub mod events;
pub mod execute;
pub mod ingest;
pub mod notify;
pub mod reads;
pub mod secrets;
pub mod steps;
pub mod webhook;

pub use accounts::Caller;
pub use error::Error;
pub use events::Events;
pub use reads::{JobWatch, Readiness};
pub use secrets::SecretKey;
pub use steps::{EngineRoutes, NativeSteps, StepRunner};

use scanpro_queue::Queue;
use scanpro_store::{Blobs, Meta};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Knobs of the use cases; filled from the one configuration struct.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long uploads, outputs and jobs are kept.
    pub retention: chrono::Duration,
    pub max_upload_bytes: u64,
    /// Deliveries of a job before it is dead-lettered.
    pub max_attempts: u32,
    /// A worker holds a job this long without a heartbeat.
    pub lease: chrono::Duration,
    /// Scratch space for running jobs; each attempt gets its own directory.
    pub work_dir: PathBuf,
    pub max_steps: usize,
    pub max_inputs: usize,
    /// Inputs above this size run through the streaming (qpdf) path of the structural tools.
    pub large_input_bytes: u64,
    /// Let webhooks reach loopback and private networks (off: a guest could probe them).
    pub webhook_allow_private_hosts: bool,
    /// Jobs one owner may have queued or running at once; 0: unlimited.
    pub max_active_jobs: u64,
    /// Bytes a guest may keep stored (uploads and outputs until they expire); 0: unlimited.
    pub guest_storage_bytes: u64,
    /// Files one job may produce; a step producing more fails with `resource_limit`.
    pub max_outputs_per_job: usize,
    /// Seals secrets at rest and keys request hashes (`secret_key`); the same in every process
    /// of a deployment.
    pub secret_key: SecretKey,
    pub accounts: accounts::AccountSettings,
    /// The signature tools' time-stamping authority and trust store.
    pub signing: scanpro_tools::SigningSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retention: chrono::Duration::hours(24),
            max_upload_bytes: 200 * 1024 * 1024,
            max_attempts: 3,
            lease: chrono::Duration::seconds(30),
            work_dir: std::env::temp_dir().join("scanpro-work"),
            max_steps: 20,
            max_inputs: 200,
            webhook_allow_private_hosts: false,
            max_active_jobs: 0,
            guest_storage_bytes: 0,
            max_outputs_per_job: 1000,
            secret_key: SecretKey::random(),
            large_input_bytes: scanpro_pdf::streaming::DEFAULT_LARGE_INPUT_BYTES,
            accounts: accounts::AccountSettings::default(),
            signing: scanpro_tools::SigningSettings::default(),
        }
    }
}

/// Everything a use case needs. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    meta: Meta,
    blobs: Blobs,
    queue: Arc<dyn Queue>,
    events: Events,
    steps: StepRunner,
    pub settings: Arc<Settings>,
}

impl Pipeline {
    pub fn new(
        meta: Meta,
        blobs: Blobs,
        queue: Arc<dyn Queue>,
        events: Events,
        steps: StepRunner,
        settings: Settings,
    ) -> Self {
        Self { meta, blobs, queue, events, steps, settings: Arc::new(settings) }
    }

    /// How often a running job renews its lease: well inside the lease.
    pub fn heartbeat_interval(&self) -> Duration {
        (self.settings.lease / 3).to_std().unwrap_or(Duration::from_secs(10))
    }
}
