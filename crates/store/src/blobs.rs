//! Blob storage: the bytes of uploads and outputs, addressed by key.
//!
//! Every put hashes the bytes with SHA-256 while streaming and keeps the first few KiB so the
//! caller can detect the type from content. A reader never sees half a blob, and a failed put
//! leaves nothing; what a dead process left half-written, [`BlobStore::sweep_temp`] removes.
//!
//! # Layout
//! - [`BlobStore`], the backend trait, and [`Blobs`], the handle the rest of ScanPro holds.
//! - [`open`]: the backend `STORAGE_URL` names ([`StorageUrl`]).
//! - [`FsBlobs`] (here): files under a directory, local or a shared volume; writes go to a temp
//!   file renamed into place.
//! - [`s3`]: [`S3Blobs`], S3-compatible object storage; large puts are multipart uploads.

use crate::error::{Result, StoreError};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

pub mod s3;
pub use s3::S3Blobs;

/// How many leading bytes a put keeps for content detection.
pub const HEAD_LEN: usize = 8192;

/// What a put stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub size: u64,
    pub sha256: String,
    /// The first [`HEAD_LEN`] bytes (fewer for a small file).
    pub head: Vec<u8>,
}

pub type ByteStream<'a> = BoxStream<'a, std::io::Result<Bytes>>;

/// A blob backend. Keys are relative paths such as `files/0190…`.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `body` into `key`, failing with `TooLarge` (and keeping nothing) past `limit` bytes.
    async fn put_stream(&self, key: &str, body: ByteStream<'_>, limit: u64) -> Result<Stored>;
    /// Stores a local file under `key` (worker outputs).
    async fn put_file(&self, key: &str, path: &Path) -> Result<Stored>;
    /// Copies the blob to a local path (worker inputs).
    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<()>;
    /// Streams bytes `range` (inclusive start, exclusive end) of the blob.
    async fn read_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream<'static>>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Readiness: the backend accepts a write.
    async fn check(&self) -> Result<()>;
    /// Deletes temp files older than `max_age` (puts that died with their process).
    async fn sweep_temp(&self, max_age: std::time::Duration) -> Result<usize>;
    /// The keys under `prefix/` (one level: `prefix/NAME`) whose blob was written at least
    /// `min_age` ago, for the sweep of blobs no row refers to.
    async fn list_older(&self, prefix: &str, min_age: std::time::Duration) -> Result<Vec<String>>;
}

/// The blob handle the rest of ScanPro holds.
pub type Blobs = Arc<dyn BlobStore>;

/// Where blobs live, as `STORAGE_URL` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// `file://DIR`: a directory (a shared volume when several processes use it); a relative
    /// `DIR` is taken from the data dir.
    File(PathBuf),
    /// `s3://BUCKET/PREFIX`: objects under `PREFIX/` (which may be empty) in `BUCKET`.
    S3 { bucket: String, prefix: String },
}

#[derive(Debug, thiserror::Error)]
#[error("STORAGE_URL {url:?} {problem}; expected file://DIR or s3://BUCKET/PREFIX")]
pub struct BadStorageUrl {
    url: String,
    problem: &'static str,
}

impl StorageUrl {
    pub fn parse(url: &str) -> std::result::Result<Self, BadStorageUrl> {
        let bad = |problem| BadStorageUrl { url: url.to_owned(), problem };
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(bad("names no directory"));
            }
            Ok(Self::File(PathBuf::from(dir)))
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("names no bucket"));
            }
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty() && check_key(prefix).is_err() {
                return Err(bad("has an empty, \".\" or \"..\" segment in its prefix"));
            }
            Ok(Self::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
        } else {
            Err(bad("has an unknown scheme"))
        }
    }
}

