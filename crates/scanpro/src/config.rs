//! The one configuration struct. Each setting is written once, here, with its default; values
//! are layered defaults → TOML file → environment → command-line flags.
//!
//! Environment names are `SCANPRO_` + the field name in capitals (`SCANPRO_LISTEN`,
//! `SCANPRO_DATA_DIR`, `SCANPRO_MAX_UPLOAD_MB`…), except the backend URLs, which keep their
//! conventional names: `DATABASE_URL`, `REDIS_URL`, `STORAGE_URL`.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use scanpro_engines::chromium::ChromiumConfig;
use scanpro_engines::ghostscript::GhostscriptConfig;
use scanpro_engines::ocr::OcrConfig;
use scanpro_engines::office::OfficeConfig;
use scanpro_pipeline::SecretKey;
use scanpro_pipeline::accounts::oidc::OidcSettings;
use scanpro_pipeline::accounts::{AccountSettings, Mailer, Plan, TokenKeys};
use scanpro_pipeline::secrets::MIN_SECRET_KEY_CHARS;
use scanpro_process::sandbox::SandboxMode;
use scanpro_tools::{Engine, EngineSettings};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds (`--listen`).
    pub listen: SocketAddr,
    /// Address of the Prometheus `/metrics` of every role, apart from its public port so the API
    /// never exposes it. Port 0 picks a free port. Unset: `127.0.0.1:9464` for `scanpro serve` and
    /// `scanpro api`; `scanpro worker` serves them on `worker_listen` beside its health checks,
    /// and `scanpro web` and `scanpro engine` only where this is set (so roles sharing a host do
    /// not collide), an engine service also answering `/metrics` to its token.
    pub metrics_listen: Option<SocketAddr>,
    /// Address of `scanpro worker`'s `/healthz`, `/readyz` and `/metrics` (its `--listen`); apart
    /// from `listen`, so a worker starts beside an API on the same host.
    pub worker_listen: SocketAddr,
    /// Root of local state: the SQLite database, blobs and scratch space (`--data-dir`).
    pub data_dir: PathBuf,
    /// Metadata database; default `sqlite://{data_dir}/scanpro.db`. `postgres://…` also works.
    pub database_url: Option<String>,
    /// Redis for the distributed queue and job notices (`scanpro api` / `scanpro worker`);
    /// absent: the embedded durable queue.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so deployments (or tests) can share one Redis.
    pub redis_key_prefix: String,
    /// How often a worker process reconciles the Redis queue with the database (expired leases,
    /// queued jobs without a message, retries whose backoff passed).
    pub queue_reconcile_secs: u64,
    /// Blob storage; default `file://{data_dir}/blobs`. `s3://bucket/prefix` also works, with
    /// endpoint, region and credentials from the usual `AWS_*` variables.
    pub storage_url: Option<String>,
    /// In-process workers; 0 means one per CPU core.
    pub workers: usize,
    /// Largest accepted upload, per file.
    pub max_upload_mb: u64,
    /// Files and jobs are deleted this long after creation.
    pub retention_minutes: u64,
    /// A step running longer is killed and fails with `step_timeout`.
    pub step_timeout_secs: u64,
    /// Address-space cap of a step's process.
    pub step_memory_mb: u64,
    /// Inputs larger than this go through qpdf's streaming path in merge, split and rotate.
    pub large_input_mb: u64,
    /// Deliveries of a job before it is dead-lettered.
    pub max_attempts: u32,
    /// A worker's hold on a job without a heartbeat.
    pub lease_secs: u64,
    /// On SIGTERM/SIGINT, running jobs get this long to finish before they are handed back.
    pub drain_secs: u64,
    /// How long the one-shot endpoint waits for a result before answering `202`.
    pub oneshot_wait_secs: u64,
    /// How often expired files and jobs are deleted.
    pub sweep_interval_secs: u64,
    /// Mark the guest and session cookies `Secure` (set behind TLS).
    pub secure_cookies: bool,
    /// Let callers without credentials work as guests (the `scanpro_guest` cookie). Unset: on for
    /// `scanpro serve`, off for `scanpro api`.
    pub guest_access: Option<bool>,
    /// Secrets (at least 32 characters) that sign and verify access tokens: the first signs,
    /// all verify, so a new key goes first and an old one is dropped after the tokens it signed
    /// expired (15 minutes). Empty: one derived from `cookie_secret`.
    pub jwt_keys: Vec<String>,
    /// Minutes an access token lives.
    pub access_token_minutes: u64,
    /// Days a sign-in (its refresh tokens and web cookie) lasts at most.
    pub session_days: u64,
    /// Where emails (address confirmation, password reset) go out: `smtp://host:port`,
    /// `smtp://user:password@host:587?tls=required` or `smtps://host`. Unset: emails are
    /// written to the log and new accounts are active at once.
    pub smtp_url: Option<String>,
    /// The sender of those emails.
    pub mail_from: String,
    /// The address users reach ScanPro at, for links in emails (needed with `smtp_url`).
    pub public_url: Option<String>,
    /// Single sign-on: the OpenID Connect provider's issuer URL (`https://accounts.example.com`);
    /// with `oidc_client_id`, `oidc_client_secret` and `public_url`. The provider must allow the
    /// redirect URI `{public_url}/api/v1/auth/oidc/callback`.
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// What the sign-in button calls the provider.
    pub oidc_name: String,
    /// Plans by name: monthly operations, storage, upload size and concurrent jobs.
    pub plans: std::collections::BTreeMap<String, Plan>,
    /// The plan of new accounts.
    pub default_plan: String,
    /// Signs guest cookies (at least 32 characters). `scanpro api` needs it, the same on every
    /// replica; `scanpro serve` without it keeps a generated one in `{data_dir}/cookie_secret`.
    pub cookie_secret: Option<String>,
    /// Proxies (addresses or networks such as `10.0.0.0/8`) whose `X-Forwarded-For` names the
    /// client; the peer address is the client otherwise.
    pub trusted_proxies: Vec<String>,
    /// Largest JSON request body, and largest `params` part of a one-shot call.
    pub max_json_kb: u64,
    /// Allow webhooks to loopback and private addresses (for hooks inside your own network).
    pub webhook_allow_private_hosts: bool,
    /// An RFC 3161 time-stamping authority: `digital_sign` adds its time stamp to every signature
    /// (unless a step asks for none). Unset: signatures carry the signer's claimed time only.
    pub signature_tsa_url: Option<String>,
    /// Trusted certificates (a PEM file of CA certificates) `verify_signatures` judges signers'
    /// certificates against. Unset: signatures are checked, but none is reported as trusted.
    pub signature_trust_store: Option<PathBuf>,
    /// Seals passwords of queued jobs and webhook signing secrets in the database, and keys
    /// request hashes: at least 32 characters, the same on every `api` and `worker` process
    /// (which refuse to start without it). `scanpro serve` without it makes one held only in
    /// memory: queued jobs' passwords and webhook secrets do not survive a restart then.
    pub secret_key: Option<String>,
    /// Warm LibreOffice instances; 0 means one per CPU core.
    pub office_instances: usize,
    /// Start the LibreOffice instances with the process instead of at first use.
    pub office_start_at_boot: bool,
    /// Conversions after which a LibreOffice instance is replaced (its memory only grows).
    pub office_recycle_after: u32,
    /// Deadline of one LibreOffice conversion attempt (a document gets up to three).
    pub office_timeout_secs: u64,
    /// Ceiling of each Ghostscript or qpdf run of `compress`, `pdfa` and `grayscale`: a run
    /// gets 15 s plus 3 s a page, 1 s a megabyte and 0.2 s a megapixel of its input, up to this.
    pub ghostscript_timeout_secs: u64,
    /// Pages one OCR run recognises at once (Tesseract runs one thread per page); 0 means one
    /// per CPU core.
    pub ocr_jobs: usize,
    /// OCR time allowed per page; a document gets this for each page, within the step ceiling.
    pub ocr_timeout_per_page_secs: u64,
    /// An engine step (conversion, compression, OCR) is stopped after this long, whatever the
    /// document; engines set tighter deadlines from its size.
    pub engine_step_ceiling_secs: u64,
    /// `landlock`: every engine and step process can read only the system, its own job's files
    /// and its temp dir, and reach no network; where the kernel lacks Landlock they do not start.
    /// `off`: only where engines are isolated otherwise (a pod of their own without the data).
    pub engine_sandbox: SandboxMode,
    /// Warm Chromium browsers, one rendering at a time each; 0 means one per CPU core.
    pub chromium_instances: usize,
    /// A browser is replaced after this many renderings.
    pub chromium_recycle_after: u32,
    /// Deadline of one web page's rendering; the browser is killed past it.
    pub chromium_timeout_secs: u64,
    /// Pages may load `http(s)` resources, and `url_to_pdf` and `screenshot` may open addresses.
    /// Off: only the files sent with a job are ever loaded.
    pub chromium_allow_remote: bool,
    /// With remote fetches on, also allow loopback, private and link-local addresses (pages
    /// inside one's own network). Every request is checked after name resolution.
    pub chromium_allow_private_hosts: bool,
    /// The Chromium program; found on the system when unset.
    pub chromium_path: Option<PathBuf>,
    /// Call this `scanpro engine libreoffice` service (`http://host:port`) instead of running
    /// LibreOffice here.
    pub libreoffice_url: Option<String>,
    /// Call this `scanpro engine chromium` service instead of running Chromium here.
    pub chromium_url: Option<String>,
    /// Call this `scanpro engine ghostscript` service instead of running Ghostscript here.
    pub ghostscript_url: Option<String>,
    /// Call this `scanpro engine ocr` service instead of running OCRmyPDF here.
    pub ocr_url: Option<String>,
    /// Shared secret between workers and `scanpro engine` services: services refuse steps and
    /// metrics without `Authorization: Bearer <token>`, and refuse to start on a non-loopback
    /// address without one; workers send it.
    pub engine_token: Option<String>,
    /// `scanpro engine`: steps run at once; 0 means one per CPU core.
    pub engine_concurrency: usize,
    /// `scanpro engine`: steps waiting beyond those running; more are refused with `429`.
    pub engine_queue: usize,
    /// Uploads, jobs and deletes one guest, account or API key may make per minute (shared by
    /// API replicas through Redis); 0: unlimited.
    pub rate_limit_per_minute: u64,
    /// Writes one client address may make per minute, whoever it acts as; 0: unlimited.
    pub address_writes_per_minute: u64,
    /// Failed sign-ins per account in 15 minutes (four times as many per address) before
    /// sign-in is refused for the rest of that time; 0: unlimited.
    pub sign_in_failures: u64,
    /// Registrations and password-reset requests per address and hour; 0: unlimited.
    pub registrations_per_hour: u64,
    /// New guests (first writes without a valid cookie) one client address may start per minute;
    /// 0: unlimited.
    pub new_guests_per_minute: u64,
    /// Jobs one owner may have queued or running at once; 0: unlimited.
    pub max_active_jobs: u64,
    /// Megabytes of files (uploads and outputs) a guest may keep at a time; 0: unlimited.
    pub guest_storage_mb: u64,
    /// Files one step of a job may make (e.g. the parts of a split); more fail the job.
    pub max_outputs_per_job: usize,
    /// `scanpro web`: the `scanpro api` its page's `/api/…` requests go to (`http://api:8080`).
    pub api_url: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `scanpro=debug` (`RUST_LOG` wins when set).
    pub log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            worker_listen: "127.0.0.1:9090".parse().expect("valid address"),
            metrics_listen: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            redis_key_prefix: "scanpro".into(),
            queue_reconcile_secs: 5,
            storage_url: None,
            workers: 0,
            max_upload_mb: 200,
            retention_minutes: 24 * 60,
            step_timeout_secs: 300,
            step_memory_mb: 4096,
            large_input_mb: 16,
            max_attempts: 3,
            lease_secs: 30,
            drain_secs: 30,
            oneshot_wait_secs: 60,
            sweep_interval_secs: 60,
            secure_cookies: false,
            guest_access: None,
            jwt_keys: Vec::new(),
            access_token_minutes: 15,
            session_days: 30,
            smtp_url: None,
            mail_from: "ScanPro <no-reply@localhost>".into(),
            public_url: None,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_name: "single sign-on".into(),
            plans: std::collections::BTreeMap::from([("free".to_owned(), Plan::default())]),
            default_plan: "free".into(),
            cookie_secret: None,
            trusted_proxies: Vec::new(),
            max_json_kb: 256,
            webhook_allow_private_hosts: false,
            signature_tsa_url: None,
            signature_trust_store: None,
            secret_key: None,
            office_instances: 0,
            office_start_at_boot: false,
            office_recycle_after: 200,
            office_timeout_secs: 120,
            ghostscript_timeout_secs: 120,
            ocr_jobs: 0,
            ocr_timeout_per_page_secs: 60,
            engine_step_ceiling_secs: 1800,
            engine_sandbox: SandboxMode::Landlock,
            libreoffice_url: None,
            chromium_url: None,
            chromium_instances: 0,
            chromium_recycle_after: 100,
            chromium_timeout_secs: 60,
            chromium_allow_remote: false,
            chromium_allow_private_hosts: false,
            chromium_path: None,
            ghostscript_url: None,
            ocr_url: None,
            engine_token: None,
            engine_concurrency: 0,
            engine_queue: 8,
            rate_limit_per_minute: 120,
            address_writes_per_minute: 600,
            sign_in_failures: 5,
            registrations_per_hour: 20,
            new_guests_per_minute: 20,
            max_active_jobs: 10,
            guest_storage_mb: 1024,
            max_outputs_per_job: 1000,
            api_url: None,
            log_format: "text".into(),
            log_level: "info".into(),
        }
    }
}

