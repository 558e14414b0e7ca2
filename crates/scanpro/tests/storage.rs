//! `scanpro serve` with `STORAGE_URL=s3://…` on moto's S3 API server on loopback: uploads, a
//! job's inputs and outputs, downloads and deletes all go through the bucket (listed by the test
//! itself), and nothing lands in the data dir.

mod common;

use common::*;
use scanpro_testkit::checkers::{page_count, qpdf_check, rotations, run};
use scanpro_testkit::corpus::corpus;
use scanpro_testkit::moto::Moto;
use serde_json::{Value, json};
use std::process::Command;

const BUCKET: &str = "scanpro-e2e";
const PREFIX: &str = "tenant-a/blobs";

fn sha256sum(path: &std::path::Path) -> String {
    let out = run("sha256sum", [path.to_str().unwrap()]);
    String::from_utf8_lossy(&out.stdout).split(' ').next().unwrap().to_owned()
}

#[tokio::test]
async fn serve_keeps_every_blob_in_s3() {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let storage_url = format!("s3://{BUCKET}/{PREFIX}");
    let moto_env = moto.env();
    let mut env: Vec<(&str, &str)> = moto_env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    env.push(("STORAGE_URL", &storage_url));
    let server = Server::start(&env);
    let client = server.client();

    let (status, ready) = client.get_json("/readyz").await;
    assert_eq!((status, &ready["checks"]["storage"]), (200, &json!("ok")), "{ready}");

    // Larger than one part: the upload streams to S3 as a multipart upload.
    let input = corpus("pdf-text/VisualPSTricks.pdf");
    let file = client.upload(&input).await;
    let input_id = file["id"].as_str().unwrap();
    assert_eq!(file["sha256"], sha256sum(&input), "hashed while streaming");
    let input_key = format!("{PREFIX}/files/{input_id}");
    assert_eq!(moto.keys(BUCKET, &format!("{PREFIX}/files/")), vec![input_key.clone()]);
    assert!(moto.etag(BUCKET, &input_key).ends_with("-2"), "stored in two parts");

    let response = client
        .create_job(json!({"inputs": [input_id], "steps": [{"tool": "rotate", "params": {"angle": 90, "pages": "1"}}]}))
        .await;
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    let job = client.wait_job(job["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let output = &job["outputs"][0];
    let output_id = output["id"].as_str().unwrap();
    let output_key = format!("{PREFIX}/files/{output_id}");
    let mut stored = moto.keys(BUCKET, &format!("{PREFIX}/files/"));
    stored.sort();
    let mut expected = vec![input_key.clone(), output_key.clone()];
    expected.sort();
    assert_eq!(stored, expected, "the output went to the bucket");

    let dir = tempfile::tempdir().unwrap();
    let rotated = dir.path().join("rotated.pdf");
    client.download(output["url"].as_str().unwrap(), &rotated).await;
    qpdf_check(&rotated);
    assert_eq!(page_count(&rotated), 261);
    let rotation = rotations(&rotated);
    assert_eq!(rotation[0], 90, "first page rotated");
    assert!(rotation[1..].iter().all(|r| *r == 0), "only page 1 rotated");

    // A ranged download is a ranged read of the object.
    let range = client
        .http
        .get(client.url(&format!("/api/v1/files/{input_id}/content")))
        .header("Range", "bytes=1-4")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.bytes().await.unwrap().as_ref(), b"PDF-");

    let deleted = client.http.delete(client.url(&format!("/api/v1/files/{output_id}"))).send().await.unwrap();
    assert!(deleted.status().is_success(), "delete: {}", deleted.status());
    assert_eq!(moto.keys(BUCKET, &format!("{PREFIX}/files/")), vec![input_key]);

    assert_eq!(moto.keys(BUCKET, &format!("{PREFIX}/tmp/")), Vec::<String>::new(), "no upload markers left");
    assert_eq!(moto.open_uploads(BUCKET, PREFIX), Vec::<String>::new(), "no multipart upload left open");
    assert!(!server.data_dir.join("blobs").exists(), "no blob written to the data dir");
}

#[test]
fn serve_refuses_storage_it_cannot_use() {
    let moto = Moto::start();
    let data_dir = tempfile::tempdir().unwrap();
    let serve = |storage_url: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_scanpro"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .envs(moto.env())
            .env("STORAGE_URL", storage_url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "serve started with STORAGE_URL={storage_url}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let missing_bucket = serve("s3://no-such-bucket/blobs");
    assert!(missing_bucket.contains("blob storage") && missing_bucket.contains("NoSuchBucket"), "{missing_bucket}");
    let unknown_scheme = serve("ftp://host/blobs");
    assert!(
        unknown_scheme.contains("ftp://host/blobs") && unknown_scheme.contains("s3://BUCKET/PREFIX"),
        "{unknown_scheme}"
    );
}
