//! The OpenAPI document and the interactive docs, served from assets inside the binary.

use crate::AppState;
use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "ScanPro API", version = "1", description = "Upload documents, run tools over them as jobs, download the results. \
Errors are application/problem+json with a stable `code`. Send an API key (`X-API-Key: sk_…` or `Authorization: Bearer sk_…`) or an access token from \
`/api/v1/auth/login` (`Authorization: Bearer …`); where guest access is on, a caller without credentials acts as the guest \
of the `scanpro_guest` cookie."),
    paths(
        crate::files::upload, crate::files::metadata, crate::files::content, crate::files::delete,
        crate::tools::list, crate::tools::describe, crate::tools::one_shot,
        crate::jobs::create, crate::jobs::get, crate::jobs::list, crate::jobs::cancel, crate::jobs::events, crate::jobs::outputs_zip,
        crate::webhooks::rotate,
        crate::accounts::register, crate::accounts::login, crate::accounts::refresh, crate::accounts::logout,
        crate::accounts::verify, crate::accounts::forgot_password, crate::accounts::reset_password,
        crate::accounts::change_password, crate::accounts::providers, crate::accounts::oidc_login, crate::accounts::oidc_callback, crate::accounts::me, crate::accounts::delete_me, crate::accounts::usage,
        crate::accounts::create_key, crate::accounts::list_keys, crate::accounts::revoke_key,
        crate::admin::users, crate::admin::update_user, crate::admin::delete_user, crate::admin::usage,
        crate::admin::audit, crate::admin::tools, crate::admin::switch_tool, crate::admin::job,
        crate::health::live, crate::health::ready,
    ),
    components(schemas(crate::error::Problem)),
    tags((name = "files"), (name = "jobs"), (name = "tools"), (name = "webhooks"), (name = "accounts"), (name = "admin"), (name = "health"))
)]
pub struct ApiDoc;

/// `/api/docs` (Swagger UI) and `/api/v1/openapi.json`.
pub fn docs() -> Router<AppState> {
    SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()).into()
}
