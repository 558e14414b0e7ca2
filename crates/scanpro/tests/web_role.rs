//! `scanpro web` serves the web app apart from the API and passes `/api/…` on to it.

mod common;

use common::Server;
use scanpro_testkit::checkers::{qpdf_check, rotations};
use scanpro_testkit::corpus::corpus;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct WebProcess {
    child: Child,
    base: String,
}

impl WebProcess {
    fn start(api_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scanpro"))
            .args(["web", "--listen", "127.0.0.1:0"])
            .env("SCANPRO_API_URL", api_url)
            .env("SCANPRO_LOG_LEVEL", "error")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start scanpro web");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("scanpro: web app listening on ").expect("listening line").to_owned();
        Self { child, base }
    }
}

impl Drop for WebProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_role_serves_the_app_and_passes_api_calls_on() {
    let api = Server::start(&[]);
    let web = WebProcess::start(&api.base);
    let mut client = api.client();
    client.base = web.base.clone();

    let page = client.http.get(client.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));

    // Upload, job and download through the web role, under the guest cookie the API set.
    let temp = tempfile::tempdir().unwrap();
    let response =
        client.one_shot("rotate", &[&corpus("pdf-text/ltnews17.pdf")], json!({"angle": 90, "pages": "1"})).await;
    assert_eq!(response.status(), 200);
    let pdf = temp.path().join("rotated.pdf");
    std::fs::write(&pdf, response.bytes().await.unwrap()).unwrap();
    qpdf_check(&pdf);
    assert_eq!(rotations(&pdf)[0], 90);
    let (status, jobs) = client.get_json("/api/v1/jobs").await;
    assert_eq!(status, 200);
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(1), "the guest's own job: {jobs}");

    drop(api);
    let (status, problem) = client.get_json("/api/v1/tools").await;
    assert_eq!(status, 503);
    assert_eq!(problem["code"], "unavailable");
}
