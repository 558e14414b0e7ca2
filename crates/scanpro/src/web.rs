//! `scanpro web`: the web app on its own, for a front end deployed apart from the API. The page
//! calls `/api/v1` on its own origin, so this role passes `/api/…` through to `api_url` as it is
//! (cookies, uploads and event streams streamed both ways).

use crate::config::Config;
use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;

/// Headers that belong to one connection, not to the request passed on.
const HOP_BY_HOP: [HeaderName; 5] =
    [header::CONNECTION, header::HOST, header::TRANSFER_ENCODING, header::UPGRADE, header::TE];

const FORWARDED_FOR: &str = "x-forwarded-for";

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
}

pub fn run(config: Config) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    let Some(base) = config.api_url.clone() else {
        bail!("scanpro web needs api_url (SCANPRO_API_URL), the address of a `scanpro api`");
    };
    let upstream = Upstream {
        base: base.trim_end_matches('/').to_owned(),
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?,
    };
    let web = scanpro_web::router(scanpro_web::WebConfig {
        retention_minutes: config.retention_minutes,
        max_upload_bytes: config.max_upload_mb * 1024 * 1024,
    });
    let app = Router::new()
        .route("/api/{*rest}", axum::routing::any(pass_through))
        .with_state(upstream)
        .merge(web)
        // For probes: the pages are embedded, so a process that answers serves them.
        .route("/healthz", axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route_layer(axum::middleware::from_fn(scanpro_api::health::record_request));
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        println!("scanpro: web app listening on http://{}", listener.local_addr()?);
        if let Some(address) = config.metrics_listen {
            scanpro_core::metrics::install();
            let render =
                || async { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], scanpro_core::metrics::render()) };
            crate::parts::serve_metrics(address, Router::new().route("/metrics", axum::routing::get(render))).await?;
        }
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(crate::parts::termination_signal()).await?;
        Ok(())
    })
}

/// Sends the request on to the API and streams its answer back.
/// The client's address goes on in `X-Forwarded-For`: the API counts new guests per client (list
/// this role in the API's `trusted_proxies`).
async fn pass_through(
    State(upstream): State<Upstream>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    let forwarded = match headers.get(FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded) {
        headers.insert(FORWARDED_FOR, value);
    }
    let body = reqwest::Body::wrap_stream(body.into_data_stream());
    let sent = upstream
        .http
        .request(parts.method, format!("{}{path}", upstream.base))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "the API is unreachable");
            let problem = serde_json::json!({"type": "/errors/unavailable", "title": "Service Unavailable",
                "status": 503, "code": "unavailable", "detail": "the API is unreachable; retry shortly"});
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/problem+json")],
                problem.to_string(),
            )
                .into_response();
        }
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(name) {
            response = response.header(name, value);
        }
    }
    let stream = answer.bytes_stream().map_err(std::io::Error::other);
    response.body(Body::from_stream(stream)).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
