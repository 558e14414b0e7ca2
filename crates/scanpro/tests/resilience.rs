//! Crashes, restarts, timeouts, hostile files and expiry, against real `scanpro serve` processes.

mod common;

use common::*;
use scanpro_testkit::checkers::{page_count, qpdf_check, run};
use scanpro_testkit::corpus::corpus;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A job that takes a while: merging many copies of a 1,321-page manual.
async fn slow_job(client: &Client, copies: usize) -> String {
    let big = client.upload(&corpus("pdf-text/pgfmanual.pdf")).await;
    let inputs: Vec<Value> = (0..copies).map(|_| big["id"].clone()).collect();
    let job: Value =
        client.create_job(json!({"inputs": inputs, "steps": [{"tool": "merge"}]})).await.json().await.unwrap();
    job["id"].as_str().unwrap().to_owned()
}

async fn wait_until_running(client: &Client, id: &str) {
    let started = Instant::now();
    loop {
        let (_, job) = client.get_json(&format!("/api/v1/jobs/{id}")).await;
        if job["status"] == "running" {
            return;
        }
        assert_eq!(job["status"], "queued", "{job}");
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_job_running_when_the_server_is_killed_completes_once_after_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = Server::start_in(&data, &[("SCANPRO_WORKERS", "1")]);
    let client = server.client();
    let id = slow_job(&client, 8).await;
    wait_until_running(&client, &id).await;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.child.id() as i32), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    server.kill();

    let restarted = Server::start_in(&data, &[("SCANPRO_WORKERS", "1")]);
    // Same cookie jar, new address.
    let client = Client { http: client.http.clone(), base: restarted.base.clone() };
    let job = client.wait_job(&id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 2, "ran again after the crash: {job}");
    assert_eq!(job["outputs"].as_array().unwrap().len(), 1, "exactly one set of outputs: {job}");
    let merged = temp.path().join("merged.pdf");
    client.download(job["outputs"][0]["url"].as_str().unwrap(), &merged).await;
    assert_eq!(page_count(&merged), 8 * 1321);
}

#[tokio::test]
async fn a_crashing_step_fails_its_job_and_the_server_lives_on() {
    // Too little memory for the tool: the step process dies; only its job fails.
    let server = Server::start(&[("SCANPRO_STEP_MEMORY_MB", "150")]);
    let client = server.client();
    let id = slow_job(&client, 6).await;
    let job = client.wait_job(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(matches!(job["error"]["code"].as_str(), Some("internal_error" | "resource_limit")), "{job}");
    assert_eq!(client.get_json("/healthz").await.0, 200);
    let small = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job: Value =
        client.create_job(json!({"inputs": [small["id"]], "steps": [{"tool": "info"}]})).await.json().await.unwrap();
    assert_eq!(client.wait_job(job["id"].as_str().unwrap()).await["status"], "succeeded");
}

#[tokio::test]
async fn a_step_past_its_deadline_is_stopped() {
    let server = Server::start(&[("SCANPRO_STEP_TIMEOUT_SECS", "1")]);
    let client = server.client();
    let id = slow_job(&client, 30).await;
    let job = client.wait_job(&id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "step_timeout", "{job}");
}

#[tokio::test]
async fn sigterm_drains_the_running_job() {
    let server = Server::start(&[("SCANPRO_WORKERS", "1"), ("SCANPRO_DRAIN_SECS", "60")]);
    let client = server.client();
    let id = slow_job(&client, 4).await;
    wait_until_running(&client, &id).await;
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "clean exit after draining: {status}");
    // The job finished before the process left.
    let restarted = Server::start_in(&server.data_dir, &[("SCANPRO_WORKERS", "0")]);
    let client = Client { http: client.http.clone(), base: restarted.base.clone() };
    let (_, job) = client.get_json(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 1);
}

