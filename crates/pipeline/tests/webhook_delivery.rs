//! Webhook deliveries against a name whose answers change between the check at job creation
//! and the delivery (DNS rebinding): each attempt resolves once, checks every address, and
//! connects only to what it checked. A scripted resolver plays the name server; the receiver is
//! a real HTTP listener on loopback.

use scanpro_pipeline::webhook::{Delivery, DeliveryError, Resolve, Target};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers each lookup with the next scripted address (the last one repeats), and records the
/// names asked for.
struct Scripted {
    answers: Mutex<Vec<SocketAddr>>,
    asked: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(answers: &[&str]) -> Self {
        let answers = answers.iter().rev().map(|a| a.parse().unwrap()).collect();
        Self { answers: Mutex::new(answers), asked: Mutex::new(Vec::new()) }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Resolve for Scripted {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.asked.lock().unwrap().push(host.to_owned());
        let mut answers = self.answers.lock().unwrap();
        let next = if answers.len() > 1 { answers.pop().unwrap() } else { answers[0] };
        Box::pin(async move { Ok(vec![SocketAddr::new(next.ip(), port)]) })
    }
}

fn delivery<'a>(target: &'a Target, allow_private: bool) -> Delivery<'a> {
    Delivery {
        target,
        id: "msg_test".into(),
        body: br#"{"event":"job.finished"}"#.to_vec(),
        key: b"0123456789abcdef0123456789abcdef",
        allow_private,
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_name_rebound_to_an_internal_address_after_the_check_is_not_contacted() {
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = receiver.local_addr().unwrap().port();
    // First answer public (as the job is created), then loopback, where the receiver waits.
    let resolver = Scripted::new(&["93.184.215.14:0", &format!("127.0.0.1:{port}")]);
    let target = Target::parse(&format!("http://hooks.rebind.test:{port}/hook"), false).unwrap();
    let at_creation = target.checked_addresses(&resolver, false).await.unwrap();
    assert_eq!(at_creation, vec![format!("93.184.215.14:{port}").parse().unwrap()]);

    let attempt = delivery(&target, false).attempt(&resolver).await;
    match attempt {
        Err(DeliveryError::Refused(why)) => assert!(why.contains("resolves to 127.0.0.1"), "{why}"),
        other => panic!("delivered to a rebound name: {other:?}"),
    }
    assert_eq!(resolver.asked(), ["hooks.rebind.test", "hooks.rebind.test"], "one lookup per check");
    // A connection would be queued on the (non-blocking) listener by now: none is.
    let pending = receiver.into_std().unwrap().accept();
    assert_eq!(pending.map(|_| ()).unwrap_err().kind(), std::io::ErrorKind::WouldBlock, "the receiver was contacted");
}

#[tokio::test]
async fn an_attempt_connects_to_the_address_it_checked_without_asking_again() {
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = receiver.local_addr().unwrap().port();
    let received = tokio::spawn(async move {
        let (mut socket, _) = receiver.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&request).contains(r#"{"event":"job.finished"}"#) {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    // The checked answer is the receiver; any later lookup would get an address where nothing
    // listens. `.test` names never resolve through the system (RFC 6761): a delivery that
    // arrives went to the address this attempt checked.
    let resolver = Scripted::new(&[&format!("127.0.0.1:{port}"), "127.0.0.2:9"]);
    let target = Target::parse(&format!("http://hooks.pinned.test:{port}/hook"), true).unwrap();
    delivery(&target, true).attempt(&resolver).await.unwrap();
    let request = received.await.unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
    let lower = request.to_ascii_lowercase();
    assert!(lower.contains(&format!("host: hooks.pinned.test:{port}")), "{request}");
    assert!(lower.contains("webhook-id: msg_test") && lower.contains("webhook-signature: v1,"), "{request}");
    assert_eq!(resolver.asked(), ["hooks.pinned.test"], "one lookup for the attempt");
}
