//! A real S3 API on loopback: moto's server on a free port, killed on drop. `scripts/install-deps
//! --test` installs it (in a venv under the cache dir); `SCANPRO_MOTO_SERVER` names another
//! `moto_server`. When it cannot start, the test fails.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The region and credentials clients use; moto accepts any.
pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY_ID: &str = "scanpro-test";
pub const SECRET_ACCESS_KEY: &str = "scanpro-test-secret";

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
    _log_dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Self {
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("moto.log");
        let port = crate::free_port();
        let program = moto_server();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{} could not start ({e}): run scripts/install-deps --test", program.display()));
        let mut moto = Self { child, port, _log_dir: log_dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited with {status}: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables a `scanpro` process reads to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
        ]
    }

    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self.request("PUT", &format!("/{bucket}"));
        assert_eq!(status, 200, "creating bucket {bucket}: {body}");
    }

    /// Keys of the objects under `prefix`.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) = self.request("GET", &format!("/{bucket}?list-type=2&prefix={prefix}"));
        assert_eq!(status, 200, "listing {bucket}/{prefix}: {body}");
        elements(&body, "Key")
    }

    /// Keys of the multipart uploads under `prefix` that were neither completed nor aborted.
    pub fn open_uploads(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) = self.request("GET", &format!("/{bucket}?uploads&prefix={prefix}"));
        assert_eq!(status, 200, "listing uploads of {bucket}/{prefix}: {body}");
        elements(&body, "Key")
    }

    /// The object's ETag, which for a multipart upload ends in `-PARTS`.
    pub fn etag(&self, bucket: &str, key: &str) -> String {
        let (status, head) = self.request("HEAD", &format!("/{bucket}/{key}"));
        assert_eq!(status, 200, "HEAD {bucket}/{key}: {head}");
        head.lines()
            .find_map(|line| line.strip_prefix("ETag:").or_else(|| line.strip_prefix("etag:")))
            .unwrap_or_else(|| panic!("no ETag in {head}"))
            .trim()
            .trim_matches('"')
            .to_owned()
    }

    /// One unsigned request (moto does not check signatures): the status and, for `HEAD`, the
    /// headers, else the body.
    fn request(&self, method: &str, target: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        (status, if method == "HEAD" { head.to_owned() } else { body.to_owned() })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_server() -> PathBuf {
    if let Some(program) = std::env::var_os("SCANPRO_MOTO_SERVER") {
        return program.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    cache
        .map(|cache| cache.join("scanpro/moto/bin/moto_server"))
        .filter(|venv| venv.exists())
        .unwrap_or_else(|| PathBuf::from("moto_server"))
}

/// The text of every `<name>…</name>` element.
fn elements(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    xml.split(&open).skip(1).filter_map(|rest| rest.split_once(&close).map(|(text, _)| text.to_owned())).collect()
}
