//! `/users` and `/me/password`: accounts. Admins list and add users, change their name,
//! role and status (deactivating ends every session and token of the user), and reset
//! their passwords; every user changes their own password. The rules (who may, the last
//! active admin, how soon other instances follow) are `kartoteka_core::users`'.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use kartoteka_core::auth::User;
use kartoteka_core::users::{NewUser, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, path_id};
use crate::app::AppState;
use crate::auth::{ApiUser, ClientAddr, bearer_token};
use crate::error::ApiError;

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// admin, manager or agent.
    pub role: String,
    /// Whether the user may sign in.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// When the user was deactivated; `null` while active.
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            active: u.is_active(),
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            created_at: u.created_at,
            deactivated_at: u.deactivated_at,
        }
    }
}

/// A new user, with the first password an admin gives them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub email: String,
    pub name: String,
    /// admin, manager or agent.
    pub role: String,
    /// At least 8 characters.
    pub password: String,
}

/// A change to a user: any subset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub name: Option<String>,
    /// admin, manager or agent.
    #[serde(default)]
    pub role: Option<String>,
    /// `false` deactivates the user (ending all their sessions and tokens), `true`
    /// reactivates them.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A new password set by an admin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// At least 8 characters.
    pub password: String,
}

/// The caller's own password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnPasswordChange {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

/// What a password change ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// How many sessions and API tokens of the user ended.
    pub sessions_ended: u64,
}

/// Every user, active or not, by email (admins).
#[utoipa::path(get, path = "/api/v1/users",
    responses((status = 200, body = Items<UserOut>), (status = 403, body = ErrorBody, description = "the caller is not an admin")))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<UserOut>>, ApiError> {
    let users = state.core.accounts().list(&actor).await?;
    Ok(Json(Items::all(users.into_iter().map(UserOut::from).collect())))
}

/// Adds a user (admins). There is no e-mailed invitation: the admin tells them their
/// first password.
#[utoipa::path(post, path = "/api/v1/users", request_body = UserCreate,
    responses((status = 201, body = UserOut), (status = 400, body = ErrorBody, description = "every problem of the input, each at its path"),
        (status = 403, body = ErrorBody, description = "the caller is not an admin"),
        (status = 409, body = ErrorBody, description = "a user with that email exists")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<UserCreate>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let new = NewUser {
        email: body.email,
        name: body.name,
        role: body.role,
        password: body.password,
    };
    let user = state.core.accounts().add_user(&actor, new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One user (admins; anyone reads their own account).
#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody, description = "another user's account, and the caller is not an admin"),
        (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<UserOut>, ApiError> {
    let id = path_id(&id, "user")?;
    Ok(Json(state.core.accounts().get(&actor, id).await?.into()))
}

/// Changes a user's name, role or status (admins). Deactivating ends all their sessions
/// and API tokens at once; a change that would leave no active admin is refused (409).
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = UserOut), (status = 400, body = ErrorBody, description = "every problem of the input, each at its path"),
        (status = 403, body = ErrorBody, description = "the caller is not an admin"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the user is the last active admin")))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> Result<Json<UserOut>, ApiError> {
    let id = path_id(&id, "user")?;
    let patch = UserPatch {
        name: body.name,
        role: body.role,
        active: body.active,
    };
    Ok(Json(state.core.accounts().update(&actor, id, patch).await?.into()))
}

/// Sets a new password for a user (admins) and ends all their sessions and API tokens.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", params(("id" = i64, Path)), request_body = PasswordReset,
    responses((status = 200, body = PasswordChanged), (status = 400, body = ErrorBody, description = "the password is too short or too long"),
        (status = 403, body = ErrorBody, description = "the caller is not an admin"), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let id = path_id(&id, "user")?;
    let sessions_ended = state.core.accounts().reset_password(&actor, id, &body.password).await?;
    Ok(Json(PasswordChanged { sessions_ended }))
}

/// Changes the caller's own password. The current one is checked within the sign-in
/// limits; the caller's other sessions and API tokens end, the token of this request stays.
#[utoipa::path(post, path = "/api/v1/me/password", request_body = OwnPasswordChange,
    responses((status = 200, body = PasswordChanged), (status = 400, body = ErrorBody, description = "the current password is wrong, or the new one too short or too long"),
        (status = 403, body = ErrorBody, description = "the account was deactivated meanwhile"),
        (status = 429, body = ErrorBody, description = "too many wrong passwords; `Retry-After` says when to try again")))]
pub async fn change_own_password(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OwnPasswordChange>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let sessions_ended = state
        .core
        .accounts()
        .change_own_password(
            &actor,
            bearer_token(&headers),
            &body.current_password,
            &body.new_password,
            client,
        )
        .await?;
    Ok(Json(PasswordChanged { sessions_ended }))
}
