//! Scale-out fault tests: separate `scanpro api` and `scanpro worker` processes on loopback, one
//! PostgreSQL database and one private Redis per test, blobs on a shared directory. Workers are
//! killed with SIGKILL or stopped with SIGTERM, Redis restarts with and without its data, and
//! every job must still end `succeeded` exactly once, with one set of outputs checked by qpdf and
//! pdfinfo. The tests run one at a time: each starts half a dozen processes on a small machine.

mod common;

use common::Client;
use futures::StreamExt;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use scanpro_testkit::checkers::{page_count, qpdf_check, rotations};
use scanpro_testkit::corpus::corpus;
use scanpro_testkit::postgres::empty_postgres_database;
use scanpro_testkit::redis::{RedisServer, unique_prefix};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running `scanpro api` or `scanpro worker`, killed on drop.
struct Role {
    child: Child,
    /// The API's address, or the worker's health listener.
    base: String,
}

impl Role {
    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fields drop in order: the processes go before Redis and the data they use.
struct Cluster {
    apis: Vec<Role>,
    workers: Vec<Role>,
    temp: tempfile::TempDir,
    env: Vec<(String, String)>,
    redis: RedisServer,
    /// For watching jobs from outside the processes.
    db: sqlx::AnyPool,
    http: reqwest::Client,
    started: usize,
}

impl Cluster {
    /// Starts Redis and a fresh database, migrates it with `scanpro migrate` (checking first that
    /// the roles refuse the empty schema), then `apis` API processes.
    async fn start(apis: usize, env: &[(&str, &str)]) -> Self {
        Self::start_on(empty_postgres_database().await, apis, env).await
    }

    /// [`Cluster::start`] on the (empty) database at `database_url`.
    async fn start_on(database_url: String, apis: usize, env: &[(&str, &str)]) -> Self {
        sqlx::any::install_default_drivers();
        let temp = tempfile::tempdir().unwrap();
        let redis = RedisServer::start();
        let blobs = temp.path().join("blobs");
        let mut all_env: Vec<(String, String)> = [
            ("DATABASE_URL", database_url.as_str()),
            ("REDIS_URL", redis.url().as_str()),
            ("STORAGE_URL", &format!("file://{}", blobs.display())),
            ("SCANPRO_REDIS_KEY_PREFIX", &unique_prefix()),
            ("SCANPRO_LEASE_SECS", "3"),
            ("SCANPRO_QUEUE_RECONCILE_SECS", "1"),
            ("SCANPRO_WORKERS", "2"),
            ("SCANPRO_MAX_ATTEMPTS", "5"),
            ("SCANPRO_LOG_LEVEL", "warn"),
            ("SCANPRO_COOKIE_SECRET", "a shared secret of the test cluster, 32+ chars"),
            // The tests act as guests; `scanpro api` has guest access off unless told.
            ("SCANPRO_GUEST_ACCESS", "true"),
            // Every process of one deployment shares it.
            ("SCANPRO_SECRET_KEY", "scaleout-test-secret-key-of-32-chars"),
        ]
        .iter()
        .chain(common::ROOMY_LIMITS.iter())
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        all_env.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut cluster = Self {
            db: sqlx::AnyPool::connect(&database_url).await.unwrap(),
            temp,
            env: all_env,
            redis,
            apis: Vec::new(),
            workers: Vec::new(),
            http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
            started: 0,
        };
        let refused = cluster.command("api").output().unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && stderr.contains("scanpro migrate"), "api on an empty schema: {stderr}");
        let migrated = cluster.command("migrate").output().unwrap();
        assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
        for _ in 0..apis {
            let api = cluster.spawn("api", &[]);
            cluster.apis.push(api);
        }
        cluster
    }

