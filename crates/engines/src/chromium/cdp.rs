//! A DevTools protocol connection to one browser: JSON commands over its WebSocket, answers
//! matched by id, events routed to the session (page) they belong to.
//!
//! Messages are plain JSON: ScanPro sends a dozen commands, and a typed protocol generated for
//! one Chromium release would refuse the events of the next.
//!
//! Each session's events wait in a bounded queue. A page that floods it (a script logging in a
//! loop) loses its session, which ends its conversion, rather than growing memory or stalling the
//! answers every other command waits for.

use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Events one session may have waiting before it is dropped.
const SESSION_EVENTS: usize = 4096;
/// The largest message the browser may send (a full-page screenshot is one message).
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Why a command got no result.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CdpError {
    /// The browser answered with an error.
    #[error("{method}: {message}")]
    Protocol { method: String, message: String },
    /// The connection ended: the browser exited or crashed.
    #[error("the browser closed its DevTools connection")]
    Closed,
}

/// One event of a session.
#[derive(Debug)]
pub(crate) struct Event {
    pub method: String,
    pub params: Value,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Pending = HashMap<u64, oneshot::Sender<Result<Value, String>>>;

/// A connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Cdp {
    shared: Arc<Shared>,
}

struct Shared {
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    /// Callers waiting for answers; `None` once the connection ended.
    pending: Arc<Mutex<Option<Pending>>>,
    sessions: Arc<Mutex<HashMap<String, mpsc::Sender<Event>>>>,
    next_id: AtomicU64,
    reader: tokio::task::AbortHandle,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Cdp {
    pub async fn connect(url: &str) -> Result<Self, String> {
        let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE_BYTES)).max_frame_size(None);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        let (sink, mut stream) = socket.split();
        let pending = Arc::new(Mutex::new(Some(Pending::new())));
        let sessions = Arc::new(Mutex::new(HashMap::new()));
        let (pending_in, sessions_in) = (pending.clone(), sessions.clone());
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else { continue };
                let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
                route(&message, &pending_in, &sessions_in);
            }
            // Every caller still waiting learns the browser is gone; later calls fail at once.
            pending_in.lock().expect("pending lock").take();
            sessions_in.lock().expect("sessions lock").clear();
        });
        let shared = Shared {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            sessions,
            next_id: AtomicU64::new(1),
            reader: reader.abort_handle(),
        };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Sends `method` to the browser (`session` `None`) or to one page, and waits for its result.
    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, CdpError> {
        let id = self.shared.next_id.fetch_add(1, Relaxed);
        let (answer, answered) = oneshot::channel();
        match self.shared.pending.lock().expect("pending lock").as_mut() {
            Some(pending) => pending.insert(id, answer),
            None => return Err(CdpError::Closed),
        };
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let sent = self.shared.sink.lock().await.send(Message::text(message.to_string())).await;
        if sent.is_err() {
            return Err(CdpError::Closed);
        }
        match answered.await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(message)) => Err(CdpError::Protocol { method: method.to_owned(), message }),
            Err(_) => Err(CdpError::Closed),
        }
    }

    /// The events of `session` from now on. Dropping the receiver stops them.
    pub fn subscribe(&self, session: &str) -> mpsc::Receiver<Event> {
        let (sender, receiver) = mpsc::channel(SESSION_EVENTS);
        self.shared.sessions.lock().expect("sessions lock").insert(session.to_owned(), sender);
        receiver
    }

    /// Whether the browser still answers.
    pub fn is_open(&self) -> bool {
        self.shared.pending.lock().expect("pending lock").is_some()
    }
}

/// Hands an answer to its caller, or an event to its session.
fn route(message: &Value, pending: &Mutex<Option<Pending>>, sessions: &Mutex<HashMap<String, mpsc::Sender<Event>>>) {
    if let Some(id) = message.get("id").and_then(Value::as_u64) {
        let waiting = pending.lock().expect("pending lock").as_mut().and_then(|p| p.remove(&id));
        if let Some(waiting) = waiting {
            let result = match message.get("error") {
                Some(error) => Err(error.get("message").and_then(Value::as_str).unwrap_or("error").to_owned()),
                None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
            };
            let _ = waiting.send(result);
        }
        return;
    }
    let Some(method) = message.get("method").and_then(Value::as_str) else { return };
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    // Browser-level events about a session (its page crashed or went away) go to that session.
    let session =
        message.get("sessionId").or_else(|| params.get("sessionId")).and_then(Value::as_str).map(str::to_owned);
    let Some(session) = session else { return };
    let mut sessions = sessions.lock().expect("sessions lock");
    if let Some(sender) = sessions.get(&session) {
        let event = Event { method: method.to_owned(), params };
        if sender.try_send(event).is_err() {
            // Full (a flooding page) or nobody listening: the session's receiver sees the end.
            sessions.remove(&session);
        }
    }
}
