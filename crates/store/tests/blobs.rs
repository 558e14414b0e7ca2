//! One blob conformance suite, run against every backend: [`FsBlobs`] in a temp dir and
//! [`S3Blobs`] on moto's S3 API server on loopback (a server per test, a prefix per test). After
//! each scenario, what the backend holds — objects, temp files, open multipart uploads — is
//! listed by the test itself, not through the code under test.

use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use scanpro_core::ErrorCode;
use scanpro_store::blobs::s3::PART_SIZE;
use scanpro_store::blobs::{self, ByteStream, FsBlobs, HEAD_LEN, S3Blobs, StorageUrl};
use scanpro_store::{Blobs, StoreError, Stored};
use scanpro_testkit::moto::{self, Moto};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BUCKET: &str = "scanpro-blobs";

struct Backend {
    blobs: Blobs,
    place: Place,
}

enum Place {
    Fs { root: PathBuf, _dir: tempfile::TempDir },
    S3 { moto: Moto, prefix: String },
}

impl Backend {
    async fn fs() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let blobs = Arc::new(FsBlobs::open(&root).await.unwrap());
        Self { blobs, place: Place::Fs { root, _dir: dir } }
    }

    async fn s3() -> Self {
        let moto = Moto::start();
        moto.create_bucket(BUCKET);
        let prefix = format!("run-{}/blobs", uuid::Uuid::new_v4().simple());
        let builder = AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(moto.endpoint())
            .with_region(moto::REGION)
            .with_access_key_id(moto::ACCESS_KEY_ID)
            .with_secret_access_key(moto::SECRET_ACCESS_KEY);
        let blobs = Arc::new(S3Blobs::with_builder(builder, &prefix).unwrap());
        Self { blobs, place: Place::S3 { moto, prefix } }
    }

    /// Everything the backend holds: stored blobs, temp files, open multipart uploads.
    fn leftovers(&self) -> Vec<String> {
        match &self.place {
            Place::Fs { root, .. } => files_under(root).iter().map(|p| p.display().to_string()).collect(),
            Place::S3 { moto, prefix } => {
                let mut held = moto.keys(BUCKET, prefix);
                held.extend(moto.open_uploads(BUCKET, prefix).into_iter().map(|key| format!("upload of {key}")));
                held
            }
        }
    }

    /// Waits for cleanup that runs in the background (a cancelled S3 upload is aborted so).
    async fn wait_for_nothing_left(&self) {
        let started = Instant::now();
        loop {
            let left = self.leftovers();
            if left.is_empty() {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "still held after 10 s: {left:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Parts the stored object was uploaded in, where the backend tells.
    fn parts(&self, key: &str) -> Option<usize> {
        match &self.place {
            Place::Fs { .. } => None,
            Place::S3 { moto, prefix } => {
                let etag = moto.etag(BUCKET, &format!("{prefix}/{key}"));
                Some(etag.rsplit_once('-').map_or(1, |(_, parts)| parts.parse().unwrap()))
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { found.extend(files_under(&path)) } else { found.push(path) }
    }
    found
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod fs { $( #[tokio::test] async fn $name() { super::$name(super::Backend::fs().await).await } )* }
        mod s3 { $( #[tokio::test] async fn $name() { super::$name(super::Backend::s3().await).await } )* }
    };
}

conformance!(
    round_trip_keeps_bytes_hash_and_head,
    put_file_and_fetch_to_round_trip,
    over_the_limit_mid_stream_leaves_nothing,
    broken_body_leaves_nothing,
    ranged_reads,
    missing_key_is_not_found,
    delete_is_idempotent,
    check_accepts_a_write_and_leaves_nothing,
    twenty_megabytes_stream_through,
    cancelled_put_leaves_nothing,
    sweep_removes_what_a_dead_put_left,
    keys_cannot_escape,
    old_blobs_are_listed_one_level_under_their_prefix,
);

/// `len` bytes of a pattern that never repeats at a part boundary, from `offset` on.
fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64)
        .map(|i| {
            let mut x = (i / 8).wrapping_add(0x9E37_79B9_7F4A_7C15);
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (x ^ (x >> 31)).to_le_bytes()[(i % 8) as usize]
        })
        .collect()
}

/// The pattern's first `total` bytes as a stream of `chunk`-byte pieces, made as they are read.
fn pattern_stream(total: u64, chunk: usize) -> ByteStream<'static> {
    futures::stream::unfold(0u64, move |offset| async move {
        (offset < total).then(|| {
            let len = chunk.min(usize::try_from(total - offset).unwrap());
            (Ok(Bytes::from(pattern(offset, len))), offset + len as u64)
        })
    })
    .boxed()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn read_all(blobs: &Blobs, key: &str, start: u64, end: u64) -> Vec<u8> {
    let mut stream = blobs.read_range(key, start, end).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes
}

async fn round_trip_keeps_bytes_hash_and_head(backend: Backend) {
    let data = pattern(0, 20_000);
    let chunks: Vec<std::io::Result<Bytes>> = data.chunks(3_001).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let stored = backend.blobs.put_stream("files/a", futures::stream::iter(chunks).boxed(), 20_000).await.unwrap();
    assert_eq!(stored.size, 20_000);
    assert_eq!(stored.sha256, sha256_hex(&data));
    assert_eq!(stored.head, data[..HEAD_LEN]);
    assert_eq!(read_all(&backend.blobs, "files/a", 0, 20_000).await, data);

    let small = backend.blobs.put_stream("files/small", futures::stream::iter([Ok(Bytes::from("tiny"))]).boxed(), 4);
    let small = small.await.unwrap();
    assert_eq!((small.size, small.head.as_slice()), (4, b"tiny".as_slice()));
    let empty = backend.blobs.put_stream("files/empty", futures::stream::empty().boxed(), 0).await.unwrap();
    assert_eq!((empty.size, empty.sha256.as_str()), (0, sha256_hex(b"").as_str()));
    assert!(read_all(&backend.blobs, "files/empty", 0, 0).await.is_empty());

    // Writing a key again replaces the blob.
    backend.blobs.put_stream("files/a", futures::stream::iter([Ok(Bytes::from("new"))]).boxed(), 10).await.unwrap();
    assert_eq!(read_all(&backend.blobs, "files/a", 0, 3).await, b"new");
    for key in ["files/a", "files/small", "files/empty"] {
        backend.blobs.delete(key).await.unwrap();
    }
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

async fn put_file_and_fetch_to_round_trip(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    // Larger than a part: on S3 both directions stream through several requests.
    let data = pattern(7, PART_SIZE + 123_457);
    std::fs::write(&source, &data).unwrap();
    let stored = backend.blobs.put_file("files/out", &source).await.unwrap();
    assert_eq!((stored.size, stored.sha256.clone()), (data.len() as u64, sha256_hex(&data)));
    let fetched = dir.path().join("fetched.bin");
    backend.blobs.fetch_to("files/out", &fetched).await.unwrap();
    assert_eq!(sha256_hex(&std::fs::read(&fetched).unwrap()), stored.sha256);
    let missing = backend.blobs.put_file("files/none", &dir.path().join("absent.bin")).await.unwrap_err();
    assert!(matches!(missing, StoreError::Io(_)), "{missing:?}");
    backend.blobs.delete("files/out").await.unwrap();
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

async fn over_the_limit_mid_stream_leaves_nothing(backend: Backend) {
    // Small: refused within the first part.
    let refused = backend.blobs.put_stream("files/small", pattern_stream(1_000, 64), 100).await.unwrap_err();
    assert!(matches!(refused, StoreError::TooLarge { limit: 100 }), "{refused:?}");
    assert_eq!(refused.code(), ErrorCode::FileTooLarge);
    // Large: refused after a part went out (on S3, a multipart upload to abort).
    let limit = PART_SIZE as u64 + 2 * 1024 * 1024;
    let refused = backend.blobs.put_stream("files/big", pattern_stream(3 * PART_SIZE as u64, 65_536), limit).await;
    assert!(matches!(refused, Err(StoreError::TooLarge { .. })), "{refused:?}");
    for key in ["files/small", "files/big"] {
        assert!(matches!(backend.blobs.read_range(key, 0, 1).await, Err(StoreError::NotFound)));
    }
    assert_eq!(backend.leftovers(), Vec::<String>::new());
    // Exactly at the limit is accepted.
    let stored = backend.blobs.put_stream("files/exact", pattern_stream(100, 7), 100).await.unwrap();
    assert_eq!(stored.size, 100);
}

async fn broken_body_leaves_nothing(backend: Backend) {
    let broken = pattern_stream(PART_SIZE as u64 + 65_536, 65_536)
        .chain(futures::stream::iter([Err(std::io::Error::other("connection reset"))]))
        .boxed();
    let failed = backend.blobs.put_stream("files/broken", broken, u64::MAX).await.unwrap_err();
    assert!(matches!(failed, StoreError::Body(_)), "{failed:?}");
    assert_eq!(failed.code(), ErrorCode::BadRequest);
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

async fn ranged_reads(backend: Backend) {
    let data = pattern(0, 50_000);
    backend
        .blobs
        .put_stream("files/r", futures::stream::iter([Ok(Bytes::from(data.clone()))]).boxed(), 50_000)
        .await
        .unwrap();
    for (start, end) in [(0, 1), (6, 11), (0, 50_000), (49_999, 50_000), (8_192, 40_000)] {
        let got = read_all(&backend.blobs, "files/r", start, end).await;
        assert_eq!(got, data[usize::try_from(start).unwrap()..usize::try_from(end).unwrap()], "range {start}..{end}");
    }
    // An end past the blob stops at its end; an empty range is empty.
    assert_eq!(read_all(&backend.blobs, "files/r", 49_000, 60_000).await, data[49_000..]);
    assert!(read_all(&backend.blobs, "files/r", 300, 300).await.is_empty());
}

async fn missing_key_is_not_found(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x");
    let read = backend.blobs.read_range("files/missing", 0, 10).await.err().expect("no blob to read");
    assert!(matches!(read, StoreError::NotFound), "{read:?}");
    assert_eq!(read.code(), ErrorCode::NotFound);
    let empty_read = backend.blobs.read_range("files/missing", 0, 0).await.err().expect("no blob to read");
    assert!(matches!(empty_read, StoreError::NotFound), "{empty_read:?}");
    let fetched = backend.blobs.fetch_to("files/missing", &dest).await.unwrap_err();
    assert!(matches!(fetched, StoreError::NotFound), "{fetched:?}");
    assert!(!dest.exists(), "a failed fetch leaves no file");
}

async fn delete_is_idempotent(backend: Backend) {
    backend.blobs.put_stream("files/d", futures::stream::iter([Ok(Bytes::from("x"))]).boxed(), 1).await.unwrap();
    backend.blobs.delete("files/d").await.unwrap();
    backend.blobs.delete("files/d").await.unwrap();
    backend.blobs.delete("files/never-stored").await.unwrap();
    assert!(matches!(backend.blobs.read_range("files/d", 0, 1).await, Err(StoreError::NotFound)));
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

async fn check_accepts_a_write_and_leaves_nothing(backend: Backend) {
    backend.blobs.check().await.unwrap();
    backend.blobs.check().await.unwrap();
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

async fn twenty_megabytes_stream_through(backend: Backend) {
    const TOTAL: u64 = 20_000_000;
    let expected = sha256_hex(&pattern(0, usize::try_from(TOTAL).unwrap()));
    // Odd-sized chunks so part boundaries fall inside them.
    let stored = backend.blobs.put_stream("files/big", pattern_stream(TOTAL, 100_003), TOTAL).await.unwrap();
    assert_eq!((stored.size, stored.sha256.as_str()), (TOTAL, expected.as_str()));
    assert_eq!(stored.head, pattern(0, HEAD_LEN));
    if let Some(parts) = backend.parts("files/big") {
        assert_eq!(parts, usize::try_from(TOTAL.div_ceil(PART_SIZE as u64)).unwrap(), "uploaded in parts");
    }
    let boundary = PART_SIZE as u64;
    let across = read_all(&backend.blobs, "files/big", boundary - 1_000, 2 * boundary + 1_000).await;
    assert_eq!(across, pattern(boundary - 1_000, PART_SIZE + 2_000), "bytes across part boundaries");
    let dir = tempfile::tempdir().unwrap();
    let fetched = dir.path().join("big.bin");
    backend.blobs.fetch_to("files/big", &fetched).await.unwrap();
    let sha256sum = std::process::Command::new("sha256sum").arg(&fetched).output().expect("sha256sum is required");
    assert_eq!(String::from_utf8_lossy(&sha256sum.stdout).split(' ').next(), Some(expected.as_str()));
    backend.blobs.delete("files/big").await.unwrap();
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

/// Drives a put of a body fed through a channel until `sent` bytes (whole chunks) were taken
/// and handled, then returns the put still running.
async fn put_in_progress<'a>(
    blobs: &'a Blobs,
    key: &'static str,
    sent: usize,
) -> std::pin::Pin<Box<dyn Future<Output = Result<Stored, StoreError>> + Send + 'a>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) }).boxed();
    let mut put = blobs.put_stream(key, body, u64::MAX);
    let feed = async {
        // With room for one chunk, a send returns once the put took the chunk before: after the
        // last data chunk, two more sends prove that it handled it (and its part went out).
        for offset in (0..sent).step_by(65_536) {
            tx.send(Ok(Bytes::from(pattern(offset as u64, 65_536.min(sent - offset))))).await.unwrap();
        }
        for _ in 0..2 {
            tx.send(Ok(Bytes::from_static(b"more"))).await.unwrap();
        }
    };
    tokio::select! {
        done = &mut put => panic!("the put ended early: {:?}", done.map(|s| s.size)),
        () = feed => {}
    }
    // Keep the sender alive with the put, so the body never ends.
    Box::pin(async move {
        let _tx = tx;
        put.await
    })
}

async fn cancelled_put_leaves_nothing(backend: Backend) {
    let put = put_in_progress(&backend.blobs, "files/cancelled", PART_SIZE + 65_536).await;
    drop(put);
    backend.wait_for_nothing_left().await;
}

async fn sweep_removes_what_a_dead_put_left(backend: Backend) {
    let put = put_in_progress(&backend.blobs, "files/orphan", PART_SIZE + 65_536).await;
    // A process that dies mid-put runs no destructor: forgetting the put does the same.
    std::mem::forget(put);
    assert!(!backend.leftovers().is_empty(), "the dead put left something to sweep");
    assert_eq!(backend.blobs.sweep_temp(Duration::from_secs(3600)).await.unwrap(), 0, "too young to sweep");
    assert!(!backend.leftovers().is_empty());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(backend.blobs.sweep_temp(Duration::ZERO).await.unwrap(), 1);
    backend.wait_for_nothing_left().await;
}

async fn old_blobs_are_listed_one_level_under_their_prefix(backend: Backend) {
    let one_byte = || futures::stream::iter([Ok(Bytes::from("x"))]).boxed();
    for key in ["files/a", "files/b", "files/deeper/c", "other/d"] {
        backend.blobs.put_stream(key, one_byte(), 1).await.unwrap();
    }
    let mut listed = backend.blobs.list_older("files", Duration::ZERO).await.unwrap();
    listed.sort();
    assert_eq!(listed, ["files/a", "files/b"]);
    assert_eq!(backend.blobs.list_older("files", Duration::from_secs(3600)).await.unwrap(), Vec::<String>::new());
    assert_eq!(backend.blobs.list_older("nothing", Duration::ZERO).await.unwrap(), Vec::<String>::new());
}

async fn keys_cannot_escape(backend: Backend) {
    for key in ["../escape", "files/../../x", "", "/files/a", "files//a", "files/./a"] {
        let refused = backend.blobs.put_stream(key, futures::stream::iter([Ok(Bytes::from("x"))]).boxed(), 1).await;
        assert!(matches!(refused, Err(StoreError::Corrupt(_))), "key {key:?}: {refused:?}");
        assert!(backend.blobs.read_range(key, 0, 1).await.is_err(), "key {key:?}");
    }
    assert_eq!(backend.leftovers(), Vec::<String>::new());
}

#[test]
fn storage_urls_parse() {
    let parse = |url| StorageUrl::parse(url).unwrap();
    assert_eq!(parse("file://blobs"), StorageUrl::File("blobs".into()));
    assert_eq!(parse("file:///srv/shared/blobs"), StorageUrl::File("/srv/shared/blobs".into()));
    assert_eq!(parse("s3://bucket"), StorageUrl::S3 { bucket: "bucket".into(), prefix: String::new() });
    assert_eq!(parse("s3://bucket/a/b/"), StorageUrl::S3 { bucket: "bucket".into(), prefix: "a/b".into() });
    for bad in ["s3://", "s3:///prefix", "file://", "minio://host/bucket", "/srv/blobs", "s3://bucket/a//b"] {
        let message = StorageUrl::parse(bad).unwrap_err().to_string();
        assert!(message.contains(bad) && message.contains("s3://BUCKET/PREFIX"), "{message}");
    }
}

#[tokio::test]
async fn file_urls_open_under_the_data_dir() {
    let data_dir = tempfile::tempdir().unwrap();
    let one_byte = || futures::stream::iter([Ok(Bytes::from("x"))]).boxed();
    let default = blobs::open(None, data_dir.path()).await.unwrap();
    default.put_stream("files/a", one_byte(), 1).await.unwrap();
    assert!(data_dir.path().join("blobs/files/a").is_file());
    let shared = data_dir.path().join("volume");
    let absolute = blobs::open(Some(&format!("file://{}", shared.display())), Path::new("/nonexistent")).await.unwrap();
    absolute.put_stream("files/b", one_byte(), 1).await.unwrap();
    assert!(shared.join("files/b").is_file());
    let refused = blobs::open(Some("ftp://x"), data_dir.path()).await.err().expect("an unknown scheme is refused");
    assert!(refused.to_string().contains("ftp://x"), "{refused}");
}
