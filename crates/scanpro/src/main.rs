//! `scanpro`: one binary, many roles.
//!
//! # Layout
//! - [`config`]: the one configuration struct (defaults → file → env → flags).
//! - [`serve`]: `scanpro serve`, the all-in-one server: API + workers + sweeper on embedded defaults.
//! - [`roles`]: `scanpro api` and `scanpro worker`, the separate processes of a scaled-out
//!   deployment (PostgreSQL, Redis Streams queue, job notices fanned out through Redis).
//! - [`engines`]: where engine steps go (own engines or engine services), and `scanpro engine NAME`.
//! - [`web`]: `scanpro web`, the web app apart from the API, passing `/api/…` on to it.
//! - [`backup`]: `scanpro backup` and `scanpro restore` (database and blob store, with manifests).
//! - [`admin`]: `scanpro admin create-user`, the first admin (password on stdin).
//! - [`cli`]: `scanpro run` (a tool on local files, no server), `scanpro tools`, and the hidden
//!   `scanpro step-exec` that workers start for each step.

mod admin;
mod backup;
mod cli;
mod config;
mod engines;
mod parts;
mod roles;
mod serve;
mod web;

use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "scanpro", version, about = "ScanPro: convert, compress, OCR and reshape documents")]
struct Cli {
    /// TOML configuration file (default: ./scanpro.toml when present).
    #[arg(long, global = true, env = "SCANPRO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Flags that override configuration; `None` leaves the lower layers alone.
#[derive(clap::Args, Serialize, Default)]
struct ServerFlags {
    /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    /// Directory for the database, files and scratch space.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// Number of in-process workers (default: one per core).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    workers: Option<usize>,
}

/// `scanpro worker`'s flags: its `--listen` is the health listener, `worker_listen`.
#[derive(Serialize)]
struct WorkerFlags {
    #[serde(rename = "worker_listen", skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(flatten)]
    others: ServerFlags,
}

impl From<ServerFlags> for WorkerFlags {
    fn from(mut flags: ServerFlags) -> Self {
        Self { listen: flags.listen.take(), others: flags }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process: API, workers and sweeper, on embedded defaults.
    Serve(#[command(flatten)] ServerFlags),
    /// Serve the HTTP API only; jobs go to `scanpro worker` processes (PostgreSQL, and Redis
    /// with REDIS_URL).
    Api(#[command(flatten)] ServerFlags),
    /// Run jobs only (with the sweeper); `--listen` (`worker_listen`, default 127.0.0.1:9090)
    /// serves /healthz, /readyz and /metrics.
    Worker {
        /// Job classes this process runs, e.g. light (each gets --workers workers).
        #[arg(long, value_delimiter = ',', default_value = "light", env = "SCANPRO_WORKER_CLASSES")]
        classes: Vec<String>,
        #[command(flatten)]
        flags: ServerFlags,
    },
    /// Serve the web app on its own, passing `/api/…` on to `api_url`.
    Web(#[command(flatten)] ServerFlags),
    /// Serve one engine (libreoffice, ghostscript or ocr) over HTTP for workers elsewhere.
    Engine {
        /// libreoffice, ghostscript or ocr.
        engine: scanpro_tools::Engine,
        #[command(flatten)]
        flags: ServerFlags,
    },
    /// Apply database migrations and exit.
    Migrate(#[command(flatten)] ServerFlags),
    /// Run a tool on local files without a server: scanpro run rotate --angle 90 in.pdf -o out.pdf
    Run(cli::RunArgs),
    /// List the tools and their parameters.
    Tools,
    /// Print the effective configuration, secrets hidden.
    Config(#[command(flatten)] ServerFlags),
    /// Back up the database or the blob store: `scanpro backup database|files --dest DIR`.
    Backup {
        #[command(subcommand)]
        what: backup::BackupCommand,
        #[command(flatten)]
        flags: ServerFlags,
    },
    /// Put a backup back: `scanpro restore database|files --from PATH`.
    Restore {
        #[command(subcommand)]
        what: backup::RestoreCommand,
        #[command(flatten)]
        flags: ServerFlags,
    },
    /// Administer accounts from the server's host.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
        #[command(flatten)]
        flags: ServerFlags,
    },
    /// Run one step read as JSON from stdin (started by workers; not for direct use).
    #[command(hide = true)]
    StepExec,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(flags) => load(cli.config, flags).and_then(serve::run),
        Command::Api(flags) => load(cli.config, flags).and_then(roles::api),
        Command::Worker { classes, flags } => {
            load(cli.config, WorkerFlags::from(flags)).and_then(|c| roles::worker(c, classes))
        }
        Command::Web(flags) => load(cli.config, flags).and_then(web::run),
        Command::Engine { engine, flags } => load(cli.config, flags).and_then(|c| engines::serve(c, engine)),
        Command::Migrate(flags) => load(cli.config, flags).and_then(serve::migrate),
        Command::Config(flags) => load(cli.config, flags).map(|c| print!("{}", c.to_redacted_toml())),
        Command::Run(args) => return cli::run(args, cli.config),
        Command::Tools => cli::list_tools(),
        Command::Backup { what, flags } => {
            backup::unconfined_tools();
            load(cli.config, flags).and_then(|c| backup::backup(c, what))
        }
        Command::Restore { what, flags } => {
            backup::unconfined_tools();
            load(cli.config, flags).and_then(|c| backup::restore(c, what))
        }
        Command::Admin { command, flags } => load(cli.config, flags).and_then(|c| admin::run(c, command)),
        Command::StepExec => cli::step_exec(),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scanpro: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load(file: Option<PathBuf>, flags: impl Serialize) -> anyhow::Result<config::Config> {
    config::Config::load(file.as_deref(), flags)
}
