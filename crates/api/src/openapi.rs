//! The OpenAPI document and the interactive docs, served from assets inside the binary.

use crate::AppState;
use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "ScanPro API", version = "1", description = "Upload documents, run tools over them as jobs, download the results. \
Errors are application/problem+json with a stable `code`. Without credentials you act as the guest of the `scanpro_guest` cookie."),
    paths(
        crate::files::upload, crate::files::metadata, crate::files::content, crate::files::delete,
        crate::tools::list, crate::tools::describe, crate::tools::one_shot,
        crate::jobs::create, crate::jobs::get, crate::jobs::list, crate::jobs::cancel, crate::jobs::events, crate::jobs::outputs_zip,
        crate::webhooks::rotate,
        crate::health::live, crate::health::ready,
    ),
    components(schemas(crate::error::Problem)),
    tags((name = "files"), (name = "jobs"), (name = "tools"), (name = "webhooks"), (name = "health"))
)]
pub struct ApiDoc;

/// `/api/docs` (Swagger UI) and `/api/v1/openapi.json`.
pub fn docs() -> Router<AppState> {
    SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()).into()
}
