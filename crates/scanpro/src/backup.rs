//! `scanpro backup` and `scanpro restore`: the database and the blob store, each into a
//! directory of its own under the backup root, with a manifest of what it holds.
//!
//! - `database-{time}/`: `database.sqlite` (SQLite, copied online with `VACUUM INTO`) or
//!   `database.pgdump` (PostgreSQL, `pg_dump --format=custom`), and `manifest.json` with its
//!   SHA-256.
//! - `files-{time}/`: `files.zip` (every blob, stored as it is) and `manifest.json` listing each
//!   blob's key, size and SHA-256; a restore checks every one.
//!
//! Retention follows the deployment's: the newest `--keep-databases` (7, taken daily) and
//! `--keep-files` (3, taken weekly) are kept, older ones removed after a backup succeeds.
//! A restore takes the newest of each (or the directories named) and puts them back: the
//! database replaced whole, the blobs written again.

use crate::config::Config;
use anyhow::{Context, bail};
use chrono::Utc;
use scanpro_process::Subprocess;
use scanpro_store::Meta;
use scanpro_store::meta::Backend;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILES_PREFIX: &str = "files";
const DUMP_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The backup root (default `{data_dir}/backups`).
    #[arg(long)]
    to: Option<PathBuf>,
    /// Back up only `database` or `files` (default both).
    #[arg(long, value_parser = ["database", "files"])]
    only: Option<String>,
    /// Database backups kept.
    #[arg(long, default_value_t = 7)]
    keep_databases: usize,
    /// File backups kept.
    #[arg(long, default_value_t = 3)]
    keep_files: usize,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup root: its newest database and files backups are restored.
    #[arg(long)]
    from: Option<PathBuf>,
    /// A `database-…` backup directory to restore instead of the newest.
    #[arg(long)]
    database: Option<PathBuf>,
    /// A `files-…` backup directory to restore instead of the newest.
    #[arg(long)]
    files: Option<PathBuf>,
}

/// What a backup directory holds.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    created_at: chrono::DateTime<Utc>,
    scanpro_version: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database: Option<DatabasePart>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    blobs: Vec<BlobEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DatabasePart {
    backend: String,
    file: String,
    sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct BlobEntry {
    key: String,
    size: u64,
    sha256: String,
}

/// `pg_dump` and `pg_restore` read no user's document and must reach the database host (its
/// name resolved over DNS): they run through the subprocess runner without the engine sandbox.
/// Called before the configuration sets the process's sandbox mode (the first setting holds).
pub fn unconfined_tools() {
    scanpro_process::sandbox::set_mode(scanpro_process::sandbox::SandboxMode::Off);
}

pub fn backup(config: Config, args: BackupArgs) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    let root = args.to.clone().unwrap_or_else(|| config.data_dir.join("backups"));
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
        if args.only.as_deref() != Some("files") {
            let dir = back_up_database(&config, &root.join(format!("database-{stamp}"))).await?;
            println!("database backed up to {}", dir.display());
            prune(&root, "database-", args.keep_databases)?;
        }
        if args.only.as_deref() != Some("database") {
            let dir = back_up_files(&config, &root.join(format!("files-{stamp}"))).await?;
            println!("files backed up to {}", dir.display());
            prune(&root, "files-", args.keep_files)?;
        }
        Ok(())
    })
}

pub fn restore(config: Config, args: RestoreArgs) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    tokio::runtime::Runtime::new()?.block_on(async {
        let newest = |prefix: &str| -> anyhow::Result<Option<PathBuf>> {
            match &args.from {
                Some(root) => Ok(backups(root, prefix)?.pop()),
                None => Ok(None),
            }
        };
        let database = args.database.clone().map_or_else(|| newest("database-"), |dir| Ok(Some(dir)))?;
        let files = args.files.clone().map_or_else(|| newest("files-"), |dir| Ok(Some(dir)))?;
        if database.is_none() && files.is_none() {
            bail!("nothing to restore: give --from ROOT, or --database DIR and/or --files DIR");
        }
        if let Some(dir) = database {
            restore_database(&config, &dir).await?;
            println!("database restored from {}", dir.display());
        }
        if let Some(dir) = files {
            let count = restore_files(&config, &dir).await?;
            println!("{count} files restored from {}", dir.display());
        }
        Ok(())
    })
}

async fn back_up_database(config: &Config, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let url = config.database_url();
    let meta = Meta::connect(&url).await.context("connecting to the database")?;
    let (backend, file) = match meta.backend() {
        Backend::Sqlite => {
            meta.snapshot_sqlite(&dir.join("database.sqlite")).await.context("copying the SQLite database")?;
            ("sqlite", "database.sqlite")
        }
        Backend::Postgres => {
            let dump = dir.join("database.pgdump");
            run_tool(Subprocess::new("pg_dump").args(["--format=custom", "--no-owner", "--file"]).arg(&dump).arg(&url))
                .await
                .context("pg_dump")?;
            ("postgres", "database.pgdump")
        }
    };
    meta.close().await;
    let manifest = Manifest {
        created_at: Utc::now(),
        scanpro_version: env!("CARGO_PKG_VERSION").into(),
        kind: "database".into(),
        database: Some(DatabasePart {
            backend: backend.into(),
            file: file.into(),
            sha256: sha256_file(&dir.join(file))?,
        }),
        blobs: Vec::new(),
    };
    write_manifest(dir, &manifest)?;
    Ok(dir.to_owned())
}

