//! Webhooks against a real `scanpro serve`: internal targets are refused when the job is
//! created, in every spelling, and deliveries carry Standard Webhooks signatures that the
//! specification's own Python library (`standardwebhooks`, installed by
//! `scripts/install-deps --test`) verifies.

mod common;

use common::*;
use scanpro_testkit::corpus::corpus;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;

#[tokio::test]
async fn internal_webhook_targets_are_refused_when_the_job_is_created() {
    let server = Server::start(&[]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let secret = create_secret(&client).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_owned();
    let resolved: Vec<IpAddr> = (machine.as_str(), 80).to_socket_addrs().unwrap().map(|a| a.ip()).collect();
    assert!(resolved.iter().all(|ip| ip.is_loopback()), "this machine's name {machine} resolves to {resolved:?}");
    let machine_url = format!("http://{machine}:8080/hook");

    let mut refused: Vec<(String, &str)> = [
        ("http://localhost./hook", "names this machine"),
        ("http://LOCALHOST:8080/hook", "names this machine"),
        ("http://hooks.localhost/hook", "names this machine"),
        (machine_url.as_str(), "resolves to 127."),
        ("http://no-such-host.invalid/hook", "does not resolve"),
        ("ftp://files.example/hook", "must be an http:// or https:// URL"),
    ]
    .map(|(url, why)| (url.to_owned(), why))
    .into();
    for literal in [
        "[::127.0.0.1]",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "[::]",
        "[64:ff9b::7f00:1]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::a00:1]",
        "[2002:7f00:1::1]",
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
        "[fd00::1]",
        "[fe80::1]",
        "[ff02::1]",
        "0.0.0.0",
        "0.1.2.3",
        "0",
        "2130706433",
        "0x7f.1",
        "10.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "172.16.5.4",
        "192.0.0.170",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.19.255.254",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ] {
        refused.push((format!("http://{literal}:8080/hook"), "special-purpose"));
    }
    for (url, why) in refused {
        let response =
            client.create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "info"}], "webhook_url": url})).await;
        assert_eq!(response.status(), 400, "{url} accepted");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_params", "{url}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.starts_with("webhook_url: ") && detail.contains(why), "{url}: {detail}");
    }
    assert_eq!(client.get_json("/api/v1/jobs").await.1["jobs"], json!([]), "no job was created");
}

#[tokio::test]
async fn deliveries_are_signed_per_standard_webhooks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    // A receiver on loopback: only reachable with `webhook_allow_private_hosts`.
    let server = Server::start(&[("SCANPRO_WEBHOOK_ALLOW_PRIVATE_HOSTS", "true")]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job = json!({"inputs": [file["id"]], "steps": [{"tool": "rotate", "params": {"angle": 90}}], "webhook_url": hook, "tag": "t1"});

    let response = client.create_job(job.clone()).await;
    assert_eq!(response.status(), 400, "no signing secret yet");
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("POST /api/v1/webhook-secret"), "{problem}");

    let replaced = create_secret(&client).await;
    let secret = create_secret(&client).await;
    assert_ne!(replaced, secret, "a second call makes a new secret");
    let other_guest = server.client();
    assert_ne!(create_secret(&other_guest).await, secret);
    let openapi = client.get_json("/api/v1/openapi.json").await.1;
    assert!(openapi["paths"]["/api/v1/webhook-secret"]["post"].is_object());

    let response = client.create_job(job).await;
    assert_eq!(response.status(), 202);
    let created: Value = response.json().await.unwrap();
    let (line, headers, body) = receive_one(&listener).await;
    assert!(line.starts_with("POST /hook "), "{line}");
    let summary: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(summary["event"], "job.finished");
    assert_eq!(summary["job"]["id"], created["id"]);
    assert_eq!(summary["job"]["status"], "succeeded", "{summary}");
    assert_eq!(summary["job"]["tag"], "t1");
    assert_eq!(summary["job"]["outputs"].as_array().unwrap().len(), 1);
    assert!(headers["webhook-signature"].starts_with("v1,"), "{headers:?}");
    assert!(headers["webhook-id"].starts_with("msg_"), "{headers:?}");

    assert_eq!(verify(&secret, &headers, &body), Ok(()));
    assert!(
        verify(&replaced, &headers, &body).unwrap_err().contains("No matching signature"),
        "the old secret no longer signs"
    );
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert!(verify(&secret, &headers, &tampered).is_err(), "the body is covered");
    let mut other_id = headers.clone();
    other_id.insert("webhook-id".into(), "msg_other".into());
    assert!(verify(&secret, &other_id, &body).is_err(), "the id is covered");
}

async fn create_secret(client: &Client) -> String {
    let response = client.http.post(client.url("/api/v1/webhook-secret")).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned()
}

/// Standard Webhooks' reference library verifies the delivery; its error message on failure.
fn verify(secret: &str, headers: &BTreeMap<String, String>, body: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let (headers_file, body_file) = (dir.path().join("headers.json"), dir.path().join("body"));
    std::fs::write(&headers_file, serde_json::to_vec(headers).unwrap()).unwrap();
    std::fs::write(&body_file, body).unwrap();
    let script = "import json, sys\nfrom standardwebhooks import Webhook\n\
        Webhook(sys.argv[1]).verify(open(sys.argv[3], 'rb').read(), json.load(open(sys.argv[2])))\nprint('verified')";
    let python = webhooks_python();
    let out = std::process::Command::new(&python)
        .args(["-c", script, secret, headers_file.to_str().unwrap(), body_file.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("{} could not start ({e}): run scripts/install-deps --test", python.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("ModuleNotFoundError"), "standardwebhooks is missing: run scripts/install-deps --test");
    if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "verified" { Ok(()) } else { Err(stderr) }
}

/// The Python that has `standardwebhooks`: `SCANPRO_WEBHOOKS_PYTHON`, else the venv that
/// `scripts/install-deps --test` makes.
fn webhooks_python() -> PathBuf {
    if let Some(python) = std::env::var_os("SCANPRO_WEBHOOKS_PYTHON") {
        return python.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("scanpro/webhooks/bin/python")
}
