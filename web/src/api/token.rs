//! `POST /auth/token`: a bearer token for an email and password.

use axum::Json;
use axum::extract::State;

use super::dto::{ErrorBody, TokenRequest, TokenResponse};
use super::json::ApiJson;
use crate::app::AppState;
use crate::auth::ClientAddr;
use crate::error::ApiError;

/// Exchanges credentials for a bearer token. Failed attempts count toward the sign-in
/// limits of the client's address and of the account (429 once reached); a deactivated
/// account gets no token (403).
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = TokenRequest, security(()),
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody, description = "the body is not an object with `email` and `password`"),
        (status = 401, body = ErrorBody, description = "wrong email or password"),
        (status = 403, body = ErrorBody, description = "the password is right but the account is deactivated"),
        (status = 429, body = ErrorBody, description = "too many failed attempts; `Retry-After` says when to try again")))]
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let user = state
        .core
        .users()
        .authenticate(&body.email, &body.password, client)
        .await?;
    let token = state.core.users().issue_api_token(&user).await?;
    Ok(Json(TokenResponse {
        token,
        expires_in: kartoteka_core::auth::API_TOKEN_TTL.num_seconds(),
    }))
}