async fn back_up_files(config: &Config, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let blobs = scanpro_store::blobs::open(config.storage_url.as_deref(), &config.data_dir).await?;
    let keys = blobs.list_older(FILES_PREFIX, Duration::ZERO).await.context("listing the blob store")?;
    let staging = tempfile::tempdir()?;
    let archive = std::fs::File::create(dir.join("files.zip"))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(archive));
    // Documents are compressed already: stored, not deflated.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        let local = staging.path().join("blob");
        blobs.fetch_to(&key, &local).await.with_context(|| format!("reading blob {key}"))?;
        let (size, sha256) = (std::fs::metadata(&local)?.len(), sha256_file(&local)?);
        zip.start_file(key.as_str(), options)?;
        std::io::copy(&mut std::fs::File::open(&local)?, &mut zip)?;
        entries.push(BlobEntry { key, size, sha256 });
    }
    zip.finish()?.flush()?;
    let manifest = Manifest {
        created_at: Utc::now(),
        scanpro_version: env!("CARGO_PKG_VERSION").into(),
        kind: "files".into(),
        database: None,
        blobs: entries,
    };
    write_manifest(dir, &manifest)?;
    Ok(dir.to_owned())
}

async fn restore_database(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let manifest = read_manifest(dir, "database")?;
    let part = manifest.database.context("the manifest names no database")?;
    let source = dir.join(&part.file);
    if sha256_file(&source)? != part.sha256 {
        bail!("{} does not match its manifest: the backup is damaged", source.display());
    }
    let url = config.database_url();
    match (part.backend.as_str(), url.starts_with("sqlite:")) {
        ("sqlite", true) => {
            let path = PathBuf::from(
                url.trim_start_matches("sqlite:").trim_start_matches("//").split('?').next().unwrap_or_default(),
            );
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            for stale in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{stale}", path.display()));
            }
            std::fs::copy(&source, &path).with_context(|| format!("writing {}", path.display()))?;
        }
        ("postgres", false) => {
            run_tool(
                Subprocess::new("pg_restore")
                    .args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname"])
                    .arg(&url)
                    .arg(&source),
            )
            .await
            .context("pg_restore")?;
        }
        (backend, _) => bail!("this backup holds a {backend} database, and DATABASE_URL names another kind"),
    }
    // The restored schema may be older than this build: bring it up to date.
    let meta = Meta::connect(&url).await?;
    meta.migrate().await?;
    meta.close().await;
    Ok(())
}

async fn restore_files(config: &Config, dir: &Path) -> anyhow::Result<usize> {
    let manifest = read_manifest(dir, "files")?;
    let blobs = scanpro_store::blobs::open(config.storage_url.as_deref(), &config.data_dir).await?;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(dir.join("files.zip"))?)?;
    let staging = tempfile::tempdir()?;
    for entry in &manifest.blobs {
        let local = staging.path().join("blob");
        {
            let mut member =
                zip.by_name(&entry.key).with_context(|| format!("{} is missing from files.zip", entry.key))?;
            let mut out = std::fs::File::create(&local)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 1 << 16];
            loop {
                let read = member.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
                out.write_all(&buffer[..read])?;
            }
            if hex::encode(hasher.finalize()) != entry.sha256 {
                bail!("{} in files.zip does not match its manifest: the backup is damaged", entry.key);
            }
        }
        blobs.put_file(&entry.key, &local).await.with_context(|| format!("writing blob {}", entry.key))?;
    }
    Ok(manifest.blobs.len())
}

/// Runs a database tool through the one subprocess runner; a failure names its error output.
async fn run_tool(tool: Subprocess) -> anyhow::Result<()> {
    let output = tool.timeout(DUMP_TIMEOUT).run().await?;
    if !output.status.success() {
        bail!("failed ({}): {}", output.status, output.stderr_tail.trim());
    }
    Ok(())
}

/// The backups under `root` whose directory names start with `prefix`, oldest first.
fn backups(root: &Path, prefix: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .with_context(|| format!("reading {}", root.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && path.join("manifest.json").exists())
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(prefix)))
        .collect();
    // The names carry the time: their order is the backups' order.
    found.sort();
    Ok(found)
}

/// Removes all but the newest `keep` backups of `prefix`.
fn prune(root: &Path, prefix: &str, keep: usize) -> anyhow::Result<()> {
    let found = backups(root, prefix)?;
    for old in found.iter().take(found.len().saturating_sub(keep.max(1))) {
        std::fs::remove_dir_all(old).with_context(|| format!("removing {}", old.display()))?;
    }
    Ok(())
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(manifest)?)?;
    Ok(())
}

fn read_manifest(dir: &Path, kind: &str) -> anyhow::Result<Manifest> {
    let path = dir.join("manifest.json");
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)?;
    if manifest.kind != kind {
        bail!("{} is a {} backup, not a {kind} backup", dir.display(), manifest.kind);
    }
    Ok(manifest)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