#[tokio::test]
async fn expired_files_are_swept() {
    let server = Server::start(&[("SCANPRO_RETENTION_MINUTES", "0"), ("SCANPRO_SWEEP_INTERVAL_SECS", "1")]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let path = format!("/api/v1/files/{}", file["id"].as_str().unwrap());
    let started = Instant::now();
    while client.get_json(&path).await.0 != 404 {
        assert!(started.elapsed() < Duration::from_secs(20), "file never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let blobs = std::fs::read_dir(server.data_dir.join("blobs/files")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(blobs, 0, "the bytes went with the row");
}

/// Every file of the broken corpus is processed or refused with a typed error; none crashes the
/// server, answers 500 or hangs.
#[tokio::test]
async fn broken_pdf_corpus_gets_results_or_typed_errors() {
    let server = Server::start(&[("SCANPRO_STEP_TIMEOUT_SECS", "60")]);
    let client = server.client();
    let dir = corpus("pdf-broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 40, "the broken corpus has 40 files");
    let mut outcomes = Vec::new();
    for path in &files {
        let response = client.one_shot("rotate", &[path], json!({"angle": 90})).await;
        let status = response.status().as_u16();
        let code = if status == 200 {
            let out = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(out.path(), response.bytes().await.unwrap()).unwrap();
            qpdf_check(out.path());
            "ok".to_owned()
        } else {
            let problem: Value = response.json().await.unwrap();
            problem["code"].as_str().unwrap().to_owned()
        };
        assert!(
            ["ok", "invalid_pdf", "encrypted_input", "unsupported_format", "resource_limit", "step_timeout"]
                .contains(&code.as_str()),
            "{}: {status} {code}",
            path.display()
        );
        outcomes.push(code);
    }
    assert_eq!(client.get_json("/healthz").await.0, 200);
    let ok = outcomes.iter().filter(|c| *c == "ok").count();
    eprintln!("broken corpus: {ok} processed, {} refused with typed errors", files.len() - ok);
}

#[tokio::test]
async fn cancel_stops_a_running_job() {
    let server = Server::start(&[("SCANPRO_WORKERS", "1")]);
    let client = server.client();
    let id = slow_job(&client, 12).await;
    wait_until_running(&client, &id).await;
    let cancelled = client.http.post(client.url(&format!("/api/v1/jobs/{id}/cancel"))).send().await.unwrap();
    assert_eq!(cancelled.status(), 202);
    let asked = Instant::now();
    let job = client.wait_job(&id).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(asked.elapsed() < Duration::from_secs(5), "cancel took {:?}", asked.elapsed());
    assert_eq!(job["error"]["code"], "cancelled");
    assert!(job["outputs"].as_array().unwrap().is_empty());
    // The step's process was killed with it: the server is soon left with no child.
    let started = Instant::now();
    loop {
        let children =
            std::process::Command::new("pgrep").args(["-P", &server.child.id().to_string()]).output().unwrap();
        if children.stdout.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "step process survived: {}",
            String::from_utf8_lossy(&children.stdout)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_decompression_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.pdf");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_bomb_pdf.py");
    let made = run("python3", [script.to_str().unwrap(), bomb.to_str().unwrap(), "300"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 * 1024 * 1024, "the bomb is small on disk");
    let server = Server::start(&[]);
    let client = server.client();
    let response = client.one_shot("rotate", &[&bomb], json!({"angle": 90})).await;
    let status = response.status().as_u16();
    let problem: Value = response.json().await.unwrap();
    assert_eq!((status, problem["code"].as_str().unwrap()), (422, "resource_limit"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("page 1"), "{problem}");
    assert_eq!(client.get_json("/healthz").await.0, 200);
}

/// Regular files under `dir` (recursively) as (path, size, hard links), the database left out.
/// Files that vanish while it looks (the server is at work) are left out too.
fn files_on_disk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_dir() {
            found.extend(files_on_disk(&entry.path()));
        } else if metadata.is_file() && !entry.file_name().to_string_lossy().starts_with("scanpro.db") {
            found.push((entry.path(), metadata.len(), metadata.nlink()));
        }
    }
    found
}

/// A cancelled job's attempt held hard links to its inputs in its work dir: once the job is
/// cancelled and the upload deleted, no link or copy of the upload's bytes is left on disk.
#[tokio::test]
async fn a_cancelled_job_keeps_no_link_to_its_deleted_input() {
    let server = Server::start(&[("SCANPRO_WORKERS", "1")]);
    let client = server.client();
    let manual = corpus("pdf-text/pgfmanual.pdf");
    let size = std::fs::metadata(&manual).unwrap().len();
    let big = client.upload(&manual).await;
    let inputs: Vec<Value> = (0..12).map(|_| big["id"].clone()).collect();
    let job: Value =
        client.create_job(json!({"inputs": inputs, "steps": [{"tool": "merge"}]})).await.json().await.unwrap();
    let id = job["id"].as_str().unwrap();
    wait_until_running(&client, id).await;
    // The attempt fetches its inputs just after it starts.
    let started = Instant::now();
    while !files_on_disk(&server.data_dir).iter().any(|(_, len, links)| *len == size && *links > 1) {
        assert!(started.elapsed() < Duration::from_secs(30), "the running attempt never linked its input");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = client.http.post(client.url(&format!("/api/v1/jobs/{id}/cancel"))).send().await.unwrap();
    assert_eq!(cancelled.status(), 202);
    assert_eq!(client.wait_job(id).await["status"], "cancelled");

    let left = files_on_disk(&server.data_dir).into_iter().filter(|(_, len, _)| *len == size).collect::<Vec<_>>();
    assert!(matches!(left.as_slice(), [(_, _, 1)]), "only the upload's own blob, unlinked elsewhere: {left:?}");
    let deleted = client.http.delete(client.url(&format!("/api/v1/files/{}", big["id"].as_str().unwrap()))).send();
    assert_eq!(deleted.await.unwrap().status(), 204);
    let left: u64 = files_on_disk(&server.data_dir).iter().map(|(_, len, _)| len).sum();
    assert!(left < size, "{left} bytes left in the data dir after deleting a {size}-byte upload");
}

/// Backdates a file's modification time by two hours.
fn age_by_two_hours(path: &std::path::Path) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200)).unwrap();
}

/// A worker killed between storing an output and committing it leaves a blob no row names: the
/// sweep deletes it once it is older than the grace period, and leaves referenced and young
/// blobs alone.
#[tokio::test]
async fn the_sweep_deletes_blobs_no_file_refers_to() {
    let server = Server::start(&[("SCANPRO_SWEEP_INTERVAL_SECS", "1"), ("SCANPRO_WORKERS", "0")]);
    let client = server.client();
    let kept = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let blobs = server.data_dir.join("blobs/files");
    let kept_blob = blobs.join(kept["id"].as_str().unwrap());
    let (orphan, young) =
        (blobs.join(scanpro_core::FileId::new().to_string()), blobs.join(scanpro_core::FileId::new().to_string()));
    for blob in [&orphan, &young] {
        std::fs::copy(&kept_blob, blob).unwrap();
    }
    age_by_two_hours(&orphan);
    age_by_two_hours(&kept_blob);
    let started = Instant::now();
    while orphan.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "the orphan blob was never swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(young.exists(), "a blob younger than the grace period may await its commit");
    let out = tempfile::NamedTempFile::new().unwrap();
    client.download(&format!("/api/v1/files/{}/content", kept["id"].as_str().unwrap()), out.path()).await;
    qpdf_check(out.path());
}

/// An image that declares a huge size over a few hundred kilobytes of Flate is refused before
/// it is decoded, and so is every such page of the broken corpus: a typed error, no crash.
#[tokio::test]
async fn an_image_decompression_bomb_is_refused_when_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("image-bomb.pdf");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_image_bomb_pdf.py");
    let made = run("python3", [script.to_str().unwrap(), bomb.to_str().unwrap(), "40000", "40000"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1024 * 1024, "the bomb is small on disk");
    let server = Server::start(&[]);
    let client = server.client();
    for (file, tool_name, params) in [
        (bomb.clone(), "pdf_to_image", json!({"format": "png", "dpi": 72})),
        (corpus("pdf-broken/ocrmypdf_hugemono.pdf"), "pdf_to_image", json!({"format": "jpg", "dpi": 10})),
    ] {
        let response = client.one_shot(tool_name, &[&file], params).await;
        let status = response.status().as_u16();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            (status, problem["code"].as_str().unwrap()),
            (422, "resource_limit"),
            "{}: {problem}",
            file.display()
        );
        assert!(problem["detail"].as_str().unwrap().contains("page 1"), "{problem}");
    }
    assert_eq!(client.get_json("/healthz").await.0, 200);
}
