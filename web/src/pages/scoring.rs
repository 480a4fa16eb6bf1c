//! Scoring models (admins): the routes, the list (each model's kind, status with the
//! progress of a rescore, how many contacts each band holds), "Rescore now" and deleting.
//! The editor, with its what-if, is [`super::scoring_form`]; a contact's scores are on its
//! card ([`super::contact_scores`]).
//!
//! While a model is being rescored the list polls its own address (htmx, every 2 s,
//! taking the table out of the page it answers); without JavaScript a reload shows the
//! same.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::scoring::{NEEDS_ATTENTION, RESCORING, ScoringModel};

use super::Nav;
use super::flash::{self, Flash};
use super::scoring_form;
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The scoring routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::SCORING, get(list).post(scoring_form::create))
        .route(urls::NEW_SCORING_MODEL, get(scoring_form::new_form))
        .route(
            urls::SCORING_WHAT_IF,
            get(scoring_form::to_new_form).post(scoring_form::what_if_new),
        )
        .route("/scoring/{id}", get(scoring_form::edit_form).post(scoring_form::update))
        .route("/scoring/{id}/what-if", get(to_model).post(scoring_form::what_if_saved))
        .route("/scoring/what-ifs/{run}", get(scoring_form::what_if_run))
        .route("/scoring/{id}/rescore", get(to_model).post(rescore))
        .route("/scoring/{id}/delete", get(to_model).post(delete))
}

pub(super) fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "scoring model" }))
}

/// A model's status in words, with the progress of its rescore.
pub(super) fn status_text(m: &ScoringModel) -> String {
    match m.status.as_str() {
        RESCORING if m.progress_total > 0 => {
            format!("rescoring ({} of {})", m.progress_done, m.progress_total)
        }
        NEEDS_ATTENTION => "needs attention".to_owned(),
        other => other.to_owned(),
    }
}

/// A model as a row of the list.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub id: i64,
    pub url: String,
    pub key: String,
    pub name: String,
    pub kind: &'static str,
    pub status: String,
    pub rescoring: bool,
    pub attention: bool,
    pub status_message: String,
    pub done: i64,
    pub total: i64,
    pub parameters: usize,
    /// `(band, contacts)`, lowest band first.
    pub bands: Vec<(String, u64)>,
    pub rescored: String,
}

#[derive(Template)]
#[template(path = "scoring/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<ModelRow>,
    /// Whether a rescore is under way (the table polls).
    live: bool,
    notice: Option<String>,
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let scoring = state.core.scoring();
    let mut rows = Vec::new();
    for m in scoring.list_models().await? {
        let bands = scoring.band_counts(m.id).await?;
        rows.push(ModelRow {
            id: m.id,
            url: urls::scoring_model(m.id),
            kind: m.kind.as_str(),
            status: status_text(&m),
            rescoring: m.status == RESCORING,
            attention: m.status == NEEDS_ATTENTION,
            status_message: m.status_message.clone().unwrap_or_default(),
            done: m.progress_done.min(m.progress_total),
            total: m.progress_total,
            parameters: m.definition.parameters.len(),
            bands,
            rescored: m
                .rescored_at
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            key: m.key,
            name: m.name,
        });
    }
    let page = ListPage {
        nav: Nav::new(&user, "scoring"),
        live: rows.iter().any(|r| r.rescoring),
        rows,
        notice: flash.message(),
    };
    let mut response = render(&page)?.into_response();
    flash.clear(&state, &mut response);
    Ok(response)
}

/// `POST /scoring/{id}/rescore`: "Rescore now".
async fn rescore(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form: _ }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let id = parse_id(&id)?;
    let model = state.core.scoring().request_rescore(&user.actor, id).await?;
    let message = if model.status == RESCORING {
        format!("Rescoring “{}”.", model.name)
    } else {
        format!("Rescored “{}”.", model.name)
    };
    Ok(flash::redirect(&state, urls::SCORING, &message))
}

/// `POST /scoring/{id}/delete`: deletes a model once the box is ticked.
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let id = parse_id(&id)?;
    let model = state.core.scoring().get_model(id).await?;
    let result = if form.checked("confirm") {
        state.core.scoring().delete_model(&user.actor, id).await
    } else {
        Err(Error::invalid("confirm", "tick the box to confirm the deletion"))
    };
    match result {
        Ok(()) => Ok(flash::redirect(
            &state,
            urls::SCORING,
            &format!("Deleted the scoring model “{}”.", model.name),
        )),
        Err(e @ (Error::Conflict { .. } | Error::Validation { .. } | Error::Invalid(_))) => {
            scoring_form::refused_delete(&state, &user, &model, &e).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A GET on a form's address (a reload, Enter in the address bar): the model's editor.
async fn to_model(Path(id): Path<String>) -> Result<Redirect, PageError> {
    Ok(Redirect::to(&urls::scoring_model(parse_id(&id)?)))
}
