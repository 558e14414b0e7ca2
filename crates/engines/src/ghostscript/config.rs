//! Settings of the Ghostscript engine.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct GhostscriptConfig {
    /// The Ghostscript program. Default: `gs` on `PATH`.
    pub gs: PathBuf,
    /// The qpdf program (reads, checks and repacks PDFs). Default: `qpdf` on `PATH`.
    pub qpdf: PathBuf,
    /// Directory holding poppler-utils' `pdftoppm`, `pdftotext` and `pdfinfo`, which check every
    /// output. Default: found on `PATH`.
    pub poppler_dir: Option<PathBuf>,
    /// An sRGB ICC profile for the PDF/A output intent. Default: Ghostscript's own
    /// (`/usr/share/ghostscript/*/iccprofiles/srgb.icc`), else the first of
    /// [`SRGB_PROFILES`](Self::SRGB_PROFILES) that exists.
    pub srgb_profile: Option<PathBuf>,
    /// Ceiling of each program run's deadline. A run gets a few seconds plus time for each
    /// page, megabyte and megapixel of its input (see [`budget`](scanpro_process::budget)), never more
    /// than this. Ghostscript loops forever on some damaged files; a rewrite that runs past its
    /// deadline is abandoned (compress falls back to what it has; the other tools fail with
    /// `engine_timeout`). Default 120 s.
    pub timeout: Duration,
    /// Address space each program run may use. Default 3 GiB: Ghostscript peaked at 580 MB
    /// rewriting a 1,321-page manual.
    pub memory_bytes: u64,
}

impl Default for GhostscriptConfig {
    fn default() -> Self {
        Self {
            gs: PathBuf::from("gs"),
            qpdf: PathBuf::from("qpdf"),
            poppler_dir: None,
            srgb_profile: None,
            timeout: Duration::from_secs(120),
            memory_bytes: 3 << 30,
        }
    }
}

impl GhostscriptConfig {
    /// Where Debian's colour packages put an sRGB profile.
    pub const SRGB_PROFILES: &[&str] = &["/usr/share/color/icc/ghostscript/srgb.icc", "/usr/share/color/icc/sRGB.icc"];

    /// A poppler-utils program, from [`poppler_dir`](Self::poppler_dir) or `PATH`.
    pub(crate) fn poppler(&self, program: &str) -> PathBuf {
        match &self.poppler_dir {
            Some(dir) => dir.join(program),
            None => PathBuf::from(program),
        }
    }

    /// The sRGB profile to embed in PDF/A outputs, if one is installed.
    pub(crate) fn srgb_profile(&self) -> Option<PathBuf> {
        match &self.srgb_profile {
            Some(path) => path.is_file().then(|| path.clone()),
            None => {
                let ghostscript_versions = std::fs::read_dir("/usr/share/ghostscript").into_iter().flatten().flatten();
                ghostscript_versions
                    .map(|version| version.path().join("iccprofiles/srgb.icc"))
                    .chain(Self::SRGB_PROFILES.iter().map(PathBuf::from))
                    .find(|path| path.is_file())
            }
        }
    }
}
