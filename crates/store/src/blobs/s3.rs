//! Blobs as objects in an S3-compatible bucket, under an optional key prefix.
//!
//! A put smaller than one part is a single `PUT`; anything larger streams as a multipart upload,
//! [`PART_SIZE`] bytes at a time with at most [`PARTS_IN_FLIGHT`] parts on the wire, so memory
//! stays bounded whatever the size. Either way the object appears whole or not at all.
//!
//! S3 keeps the parts of an upload that was never completed nor aborted (and bills for them)
//! until someone aborts it, yet the API offers no way to find such uploads here. So a multipart
//! upload first writes a marker under `PREFIX/tmp/` naming itself: a failed put aborts its upload
//! at once, a cancelled one (its future dropped) in the background, and [`BlobStore::sweep_temp`]
//! aborts the uploads whose markers a dead process left.
//!
//! Endpoint, region and credentials come from the usual `AWS_*` environment variables
//! (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, web identity,
//! instance metadata…). Plain `http://` endpoints are allowed on loopback, elsewhere only with
//! `AWS_ALLOW_HTTP=true`.

use super::{BlobStore, ByteStream, Digester, Stored, check_key, tokio_util_stream};
use crate::error::{Result, StoreError};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, MultipartId, ObjectStore, ObjectStoreExt, RetryConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// Size of every part of a multipart upload but the last: S3's minimum, which also bounds the
/// memory one upload holds.
pub const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts of one upload sent at once, beside the one being filled.
pub const PARTS_IN_FLIGHT: usize = 2;

pub struct S3Blobs {
    store: Arc<AmazonS3>,
    /// Every key lives under it; the root of the bucket when empty.
    prefix: ObjectPath,
}

impl S3Blobs {
    /// A handle on `bucket`, keys under `prefix`, configured from the environment. Makes no
    /// request: [`BlobStore::check`] does.
    pub fn open(bucket: &str, prefix: &str) -> Result<Self> {
        Self::with_builder(AmazonS3Builder::from_env().with_bucket_name(bucket), prefix)
    }

    /// A handle configured by `builder` (which names the bucket), keys under `prefix`.
    pub fn with_builder(builder: AmazonS3Builder, prefix: &str) -> Result<Self> {
        let mut builder = builder.with_retry(RetryConfig {
            // The default retries for 3 minutes: a readiness probe or an upload should hear sooner.
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        });
        if builder.get_config_value(&AmazonS3ConfigKey::Endpoint).is_some_and(|url| is_loopback_http(&url)) {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(unavailable)?;
        let prefix = ObjectPath::from_iter(prefix.split('/').filter(|part| !part.is_empty()));
        Ok(Self { store: Arc::new(store), prefix })
    }

    fn path(&self, key: &str) -> Result<ObjectPath> {
        check_key(key)?;
        Ok(key.split('/').fold(self.prefix.clone(), |path, part| path.join(part)))
    }

    fn temp_dir(&self) -> ObjectPath {
        self.prefix.clone().join("tmp")
    }

    fn temp_path(&self) -> ObjectPath {
        self.temp_dir().join(uuid::Uuid::new_v4().to_string())
    }

    /// Streams `body` to `path`: one `PUT` when it fits in a part, else a multipart upload left
    /// in `upload` so the caller can abort it on failure.
    async fn write(
        &self,
        path: &ObjectPath,
        mut body: ByteStream<'_>,
        limit: u64,
        upload: &mut Option<Upload>,
    ) -> Result<Stored> {
        let mut digest = Digester::default();
        let mut part = BytesMut::with_capacity(PART_SIZE);
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk.map_err(StoreError::Body)?;
            digest.update(&chunk);
            if digest.size > limit {
                return Err(StoreError::TooLarge { limit });
            }
            while !chunk.is_empty() {
                let take = (PART_SIZE - part.len()).min(chunk.len());
                part.extend_from_slice(&chunk.split_to(take));
                if part.len() == PART_SIZE {
                    let full = std::mem::replace(&mut part, BytesMut::with_capacity(PART_SIZE)).freeze();
                    let upload = match upload {
                        Some(upload) => upload,
                        None => upload.insert(Upload::begin(&self.store, path.clone(), self.temp_path()).await?),
                    };
                    upload.send(full).await?;
                }
            }
        }
        match upload {
            None => {
                self.store.put(path, part.freeze().into()).await.map_err(unavailable)?;
            }
            Some(upload) => {
                if !part.is_empty() {
                    upload.send(part.freeze()).await?;
                }
                upload.finish().await?;
            }
        }
        Ok(digest.finish())
    }
}

