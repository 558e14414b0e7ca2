//! Accounts, attacked from outside: a real `scanpro serve` (guest access off, so every caller
//! needs a credential) and real HTTP. The authorization matrix is generated from the server's
//! own OpenAPI document: every route × every kind of caller, failing on a route it does not
//! know.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Server;
use reqwest::{Method, StatusCode};
use scanpro_testkit::corpus::corpus;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const JWT_KEY: &str = "an access-token key of the accounts test, 32+ characters";
const PASSWORD: &str = "correct horse battery staple";

fn start() -> Server {
    let keys = format!("[\"{JWT_KEY}\"]");
    Server::start(&[
        ("SCANPRO_GUEST_ACCESS", "false"),
        ("SCANPRO_JWT_KEYS", keys.as_str()),
        ("SCANPRO_SIGN_IN_FAILURES", "0"),
        ("SCANPRO_REGISTRATIONS_PER_HOUR", "0"),
    ])
}

/// A client without cookies: credentials are sent as headers only.
fn bare() -> reqwest::Client {
    reqwest::Client::new()
}

/// A caller's credential header.
#[derive(Clone, Debug)]
enum Cred {
    None,
    Bearer(String),
    Key(String),
}

impl Cred {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::None => request,
            Self::Bearer(token) => request.bearer_auth(token),
            Self::Key(key) => request.header("x-api-key", key),
        }
    }
}

