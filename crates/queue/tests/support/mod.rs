//! Real services for queue tests: Redis and PostgreSQL, never mocks.
//!
//! Redis: `SCANPRO_TEST_REDIS_URL` when set, else a private `redis-server` on a free loopback
//! port, killed with its handle; tests that stop or flush Redis always start their own. Each
//! test uses its own key prefix. PostgreSQL: `SCANPRO_TEST_POSTGRES_URL` (default: the local
//! server); each test gets its own database. Anything missing fails the test loudly.

#![allow(dead_code)]

use scanpro_store::Meta;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis to test against: a shared one from the environment, or a private server.
pub struct TestRedis {
    pub url: String,
    server: Option<RedisServer>,
}

impl TestRedis {
    /// `SCANPRO_TEST_REDIS_URL`, else a private server.
    pub fn shared_or_private() -> Self {
        match std::env::var("SCANPRO_TEST_REDIS_URL") {
            Ok(url) if !url.is_empty() => Self { url, server: None },
            _ => Self::private(),
        }
    }

    /// Always a private server: for tests that flush or restart it.
    pub fn private() -> Self {
        let server = RedisServer::start();
        Self { url: server.url(), server: Some(server) }
    }

    pub fn server(&mut self) -> &mut RedisServer {
        self.server.as_mut().expect("a private Redis")
    }
}

/// A `redis-server` child on 127.0.0.1 and a port of its own; killed on drop.
pub struct RedisServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self { port, dir, child: None };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server and starts it again on the same port with the data it had written
    /// (an append-only file synced at every write).
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server is required for these tests (scripts/install-deps --test), or set SCANPRO_TEST_REDIS_URL: {e}")
            });
        self.child = Some(child);
        let started = Instant::now();
        while !self.answers() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server on port {} did not start", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server and starts it again with no data at all.
    pub fn restart_losing_data(&mut self) {
        self.stop();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { std::fs::remove_dir_all(path).unwrap() } else { std::fs::remove_file(path).unwrap() }
        }
        self.restart();
    }

    /// Kills the server at once (SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("scanpro-test-{}", uuid::Uuid::new_v4().simple())
}

/// A fresh PostgreSQL database; its URL is returned with the migrated handle.
pub async fn postgres_database() -> (Meta, String) {
    let url = empty_postgres_database().await;
    let meta = Meta::connect(&url).await.unwrap();
    meta.migrate().await.unwrap();
    (meta, url)
}

#[path = "../../../store/tests/support/postgres.rs"]
mod postgres;
pub use postgres::empty_postgres_database;

/// The shared corpus (`SCANPRO_CORPUS`, default `../shared/corpus` beside the checkout).
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("SCANPRO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}
