//! A fresh PostgreSQL database per test, on the server of `SCANPRO_TEST_POSTGRES_URL` (default
//! the local one). An unreachable server fails the test.

use sqlx::Executor;

/// The URL of a fresh, empty database. Databases that ended test processes left behind are
/// dropped first; those of processes still running (this one, a parallel run) are theirs.
pub async fn empty_postgres_database() -> String {
    let admin_url = std::env::var("SCANPRO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required (set SCANPRO_TEST_POSTGRES_URL): {e}"));
    let mine = format!("scanpro_test_{}_", std::process::id());
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname LIKE 'scanpro\\_test\\_%'")
            .fetch_all(&admin)
            .await
            .unwrap();
    for (old,) in stale.into_iter().filter(|(name,)| owner_ended(name)) {
        let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {old}"))).await;
    }
    let name = format!("{mine}{}", uuid::Uuid::new_v4().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    admin.close().await;
    let base = admin_url.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Whether the test process named in a `scanpro_test_{pid}_…` database has ended.
fn owner_ended(database: &str) -> bool {
    let pid = database.trim_start_matches("scanpro_test_").split('_').next().unwrap_or_default();
    pid.parse::<u32>().is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}
