//! Streaming files out: single blobs with `Range` support, and several files as one zip.
//!
//! Every download is an attachment with `X-Content-Type-Options: nosniff` and a `sandbox` content
//! security policy: an uploaded HTML or SVG file opened from its link runs no script and reaches
//! nothing on this origin.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_core::ErrorCode;
use scanpro_pipeline::Pipeline;
use scanpro_store::FileRecord;
use std::io::{Seek, Write};

/// The file's bytes, whole or the one range asked for.
pub async fn file_response(
    pipeline: &Pipeline,
    file: &FileRecord,
    request_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let range = match request_headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(text) => match parse_range(text, file.size) {
            RangeRequest::Satisfiable(start, end) => Some((start, end)),
            RangeRequest::Ignore => None,
            RangeRequest::Unsatisfiable => {
                let mut response = ApiError::new(
                    ErrorCode::BadRequest,
                    format!("range {text:?} is outside the file ({} bytes)", file.size),
                )
                .into_response();
                *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                response.headers_mut().insert(header::CONTENT_RANGE, header_value(&format!("bytes */{}", file.size)));
                return Ok(response);
            }
        },
    };
    let (start, end) = range.unwrap_or((0, file.size));
    let stream = pipeline.file_bytes(file, start, end).await?;
    metrics::counter!(scanpro_core::metrics::DOWNLOAD_BYTES).increment(end - start);
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(&file.content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::ETAG, header_value(&format!("\"{}\"", file.sha256)));
    headers.insert(header::CONTENT_DISPOSITION, attachment(&file.filename));
    inert(headers);
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        response
            .headers_mut()
            .insert(header::CONTENT_RANGE, header_value(&format!("bytes {start}-{}/{}", end - 1, file.size)));
    }
    Ok(response)
}

/// Several files as one zip, built in an anonymous temp file (never whole in memory).
pub async fn zip_response(pipeline: &Pipeline, files: &[FileRecord], zip_name: &str) -> Result<Response, ApiError> {
    let staging = tempfile::tempdir().map_err(io_error)?;
    let mut entries = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let path = staging.path().join(index.to_string());
        pipeline.copy_file_to(file, &path).await?;
        entries.push((path, file.filename.clone()));
    }
    let zip = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let mut file = write_zip(tempfile::tempfile()?, &entries)?;
        file.rewind()?;
        Ok(file)
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::InternalError, format!("zip task: {e}")))?
    .map_err(io_error)?;
    drop(staging);
    let size = zip.metadata().map_err(io_error)?.len();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(zip));
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::CONTENT_DISPOSITION, attachment(zip_name));
    inert(headers);
    Ok(response)
}

/// Writes `entries` (a file, and its name in the archive) as a zip into `target`, stored
/// uncompressed; duplicate names get a number.
pub fn write_zip<W: Write + Seek>(target: W, entries: &[(std::path::PathBuf, String)]) -> std::io::Result<W> {
    let mut writer = zip::ZipWriter::new(target);
    // PDFs and images are compressed already: store them as they are.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
    let mut used = std::collections::HashSet::new();
    for (path, name) in entries {
        writer.start_file(unique_name(name, &mut used), options).map_err(std::io::Error::other)?;
        std::io::copy(&mut std::fs::File::open(path)?, &mut writer)?;
    }
    let mut file = writer.finish().map_err(std::io::Error::other)?;
    file.flush()?;
    Ok(file)
}

/// Zip entry names must differ: `a.pdf`, `a (2).pdf`, …
fn unique_name(name: &str, used: &mut std::collections::HashSet<String>) -> String {
    let mut candidate = name.to_owned();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) => (stem.to_owned(), format!(".{ext}")),
        None => (name.to_owned(), String::new()),
    };
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{stem} ({n}){ext}");
        n += 1;
    }
    candidate
}

enum RangeRequest {
    /// Half-open byte range [start, end).
    Satisfiable(u64, u64),
    /// Malformed or multi-range: serve the whole file, as RFC 9110 allows.
    Ignore,
    Unsatisfiable,
}

fn parse_range(text: &str, size: u64) -> RangeRequest {
    let Some(spec) = text.strip_prefix("bytes=") else { return RangeRequest::Ignore };
    if spec.contains(',') {
        return RangeRequest::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return RangeRequest::Ignore };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => Some((start, end.saturating_add(1).min(size))),
        (Ok(start), Err(_)) if last.is_empty() => Some((start, size)),
        (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => Some((size.saturating_sub(suffix), size)),
        _ => return RangeRequest::Ignore,
    };
    match parsed {
        Some((start, end)) if start < size && start < end => RangeRequest::Satisfiable(start, end),
        _ => RangeRequest::Unsatisfiable,
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn attachment(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    header_value(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
}

/// A browser neither guesses another type for the bytes nor runs them as this origin's page.
fn inert(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "download staging failed");
    ApiError::new(ErrorCode::Unavailable, "could not prepare the download; retry shortly")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<(u64, u64)> {
        match parse_range(text, 100) {
            RangeRequest::Satisfiable(a, b) => Some((a, b)),
            RangeRequest::Ignore => None,
            RangeRequest::Unsatisfiable => Some((u64::MAX, u64::MAX)),
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9"), Some((0, 10)));
        assert_eq!(range("bytes=90-"), Some((90, 100)));
        assert_eq!(range("bytes=-10"), Some((90, 100)));
        assert_eq!(range("bytes=50-500"), Some((50, 100)));
        assert_eq!(range("bytes=100-"), Some((u64::MAX, u64::MAX)));
        assert_eq!(range("bytes=0-1,5-6"), None);
        assert_eq!(range("items=0-1"), None);
    }

    #[test]
    fn zip_names_are_unique() {
        let mut used = Default::default();
        assert_eq!(unique_name("a.pdf", &mut used), "a.pdf");
        assert_eq!(unique_name("a.pdf", &mut used), "a (2).pdf");
        assert_eq!(unique_name("a.pdf", &mut used), "a (3).pdf");
    }
}