/// Backend URLs read from their conventional, unprefixed variables.
const PLAIN_ENV: [&str; 3] = ["DATABASE_URL", "REDIS_URL", "STORAGE_URL"];

impl Config {
    /// Layers defaults, the TOML file (when given or `./scanpro.toml` exists), the environment
    /// and `flags` (a serializable struct whose `None` fields are skipped).
    pub fn load(file: Option<&Path>, flags: impl Serialize) -> anyhow::Result<Self> {
        let default_file = Path::new("scanpro.toml");
        let file = file.or(default_file.exists().then_some(default_file));
        let known = known_keys();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(
                Env::prefixed("SCANPRO_").filter(move |key| known.iter().any(|k| key.as_str().eq_ignore_ascii_case(k))),
            )
            .merge(Env::raw().only(&PLAIN_ENV))
            .merge(Serialized::defaults(flags))
            .extract()
            .context("invalid configuration")?;
        config.check()?;
        scanpro_process::sandbox::set_mode(config.engine_sandbox);
        // Steps run in child processes with their own working directory: paths must be absolute.
        let mut config = config;
        config.data_dir = std::path::absolute(&config.data_dir).context("resolving data_dir")?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("log_format must be \"text\" or \"json\", not {:?}", self.log_format);
        }
        let positive = [
            ("max_upload_mb", self.max_upload_mb),
            ("step_timeout_secs", self.step_timeout_secs),
            ("step_memory_mb", self.step_memory_mb),
            ("large_input_mb", self.large_input_mb),
            ("max_attempts", u64::from(self.max_attempts)),
            ("sweep_interval_secs", self.sweep_interval_secs),
            ("queue_reconcile_secs", self.queue_reconcile_secs),
            ("oneshot_wait_secs", self.oneshot_wait_secs),
            ("office_recycle_after", u64::from(self.office_recycle_after)),
            ("office_timeout_secs", self.office_timeout_secs),
            ("engine_step_ceiling_secs", self.engine_step_ceiling_secs),
            ("ghostscript_timeout_secs", self.ghostscript_timeout_secs),
            ("ocr_timeout_per_page_secs", self.ocr_timeout_per_page_secs),
            ("max_json_kb", self.max_json_kb),
            ("max_outputs_per_job", self.max_outputs_per_job as u64),
            ("access_token_minutes", self.access_token_minutes),
            ("session_days", self.session_days),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            bail!("{name} must be greater than 0");
        }
        if self.lease_secs < 3 {
            bail!("lease_secs must be at least 3");
        }
        if let Some(url) = &self.storage_url {
            scanpro_store::blobs::StorageUrl::parse(url)?;
        }
        if let Some(url) = self.redis_url.as_deref().filter(|url| !url.starts_with("redis://")) {
            bail!("REDIS_URL {:?}: give a redis://host:port URL", redact_url(url));
        }
        if self.secret_key.as_ref().is_some_and(|key| key.chars().count() < MIN_SECRET_KEY_CHARS) {
            bail!("secret_key must be at least {MIN_SECRET_KEY_CHARS} characters (e.g. `openssl rand -base64 32`)");
        }
        if self.redis_key_prefix.is_empty() {
            bail!("redis_key_prefix must not be empty");
        }
        if self.cookie_secret.as_ref().is_some_and(|secret| secret.len() < 32) {
            bail!("cookie_secret must be at least 32 characters (e.g. `openssl rand -hex 32`)");
        }
        scanpro_api::auth::parse_trusted_proxies(&self.trusted_proxies).map_err(anyhow::Error::msg)?;
        if !self.plans.contains_key(&self.default_plan) {
            bail!(
                "default_plan {:?} is not one of plans ({})",
                self.default_plan,
                self.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if !self.jwt_keys.is_empty() {
            TokenKeys::new(&self.jwt_keys)?;
        }
        self.oidc()?;
        if let Some(url) = &self.smtp_url {
            Mailer::smtp(url, &self.mail_from).map_err(|e| anyhow::anyhow!("{e}"))?;
            if self.public_url.is_none() {
                bail!(
                    "smtp_url is set: set public_url too (e.g. https://scanpro.example.com), the address emailed links point at"
                );
            }
        }
        Ok(())
    }

    /// The accounts' settings. `cookie_secret` is the one `serve` keeps or `api` was given: the
    /// access-token key is derived from it unless `jwt_keys` are set.
    pub fn account_settings(&self, cookie_secret: &str) -> anyhow::Result<AccountSettings> {
        let token_keys = if self.jwt_keys.is_empty() {
            TokenKeys::derived_from(cookie_secret)
        } else {
            TokenKeys::new(&self.jwt_keys)?
        };
        let mailer = match &self.smtp_url {
            Some(url) => Mailer::smtp(url, &self.mail_from).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => Mailer::Log,
        };
        Ok(AccountSettings {
            token_keys,
            access_token_lifetime: chrono::Duration::minutes(self.access_token_minutes as i64),
            session_lifetime: chrono::Duration::days(self.session_days as i64),
            plans: self.plans.clone(),
            default_plan: self.default_plan.clone(),
            verify_email: self.smtp_url.is_some(),
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)),
            mailer,
            oidc: self.oidc()?,
        })
    }

    /// The single sign-on provider, when `oidc_issuer` is set.
    fn oidc(&self) -> anyhow::Result<Option<OidcSettings>> {
        let Some(issuer) = &self.oidc_issuer else { return Ok(None) };
        let (Some(client_id), Some(client_secret), Some(public_url)) =
            (&self.oidc_client_id, &self.oidc_client_secret, &self.public_url)
        else {
            bail!("oidc_issuer is set: set oidc_client_id, oidc_client_secret and public_url too");
        };
        Ok(Some(OidcSettings {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_uri: format!("{}/api/v1/auth/oidc/callback", public_url.trim_end_matches('/')),
            name: self.oidc_name.clone(),
        }))
    }

    /// `metrics_listen`, or `127.0.0.1:9464` for the roles that serve metrics apart by default.
    pub fn metrics_address(&self) -> SocketAddr {
        self.metrics_listen.unwrap_or_else(|| "127.0.0.1:9464".parse().expect("valid address"))
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("scanpro.db").display()))
    }

    pub fn blob_dir(&self) -> PathBuf {
        match &self.storage_url {
            Some(url) => self.data_dir.join(url.trim_start_matches("file://")),
            None => self.data_dir.join("blobs"),
        }
    }

    pub fn work_dir(&self) -> PathBuf {
        self.data_dir.join("work")
    }

    /// The key of `secret_key`; without it, a random one for this process alone.
    pub fn secret_key(&self) -> SecretKey {
        self.secret_key.as_deref().map_or_else(SecretKey::random, SecretKey::from_setting)
    }

    /// For roles that share the database with other processes: `secret_key` must be set.
    pub fn shared_secret_key(&self, role: &str) -> anyhow::Result<SecretKey> {
        match &self.secret_key {
            Some(key) => Ok(SecretKey::from_setting(key)),
            None => bail!(
                "scanpro {role} needs secret_key (SCANPRO_SECRET_KEY), the same on every api and worker \
                 process, to seal passwords of jobs and webhook secrets: e.g. `openssl rand -base64 32`"
            ),
        }
    }

    pub fn worker_count(&self) -> usize {
        or_cores(self.workers)
    }

    /// The engine services configured, by engine.
    pub fn engine_urls(&self) -> [(Engine, Option<&str>); 4] {
        [
            (Engine::Libreoffice, self.libreoffice_url.as_deref()),
            (Engine::Chromium, self.chromium_url.as_deref()),
            (Engine::Ghostscript, self.ghostscript_url.as_deref()),
            (Engine::Ocr, self.ocr_url.as_deref()),
        ]
    }

    /// Settings of the engines this process runs itself.
    pub fn engine_settings(&self) -> EngineSettings {
        EngineSettings {
            office: OfficeConfig {
                instances: or_cores(self.office_instances),
                start_at_boot: self.office_start_at_boot,
                recycle_after: self.office_recycle_after,
                conversion_timeout: Duration::from_secs(self.office_timeout_secs),
                work_dir: self.work_dir(),
                ..OfficeConfig::default()
            },
            chromium: ChromiumConfig {
                program: self.chromium_path.clone(),
                instances: or_cores(self.chromium_instances),
                recycle_after: self.chromium_recycle_after.max(1),
                timeout: Duration::from_secs(self.chromium_timeout_secs.max(1)),
                work_dir: self.work_dir(),
                allow_remote: self.chromium_allow_remote,
                allow_private_hosts: self.chromium_allow_private_hosts,
                ..ChromiumConfig::default()
            },
            ghostscript: GhostscriptConfig {
                timeout: Duration::from_secs(self.ghostscript_timeout_secs),
                ..GhostscriptConfig::default()
            },
            ocr: OcrConfig {
                jobs: or_cores(self.ocr_jobs),
                timeout_per_page: Duration::from_secs(self.ocr_timeout_per_page_secs),
                max_timeout: Duration::from_secs(self.engine_step_ceiling_secs),
                work_dir: self.work_dir(),
                ..OcrConfig::default()
            },
        }
    }

    /// The effective configuration as TOML, with passwords in URLs and `secret_key` replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        for url in [&mut shown.database_url, &mut shown.redis_url, &mut shown.storage_url].into_iter().flatten() {
            *url = redact_url(url);
        }
        let secrets =
            [&mut shown.engine_token, &mut shown.cookie_secret, &mut shown.secret_key, &mut shown.oidc_client_secret];
        for secret in secrets.into_iter().flatten() {
            *secret = "***".into();
        }
        for key in &mut shown.jwt_keys {
            *key = "***".into();
        }
        if let Some(url) = &mut shown.smtp_url {
            *url = redact_url(url);
        }
        shown.database_url.get_or_insert_with(|| self.database_url());
        shown.storage_url.get_or_insert_with(|| format!("file://{}", self.blob_dir().display()));
        if shown.workers == 0 {
            shown.workers = self.worker_count();
        }
        toml::to_string(&shown).expect("config serializes")
    }
}