/// A multipart upload in progress, with its marker under `tmp/`. Unless finished, it is aborted:
/// explicitly with [`Upload::abort`], or in the background when dropped.
struct Upload {
    store: Arc<AmazonS3>,
    path: ObjectPath,
    id: MultipartId,
    marker: ObjectPath,
    in_flight: JoinSet<object_store::Result<(usize, PartId)>>,
    sent: Vec<(usize, PartId)>,
    next_index: usize,
    settled: bool,
}

/// What a marker says: enough to abort the upload.
#[derive(Serialize, Deserialize)]
struct PendingUpload {
    path: String,
    upload_id: MultipartId,
}

impl Upload {
    async fn begin(store: &Arc<AmazonS3>, path: ObjectPath, marker: ObjectPath) -> Result<Self> {
        let id = store.create_multipart(&path).await.map_err(unavailable)?;
        let record = serde_json::to_vec(&PendingUpload { path: path.to_string(), upload_id: id.clone() })
            .expect("a marker serializes");
        let mut upload = Self {
            store: store.clone(),
            path,
            id,
            marker,
            in_flight: JoinSet::new(),
            sent: Vec::new(),
            next_index: 0,
            settled: false,
        };
        if let Err(e) = store.put(&upload.marker, record.into()).await {
            upload.abort().await;
            return Err(unavailable(e));
        }
        Ok(upload)
    }

    /// Queues the next part, first waiting for room among the parts in flight.
    async fn send(&mut self, part: Bytes) -> Result<()> {
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.settle_one().await?;
        }
        let (store, index) = (self.store.clone(), self.next_index);
        let (path, id) = (self.path.clone(), self.id.clone());
        self.in_flight.spawn(async move { store.put_part(&path, &id, index, part.into()).await.map(|id| (index, id)) });
        self.next_index += 1;
        Ok(())
    }

    async fn settle_one(&mut self) -> Result<()> {
        if let Some(joined) = self.in_flight.join_next().await {
            let sent = joined.map_err(|e| StoreError::Io(std::io::Error::other(e)))?.map_err(unavailable)?;
            self.sent.push(sent);
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        self.sent.sort_unstable_by_key(|(index, _)| *index);
        let parts = std::mem::take(&mut self.sent).into_iter().map(|(_, part)| part).collect();
        self.store.complete_multipart(&self.path, &self.id, parts).await.map_err(unavailable)?;
        self.settled = true;
        // A marker left behind is harmless: the sweep finds its upload gone and deletes it.
        if let Err(e) = self.store.delete(&self.marker).await {
            tracing::warn!(error = %e, marker = %self.marker, "could not delete an upload marker");
        }
        Ok(())
    }

    async fn abort(&mut self) {
        self.in_flight.shutdown().await;
        self.settled = true;
        if let Err(e) = abort_upload(&self.store, &self.path, &self.id, &self.marker).await {
            tracing::warn!(error = %e, path = %self.path, "could not abort a multipart upload; the sweep retries");
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Cancelled mid-upload (the client went away): abort without holding up the canceller.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, path, id, marker) =
                (self.store.clone(), self.path.clone(), self.id.clone(), self.marker.clone());
            runtime.spawn(async move {
                if let Err(e) = abort_upload(&store, &path, &id, &marker).await {
                    tracing::warn!(error = %e, path = %path, "could not abort a multipart upload; the sweep retries");
                }
            });
        }
    }
}

