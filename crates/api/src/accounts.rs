//! `/api/v1/auth/…`, `/api/v1/me…` and `/api/v1/api-keys…`: accounts, sign-in, keys.

use crate::AppState;
use crate::account_views::*;
use crate::auth::{Auth, ClientAddress, MaybeAuth, session_cookie, set_cookie};
use crate::error::ApiError;
use crate::jobs::json_rejection;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use scanpro_core::accounts::Role;
use scanpro_core::{ApiKeyId, ErrorCode};
use scanpro_pipeline::accounts::sign_in::{Registration, SignedIn};

type Body<T> = Result<Json<T>, JsonRejection>;

fn read<T>(state: &AppState, body: Body<T>) -> Result<T, ApiError> {
    body.map(|Json(value)| value).map_err(|e| json_rejection(e, state.settings.max_json_bytes))
}

/// The guest whose files pass to the account at sign-in.
fn guest_of(caller: &MaybeAuth) -> Option<&scanpro_core::OwnerId> {
    caller.0.as_ref().filter(|c| c.role == Role::Guest).map(|c| &c.owner)
}

/// A sign-in's answer: the tokens, and the web session cookie.
fn signed_in(state: &AppState, status: StatusCode, session: &SignedIn) -> Response {
    let mut response = (status, Json(TokenPair::from(session))).into_response();
    if !session.cookie.is_empty() {
        set_cookie(
            &mut response,
            &session_cookie(&session.cookie, session.cookie_max_age, state.settings.secure_cookies),
        );
    }
    response
}

/// Make an account. With email going out, it must be confirmed through the emailed link
/// before it can sign in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = Credentials,
    responses((status = 201, body = UserView), (status = 400, body = crate::error::Problem, description = "invalid_params: a weak password, a bad email"),
        (status = 409, body = crate::error::Problem, description = "the email is taken"), (status = 429, body = crate::error::Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Body<Credentials>,
) -> Result<Response, ApiError> {
    let credentials = read(&state, body)?;
    if let Some(limit) = &state.rate_limit
        && let Err(refused) = limit.admit_registration(&address).await
    {
        return Ok(refused);
    }
    let registration = Registration { email: &credentials.email, password: &credentials.password, role: Role::User };
    let user = state.pipeline.register(registration).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

/// Sign in with email and password. A browser's guest files and jobs pass to the account.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::Problem, description = "invalid_credentials"),
        (status = 403, body = crate::error::Problem, description = "account_disabled, or the email is not confirmed"),
        (status = 429, body = crate::error::Problem, description = "too many failed sign-ins")))]
pub async fn login(
    State(state): State<AppState>,
    caller: MaybeAuth,
    ClientAddress(address): ClientAddress,
    body: Body<Credentials>,
) -> Result<Response, ApiError> {
    let credentials = read(&state, body)?;
    // A bounded, plausible email before it names a budget or an audit entry.
    let email = scanpro_pipeline::accounts::sign_in::valid_email(&credentials.email)?;
    if let Some(limit) = &state.rate_limit
        && let Err(refused) = limit.sign_in_attempt(&email, &address).await
    {
        return Ok(refused);
    }
    let result = state.pipeline.sign_in(&email, &credentials.password, guest_of(&caller), Some(&address)).await;
    if let (Ok(_), Some(limit)) = (&result, &state.rate_limit) {
        limit.sign_in_succeeded(&email, &address).await;
    }
    Ok(signed_in(&state, StatusCode::OK, &result?))
}

/// Trade a refresh token for a new pair. A refresh token works once: presenting a used one
/// ends the whole sign-in.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Body<RefreshRequest>,
) -> Result<Response, ApiError> {
    let request = read(&state, body)?;
    let session = state.pipeline.refresh(&request.refresh_token, Some(&address)).await?;
    Ok(signed_in(&state, StatusCode::OK, &session))
}

/// Sign out: the session's access tokens, refresh tokens and cookie stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::error::Problem)))]
pub async fn logout(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    state.pipeline.sign_out(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &session_cookie("", 0, state.settings.secure_cookies));
    Ok(response)
}

/// Confirm an email address with the token of the emailed link.
#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "accounts", request_body = TokenRequest,
    responses((status = 200, body = UserView), (status = 400, body = crate::error::Problem)))]
pub async fn verify(State(state): State<AppState>, body: Body<TokenRequest>) -> Result<Json<UserView>, ApiError> {
    let request = read(&state, body)?;
    Ok(Json(UserView::from(&state.pipeline.verify_email(&request.token).await?)))
}

/// Ask for a password reset link. The answer is the same whether or not the account exists.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "accounts", request_body = EmailRequest,
    responses((status = 202), (status = 429, body = crate::error::Problem)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Body<EmailRequest>,
) -> Result<Response, ApiError> {
    let request = read(&state, body)?;
    if let Some(limit) = &state.rate_limit
        && let Err(refused) = limit.admit_registration(&address).await
    {
        return Ok(refused);
    }
    state.pipeline.forgot_password(&request.email).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Set a new password with the token of the emailed reset link; every sign-in ends.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "accounts", request_body = ResetRequest,
    responses((status = 204), (status = 400, body = crate::error::Problem)))]
