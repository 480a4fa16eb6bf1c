//! `/settings`: base-wide settings (read by everyone signed in, changed by admins).

use axum::Json;
use axum::extract::State;
use kartoteka_core::settings::{Settings, SettingsPatch};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::dto::ErrorBody;
use super::json::ApiJson;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    /// The key of the contact type a contact created without `type` gets; `null`: a
    /// contact needs a type.
    pub default_contact_type: Option<String>,
}

impl From<Settings> for SettingsOut {
    fn from(s: Settings) -> Self {
        SettingsOut {
            default_contact_type: s.default_contact_type,
        }
    }
}

/// Every setting, as it is to be (`PUT` replaces them all).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    /// A contact type key, or `null` for no default (then `type` is required).
    #[serde(deserialize_with = "nullable")]
    pub default_contact_type: Option<String>,
}

/// A property that must be present but may be `null`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// The base's settings.
#[utoipa::path(get, path = "/api/v1/settings", responses((status = 200, body = SettingsOut)))]
pub async fn get(State(state): State<AppState>, ApiUser(_): ApiUser) -> Result<Json<SettingsOut>, ApiError> {
    Ok(Json(state.core.schema().settings().await?.into()))
}

/// Changes the base's settings (admins).
#[utoipa::path(put, path = "/api/v1/settings", request_body = SettingsIn,
    responses((status = 200, body = SettingsOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<SettingsIn>,
) -> Result<Json<SettingsOut>, ApiError> {
    let patch = SettingsPatch {
        default_contact_type: Some(body.default_contact_type),
    };
    Ok(Json(state.core.schema().update_settings(&actor, patch).await?.into()))
}
