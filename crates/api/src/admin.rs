//! `/api/v1/admin/…`: users, usage, tool switches, audited job reads, the audit log. Every
//! use case checks the admin role itself.

use crate::AppState;
use crate::account_views::*;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::jobs::json_rejection;
use crate::views::JobView;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_core::UserId;
use scanpro_pipeline::accounts::admin::UserChanges;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Part of the email.
    #[serde(default)]
    pub search: String,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("user"))
}

/// Accounts, newest first, optionally searched by email.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(UserQuery),
    responses((status = 200, body = UserList), (status = 403, body = crate::error::Problem)))]
pub async fn users(
    State(state): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<UserQuery>, QueryRejection>,
) -> Result<Json<UserList>, ApiError> {
    let Query(query) = query?;
    let users = state
        .pipeline
        .admin_users(&caller, &query.search, query.limit.unwrap_or(100), query.offset.unwrap_or(0))
        .await?;
    Ok(Json(UserList { users: users.iter().map(UserView::from).collect() }))
}

/// Change an account's role, plan or limits, or disable it (its sign-ins end at once).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn update_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Json<UserView>, ApiError> {
    let Json(patch) = body.map_err(|e| json_rejection(e, state.settings.max_json_bytes))?;
    let changes = UserChanges {
        role: patch.role,
        disabled: patch.disabled,
        plan: patch.plan,
        operations_limit: patch.operations_limit,
        storage_limit: patch.storage_limit,
    };
    Ok(Json(UserView::from(&state.pipeline.admin_update_user(&caller, user_id(&id)?, changes).await?)))
}

/// Delete an account and everything it owns.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn delete_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.pipeline.admin_delete_user(&caller, user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UsageQuery {
    /// `json` (default) or `csv` (operations per account and month).
    pub format: Option<String>,
    /// How far back: months for accounts, ×31 days for tools. Default 12.
    pub months: Option<u32>,
    /// Only this account's tool usage.
    pub user: Option<String>,
}

/// Usage: operations per account and month, and succeeded operations per day and tool.
#[utoipa::path(get, path = "/api/v1/admin/usage", tag = "admin", params(UsageQuery),
    responses((status = 200, body = UsageReport, description = "or text/csv with `?format=csv`"), (status = 403, body = crate::error::Problem)))]
pub async fn usage(
    State(state): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let months = query.months.unwrap_or(12).min(120);
    let accounts = state.pipeline.admin_usage(&caller, months).await?;
    if query.format.as_deref() == Some("csv") {
        return Ok(csv_response(&accounts));
    }
    let user = query.user.as_deref().map(user_id).transpose()?;
    let tools = state.pipeline.admin_tool_usage(&caller, user, months * 31).await?;
    let accounts = accounts
        .into_iter()
        .map(|l| AccountUsage {
            owner: l.owner.to_string(),
            email: l.email,
            period: l.period,
            operations: l.operations,
        })
        .collect();
    Ok(Json(UsageReport { accounts, tools: tools.iter().map(ToolUsage::from).collect() }).into_response())
}

fn csv_response(lines: &[scanpro_store::UsageLine]) -> Response {
    let mut csv = String::from("period,account,email,operations\r\n");
    for line in lines {
        let email = line.email.as_deref().unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{}\r\n",
            line.period,
            csv_field(line.owner.as_str()),
            csv_field(email),
            line.operations
        ));
    }
    let mut response = csv.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"usage.csv\""));
    response
}

/// A CSV field quoted when it must be, and never read as a formula by a spreadsheet.
fn csv_field(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub limit: Option<i64>,
}

/// Sign-ins, failed sign-ins, key changes and admin actions, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditView), (status = 403, body = crate::error::Problem)))]
pub async fn audit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditView>, ApiError> {
    let Query(query) = query?;
    let entries = state.pipeline.admin_audit_log(&caller, query.limit.unwrap_or(200)).await?;
    Ok(Json(AuditView { entries: entries.iter().map(AuditEntryView::from).collect() }))
}

/// Every tool and whether it is switched on.
#[utoipa::path(get, path = "/api/v1/admin/tools", tag = "admin",
    responses((status = 200, body = ToolSwitches), (status = 403, body = crate::error::Problem)))]
pub async fn tools(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<ToolSwitches>, ApiError> {
    let tools = state.pipeline.admin_tools(&caller).await?;
    Ok(Json(ToolSwitches {
        tools: tools.into_iter().map(|(name, enabled)| ToolState { name: name.to_owned(), enabled }).collect(),
    }))
}

/// Switch a tool on or off for everyone; a switched-off tool answers `403 tool_disabled`.
#[utoipa::path(put, path = "/api/v1/admin/tools/{tool}", tag = "admin", params(("tool" = String, Path)), request_body = ToolSwitch,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn switch_tool(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(tool): Path<String>,
    body: Result<Json<ToolSwitch>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(switch) = body.map_err(|e| json_rejection(e, state.settings.max_json_bytes))?;
    state.pipeline.admin_switch_tool(&caller, &tool, switch.enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Any job, for support. Each read is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/admin/jobs/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn job(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let id = crate::files::parse_id(&id)?;
    let job = state.pipeline.admin_job(&caller, id).await?;
    Ok(Json(crate::jobs::view(&state.pipeline, &job).await?))
}