pub async fn reset_password(State(state): State<AppState>, body: Body<ResetRequest>) -> Result<StatusCode, ApiError> {
    let request = read(&state, body)?;
    state.pipeline.reset_password(&request.token, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the password; every other sign-in ends and this one gets new tokens.
#[utoipa::path(post, path = "/api/v1/auth/password/change", tag = "accounts", request_body = ChangePasswordRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    body: Body<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let request = read(&state, body)?;
    let session = state.pipeline.change_password(&caller, &request.current_password, &request.new_password).await?;
    Ok(signed_in(&state, StatusCode::OK, &session))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = UserView), (status = 401, body = crate::error::Problem)))]
pub async fn me(Auth(caller): Auth) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from(caller.account()?)))
}

/// Delete the account and everything it owns: files, jobs, keys, sessions.
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::error::Problem)))]
pub async fn delete_me(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response, ApiError> {
    state.pipeline.delete_account(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &session_cookie("", 0, state.settings.secure_cookies));
    Ok(response)
}

/// Operations used this month against the plan's quota, and storage.
#[utoipa::path(get, path = "/api/v1/me/usage", tag = "accounts",
    responses((status = 200, body = UsageView), (status = 401, body = crate::error::Problem)))]
pub async fn usage(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<UsageView>, ApiError> {
    Ok(Json(state.pipeline.usage(&caller).await?.into()))
}

/// Make an API key. The key is in this answer only; it is stored hashed.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", request_body = NewKeyRequest,
    responses((status = 201, body = ApiKeyView), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem)))]
pub async fn create_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
    body: Body<NewKeyRequest>,
) -> Result<(StatusCode, Json<ApiKeyView>), ApiError> {
    let request = read(&state, body)?;
    let made = state.pipeline.create_api_key(&caller, &request.name, request.scopes, request.expires_at).await?;
    let view = ApiKeyView { key: Some(made.key), ..ApiKeyView::from(&made.record) };
    Ok((StatusCode::CREATED, Json(view)))
}

/// The account's keys (without the keys themselves).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "accounts",
    responses((status = 200, body = ApiKeyList), (status = 401, body = crate::error::Problem)))]
pub async fn list_keys(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.pipeline.api_keys(&caller).await?;
    Ok(Json(ApiKeyList { api_keys: keys.iter().map(ApiKeyView::from).collect() }))
}

/// Revoke a key: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ApiKeyId = id.parse().map_err(|_| ApiError::not_found("API key"))?;
    state.pipeline.revoke_api_key(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cookie holding a single sign-on in progress (state, nonce, PKCE verifier), signed.
const OIDC_COOKIE: &str = "scanpro_oidc";

/// The ways to sign in besides a password.
#[utoipa::path(get, path = "/api/v1/auth/providers", tag = "accounts", responses((status = 200, body = Providers)))]
pub async fn providers(State(state): State<AppState>) -> Json<Providers> {
    let providers = state
        .pipeline
        .oidc_name()
        .map(|name| Provider { name: name.to_owned(), login_url: "/api/v1/auth/oidc/login".into() });
    Json(Providers { providers: providers.into_iter().collect() })
}

/// Single sign-on: sends the browser to the OpenID Connect provider.
#[utoipa::path(get, path = "/api/v1/auth/oidc/login", tag = "accounts",
    responses((status = 303, description = "to the provider"), (status = 404, body = crate::error::Problem, description = "not set up")))]
pub async fn oidc_login(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (url, pending) = state.pipeline.oidc_start().await?;
    let token = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&pending).expect("serializes"),
    );
    let value = state.settings.cookie_key.seal(OIDC_COOKIE, &token);
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let mut response = axum::response::Redirect::to(&url).into_response();
    set_cookie(
        &mut response,
        &format!("{OIDC_COOKIE}={value}; Path=/api/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}"),
    );
    Ok(response)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct OidcCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal, when the person did not sign in there.
    pub error: Option<String>,
}

/// Single sign-on: where the provider sends the browser back. Signs in and goes to `/account`,
/// or back to `/signin?error=…`.
#[utoipa::path(get, path = "/api/v1/auth/oidc/callback", tag = "accounts", params(OidcCallback),
    responses((status = 303, description = "to /account, or to /signin?error=code")))]
pub async fn oidc_callback(
    State(state): State<AppState>,
    caller: MaybeAuth,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    axum::extract::Query(callback): axum::extract::Query<OidcCallback>,
) -> Response {
    let pending = crate::auth::cookie(&headers, OIDC_COOKIE)
        .and_then(|value| state.settings.cookie_key.open(OIDC_COOKIE, &value).map(str::to_owned))
        .and_then(|token| base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token).ok())
        .and_then(|json| serde_json::from_slice(&json).ok());
    let finished = match (pending, callback.code, callback.state, callback.error) {
        (Some(pending), Some(code), Some(returned), None) => state
            .pipeline
            .oidc_finish(pending, &returned, &code, guest_of(&caller), Some(&address))
            .await
            .map_err(|e| e.code()),
        (None, ..) => Err(ErrorCode::Unauthorized),
        _ => Err(ErrorCode::Forbidden),
    };
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let mut response = match &finished {
        Ok(_) => axum::response::Redirect::to("/account").into_response(),
        Err(code) => axum::response::Redirect::to(&format!("/signin?error={code}")).into_response(),
    };
    set_cookie(
        &mut response,
        &format!("{OIDC_COOKIE}=; Path=/api/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    );
    if let Ok(session) = &finished {
        set_cookie(
            &mut response,
            &session_cookie(&session.cookie, session.cookie_max_age, state.settings.secure_cookies),
        );
    }
    response
}
