//! The HTTP API v1 against a real `scanpro serve`, checked with independent PDF tools.

mod common;

use common::*;
use scanpro_testkit::checkers::{page_count, page_text, qpdf_check, qpdf_json, rotations, run};
use scanpro_testkit::corpus::corpus;
use serde_json::{Value, json};

#[tokio::test]
async fn merge_job_end_to_end() {
    let server = Server::start(&[]);
    let client = server.client();
    let a = client.upload(&corpus("pdf-text/lroundrect.pdf")).await;
    let b = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    assert_eq!(a["content_type"], "application/pdf");
    assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    let response = client
        .create_job(json!({"inputs": [a["id"], b["id"]], "steps": [{"tool": "merge", "params": {"order": [1, 0]}}]}))
        .await;
    assert_eq!(response.status(), 202);
    assert!(response.headers().get("location").is_some());
    let job: Value = response.json().await.unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"]["percent"], 100);
    assert_eq!(job["outputs"].as_array().unwrap().len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("merged.pdf");
    client.download(job["outputs"][0]["url"].as_str().unwrap(), &merged).await;
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), 12);
    // Order [1, 0]: the newsletter's first page comes first.
    assert_eq!(page_text(&merged, 1), page_text(&corpus("pdf-text/ltnews17.pdf"), 1));
}

