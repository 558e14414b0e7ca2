//! Black-box harness: a real `scanpro serve` (or engine service) on port 0 in a temp data dir, and
//! real HTTP. The corpus and the independent checkers come from `scanpro_testkit`.

#![allow(dead_code)]

pub mod hostile;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Per-client limits raised out of the way: tests make many guests, jobs and uploads quickly from
/// one address. Tests of a limit set it lower in their own `env`, which comes after.
pub const ROOMY_LIMITS: [(&str, &str); 6] = [
    // Many servers run at once: each takes a free metrics port.
    ("SCANPRO_METRICS_LISTEN", "127.0.0.1:0"),
    ("SCANPRO_RATE_LIMIT_PER_MINUTE", "0"),
    ("SCANPRO_ADDRESS_WRITES_PER_MINUTE", "0"),
    ("SCANPRO_NEW_GUESTS_PER_MINUTE", "0"),
    ("SCANPRO_MAX_ACTIVE_JOBS", "0"),
    ("SCANPRO_GUEST_STORAGE_MB", "0"),
];

/// A running `scanpro serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Where its Prometheus `/metrics` is served (`metrics_listen`).
    pub metrics_base: String,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start(env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let data_dir = temp.path().join("data");
        let mut server = Self::start_in(&data_dir, env);
        server._temp = Some(temp);
        server
    }

    /// Starts on an existing data dir (restart tests keep the dir alive themselves).
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with_stderr(data_dir, env, Stdio::inherit())
    }

    /// [`Server::start`] with the server's log (its standard error) written to `log`.
    pub fn start_logging_to(log: &Path, env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let stderr = Stdio::from(std::fs::File::create(log).unwrap());
        let mut server = Self::start_with_stderr(&temp.path().join("data"), env, stderr);
        server._temp = Some(temp);
        server
    }

    /// [`Server::start`] on a port chosen beforehand (for settings that name the server's address).
    pub fn start_on(port: u16, env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{port}");
        let mut server = Self::start_listening(&listen, &temp.path().join("data"), env, Stdio::inherit());
        server._temp = Some(temp);
        server
    }

    fn start_with_stderr(data_dir: &Path, env: &[(&str, &str)], stderr: Stdio) -> Self {
        Self::start_listening("127.0.0.1:0", data_dir, env, stderr)
    }

    fn start_listening(listen: &str, data_dir: &Path, env: &[(&str, &str)], stderr: Stdio) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env("SCANPRO_LOG_LEVEL", "warn")
            .envs(ROOMY_LIMITS)
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start scanpro serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut announced = |prefix: &str| {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            line.trim().strip_prefix(prefix).unwrap_or_else(|| panic!("expected {prefix:?}…, got {line:?}")).to_owned()
        };
        let base = announced("scanpro: listening on ");
        let metrics_base = announced("scanpro: metrics listening on ");
        Self { child, base, metrics_base, data_dir: data_dir.to_owned(), _temp: None }
    }

    pub fn client(&self) -> Client {
        Client { http: reqwest::Client::builder().cookie_store(true).build().unwrap(), base: self.base.clone() }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One API user: a cookie jar, hence one guest owner.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn upload(&self, path: &Path) -> Value {
        let response = self.upload_raw(path).await;
        assert_eq!(response.status(), 201, "upload {}", path.display());
        response.json::<Value>().await.unwrap()["files"][0].clone()
    }

    pub async fn upload_raw(&self, path: &Path) -> reqwest::Response {
        let part = reqwest::multipart::Part::bytes(std::fs::read(path).unwrap())
            .file_name(path.file_name().unwrap().to_string_lossy().into_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        self.http.post(self.url("/api/v1/files")).multipart(form).send().await.unwrap()
    }

    pub async fn create_job(&self, body: Value) -> reqwest::Response {
        self.http.post(self.url("/api/v1/jobs")).json(&body).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Uploads a corpus PDF, rotates it in a job, checks the job succeeded and downloads its
    /// output: traffic of every kind, for tests of what the server reports about itself.
    pub async fn rotate_round_trip(&self) -> (Value, Value) {
        let file = self.upload(&scanpro_testkit::corpus::corpus("pdf-text/ltnews17.pdf")).await;
        let job: Value = self
            .create_job(
                serde_json::json!({"inputs": [file["id"]], "steps": [{"tool": "rotate", "params": {"angle": 90}}]}),
            )
            .await
            .json()
            .await
            .unwrap();
        let done = self.wait_job(job["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        let dir = tempfile::tempdir().unwrap();
        self.download(done["outputs"][0]["url"].as_str().unwrap(), &dir.path().join("out.pdf")).await;
        (file, done)
    }

    /// Polls the job until it reaches a final state.
    pub async fn wait_job(&self, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let (status, job) = self.get_json(&format!("/api/v1/jobs/{id}")).await;
            assert_eq!(status, 200, "{job}");
            if matches!(job["status"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
                return job;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "job {id} did not finish: {job}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a one-shot tool call with `files` and `params`.
    pub async fn one_shot(&self, tool: &str, files: &[&Path], params: Value) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new().text("params", params.to_string());
        for path in files {
            let part = reqwest::multipart::Part::bytes(std::fs::read(path).unwrap())
                .file_name(path.file_name().unwrap().to_string_lossy().into_owned());
            form = form.part("file", part);
        }
        self.http.post(self.url(&format!("/api/v1/tools/{tool}"))).multipart(form).send().await.unwrap()
    }

    pub async fn download(&self, url: &str, dest: &Path) {
        let response = self.http.get(self.url(url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "download {url}");
        std::fs::write(dest, response.bytes().await.unwrap()).unwrap();
    }
}

/// A running `scanpro engine NAME`, killed on drop.
pub struct EngineProcess {
    pub child: Child,
    pub base: String,
    _temp: tempfile::TempDir,
}

impl EngineProcess {
    pub fn start(engine: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with_stderr(engine, env, Stdio::inherit())
    }

    /// [`EngineProcess::start`] with the service's log (its standard error) written to `log`.
    pub fn start_logging_to(engine: &str, env: &[(&str, &str)], log: &Path) -> Self {
        Self::start_with_stderr(engine, env, Stdio::from(std::fs::File::create(log).unwrap()))
    }

    fn start_with_stderr(engine: &str, env: &[(&str, &str)], stderr: Stdio) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command
            .args(["engine", engine, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(temp.path())
            .env("SCANPRO_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start scanpro engine");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let prefix = format!("scanpro: {engine} engine listening on ");
        let base =
            line.trim().strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_owned();
        Self { child, base, _temp: temp }
    }
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where engine tools run in a test: in the server's own process, or on engine services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    Local,
    Remote,
}

/// A server whose engine tools run as `mode` says, with the engine services it needs.
pub struct EngineStack {
    pub server: Server,
    pub services: Vec<EngineProcess>,
}

impl EngineStack {
    pub fn start(mode: EngineMode) -> Self {
        // One warm LibreOffice per process: the machine running the tests has few cores.
        let small = [("SCANPRO_OFFICE_INSTANCES", "1"), ("SCANPRO_CHROMIUM_INSTANCES", "1")];
        let services = match mode {
            EngineMode::Local => Vec::new(),
            EngineMode::Remote => ["libreoffice", "ghostscript", "ocr", "chromium"]
                .into_iter()
                .map(|engine| EngineProcess::start(engine, &small))
                .collect(),
        };
        let urls: Vec<(String, String)> = services
            .iter()
            .zip(["SCANPRO_LIBREOFFICE_URL", "SCANPRO_GHOSTSCRIPT_URL", "SCANPRO_OCR_URL", "SCANPRO_CHROMIUM_URL"])
            .map(|(service, key)| (key.to_owned(), service.base.clone()))
            .collect();
        let mut env: Vec<(&str, &str)> = urls.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.extend(small);
        Self { server: Server::start(&env), services }
    }
}

/// The images of a PDF drawn at `width` × `height` pixels, as `pdfimages -list` lines: a page
/// that drew a file it must not read shows it at its own size (Chromium's icons for what failed to
/// load have theirs).
#[allow(dead_code)]
pub fn images_sized(pdf: &Path, width: u32, height: u32) -> Vec<String> {
    let list = scanpro_testkit::checkers::stdout("pdfimages", [Path::new("-list"), pdf]);
    list.lines()
        .skip(2)
        .filter(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let size = |i: usize| columns.get(i).and_then(|c| c.parse::<u32>().ok());
            size(3) == Some(width) && size(4) == Some(height)
        })
        .map(str::to_owned)
        .collect()
}

/// A tiny HTTP server answering `body` for `/page.html` and 404 for the rest, counting requests.
#[allow(dead_code)]
pub fn serve_page(body: &'static str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let read = std::io::Read::read(&mut stream, &mut request).unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..read]);
            let (status, body) =
                if request.starts_with("GET /page.html") { ("200 OK", body) } else { ("404 Not Found", "missing") };
            let _ = std::io::Write::write_fmt(
                &mut stream,
                format_args!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            );
        }
    });
    (port, hits)
}

/// Accepts one HTTP request, answers 200, returns its request line, headers (names in lower case)
/// and body.
#[allow(dead_code)]
pub async fn receive_one(
    listener: &tokio::net::TcpListener,
) -> (String, std::collections::BTreeMap<String, String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let receive = async {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed early");
            request.extend_from_slice(&buf[..n]);
            let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&request[..end]).into_owned();
            let headers: std::collections::BTreeMap<String, String> = head
                .lines()
                .skip(1)
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            let length: usize = headers.get("content-length").map_or(0, |l| l.parse().unwrap());
            if request.len() >= end + 4 + length {
                socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await.unwrap();
                let line = head.lines().next().unwrap_or_default().to_owned();
                return (line, headers, request[end + 4..end + 4 + length].to_vec());
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), receive).await.expect("the callback came")
}