/// Aborts the upload (already gone is fine), then deletes its marker.
async fn abort_upload(
    store: &AmazonS3,
    path: &ObjectPath,
    id: &MultipartId,
    marker: &ObjectPath,
) -> object_store::Result<()> {
    match store.abort_multipart(path, id).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    store.delete(marker).await
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put_stream(&self, key: &str, body: ByteStream<'_>, limit: u64) -> Result<Stored> {
        let path = self.path(key)?;
        let mut upload = None;
        let written = self.write(&path, body, limit, &mut upload).await;
        if written.is_err()
            && let Some(upload) = upload.as_mut()
        {
            upload.abort().await;
        }
        written
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<Stored> {
        let body = tokio_util_stream(tokio::fs::File::open(path).await?);
        self.put_stream(key, body, u64::MAX).await
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<()> {
        let object = self.store.get(&self.path(key)?).await.map_err(not_found_or_unavailable)?;
        let mut file = tokio::fs::File::create(dest).await?;
        let copied: Result<()> = async {
            let mut chunks = object.into_stream();
            while let Some(chunk) = chunks.try_next().await.map_err(unavailable)? {
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok(())
        }
        .await;
        if copied.is_err() {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
        }
        copied
    }

    async fn read_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream<'static>> {
        let path = self.path(key)?;
        if start >= end {
            // An empty range is no valid HTTP range; the object must still exist.
            self.store.head(&path).await.map_err(not_found_or_unavailable)?;
            return Ok(futures::stream::empty().boxed());
        }
        let options = GetOptions { range: Some((start..end).into()), ..GetOptions::default() };
        let object = self.store.get_opts(&path, options).await.map_err(not_found_or_unavailable)?;
        Ok(object.into_stream().map_err(std::io::Error::other).boxed())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        // S3 answers a delete of a missing key with success.
        ObjectStoreExt::delete(&*self.store, &self.path(key)?).await.map_err(unavailable)
    }

    async fn check(&self) -> Result<()> {
        let probe = self.temp_path();
        self.store.put(&probe, Bytes::from_static(b"ok").into()).await.map_err(unavailable)?;
        ObjectStoreExt::delete(&*self.store, &probe).await.map_err(unavailable)
    }

    async fn sweep_temp(&self, max_age: Duration) -> Result<usize> {
        let mut removed = 0;
        let now = chrono::Utc::now();
        let mut markers = self.store.list(Some(&self.temp_dir()));
        while let Some(marker) = markers.try_next().await.map_err(unavailable)? {
            let age = (now - marker.last_modified).to_std().unwrap_or_default();
            if age <= max_age {
                continue;
            }
            let record = match self.store.get(&marker.location).await {
                Ok(object) => object.bytes().await.map_err(unavailable)?,
                // Removed meanwhile by the put that wrote it, or by another sweep.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(unavailable(e)),
            };
            let pending = serde_json::from_slice::<PendingUpload>(&record)
                .ok()
                .and_then(|pending| Some((ObjectPath::parse(&pending.path).ok()?, pending.upload_id)));
            let removal = match &pending {
                Some((path, id)) => abort_upload(&self.store, path, id, &marker.location).await,
                // A readiness probe whose process died before deleting it.
                None => ObjectStoreExt::delete(&*self.store, &marker.location).await,
            };
            match removal {
                Ok(()) => removed += 1,
                // The next sweep tries again.
                Err(e) => tracing::warn!(error = %e, marker = %marker.location, "could not sweep an upload marker"),
            }
        }
        Ok(removed)
    }

    async fn list_older(&self, prefix: &str, min_age: Duration) -> Result<Vec<String>> {
        let now = chrono::Utc::now();
        let dir = self.path(prefix)?;
        let mut keys = Vec::new();
        let mut objects = self.store.list(Some(&dir));
        while let Some(object) = objects.try_next().await.map_err(unavailable)? {
            let age = (now - object.last_modified).to_std().unwrap_or_default();
            // One level only, like a directory: `prefix/NAME`.
            let name = object.location.prefix_match(&dir).map(|parts| parts.collect::<Vec<_>>());
            if let Some([name]) = name.as_deref()
                && age >= min_age
            {
                keys.push(format!("{prefix}/{}", name.as_ref()));
            }
        }
        Ok(keys)
    }
}

/// Errors of writes and listings: the store is unreachable or refused (a missing bucket too).
fn unavailable(e: object_store::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(describe(&e)))
}

/// object_store's message, with the root cause (a refused connection, an unknown host) when it
/// does not say it yet.
fn describe(e: &object_store::Error) -> String {
    let message = e.to_string();
    let mut root: &dyn std::error::Error = e;
    while let Some(source) = root.source() {
        root = source;
    }
    let root = root.to_string();
    if message.contains(&root) { message } else { format!("{message}: {root}") }
}

fn not_found_or_unavailable(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => unavailable(other),
    }
}

/// `http://localhost…`, `http://127.…`, `http://[::1]…`: plain HTTP that never leaves the machine.
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_http;

    #[test]
    fn plain_http_only_on_loopback() {
        for url in ["http://127.0.0.1:9000", "http://localhost/", "http://[::1]:80/x", "http://127.8.0.1"] {
            assert!(is_loopback_http(url), "{url}");
        }
        for url in ["https://127.0.0.1", "http://10.0.0.1:9000", "http://minio:9000", "http://localhost.evil.com"] {
            assert!(!is_loopback_http(url), "{url}");
        }
    }
}
