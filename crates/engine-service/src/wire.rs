//! The wire format of an engine step.
//!
//! `POST {base}/v1/steps/{tool}` takes a multipart form: a `params` field (JSON) and one `file`
//! field per input, in order. A service whose queue is full answers `429` with `Retry-After`
//! before reading the documents; other refusals are `application/problem+json` with a `code`.
//! Otherwise it answers `200` with a stream of JSON lines ([`ServiceEvent`]): progress and
//! keep-alive lines while the engine works, then `done` followed by the output files' bytes back
//! to back (their sizes are in the `done` line), or `failed`. Streaming keeps the answer
//! stateless and lets each side notice when the other goes away: the worker's cancel closes the
//! connection, the service's next keep-alive write fails, and it kills the engine.

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use scanpro_core::ToolError;
use scanpro_process::progress::PageProgress;
use scanpro_tools::StepResult;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The route of a step of `tool`.
pub fn step_path(tool: &str) -> String {
    format!("/v1/steps/{tool}")
}

/// The header naming the job a step belongs to, so a job's id follows it into the service's logs.
pub const JOB_HEADER: &str = "x-scanpro-job-id";

/// How often a service writes a keep-alive line while its engine works.
pub const KEEP_ALIVE: Duration = Duration::from_secs(2);

/// Longest JSON line a reader accepts (a `done` line carries the report).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// One line of a service's answer.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceEvent {
    Progress(PageProgress),
    Working,
    /// The outputs follow this line, in the order of `result.outputs`, `sizes[i]` bytes each.
    /// Output paths name files on the service; only their file names mean anything here.
    Done {
        result: StepResult,
        sizes: Vec<u64>,
    },
    Failed(ToolError),
}

impl ServiceEvent {
    /// The event as one line.
    pub fn line(&self) -> Bytes {
        let mut bytes = serde_json::to_vec(self).unwrap_or_else(|_| b"\"working\"".to_vec());
        bytes.push(b'\n');
        Bytes::from(bytes)
    }
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the answer ended early")]
    Closed,
    #[error("the answer has a line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("the answer has an unreadable line: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the connection failed: {0}")]
    Transport(String),
    #[error("an output could not be written: {0}")]
    Write(#[from] std::io::Error),
}

/// Reads an answer: its event lines, and the output bytes after `done`.
pub struct EventReader<S> {
    body: S,
    buffer: BytesMut,
}

impl<S, E> EventReader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    pub fn new(body: S) -> Self {
        Self { body, buffer: BytesMut::new() }
    }

    /// The next event line.
    pub async fn next_event(&mut self) -> Result<ServiceEvent, WireError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line = self.buffer.split_to(end + 1);
                return Ok(serde_json::from_slice(&line)?);
            }
            if self.buffer.len() > MAX_LINE {
                return Err(WireError::LineTooLong);
            }
            self.fill().await?;
        }
    }

    /// Copies the next `size` bytes of the answer into `sink`.
    pub async fn copy_to(&mut self, size: u64, sink: &mut (impl AsyncWrite + Unpin)) -> Result<(), WireError> {
        let mut left = size;
        while left > 0 {
            if self.buffer.is_empty() {
                self.fill().await?;
            }
            let take = self.buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            sink.write_all(&self.buffer[..take]).await?;
            self.buffer.advance(take);
            left -= take as u64;
        }
        Ok(sink.flush().await?)
    }

    async fn fill(&mut self) -> Result<(), WireError> {
        match self.body.next().await {
            Some(Ok(chunk)) => {
                self.buffer.extend_from_slice(&chunk);
                Ok(())
            }
            Some(Err(e)) => Err(WireError::Transport(e.to_string())),
            None => Err(WireError::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanpro_core::ErrorCode;
    use scanpro_tools::Output;

    fn chunks(bytes: &[u8], size: usize) -> impl Stream<Item = Result<Bytes, String>> + Unpin + use<> {
        let pieces: Vec<_> = bytes.chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        futures::stream::iter(pieces)
    }

    fn done(sizes: Vec<u64>) -> ServiceEvent {
        let outputs = sizes
            .iter()
            .enumerate()
            .map(|(i, _)| Output {
                path: format!("out-{i}.pdf").into(),
                filename: format!("out-{i}.pdf"),
                content_type: "application/pdf".into(),
            })
            .collect();
        ServiceEvent::Done { result: StepResult { outputs, report: Some(serde_json::json!({"pages": 2})) }, sizes }
    }

    #[tokio::test]
    async fn events_and_outputs_read_back_whatever_the_chunking() {
        let mut answer = Vec::new();
        let progress = ServiceEvent::Progress(PageProgress { done: 1, total: 2 });
        answer.extend_from_slice(&progress.line());
        answer.extend_from_slice(&ServiceEvent::Working.line());
        answer.extend_from_slice(&done(vec![6, 0, 3]).line());
        answer.extend_from_slice(b"first\nabc");
        for size in [1, 2, 7, 4096] {
            let mut reader = EventReader::new(chunks(&answer, size));
            assert_eq!(reader.next_event().await.unwrap(), progress);
            assert_eq!(reader.next_event().await.unwrap(), ServiceEvent::Working);
            assert_eq!(reader.next_event().await.unwrap(), done(vec![6, 0, 3]));
            let mut files = Vec::new();
            for length in [6, 0, 3] {
                let mut file = Vec::new();
                reader.copy_to(length, &mut file).await.unwrap();
                files.push(file);
            }
            assert_eq!(files, [b"first\n".to_vec(), vec![], b"abc".to_vec()], "chunks of {size}");
        }
    }

    #[tokio::test]
    async fn failures_keep_their_code() {
        let failed = ServiceEvent::Failed(ToolError::new(ErrorCode::WrongPassword, "the password does not open it"));
        let mut reader = EventReader::new(chunks(&failed.line(), 3));
        assert_eq!(reader.next_event().await.unwrap(), failed);
    }

    #[tokio::test]
    async fn a_cut_answer_and_an_endless_line_are_errors() {
        let line = done(vec![10]).line();
        let mut reader = EventReader::new(chunks(&line[..line.len() - 1], 64));
        assert!(matches!(reader.next_event().await, Err(WireError::Closed)));

        let mut reader = EventReader::new(chunks(&[line.to_vec(), b"short".to_vec()].concat(), 64));
        reader.next_event().await.unwrap();
        assert!(matches!(reader.copy_to(10, &mut Vec::new()).await, Err(WireError::Closed)));

        let endless = vec![b'x'; MAX_LINE + 2];
        let mut reader = EventReader::new(chunks(&endless, 64 * 1024));
        assert!(matches!(reader.next_event().await, Err(WireError::LineTooLong)));
    }

    #[tokio::test]
    async fn garbage_is_unreadable() {
        let mut reader = EventReader::new(chunks(b"{not json}\n", 4));
        assert!(matches!(reader.next_event().await, Err(WireError::Unreadable(_))));
    }
}
