//! `POST /auth/token`: a bearer token for an email and password.

use axum::Json;
use axum::extract::State;

use super::dto::{ErrorBody, TokenRequest, TokenResponse};
use super::json::ApiJson;
use crate::app::AppState;
use crate::error::ApiError;

/// Exchanges credentials for a bearer token. Failed attempts count toward the account's
/// sign-in limit (429 once locked).
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let user = state.core.authenticate(&body.email, &body.password).await?;
    let token = state.core.issue_api_token(&user).await?;
    Ok(Json(TokenResponse {
        token,
        expires_in: kartoteka_core::auth::API_TOKEN_TTL.num_seconds(),
    }))
}
