//! The JSON the API speaks. Field names are public API: add, never rename.

use chrono::{DateTime, Utc};
use scanpro_core::job::{JobSpec, StepSpec};
use scanpro_core::{FileId, ToolError};
use scanpro_store::{FileRecord, JobRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct FileView {
    #[schema(value_type = String, format = Uuid)]
    pub id: FileId,
    pub filename: String,
    pub size: u64,
    /// Detected from the bytes, not the name.
    pub content_type: String,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Where to download it.
    pub url: String,
}

impl From<&FileRecord> for FileView {
    fn from(f: &FileRecord) -> Self {
        Self {
            id: f.id,
            filename: f.filename.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            sha256: f.sha256.clone(),
            created_at: f.created_at,
            expires_at: f.expires_at,
            url: format!("/api/v1/files/{}/content", f.id),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FileList {
    pub files: Vec<FileView>,
}

/// `POST /api/v1/jobs` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// Ids of uploaded files, in order.
    #[schema(value_type = Vec<String>)]
    pub inputs: Vec<FileId>,
    /// Steps run in order; each step's outputs are the next step's inputs.
    pub steps: Vec<StepRequest>,
    pub webhook_url: Option<String>,
    /// A label of the caller's, returned with the job.
    pub tag: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// A tool name from `GET /api/v1/tools`.
    pub tool: String,
    /// The tool's parameters, as described by its JSON Schema.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Option<serde_json::Value>,
}

impl From<JobRequest> for JobSpec {
    fn from(r: JobRequest) -> Self {
        JobSpec {
            inputs: r.inputs,
            steps: r
                .steps
                .into_iter()
                .map(|s| StepSpec { tool: s.tool, params: s.params.unwrap_or_else(|| serde_json::json!({})) })
                .collect(),
            webhook_url: r.webhook_url,
            tag: r.tag,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StepView {
    pub tool: String,
    /// `pending`, `running`, `succeeded`, `failed` or `skipped`.
    pub status: String,
    /// The parameters as asked, credentials (passwords, request headers, cookie values, a URL's
    /// user and password) shown as `***` or left out.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressView {
    pub percent: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_done: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_total: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
}

impl From<&ToolError> for ErrorView {
    fn from(e: &ToolError) -> Self {
        Self { code: e.code.as_str().to_owned(), message: e.message.clone() }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    #[schema(value_type = Vec<String>)]
    pub inputs: Vec<FileId>,
    pub steps: Vec<StepView>,
    pub progress: ProgressView,
    /// Deliveries so far (a job whose worker died runs again).
    pub attempts: u32,
    pub error: Option<ErrorView>,
    pub outputs: Vec<FileView>,
    pub tag: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub links: JobLinks,
}

#[derive(Serialize, ToSchema)]
pub struct JobLinks {
    #[serde(rename = "self")]
    pub this: String,
    pub events: String,
    pub outputs_zip: String,
    pub cancel: String,
}

impl JobView {
    pub fn new(job: &JobRecord, outputs: &[FileRecord]) -> Self {
        let base = format!("/api/v1/jobs/{}", job.id);
        Self {
            id: job.id.to_string(),
            status: job.status.as_str().to_owned(),
            inputs: job.spec.inputs.clone(),
            steps: job
                .steps
                .iter()
                .zip(&job.spec.steps)
                .map(|(s, spec)| StepView {
                    tool: s.tool.clone(),
                    params: scanpro_pipeline::secrets::shown_params(&spec.params),
                    status: serde_json::to_value(s.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    report: s.report.clone(),
                })
                .collect(),
            progress: ProgressView {
                percent: job.progress.percent,
                pages_done: job.progress.pages_done,
                pages_total: job.progress.pages_total,
            },
            attempts: job.attempts,
            // A retry keeps the last transient error on the row; only a finished job reports one.
            error: job.status.is_terminal().then_some(job.error.as_ref()).flatten().map(ErrorView::from),
            outputs: outputs.iter().map(FileView::from).collect(),
            tag: job.spec.tag.clone(),
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            expires_at: job.expires_at,
            links: JobLinks {
                events: format!("{base}/events"),
                outputs_zip: format!("{base}/outputs.zip"),
                cancel: format!("{base}/cancel"),
                this: base,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}
