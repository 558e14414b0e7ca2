//! `compress`, `pdfa`, `grayscale`: whole-document rewrites (Ghostscript and qpdf).

use super::Validate;
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How hard `compress` works. Each level also tries what the weaker levels try and keeps the
/// smallest result that passes the checks (same pages, text still extractable, pages still
/// looking like the input's), so a stronger level never gives a larger file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompressLevel {
    /// Structure only: streams recompressed, objects packed into object streams. Every page,
    /// image and font stays exactly as it is.
    Lossless,
    /// Images above 450 dpi are downsampled to 300 dpi; new JPEGs at high quality.
    Low,
    /// Images above 225 dpi are downsampled to 150 dpi; new JPEGs at medium quality. Scanned
    /// pages are re-encoded in place: colour scans of gray pages stored gray, pages of paper and
    /// ink as bilevel images, JPEGs at the lowest quality that keeps them looking the same. The
    /// default: what screens and office printers show.
    #[default]
    Recommended,
    /// Images above 150 dpi are downsampled to 100 dpi and every JPEG is re-encoded at a lower
    /// quality; scanned pages become bilevel more readily: the smallest file that still reads
    /// well on screen.
    Extreme,
}

impl CompressLevel {
    pub const ALL: [CompressLevel; 4] = [Self::Lossless, Self::Low, Self::Recommended, Self::Extreme];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lossless => "lossless",
            Self::Low => "low",
            Self::Recommended => "recommended",
            Self::Extreme => "extreme",
        }
    }
}

/// A size in bytes: a number of bytes, or text with a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ByteSize {
    /// Bytes, e.g. `2000000`.
    Bytes(u64),
    /// A number and a unit: `B`, `KB`, `MB` or `GB` (binary: 1 KB = 1024 bytes, as `KiB`,
    /// `MiB`, `GiB` also say), e.g. `"2MB"`, `"1.5 MB"`, `"500kb"`.
    Text(String),
}

impl ByteSize {
    /// The size in bytes; the error says what is wrong with the text.
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            Self::Bytes(bytes) => Ok(*bytes),
            Self::Text(text) => parse_byte_size(text),
        }
    }
}

fn parse_byte_size(text: &str) -> Result<u64, String> {
    const EXPECTED: &str = "expected a number of bytes or a size such as \"2MB\", \"1.5 MB\" or \"500KB\"";
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("\"{text}\": {EXPECTED}"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("\"{text}\": unknown unit; {EXPECTED}")),
    };
    let bytes = number * scale as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("\"{text}\" is too large"));
    }
    #[expect(clippy::cast_possible_truncation, reason = "finite, not negative and below u64::MAX: checked just above")]
    let whole = bytes.floor() as u64;
    Ok(whole)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompressParams {
    /// `lossless`, `low`, `recommended` (default) or `extreme`. The output is never larger than
    /// the input: when nothing smaller passes the checks, the original comes back unchanged.
    #[serde(default)]
    pub level: CompressLevel,
    /// Size to get under: bytes (`2000000`) or a size with a unit (`"2MB"`, `"500KB"`; 1 MB =
    /// 1024 × 1024 bytes). When the level's result is larger, stronger settings are tried in
    /// turn; the report says whether the target was met. Give this or `target_size_mb`.
    #[serde(default)]
    pub target_size: Option<ByteSize>,
    /// Size to get under, in megabytes (1 MB = 1024 × 1024 bytes), e.g. `1.5`; as `target_size`.
    #[serde(default)]
    #[schemars(range(min = 0.001))]
    pub target_size_mb: Option<f64>,
}

impl Validate for CompressParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.target_bytes().map(drop)
    }
}

impl CompressParams {
    /// Smallest target accepted: below this no PDF page fits anyway.
    pub const MIN_TARGET_BYTES: u64 = 1024;

    /// The target size in bytes, from `target_size` or `target_size_mb`, if one is given.
    pub fn target_bytes(&self) -> Result<Option<u64>, ToolError> {
        let bytes = match (&self.target_size, self.target_size_mb) {
            (Some(_), Some(_)) => {
                return Err(ToolError::invalid_param("target_size", "give target_size or target_size_mb, not both"));
            }
            (None, None) => return Ok(None),
            (Some(size), None) => {
                (size.bytes().map_err(|why| ToolError::invalid_param("target_size", why))?, "target_size")
            }
            (None, Some(mb)) if mb.is_finite() && mb > 0.0 => {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "positive and finite; a target beyond u64::MAX bytes saturates, which any output meets"
                )]
                let bytes = (mb * (1u64 << 20) as f64) as u64;
                (bytes, "target_size_mb")
            }
            (None, Some(mb)) => {
                return Err(ToolError::invalid_param("target_size_mb", format!("must be a number above 0, got {mb}")));
            }
        };
        match bytes {
            (bytes, field) if bytes < Self::MIN_TARGET_BYTES => Err(ToolError::invalid_param(
                field,
                format!("{bytes} bytes is below the smallest target, {} bytes (1 KB)", Self::MIN_TARGET_BYTES),
            )),
            (bytes, _) => Ok(Some(bytes)),
        }
    }
}

