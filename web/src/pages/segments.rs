//! Segments: the routes, the list, the new and edit forms (the contacts page's filter
//! builder, with the live count and who would join and leave before saving). A segment's
//! page (its members in the contacts table, its size over time) and deleting are in
//! [`super::segment_page`].
//!
//! The builder reads its count from `GET /segments/preview` (a new segment) or
//! `GET /segments/{id}/preview` (compared with that segment's saved members): the count
//! endpoint's answer (`{count}`, or a 400 whose `path` is relative to the filter) plus
//! `joining` and `leaving`, which `assets/segment-form.js` shows. Saving is an ordinary
//! form post with the filter JSON in a hidden input, so a filter error comes back on the
//! re-rendered form, where the builder puts it on its condition again.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kartoteka_core::Error;
use kartoteka_core::filter::tree::parse_json;
use kartoteka_core::segments::{NEEDS_ATTENTION, Segment, SegmentDraft, SegmentKind, SegmentPatch};
use serde_json::Value;

use super::contact_filter::session;
use super::flash::{self, Flash};
use super::{Nav, segment_page};
use crate::api::json::{param, query_pairs};
use crate::api::segment_size::PreviewOut;
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{ApiError, PageError, render};
use crate::urls;

/// The segment routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::SEGMENTS, get(list).post(create))
        .route(urls::NEW_SEGMENT, get(new_form))
        .route(urls::SEGMENT_PREVIEW, get(preview_new))
        .route("/segments/{id}", get(segment_page::show))
        .route("/segments/{id}/edit", get(edit_form).post(update))
        .route(
            "/segments/{id}/delete",
            get(segment_page::to_segment).post(segment_page::delete),
        )
        .route("/segments/{id}/preview", get(preview_saved))
}

pub(super) fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "segment" }))
}

/// A segment's status in words, with its progress while it is rebuilt.
pub(super) fn status_text(s: &Segment) -> String {
    match s.status.as_str() {
        "ok" => "ok".to_owned(),
        "rebuilding" if s.progress_total > 0 => {
            format!("rebuilding ({} of {} looked at)", s.progress_done, s.progress_total)
        }
        NEEDS_ATTENTION => "needs attention".to_owned(),
        other => other.to_owned(),
    }
}

/// A segment as a row of the list.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub kind: &'static str,
    pub count: u64,
    pub status: String,
    pub attention: bool,
    pub status_message: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "segments/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<SegmentRow>,
    can_edit: bool,
    /// What the last form did ("Deleted the segment “Fair”.").
    notice: Option<String>,
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let rows = state
        .core
        .segments()
        .list_segments(&user.actor)
        .await?
        .into_iter()
        .map(|s| SegmentRow {
            id: s.id,
            url: urls::segment(s.id),
            kind: s.kind.as_str(),
            count: s.count,
            status: status_text(&s),
            attention: s.status == NEEDS_ATTENTION,
            status_message: s.status_message.clone().unwrap_or_default(),
            updated: s.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            name: s.name,
        })
        .collect();
    let page = ListPage {
        nav: Nav::new(&user, "segments"),
        rows,
        can_edit: user.actor.may_change_segments(),
        notice: flash.message(),
    };
    let mut response = render(&page)?.into_response();
    flash.clear(&state, &mut response);
    Ok(response)
}

#[derive(Template)]
#[template(path = "segments/form.html")]
struct FormPage {
    nav: Nav,
    title: String,
    action: String,
    cancel_url: String,
    /// The kind is chosen when the segment is made; an edit shows it.
    editing: bool,
    name: String,
    kind: String,
    /// The filter JSON (DESIGN §5) as text; empty for none.
    filter: String,
    /// Where the builder reads the count and the join/leave preview.
    preview_url: String,
    /// The saved count, on an edit.
    saved_count: Option<u64>,
    /// The path and message of the error of the last submit.
    error: Option<(String, String)>,
}

impl FormPage {
    /// The error for input `name`, if the last submit failed there.
    fn error_for(&self, name: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(path, _)| path == name)
            .map(|(_, m)| m.as_str())
    }

    /// The filter's error: the path inside the filter (empty for the whole) and the
    /// message.
    fn filter_error(&self) -> Option<(&str, &str)> {
        let (path, message) = self.error.as_ref()?;
        let inner = if path == "filter" {
            ""
        } else {
            path.strip_prefix("filter.")?
        };
        Some((inner, message.as_str()))
    }

    /// An error not tied to one input (a name taken, a stale edit).
    fn general_error(&self) -> Option<&str> {
        let (path, message) = self.error.as_ref()?;
        let placed = path == "name" || path == "kind" || self.filter_error().is_some();
        (!placed).then_some(message.as_str())
    }

    fn is_dynamic(&self) -> bool {
        self.kind != SegmentKind::Static.as_str()
    }
}

/// The form's page, with `error` (from a submit) shown where it belongs.
fn form_page(mut page: FormPage, error: Option<Error>) -> Result<Response, PageError> {
    let status = match &error {
        Some(e) => crate::error::classify(e).0,
        None => StatusCode::OK,
    };
    match error {
        None => {}
        Some(Error::Validation { path, message }) => page.error = Some((path, message)),
        Some(e @ (Error::Db(_) | Error::Internal(_) | Error::Forbidden(_) | Error::NotFound { .. })) => {
            return Err(PageError::Core(e));
        }
        Some(other) => page.error = Some((String::new(), crate::error::public_message(&other))),
    }
    Ok((status, render(&page)?).into_response())
}

