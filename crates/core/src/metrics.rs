//! The metrics ScanPro exports, each named and described once, and their Prometheus text.
//!
//! Parts record through the `metrics` facade (`metrics::counter!(ENGINE_STEPS, …)`); the first
//! [`install`] in a process puts the Prometheus recorder in place (later calls do nothing), and
//! every `/metrics` route answers with [`render`]. Gauges of state held elsewhere (queue depths,
//! steps running) are set just before rendering.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Engine steps by `engine` and `outcome` (succeeded, failed, rejected, abandoned).
pub const ENGINE_STEPS: &str = "scanpro_engine_steps_total";
/// Engine steps running now, by `engine`.
pub const ENGINE_STEPS_RUNNING: &str = "scanpro_engine_steps_running";
/// Engine steps admitted and waiting to run, by `engine`.
pub const ENGINE_STEPS_WAITING: &str = "scanpro_engine_steps_waiting";
/// 1 when the `engine` can work.
pub const ENGINE_AVAILABLE: &str = "scanpro_engine_available";
/// Jobs dispatched and not yet delivered to a worker, by `class`.
pub const QUEUE_WAITING: &str = "scanpro_queue_waiting";
/// Jobs delivered to a worker and not yet acknowledged, by `class`.
pub const QUEUE_RUNNING: &str = "scanpro_queue_running";
/// Jobs dead-lettered after their delivery limit, by `class`.
pub const QUEUE_DEAD_LETTERS: &str = "scanpro_queue_dead_letters";

/// HTTP requests by `route` (as matched, e.g. `/api/v1/jobs/{id}`), `method` and `status`.
pub const HTTP_REQUESTS: &str = "scanpro_http_requests_total";
/// HTTP request duration in seconds, by `route` and `method` (a histogram).
pub const HTTP_REQUEST_SECONDS: &str = "scanpro_http_request_duration_seconds";
/// Jobs that ended, by their first step's `tool` and final `status`.
pub const JOBS_ENDED: &str = "scanpro_jobs_total";
/// Step duration in seconds, by `tool` and `outcome` (a histogram).
pub const STEP_SECONDS: &str = "scanpro_step_duration_seconds";
/// Bytes of uploads stored.
pub const UPLOAD_BYTES: &str = "scanpro_upload_bytes_total";
/// Bytes of files served for download.
pub const DOWNLOAD_BYTES: &str = "scanpro_download_bytes_total";
/// Jobs queued or running now, by `class` and `status` (from the database, at each scrape).
pub const JOBS_ACTIVE: &str = "scanpro_jobs_active";
/// What retention sweeps deleted, by `kind` (files, jobs, orphan_blobs, work_dirs).
pub const SWEPT: &str = "scanpro_swept_total";
/// Engine step duration in seconds, by `engine` (a histogram).
pub const ENGINE_STEP_SECONDS: &str = "scanpro_engine_step_duration_seconds";
/// The warm LibreOffice pool's instances, by `state`: configured, alive, idle, busy.
pub const OFFICE_POOL_INSTANCES: &str = "scanpro_office_pool_instances";
/// LibreOffice instances replaced, by `reason`: recycled (worn out) or restarted (failed).
pub const OFFICE_POOL_REPLACED: &str = "scanpro_office_pool_replaced_total";
/// Chromium browsers by `state`: configured, alive, idle, busy.
pub const CHROMIUM_BROWSERS: &str = "scanpro_chromium_browsers";
/// Chromium browsers replaced, by `reason`: recycled (worn out) or restarted (crashed, hung).
pub const CHROMIUM_REPLACED: &str = "scanpro_chromium_replaced_total";

/// Histogram buckets of durations, in seconds: a 5 ms request to a 30 minute OCR run.
const SECONDS_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 1800.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Puts the Prometheus recorder in place and describes every metric, once per process. `false`
/// when another recorder was installed first (metrics then go there, not to [`render`]).
pub fn install() -> bool {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &SECONDS_BUCKETS,
                )
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .is_some()
}

/// Every metric recorded in this process, in the Prometheus text format (version 0.0.4).
pub fn render() -> String {
    install();
    HANDLE.get().and_then(Option::as_ref).map(PrometheusHandle::render).unwrap_or_default()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route, method and status.");
    describe_histogram!(HTTP_REQUEST_SECONDS, Unit::Seconds, "HTTP request duration by route and method.");
    describe_counter!(JOBS_ENDED, "Jobs that ended, by first tool and final status.");
    describe_histogram!(STEP_SECONDS, Unit::Seconds, "Step duration by tool and outcome.");
    describe_counter!(UPLOAD_BYTES, Unit::Bytes, "Bytes of uploads stored.");
    describe_counter!(DOWNLOAD_BYTES, Unit::Bytes, "Bytes of files served for download.");
    describe_gauge!(JOBS_ACTIVE, "Jobs queued or running now, by class and status.");
    describe_counter!(SWEPT, "What retention sweeps deleted, by kind.");
    describe_histogram!(ENGINE_STEP_SECONDS, Unit::Seconds, "Engine step duration by engine.");
    describe_counter!(ENGINE_STEPS, "Engine steps by outcome.");
    describe_gauge!(ENGINE_STEPS_RUNNING, "Engine steps running now.");
    describe_gauge!(ENGINE_STEPS_WAITING, "Engine steps admitted and waiting to run.");
    describe_gauge!(ENGINE_AVAILABLE, "1 when the engine can work.");
    describe_gauge!(OFFICE_POOL_INSTANCES, "The warm LibreOffice pool's instances by state.");
    describe_counter!(OFFICE_POOL_REPLACED, "LibreOffice instances replaced, by reason.");
    describe_gauge!(CHROMIUM_BROWSERS, "The warm Chromium browsers by state.");
    describe_counter!(CHROMIUM_REPLACED, "Chromium browsers replaced, by reason.");
    describe_gauge!(QUEUE_WAITING, "Jobs dispatched and not yet delivered to a worker.");
    describe_gauge!(QUEUE_RUNNING, "Jobs delivered to a worker and not yet acknowledged.");
    describe_gauge!(QUEUE_DEAD_LETTERS, "Jobs dead-lettered after their delivery limit.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_metrics_come_out_as_prometheus_text() {
        assert!(install());
        metrics::counter!(ENGINE_STEPS, "engine" => "ocr", "outcome" => "succeeded").increment(2);
        metrics::gauge!(QUEUE_WAITING, "class" => "native").set(3.0);
        let text = render();
        assert!(text.contains("# HELP scanpro_engine_steps_total Engine steps by outcome."), "{text}");
        assert!(text.contains("# TYPE scanpro_engine_steps_total counter"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"scanpro_engine_steps_total{engine=\"ocr\",outcome=\"succeeded\"} 2"), "{text}");
        assert!(lines.contains(&"scanpro_queue_waiting{class=\"native\"} 3"), "{text}");
        metrics::histogram!(STEP_SECONDS, "tool" => "rotate", "outcome" => "succeeded").record(0.3);
        let text = render();
        assert!(text.contains("# TYPE scanpro_step_duration_seconds histogram"), "{text}");
        assert!(
            text.contains("scanpro_step_duration_seconds_bucket{tool=\"rotate\",outcome=\"succeeded\",le=\"0.5\"} 1"),
            "{text}"
        );
    }
}
