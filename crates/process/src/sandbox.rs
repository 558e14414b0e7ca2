//! Landlock confinement of every child the runner starts.
//!
//! A document is hostile: LibreOffice follows links to local images, Ghostscript and OCRmyPDF
//! open what a file names. So every child runs under a Landlock ruleset that lets it read the
//! system (programs, libraries, fonts, `/etc`, `/proc`), read and write its own private temp dir,
//! and reach nothing else but the files it was granted: the data directory, other jobs' files
//! and the network (TCP connect and bind, where the kernel can restrict them) stay out of reach.
//!
//! Grants come from three places, merged for each child:
//! - the [`Subprocess`](crate::Subprocess) itself (`allow_read`, `allow_write`, or
//!   `confine_to` for long-lived engines that must not inherit a job's files);
//! - the task or thread it is started from ([`scope`], [`scope_blocking`]): the inputs and output
//!   directory of the step that runs;
//! - the process ([`grant_process`]): the files of a command run on local files.
//!
//! A process that is itself confined (a `scanpro step-exec` child) passes its confinement on to its
//! children unchanged, since a Landlock domain is inherited.
//!
//! The ruleset is built in the parent; the child only calls `prctl` and
//! `landlock_restrict_self` between `fork` and `exec`, which allocate nothing. Where the kernel
//! lacks Landlock, children are not started at all (fail closed) unless the sandbox is turned off
//! with `engine_sandbox = "off"`, for deployments that isolate engines otherwise.

