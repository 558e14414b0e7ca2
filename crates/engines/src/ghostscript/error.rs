//! How a Ghostscript-engine tool fails, each failure with its stable code.

use scanpro_core::{ErrorCode, ToolError};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GhostscriptError {
    /// The bytes are not a PDF.
    #[error("{0}")]
    NotPdf(String),
    /// The PDF is damaged beyond what qpdf reads, or has no pages.
    #[error("{0}")]
    InvalidPdf(String),
    /// The PDF needs a password to open.
    #[error("the PDF is protected by a password; run the unlock tool with its password first")]
    EncryptedInput,
    /// The input holds more than any tool should decode (a decompression bomb).
    #[error("{0}")]
    ResourceLimit(String),
    /// A program ran past its deadline and was stopped.
    #[error("{program} did not finish within {after:?} on this file and was stopped")]
    Timeout { program: String, after: Duration },
    /// The program wrote nothing that passes the checks (page count, qpdf --check, blank or
    /// changed pages, lost text, missing PDF/A identification, colour left).
    #[error("{0}")]
    Failed(String),
    /// The one output a conversion makes was refused; `conversion` names it ("PDF/A conversion").
    #[error("the {conversion} failed its checks: {why}")]
    FailedChecks {
        conversion: &'static str,
        #[source]
        why: Rejection,
    },
    /// A program is missing or cannot start.
    #[error("{0}")]
    Unavailable(String),
    #[error("i/o error around the rewrite: {0}")]
    Io(#[from] std::io::Error),
}

impl GhostscriptError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotPdf(_) => ErrorCode::UnsupportedFormat,
            Self::InvalidPdf(_) => ErrorCode::InvalidPdf,
            Self::EncryptedInput => ErrorCode::EncryptedInput,
            Self::ResourceLimit(_) => ErrorCode::ResourceLimit,
            Self::Timeout { .. } => ErrorCode::EngineTimeout,
            Self::Failed(_) | Self::FailedChecks { .. } | Self::Io(_) => ErrorCode::InternalError,
            Self::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    pub fn is_client_error(&self) -> bool {
        self.code().is_client_error()
    }
}

impl From<GhostscriptError> for ToolError {
    fn from(error: GhostscriptError) -> Self {
        ToolError::new(error.code(), error.to_string())
    }
}

/// Why a candidate output was refused: the program that makes it failed, or what it wrote
/// fails a check (see [`verify`](super::verify)). A refused candidate is not an error of the
/// tool: another may pass, or the input is delivered as it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// Ghostscript failed; its last words, without paths.
    #[error("Ghostscript failed: {0}")]
    GhostscriptFailed(String),
    /// qpdf could not write the file; its last words, without paths.
    #[error("qpdf failed: {0}")]
    QpdfFailed(String),
    /// The program ran past its deadline and was stopped.
    #[error("{program} did not finish within {after:?}")]
    TimedOut { program: String, after: Duration },
    /// Not run: an earlier run of the same program gave up on the document.
    #[error("not tried: {0}")]
    NotTried(Box<Rejection>),
    #[error("the output is empty")]
    Empty,
    #[error("qpdf --check did not finish")]
    CheckTimedOut,
    /// `qpdf --check` found errors or warnings; its last words.
    #[error("the output fails qpdf --check ({0})")]
    FailsCheck(String),
    #[error("the output has {found} pages, the input {expected}")]
    PageCount { found: u32, expected: u32 },
    #[error("page {0} of the output does not render")]
    Unrendered(u32),
    #[error("page {0} of the output does not render in colour")]
    UnrenderedInColour(u32),
    #[error("page {0} came out blank")]
    Blank(u32),
    #[error("page {0} changed size")]
    Resized(u32),
    #[error("page {page} differs from the input (similarity {similarity:.3})")]
    PageDiffers { page: u32, similarity: f64 },
    #[error("page {0} still shows colour")]
    Colour(u32),
    #[error("the pages differ too much from the input (similarity {mean:.3}, at least {wanted:.2} wanted)")]
    Dissimilar { mean: f64, wanted: f64 },
    /// A re-drawn output cannot be compared: no sampled page of the input renders.
    #[error("no page of the input renders to compare with")]
    NothingToCompare,
    /// `kept` is the share of the input's distinct words that still extract.
    #[error("text was lost: {:.0} % of the words still extract", .kept * 100.0)]
    TextLost { kept: f64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_read_as_before() {
        let timed_out = Rejection::TimedOut { program: "Ghostscript".into(), after: Duration::from_secs(3) };
        assert_eq!(
            Rejection::NotTried(Box::new(timed_out)).to_string(),
            "not tried: Ghostscript did not finish within 3s"
        );
        assert_eq!(Rejection::TextLost { kept: 0.914 }.to_string(), "text was lost: 91 % of the words still extract");
        let dissimilar = Rejection::Dissimilar { mean: 0.91234, wanted: 0.95 };
        assert_eq!(
            dissimilar.to_string(),
            "the pages differ too much from the input (similarity 0.912, at least 0.95 wanted)"
        );
        let error = GhostscriptError::FailedChecks { conversion: "PDF/A conversion", why: Rejection::Blank(2) };
        assert_eq!(error.to_string(), "the PDF/A conversion failed its checks: page 2 came out blank");
        assert_eq!(error.code(), ErrorCode::InternalError);
        assert!(std::error::Error::source(&error).is_some());
    }
}