/// PDF/A conformance level. Every level is "b" (basic): the pages look the same in years to come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PdfaLevel {
    /// PDF/A-1b (ISO 19005-1, PDF 1.4): no transparency, no object streams. For archives that
    /// demand part 1.
    #[serde(rename = "1b")]
    A1b,
    /// PDF/A-2b (ISO 19005-2, PDF 1.7): transparency and JPEG 2000 allowed. The usual choice.
    #[default]
    #[serde(rename = "2b")]
    A2b,
    /// PDF/A-3b (ISO 19005-3): PDF/A-2b that may carry attachments of any type.
    #[serde(rename = "3b")]
    A3b,
}

impl PdfaLevel {
    /// The part of ISO 19005, as `pdfaid:part` states it.
    pub fn part(self) -> u8 {
        match self {
            Self::A1b => 1,
            Self::A2b => 2,
            Self::A3b => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A1b => "1b",
            Self::A2b => "2b",
            Self::A3b => "3b",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfaParams {
    /// `1b`, `2b` (default) or `3b`. Colours are converted to sRGB and fonts embedded.
    #[serde(default, alias = "pdfa_level")]
    pub level: PdfaLevel,
}

impl Validate for PdfaParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrayscaleParams {}

impl Validate for GrayscaleParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<P: serde::de::DeserializeOwned + Validate>(json: &str) -> Result<P, ToolError> {
        let p: P = serde_json::from_str(json).map_err(|e| ToolError::invalid_param("params", e))?;
        p.validate().map(|()| p)
    }

    #[test]
    fn compress_defaults_and_levels() {
        let p: CompressParams = parse("{}").unwrap();
        assert_eq!((p.level, p.target_bytes().unwrap()), (CompressLevel::Recommended, None));
        for level in CompressLevel::ALL {
            let p: CompressParams = parse(&format!(r#"{{"level":"{}"}}"#, level.as_str())).unwrap();
            assert_eq!(p.level, level);
        }
        assert!(CompressLevel::Lossless < CompressLevel::Low && CompressLevel::Recommended < CompressLevel::Extreme);
        let err = parse::<CompressParams>(r#"{"level":"ultra"}"#).unwrap_err();
        assert!(err.message.contains("unknown variant `ultra`"), "{err}");
        assert!(parse::<CompressParams>(r#"{"levle":"low"}"#).is_err());
    }

    #[test]
    fn target_sizes_in_bytes_text_and_megabytes() {
        let bytes = |json: &str| parse::<CompressParams>(json).map(|p| p.target_bytes().unwrap().unwrap());
        assert_eq!(bytes(r#"{"target_size":2000000}"#).unwrap(), 2_000_000);
        assert_eq!(bytes(r#"{"target_size":"2MB"}"#).unwrap(), 2 << 20);
        assert_eq!(bytes(r#"{"target_size":"1.5 mb"}"#).unwrap(), 3 << 19);
        assert_eq!(bytes(r#"{"target_size":"500KiB"}"#).unwrap(), 500 << 10);
        assert_eq!(bytes(r#"{"target_size":"4096"}"#).unwrap(), 4096);
        assert_eq!(bytes(r#"{"target_size_mb":0.5}"#).unwrap(), 1 << 19);
        for (json, field) in [
            (r#"{"target_size":0}"#, "target_size:"),
            (r#"{"target_size":"0MB"}"#, "target_size:"),
            (r#"{"target_size":"2 parsecs"}"#, "target_size:"),
            (r#"{"target_size":"MB"}"#, "target_size:"),
            (r#"{"target_size":"1e999GB"}"#, "target_size:"),
            (r#"{"target_size_mb":0}"#, "target_size_mb:"),
            (r#"{"target_size_mb":-3}"#, "target_size_mb:"),
            (r#"{"target_size":100,"target_size_mb":1}"#, "target_size:"),
        ] {
            let err = parse::<CompressParams>(json).unwrap_err();
            assert!(err.message.starts_with(field), "{json}: {err}");
        }
        assert!(parse::<CompressParams>(r#"{"target_size":-5}"#).is_err());
    }

    #[test]
    fn pdfa_levels() {
        assert_eq!(parse::<PdfaParams>("{}").unwrap().level, PdfaLevel::A2b);
        let p: PdfaParams = parse(r#"{"level":"1b"}"#).unwrap();
        assert_eq!((p.level, p.level.part()), (PdfaLevel::A1b, 1));
        assert_eq!(parse::<PdfaParams>(r#"{"pdfa_level":"3b"}"#).unwrap().level, PdfaLevel::A3b);
        assert!(parse::<PdfaParams>(r#"{"level":"2u"}"#).is_err());
        assert!(parse::<GrayscaleParams>(r#"{"level":"1b"}"#).is_err());
    }
}
