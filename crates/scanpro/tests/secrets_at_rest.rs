//! Passwords given to jobs (`protect`, `unlock`, `pdf_to_image`) against someone who later reads
//! the data directory: the SQLite database and its `-wal` / `-shm` files, the blobs, the scratch
//! space, and the server's log at debug level. None holds a password, nor the sealed form of
//! one once the jobs ended, and the idempotency hash cannot be matched by hashing guesses.

mod common;

use common::*;
use scanpro_core::job::{JobSpec, StepSpec};
use scanpro_testkit::checkers::{qpdf_show_encryption, run};
use scanpro_testkit::corpus::corpus;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USER_PASSWORD: &str = "sunshine-2026";
const OWNER_PASSWORD: &str = "dragon-owner-77";

#[tokio::test]
async fn passwords_never_rest_readable_and_the_request_hash_resists_guesses() {
    let temp = tempfile::tempdir().unwrap();
    let log = temp.path().join("server.log");
    let server = Server::start_logging_to(&log, &[("SCANPRO_LOG_LEVEL", "debug"), ("RUST_LOG", "debug")]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;

    // protect, with an Idempotency-Key.
    let protect = json!({"inputs": [file["id"]], "steps": [{"tool": "protect", "params": {
        "user_password": USER_PASSWORD, "owner_password": OWNER_PASSWORD, "permissions": {"print": false}}}]});
    let response = client
        .http
        .post(client.url("/api/v1/jobs"))
        .header("idempotency-key", "k1")
        .json(&protect)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["steps"][0]["tool"], "protect");
    assert!(!first.to_string().contains(USER_PASSWORD), "the API shows no password: {first}");
    let protected_job = client.wait_job(first["id"].as_str().unwrap()).await;
    assert_eq!(protected_job["status"], "succeeded", "{protected_job}");
    // The job shows the settings it ran with (a page resumed after a reload fills its form from
    // them), the passwords masked.
    assert_eq!(
        protected_job["steps"][0]["params"],
        json!({"user_password": "***", "owner_password": "***", "permissions": {"print": false}}),
        "{protected_job}"
    );

    // The same key and body replay the job; another password under the same key is a conflict.
    let replay = client
        .http
        .post(client.url("/api/v1/jobs"))
        .header("idempotency-key", "k1")
        .json(&protect)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 202);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut other = protect.clone();
    other["steps"][0]["params"]["user_password"] = json!("another-password");
    let misuse =
        client.http.post(client.url("/api/v1/jobs")).header("idempotency-key", "k1").json(&other).send().await.unwrap();
    assert_eq!(misuse.status(), 409);

    // The sealed passwords reach the steps: unlock and render the protected output with them.
    let output = &protected_job["outputs"][0];
    let dir = tempfile::tempdir().unwrap();
    let protected = dir.path().join("protected.pdf");
    client.download(output["url"].as_str().unwrap(), &protected).await;
    let encryption = qpdf_show_encryption(&protected, Some(USER_PASSWORD));
    assert!(encryption.contains("AESv3"), "{encryption}");
    let unlock: Value = client
        .create_job(
            json!({"inputs": [output["id"]], "steps": [{"tool": "unlock", "params": {"password": OWNER_PASSWORD}}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let render: Value = client
        .create_job(json!({"inputs": [output["id"]], "steps": [{"tool": "pdf_to_image", "params": {"password": USER_PASSWORD, "dpi": 30, "pages": "1"}}]}))
        .await
        .json()
        .await
        .unwrap();
    let unlocked_job = client.wait_job(unlock["id"].as_str().unwrap()).await;
    assert_eq!(unlocked_job["status"], "succeeded", "{unlocked_job}");
    assert_eq!(client.wait_job(render["id"].as_str().unwrap()).await["status"], "succeeded");
    let unlocked = dir.path().join("unlocked.pdf");
    client.download(unlocked_job["outputs"][0]["url"].as_str().unwrap(), &unlocked).await;
    let requires = run("qpdf", ["--requires-password", unlocked.to_str().unwrap()]);
    assert_eq!(requires.status.code(), Some(2), "unlocked output is not encrypted");

    // Every job ended: the write-ahead log is checkpointed and emptied.
    let db = server.data_dir.join("scanpro.db");
    let wal = server.data_dir.join("scanpro.db-wal");
    let started = Instant::now();
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the WAL was never checkpointed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Nothing durable holds a password, or a sealed value.
    let files = files_under(&server.data_dir);
    assert!(
        files.iter().any(|f| f.ends_with("scanpro.db"))
            && files.iter().any(|f| f.starts_with(server.data_dir.join("blobs")))
    );
    for path in files.iter().chain([&log]) {
        let bytes = std::fs::read(path).unwrap();
        for password in [USER_PASSWORD, OWNER_PASSWORD] {
            assert!(find(&bytes, password.as_bytes()).is_none(), "{password} found in {}", path.display());
        }
        assert_eq!(sealed_value(&bytes), None, "a sealed value lingers in {}", path.display());
    }
    assert!(std::fs::metadata(&log).unwrap().len() > 0, "the debug log was written");
    let stored = sqlite(&db, "SELECT COUNT(*) FROM jobs WHERE secrets IS NOT NULL");
    assert_eq!(stored.trim(), "0", "sealed secrets erased once the jobs ended");
    let spec = sqlite(&db, &format!("SELECT spec FROM jobs WHERE id = '{}'", first["id"].as_str().unwrap()));
    assert!(spec.contains(r#""owner_password":"***""#), "{spec}");

    // The idempotency hash: an unsalted hash of the request (the way it was once made, or the
    // body as sent) does not match, not even for the right guess in a dictionary.
    let request_hash = sqlite(&db, "SELECT request_hash FROM jobs WHERE idempotency_key = 'k1'");
    let request_hash = request_hash.trim();
    assert_eq!(request_hash.len(), 64, "{request_hash}");
    let dictionary = ["123456", "password", "qwerty", USER_PASSWORD, "letmein", OWNER_PASSWORD, "dragon"];
    for user in dictionary {
        for owner in dictionary {
            let mut guess = protect.clone();
            guess["steps"][0]["params"]["user_password"] = json!(user);
            guess["steps"][0]["params"]["owner_password"] = json!(owner);
            let spec = JobSpec {
                inputs: vec![file["id"].as_str().unwrap().parse().unwrap()],
                steps: vec![StepSpec { tool: "protect".into(), params: guess["steps"][0]["params"].clone() }],
                webhook_url: None,
                tag: None,
            };
            for candidate in [serde_json::to_vec(&spec).unwrap(), serde_json::to_vec(&guess).unwrap()] {
                assert_ne!(sha256_hex(&candidate), request_hash, "guessed {user} / {owner}");
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// The first `v1.` followed by a long run of base64url, the form sealed values take.
fn sealed_value(bytes: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], b"v1.") {
        let start = from + at + 3;
        let run = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_').count();
        if run >= 40 {
            return Some(String::from_utf8_lossy(&bytes[from + at..start + run]).into_owned());
        }
        from = start;
    }
    None
}

fn sqlite(db: &Path, query: &str) -> String {
    let out = run("sqlite3", [db.to_str().unwrap(), query]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A job's view shows its settings (a reloaded page fills its form from them), never a
/// credential: request headers, cookie values and a URL's user and password are masked or cut.
#[tokio::test]
async fn job_views_show_settings_but_no_credentials() {
    let server = Server::start(&[]);
    let client = server.client();
    let page = client.upload(&corpus("html/pagedjs-page-size.html")).await;
    let job = json!({"inputs": [page["id"]], "steps": [{"tool": "html_to_pdf", "params": {
        "extra_headers": {"Authorization": "Bearer header-token-1"},
        "cookies": [{"name": "session", "value": "cookie-token-2", "domain": "example.com"}],
        "landscape": true}}]});
    let response = client.http.post(client.url("/api/v1/jobs")).json(&job).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let read: Value =
        client.http.get(client.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap().json().await.unwrap();
    for view in [&created, &read] {
        let shown = view.to_string();
        assert!(!shown.contains("header-token-1") && !shown.contains("cookie-token-2"), "{shown}");
        let params = &view["steps"][0]["params"];
        assert_eq!(params["landscape"], true, "{view}");
        assert_eq!(params["extra_headers"]["Authorization"], "***", "{view}");
        assert_eq!(params["cookies"][0]["value"], "***", "{view}");
        assert_eq!(params["cookies"][0]["name"], "session", "{view}");
    }
}
