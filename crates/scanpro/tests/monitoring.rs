//! The monitoring configuration in `k8s/monitoring` against real tools: `promtool` checks the
//! rules and the Prometheus configuration, then a real Prometheus scrapes a `scanpro serve` that
//! has run jobs, and every alert expression answers well-formed and every dashboard panel's
//! query returns data.

mod common;

use common::Server;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn monitoring() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k8s/monitoring")
}

fn promtool(args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("promtool is missing ({e}): run scripts/install-deps --test"));
    assert!(
        out.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real Prometheus on loopback scraping `target` every second, killed on drop.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(monitoring().join("alerts.yml"), dir.path().join("alerts.yml")).unwrap();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [alerts.yml]\n\
             scrape_configs:\n  - job_name: scanpro\n    static_configs: [{{targets: ['{target}']}}]\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = scanpro_testkit::free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("prometheus is missing ({e}): run scripts/install-deps --test"));
        Self { child, base: format!("http://127.0.0.1:{port}"), _dir: dir }
    }

    /// The answer to `expr`; `null` while Prometheus is not listening yet.
    async fn query(&self, expr: &str) -> Value {
        let sent =
            reqwest::Client::new().get(format!("{}/api/v1/query", self.base)).query(&[("query", expr)]).send().await;
        match sent {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn promtool_and_amtool_accept_the_rules_and_the_configurations() {
    promtool(&["check", "rules", monitoring().join("alerts.yml").to_str().unwrap()]);
    // As mounted in the pod: the ConfigMap in `config/`, the Secret with the engine token beside.
    let pod = tempfile::tempdir().unwrap();
    let config = pod.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(pod.path().join("secrets")).unwrap();
    std::fs::write(pod.path().join("secrets/engine_token"), "token").unwrap();
    for file in ["prometheus.yml", "alerts.yml"] {
        std::fs::copy(monitoring().join(file), config.join(file)).unwrap();
    }
    promtool(&["check", "config", config.join("prometheus.yml").to_str().unwrap()]);
    let out = Command::new("amtool")
        .args(["check-config", monitoring().join("alertmanager.yml").to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("amtool is missing ({e}): run scripts/install-deps --test"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "amtool: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("2 receivers"), "email, and email with Slack: {text}");
}

#[tokio::test]
async fn a_real_prometheus_answers_every_alert_and_dashboard_query() {
    let server = Server::start(&[]);
    let client = server.client();
    client.rotate_round_trip().await;

    let target = server.metrics_base.trim_start_matches("http://");
    let prometheus = Prometheus::start(target);
    // Rates need two scrapes at least: wait for a few.
    let started = Instant::now();
    loop {
        let up = prometheus.query("count_over_time(up{job=\"scanpro\"}[1m])").await;
        let scrapes = up["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
        if scrapes >= 4 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "Prometheus did not scrape scanpro: {up}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Traffic between scrapes, so rates are above zero.
    for _ in 0..5 {
        client.get_json("/api/v1/tools").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    let rules: Value = serde_yaml_like(&std::fs::read_to_string(monitoring().join("alerts.yml")).unwrap());
    assert!(!rules.as_array().unwrap().is_empty());
    for expr in rules.as_array().unwrap() {
        let answer = prometheus.query(expr.as_str().unwrap()).await;
        assert_eq!(answer["status"], "success", "alert expression {expr}: {answer}");
    }
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(monitoring().join("dashboard.json")).unwrap()).unwrap();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let answer = prometheus.query(expr).await;
            assert_eq!(answer["status"], "success", "{}: {expr}: {answer}", panel["title"]);
            let result = answer["data"]["result"].as_array().unwrap();
            assert!(!result.is_empty(), "panel {:?} shows no data: {expr}", panel["title"]);
            queried += 1;
        }
    }
    assert!(queried >= 8, "{queried} panel queries");
}

/// The `expr` of every rule in a rules file: the lines after `expr:`, in YAML's folded
/// (`|`) or plain form (enough for the file's own shape; promtool checks the YAML itself).
fn serde_yaml_like(text: &str) -> Value {
    let mut exprs = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim_start().strip_prefix("expr:") else { continue };
        let indent = line.len() - line.trim_start().len();
        let rest = rest.trim();
        if rest == "|" {
            let mut block = String::new();
            while let Some(next) = lines.peek() {
                if next.trim().is_empty() || next.len() - next.trim_start().len() <= indent {
                    break;
                }
                block.push_str(next.trim());
                block.push(' ');
                lines.next();
            }
            exprs.push(Value::String(block.trim().to_owned()));
        } else {
            exprs.push(Value::String(rest.to_owned()));
        }
    }
    Value::Array(exprs)
}

/// Alertmanager with `k8s/monitoring/alertmanager.yml`, pointed at a real SMTP server and a
/// Slack webhook on loopback: every alert arrives by email, a page also on Slack.
#[tokio::test(flavor = "multi_thread")]
async fn alertmanager_routes_alerts_to_email_and_pages_to_slack() {
    let smtp = scanpro_testkit::smtp::Smtp::start();
    let slack = SlackHook::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smtp_password"), "secret").unwrap();
    std::fs::write(dir.path().join("slack_webhook_url"), &slack.url).unwrap();
    let mut config = std::fs::read_to_string(monitoring().join("alertmanager.yml")).unwrap();
    for (from, to) in [
        ("smtp.scanpro.cc:587".to_owned(), smtp.url().trim_start_matches("smtp://").to_owned()),
        ("smtp_require_tls: true".to_owned(), "smtp_require_tls: false".to_owned()),
        ("/etc/alertmanager/secrets".to_owned(), dir.path().display().to_string()),
        ("group_wait: 30s".to_owned(), "group_wait: 1s".to_owned()),
    ] {
        assert!(config.contains(&from), "alertmanager.yml no longer has {from}");
        config = config.replace(&from, &to);
    }
    std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
    let port = scanpro_testkit::free_port();
    let mut alertmanager = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", dir.path().join("alertmanager.yml").display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("prometheus-alertmanager is missing ({e}): run scripts/install-deps --test"));

    let alerts = serde_json::json!([
        {"labels": {"alertname": "ScanProQueueGrowing", "severity": "warn", "class": "ocr"},
         "annotations": {"summary": "The ocr queue keeps growing", "description": "Add workers."}},
        {"labels": {"alertname": "ScanProBackupFailed", "severity": "page", "job_name": "scanpro-backup-database-1"},
         "annotations": {"summary": "A backup job failed", "description": "scanpro-backup-database-1 failed."}},
    ]);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posted = http.post(format!("http://127.0.0.1:{port}/api/v2/alerts")).json(&alerts).send().await;
        if posted.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "Alertmanager did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let (warning, page) = tokio::task::spawn_blocking(move || {
        let first = smtp.message_to("ops@scanpro.cc", 0);
        let second = smtp.message_to("ops@scanpro.cc", 1);
        (first, second)
    })
    .await
    .unwrap();
    let mails = format!("{warning}\n{page}");
    assert!(mails.contains("ScanProQueueGrowing") && mails.contains("ScanProBackupFailed"), "{mails}");
    let posts = slack.wait_for(1).await;
    assert_eq!(posts.len(), 1, "only the page goes to Slack: {posts:?}");
    assert_eq!(posts[0]["channel"], "#scanpro-alerts");
    assert!(posts[0].to_string().contains("A backup job failed"), "{}", posts[0]);
    let _ = alertmanager.kill();
    let _ = alertmanager.wait();
}

/// A Slack incoming webhook on loopback, keeping what it is sent.
struct SlackHook {
    url: String,
    posts: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl SlackHook {
    async fn start() -> Self {
        let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = posts.clone();
        let app = axum::Router::new().route(
            "/services/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/services/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, posts }
    }

    /// The posts received once there are `n`, with a moment for any unexpected extra one.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.posts.lock().unwrap().len() < n {
            assert!(Instant::now() < deadline, "no Slack post within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        self.posts.lock().unwrap().clone()
    }
}
