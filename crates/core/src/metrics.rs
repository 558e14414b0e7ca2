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

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Puts the Prometheus recorder in place and describes every metric, once per process. `false`
/// when another recorder was installed first (metrics then go there, not to [`render`]).
pub fn install() -> bool {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
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
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(ENGINE_STEPS, "Engine steps by outcome.");
    describe_gauge!(ENGINE_STEPS_RUNNING, "Engine steps running now.");
    describe_gauge!(ENGINE_STEPS_WAITING, "Engine steps admitted and waiting to run.");
    describe_gauge!(ENGINE_AVAILABLE, "1 when the engine can work.");
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
    }
}
