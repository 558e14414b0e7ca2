//! In-process change notifications. A notice carries only the job id: listeners re-read the row,
//! which stays the source of truth, so a missed notice costs a little latency, never correctness.

use scanpro_core::JobId;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<JobId>,
}

impl Default for Events {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl Events {
    pub fn publish(&self, job: JobId) {
        // No listener is fine.
        let _ = self.sender.send(job);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobId> {
        self.sender.subscribe()
    }
}
