//! The client against the server, in one process, on a real Ghostscript: whatever one half
//! writes the other reads, outputs and failures alike.

use scanpro_core::ErrorCode;
use scanpro_engine_service::{EngineClient, EngineService, ServiceSettings, router};
use scanpro_process::progress::ProgressFn;
use scanpro_testkit::checkers::{page_count, qpdf_check_clean};
use scanpro_testkit::corpus::text_pdf;
use scanpro_tools::{Engine, EngineSettings, Input, LocalEngines};
use serde_json::json;
use std::sync::Arc;

struct Running {
    base: String,
    _work: tempfile::TempDir,
}

async fn serve(token: Option<&str>) -> Running {
    serve_with_limit(token, 64 * 1024 * 1024).await
}

async fn serve_with_limit(token: Option<&str>, max_upload_bytes: u64) -> Running {
    let work = tempfile::tempdir().unwrap();
    let engines = LocalEngines::start(EngineSettings::default()).await;
    let settings = ServiceSettings {
        concurrency: 1,
        queue: 1,
        max_upload_bytes,
        work_dir: work.path().to_owned(),
        token: token.map(str::to_owned),
    };
    let service = EngineService::new(Engine::Ghostscript, engines, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(service)).await });
    Running { base, _work: work }
}

fn no_progress() -> ProgressFn {
    Arc::new(|_| {})
}

fn input(path: std::path::PathBuf) -> Input {
    let filename = path.file_name().unwrap().to_string_lossy().into_owned();
    Input { path, filename }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_comes_back_as_the_engine_wrote_it() {
    let service = serve(Some("shared-secret")).await;
    let client = EngineClient::new(&service.base, Some("shared-secret")).unwrap();
    let document = text_pdf("VisualPSTricks.pdf");
    let out = tempfile::tempdir().unwrap();

    let result = client
        .run("compress", &json!({"level": "low"}), &[input(document.clone())], out.path(), no_progress())
        .await
        .expect("the step runs on the service");

    assert_eq!(result.outputs.len(), 1, "{result:?}");
    let output = &result.outputs[0];
    assert_eq!(output.path.parent(), Some(out.path()), "written where the worker asked");
    assert_eq!(output.content_type, "application/pdf");
    assert!(output.filename.ends_with(".pdf"), "{}", output.filename);
    qpdf_check_clean(&output.path);
    assert_eq!(page_count(&output.path), page_count(&document));
    assert!(result.report.is_some(), "the report crosses too");
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_cross_with_their_codes() {
    let service = serve(None).await;
    let client = EngineClient::new(&service.base, None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let not_a_pdf = out.path().join("notes.pdf");
    std::fs::write(&not_a_pdf, b"plain text, not a PDF").unwrap();

    // Refused after the step started: a `failed` line.
    let error = client.run("compress", &json!({}), &[input(not_a_pdf.clone())], out.path(), no_progress()).await;
    assert_eq!(error.unwrap_err().code, ErrorCode::UnsupportedFormat);

    // Refused before it started: a problem answer.
    let error = client
        .run(
            "compress",
            &json!({"level": "absurd"}),
            &[input(text_pdf("VisualPSTricks.pdf"))],
            out.path(),
            no_progress(),
        )
        .await;
    assert_eq!(error.unwrap_err().code, ErrorCode::InvalidParams);
    let error = client.run("rotate", &json!({}), &[input(not_a_pdf)], out.path(), no_progress()).await;
    assert_eq!(error.unwrap_err().code, ErrorCode::NotFound, "not a Ghostscript tool");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_is_the_deployments_fault() {
    let service = serve(Some("right")).await;
    let client = EngineClient::new(&service.base, Some("wrong")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = client
        .run("compress", &json!({}), &[input(text_pdf("VisualPSTricks.pdf"))], out.path(), no_progress())
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::Unavailable, "{error}");
    assert!(error.message.contains("engine_token"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_is_gone_makes_the_step_unavailable() {
    let port = scanpro_testkit::free_port();
    let client = EngineClient::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = client
        .run("compress", &json!({}), &[input(text_pdf("VisualPSTricks.pdf"))], out.path(), no_progress())
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::Unavailable, "{error}");
    assert!(client.health().await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_over_the_services_limit_is_refused_by_name() {
    // A document a little over the limit: refused by name, the rest of it read and dropped so the
    // client, still sending, hears the refusal.
    let service = serve_with_limit(None, 1024).await;
    let client = EngineClient::new(&service.base, None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = client
        .run(
            "compress",
            &json!({}),
            &[input(text_pdf("pypdf_002-trivial-libre-office-writer.pdf"))],
            out.path(),
            no_progress(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::FileTooLarge, "{error}");
    assert!(error.message.contains("pypdf_002"), "{error}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "nothing written");
}
