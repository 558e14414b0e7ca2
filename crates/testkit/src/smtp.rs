//! A real SMTP server on loopback: aiosmtpd on a free port, printing every message it takes,
//! killed on drop. `scripts/install-deps --test` installs it (in a venv under the cache dir);
//! `SCANPRO_SMTP_PYTHON` names another Python that has it. When it cannot start, the test fails.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running aiosmtpd; [`Smtp::message_to`] waits for a message to an address.
pub struct Smtp {
    child: Child,
    port: u16,
    /// Every message received so far, whole (headers and body).
    messages: Arc<Mutex<Vec<String>>>,
}

impl Smtp {
    pub fn start() -> Self {
        let port = crate::free_port();
        let python = smtp_python();
        let mut child = Command::new(&python)
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Debugging",
                "-l",
                &format!("127.0.0.1:{port}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{} could not start aiosmtpd ({e}): run scripts/install-deps --test", python.display())
            });
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let collected = messages.clone();
        std::thread::spawn(move || {
            let mut current: Option<String> = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("MESSAGE FOLLOWS") {
                    current = Some(String::new());
                } else if line.contains("END MESSAGE") {
                    if let Some(message) = current.take() {
                        collected.lock().unwrap().push(message);
                    }
                } else if let Some(message) = current.as_mut() {
                    message.push_str(&line);
                    message.push('\n');
                }
            }
        });
        let mut smtp = Self { child, port, messages };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = smtp.child.try_wait() {
                panic!("aiosmtpd exited with {status}: run scripts/install-deps --test");
            }
            assert!(started.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        smtp
    }

    /// `smtp://127.0.0.1:PORT`, for `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far whose headers name `to`.
    pub fn received_by(&self, to: &str) -> Vec<String> {
        let messages = self.messages.lock().unwrap();
        messages
            .iter()
            .filter(|m| m.lines().any(|l| l.to_lowercase().starts_with("to:") && l.contains(to)))
            .cloned()
            .collect()
    }

    /// The `n`th message (from 0) whose headers name `to`, waiting up to 20 s for it.
    pub fn message_to(&self, to: &str, n: usize) -> String {
        let started = Instant::now();
        loop {
            if let Some(message) = self.received_by(to).get(n) {
                return message.clone();
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no message {n} to {to} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `SCANPRO_SMTP_PYTHON`, else the venv `scripts/install-deps --test` makes.
fn smtp_python() -> PathBuf {
    if let Some(python) = std::env::var_os("SCANPRO_SMTP_PYTHON") {
        return python.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("scanpro/smtp/bin/python")
}
