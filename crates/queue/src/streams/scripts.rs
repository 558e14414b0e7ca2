//! The Lua scripts that change a stream and its index together, and their invocation.

use super::{GROUP, RedisQueue, is_nogroup};
use crate::QueueError;
use redis::Script;
use scanpro_core::JobId;

/// XADD the job id, then index it, atomically.
const DISPATCH: &str = r"
local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id";

/// Acknowledge and delete a message, and drop its index entry if it still points at it. With a
/// consumer given, only if that consumer still owns it (another worker may have taken it over).
const ACK: &str = r"
if ARGV[3] ~= '' then
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
  if pending[1] and pending[1][2] ~= ARGV[3] then return 0 end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[4]) end
return 1";

/// The scripts, loaded once per queue.
pub(super) struct Scripts {
    dispatch: Script,
    ack: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self { dispatch: Script::new(DISPATCH), ack: Script::new(ACK) }
    }
}

impl RedisQueue {
    /// XADD + index.
    pub(super) async fn send(&self, id: JobId, class: &str) -> Result<(), QueueError> {
        let mut conn = self.commands.clone();
        let _: String = self
            .scripts
            .dispatch
            .key(self.stream_key(class))
            .key(self.index_key(class))
            .arg(id.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(QueueError::Redis)?;
        Ok(())
    }

    /// Acknowledges and deletes a message. Failure is only logged: an unacknowledged message
    /// comes back after a lease and is then dropped by its row's state.
    pub(super) async fn ack_message(&self, class: &str, message: &str, job: Option<JobId>, consumer: Option<&str>) {
        let mut conn = self.commands.clone();
        let done: Result<i64, _> = self
            .scripts
            .ack
            .key(self.stream_key(class))
            .key(self.index_key(class))
            .arg(GROUP)
            .arg(message)
            .arg(consumer.unwrap_or(""))
            .arg(job.map(|j| j.to_string()).unwrap_or_default())
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = done {
            if is_nogroup(&e) {
                self.forget_group(class);
            } else {
                tracing::warn!(message, error = %e, "could not acknowledge a queue message");
            }
        }
    }
}
