//! Real services for queue tests: Redis and PostgreSQL, never mocks.
//!
//! Redis: `SCANPRO_TEST_REDIS_URL` when set, else a private `redis-server` on a free loopback
//! port, killed with its handle; tests that stop or flush Redis always start their own. Each
//! test uses its own key prefix. PostgreSQL: `SCANPRO_TEST_POSTGRES_URL` (default: the local
//! server); each test gets its own database. Anything missing fails the test loudly.

use scanpro_store::Meta;
use scanpro_testkit::postgres::empty_postgres_database;
use scanpro_testkit::redis::RedisServer;

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

/// A fresh PostgreSQL database; its URL is returned with the migrated handle.
pub async fn postgres_database() -> (Meta, String) {
    let url = empty_postgres_database().await;
    let meta = Meta::connect(&url).await.unwrap();
    meta.migrate().await.unwrap();
    (meta, url)
}
