//! Settings of the LibreOffice pool.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct OfficeConfig {
    /// Warm instances; each converts one document at a time. Default: the number of cores.
    pub instances: usize,
    /// Start every instance (and keep replacements warm) from the start, instead of on first
    /// need. Default: on first need.
    pub start_at_boot: bool,
    /// Conversions after which an instance is replaced: LibreOffice's memory only grows. Default 200.
    pub recycle_after: u32,
    /// Resident memory (LibreOffice's whole process group plus its bridge) above which an
    /// instance is replaced after its conversion. Default 1.5 GiB.
    pub max_rss_bytes: u64,
    /// Deadline of one conversion attempt. A document gets up to three: a warm instance, a fresh
    /// one, a cold process. Default 120 s (the slowest corpus deck takes 45 s).
    pub conversion_timeout: Duration,
    /// How long a new instance may take to accept its UNO connection. Default 60 s.
    pub startup_timeout: Duration,
    /// `soffice.bin`. Default: found beside the `soffice` on `PATH`.
    pub soffice: Option<PathBuf>,
    /// A Python 3 that has the `uno` module (Debian: `python3-uno`). Default `/usr/bin/python3`.
    pub python: PathBuf,
    /// Where the pool makes its directory (profiles, private copies of inputs). Default: the
    /// system temp dir.
    pub work_dir: PathBuf,
}

impl Default for OfficeConfig {
    fn default() -> Self {
        Self {
            instances: std::thread::available_parallelism().map_or(1, |n| n.get()),
            start_at_boot: false,
            recycle_after: 200,
            max_rss_bytes: 1536 * 1024 * 1024,
            conversion_timeout: Duration::from_secs(120),
            startup_timeout: Duration::from_secs(60),
            soffice: None,
            python: PathBuf::from("/usr/bin/python3"),
            work_dir: std::env::temp_dir(),
        }
    }
}

impl OfficeConfig {
    /// The configured `soffice.bin`, or the one beside `soffice` on `PATH` (a shell script that
    /// starts `soffice.bin` through a launcher; ScanPro runs `soffice.bin` itself so that the
    /// process it supervises is LibreOffice).
    pub(crate) fn soffice_bin(&self) -> Option<PathBuf> {
        if let Some(path) = &self.soffice {
            return path.is_file().then(|| path.clone());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("soffice"))
            .filter_map(|script| std::fs::canonicalize(script).ok())
            .filter_map(|script| Some(script.parent()?.join("soffice.bin")))
            .find(|bin| bin.is_file())
    }
}