async fn call(server: &Server, cred: &Cred, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = cred.apply(bare().request(method, format!("{}{path}", server.base)));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let streams =
        response.headers().get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streams {
        // An event stream never ends: its status is the answer.
        return (status, Value::Null);
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A one-step job on `file`: rotate it.
fn rotate_job(file: &str) -> Value {
    json!({"inputs": [file], "steps": [{"tool": "rotate", "params": {"angle": 90}}]})
}

/// A JSON POST without credentials (sign-up, sign-in and their kin).
async fn post(server: &Server, path: &str, body: Value) -> (StatusCode, Value) {
    call(server, &Cred::None, Method::POST, path, Some(body)).await
}

fn credentials(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

async fn register(server: &Server, email: &str) -> Value {
    let (status, user) = post(server, "/api/v1/auth/register", credentials(email, PASSWORD)).await;
    assert_eq!(status, 201, "{user}");
    user
}

async fn login(server: &Server, email: &str) -> Value {
    let (status, tokens) = post(server, "/api/v1/auth/login", credentials(email, PASSWORD)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// A new account, signed in: its bearer credential and its id.
async fn account(server: &Server, email: &str) -> (Cred, String) {
    let user = register(server, email).await;
    let tokens = login(server, email).await;
    (Cred::Bearer(tokens["access_token"].as_str().unwrap().to_owned()), user["id"].as_str().unwrap().to_owned())
}

async fn upload(server: &Server, cred: &Cred) -> String {
    upload_path(server, cred, "pdf-text/lroundrect.pdf").await
}

async fn upload_path(server: &Server, cred: &Cred, relative: &str) -> String {
    let part = reqwest::multipart::Part::bytes(std::fs::read(corpus(relative)).unwrap()).file_name("a.pdf");
    let request = cred.apply(bare().post(format!("{}/api/v1/files", server.base)));
    let response = request.multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["files"][0]["id"].as_str().unwrap().to_owned()
}

async fn new_key(server: &Server, cred: &Cred, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "test", "scopes": scopes});
    let (status, key) = call(server, cred, Method::POST, "/api/v1/api-keys", Some(body)).await;
    assert_eq!(status, 201, "{key}");
    (key["key"].as_str().unwrap().to_owned(), key["id"].as_str().unwrap().to_owned())
}

async fn admin(server: &Server, email: &str) -> Cred {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scanpro"))
        .args(["admin", "--data-dir"])
        .arg(&server.data_dir)
        .args(["create-user", "--email", email, "--role", "admin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    Cred::Bearer(login(server, email).await["access_token"].as_str().unwrap().to_owned())
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn sessions_rotate_refresh_tokens_and_end_everywhere_at_once() {
    let server = start();
    register(&server, "ada@example.com").await;
    let (status, body) = post(&server, "/api/v1/auth/login", credentials("ada@example.com", "wrong password!")).await;
    assert_eq!((status.as_u16(), code(&body)), (401, "invalid_credentials"));
    let (status, body) = post(&server, "/api/v1/auth/register", credentials("ADA@example.com", PASSWORD)).await;
    assert_eq!((status.as_u16(), code(&body)), (409, "conflict"));
    for weak in ["short", "password123", "qwertyuiop"] {
        let (status, body) =
            post(&server, "/api/v1/auth/register", json!({"email": "bob@example.com", "password": weak})).await;
        assert_eq!((status.as_u16(), code(&body)), (400, "invalid_params"), "{weak}: {body}");
    }

    let first = login(&server, "ada@example.com").await;
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    let access = Cred::Bearer(first["access_token"].as_str().unwrap().into());
    let (status, me) = call(&server, &access, Method::GET, "/api/v1/me", None).await;
    assert_eq!((status.as_u16(), me["email"].as_str()), (200, Some("ada@example.com")));

    // A client still sending an old bearer token reaches the public refresh route.
    let stale = Cred::Bearer("eyJhbGciOiJIUzI1NiJ9.e30.c2ln".into());
    let spare = login(&server, "ada@example.com").await;
    let body = json!({"refresh_token": spare["refresh_token"]});
    let (status, _) = call(&server, &stale, Method::POST, "/api/v1/auth/refresh", Some(body)).await;
    assert_eq!(status, 200, "a stale bearer token does not block a refresh");

    // Rotation: each refresh token works once; presenting a spent one ends the sign-in.
    let refresh = |token: &Value| json!({"refresh_token": token["refresh_token"]});
    let (status, second) = post(&server, "/api/v1/auth/refresh", refresh(&first)).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let (status, _) = post(&server, "/api/v1/auth/refresh", refresh(&first)).await;
    assert_eq!(status, 401, "a spent refresh token");
    let (status, _) = post(&server, "/api/v1/auth/refresh", refresh(&second)).await;
    assert_eq!(status, 401, "the whole family is revoked");
    let (status, _) = call(&server, &access, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401, "and its access tokens with it");

    // Sign-out ends the access token at once.
    let third = login(&server, "ada@example.com").await;
    let access = Cred::Bearer(third["access_token"].as_str().unwrap().into());
    assert_eq!(call(&server, &access, Method::POST, "/api/v1/auth/logout", None).await.0, 204);
    assert_eq!(call(&server, &access, Method::GET, "/api/v1/me", None).await.0, 401);
    assert_eq!(post(&server, "/api/v1/auth/refresh", refresh(&third)).await.0, 401);

    // A password change ends every other sign-in and hands this one new tokens.
    let (one, two) = (login(&server, "ada@example.com").await, login(&server, "ada@example.com").await);
    let one_access = Cred::Bearer(one["access_token"].as_str().unwrap().into());
    let change = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    let (status, changed) =
        call(&server, &one_access, Method::POST, "/api/v1/auth/password/change", Some(change)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(call(&server, &one_access, Method::GET, "/api/v1/me", None).await.0, 401);
    assert_eq!(
        call(&server, &Cred::Bearer(two["access_token"].as_str().unwrap().into()), Method::GET, "/api/v1/me", None)
            .await
            .0,
        401
    );
    let fresh = Cred::Bearer(changed["access_token"].as_str().unwrap().into());
    assert_eq!(call(&server, &fresh, Method::GET, "/api/v1/me", None).await.0, 200);
}

/// A JWT with any header, signed HMAC-SHA256 with `key` whatever the header says.
fn jwt(header: Value, claims: Value, key: &[u8]) -> String {
    use hmac::Mac;
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{signature}")
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let server = start();
    let (good, user) = account(&server, "ada@example.com").await;
    let Cred::Bearer(token) = &good else { unreachable!() };
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    assert_eq!(claims["sub"], user.as_str());
    // The server's own key signs these, so only the attack differs.
    let key = JWT_KEY.as_bytes();
    let with = |change: Value| {
        let mut claims = claims.clone();
        claims.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        claims
    };
    let now = chrono::Utc::now().timestamp();
    let resigned = jwt(json!({"alg": "HS256", "typ": "JWT", "kid": kid}), claims.clone(), key);
    assert_eq!(call(&server, &Cred::Bearer(resigned), Method::GET, "/api/v1/me", None).await.0, 200, "the control");
    let attacks = [
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": kid}).to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            ),
        ),
        (
            "another key",
            jwt(json!({"alg": "HS256", "kid": kid}), claims.clone(), b"some other key of at least 32 characters"),
        ),
        ("HS/RS confusion", jwt(json!({"alg": "RS256", "kid": kid}), claims.clone(), key)),
        ("no kid", jwt(json!({"alg": "HS256"}), claims.clone(), key)),
        ("expired", jwt(json!({"alg": "HS256", "kid": kid}), with(json!({"iat": now - 3600, "exp": now - 1800})), key)),
        ("wrong issuer", jwt(json!({"alg": "HS256", "kid": kid}), with(json!({"iss": "elsewhere"})), key)),
        ("wrong audience", jwt(json!({"alg": "HS256", "kid": kid}), with(json!({"aud": "another-api"})), key)),
        ("another user's id", jwt(json!({"alg": "HS256", "kid": kid}), with(json!({"sub": uuid_like()})), key)),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (attack, token) in attacks {
        let (status, body) = call(&server, &Cred::Bearer(token), Method::GET, "/api/v1/me", None).await;
        assert_eq!((status.as_u16(), code(&body)), (401, "unauthorized"), "{attack}: {body}");
    }
    // Used after sign-out.
    assert_eq!(call(&server, &good, Method::POST, "/api/v1/auth/logout", None).await.0, 204);
    let replay = jwt(json!({"alg": "HS256", "kid": kid}), claims, key);
    assert_eq!(call(&server, &Cred::Bearer(replay), Method::GET, "/api/v1/me", None).await.0, 401, "after sign-out");
}

fn uuid_like() -> String {
    "0190f5b2-7c1e-7d6a-9a3e-0123456789ab".into()
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revoked_at_once() {
    let server = start();
    let (ada, _) = account(&server, "ada@example.com").await;
    let (read_only, _) = new_key(&server, &ada, &["files:read"]).await;
    let (full, full_id) = new_key(&server, &ada, &["files:read", "files:write", "jobs:read", "jobs:write"]).await;
    assert!(full.starts_with("sk_"));
    let (status, list) = call(&server, &ada, Method::GET, "/api/v1/api-keys", None).await;
    assert_eq!(status, 200);
    let listed = list["api_keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.get("key").is_none()), "keys are shown once: {list}");
    assert!(full.starts_with(listed.iter().find(|k| k["id"] == full_id.as_str()).unwrap()["prefix"].as_str().unwrap()));

    let file = upload(&server, &Cred::Key(full.clone())).await;
    let as_bearer = Cred::Bearer(full.clone());
    assert_eq!(
        call(&server, &as_bearer, Method::GET, &format!("/api/v1/files/{file}"), None).await.0,
        200,
        "Bearer sk_… works too"
    );
    assert_eq!(
        call(&server, &Cred::Key(read_only.clone()), Method::GET, &format!("/api/v1/files/{file}"), None).await.0,
        200
    );
    let (status, body) =
        call(&server, &Cred::Key(read_only.clone()), Method::DELETE, &format!("/api/v1/files/{file}"), None).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "forbidden"), "files:write is missing");
    let (status, _) =
        call(&server, &Cred::Key(full.clone()), Method::POST, "/api/v1/api-keys", Some(json!({"name": "k"}))).await;
    assert_eq!(status, 403, "a key cannot make keys");

    assert_eq!(call(&server, &ada, Method::DELETE, &format!("/api/v1/api-keys/{full_id}"), None).await.0, 204);
    let (status, body) = call(&server, &Cred::Key(full), Method::GET, &format!("/api/v1/files/{file}"), None).await;
    assert_eq!((status.as_u16(), code(&body)), (401, "unauthorized"), "revoked at once");
    let (bob, _) = account(&server, "bob@example.com").await;
    let (_, ada_key) = new_key(&server, &ada, &["jobs:read"]).await;
    assert_eq!(
        call(&server, &bob, Method::DELETE, &format!("/api/v1/api-keys/{ada_key}"), None).await.0,
        404,
        "not bob's to revoke"
    );
    let (status, _) = call(
        &server,
        &ada,
        Method::POST,
        "/api/v1/api-keys",
        Some(json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, 400, "an expiry in the past");
}

#[tokio::test]
async fn concurrent_jobs_spend_exactly_the_operations_left() {
    let server = start();
    let root = admin(&server, "root@example.com").await;
    let (ada, ada_id) = account(&server, "ada@example.com").await;
    let (status, user) = call(
        &server,
        &root,
        Method::PATCH,
        &format!("/api/v1/admin/users/{ada_id}"),
        Some(json!({"operations_limit": 5})),
    )
    .await;
    assert_eq!((status.as_u16(), user["operations_limit"].as_u64()), (200, Some(5)), "{user}");
    let file = upload(&server, &ada).await;
    let job = rotate_job(&file);
    let creations = (0..50).map(|_| call(&server, &ada, Method::POST, "/api/v1/jobs", Some(job.clone())));
    let answers = futures::future::join_all(creations).await;
    let started = answers.iter().filter(|(status, _)| *status == 202).count();
    assert_eq!(started, 5, "exactly the 5 operations left start");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 202) {
        assert_eq!((status.as_u16(), code(body)), (402, "quota_exceeded"), "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("5 operations") && detail.contains("resets at"), "{detail}");
    }
    let (_, usage) = call(&server, &ada, Method::GET, "/api/v1/me/usage", None).await;
    assert_eq!((usage["operations_used"].as_u64(), usage["operations_limit"].as_u64()), (Some(5), Some(5)), "{usage}");

    // A step that fails on its input keeps its operation; one the server could not run gives
    // it back. Raise the limit and run a job whose second step never runs.
    call(&server, &root, Method::PATCH, &format!("/api/v1/admin/users/{ada_id}"), Some(json!({"operations_limit": 7})))
        .await;
    let encrypted = upload_path(&server, &ada, "pdf-broken/pdfjs_saslprep-r6.pdf").await;
    let failing = json!({"inputs": [encrypted], "steps": [{"tool": "unlock", "params": {"password": "not the password"}}, {"tool": "rotate", "params": {"angle": 90}}]});
    let (status, job) = call(&server, &ada, Method::POST, "/api/v1/jobs", Some(failing)).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let mut ended = Value::Null;
    for _ in 0..300 {
        ended = call(&server, &ada, Method::GET, &format!("/api/v1/jobs/{id}"), None).await.1;
        if ended["status"] == "failed" || ended["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (ended["status"].as_str(), ended["error"]["code"].as_str()),
        (Some("failed"), Some("wrong_password")),
        "{ended}"
    );
    let mut used = 0;
    for _ in 0..50 {
        used = call(&server, &ada, Method::GET, "/api/v1/me/usage", None).await.1["operations_used"].as_u64().unwrap();
        if used == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(used, 6, "the failed step on its input stays counted, the step never run is given back");

    // The admin's CSV export has the account's month.
    let response =
        root.apply(bare().get(format!("{}/api/v1/admin/usage?format=csv", server.base))).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("period,account,email,operations"), "{csv}");
    assert!(csv.lines().any(|line| line.contains("ada@example.com") && line.ends_with(",6")), "{csv}");
}

#[tokio::test]
async fn administrators_disable_switch_off_and_are_audited() {
    let server = start();
    let root = admin(&server, "root@example.com").await;
    let (ada, ada_id) = account(&server, "ada@example.com").await;
    let (key, _) = new_key(&server, &ada, &["files:read", "files:write", "jobs:read", "jobs:write"]).await;
    let file = upload(&server, &ada).await;
    let (_, job) = call(&server, &ada, Method::POST, "/api/v1/jobs", Some(rotate_job(&file))).await;
    let job_id = job["id"].as_str().unwrap();

    // Tool switches: a disabled tool is refused and left out of the catalogue.
    assert_eq!(
        call(&server, &root, Method::PUT, "/api/v1/admin/tools/rotate", Some(json!({"enabled": false}))).await.0,
        204
    );
    let (status, body) = call(&server, &ada, Method::POST, "/api/v1/jobs", Some(rotate_job(&file))).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "tool_disabled"), "{body}");
    let (_, tools) = call(&server, &ada, Method::GET, "/api/v1/tools", None).await;
    assert!(tools["tools"].as_array().unwrap().iter().all(|t| t["name"] != "rotate"));
    call(&server, &root, Method::PUT, "/api/v1/admin/tools/rotate", Some(json!({"enabled": true}))).await;

    // Support reads of any job are audited; other users' jobs stay invisible elsewhere.
    assert_eq!(call(&server, &root, Method::GET, &format!("/api/v1/jobs/{job_id}"), None).await.0, 404);
    assert_eq!(call(&server, &root, Method::GET, &format!("/api/v1/admin/jobs/{job_id}"), None).await.0, 200);

    // Disabling takes effect at once for tokens and keys alike.
    let (status, _) =
        call(&server, &root, Method::PATCH, &format!("/api/v1/admin/users/{ada_id}"), Some(json!({"disabled": true})))
            .await;
    assert_eq!(status, 200);
    let (status, body) = call(&server, &ada, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401, "its sign-ins ended: {body}");
    let (status, body) = call(&server, &Cred::Key(key), Method::GET, "/api/v1/jobs", None).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "account_disabled"));
    let (status, body) = post(&server, "/api/v1/auth/login", credentials("ada@example.com", PASSWORD)).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "account_disabled"));

    let (_, audit) = call(&server, &root, Method::GET, "/api/v1/admin/audit", None).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["sign_in", "api_key_created", "admin_tool_disabled", "admin_job_read", "admin_user_updated"] {
        assert!(actions.contains(&expected), "{expected} not in {actions:?}");
    }
    // The last admin cannot lock everyone out.
    let (_, me) = call(&server, &root, Method::GET, "/api/v1/me", None).await;
    let (status, _) = call(
        &server,
        &root,
        Method::PATCH,
        &format!("/api/v1/admin/users/{}", me["id"].as_str().unwrap()),
        Some(json!({"role": "user"})),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn deleting_an_account_removes_everything_it_owns() {
    let server = start();
    let (ada, _) = account(&server, "ada@example.com").await;
    let (key, _) = new_key(&server, &ada, &["files:read"]).await;
    let file = upload(&server, &ada).await;
    let blobs = server.data_dir.join("blobs");
    let stored = || walk(&blobs).len();
    assert_eq!(stored(), 1);
    assert_eq!(call(&server, &ada, Method::DELETE, "/api/v1/me", None).await.0, 204);
    assert_eq!(stored(), 0, "the file's bytes are gone");
    assert_eq!(
        call(&server, &Cred::Key(key), Method::GET, &format!("/api/v1/files/{file}"), None).await.0,
        401,
        "its keys are gone"
    );
    let (status, _) = post(&server, "/api/v1/auth/login", credentials("ada@example.com", PASSWORD)).await;
    assert_eq!(status, 401);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .filter(|p| !p.file_name().is_some_and(|name| name.to_string_lossy().starts_with('.')))
        .collect()
}

#[tokio::test]
async fn a_guest_who_signs_up_keeps_the_browsers_files() {
    let server = Server::start(&[]);
    let browser = server.client();
    let file = browser.upload(&corpus("pdf-text/lroundrect.pdf")).await;
    let id = file["id"].as_str().unwrap();
    for path in ["/api/v1/me", "/api/v1/api-keys", "/api/v1/admin/users"] {
        assert_eq!(browser.get_json(path).await.0, 401, "{path} needs an account");
    }
    let post = |path: &str, body: Value| browser.http.post(browser.url(path)).json(&body).send();
    assert_eq!(post("/api/v1/auth/register", credentials("ada@example.com", PASSWORD)).await.unwrap().status(), 201);
    let signed_in = post("/api/v1/auth/login", credentials("ada@example.com", PASSWORD)).await.unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("scanpro_session="));
    let cookie = cookie.expect("the web session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    // The browser now acts as the account (its session cookie), and the guest's file is its.
    let (status, me) = browser.get_json("/api/v1/me").await;
    assert_eq!((status, me["email"].as_str()), (200, Some("ada@example.com")));
    assert_eq!(browser.get_json(&format!("/api/v1/files/{id}")).await.0, 200);
    // Cookie-authenticated writes from another site are refused.
    let cross = browser
        .http
        .post(browser.url("/api/v1/api-keys"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let tokens: Value = signed_in.json().await.unwrap();
    let bearer = Cred::Bearer(tokens["access_token"].as_str().unwrap().into());
    assert_eq!(call(&server, &bearer, Method::GET, &format!("/api/v1/files/{id}"), None).await.0, 200);
}

/// Who the matrix asks as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Owner,
    Stranger,
    KeyWithScope,
    KeyWithoutScope,
    RevokedKey,
    Disabled,
    Admin,
}

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, credentials or not.
    Public,
    /// The caller's own files or jobs, by id when `by_id`; an API key needs `scopes`.
    Owned {
        scopes: &'static [&'static str],
        by_id: bool,
    },
    /// The account itself; `keys`: API keys may call it too.
    Account {
        keys: bool,
    },
    Admin,
}

/// Every route of the API with its rule. A route missing here fails the matrix.
fn rule_of(method: &str, path: &str) -> Option<Rule> {
    use Rule::*;
    Some(match (method, path) {
        (
            "post",
            "/api/v1/auth/register"
            | "/api/v1/auth/login"
            | "/api/v1/auth/refresh"
            | "/api/v1/auth/verify"
            | "/api/v1/auth/password/forgot"
            | "/api/v1/auth/password/reset",
        )
        | ("get", "/api/v1/tools" | "/api/v1/tools/{tool}" | "/healthz" | "/readyz")
        | ("get", "/api/v1/auth/providers" | "/api/v1/auth/oidc/login" | "/api/v1/auth/oidc/callback") => Public,
        ("post", "/api/v1/files") => Owned { scopes: &["files:write"], by_id: false },
        ("get", "/api/v1/files/{id}" | "/api/v1/files/{id}/content") => Owned { scopes: &["files:read"], by_id: true },
        ("delete", "/api/v1/files/{id}") => Owned { scopes: &["files:write"], by_id: true },
        ("post", "/api/v1/jobs" | "/api/v1/webhook-secret") => Owned { scopes: &["jobs:write"], by_id: false },
        ("post", "/api/v1/jobs/{id}/cancel") => Owned { scopes: &["jobs:write"], by_id: true },
        ("get", "/api/v1/jobs") => Owned { scopes: &["jobs:read"], by_id: false },
        ("get", "/api/v1/jobs/{id}" | "/api/v1/jobs/{id}/events") => Owned { scopes: &["jobs:read"], by_id: true },
        ("get", "/api/v1/jobs/{id}/outputs.zip") => Owned { scopes: &["jobs:read", "files:read"], by_id: true },
        ("post", "/api/v1/tools/{tool}") => Owned { scopes: &["files:write", "jobs:write"], by_id: false },
        ("get", "/api/v1/me" | "/api/v1/me/usage") => Account { keys: true },
        ("delete", "/api/v1/me")
        | ("post", "/api/v1/auth/logout" | "/api/v1/auth/password/change")
        | ("post" | "get", "/api/v1/api-keys")
        | ("delete", "/api/v1/api-keys/{id}") => Account { keys: false },
        (
            "get",
            "/api/v1/admin/users"
            | "/api/v1/admin/usage"
            | "/api/v1/admin/audit"
            | "/api/v1/admin/tools"
            | "/api/v1/admin/jobs/{id}",
        )
        | ("patch" | "delete", "/api/v1/admin/users/{id}")
        | ("put", "/api/v1/admin/tools/{tool}") => Admin,
        _ => return None,
    })
}

/// Routes whose success would spend the fixture: they succeed on a throwaway account instead.
fn spends_the_caller(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("delete", "/api/v1/me")
            | ("post", "/api/v1/auth/logout")
            | ("delete", "/api/v1/files/{id}")
            | ("delete", "/api/v1/api-keys/{id}")
    )
}

/// Statuses that mean "the caller was let through" (the body may still be wrong).
fn let_through(status: u16) -> bool {
    !matches!(status, 401 | 403 | 404) && status < 500
}

/// A signed-in account with a file, a job and a key of its own.
struct Fixture {
    cred: Cred,
    user: String,
    file: String,
    job: String,
    key: String,
}

async fn fixture(server: &Server, email: &str) -> Fixture {
    let (cred, user) = account(server, email).await;
    let file = upload(server, &cred).await;
    let (_, job) = call(server, &cred, Method::POST, "/api/v1/jobs", Some(rotate_job(&file))).await;
    let (_, key) = new_key(server, &cred, &["jobs:read"]).await;
    Fixture { cred, user, file, job: job["id"].as_str().unwrap().into(), key }
}

fn concrete(path: &str, of: &Fixture, target_user: &str) -> String {
    let id = if path.starts_with("/api/v1/files") {
        &of.file
    } else if path.starts_with("/api/v1/api-keys") {
        &of.key
    } else if path.starts_with("/api/v1/admin/users") {
        target_user
    } else {
        &of.job
    };
    path.replace("{id}", id).replace("{tool}", "rotate")
}

#[tokio::test]
async fn the_authorization_matrix_covers_every_route() {
    let server = start();
    let (_, openapi) = call(&server, &Cred::None, Method::GET, "/api/v1/openapi.json", None).await;
    let mut routes = Vec::new();
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        {
            let rule =
                rule_of(method, path).unwrap_or_else(|| panic!("{method} {path} is not in the authorization matrix"));
            routes.push((method.clone(), path.clone(), rule));
        }
    }
    let root = admin(&server, "root@example.com").await;
    let ada = fixture(&server, "ada@example.com").await;
    let bob = fixture(&server, "bob@example.com").await;
    let mut creds: BTreeMap<Who, Cred> = BTreeMap::new();
    creds.insert(Who::Nobody, Cred::None);
    creds.insert(Who::Owner, ada.cred.clone());
    creds.insert(Who::Stranger, bob.cred.clone());
    creds.insert(Who::Admin, root.clone());
    let (revoked, revoked_id) =
        new_key(&server, &ada.cred, &["files:read", "files:write", "jobs:read", "jobs:write"]).await;
    call(&server, &ada.cred, Method::DELETE, &format!("/api/v1/api-keys/{revoked_id}"), None).await;
    creds.insert(Who::RevokedKey, Cred::Key(revoked));
    let carol = fixture(&server, "carol@example.com").await;
    let (carol_key, _) = new_key(&server, &carol.cred, &["files:read", "files:write", "jobs:read", "jobs:write"]).await;
    call(
        &server,
        &root,
        Method::PATCH,
        &format!("/api/v1/admin/users/{}", carol.user),
        Some(json!({"disabled": true})),
    )
    .await;
    creds.insert(Who::Disabled, Cred::Key(carol_key));

    const ALL: [&str; 4] = ["files:read", "files:write", "jobs:read", "jobs:write"];
    let mut keys: BTreeMap<Vec<&str>, String> = BTreeMap::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, path, rule) in &routes {
        let http = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = (!matches!(http, Method::GET | Method::DELETE)).then(|| json!({}));
        let spends = spends_the_caller(method, path);
        for who in [
            Who::Nobody,
            Who::Owner,
            Who::Stranger,
            Who::KeyWithScope,
            Who::KeyWithoutScope,
            Who::RevokedKey,
            Who::Disabled,
            Who::Admin,
        ] {
            // Each call gets a throwaway target account for admin routes that change users.
            let target = if path.starts_with("/api/v1/admin/users/") {
                account(&server, &format!("t{checked}@example.com")).await.1
            } else {
                bob.user.clone()
            };
            // A route that spends what it acts on (deletes, signs out) acts on a throwaway
            // account in Ada's place, and an account route on the caller's own throwaway.
            let throwaway;
            let subject = if spends {
                throwaway = fixture(&server, &format!("spent{checked}@example.com")).await;
                &throwaway
            } else {
                &ada
            };
            let cred = match who {
                Who::KeyWithScope | Who::KeyWithoutScope => {
                    let scopes: Vec<&str> = match (rule, who) {
                        (Rule::Owned { scopes, .. }, Who::KeyWithScope) => scopes.to_vec(),
                        (Rule::Owned { scopes, .. }, _) => ALL.into_iter().filter(|s| !scopes.contains(s)).collect(),
                        (_, Who::KeyWithScope) => ALL.to_vec(),
                        _ => vec!["jobs:read"],
                    };
                    let key = match keys.get(&scopes).filter(|_| !spends) {
                        Some(key) => key.clone(),
                        None => {
                            let key = new_key(&server, &subject.cred, &scopes).await.0;
                            if !spends {
                                keys.insert(scopes, key.clone());
                            }
                            key
                        }
                    };
                    Cred::Key(key)
                }
                Who::Owner => subject.cred.clone(),
                Who::Stranger | Who::Admin
                    if spends && matches!(rule, Rule::Account { .. }) && !path.contains("{id}") =>
                {
                    account(&server, &format!("own{checked}@example.com")).await.0
                }
                _ => creds[&who].clone(),
            };
            let of = subject;
            let url = concrete(path, of, &target);
            let (status, answer) = call(&server, &cred, http.clone(), &url, body.clone()).await;
            let status = status.as_u16();
            checked += 1;
            let expected_ok = match (rule, who) {
                // Health probes take no credentials at all.
                (Rule::Public, _) if !path.starts_with("/api/") => status == 200,
                (Rule::Public, _) => status < 500 && status != 401 && status != 403,
                (_, Who::Nobody | Who::RevokedKey) => status == 401,
                (_, Who::Disabled) => status == 403 && code(&answer) == "account_disabled",
                (Rule::Owned { .. }, Who::Owner | Who::KeyWithScope) => let_through(status),
                (Rule::Owned { by_id: true, .. }, Who::Stranger | Who::Admin) => status == 404,
                (Rule::Owned { .. }, Who::Stranger | Who::Admin) => let_through(status),
                (Rule::Owned { .. }, Who::KeyWithoutScope) => status == 403,
                // Another account's key, through the account's own routes: not found.
                (Rule::Account { .. }, Who::Stranger | Who::Admin) if path.contains("{id}") => status == 404,
                (Rule::Account { .. }, Who::Owner | Who::Stranger | Who::Admin) => let_through(status),
                (Rule::Account { keys }, Who::KeyWithScope | Who::KeyWithoutScope) => {
                    if *keys {
                        let_through(status)
                    } else {
                        status == 403
                    }
                }
                (Rule::Admin, Who::Admin) => let_through(status),
                (Rule::Admin, _) => status == 403,
            };
            if !expected_ok {
                failures.push(format!("{method} {url} as {who:?}: {status} {answer}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    println!("authorization matrix: {} routes × 8 callers = {checked} checks", routes.len());
    assert!(routes.len() >= 30, "the matrix saw only {} routes", routes.len());
}

/// The token of the link in an email: `…#token=…` (its body quoted-printable or plain).
fn link_token(message: &str) -> String {
    let message = quoted_printable_decoded(message);
    let at = message.find("#token=").unwrap_or_else(|| panic!("no link in {message}")) + "#token=".len();
    message[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Undoes quoted-printable: soft line breaks and `=XX` escapes.
fn quoted_printable_decoded(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?, 16).ok())
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn emailed_links_confirm_addresses_and_reset_passwords() {
    let smtp = scanpro_testkit::smtp::Smtp::start();
    let url = smtp.url();
    let server = Server::start(&[
        ("SCANPRO_SMTP_URL", url.as_str()),
        ("SCANPRO_PUBLIC_URL", "https://scanpro.example.com"),
        ("SCANPRO_GUEST_ACCESS", "false"),
    ]);
    let user = register(&server, "ada@example.com").await;
    assert_eq!(user["email_verified"], false);
    let old_password = credentials("ada@example.com", PASSWORD);
    let (status, body) = post(&server, "/api/v1/auth/login", old_password.clone()).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "forbidden"), "not confirmed yet: {body}");

    let confirmation = smtp.message_to("ada@example.com", 0);
    assert!(confirmation.contains("Subject: Confirm your email address"), "{confirmation}");
    assert!(
        quoted_printable_decoded(&confirmation).contains("https://scanpro.example.com/verify-email#token="),
        "{confirmation}"
    );
    let token = link_token(&confirmation);
    let (status, verified) = post(&server, "/api/v1/auth/verify", json!({"token": token})).await;
    assert_eq!((status.as_u16(), verified["email_verified"].as_bool()), (200, Some(true)), "{verified} {confirmation}");
    let (status, _) = post(&server, "/api/v1/auth/verify", json!({"token": token})).await;
    assert_eq!(status, 400, "a link works once");
    let signed_in = login(&server, "ada@example.com").await;
    let old = Cred::Bearer(signed_in["access_token"].as_str().unwrap().into());

    // The answer to a reset request is the same for unknown addresses, which get no email.
    for email in ["ada@example.com", "nobody@example.com"] {
        let (status, _) = post(&server, "/api/v1/auth/password/forgot", json!({"email": email})).await;
        assert_eq!(status, 202);
    }
    let reset = smtp.message_to("ada@example.com", 1);
    assert!(reset.contains("Subject: Reset your password"), "{reset}");
    let (key, _) = new_key(&server, &old, &["jobs:read"]).await;
    let weak = json!({"token": link_token(&reset), "password": "password123"});
    assert_eq!(post(&server, "/api/v1/auth/password/reset", weak).await.0, 400, "a common password");
    let body = json!({"token": link_token(&reset), "password": "a new and longer passphrase"});
    assert_eq!(post(&server, "/api/v1/auth/password/reset", body).await.0, 204, "the refused try kept the link");
    assert_eq!(call(&server, &old, Method::GET, "/api/v1/me", None).await.0, 401, "the reset ended every sign-in");
    assert_eq!(call(&server, &Cred::Key(key), Method::GET, "/api/v1/jobs", None).await.0, 401, "and every API key");
    assert_eq!(post(&server, "/api/v1/auth/login", old_password).await.0, 401, "the old password");
    let fresh = credentials("ada@example.com", "a new and longer passphrase");
    assert_eq!(post(&server, "/api/v1/auth/login", fresh).await.0, 200);
    assert!(smtp.received_by("nobody@example.com").is_empty(), "no email for an address without an account");
}

#[tokio::test]
async fn failed_sign_ins_and_registrations_are_throttled() {
    let server = Server::start(&[("SCANPRO_SIGN_IN_FAILURES", "3"), ("SCANPRO_REGISTRATIONS_PER_HOUR", "2")]);
    register(&server, "ada@example.com").await;
    register(&server, "bob@example.com").await;
    let (status, body) = post(&server, "/api/v1/auth/register", credentials("eve@example.com", PASSWORD)).await;
    assert_eq!(
        (status.as_u16(), code(&body)),
        (429, "rate_limited"),
        "a third registration from one address in an hour"
    );
    let attempt = |password: &'static str| {
        call(&server, &Cred::None, Method::POST, "/api/v1/auth/login", Some(credentials("ada@example.com", password)))
    };
    for _ in 0..3 {
        assert_eq!(attempt("guessing wrong").await.0, 401);
    }
    let (status, body) = attempt(PASSWORD).await;
    assert_eq!((status.as_u16(), code(&body)), (429, "rate_limited"), "even the right password waits: {body}");
    // Another account from the same address is not locked by Ada's failures (within the
    // address's larger budget).
    let (status, _) = post(&server, "/api/v1/auth/login", credentials("bob@example.com", PASSWORD)).await;
    assert_eq!(status, 200);
}

/// The `action` of the first form in an HTML page, made absolute against `base`.
fn form_action(html: &str, base: &str) -> String {
    let at = html.find("action=\"").unwrap_or_else(|| panic!("no form in {html}")) + "action=\"".len();
    let action = &html[at..at + html[at..].find('"').unwrap()];
    if action.starts_with("http") { action.to_owned() } else { format!("{base}{action}") }
}

/// Signs in at the provider's development login form as `login`, and gives consent; the
/// browser (`http`, which follows redirects and keeps cookies) ends where ScanPro sends it.
async fn sign_in_at_provider(http: &reqwest::Client, server: &Server, issuer: &str, login: &str) -> reqwest::Response {
    let at_provider = http.get(format!("{}/api/v1/auth/oidc/login", server.base)).send().await.unwrap();
    assert!(at_provider.url().as_str().starts_with(issuer), "sent to the provider: {}", at_provider.url());
    let page = at_provider.text().await.unwrap();
    let consent = http
        .post(form_action(&page, issuer))
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .unwrap();
    let consent_page = consent.text().await.unwrap();
    http.post(form_action(&consent_page, issuer)).form(&[("prompt", "consent")]).send().await.unwrap()
}

/// A browser: keeps cookies, follows redirects, opens a connection per request (the provider's
/// server closes idle ones under a pooled client's feet).
fn new_browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).pool_max_idle_per_host(0).build().unwrap()
}

#[tokio::test]
async fn single_sign_on_with_a_real_openid_connect_provider() {
    let port = scanpro_testkit::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let provider = scanpro_testkit::oidc::OidcProvider::start(&format!("{public}/api/v1/auth/oidc/callback"));
    let issuer = provider.issuer();
    let server = Server::start_on(
        port,
        &[
            ("SCANPRO_OIDC_ISSUER", issuer.as_str()),
            ("SCANPRO_OIDC_CLIENT_ID", scanpro_testkit::oidc::CLIENT_ID),
            ("SCANPRO_OIDC_CLIENT_SECRET", scanpro_testkit::oidc::CLIENT_SECRET),
            ("SCANPRO_OIDC_NAME", "Example ID"),
            ("SCANPRO_PUBLIC_URL", public.as_str()),
        ],
    );
    let (_, providers) = call(&server, &Cred::None, Method::GET, "/api/v1/auth/providers", None).await;
    assert_eq!(providers["providers"][0]["name"], "Example ID");

    // A guest's file passes to the account made at the first single sign-on.
    let browser = new_browser();
    let part =
        reqwest::multipart::Part::bytes(std::fs::read(corpus("pdf-text/lroundrect.pdf")).unwrap()).file_name("a.pdf");
    let uploaded: Value = browser
        .post(format!("{public}/api/v1/files"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file = uploaded["files"][0]["id"].as_str().unwrap().to_owned();
    let landed = sign_in_at_provider(&browser, &server, &issuer, "alice").await;
    assert_eq!(landed.url().path(), "/account", "back at ScanPro, signed in: {}", landed.url());
    let me: Value = browser.get(format!("{public}/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("alice@example.org"), Some(true)), "{me}");
    assert_eq!(browser.get(format!("{public}/api/v1/files/{file}")).send().await.unwrap().status(), 200);

    // The same identity later is the same account.
    let again = new_browser();
    assert_eq!(sign_in_at_provider(&again, &server, &issuer, "alice").await.url().path(), "/account");
    let me_again: Value = again.get(format!("{public}/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me_again["id"], me["id"]);

    // An address the provider does not vouch for makes no account; an address an account
    // already holds is not taken over by whoever the provider vouches for.
    let unvouched = sign_in_at_provider(&new_browser(), &server, &issuer, "unverified-bob").await;
    assert_eq!((unvouched.url().path(), unvouched.url().query()), ("/signin", Some("error=forbidden")));
    register(&server, "carol@example.org").await;
    let carol = new_browser();
    let refused = sign_in_at_provider(&carol, &server, &issuer, "carol").await;
    assert_eq!((refused.url().path(), refused.url().query()), ("/signin", Some("error=conflict")));
    assert_eq!(carol.get(format!("{public}/api/v1/me")).send().await.unwrap().status(), 401);

    // A callback without the sign-in this browser started, or with another state, is refused.
    let forged =
        bare().get(format!("{public}/api/v1/auth/oidc/callback?code=stolen&state=guess")).send().await.unwrap();
    assert_eq!(forged.url().query(), Some("error=unauthorized"));
    let started =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(started.get(format!("{public}/api/v1/auth/oidc/login")).send().await.unwrap().status(), 303);
    let swapped =
        started.get(format!("{public}/api/v1/auth/oidc/callback?code=stolen&state=guess")).send().await.unwrap();
    assert_eq!(swapped.headers()["location"], "/signin?error=unauthorized");
}
