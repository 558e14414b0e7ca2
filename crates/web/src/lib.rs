//! The web app: plain HTML, CSS and ES modules from `web/app`, embedded in the binary at build
//! time, so running ScanPro needs nothing but the binary. The app talks to the API at `/api/v1`.
//!
//! # Layout
//! - [`router`]: the pages (`/`, `/tool/{name}`, `/organise`: one HTML shell, the modules draw
//!   the page from the URL) and `/assets/{*path}`; generic over the state, so `scanpro serve`
//!   merges it into the API's router and a front-end-only role can serve it alone.
//! - [`WebConfig`]: server facts the page needs (how long files are kept, the upload limit),
//!   written into the shell's `<meta>` tags once, when the router is built.
//! - `build.rs` rebuilds the crate when a file under `web/app` changes or appears.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

#[derive(rust_embed::Embed)]
#[folder = "../../web/app/"]
struct Assets;

/// The page shell; every page route answers with it.
const SHELL: &str = "index.html";
const RETENTION_PLACEHOLDER: &str = "__RETENTION_MINUTES__";
const MAX_UPLOAD_PLACEHOLDER: &str = "__MAX_UPLOAD_BYTES__";

/// Scripts, styles, images and API calls come from this origin only; nothing runs inline.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
     form-action 'self'";

/// What the page tells its user about this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// How long uploads and results are kept before they are deleted.
    pub retention_minutes: u64,
    /// The largest file an upload may carry; the page refuses bigger ones before sending a byte.
    pub max_upload_bytes: u64,
}

/// The shell rendered for this server, with its validator.
struct Shell {
    html: String,
    etag: HeaderValue,
}

/// The web app's routes. Unknown `/assets/…` paths answer 404; anything else falls through to the
/// router this one is merged into.
pub fn router<S: Clone + Send + Sync + 'static>(config: WebConfig) -> Router<S> {
    let shell = Arc::new(render_shell(&config));
    let page = move || {
        let shell = shell.clone();
        move |headers: HeaderMap| async move { page_response(&shell, &headers) }
    };
    Router::new()
        .route("/", get(page()))
        .route("/organise", get(page()))
        .route("/signin", get(page()))
        .route("/signup", get(page()))
        .route("/forgot-password", get(page()))
        .route("/reset-password", get(page()))
        .route("/verify-email", get(page()))
        .route("/account", get(page()))
        .route("/admin", get(page()))
        .route("/tool/{name}", get(page()))
        .route("/assets/{*path}", get(asset))
}

fn render_shell(config: &WebConfig) -> Shell {
    let template = Assets::get(SHELL).expect("web/app/index.html is embedded");
    let html = String::from_utf8_lossy(&template.data)
        .replace(RETENTION_PLACEHOLDER, &config.retention_minutes.to_string())
        .replace(MAX_UPLOAD_PLACEHOLDER, &config.max_upload_bytes.to_string());
    let digest = hex::encode(&template.metadata.sha256_hash()[..12]);
    let etag = HeaderValue::from_str(&format!("\"{digest}-{}-{}\"", config.retention_minutes, config.max_upload_bytes))
        .expect("ascii");
    Shell { html, etag }
}

fn page_response(shell: &Shell, request: &HeaderMap) -> Response {
    if not_modified(request, &shell.etag) {
        return with_headers(StatusCode::NOT_MODIFIED.into_response(), &shell.etag, None);
    }
    let response = Body::from(shell.html.clone()).into_response();
    with_headers(response, &shell.etag, Some("text/html; charset=utf-8"))
}

async fn asset(Path(path): Path<String>, request: HeaderMap) -> Response {
    let Some(file) = Assets::get(&format!("assets/{path}")) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag =
        HeaderValue::from_str(&format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]))).expect("ascii");
    if not_modified(&request, &etag) {
        return with_headers(StatusCode::NOT_MODIFIED.into_response(), &etag, None);
    }
    let mime = file.metadata.mimetype();
    // Text assets are UTF-8; browsers must not guess otherwise.
    let content_type = match mime {
        "text/javascript" | "application/javascript" => "text/javascript; charset=utf-8".to_owned(),
        m if m.starts_with("text/") => format!("{m}; charset=utf-8"),
        m => m.to_owned(),
    };
    with_headers(Body::from(file.data.into_owned()).into_response(), &etag, Some(&content_type))
}

fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> bool {
    request.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|list| list.split(',').any(|tag| tag.trim() == etag.to_str().unwrap_or_default()))
    })
}

/// Assets are revalidated on every use (a cheap 304), so a new binary's app is picked up at once.
fn with_headers(mut response: Response, etag: &HeaderValue, content_type: Option<&str>) -> Response {
    let headers = response.headers_mut();
    if let Some(content_type) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn app() -> Router {
        router(WebConfig { retention_minutes: 90, max_upload_bytes: 5 * 1024 * 1024 })
    }

    async fn get(uri: &str, headers: &[(header::HeaderName, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let response = app().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn every_page_route_serves_the_shell_with_the_retention_written_in() {
        for uri in ["/", "/tool/merge", "/organise", "/signin", "/signup", "/account", "/admin", "/reset-password"] {
            let (status, headers, body) = get(uri, &[]).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
            assert!(body.contains(r#"content="90""#), "{uri}: retention not written into the shell");
            assert!(body.contains(r#"content="5242880""#), "{uri}: upload limit not written into the shell");
            assert!(!body.contains("__"), "{uri}: a placeholder is left");
        }
    }

    #[tokio::test]
    async fn assets_carry_their_type_and_revalidate_with_an_etag() {
        let (status, headers, body) = get("/assets/js/main.js", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(body.contains("import"));
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let (status, _, body) = get("/assets/js/main.js", &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        let (_, headers, _) = get("/assets/app.css", &[]).await;
        assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    }

    #[tokio::test]
    async fn an_unknown_asset_is_not_found_and_paths_cannot_climb_out() {
        assert_eq!(get("/assets/nope.js", &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get("/assets/../index.html", &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get("/assets/%2e%2e/index.html", &[]).await.0, StatusCode::NOT_FOUND);
    }
}