fn new_page(user: &SessionUser, name: String, kind: String, filter: String) -> FormPage {
    FormPage {
        nav: Nav::new(user, "segments"),
        title: "New segment".into(),
        action: urls::SEGMENTS.into(),
        cancel_url: urls::SEGMENTS.into(),
        editing: false,
        name,
        kind,
        filter,
        preview_url: urls::SEGMENT_PREVIEW.into(),
        saved_count: None,
        error: None,
    }
}

/// The new-segment form; `?filter=` prefills its filter, as "Save as segment" on the
/// contacts page sends it. (The contacts page's full-text search is not a filter
/// condition, so it is not carried over; the contacts page says so next to the button.)
async fn new_form(user: SessionUser, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let pairs = query_pairs(query.as_deref());
    let filter = param(&pairs, "filter").unwrap_or_default().trim().to_owned();
    form_page(new_page(&user, String::new(), "dynamic".into(), filter), None)
}

/// The filter of a submitted form: `None` when blank.
fn submitted_filter(form: &FormData) -> Result<Option<Value>, Error> {
    match parse_json(&form.text("filter"))? {
        Value::Null => Ok(None),
        json => Ok(Some(json)),
    }
}

async fn create(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let kind = form.text("kind");
    let result = async {
        let filter = if kind == SegmentKind::Static.as_str() {
            None
        } else {
            submitted_filter(&form)?
        };
        let draft = SegmentDraft {
            name: form.text("name"),
            kind: kind.clone(),
            filter,
        };
        state.core.segments().create_segment(&user.actor, draft).await
    }
    .await;
    match result {
        Ok(segment) => Ok(flash::redirect(
            &state,
            &urls::segment(segment.id),
            &format!("Created the segment “{}”.", segment.name),
        )),
        Err(e) => form_page(new_page(&user, form.text("name"), kind, form.text("filter")), Some(e)),
    }
}

fn edit_page(user: &SessionUser, segment: &Segment, name: String, filter: String) -> FormPage {
    FormPage {
        nav: Nav::new(user, "segments"),
        title: format!("Edit {}", segment.name),
        action: urls::edit_segment(segment.id),
        cancel_url: urls::segment(segment.id),
        editing: true,
        name,
        kind: segment.kind.as_str().into(),
        filter,
        preview_url: urls::segment_preview(segment.id),
        saved_count: Some(segment.count),
        error: None,
    }
}

fn filter_text(segment: &Segment) -> String {
    segment.filter.as_ref().map(Value::to_string).unwrap_or_default()
}

async fn edit_form(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let segment = state.core.segments().get_segment(&user.actor, parse_id(&id)?).await?;
    let page = edit_page(&user, &segment, segment.name.clone(), filter_text(&segment));
    form_page(page, None)
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let id = parse_id(&id)?;
    let segment = state.core.segments().get_segment(&user.actor, id).await?;
    let result = async {
        // An unchanged filter is not sent, so saving a new name doesn't rebuild.
        let filter = match segment.kind {
            SegmentKind::Dynamic => match submitted_filter(&form)? {
                None => return Err(Error::invalid("filter", "a dynamic segment needs a filter")),
                Some(f) if Some(&f) == segment.filter.as_ref() => None,
                Some(f) => Some(f),
            },
            SegmentKind::Static => None,
        };
        let patch = SegmentPatch {
            name: Some(form.text("name")),
            filter,
        };
        state.core.segments().update_segment(&user.actor, id, patch).await
    }
    .await;
    match result {
        Ok(saved) => Ok(flash::redirect(
            &state,
            &urls::segment(id),
            &format!("Saved the segment “{}”.", saved.name),
        )),
        Err(e) => form_page(
            edit_page(&user, &segment, form.text("name"), form.text("filter")),
            Some(e),
        ),
    }
}

/// The builder's count with the join/leave preview, for the filter in `?filter=`;
/// errors inside the filter have paths relative to it, like the contacts count.
async fn preview_json(
    state: &AppState,
    user: SessionUser,
    segment: Option<i64>,
    query: Option<&str>,
) -> Result<Json<PreviewOut>, ApiError> {
    let pairs = query_pairs(query);
    let filter = parse_json(param(&pairs, "filter").unwrap_or_default())?;
    match state
        .core
        .segments()
        .preview_segment(&user.actor, segment, &filter)
        .await
    {
        Ok(preview) => Ok(Json(preview.into())),
        Err(Error::Validation { path, message }) => {
            let path = match path.as_str() {
                "filter" => String::new(),
                p => p.strip_prefix("filter.").map_or(path.clone(), str::to_owned),
            };
            Err(ApiError(Error::Validation { path, message }))
        }
        Err(e) => Err(e.into()),
    }
}

async fn preview_new(
    State(state): State<AppState>,
    user: Result<SessionUser, PageError>,
    RawQuery(query): RawQuery,
) -> Result<Json<PreviewOut>, ApiError> {
    preview_json(&state, session(user)?, None, query.as_deref()).await
}

async fn preview_saved(
    State(state): State<AppState>,
    user: Result<SessionUser, PageError>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PreviewOut>, ApiError> {
    let user = session(user)?;
    let id = crate::api::json::path_id(&id, "segment")?;
    preview_json(&state, user, Some(id), query.as_deref()).await
}
