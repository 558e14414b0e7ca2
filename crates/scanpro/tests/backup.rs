//! The restore drill: run jobs, back up while the server runs, wipe the database and the blobs,
//! restore, and find every account, job and file again, every download byte-identical. On
//! SQLite and on PostgreSQL.

mod common;

use common::Server;
use scanpro_testkit::corpus::corpus;
use scanpro_testkit::postgres::empty_postgres_database;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const PASSWORD: &str = "correct horse battery staple";

fn scanpro(args: &[&str], data_dir: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scanpro"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("SCANPRO_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "scanpro {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// What the drill expects to find again: the account's token, its files and job, and the bytes
/// of each download.
struct Before {
    files: Vec<(String, Vec<u8>)>,
    job: String,
}

async fn make_things(server: &Server) -> Before {
    let client = server.client();
    let post = |path: &str, body: Value| client.http.post(client.url(path)).json(&body).send();
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    assert_eq!(post("/api/v1/auth/register", credentials.clone()).await.unwrap().status(), 201);
    assert_eq!(post("/api/v1/auth/login", credentials).await.unwrap().status(), 200);
    let a = client.upload(&corpus("pdf-text/lroundrect.pdf")).await;
    let b = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job: Value = client
        .create_job(json!({"inputs": [a["id"], b["id"]], "steps": [{"tool": "merge"}]}))
        .await
        .json()
        .await
        .unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded");
    let mut files = Vec::new();
    for id in [&a["id"], &b["id"], &job["outputs"][0]["id"]] {
        let id = id.as_str().unwrap().to_owned();
        let bytes = client
            .http
            .get(client.url(&format!("/api/v1/files/{id}/content")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        files.push((id, bytes.to_vec()));
    }
    Before { files, job: job["id"].as_str().unwrap().to_owned() }
}

async fn find_them_again(server: &Server, before: &Before) {
    let client = server.client();
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let signed_in = client.http.post(client.url("/api/v1/auth/login")).json(&credentials).send().await.unwrap();
    assert_eq!(signed_in.status(), 200, "the account came back");
    let (status, job) = client.get_json(&format!("/api/v1/jobs/{}", before.job)).await;
    assert_eq!((status, job["status"].as_str()), (200, Some("succeeded")), "the job came back: {job}");
    for (id, bytes) in &before.files {
        let response = client.http.get(client.url(&format!("/api/v1/files/{id}/content"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "file {id}");
        assert!(response.bytes().await.unwrap() == bytes.as_slice(), "file {id} is byte-identical");
    }
}

async fn drill(env: &[(&str, &str)], wipe_database: impl AsyncFnOnce(&Path)) {
    let temp = tempfile::tempdir().unwrap();
    let (data, backups) = (temp.path().join("data"), temp.path().join("backups"));
    let backups_arg = backups.to_str().unwrap();
    let mut server = Server::start_in(&data, env);
    let before = make_things(&server).await;
    // Online: the server keeps running while it is backed up.
    let database_backup = scanpro(&["backup", "database", "--dest", backups_arg], &data, env);
    let files_backup = scanpro(&["backup", "files", "--dest", backups_arg], &data, env);
    // Each prints the backup's directory on its last line.
    for (said, kind) in [(&database_backup, "database-"), (&files_backup, "files-")] {
        let dir = Path::new(said.lines().last().unwrap());
        assert!(dir.starts_with(&backups) && dir.join("manifest.json").exists(), "{said}");
        assert!(dir.file_name().unwrap().to_string_lossy().starts_with(kind), "{said}");
    }
    server.kill();

    wipe_database(&data).await;
    std::fs::remove_dir_all(data.join("blobs")).unwrap();
    // One by its directory, one by the root (its newest).
    let database_dir = database_backup.lines().last().unwrap();
    let said = scanpro(&["restore", "database", "--from", database_dir], &data, env);
    assert!(said.contains("database restored"), "{said}");
    let said = scanpro(&["restore", "files", "--from", backups_arg], &data, env);
    assert!(said.contains("3 files restored"), "{said}");
    let server = Server::start_in(&data, env);
    find_them_again(&server, &before).await;

    // Retention: only the newest backups of each kind stay.
    for _ in 0..3 {
        scanpro(&["backup", "database", "--dest", backups_arg, "--keep", "2"], &data, env);
        scanpro(&["backup", "files", "--dest", backups_arg, "--keep", "1"], &data, env);
    }
    let kinds: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().split('-').next().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "database").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "files").count(), 1, "{kinds:?}");

    // A damaged archive is refused, not half restored.
    let files_dir = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("files-"))
        .unwrap()
        .path();
    let archive = files_dir.join("files.zip");
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scanpro"))
        .args(["restore", "files", "--from"])
        .arg(&files_dir)
        .arg("--data-dir")
        .arg(&data)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a damaged backup restored");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("damaged") || stderr.contains("CRC") || stderr.contains("checksum"), "{stderr}");
}

#[tokio::test]
async fn restore_drill_on_sqlite() {
    drill(&[], async |data: &Path| {
        for name in ["scanpro.db", "scanpro.db-wal", "scanpro.db-shm"] {
            let _ = std::fs::remove_file(data.join(name));
        }
    })
    .await;
}

#[tokio::test]
async fn restore_drill_on_postgres() {
    let url = empty_postgres_database().await;
    drill(&[("DATABASE_URL", url.as_str())], async |_: &Path| {
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("DROP SCHEMA public CASCADE").execute(&pool).await.unwrap();
        sqlx::query("CREATE SCHEMA public").execute(&pool).await.unwrap();
        pool.close().await;
    })
    .await;
}
