//! The HTTP API v1 against a real `scanpro serve`, checked with independent PDF tools.

mod common;

use common::*;
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
    assert_qpdf_ok(&merged);
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
        assert_qpdf_ok(&path);
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
    let listing = tool("unzip", &["-l", zip_path.to_str().unwrap()]);
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
    assert_qpdf_ok(&rotated);
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
    let last = text.lines().filter_map(|l| l.strip_prefix("data: ")).last().unwrap();
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
    assert_qpdf_ok(&merged);
    assert_eq!(page_count(&merged), 518);
    assert_eq!(page_text(&merged, 1), page_text(&corpus("pdf-text/ltnews17.pdf"), 1));

    let job = run(json!([{"tool": "split", "params": {"ranges": "1-2,last"}}, {"tool": "rotate", "params": {"angle": 90, "pages": "1"}}]), vec![big["id"].clone()]).await;
    assert_eq!(job["steps"][0]["report"]["streaming"], true, "{job}");
    let outputs = job["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    let part = dir.path().join("part.pdf");
    client.download(outputs[0]["url"].as_str().unwrap(), &part).await;
    assert_qpdf_ok(&part);
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
