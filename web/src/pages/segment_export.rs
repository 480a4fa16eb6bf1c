//! `GET /segments/{id}/export.csv`: a segment's members as a CSV file, for the signed-in
//! user (the members they see), streamed like `GET /api/v1/segments/{id}/members.csv`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use kartoteka_core::Error;

use crate::api::segments::csv_download;
use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::PageError;

/// The export's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/segments/{id}/export.csv", get(export))
}

async fn export(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound { what: "segment" })?;
    let export = state.core.segments().export_segment_csv(&user.actor, id).await?;
    Ok(csv_download(export).await?)
}
