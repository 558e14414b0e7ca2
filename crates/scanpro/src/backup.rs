//! `scanpro backup` and `scanpro restore`: the database and the blob store, each into a
//! directory of its own under the backup root, with a manifest of what it holds.
//!
//! - `database-{time}/`: `database.sqlite` (SQLite, copied online with `VACUUM INTO`) or
//!   `database.pgdump` (PostgreSQL, `pg_dump --format=custom`), and `manifest.json` with its
//!   SHA-256.
//! - `files-{time}/`: `files.zip` (every blob, stored as it is) and `manifest.json` listing each
//!   blob's key, size and SHA-256; a restore checks every one.
//!
//! Each backup prints its directory on the last line of standard output. Retention follows the
//! deployment's: the newest `--keep` are kept (database 7, taken daily; files 3, taken weekly),
//! older ones removed after a backup succeeds. A restore takes one backup (or the newest under a
//! root) and puts it back: the database replaced whole, the blobs written again.

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

/// `scanpro backup database|files`.
#[derive(clap::Subcommand, Debug)]
pub enum BackupCommand {
    /// Back up the metadata database into `database-{time}/` under `--dest`.
    Database {
        /// The backup root (default `{data_dir}/backups`).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// Database backups kept (the newest; one a day in the deployment).
        #[arg(long, default_value_t = 7)]
        keep: usize,
    },
    /// Back up every blob into `files-{time}/` under `--dest`.
    Files {
        /// The backup root (default `{data_dir}/backups`).
        #[arg(long)]
        dest: Option<PathBuf>,
        /// File backups kept (the newest; one a week in the deployment).
        #[arg(long, default_value_t = 3)]
        keep: usize,
    },
}

/// `scanpro restore database|files`.
#[derive(clap::Subcommand, Debug)]
pub enum RestoreCommand {
    /// Replace the database with a backup's (then migrate it to this build).
    Database {
        /// A `database-…` backup, or a backup root whose newest one is taken.
        #[arg(long)]
        from: PathBuf,
    },
    /// Write every blob of a backup back into the store.
    Files {
        /// A `files-…` backup, or a backup root whose newest one is taken.
        #[arg(long)]
        from: PathBuf,
    },
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

/// Writes one backup, prints its path on the last line and keeps the newest few.
pub fn backup(config: Config, command: BackupCommand) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    let (dest, keep, prefix) = match &command {
        BackupCommand::Database { dest, keep } => (dest, *keep, "database-"),
        BackupCommand::Files { dest, keep } => (dest, *keep, "files-"),
    };
    let root = dest.clone().unwrap_or_else(|| config.data_dir.join("backups"));
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let dir = root.join(format!("{prefix}{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ")));
    tokio::runtime::Runtime::new()?.block_on(async {
        match command {
            BackupCommand::Database { .. } => back_up_database(&config, &dir).await,
            BackupCommand::Files { .. } => back_up_files(&config, &dir).await,
        }
    })?;
    prune(&root, prefix, keep.max(1))?;
    println!("{}", dir.display());
    Ok(())
}

pub fn restore(config: Config, command: RestoreCommand) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    tokio::runtime::Runtime::new()?.block_on(async {
        match command {
            RestoreCommand::Database { from } => {
                let dir = backup_at(&from, "database-")?;
                restore_database(&config, &dir).await?;
                println!("database restored from {}", dir.display());
            }
            RestoreCommand::Files { from } => {
                let dir = backup_at(&from, "files-")?;
                let count = restore_files(&config, &dir).await?;
                println!("{count} files restored from {}", dir.display());
            }
        }
        Ok(())
    })
}

/// `path` itself when it is a backup (it has a manifest), else its newest `prefix…` backup.
fn backup_at(path: &Path, prefix: &str) -> anyhow::Result<PathBuf> {
    if path.join("manifest.json").exists() {
        return Ok(path.to_owned());
    }
    backups(path, prefix)?
        .pop()
        .with_context(|| format!("{} is neither a backup nor a directory holding {prefix}… backups", path.display()))
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
