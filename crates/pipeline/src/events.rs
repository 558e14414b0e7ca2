//! Change notifications. A notice carries only the job id: listeners re-read the row, which stays
//! the source of truth, so a missed notice costs a little latency, never correctness.
//!
//! Within a process notices go through a broadcast channel. When API and workers run as separate
//! processes, a relay (Redis pub/sub, `scanpro_queue::NoticeBus`) carries each notice to the
//! others, which hand it to their own listeners with [`Events::deliver`].

use scanpro_core::JobId;
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<JobId>,
    relay: Option<Arc<dyn Fn(JobId) + Send + Sync>>,
}

impl Default for Events {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0, relay: None }
    }
}

impl Events {
    /// These events, with every notice published here also passed to `relay`.
    pub fn relayed(self, relay: impl Fn(JobId) + Send + Sync + 'static) -> Self {
        Self { relay: Some(Arc::new(relay)), ..self }
    }

    pub fn publish(&self, job: JobId) {
        self.deliver(job);
        if let Some(relay) = &self.relay {
            relay(job);
        }
    }

    /// A notice that came from another process: for the listeners of this one only.
    pub fn deliver(&self, job: JobId) {
        // No listener is fine.
        let _ = self.sender.send(job);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobId> {
        self.sender.subscribe()
    }
}