use landlock::{
    ABI, Access, AccessFs, AccessNet, NetPort, Ruleset, RulesetAttr, RulesetCreatedAttr, Scope, path_beneath_rules,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::future::Future;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Whether children are confined (`engine_sandbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// Every child under Landlock; no child starts where the kernel lacks it.
    #[default]
    Landlock,
    /// No confinement: only for engines isolated by other means (their own pod or user).
    Off,
}

/// Environment variable through which a `scanpro` child learns the mode of its parent.
pub const MODE_ENV: &str = "SCANPRO_ENGINE_SANDBOX";

/// What the ABI this crate knows at most; the kernel may offer less, and the ruleset follows it.
const NEWEST: ABI = ABI::V6;

/// System locations every program may read and execute.
const SYSTEM_READ: &[&str] =
    &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/sys", "/var/cache/fontconfig"];

/// Devices and shared memory every program may use.
const SYSTEM_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm"];

static MODE: OnceLock<SandboxMode> = OnceLock::new();
static CONFINED: OnceLock<()> = OnceLock::new();
static PROCESS_GRANTS: Mutex<Option<Grants>> = Mutex::new(None);

tokio::task_local! {
    static TASK_GRANTS: Grants;
}

thread_local! {
    static THREAD_GRANTS: RefCell<Option<Grants>> = const { RefCell::new(None) };
}

/// Sets the mode for this process, once, at start-up (later calls are ignored).
pub fn set_mode(mode: SandboxMode) {
    let _ = MODE.set(mode);
}

/// The mode of this process: as set, else as inherited from a parent, else Landlock.
pub fn mode() -> SandboxMode {
    *MODE.get_or_init(|| match std::env::var(MODE_ENV).as_deref() {
        Ok("off") => SandboxMode::Off,
        _ => SandboxMode::Landlock,
    })
}

/// Declares that this process runs confined by its parent: its children inherit the
/// confinement and get no ruleset of their own.
pub fn mark_confined() {
    let _ = CONFINED.set(());
}

/// Files and ports a child may use beyond the system.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    sockets: Vec<PathBuf>,
    tcp_ports: Vec<u16>,
}

impl Grants {
    pub fn new() -> Self {
        Self::default()
    }

    /// Read (and execute) `path`, a file or everything beneath a directory.
    pub fn read(mut self, path: impl Into<PathBuf>) -> Self {
        self.read.push(path.into());
        self
    }

    /// Read, create, write and remove beneath `path`.
    pub fn write(mut self, path: impl Into<PathBuf>) -> Self {
        self.write.push(path.into());
        self
    }

    /// Create Unix sockets (only) directly in `dir`: LibreOffice's single-instance pipe, whose
    /// directory (`/tmp`) is fixed in LibreOffice.
    pub fn make_sockets_in(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sockets.push(dir.into());
        self
    }

    /// Connect to and bind TCP `port` (a warm engine's loopback control port).
    pub fn tcp_port(mut self, port: u16) -> Self {
        self.tcp_ports.push(port);
        self
    }

    fn extend(&mut self, other: &Grants) {
        self.read.extend(other.read.iter().cloned());
        self.write.extend(other.write.iter().cloned());
        self.sockets.extend(other.sockets.iter().cloned());
        self.tcp_ports.extend(other.tcp_ports.iter().copied());
    }

    /// The grants of the current task, else thread, else process.
    pub fn ambient() -> Grants {
        if let Ok(grants) = TASK_GRANTS.try_with(Grants::clone) {
            return grants;
        }
        if let Some(grants) = THREAD_GRANTS.with(|grants| grants.borrow().clone()) {
            return grants;
        }
        PROCESS_GRANTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone().unwrap_or_default()
    }
}

/// Runs `future` with `grants` for every child it starts.
pub async fn scope<F: Future>(grants: Grants, future: F) -> F::Output {
    TASK_GRANTS.scope(grants, future).await
}

/// Runs `work` on this thread with `grants` for every child it starts.
pub fn scope_blocking<R>(grants: Grants, work: impl FnOnce() -> R) -> R {
    let previous = THREAD_GRANTS.with(|cell| cell.replace(Some(grants)));
    struct Restore(Option<Grants>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD_GRANTS.with(|cell| *cell.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    work()
}

/// Adds `grants` for every child this process starts (a command on local files).
pub fn grant_process(grants: &Grants) {
    PROCESS_GRANTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(Grants::default)
        .extend(grants);
}

/// Why a child could not be confined.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel answers no Landlock ABI (see [`kernel_abi`]).
    #[error(
        "the kernel does not offer Landlock ({0}); engines are not started unconfined unless engine_sandbox = \"off\""
    )]
    Unsupported(#[source] std::io::Error),
    /// The kernel took the rules but gave no ruleset to enforce.
    #[error(
        "the kernel does not offer Landlock (no ruleset was created); engines are not started unconfined unless engine_sandbox = \"off\""
    )]
    NoRuleset,
    #[error("could not build the sandbox: {0}")]
    Ruleset(#[from] landlock::RulesetError),
}

/// The Landlock ABI the kernel offers, or the kernel's answer when there is none.
pub fn kernel_abi() -> std::io::Result<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag, the call only returns
    // a number; it touches no memory of ours.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    // An ABI past u32 would be newer than any known: it saturates.
    if abi >= 1 { Ok(u32::try_from(abi).unwrap_or(u32::MAX)) } else { Err(std::io::Error::last_os_error()) }
}

/// What the sandbox does in this process, for readiness reports, or why it cannot run here.
pub fn describe() -> std::io::Result<String> {
    match mode() {
        SandboxMode::Off => Ok("engine sandbox off".into()),
        SandboxMode::Landlock => kernel_abi().map(|abi| format!("Landlock ABI {abi}")),
    }
}

/// A ruleset ready to be enforced in a child, or `None` when the child is not to be confined
/// (sandbox off, or this process already confined).
pub(crate) fn prepare(
    program: &Path,
    own_temp: &Path,
    explicit: &Grants,
    ambient: bool,
) -> Result<Option<OwnedFd>, SandboxError> {
    if mode() == SandboxMode::Off || CONFINED.get().is_some() {
        return Ok(None);
    }
    kernel_abi().map_err(SandboxError::Unsupported)?;
    let mut grants = if ambient { Grants::ambient() } else { Grants::default() };
    grants.extend(explicit);
    let read = AccessFs::from_read(NEWEST);
    let all = AccessFs::from_all(NEWEST);
    let mut ruleset = Ruleset::default()
        .handle_access(all)
        .and_then(|r| r.handle_access(AccessNet::from_all(NEWEST)))
        .and_then(|r| r.scope(Scope::from_all(NEWEST)))
        .and_then(Ruleset::create)?
        .add_rules(path_beneath_rules(SYSTEM_READ, read))
        .and_then(|r| r.add_rules(path_beneath_rules(SYSTEM_WRITE, all)))
        .and_then(|r| r.add_rules(path_beneath_rules([own_temp], all)))
        .and_then(|r| r.add_rules(path_beneath_rules(&grants.read, read)))
        .and_then(|r| r.add_rules(path_beneath_rules(&grants.write, all)))
        .and_then(|r| r.add_rules(path_beneath_rules(&grants.sockets, AccessFs::MakeSock)))?;
    if program.is_absolute() {
        ruleset = ruleset.add_rules(path_beneath_rules([program], read))?;
    }
    for &port in &grants.tcp_ports {
        ruleset = ruleset.add_rule(NetPort::new(port, AccessNet::from_all(NEWEST)))?;
    }
    let fd: Option<OwnedFd> = ruleset.into();
    fd.map(Some).ok_or(SandboxError::NoRuleset)
}

/// Enforces the ruleset `fd` and the [network filter](NETWORK_FILTER) on the calling (child)
/// process. Runs between `fork` and `exec`: three system calls, no allocation.
pub(crate) fn enforce(fd: RawFd) -> std::io::Result<()> {
    #[expect(clippy::cast_possible_truncation, reason = "the filter is a static of 15 instructions")]
    let program = libc::sock_fprog { len: NETWORK_FILTER.len() as u16, filter: NETWORK_FILTER.as_ptr().cast_mut() };
    // SAFETY: prctl and the Landlock syscall take plain integers; the seccomp program points
    // at a static the kernel copies before the call returns.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program as *const libc::sock_fprog) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

#[expect(clippy::cast_possible_truncation, reason = "BPF opcodes fit in 16 bits; libc declares them as u32")]
const fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

#[expect(clippy::cast_possible_truncation, reason = "BPF opcodes fit in 16 bits; libc declares them as u32")]
const fn jump(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16, jt, jf, k }
}

const LOAD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;

/// A seccomp filter for what Landlock does not cover: UDP, raw and packet sockets (DNS and
/// other datagrams could carry a document out) and `io_uring` (which creates sockets without
/// `socket(2)`). TCP stays to Landlock's port rules. Offsets are those of `struct seccomp_data`:
/// `nr` at 0, `arch` at 4, the low halves of `args[0]` and `args[1]` at 16 and 24.
#[expect(clippy::cast_possible_truncation, reason = "system call numbers are small; libc declares them as c_long")]
static NETWORK_FILTER: [libc::sock_filter; 15] = [
    statement(LOAD, 4),
    jump(AUDIT_ARCH, 0, 12), // another ABI: kill
    statement(LOAD, 0),
    jump(libc::SYS_io_uring_setup as u32, 9, 0), // deny
    jump(libc::SYS_socket as u32, 0, 7),         // anything else: allow
    statement(LOAD, 16),
    jump(libc::AF_PACKET as u32, 6, 0), // deny
    jump(libc::AF_INET as u32, 1, 0),   // check the type
    jump(libc::AF_INET6 as u32, 0, 3),  // other families: allow
    statement(LOAD, 24),
    statement(libc::BPF_ALU | libc::BPF_AND | libc::BPF_K, 0xf), // without SOCK_NONBLOCK / SOCK_CLOEXEC
    jump(libc::SOCK_STREAM as u32, 0, 1),
    statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ERRNO | libc::EACCES as u32),
    statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
];

/// The raw descriptor of a prepared ruleset, for the child.
pub(crate) fn raw(fd: &Option<OwnedFd>) -> Option<RawFd> {
    fd.as_ref().map(AsRawFd::as_raw_fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Subprocess;

    #[tokio::test]
    async fn a_child_reads_the_system_and_its_grants_but_nothing_else() {
        let private = tempfile::tempdir().unwrap();
        std::fs::write(private.path().join("secret.txt"), "secret").unwrap();
        let granted = tempfile::tempdir().unwrap();
        std::fs::write(granted.path().join("mine.txt"), "mine").unwrap();

        let cat = |path: PathBuf| Subprocess::new("/bin/cat").arg(path).allow_read(granted.path()).run();
        let out = cat(private.path().join("secret.txt")).await.unwrap();
        assert!(!out.status.success(), "read a file it was not granted");
        assert!(out.stderr_tail.contains("Permission denied"), "{}", out.stderr_tail);
        let out = cat(granted.path().join("mine.txt")).await.unwrap();
        assert_eq!(out.stdout, b"mine");
        let out = cat("/etc/hostname".into()).await.unwrap();
        assert!(out.status.success(), "{}", out.stderr_tail);
    }

    #[tokio::test]
    async fn a_child_writes_only_where_granted() {
        let granted = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let script = format!(
            "echo ok > {}/a && echo ok > \"$TMPDIR/b\" && echo no > {}/c",
            granted.path().display(),
            other.path().display()
        );
        let out = Subprocess::new("/bin/sh").args(["-c", &script]).allow_write(granted.path()).run().await.unwrap();
        assert!(!out.status.success());
        assert!(granted.path().join("a").exists());
        assert!(!other.path().join("c").exists(), "wrote outside its grants");
    }

    #[tokio::test]
    async fn task_scope_grants_reach_children_and_end_with_the_scope() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let file = dir.path().join("f");
        let inside = scope(Grants::new().read(dir.path()), Subprocess::new("/bin/cat").arg(&file).run()).await.unwrap();
        assert_eq!(inside.stdout, b"x");
        let outside = Subprocess::new("/bin/cat").arg(&file).run().await.unwrap();
        assert!(!outside.status.success());
    }

    #[tokio::test]
    async fn datagram_and_raw_sockets_cannot_be_opened() {
        let script = "import socket\n\
            for family, kind in [(socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_INET6, socket.SOCK_DGRAM), (socket.AF_INET, socket.SOCK_RAW)]:\n\
            \ttry:\n\t\tsocket.socket(family, kind)\n\t\tprint('opened', family, kind)\n\
            \texcept PermissionError:\n\t\tprint('refused')\n\
            socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)\n\
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
            print('stream and unix sockets open')";
        let out = Subprocess::new("/usr/bin/python3").args(["-c", script]).run().await.unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(said.matches("refused").count(), 3, "{said} {}", out.stderr_tail);
        assert!(said.contains("stream and unix sockets open"), "{said} {}", out.stderr_tail);
    }

    #[tokio::test]
    async fn tcp_connections_are_refused_unless_granted() {
        if kernel_abi().unwrap() < 4 {
            panic!("this kernel cannot restrict TCP (Landlock ABI < 4)");
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connect =
            format!("import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')");
        let out = Subprocess::new("/usr/bin/python3").args(["-c", &connect]).run().await.unwrap();
        assert!(!out.status.success() && out.stderr_tail.contains("PermissionError"), "{}", out.stderr_tail);
        let out = Subprocess::new("/usr/bin/python3")
            .args(["-c", &connect])
            .confine_to(Grants::new().tcp_port(port))
            .run()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "connected", "{}", out.stderr_tail);
    }
}
