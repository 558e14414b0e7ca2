//! The subprocess runner.
//!
//! Wrappers describe *what* to run ([`Subprocess`]); this module owns *how*: the child gets its own
//! process group (so helpers it forks die with it), `PR_SET_PDEATHSIG` (so it dies if ScanPro
//! does), rlimits, a clean environment and a fresh temp dir as `HOME`/`TMPDIR`. The future returned
//! by [`Subprocess::run`] owns the group: when it times out or is dropped (a cancelled job), the
//! whole group is killed and the temp dir removed. Every child runs confined by the
//! [`sandbox`](crate::sandbox): the system, its temp dir and the files it was granted.

use crate::sandbox::{self, Grants, SandboxError};
use bytes::Bytes;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How much of stderr is kept: the end is where programs say what went wrong.
const STDERR_TAIL: usize = 16 * 1024;

/// Resource limits applied to the child with `setrlimit` before it starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Address space in bytes (`RLIMIT_AS`): a decompression bomb fails an allocation, not the host.
    pub memory_bytes: Option<u64>,
    /// CPU seconds (`RLIMIT_CPU`): a spinning child gets SIGXCPU even if nobody waits on it.
    pub cpu_seconds: Option<u64>,
    /// Largest file the child may write (`RLIMIT_FSIZE`).
    pub file_bytes: Option<u64>,
}

/// A program to run: the program, its arguments, extra environment and stdin.
#[derive(Debug, Clone)]
pub struct Subprocess {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Bytes>,
    timeout: Duration,
    limits: Limits,
    max_stdout: usize,
    stderr_lines: Option<LineCallback>,
    grants: Grants,
    /// Whether the grants of the task, thread or process starting the child apply too.
    ambient_grants: bool,
}

/// Receives each line a child writes to stderr while it runs (see [`Subprocess::on_stderr_line`]).
#[derive(Clone)]
struct LineCallback(Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for LineCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineCallback")
    }
}

/// What a finished child left.
#[derive(Debug)]
pub struct ProcessOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last [`STDERR_TAIL`] bytes of stderr, lossily decoded.
    pub stderr_tail: String,
}

impl ProcessOutput {
    /// The signal that killed the child, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{program} did not finish within {after:?} and was stopped")]
    Timeout { program: String, after: Duration },
    #[error("{program} wrote more than {limit} bytes to stdout")]
    OutputTooLarge { program: String, limit: usize },
    #[error("i/o with {program} failed: {source}")]
    Io { program: String, source: std::io::Error },
    #[error("{program} was not started: {source}")]
    Sandbox { program: String, source: SandboxError },
}

