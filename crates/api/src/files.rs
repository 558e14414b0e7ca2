//! `/api/v1/files`: upload, metadata, download, delete.

use crate::AppState;
use crate::auth::{Auth, Owner};
use crate::download::file_response;
use crate::error::ApiError;
use crate::views::{FileList, FileView};
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use scanpro_core::ErrorCode;
use scanpro_pipeline::Caller;
use scanpro_pipeline::Pipeline;
use scanpro_store::FileRecord;

/// Upload one or more files (multipart parts named `file`).
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content_type = "multipart/form-data", description = "one or more `file` parts"),
    responses((status = 201, body = FileList), (status = 413, body = crate::error::Problem, description = "file_too_large")))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<FileList>), ApiError> {
    let mut multipart = multipart?;
    refuse_oversized_body(&state.pipeline, &headers)?;
    let mut files = Vec::new();
    while let Some(field) = next_field(&mut multipart).await? {
        if field.name() != Some("file") {
            continue;
        }
        match store_part(&state.pipeline, &caller, field).await {
            Ok(file) => files.push(file),
            Err(error) => return Err(after_discarding_rest(&mut multipart, error).await),
        }
    }
    if files.is_empty() {
        return Err(ApiError::bad_request("no `file` part in the multipart body (curl: -F file=@document.pdf)"));
    }
    Ok((StatusCode::CREATED, Json(FileList { files: files.iter().map(FileView::from).collect() })))
}

/// Streams one multipart part into storage.
pub async fn store_part(
    pipeline: &Pipeline,
    caller: &Caller,
    field: axum::extract::multipart::Field<'_>,
) -> Result<FileRecord, ApiError> {
    let filename = field.file_name().unwrap_or("upload").to_owned();
    let body = field.map_err(std::io::Error::other);
    pipeline.upload(caller, &filename, Box::pin(body)).await.map_err(|e| match e.code() {
        ErrorCode::FileTooLarge => ApiError::new(
            ErrorCode::FileTooLarge,
            format!(
                "{filename} is larger than the upload limit of {} MB",
                pipeline.limits(caller).max_upload_bytes / (1024 * 1024)
            ),
        ),
        _ => e.into(),
    })
}

pub async fn next_field(multipart: &mut Multipart) -> Result<Option<axum::extract::multipart::Field<'_>>, ApiError> {
    multipart.next_field().await.map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))
}

/// How much of a refused request's body is read and thrown away, and for how long at most.
const DISCARD_BYTES: usize = 16 * 1024 * 1024;
const DISCARD_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and discards what is left of a request refused early (within [`DISCARD_BYTES`] and
/// [`DISCARD_TIME`]) so the client reads the answer instead of a reset connection; a bigger or
/// slower rest is left and the connection closes.
async fn discard_rest(multipart: &mut Multipart) {
    let drain = async {
        let mut seen = 0;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                seen += chunk.len();
                if seen > DISCARD_BYTES {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
}

/// `error`, once the rest of the body it interrupted has been discarded.
pub async fn after_discarding_rest(multipart: &mut Multipart, error: ApiError) -> ApiError {
    discard_rest(multipart).await;
    error
}

/// A declared body far over the limit is refused before reading a byte of it.
pub fn refuse_oversized_body(pipeline: &Pipeline, headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let limit = pipeline.settings.max_upload_bytes;
    // Multipart framing adds a little; several files may together exceed one file's limit.
    match declared {
        Some(length) if length > limit.saturating_mul(pipeline.settings.max_inputs as u64) => Err(ApiError::new(
            ErrorCode::FileTooLarge,
            format!(
                "the request body ({length} bytes) is larger than the upload limit of {} MB per file",
                limit / (1024 * 1024)
            ),
        )),
        _ => Ok(()),
    }
}

#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = FileView), (status = 404, body = crate::error::Problem)))]
pub async fn metadata(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Json<FileView>, ApiError> {
    let file = state.pipeline.file(&owner, parse_id(&id)?).await?;
    Ok(Json(FileView::from(&file)))
}

/// Download; honours a single `Range`.
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files", params(("id" = String, Path)),
    responses((status = 200, description = "the bytes"), (status = 206, description = "the requested range"), (status = 404, body = crate::error::Problem)))]
pub async fn content(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = state.pipeline.file(&owner, parse_id(&id)?).await?;
    file_response(&state.pipeline, &file, &headers).await
}

#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.pipeline.delete_file(&owner, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn parse_id<T: std::str::FromStr>(id: &str) -> Result<T, ApiError> {
    id.parse().map_err(|_| ApiError::not_found(&format!("{id:?}")))
}