    fn command(&self, role: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command.args([role, "--listen", "127.0.0.1:0", "--data-dir"]);
        command.arg(self.temp.path().join(format!("{role}-{}", self.started)));
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn spawn(&mut self, role: &str, env: &[(&str, &str)]) -> Role {
        self.started += 1;
        let mut command = self.command(role);
        command.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start scanpro {role}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .rsplit_once(" listening on ")
            .unwrap_or_else(|| panic!("scanpro {role} did not start: {line:?}"))
            .1
            .to_owned();
        Role { child, base }
    }

    fn spawn_workers(&mut self, count: usize, env: &[(&str, &str)]) {
        for _ in 0..count {
            let worker = self.spawn("worker", env);
            self.workers.push(worker);
        }
    }

    /// One guest (one cookie jar) talking to API replica `index`.
    fn client(&self, index: usize) -> Client {
        Client { http: self.http.clone(), base: self.apis[index % self.apis.len()].base.clone() }
    }

    async fn count(&self, status: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = $1")
            .bind(status)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Waits until `n` jobs have succeeded; any job failing or cancelled fails the test.
    async fn wait_succeeded(&self, n: i64, within: Duration) {
        let started = Instant::now();
        loop {
            let bad = self.count("failed").await + self.count("cancelled").await;
            assert_eq!(bad, 0, "jobs failed: {:?}", self.failures().await);
            if self.count("succeeded").await >= n {
                return;
            }
            assert!(
                started.elapsed() < within,
                "only {} of {n} jobs succeeded in {within:?}",
                self.count("succeeded").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn failures(&self) -> Vec<(String, Option<String>, Option<String>)> {
        sqlx::query_as("SELECT id, error_code, error_message FROM jobs WHERE status IN ('failed', 'cancelled')")
            .fetch_all(&self.db)
            .await
            .unwrap()
    }

    /// The worker process holding a running job, if any, and the jobs it holds.
    async fn a_busy_worker(&self) -> Option<(usize, Vec<String>)> {
        let owners: Vec<(String, String)> =
            sqlx::query_as("SELECT id, lease_owner FROM jobs WHERE status = 'running' AND lease_owner IS NOT NULL")
                .fetch_all(&self.db)
                .await
                .unwrap();
        for (index, worker) in self.workers.iter().enumerate() {
            let prefix = format!("worker-{}-", worker.child.id());
            let held: Vec<String> =
                owners.iter().filter(|(_, owner)| owner.starts_with(&prefix)).map(|(id, _)| id.clone()).collect();
            if !held.is_empty() {
                return Some((index, held));
            }
        }
        None
    }

    /// Every job succeeded with exactly one output, in the database and through both replicas.
    async fn assert_each_succeeded_once(&self, jobs: &[Submitted]) {
        let outputs: Vec<(String, i64)> =
            sqlx::query_as("SELECT job_id, COUNT(*) FROM files WHERE job_id IS NOT NULL GROUP BY job_id")
                .fetch_all(&self.db)
                .await
                .unwrap();
        assert_eq!(outputs.len(), jobs.len(), "jobs with outputs");
        assert!(outputs.iter().all(|(_, n)| *n == 1), "a job committed outputs twice: {outputs:?}");
        let dir = tempfile::tempdir().unwrap();
        for (n, submitted) in jobs.iter().enumerate() {
            let client = self.client(n);
            let (status, job) = client.get_json(&format!("/api/v1/jobs/{}", submitted.id)).await;
            assert_eq!((status, job["status"].as_str()), (200, Some("succeeded")), "{job}");
            let outputs = job["outputs"].as_array().unwrap();
            assert_eq!(outputs.len(), 1, "{job}");
            let pdf = dir.path().join(format!("{n}.pdf"));
            client.download(outputs[0]["url"].as_str().unwrap(), &pdf).await;
            qpdf_check(&pdf);
            assert_eq!(page_count(&pdf), submitted.pages, "{} of job {}", submitted.tool, submitted.id);
            if submitted.tool == "rotate" {
                assert!(rotations(&pdf).iter().all(|r| *r == 90), "rotated: {job}");
            }
        }
    }

    async fn queue_is_empty(&self) {
        let worker = self.workers.first().expect("a worker");
        let started = Instant::now();
        loop {
            let metrics = self.http.get(format!("{}/metrics", worker.base)).send().await.unwrap().text().await.unwrap();
            let depth: Vec<&str> = metrics.lines().filter(|l| l.starts_with("scanpro_queue_")).collect();
            if depth.iter().all(|l| l.ends_with(" 0")) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "queue never drained: {depth:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Small real PDFs, uploaded once and used as inputs of many jobs.
struct Inputs {
    ids: Vec<String>,
    pages: Vec<u32>,
}

async fn upload_inputs(client: &Client) -> Inputs {
    let names = ["pypdf_002-trivial-libre-office-writer.pdf", "pypdf_pdfkit.pdf", "poi_quick.pdf", "ltnews17.pdf"];
    let mut inputs = Inputs { ids: Vec::new(), pages: Vec::new() };
    for name in names {
        let path = corpus(format!("pdf-text/{name}"));
        inputs.pages.push(page_count(&path));
        inputs.ids.push(client.upload(&path).await["id"].as_str().unwrap().to_owned());
    }
    inputs
}

struct Submitted {
    id: String,
    tool: &'static str,
    /// Pages the output must have.
    pages: u32,
}

/// The `n`th job of a mix of rotate, merge and watermark jobs.
async fn submit(client: &Client, inputs: &Inputs, n: usize) -> Submitted {
    let (a, b) = (n % inputs.ids.len(), (n + 1) % inputs.ids.len());
    let (tool, body, pages) = match n % 3 {
        0 => (
            "rotate",
            json!({"inputs": [inputs.ids[a]], "steps": [{"tool": "rotate", "params": {"angle": 90}}]}),
            inputs.pages[a],
        ),
        1 => (
            "merge",
            json!({"inputs": [inputs.ids[a], inputs.ids[b]], "steps": [{"tool": "merge"}]}),
            inputs.pages[a] + inputs.pages[b],
        ),
        _ => (
            "watermark",
            json!({"inputs": [inputs.ids[a]], "steps": [{"tool": "watermark", "params": {"text": format!("ScanPro {n}")}}]}),
            inputs.pages[a],
        ),
    };
    let response = client.create_job(body).await;
    assert_eq!(response.status(), 202, "job {n}");
    let job: Value = response.json().await.unwrap();
    Submitted { id: job["id"].as_str().unwrap().to_owned(), tool, pages }
}

/// Follows a job's Server-Sent Events until its final state; returns the states seen.
async fn follow_events(client: &Client, id: &str) -> Vec<String> {
    let response = client.http.get(client.url(&format!("/api/v1/jobs/{id}/events"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut states = Vec::new();
    while let Some(chunk) = body.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            if let Some(data) = line.trim_end().strip_prefix("data:") {
                let job: Value = serde_json::from_str(data.trim()).unwrap();
                let state = job["status"].as_str().unwrap().to_owned();
                if states.last() != Some(&state) {
                    states.push(state);
                }
            }
        }
    }
    states
}

/// 2 API replicas and 3 worker processes run 200 mixed jobs while a worker is killed with
/// SIGKILL three times (and replaced); a client following a job through one replica sees it
/// processed, though it was submitted through the other.
#[tokio::test]
async fn jobs_survive_workers_killed_mid_run() {
    let _one = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let mut cluster = Cluster::start(2, &[]).await;
    let inputs = upload_inputs(&cluster.client(0)).await;
    let total = 200;
    let mut jobs = Vec::with_capacity(total);
    for n in 0..total {
        jobs.push(submit(&cluster.client(n), &inputs, n).await);
    }
    // Submitted through replica 0, followed through replica 1, before any worker runs.
    let followed = jobs[0].id.clone();
    let events = tokio::spawn(follow_events_owned(cluster.client(1), followed.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.spawn_workers(3, &[]);

    let mut killed = Vec::new();
    while killed.len() < 3 {
        let done = usize::try_from(cluster.count("succeeded").await).unwrap();
        if done >= (killed.len() + 1) * total / 5
            && let Some((index, held)) = cluster.a_busy_worker().await
        {
            let victim = cluster.workers.remove(index);
            kill(victim.pid(), Signal::SIGKILL).unwrap();
            drop(victim);
            killed.extend(held);
            cluster.spawn_workers(1, &[]);
        }
        assert!(started.elapsed() < Duration::from_secs(150), "the run ended before three workers were killed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.wait_succeeded(total as i64, Duration::from_secs(150)).await;
    let states = tokio::time::timeout(Duration::from_secs(10), events).await.expect("events ended").unwrap();
    assert_eq!(states.first().map(String::as_str), Some("queued"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("succeeded"), "{states:?}");

    cluster.assert_each_succeeded_once(&jobs).await;
    let retaken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE attempts > 1").fetch_one(&cluster.db).await.unwrap();
    assert!(retaken >= 1, "no job was running on a killed worker: {killed:?}");
    cluster.queue_is_empty().await;
    eprintln!(
        "scale-out: {total} jobs, 3 workers killed holding {} jobs, {retaken} jobs run again, {:.1} s",
        killed.len(),
        started.elapsed().as_secs_f64()
    );
}

async fn follow_events_owned(client: Client, id: String) -> Vec<String> {
    follow_events(&client, &id).await
}

/// Redis restarts mid-run twice: once keeping its data (append-only file), once losing it all,
/// and jobs are submitted while it is down. Every job still ends, once.
#[tokio::test]
async fn jobs_survive_redis_restarts_with_and_without_its_data() {
    let _one = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let mut cluster = Cluster::start(2, &[]).await;
    cluster.spawn_workers(2, &[]);
    let inputs = upload_inputs(&cluster.client(0)).await;
    let mut jobs = Vec::new();
    for n in 0..40 {
        jobs.push(submit(&cluster.client(n), &inputs, n).await);
    }
    cluster.wait_succeeded(10, Duration::from_secs(60)).await;
    cluster.redis.restart();
    cluster.wait_succeeded(25, Duration::from_secs(60)).await;

    cluster.redis.stop();
    let (status, ready) = cluster.client(1).get_json("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert_ne!(ready["checks"]["queue"], "ok", "{ready}");
    // The rows commit; the reconciler dispatches them once Redis is back.
    for n in 40..60 {
        jobs.push(submit(&cluster.client(n), &inputs, n).await);
    }
    cluster.redis.restart_losing_data();
    for n in 60..80 {
        jobs.push(submit(&cluster.client(n), &inputs, n).await);
    }
    cluster.wait_succeeded(jobs.len() as i64, Duration::from_secs(120)).await;
    cluster.assert_each_succeeded_once(&jobs).await;
    cluster.queue_is_empty().await;
    eprintln!("redis restarts: {} jobs, {:.1} s", jobs.len(), started.elapsed().as_secs_f64());
}

/// A PostgreSQL server of this test's own, which it can stop and start again. It runs as the
/// `postgres` user (initdb refuses root), so the tests need root or that user.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql (scripts/install-deps --test)")
            .flatten()
            .map(|version| version.path().join("bin"))
            .filter(|bin| bin.join("initdb").is_file())
            .max()
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::Builder::new().prefix("scanpro-pg-").tempdir_in("/tmp").unwrap();
        let owned = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap();
        assert!(owned.success(), "chown to postgres");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = Self { dir, bin, port };
        server.as_postgres(&format!(
            "{}/initdb -D {}/data -U postgres --auth=trust",
            server.bin.display(),
            server.path()
        ));
        server.up();
        server
    }

    fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn as_postgres(&self, command: &str) {
        let out = Command::new("su").args(["postgres", "-c", command]).output().expect("su postgres");
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn pg_ctl(&self, action: &str) {
        let (bin, dir, port) = (self.bin.display(), self.path(), self.port);
        self.as_postgres(&format!(
            "{bin}/pg_ctl -D {dir}/data -o '-p {port} -k {dir} -c listen_addresses=127.0.0.1' -l {dir}/log -m fast -w {action}"
        ));
    }

    fn up(&self) {
        self.pg_ctl("start");
    }

    fn down(&self) {
        self.pg_ctl("stop");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("su")
            .args([
                "postgres",
                "-c",
                &format!("{}/pg_ctl -D {}/data -m immediate stop", self.bin.display(), self.path()),
            ])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_answers_503_and_loses_no_job() {
    let _one = ONE_AT_A_TIME.lock().await;
    let postgres = PrivatePostgres::start();
    let mut cluster = Cluster::start_on(postgres.url(), 1, &[]).await;
    cluster.spawn_workers(1, &[]);
    let inputs = upload_inputs(&cluster.client(0)).await;
    let mut jobs = Vec::new();
    for n in 0..10 {
        jobs.push(submit(&cluster.client(0), &inputs, n).await);
    }
    cluster.wait_succeeded(3, Duration::from_secs(60)).await;

    postgres.down();
    let client = cluster.client(0);
    let (status, problem) = client.get_json(&format!("/api/v1/jobs/{}", jobs[0].id)).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "unavailable", "{problem}");
    let response = client.create_job(json!({"inputs": [inputs.ids[0]], "steps": [{"tool": "rotate"}]})).await;
    assert_eq!(response.status(), 503);
    let (status, ready) = client.get_json("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    tokio::time::sleep(Duration::from_secs(10)).await;

    postgres.up();
    for n in 10..20 {
        jobs.push(submit(&cluster.client(0), &inputs, n).await);
    }
    cluster.wait_succeeded(jobs.len() as i64, Duration::from_secs(120)).await;
    cluster.assert_each_succeeded_once(&jobs).await;
    cluster.queue_is_empty().await;
}

/// A job that takes a while: merging copies of a 1,321-page manual.
async fn slow_job(client: &Client, copies: usize) -> String {
    let big = client.upload(&corpus("pdf-text/pgfmanual.pdf")).await;
    let inputs: Vec<Value> = (0..copies).map(|_| big["id"].clone()).collect();
    let response = client.create_job(json!({"inputs": inputs, "steps": [{"tool": "merge"}]})).await;
    let job: Value = response.json().await.unwrap();
    job["id"].as_str().unwrap().to_owned()
}

async fn wait_running(cluster: &Cluster, id: &str) {
    let started = Instant::now();
    loop {
        let (_, job) = cluster.client(0).get_json(&format!("/api/v1/jobs/{id}")).await;
        if job["status"] == "running" {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never started: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn wait_exit(role: &mut Role, within: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = role.child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < within, "the worker did not stop within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM: a worker finishes its job within the drain deadline; past the deadline it hands the
/// job back, and another worker runs it.
#[tokio::test]
async fn sigterm_drains_or_hands_back_within_the_deadline() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(1, &[("SCANPRO_WORKERS", "1")]).await;
    let client = cluster.client(0);

    cluster.spawn_workers(1, &[("SCANPRO_DRAIN_SECS", "60")]);
    let id = slow_job(&client, 2).await;
    wait_running(&cluster, &id).await;
    let mut worker = cluster.workers.remove(0);
    kill(worker.pid(), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut worker, Duration::from_secs(60));
    assert!(status.success(), "clean exit after draining: {status}");
    let (_, job) = client.get_json(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!((job["status"].as_str(), job["attempts"].as_u64()), (Some("succeeded"), Some(1)), "{job}");

    cluster.spawn_workers(1, &[("SCANPRO_DRAIN_SECS", "1")]);
    let id = slow_job(&client, 4).await;
    wait_running(&cluster, &id).await;
    let mut worker = cluster.workers.remove(0);
    let asked = Instant::now();
    kill(worker.pid(), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut worker, Duration::from_secs(10));
    assert!(status.success(), "clean exit after handing back: {status}");
    eprintln!("handed back and stopped in {:?}", asked.elapsed());
    let (_, job) = client.get_json(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "queued", "handed back: {job}");
    cluster.spawn_workers(1, &[]);
    let job = client.wait_job(&id).await;
    assert_eq!((job["status"].as_str(), job["attempts"].as_u64()), (Some("succeeded"), Some(2)), "{job}");
    assert_eq!(job["outputs"].as_array().unwrap().len(), 1);
    let merged = cluster.temp.path().join("merged.pdf");
    client.download(job["outputs"][0]["url"].as_str().unwrap(), &merged).await;
    assert_eq!(page_count(Path::new(&merged)), 4 * 1321);
}

/// A cancel made through an API replica reaches the worker process running the job at once
/// (relayed through Redis), long before its next heartbeat, and kills the step's process.
#[tokio::test]
async fn a_cancel_reaches_the_worker_running_the_job() {
    let _one = ONE_AT_A_TIME.lock().await;
    // A 30 s lease: the worker's own heartbeat would notice the cancel only after 10 s.
    let mut cluster = Cluster::start(2, &[("SCANPRO_WORKERS", "1"), ("SCANPRO_LEASE_SECS", "30")]).await;
    cluster.spawn_workers(1, &[]);
    let id = slow_job(&cluster.client(0), 4).await;
    wait_running(&cluster, &id).await;
    let asked = Instant::now();
    let response = cluster.client(1).http.post(cluster.client(1).url(&format!("/api/v1/jobs/{id}/cancel"))).send();
    assert_eq!(response.await.unwrap().status(), 202);
    let job = cluster.client(0).wait_job(&id).await;
    let took = asked.elapsed();
    assert_eq!(
        (job["status"].as_str(), job["error"]["code"].as_str()),
        (Some("cancelled"), Some("cancelled")),
        "{job}"
    );
    assert!(took < Duration::from_secs(3), "the cancel took {took:?}");
    let worker = cluster.workers[0].child.id().to_string();
    let started = Instant::now();
    loop {
        let children = std::process::Command::new("pgrep").args(["-P", &worker]).output().unwrap();
        if children.stdout.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "the step's process survived the cancel");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The separate roles share their database with other processes: SQLite is refused with the fix.
#[test]
fn roles_refuse_a_database_they_cannot_share() {
    let temp = tempfile::tempdir().unwrap();
    for role in ["api", "worker"] {
        let out = Command::new(env!("CARGO_BIN_EXE_scanpro"))
            .args([role, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(temp.path())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("DATABASE_URL=postgres://"), "{role}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_write_budget_is_shared_by_api_replicas() {
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(2, &[("SCANPRO_RATE_LIMIT_PER_MINUTE", "5")]).await;
    // Replicas must share the key that signs guest cookies: none is made up.
    let refused = cluster.command("api").env_remove("SCANPRO_COOKIE_SECRET").output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("SCANPRO_COOKIE_SECRET"), "{stderr}");
    // The budget is per minute: start well inside one.
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60 > 45 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let pdf = corpus("pdf-text/ltnews17.pdf");
    for n in 0..5 {
        let response = cluster.client(n).upload_raw(&pdf).await;
        assert_eq!(response.status(), 201, "write {n} on replica {}", n % 2);
    }
    let refused = cluster.client(1).upload_raw(&pdf).await;
    assert_eq!(refused.status(), 429, "the sixth write, counted across both replicas");
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited", "{problem}");
    let (status, _) = cluster.client(0).get_json("/api/v1/jobs").await;
    assert_eq!(status, 200, "reads are not limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_an_account_on_one_replica_holds_on_the_other_at_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(2, &[("SCANPRO_GUEST_ACCESS", "false")]).await;
    let mut create = Command::new(env!("CARGO_BIN_EXE_scanpro"));
    create.args(["admin", "create-user", "--email", "root@example.com", "--role", "admin"]);
    create.envs(cluster.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = create.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"correct horse battery staple\n").unwrap();
    assert!(child.wait().unwrap().success());
    let http = reqwest::Client::new();
    let (one, two) = (&cluster.apis[0].base, &cluster.apis[1].base);
    let login = |base: &str, email: &str| {
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": "correct horse battery staple"}))
            .send()
    };
    let registered = http
        .post(format!("{one}/api/v1/auth/register"))
        .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let ada: Value = registered.json().await.unwrap();
    let root: Value = login(one, "root@example.com").await.unwrap().json().await.unwrap();
    let ada_tokens: Value = login(two, "ada@example.com").await.unwrap().json().await.unwrap();
    let me = || http.get(format!("{two}/api/v1/me")).bearer_auth(ada_tokens["access_token"].as_str().unwrap()).send();
    assert_eq!(me().await.unwrap().status(), 200, "signed in on replica two");
    let disabled = http
        .patch(format!("{one}/api/v1/admin/users/{}", ada["id"].as_str().unwrap()))
        .bearer_auth(root["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200, "disabled on replica one");
    let started = Instant::now();
    let refused = me().await.unwrap();
    assert_eq!(refused.status(), 401, "refused on replica two, {:?} after", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(1));
    let again = login(two, "ada@example.com").await.unwrap();
    assert_eq!(again.status(), 403, "and cannot sign in again");
}

#[tokio::test(flavor = "multi_thread")]
async fn engine_jobs_run_on_workers_of_their_class() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(1, &[("SCANPRO_OFFICE_INSTANCES", "1")]).await;
    cluster.spawn_workers(1, &[("SCANPRO_WORKER_CLASSES", "light")]);
    cluster.spawn_workers(1, &[("SCANPRO_WORKER_CLASSES", "libreoffice,ghostscript,ocr")]);
    let client = cluster.client(0);
    let mut ids = Vec::new();
    // `convert` is queued for the engine of the conversion its input and `to` call for.
    for (input, tool, params, expected) in [
        ("docx/FieldCodes.docx", "office_to_pdf", json!({}), "libreoffice"),
        ("pdf-text/ltnews17.pdf", "compress", json!({"level": "lossless"}), "ghostscript"),
        ("pdf-scanned/ocrmypdf_linn.pdf", "ocr", json!({"output": "text"}), "ocr"),
        ("pdf-text/ltnews17.pdf", "rotate", json!({"angle": 90}), "light"),
        ("docx/FieldCodes.docx", "convert", json!({"to": "pdf"}), "libreoffice"),
        ("images/ocrmypdf_baiona.png", "convert", json!({"to": "pdf"}), "light"),
        ("pdf-text/ltnews17.pdf", "convert", json!({"to": "png", "dpi": 50}), "light"),
        ("pdf-text/ltnews17.pdf", "convert", json!({"to": "odt"}), "libreoffice"),
    ] {
        let file = client.upload(&corpus(input)).await;
        let response =
            client.create_job(json!({"inputs": [file["id"]], "steps": [{"tool": tool, "params": params}]})).await;
        assert_eq!(response.status(), 202, "{tool}");
        let job: Value = response.json().await.unwrap();
        ids.push((tool, input, expected, job["id"].as_str().unwrap().to_owned()));
    }
    for (tool, input, expected, id) in ids {
        let job = client.wait_job(&id).await;
        assert_eq!(job["status"], "succeeded", "{tool} {input}: {job}");
        let class: (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT class FROM jobs WHERE id = '{id}'")))
            .fetch_one(&cluster.db)
            .await
            .unwrap();
        assert_eq!(class.0, expected, "{tool} {input}");
    }
}

/// `scanpro worker` with no `--listen` starts while an API (or anything) holds 127.0.0.1:8080:
/// its health listener has a port of its own, and a light worker runs a light `convert` job
/// (image → PDF) while a LibreOffice one waits for a worker of its class.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_starts_beside_an_api_on_the_default_port() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Hold the API's default port, unless something on this machine already does.
    let _held = std::net::TcpListener::bind("127.0.0.1:8080");
    assert!(std::net::TcpStream::connect("127.0.0.1:8080").is_ok(), "something listens on 127.0.0.1:8080");
    let cluster = Cluster::start(1, &[]).await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
    command.args(["worker", "--classes", "light", "--data-dir"]).arg(cluster.temp.path().join("worker-default"));
    command.envs(cluster.env.iter().map(|(k, v)| (k, v))).env("SCANPRO_LISTEN", "127.0.0.1:8080");
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit_once(" listening on ").map(|(_, base)| base.to_owned());
    let worker = Role { child, base: base.unwrap_or_else(|| panic!("the worker did not start: {line:?}")) };
    assert_eq!(worker.base, "http://127.0.0.1:9090", "the worker's default health listener");
    let health = cluster.http.get(format!("{}/healthz", worker.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let client = cluster.client(0);
    let docx = client.upload(&corpus("docx/FieldCodes.docx")).await;
    let png = client.upload(&corpus("images/ocrmypdf_baiona.png")).await;
    let mut ids = Vec::new();
    for file in [&docx, &png] {
        let body = json!({"inputs": [file["id"]], "steps": [{"tool": "convert", "params": {"to": "pdf"}}]});
        let job: Value = client.create_job(body).await.json().await.unwrap();
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    let image_job = client.wait_job(&ids[1]).await;
    assert_eq!(image_job["status"], "succeeded", "{image_job}");
    assert_eq!(image_job["steps"][0]["report"]["ran_as"], "images_to_pdf", "{image_job}");
    let pdf = cluster.temp.path().join("image.pdf");
    client.download(image_job["outputs"][0]["url"].as_str().unwrap(), &pdf).await;
    qpdf_check(&pdf);
    assert_eq!(page_count(&pdf), 1);
    // Submitted first, yet left alone by the light worker: it waits for a LibreOffice worker.
    let (_, office_job) = client.get_json(&format!("/api/v1/jobs/{}", ids[0])).await;
    assert_eq!(office_job["status"], "queued", "{office_job}");
}