impl Subprocess {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            timeout: Duration::from_secs(300),
            limits: Limits::default(),
            max_stdout: 64 * 1024 * 1024,
            stderr_lines: None,
            grants: Grants::default(),
            ambient_grants: true,
        }
    }

    /// Lets the child read `path` (a file, or everything beneath a directory).
    pub fn allow_read(mut self, path: impl Into<PathBuf>) -> Self {
        self.grants = self.grants.read(path);
        self
    }

    /// Lets the child create, write and remove files beneath `path`.
    pub fn allow_write(mut self, path: impl Into<PathBuf>) -> Self {
        self.grants = self.grants.write(path);
        self
    }

    /// Confines the child to `grants` alone, whatever the task starting it may use: for
    /// long-lived engines, which outlive the job that happened to start them.
    pub fn confine_to(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self.ambient_grants = false;
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Bytes fed to the child's stdin: how secrets and requests reach it, never argv.
    pub fn stdin(mut self, bytes: impl Into<Bytes>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Calls `callback` with each line of stderr (without its line end, lossily decoded) as
    /// [`run`](Self::run) reads it, while the child runs: how a child reports progress. A line
    /// longer than the stderr tail is passed on in pieces. The tail is kept as without it.
    pub fn on_stderr_line(mut self, callback: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.stderr_lines = Some(LineCallback(Arc::new(callback)));
        self
    }

    fn name(&self) -> String {
        self.program.file_name().unwrap_or(self.program.as_os_str()).to_string_lossy().into_owned()
    }

    /// The command with everything but its stdio: clean environment, `temp` as `HOME`, `TMPDIR`
    /// and working directory, its own process group, and (before exec) the parent-death signal,
    /// the rlimits and the sandbox. The returned ruleset must live until the child is spawned.
    fn command(&self, temp: &Path) -> Result<(tokio::process::Command, Option<OwnedFd>), ProcessError> {
        let ruleset = sandbox::prepare(&self.program, temp, &self.grants, self.ambient_grants)
            .map_err(|source| ProcessError::Sandbox { program: self.name(), source })?;
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()))
            .env("LANG", "C.UTF-8")
            .env("HOME", temp)
            .env("TMPDIR", temp)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(temp)
            .process_group(0)
            .kill_on_drop(true);
        if sandbox::mode() == sandbox::SandboxMode::Off {
            command.env(sandbox::MODE_ENV, "off");
        }
        let limits = self.limits;
        let parent = nix::unistd::getpid();
        let ruleset_fd = sandbox::raw(&ruleset);
        // SAFETY: the closure runs in the forked child before exec; it makes only
        // async-signal-safe system calls and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                prepare_child(limits, parent)?;
                match ruleset_fd {
                    Some(fd) => sandbox::enforce(fd),
                    None => Ok(()),
                }
            });
        }
        Ok((command, ruleset))
    }

    /// Runs the child to completion. Timeout and drop kill its whole process group.
    pub async fn run(self) -> Result<ProcessOutput, ProcessError> {
        let name = self.name();
        let io_error = |source| ProcessError::Io { program: name.clone(), source };
        let temp = tempfile::Builder::new().prefix("scanpro-proc-").tempdir().map_err(io_error)?;
        let (mut command, ruleset) = self.command(temp.path())?;
        command
            .stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| ProcessError::Spawn { program: name.clone(), source })?;
        drop(ruleset);
        let group = GroupGuard(child.id().map(|pid| pid as i32));

        let stdin = child.stdin.take();
        let input = self.stdin.clone();
        let feed = async move {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                // A child that exits without reading its stdin is not an error of ours.
                let _ = pipe.write_all(&bytes).await;
            }
        };
        let stdout = read_bounded(child.stdout.take().expect("piped"), self.max_stdout);
        let stderr = read_tail(child.stderr.take().expect("piped"), self.stderr_lines.clone());
        let work = async {
            let ((), stdout, stderr, status) = tokio::join!(feed, stdout, stderr, child.wait());
            (stdout, stderr, status)
        };
        let (stdout, stderr_tail, status) = match tokio::time::timeout(self.timeout, work).await {
            Ok(done) => done,
            Err(_) => return Err(ProcessError::Timeout { program: name, after: self.timeout }),
        };
        drop(group);
        drop(temp);
        let status = status.map_err(io_error)?;
        let stdout =
            stdout.map_err(io_error)?.ok_or(ProcessError::OutputTooLarge { program: name, limit: self.max_stdout })?;
        Ok(ProcessOutput { status, stdout, stderr_tail })
    }
}

