//! `/api/v1`: the JSON API. One module per resource; every handler calls one `core` service.

pub mod activities;
pub mod contact_types;
pub mod contacts;
pub mod download;
pub mod dto;
pub mod fields;
pub mod imports;
pub mod jobs;
pub mod json;
pub mod openapi;
pub mod outbox;
pub mod plugins;
pub mod scoring;
pub mod segment_size;
pub mod segments;
pub mod settings;
pub mod tasks;
pub mod token;
pub mod users;
pub mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::error::ApiError;

/// The API's routes, to nest under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(token::create))
        .route("/openapi.json", get(openapi::document))
        .route("/contacts", get(contacts::list).post(contacts::create))
        .route("/contacts/count", get(contacts::count))
        .route("/contacts/export", get(views::export))
        .route("/views", get(views::list).post(views::create))
        .route(
            "/views/{id}",
            get(views::get_one).patch(views::update).delete(views::delete),
        )
        .route("/contacts/actions", post(jobs::start_on_contacts))
        .route("/filter-fields", get(contacts::filter_fields))
        .route(
            "/contacts/{id}",
            get(contacts::get_one).patch(contacts::update).delete(contacts::delete),
        )
        .route("/contacts/{id}/activities", get(activities::list_for_contact))
        .route("/contacts/{id}/segments", get(segments::for_contact))
        .route("/activities", get(activities::list).post(activities::create))
        .route("/fields", get(fields::list).post(fields::create))
        .route(
            "/fields/{key}",
            get(fields::get_one).patch(fields::update).delete(fields::delete),
        )
        .route("/contact-types", get(contact_types::list).post(contact_types::create))
        .route(
            "/contact-types/{key}",
            get(contact_types::get_one)
                .patch(contact_types::update)
                .delete(contact_types::delete),
        )
        .route(
            "/contact-types/{key}/layout",
            get(views::get_layout)
                .put(views::put_layout)
                .delete(views::delete_layout),
        )
        .route("/plugins", get(plugins::list).post(plugins::upload))
        .route("/plugins/{name}", get(plugins::get_one).delete(plugins::remove))
        .route("/plugins/{name}/approve", post(plugins::approve))
        .route("/plugins/{name}/enable", post(plugins::enable))
        .route("/plugins/{name}/disable", post(plugins::disable))
        .route("/plugins/{name}/try", post(plugins::try_operator))
        .route("/operators", get(plugins::operators))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/preview", post(segment_size::preview))
        .route("/segments/{id}/history", get(segment_size::history))
        .route(
            "/segments/{id}",
            get(segments::get_one).patch(segments::update).delete(segments::delete),
        )
        .route(
            "/segments/{id}/members",
            get(segments::members)
                .post(segments::add_members)
                .delete(segments::remove_members),
        )
        .route("/segments/{id}/members.csv", get(segments::members_csv))
        .route("/segments/{id}/actions", post(jobs::start_on_segment))
        .route("/actions", get(jobs::actions))
        .route("/imports", get(imports::list).post(imports::upload))
        .route("/imports/{id}", get(imports::get_one))
        .route("/imports/{id}/runs", post(imports::start))
        .route("/imports/{id}/outcomes", get(imports::outcomes))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::get_one))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/resume", post(jobs::resume))
        .route("/jobs/{id}/outcomes", get(jobs::outcomes))
        .route("/jobs/{id}/effects", get(jobs::effects))
        .route("/scoring-models", get(scoring::list).post(scoring::create))
        .route("/scoring-models/preview", post(scoring::preview))
        .route("/scoring-models/previews", post(scoring::start_preview))
        .route("/scoring-models/previews/{id}", get(scoring::preview_run))
        .route(
            "/scoring-models/{id}",
            get(scoring::get_one).patch(scoring::update).delete(scoring::delete),
        )
        .route("/scoring-models/{id}/rescore", post(scoring::rescore))
        .route("/scoring-criteria", get(scoring::criteria))
        .route("/contacts/{id}/scores", get(scoring::for_contact))
        .route("/outbox", get(outbox::list))
        .route("/actions/preview", post(outbox::preview))
        .route("/actions/test-message", post(outbox::test_message))
        .route("/outbox/{id}", get(outbox::get_one))
        .route("/jobs/{id}/email", get(outbox::campaign))
        .route("/tasks", get(tasks::list).post(tasks::create))
        .route("/tasks/{id}", get(tasks::get_one).patch(tasks::update))
        .route("/settings", get(settings::get).put(settings::put))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get_one).patch(users::update))
        .route("/users/{id}/password", post(users::reset_password))
        .route("/me/password", post(users::change_own_password))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(method: axum::http::Method) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({"error": {
        "code": "method_not_allowed",
        "message": format!("{method} is not allowed on this resource"),
    }});
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

async fn not_found() -> ApiError {
    ApiError(kartoteka_core::Error::NotFound { what: "API resource" })
}