#[tokio::test]
async fn two_step_pipeline_feeds_outputs_forward() {
    let server = Server::start(&[]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/lroundrect.pdf")).await;
    let response = client
        .create_job(json!({"inputs": [file["id"]], "steps": [
            {"tool": "split", "params": {"mode": "ranges", "ranges": "1-3,last"}},
            {"tool": "rotate", "params": {"angle": 90, "pages": "1"}}]}))
        .await;
    let job: Value = response.json().await.unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["steps"][0]["status"], "succeeded");
    assert_eq!(job["steps"][1]["status"], "succeeded");
    let outputs = job["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2, "{job}");
    let dir = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for (index, output) in outputs.iter().enumerate() {
        let path = dir.path().join(format!("{index}.pdf"));
        client.download(output["url"].as_str().unwrap(), &path).await;
        qpdf_check(&path);
        let rot = rotations(&path);
        assert_eq!(rot[0], 90, "first page rotated");
        assert!(rot[1..].iter().all(|r| *r == 0), "only page 1 rotated: {rot:?}");
        counts.push(page_count(&path));
    }
    counts.sort();
    assert_eq!(counts, vec![1, 3]);

    // The same outputs as one zip.
    let zip = client.http.get(client.url(job["links"]["outputs_zip"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let zip_path = dir.path().join("out.zip");
    std::fs::write(&zip_path, zip.bytes().await.unwrap()).unwrap();
    let listing = run("unzip", ["-l", zip_path.to_str().unwrap()]);
    assert!(listing.status.success());
    assert_eq!(String::from_utf8_lossy(&listing.stdout).matches(".pdf").count(), 2);
}

#[tokio::test]
async fn one_shot_returns_the_file_or_a_zip() {
    let server = Server::start(&[]);
    let client = server.client();
    let response =
        client.one_shot("rotate", &[&corpus("pdf-text/lscape.pdf")], json!({"angle": 270, "pages": "even"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(response.headers().get("x-scanpro-job-id").is_some());
    let dir = tempfile::tempdir().unwrap();
    let rotated = dir.path().join("rotated.pdf");
    std::fs::write(&rotated, response.bytes().await.unwrap()).unwrap();
    qpdf_check(&rotated);
    let original = rotations(&corpus("pdf-text/lscape.pdf"));
    let expected: Vec<u32> =
        original.iter().enumerate().map(|(i, r)| if i % 2 == 1 { (r + 270) % 360 } else { *r }).collect();
    assert_eq!(rotations(&rotated), expected);

    let response = client.one_shot("split", &[&corpus("pdf-text/ltnews17.pdf")], json!({"mode": "each"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");

    let response = client.one_shot("info", &[&corpus("pdf-text/lroundrect.pdf")], json!({})).await;
    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["pages"], 10, "{info}");
}

#[tokio::test]
async fn a_form_is_listed_then_filled_through_the_api() {
    let server = Server::start(&[]);
    let client = server.client();
    let form = corpus("pdf-text/pdfjs_issue15096.pdf");
    let response = client.one_shot("form_fields", &[&form], json!({})).await;
    assert_eq!(response.status(), 200);
    let listed: Value = response.json().await.unwrap();
    assert!(listed["fields"].as_array().unwrap().iter().any(|f| f["name"] == "checkbox" && f["value"] == false));

    let response =
        client.one_shot("fill_form", &[&form], json!({"values": {"name": "Hedy Lamarr", "checkbox": true}})).await;
    assert_eq!(response.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let filled = dir.path().join("filled.pdf");
    std::fs::write(&filled, response.bytes().await.unwrap()).unwrap();
    qpdf_check(&filled);
    let fields = qpdf_json(&filled, &["acroform"]);
    let fields = fields["acroform"]["fields"].as_array().unwrap();
    assert!(fields.iter().any(|f| f["fullname"] == "name" && f["value"] == "u:Hedy Lamarr"));

    let response = client.one_shot("fill_form", &[&form], json!({"values": {"Dropdown9": "Cooking"}})).await;
    let (status, problem) = problem_of(response).await;
    assert_eq!(status, 400);
    assert_eq!(problem["code"], "invalid_params");
    assert!(problem["detail"].as_str().unwrap().contains("\"Cooking\" is not one of its options"), "{problem}");
}

/// The whole path as a client takes it: the certificate and an image uploaded beside the PDF,
/// the step run in a confined step process that may reach the time-stamping authority's port
/// only, the password kept out of the job record, and the result checked by pyHanko.
#[tokio::test]
async fn a_signature_with_a_time_stamp_is_made_and_checked_through_the_api() {
    use scanpro_testkit::signing::{P12_PASSWORD, TestPki, pyhanko_validate};
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"));
    let tsa = pki.start_tsa();
    let trust_store = pki.root_pem.to_str().unwrap();
    let server = Server::start(&[
        ("SCANPRO_SIGNATURE_TSA_URL", tsa.url.as_str()),
        ("SCANPRO_SIGNATURE_TRUST_STORE", trust_store),
    ]);
    let client = server.client();
    let document = corpus("pdf-text/lroundrect.pdf");
    let logo = corpus("images/ocrmypdf_linn.png");
    let params = json!({"password": P12_PASSWORD, "visible": true, "image": 2, "location": "Lyon"});
    let response = client.one_shot("digital_sign", &[&document, &pki.rsa_p12, &logo], params).await;
    assert_eq!(response.status(), 200);
    let signed = dir.path().join("signed.pdf");
    std::fs::write(&signed, response.bytes().await.unwrap()).unwrap();
    assert_eq!(tsa.requests(), 1, "the step process reached the authority");
    let hanko = pyhanko_validate(&signed, &[&pki.root_pem]);
    assert_eq!(hanko[0]["valid"], true, "{hanko}");
    assert_eq!(hanko[0]["trusted"], true, "{hanko}");
    assert_eq!(hanko[0]["timestamp_valid"], true, "{hanko}");

    let response = client.one_shot("verify_signatures", &[&signed], json!({})).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let signature = &report["signatures"][0];
    assert_eq!((signature["trusted"].clone(), signature["intact"].clone()), (json!(true), json!(true)), "{report}");
    assert_eq!(signature["location"], "Lyon");
    assert_eq!(signature["timestamp"]["authority"], "ScanPro Test TSA", "{report}");

    // As a job: the password never shows in the job's record.
    let ids = [client.upload(&document).await["id"].clone(), client.upload(&pki.ec_p12).await["id"].clone()];
    let body = json!({"inputs": ids, "steps": [{"tool": "digital_sign", "params": {"password": P12_PASSWORD, "timestamp": false}}]});
    let job: Value = client.create_job(body).await.json().await.unwrap();
    let done = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(!done.to_string().contains(P12_PASSWORD), "{done}");
    assert_eq!(tsa.requests(), 1, "no time stamp was asked for");

    let response = client.one_shot("digital_sign", &[&document, &pki.rsa_p12], json!({"password": "guess"})).await;
    let (status, problem) = problem_of(response).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("wrong_password")), "{problem}");
}

#[tokio::test]
async fn bad_input_gets_typed_errors() {
    let server = Server::start(&[("SCANPRO_MAX_UPLOAD_MB", "1")]);
    let client = server.client();
    let dir = tempfile::tempdir().unwrap();

    // Not a PDF, whatever its name says.
    let fake = dir.path().join("photo.pdf");
    std::fs::copy(corpus("images/ocrmypdf_baiona.png"), &fake).unwrap();
    let (status, problem) = problem_of(client.one_shot("rotate", &[&fake], json!({"angle": 90})).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (415, "unsupported_format"), "{problem}");

    // Encrypted without a password.
    let (status, problem) = problem_of(
        client.one_shot("info", &[&corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf")], json!({})).await,
    )
    .await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (422, "encrypted_input"), "{problem}");

    // Truncated.
    let truncated = dir.path().join("truncated.pdf");
    let bytes = std::fs::read(corpus("pdf-text/ltnews17.pdf")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let (status, problem) = problem_of(client.one_shot("rotate", &[&truncated], json!({"angle": 90})).await).await;
    assert!(
        status == 200 || (status == 422 && problem["code"] == "invalid_pdf"),
        "a truncated PDF is repaired or refused as invalid_pdf: {status} {problem}"
    );

    // Pages out of range name the field.
    let (status, problem) = problem_of(
        client.one_shot("rotate", &[&corpus("pdf-text/ltnews17.pdf")], json!({"angle": 90, "pages": "1,7"})).await,
    )
    .await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (400, "invalid_params"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("pages"), "{problem}");

    // Bad parameters are refused at creation.
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let response = client
        .create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "rotate", "params": {"angle": 45}}]}))
        .await;
    let (status, problem) = problem_of(response).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (400, "invalid_params"), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("angle"), "{problem}");
    let response = client.create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "nope"}]})).await;
    assert_eq!(problem_of(response).await.0, 400);
    let response = client
        .http
        .post(client.url("/api/v1/jobs"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(response).await.1["code"], "bad_request");

    // Over the upload limit: 413 without storing anything.
    let big = dir.path().join("big.pdf");
    std::fs::write(&big, vec![b'x'; 3 * 1024 * 1024]).unwrap();
    let (status, problem) = problem_of(client.upload_raw(&big).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (413, "file_too_large"), "{problem}");
    assert_eq!(std::fs::read_dir(server.data_dir.join("blobs/tmp")).unwrap().count(), 0, "no partial upload left");

    let tiny = dir.path().join("tiny.txt");
    std::fs::write(&tiny, "hello").unwrap();
    let (status, problem) = problem_of(client.one_shot("no_such_tool", &[&tiny], json!({})).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (404, "not_found"));
}