impl Subprocess {
    /// [`run`](Self::run) for synchronous callers (PDF operations running inside a step
    /// process). The child runs on a runtime of its own, on a thread of its own: the caller may
    /// be a runtime's blocking thread, where starting another runtime is not allowed.
    pub fn run_blocking(self) -> Result<ProcessOutput, ProcessError> {
        let name = self.name();
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|source| ProcessError::Io { program: name, source })?;
                    runtime.block_on(self.run())
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Subprocess {
    /// Starts a long-lived child (a warm engine) and returns its owner; [`timeout`](Self::timeout)
    /// does not apply, the owner decides when it ends. stdin is closed; stdout and stderr go to
    /// one bounded tail.
    ///
    /// Call it from a runtime worker thread, never from a blocking-pool thread: Linux sends the
    /// parent-death signal when the *thread* that started the child exits, and blocking-pool
    /// threads exit when idle.
    pub fn spawn(self) -> Result<RunningProcess, ProcessError> {
        self.start(false)
    }

    /// [`spawn`](Self::spawn) with stdin and stdout as pipes for a conversation with the child
    /// (see [`RunningProcess::take_stdio`]); stderr still goes to the tail.
    pub fn spawn_piped(self) -> Result<RunningProcess, ProcessError> {
        self.start(true)
    }

    fn start(self, piped: bool) -> Result<RunningProcess, ProcessError> {
        let program = self.name();
        let temp = tempfile::Builder::new()
            .prefix("scanpro-proc-")
            .tempdir()
            .map_err(|source| ProcessError::Io { program: program.clone(), source })?;
        let (mut command, ruleset) = self.command(temp.path())?;
        command.stdin(if piped { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| ProcessError::Spawn { program: program.clone(), source })?;
        drop(ruleset);
        let pid = child.id().expect("a child that was just started has a pid");
        let group = GroupGuard(Some(pid as i32));
        let tail = SharedTail::default();
        tokio::spawn(tail.clone().collect(child.stderr.take().expect("piped")));
        if !piped {
            tokio::spawn(tail.clone().collect(child.stdout.take().expect("piped")));
        }
        Ok(RunningProcess { group, child, pid, program, tail, temp })
    }
}

/// A long-lived child started by [`Subprocess::spawn`]. It owns the child's process group (killed
/// with SIGKILL by [`kill`](Self::kill) and on drop) and its private temp dir (removed on drop,
/// after the group is dead).
#[derive(Debug)]
pub struct RunningProcess {
    group: GroupGuard,
    child: tokio::process::Child,
    pid: u32,
    program: String,
    tail: SharedTail,
    temp: tempfile::TempDir,
}

impl RunningProcess {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// The child's private `HOME`/`TMPDIR`, removed when this handle is dropped.
    pub fn temp_dir(&self) -> &Path {
        self.temp.path()
    }

    /// The stdin and stdout pipes of a child started with [`Subprocess::spawn_piped`], once.
    pub fn take_stdio(&mut self) -> Option<(tokio::process::ChildStdin, tokio::process::ChildStdout)> {
        Some((self.child.stdin.take()?, self.child.stdout.take()?))
    }

    /// The exit status if the child has exited (it is reaped), `None` while it runs.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits for the child to exit. Cancel-safe.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Kills the whole process group now; the handle stays valid (`wait` reaps the child).
    pub fn kill(&mut self) {
        self.group.kill();
    }

    /// The last bytes the child wrote to stderr (and stdout unless piped), lossily decoded.
    pub fn stderr_tail(&self) -> String {
        self.tail.text()
    }

    /// Resident memory of every process in the child's group, from `/proc`: helpers it forked
    /// count too.
    pub fn group_rss_bytes(&self) -> u64 {
        group_rss_bytes(self.pid as i32)
    }
}

/// A bounded tail of a child's output shared between its reader tasks and its owner.
#[derive(Debug, Clone, Default)]
struct SharedTail(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedTail {
    async fn collect(self, mut pipe: impl AsyncRead + Unpin) {
        let mut buf = vec![0u8; 8 * 1024];
        while let Ok(n @ 1..) = pipe.read(&mut buf).await {
            let mut tail = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > STDERR_TAIL {
                let excess = tail.len() - STDERR_TAIL;
                tail.drain(..excess);
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
    }
}

/// Sum of `VmRSS` over the processes whose process group is `pgid`.
fn group_rss_bytes(pgid: i32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())))
        .filter(|entry| process_group_of(&entry.path()) == Some(pgid))
        .filter_map(|entry| resident_kib(&entry.path()))
        .sum::<u64>()
        * 1024
}

fn process_group_of(proc_dir: &Path) -> Option<i32> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so start after the last ')'.
    stat.rsplit_once(')')?.1.split_whitespace().nth(2)?.parse().ok()
}

fn resident_kib(proc_dir: &Path) -> Option<u64> {
    let status = std::fs::read_to_string(proc_dir.join("status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Kills the child's whole process group when dropped: on success (stray grandchildren), on
/// timeout and when the owning future is dropped.
#[derive(Debug)]
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

fn prepare_child(limits: Limits, parent: nix::unistd::Pid) -> std::io::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    // The parent may have died before the death signal was armed.
    if nix::unistd::getppid() != parent {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    use nix::sys::resource::{Resource, setrlimit};
    let set = |resource, value: Option<u64>| match value {
        Some(v) => setrlimit(resource, v, v).map_err(std::io::Error::from),
        None => Ok(()),
    };
    set(Resource::RLIMIT_AS, limits.memory_bytes)?;
    set(Resource::RLIMIT_CPU, limits.cpu_seconds)?;
    set(Resource::RLIMIT_FSIZE, limits.file_bytes)?;
    set(Resource::RLIMIT_CORE, Some(0))
}

/// Reads everything up to `limit` bytes; `None` when the child wrote more.
async fn read_bounded(mut pipe: impl AsyncRead + Unpin, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = pipe.read(&mut buf).await?;
        if n == 0 {
            return Ok(Some(out));
        }
        if out.len() + n > limit {
            return Ok(None);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Reads everything, keeping only the last [`STDERR_TAIL`] bytes, and passes each line to
/// `lines` as it arrives.
async fn read_tail(mut pipe: impl AsyncRead + Unpin, lines: Option<LineCallback>) -> String {
    let mut tail = Vec::new();
    let mut buf = vec![0u8; 8 * 1024];
    let mut line = Vec::new();
    let deliver = |line: &mut Vec<u8>| {
        if let Some(LineCallback(callback)) = &lines {
            let text = line.strip_suffix(b"\r").unwrap_or(line);
            callback(&String::from_utf8_lossy(text));
        }
        line.clear();
    };
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if lines.is_some() {
            for &byte in &buf[..n] {
                if byte == b'\n' {
                    deliver(&mut line);
                } else {
                    line.push(byte);
                    if line.len() >= STDERR_TAIL {
                        deliver(&mut line);
                    }
                }
            }
        }
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 2 * STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    if !line.is_empty() {
        deliver(&mut line);
    }
    let start = tail.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&tail[start..]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_stdout_stdin_and_exit_status() {
        let out = Subprocess::new("/bin/cat").stdin("hello").run().await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello");
        let out = Subprocess::new("/bin/ls").arg("/does-not-exist").run().await.unwrap();
        assert!(!out.status.success());
        assert!(out.stderr_tail.contains("does-not-exist"), "{}", out.stderr_tail);
    }

    #[test]
    fn runs_blocking_from_plain_and_runtime_threads() {
        let out = Subprocess::new("/bin/cat").stdin("plain").run_blocking().unwrap();
        assert_eq!(out.stdout, b"plain");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let out = runtime
            .block_on(async {
                tokio::task::spawn_blocking(|| Subprocess::new("/bin/cat").stdin("inside").run_blocking()).await
            })
            .unwrap()
            .unwrap();
        assert_eq!(out.stdout, b"inside");
        let err =
            Subprocess::new("/bin/sleep").arg("5").timeout(Duration::from_millis(200)).run_blocking().unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        // sh starts a grandchild sleep; both must be gone after the timeout.
        let marker = format!("sleep 987.{}", std::process::id());
        let started = std::time::Instant::now();
        let err = Subprocess::new("/bin/sh")
            .args(["-c", &format!("{marker} & wait")])
            .timeout(Duration::from_millis(300))
            .run()
            .await
            .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ps = std::process::Command::new("pgrep").args(["-f", &marker]).output().unwrap();
        assert!(ps.stdout.is_empty(), "grandchild survived: {}", String::from_utf8_lossy(&ps.stdout));
    }

    #[tokio::test]
    async fn stderr_lines_arrive_while_the_child_runs() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::<(String, std::time::Instant)>::new()));
        let seen = lines.clone();
        let out = Subprocess::new("/bin/sh")
            .args(["-c", "echo one >&2; sleep 0.5; printf 'two\\r\\nthree' >&2"])
            .on_stderr_line(move |line| seen.lock().unwrap().push((line.to_owned(), std::time::Instant::now())))
            .run()
            .await
            .unwrap();
        let finished = std::time::Instant::now();
        let lines = lines.lock().unwrap();
        let texts: Vec<&str> = lines.iter().map(|(text, _)| text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert!(finished - lines[0].1 >= Duration::from_millis(400), "the first line came only at the end");
        assert_eq!(out.stderr_tail, "one\ntwo\r\nthree");
    }

    #[tokio::test]
    async fn memory_limit_stops_a_hungry_child() {
        let out = Subprocess::new("/usr/bin/python3")
            .args(["-c", "x = bytearray(2 * 1024 ** 3)"])
            .limits(Limits { memory_bytes: Some(512 * 1024 * 1024), ..Default::default() })
            .run()
            .await
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stderr_tail.contains("MemoryError"), "{}", out.stderr_tail);
    }

    #[tokio::test]
    async fn environment_is_clean_and_home_is_private() {
        // SAFETY: test-only; no other thread of this test reads the variable.
        unsafe { std::env::set_var("SCANPRO_SECRET_FOR_TEST", "x") };
        let out = Subprocess::new("/usr/bin/env").run().await.unwrap();
        let env = String::from_utf8(out.stdout).unwrap();
        assert!(!env.contains("SCANPRO_SECRET_FOR_TEST"));
        assert!(env.contains("HOME=/tmp/scanpro-proc-") || env.contains("scanpro-proc-"), "{env}");
    }

    fn alive(marker: &str) -> bool {
        let ps = std::process::Command::new("pgrep").args(["-f", marker]).output().unwrap();
        !ps.stdout.is_empty()
    }

    #[tokio::test]
    async fn spawned_child_talks_over_pipes_and_kill_ends_its_group() {
        use tokio::io::AsyncBufReadExt;
        // sh forks a grandchild sleep, then echoes stdin back: kill must take both.
        let marker = format!("sleep 986.{}", std::process::id());
        let mut child = Subprocess::new("/bin/sh")
            .args(["-c", &format!("{marker} & echo started >&2; cat")])
            .spawn_piped()
            .unwrap();
        let (mut stdin, stdout) = child.take_stdio().unwrap();
        stdin.write_all(b"ping\n").await.unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ping"));
        assert!(child.try_wait().unwrap().is_none());
        // The tail is filled by a reader task: give it a moment.
        for _ in 0..50 {
            if child.stderr_tail().contains("started") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(child.stderr_tail().contains("started"), "{}", child.stderr_tail());
        assert!(alive(&marker));
        child.kill();
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await.unwrap().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!alive(&marker), "grandchild survived kill");
    }

    #[tokio::test]
    async fn dropping_a_spawned_child_kills_it_and_removes_its_temp_dir() {
        let marker = format!("sleep 985.{}", std::process::id());
        let child = Subprocess::new("/bin/sh").args(["-c", &format!("{marker} & wait")]).spawn().unwrap();
        let temp = child.temp_dir().to_path_buf();
        assert!(temp.is_dir());
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(alive(&marker));
        drop(child);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!alive(&marker), "group survived drop");
        assert!(!temp.exists(), "temp dir left behind");
    }

    #[tokio::test]
    async fn group_rss_counts_forked_helpers() {
        // The shell itself is small; its python helper holds 200 MiB.
        let script = "import time; x = bytearray(200 * 1024 * 1024); print('ready', flush=True); time.sleep(30)";
        let mut child = Subprocess::new("/bin/sh")
            .args(["-c", &format!("/usr/bin/python3 -c \"{script}\"; true")])
            .spawn_piped()
            .unwrap();
        let (_stdin, stdout) = child.take_stdio().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
        let rss = child.group_rss_bytes();
        assert!(rss > 200 * 1024 * 1024 && rss < 400 * 1024 * 1024, "group RSS {rss}");
    }
}