/// Opens the storage `url` names (default: `file://blobs`, under `data_dir`). S3 storage is
/// checked with a small write, so a wrong bucket or credentials fail here rather than at the
/// first upload.
pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Blobs> {
    let url = match url {
        Some(url) => StorageUrl::parse(url)
            .map_err(|e| StoreError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?,
        None => StorageUrl::File(PathBuf::from("blobs")),
    };
    match url {
        StorageUrl::File(dir) => Ok(Arc::new(FsBlobs::open(data_dir.join(dir)).await?)),
        StorageUrl::S3 { bucket, prefix } => {
            let blobs = S3Blobs::open(&bucket, &prefix)?;
            blobs.check().await?;
            Ok(Arc::new(blobs))
        }
    }
}

/// Keys are made by ScanPro, but refuse anything that could leave the root anyway.
fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err(StoreError::Corrupt(format!("invalid blob key {key:?}")));
    }
    Ok(())
}

/// Blobs as files under a root directory.
pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("tmp")).await?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(uuid::Uuid::new_v4().to_string())
    }

    async fn commit(&self, temp: &Path, key: &str) -> Result<()> {
        let dest = self.path(key)?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(temp, dest).await?;
        Ok(())
    }
}

/// Removes a temp file unless disarmed: a failed or abandoned put leaves nothing behind.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[derive(Default)]
struct Digester {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl Digester {
    fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
    }

    fn finish(self) -> Stored {
        Stored { size: self.size, sha256: hex::encode(self.hasher.finalize()), head: self.head }
    }
}

#[async_trait]
impl BlobStore for FsBlobs {
    async fn put_stream(&self, key: &str, mut body: ByteStream<'_>, limit: u64) -> Result<Stored> {
        let temp = self.temp_path();
        let guard = TempGuard(Some(temp.clone()));
        let mut file = tokio::fs::File::create(&temp).await?;
        let mut digest = Digester::default();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            digest.update(&chunk);
            if digest.size > limit {
                return Err(StoreError::TooLarge { limit });
            }
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        drop(file);
        self.commit(&temp, key).await?;
        guard.disarm();
        Ok(digest.finish())
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<Stored> {
        let body = tokio_util_stream(tokio::fs::File::open(path).await?);
        self.put_stream(key, body, u64::MAX).await
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<()> {
        let source = self.path(key)?;
        // A hard link costs nothing when both sit on one filesystem; copy otherwise.
        if tokio::fs::hard_link(&source, dest).await.is_err()
            && let Err(e) = tokio::fs::copy(&source, dest).await
        {
            let missing =
                e.kind() == std::io::ErrorKind::NotFound && !tokio::fs::try_exists(&source).await.unwrap_or(true);
            return Err(if missing { StoreError::NotFound } else { e.into() });
        }
        Ok(())
    }

    async fn read_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream<'static>> {
        let mut file = match tokio::fs::File::open(self.path(key)?).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            other => other?,
        };
        file.seek(SeekFrom::Start(start)).await?;
        Ok(tokio_util_stream(file.take(end.saturating_sub(start))))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn check(&self) -> Result<()> {
        let probe = self.temp_path();
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }

    async fn sweep_temp(&self, max_age: std::time::Duration) -> Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let age = entry.metadata().await?.modified()?.elapsed().unwrap_or_default();
            if age > max_age && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn list_older(&self, prefix: &str, min_age: std::time::Duration) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut entries = match tokio::fs::read_dir(self.path(prefix)?).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
            other => other?,
        };
        while let Some(entry) = entries.next_entry().await? {
            let metadata = entry.metadata().await?;
            let age = metadata.modified()?.elapsed().unwrap_or_default();
            if metadata.is_file() && age >= min_age {
                keys.push(format!("{prefix}/{}", entry.file_name().to_string_lossy()));
            }
        }
        Ok(keys)
    }
}

/// Reads an `AsyncRead` as a stream of 64 KiB chunks.
fn tokio_util_stream<R: tokio::io::AsyncRead + Send + Unpin + 'static>(reader: R) -> ByteStream<'static> {
    futures::stream::unfold(reader, |mut reader| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), reader))
            }
            Err(e) => Some((Err(e), reader)),
        }
    })
    .boxed()
}