async fn problem_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(response.headers()["content-type"], "application/problem+json");
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn owners_see_only_their_own_files_and_jobs() {
    let server = Server::start(&[]);
    let alice = server.client();
    let bob = server.client();
    let file = alice.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let id = file["id"].as_str().unwrap();
    let job: Value = alice.create_job(json!({"inputs": [id], "steps": [{"tool": "info"}]})).await.json().await.unwrap();
    let job_id = job["id"].as_str().unwrap();
    alice.wait_job(job_id).await;

    for path in [
        format!("/api/v1/files/{id}"),
        format!("/api/v1/files/{id}/content"),
        format!("/api/v1/jobs/{job_id}"),
        format!("/api/v1/jobs/{job_id}/outputs.zip"),
    ] {
        assert_eq!(bob.get_json(&path).await.0, 404, "{path}");
        assert_eq!(alice.get_json(&path).await.0, 200, "{path}");
    }
    assert_eq!(bob.get_json("/api/v1/jobs").await.1["jobs"], json!([]));
    assert_eq!(alice.get_json("/api/v1/jobs").await.1["jobs"].as_array().unwrap().len(), 1);
    // Bob cannot use Alice's file as an input, nor delete it.
    let response = bob.create_job(json!({"inputs": [id], "steps": [{"tool": "info"}]})).await;
    assert_eq!(response.status(), 404);
    assert_eq!(bob.http.delete(bob.url(&format!("/api/v1/files/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(alice.http.delete(alice.url(&format!("/api/v1/files/{id}"))).send().await.unwrap().status(), 204);
    assert_eq!(alice.get_json(&format!("/api/v1/files/{id}")).await.0, 404);
}

#[tokio::test]
async fn idempotency_ranges_events_and_docs() {
    let server = Server::start(&[]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let body = json!({"inputs": [file["id"]], "steps": [{"tool": "rotate", "params": {"angle": 180}}]});
    let send =
        |body: Value| client.http.post(client.url("/api/v1/jobs")).header("Idempotency-Key", "k-1").json(&body).send();
    let first: Value = send(body.clone()).await.unwrap().json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut other = body.clone();
    other["steps"][0]["params"]["angle"] = json!(90);
    assert_eq!(send(other).await.unwrap().status(), 409);

    // Server-Sent Events end with the final state.
    let events = client
        .http
        .get(client.url(&format!("/api/v1/jobs/{}/events", first["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let text =
        tokio::time::timeout(std::time::Duration::from_secs(60), events.text()).await.expect("stream ends").unwrap();
    let last = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap();
    assert_eq!(serde_json::from_str::<Value>(last).unwrap()["status"], "succeeded", "{text}");

    // Range reads.
    let url = client.url(&format!("/api/v1/files/{}/content", file["id"].as_str().unwrap()));
    let partial = client.http.get(&url).header("Range", "bytes=0-4").send().await.unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.bytes().await.unwrap().as_ref(), b"%PDF-");
    let beyond = client.http.get(&url).header("Range", "bytes=999999999-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);

    // Tools list with schemas, OpenAPI and offline docs, health.
    let (status, tools) = client.get_json("/api/v1/tools").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for name in ["merge", "split", "rotate", "info"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let rotate = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == "rotate").unwrap();
    assert!(rotate["params_schema"]["properties"]["angle"].is_object(), "{rotate}");
    let (status, openapi) = client.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(openapi["paths"]["/api/v1/jobs"].is_object());
    let docs = client.http.get(client.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"), "docs page served from the binary");
    assert_eq!(client.get_json("/healthz").await.0, 200);
    assert_eq!(client.get_json("/readyz").await.1["status"], "ok");
}

#[tokio::test]
async fn large_inputs_take_the_streaming_path() {
    let server = Server::start(&[("SCANPRO_LARGE_INPUT_MB", "1")]);
    let client = server.client();
    let big = client.upload(&corpus("pdf-text/hyperref.pdf")).await;
    let small = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let run = |steps: Value, inputs: Vec<Value>| {
        let client = client.clone();
        async move {
            let job: Value = client.create_job(json!({"inputs": inputs, "steps": steps})).await.json().await.unwrap();
            client.wait_job(job["id"].as_str().unwrap()).await
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let job =
        run(json!([{"tool": "merge", "params": {"order": [1, 0]}}]), vec![big["id"].clone(), small["id"].clone()])
            .await;
    assert_eq!(job["steps"][0]["report"]["streaming"], true, "{job}");
    let merged = dir.path().join("merged.pdf");
    client.download(job["outputs"][0]["url"].as_str().unwrap(), &merged).await;
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), 518);
    assert_eq!(page_text(&merged, 1), page_text(&corpus("pdf-text/ltnews17.pdf"), 1));

    let job = run(json!([{"tool": "split", "params": {"ranges": "1-2,last"}}, {"tool": "rotate", "params": {"angle": 90, "pages": "1"}}]), vec![big["id"].clone()]).await;
    assert_eq!(job["steps"][0]["report"]["streaming"], true, "{job}");
    let outputs = job["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    let part = dir.path().join("part.pdf");
    client.download(outputs[0]["url"].as_str().unwrap(), &part).await;
    qpdf_check(&part);
    assert_eq!(page_count(&part), 2);
    assert_eq!(rotations(&part), vec![90, 0]);
    // Small inputs stay on the in-process path.
    let job = run(json!([{"tool": "rotate", "params": {"angle": 90}}]), vec![small["id"].clone()]).await;
    assert_eq!(job["steps"][0]["report"]["streaming"], false, "{job}");
}

#[tokio::test]
async fn a_guest_past_its_write_budget_gets_429_with_retry_after() {
    let server = Server::start(&[("SCANPRO_RATE_LIMIT_PER_MINUTE", "2")]);
    // The budget is per minute: start well inside one.
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60 > 50 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let (client, pdf) = (server.client(), corpus("pdf-text/ltnews17.pdf"));
    assert_eq!(client.upload_raw(&pdf).await.status(), 201);
    assert_eq!(client.upload_raw(&pdf).await.status(), 201);
    let refused = client.upload_raw(&pdf).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["code"], "rate_limited");
    let other_guest = server.client();
    assert_eq!(other_guest.upload_raw(&pdf).await.status(), 201, "each guest has its own budget");
}

/// Sends a request head and the first `sent` bytes of a body declared `declared` bytes long, then
/// reads the answer without sending the rest: the server must refuse the body while streaming.
async fn answer_to_a_partial_body(base: &str, head: &str, first: &[u8], declared: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("{head}\r\nHost: {address}\r\nContent-Length: {declared}\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(first).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    // The answer comes while most of the declared body is still unsent.
    let read = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if String::from_utf8_lossy(&answer).contains("\"code\"") {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read).await.expect("an answer before the body ends");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn oversized_bodies_are_refused_while_streaming() {
    let server = Server::start(&[("SCANPRO_MAX_JSON_KB", "64")]);
    let client = server.client();

    // A 300 MB job request: refused after the first 64 KiB, with nothing queued.
    let mut start = br#"{"inputs": [], "steps": [{"tool": "info", "params": {"x": ""#.to_vec();
    start.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    let answer = answer_to_a_partial_body(
        &server.base,
        "POST /api/v1/jobs HTTP/1.1\r\nContent-Type: application/json",
        &start,
        300 * 1024 * 1024,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"payload_too_large\""), "{answer}");
    let db = server.data_dir.join("scanpro.db");
    let jobs = run("sqlite3", [db.to_str().unwrap(), "SELECT COUNT(*) FROM jobs"]);
    assert_eq!(String::from_utf8_lossy(&jobs.stdout).trim(), "0");

    // The same through a client that sends it all.
    let big = json!({"inputs": [], "steps": [{"tool": "info", "params": {"x": "a".repeat(200 * 1024)}}]});
    let (status, problem) = problem_of(client.create_job(big).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (413, "payload_too_large"), "{problem}");

    // A one-shot `params` part is read with the same limit.
    let boundary = "XyZbound";
    let mut start = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\nContent-Type: application/json\r\n\r\n{{\"angle\": 90, \"x\": \""
    )
    .into_bytes();
    start.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    let head = format!("POST /api/v1/tools/rotate HTTP/1.1\r\nContent-Type: multipart/form-data; boundary={boundary}");
    let answer = answer_to_a_partial_body(&server.base, &head, &start, 300 * 1024 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"payload_too_large\"") && answer.contains("params"), "{answer}");

    // Bodies within the limit still work.
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let response = client.create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "info"}]})).await;
    assert_eq!(response.status(), 202);
}

/// The value of the `scanpro_guest` cookie a response sets, if any.
fn guest_cookie_set(response: &reqwest::Response) -> Option<String> {
    response.headers().get_all("set-cookie").iter().find_map(|v| {
        let text = v.to_str().ok()?;
        text.strip_prefix("scanpro_guest=").map(|rest| rest.split(';').next().unwrap().to_owned())
    })
}

/// Waits until at least `margin` seconds are left in the current minute (budgets are per minute).
async fn inside_a_minute(margin: u64) {
    while 60 - std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60 < margin {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn guests_are_signed_cookies_and_new_guests_are_limited_per_address() {
    let server = Server::start(&[("SCANPRO_NEW_GUESTS_PER_MINUTE", "6"), ("SCANPRO_RATE_LIMIT_PER_MINUTE", "2")]);
    inside_a_minute(20).await;
    let pdf = corpus("pdf-text/ltnews17.pdf");
    // No pooled connections: a refused upload may be answered before its body is read, and the
    // server then closes that connection under the next request.
    let plain = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let upload_as = |cookie: Option<String>| {
        let (plain, url, pdf) = (plain.clone(), format!("{}/api/v1/files", server.base), pdf.clone());
        async move {
            let part = reqwest::multipart::Part::bytes(std::fs::read(&pdf).unwrap()).file_name("a.pdf");
            let mut request = plain.post(url).multipart(reqwest::multipart::Form::new().part("file", part));
            if let Some(cookie) = cookie {
                request = request.header("cookie", format!("scanpro_guest={cookie}"));
            }
            request.send().await.unwrap()
        }
    };

    // A first read starts a guest too (the web app's page load), counted like any other.
    let read = plain.get(format!("{}/api/v1/jobs", server.base)).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert!(guest_cookie_set(&read).is_some(), "guest 1 of 6");

    // Guest 2: the server issues a signed cookie.
    let first = upload_as(None).await;
    assert_eq!(first.status(), 201);
    let cookie = guest_cookie_set(&first).expect("the first write issues a cookie");
    let (token, signature) = cookie.split_once('.').expect("token.signature");
    assert!(token.len() >= 43 && signature.len() >= 43, "{cookie}");
    let file_id = first.json::<Value>().await.unwrap()["files"][0]["id"].as_str().unwrap().to_owned();
    let file_of = |cookie: String| {
        let (plain, url) = (plain.clone(), format!("{}/api/v1/files/{file_id}", server.base));
        async move { plain.get(url).header("cookie", format!("scanpro_guest={cookie}")).send().await.unwrap().status() }
    };
    assert_eq!(file_of(cookie.clone()).await, 200);

    // The token without its signature, or with a forged one, is nobody: a read with it sees
    // nothing of guest 2, and a write with it starts a new guest with a cookie of its own
    // (guests 3 to 6, reads and writes alike).
    for forged in [token.to_owned(), format!("{token}.{}", "A".repeat(43))] {
        assert_eq!(file_of(forged.clone()).await, 404, "{forged}");
        let response = upload_as(Some(forged.clone())).await;
        assert_eq!(response.status(), 201);
        let issued = guest_cookie_set(&response).expect("a fresh cookie replaces the forged one");
        assert_ne!(issued, forged);
        assert_ne!(issued, cookie);
    }

    // Guest 7 from the same address, without a cookie or with a made-up one: refused; a read is
    // answered as nobody, without a cookie.
    for made_up in [None, Some("bm90IGEgdG9rZW4gYXQgYWxsIGp1c3QgbWFkZSB1cCBoZXJl.c2ln".to_owned())] {
        let refused = upload_as(made_up).await;
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
        assert_eq!(guest_cookie_set(&refused), None);
        assert_eq!(refused.json::<Value>().await.unwrap()["code"], "rate_limited");
    }
    let read = plain.get(format!("{}/api/v1/jobs", server.base)).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(guest_cookie_set(&read), None);
    assert_eq!(read.json::<Value>().await.unwrap()["jobs"], json!([]));

    // Guest 2 keeps its identity and its own budget (2 writes a minute: one is left).
    assert_eq!(upload_as(Some(cookie.clone())).await.status(), 201);
    let spent = upload_as(Some(cookie.clone())).await;
    assert_eq!(spent.status(), 429);
    assert_eq!(guest_cookie_set(&spent), None, "a valid cookie is never replaced");
}

#[tokio::test]
async fn serve_keeps_guest_identities_across_restarts() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = Server::start_in(&data, &[]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let secret = server.data_dir.join("cookie_secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
    server.kill();
    let restarted = Server::start_in(&data, &[]);
    let mut client = client.clone();
    client.base = restarted.base.clone();
    let (status, again) = client.get_json(&format!("/api/v1/files/{}", file["id"].as_str().unwrap())).await;
    assert_eq!(status, 200, "the cookie signed before the restart still names its guest: {again}");
}

#[tokio::test]
async fn serve_and_api_ship_with_guest_limits_on() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scanpro"))
        .args(["config"])
        .env("SCANPRO_COOKIE_SECRET", "0123456789abcdef0123456789abcdef-secret")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "rate_limit_per_minute = 120",
        "new_guests_per_minute = 20",
        "max_active_jobs = 10",
        "guest_storage_mb = 1024",
        "max_outputs_per_job = 1000",
        "max_json_kb = 256",
        "cookie_secret = \"***\"",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains("0123456789abcdef"), "the secret is hidden");
}

#[tokio::test]
async fn one_guest_cannot_queue_store_or_split_without_bounds() {
    let server = Server::start(&[
        ("SCANPRO_MAX_ACTIVE_JOBS", "2"),
        ("SCANPRO_GUEST_STORAGE_MB", "5"),
        ("SCANPRO_MAX_OUTPUTS_PER_JOB", "5"),
        ("SCANPRO_WORKERS", "1"),
    ]);
    let client = server.client();
    let big = client.upload(&corpus("pdf-text/hyperref.pdf")).await;
    let small = client.upload(&corpus("pdf-text/lroundrect.pdf")).await;

    // Outputs per job: 10 parts are refused naming the cap, 5 are fine.
    let job: Value = client
        .create_job(json!({"inputs": [small["id"]], "steps": [{"tool": "split", "params": {"mode": "each"}}]}))
        .await
        .json()
        .await
        .unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "resource_limit", "{job}");
    assert!(job["error"]["message"].as_str().unwrap().contains("max_outputs_per_job"), "{job}");
    assert_eq!(job["outputs"], json!([]));
    let job: Value = client
        .create_job(
            json!({"inputs": [small["id"]], "steps": [{"tool": "split", "params": {"mode": "every", "every": 2}}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["outputs"].as_array().map(Vec::len), Some(5), "{job}");

    // Jobs queued or running at once: two slow ones fill the slots, a third is refused.
    let slow = json!({"inputs": [big["id"]], "steps": [{"tool": "pdf_to_image", "params": {"dpi": 300}}]});
    let mut running = Vec::new();
    for _ in 0..2 {
        let response = client.create_job(slow.clone()).await;
        assert_eq!(response.status(), 202);
        running.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let (status, problem) = problem_of(client.create_job(slow.clone()).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (429, "limit_exceeded"), "{problem}");
    assert_eq!(
        server.client().create_job(json!({"inputs": [], "steps": []})).await.status(),
        400,
        "others are not held up"
    );
    for id in &running {
        let response = client.http.post(client.url(&format!("/api/v1/jobs/{id}/cancel"))).send().await.unwrap();
        assert_eq!(response.status(), 202);
        client.wait_job(id).await;
    }
    assert_eq!(client.create_job(json!({"inputs": [small["id"]], "steps": [{"tool": "info"}]})).await.status(), 202);

    // Stored bytes: 2.3 MB + 0.25 MB + the parts (under 1.5 MB); another 2.3 MB passes the 5 MB quota.
    let (status, problem) = problem_of(client.upload_raw(&corpus("pdf-text/hyperref.pdf")).await).await;
    assert_eq!((status, problem["code"].as_str().unwrap()), (402, "quota_exceeded"), "{problem}");
    assert_eq!(std::fs::read_dir(server.data_dir.join("blobs/tmp")).unwrap().count(), 0, "no partial upload left");
    let response = client.http.delete(client.url(&format!("/api/v1/files/{}", big["id"].as_str().unwrap()))).send();
    assert_eq!(response.await.unwrap().status(), 204);
    assert_eq!(client.upload_raw(&corpus("pdf-text/hyperref.pdf")).await.status(), 201, "room again after a delete");
    assert_eq!(server.client().upload_raw(&corpus("pdf-text/hyperref.pdf")).await.status(), 201, "per guest");
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_never_replace_the_cookie() {
    let server = Server::start(&[]);
    let victim = server.client();
    let file = victim.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let file_path = format!("/api/v1/files/{}", file["id"].as_str().unwrap());
    // Small enough to be sent whole before the refusal comes back.
    let part = || {
        reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4 a page".to_vec()).file_name("a.pdf"))
    };
    let evil_origin = server.base.replace("127.0.0.1", "localhost");

    // A page of another origin on the same site, then of another site, uploads with the victim's
    // cookie; an old browser shows only its Origin; a cross-site form posts without the cookie.
    let attempts = [
        victim
            .http
            .post(victim.url("/api/v1/files"))
            .header("origin", &evil_origin)
            .header("sec-fetch-site", "same-site")
            .multipart(part()),
        victim
            .http
            .post(victim.url("/api/v1/files"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .multipart(part()),
        victim.http.post(victim.url("/api/v1/files")).header("origin", "https://evil.example").multipart(part()),
        victim.http.delete(victim.url(&file_path)).header("origin", "null"),
        reqwest::Client::new()
            .post(victim.url("/api/v1/jobs"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("inputs=x"),
    ];
    for attempt in attempts {
        let refused = attempt.send().await.unwrap();
        assert_eq!(refused.status(), 403);
        assert_eq!(guest_cookie_set(&refused), None, "no cookie is set on a cross-site write");
        assert_eq!(refused.json::<Value>().await.unwrap()["code"], "forbidden");
    }
    let (_, files) = victim.get_json(&file_path).await;
    assert_eq!(files["id"], file["id"], "the victim keeps their cookie and file");
    let (_, jobs) = victim.get_json("/api/v1/jobs").await;
    assert_eq!(jobs["jobs"], json!([]), "nothing was done in the victim's name");

    // The web app's own requests (same origin, as Chromium marks them) and curl-like clients pass.
    let own = victim
        .http
        .post(victim.url("/api/v1/files"))
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .multipart(part());
    assert_eq!(own.send().await.unwrap().status(), 201);
    let old_browser = victim.http.post(victim.url("/api/v1/files")).header("origin", &server.base).multipart(part());
    assert_eq!(old_browser.send().await.unwrap().status(), 201);
    assert_eq!(victim.upload_raw(&corpus("pdf-text/ltnews17.pdf")).await.status(), 201);

    // Behind TLS the cookie is marked Secure.
    let tls = Server::start(&[("SCANPRO_SECURE_COOKIES", "true")]);
    let response = tls.client().upload_raw(&corpus("pdf-text/ltnews17.pdf")).await;
    let set = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
}

#[tokio::test]
async fn uploaded_html_downloads_inert_and_names_lose_bidi_controls() {
    let server = Server::start(&[]);
    let client = server.client();
    let page = b"<!doctype html><html><body><script>fetch('/api/v1/jobs')</script></body></html>".to_vec();
    let form = reqwest::multipart::Form::new()
        .percent_encode_noop()
        .part("file", reqwest::multipart::Part::bytes(page).file_name("invoice\u{202E}lmth.pdf\u{2066}\u{200B}"));
    let response = client.http.post(client.url("/api/v1/files")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let file = response.json::<Value>().await.unwrap()["files"][0].clone();
    assert_eq!(file["filename"], "invoicelmth.pdf", "{file}");

    let download =
        client.http.get(client.url(&format!("/api/v1/files/{}/content", file["id"].as_str().unwrap()))).send();
    let download = download.await.unwrap();
    assert_eq!(download.status(), 200);
    let headers = download.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"), "{headers:?}");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;") && !disposition.contains("%E2%80"), "{disposition}");

    // Zips of outputs too.
    let pdf = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job: Value = client
        .create_job(json!({"inputs": [pdf["id"]], "steps": [{"tool": "split", "params": {"mode": "each"}}]}))
        .await
        .json()
        .await
        .unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    let zip = client.http.get(client.url(job["links"]["outputs_zip"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(zip.status(), 200, "{job}");
    assert_eq!(zip.headers()["x-content-type-options"], "nosniff");
    assert!(zip.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
}

#[tokio::test]
async fn metrics_are_served_apart_from_the_api() {
    let server = Server::start(&[]);
    let client = server.client();
    let (file, _) = client.rotate_round_trip().await;

    assert_eq!(client.get_json("/metrics").await.0, 404, "the public port has no metrics");
    let text = reqwest::get(format!("{}/metrics", server.metrics_base)).await.unwrap().text().await.unwrap();
    let has = |needle: &str| text.lines().any(|line| line.starts_with(needle));
    assert!(has("scanpro_http_requests_total{route=\"/api/v1/jobs\",method=\"POST\",status=\"202\"}"), "{text}");
    assert!(
        has("scanpro_http_requests_total{route=\"/api/v1/jobs/{id}\",method=\"GET\",status=\"200\"}"),
        "ids make no series: {text}"
    );
    assert!(has("scanpro_http_request_duration_seconds_bucket{route=\"/api/v1/files\",method=\"POST\",le="), "{text}");
    assert!(has("scanpro_jobs_total{tool=\"rotate\",status=\"succeeded\"} 1"), "{text}");
    assert!(has("scanpro_step_duration_seconds_count{tool=\"rotate\",outcome=\"succeeded\"} 1"), "{text}");
    let size = file["size"].as_u64().unwrap();
    assert!(has(&format!("scanpro_upload_bytes_total {size}")), "{text}");
    assert!(has("scanpro_download_bytes_total "), "{text}");
    assert!(has("scanpro_engine_available{engine=\"ghostscript\"}"), "{text}");
}

#[tokio::test]
async fn an_engine_service_serves_metrics_apart_when_asked() {
    let port = scanpro_testkit::free_port();
    let metrics_listen = format!("127.0.0.1:{port}");
    let env = [("SCANPRO_ENGINE_TOKEN", "engine-secret"), ("SCANPRO_METRICS_LISTEN", metrics_listen.as_str())];
    let engine = common::EngineProcess::start("ghostscript", &env);
    let guarded = reqwest::get(format!("{}/metrics", engine.base)).await.unwrap();
    assert_eq!(guarded.status(), 401, "its own port asks for the token");
    // Bound just after the service's own port.
    let mut answer = reqwest::get(format!("http://{metrics_listen}/metrics")).await;
    for _ in 0..50 {
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        answer = reqwest::get(format!("http://{metrics_listen}/metrics")).await;
    }
    let text = answer.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l.starts_with("scanpro_engine_available{engine=\"ghostscript\"}")), "{text}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_the_job_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = Server::start_logging_to(&log, &[("SCANPRO_LOG_FORMAT", "json"), ("SCANPRO_LOG_LEVEL", "info")]);
    let client = server.client();
    let echoed =
        client.http.get(client.url("/api/v1/tools")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42", "the client's id comes back");
    let made = client.http.get(client.url("/api/v1/tools")).send().await.unwrap();
    assert_eq!(made.headers()["x-request-id"].len(), 36, "a new id (a UUID) otherwise");
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job: Value = client
        .create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "unlock", "params": {"password": "x"}}]}))
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    client.wait_job(id).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let in_span = |name: &str, field: &str, value: &str| {
        lines.iter().any(|line| {
            line["spans"].as_array().is_some_and(|spans| spans.iter().any(|s| s["name"] == name && s[field] == value))
                || (line["span"]["name"] == name && line["span"][field] == value)
        })
    };
    assert!(in_span("request", "request_id", "trace-me-42"), "a log line of the request carries its id");
    let of_job = lines.iter().any(|line| line["fields"]["job"] == id) || in_span("job", "job", id);
    assert!(of_job, "a log line of the job's run carries its id");
}

#[tokio::test]
async fn a_jobs_id_follows_it_to_the_engine_service() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("engine.log");
    let json_logs = [("SCANPRO_LOG_FORMAT", "json"), ("SCANPRO_LOG_LEVEL", "info")];
    let engine = common::EngineProcess::start_logging_to("ghostscript", &json_logs, &log);
    let server = Server::start(&[("SCANPRO_GHOSTSCRIPT_URL", engine.base.as_str())]);
    let client = server.client();
    let file = client.upload(&corpus("pdf-text/ltnews17.pdf")).await;
    let job: Value = client
        .create_job(json!({"inputs": [file["id"]], "steps": [{"tool": "compress", "params": {}}]}))
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    assert_eq!(client.wait_job(id).await["status"], "succeeded");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let of_job: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .filter(|line| line["span"]["name"] == "engine_step" && line["span"]["job_id"] == id)
        .collect();
    let said: Vec<&str> = of_job.iter().filter_map(|line| line["fields"]["message"].as_str()).collect();
    assert!(said.contains(&"step started") && said.contains(&"step succeeded"), "the service's lines: {text}");
    assert!(of_job.iter().all(|line| line["span"]["tool"] == "compress"), "{of_job:?}");
}