/// `n`, or the number of CPU cores when `n` is 0.
fn or_cores(n: usize) -> usize {
    if n == 0 { std::thread::available_parallelism().map_or(2, usize::from) } else { n }
}

/// Field names, as the `SCANPRO_` environment filter needs them.
fn known_keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(redact_url("postgres://scanpro:hunter2@db:5432/scanpro"), "postgres://scanpro:***@db:5432/scanpro");
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment::Jail takes closures that return figment::Error")]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "listen = \"127.0.0.1:9000\"\nmax_upload_mb = 5\nworkers = 3\n")?;
            jail.set_env("SCANPRO_MAX_UPLOAD_MB", "7");
            jail.set_env("DATABASE_URL", "postgres://u:p@h/db");
            #[derive(Serialize)]
            struct Flags {
                workers: usize,
            }
            let config =
                Config::load(Some(Path::new("custom.toml")), Flags { workers: 9 }).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.port(), 9000, "file");
            assert_eq!(config.max_upload_mb, 7, "env over file");
            assert_eq!(config.workers, 9, "flag over file");
            assert_eq!(config.database_url.as_deref(), Some("postgres://u:p@h/db"));
            assert!(config.to_redacted_toml().contains("postgres://u:***@h/db"));
            jail.set_env("SCANPRO_SECRET_KEY", "k".repeat(32));
            let config = Config::load(None, Flags { workers: 1 }).map_err(|e| e.to_string())?;
            assert!(!config.to_redacted_toml().contains(&"k".repeat(32)), "secret_key hidden");
            jail.set_env("SCANPRO_SECRET_KEY", "short");
            let err = Config::load(None, Flags { workers: 1 }).unwrap_err();
            assert!(format!("{err:#}").contains("at least 32 characters"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn a_worker_and_an_api_on_one_host_listen_apart_by_default() {
        let config = Config::default();
        assert_ne!(config.worker_listen, config.listen);
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment::Jail takes closures that return figment::Error")]
    fn typos_in_the_file_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "max_upload_mbb = 5\n")?;
            #[derive(Serialize)]
            struct NoFlags {}
            let err = Config::load(Some(Path::new("bad.toml")), NoFlags {}).unwrap_err();
            assert!(format!("{err:#}").contains("max_upload_mbb"), "{err:#}");
            Ok(())
        });
    }
}
