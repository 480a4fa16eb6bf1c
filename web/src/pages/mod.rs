//! The HTML pages. One module per area, one template struct per page; handlers extract,
//! call one `core` service and render.

pub mod actions;
pub mod card_layouts;
pub mod company_picker;
pub mod contact_card;
pub mod contact_filter;
pub mod contact_form;
pub mod contact_history;
pub mod contact_lists;
pub mod contact_scores;
pub mod contact_segments;
pub mod contact_types;
pub mod contact_views;
pub mod contacts;
pub mod fields;
pub mod flash;
pub mod form_errors;
pub mod imports;
pub mod job_page;
pub mod jobs;
pub mod mail;
pub mod plugins;
pub mod schema_form;
pub mod scoring;
pub mod scoring_form;
pub mod segment_chart;
pub mod segment_export;
pub mod segment_page;
pub mod segments;
pub mod session;
pub mod tasks;
pub mod users;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::{ListQuery, Sort, SortKey};

use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::{PageError, render};
use crate::urls;

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::HOME, get(dashboard))
        .route(urls::LOGIN, get(session::login_form).post(session::login))
        .route(urls::LOGOUT, get(session::logout_page).post(session::logout))
        .merge(contacts::routes())
        .merge(contact_filter::routes())
        .merge(contact_lists::routes())
        .merge(segment_export::routes())
        .merge(contact_types::routes())
        .merge(card_layouts::routes())
        .merge(fields::routes())
        .merge(plugins::routes())
        .merge(segments::routes())
        .merge(scoring::routes())
        .merge(actions::routes())
        .merge(jobs::routes())
        .merge(imports::routes())
        .merge(tasks::routes())
        .merge(mail::routes())
        .merge(users::routes())
        .route(urls::ASSETS_HTMX, get(htmx_js))
}

/// htmx, served from the binary (no CDN).
async fn htmx_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/htmx.min.js"),
    )
}

/// What the layout needs on every page: who is signed in, the CSRF token for the sign-out
/// form, and which section is current.
#[derive(Debug, Clone)]
pub struct Nav {
    pub email: String,
    pub role: &'static str,
    pub is_admin: bool,
    /// Whether the user may run bulk actions and see jobs (admins and managers).
    pub may_run_actions: bool,
    pub csrf_token: String,
    pub section: &'static str,
}

impl Nav {
    /// The navigation for `user` in `section`.
    pub fn new(user: &SessionUser, section: &'static str) -> Self {
        Nav {
            email: user.actor.email.clone(),
            role: user.actor.role.as_str(),
            is_admin: user.actor.is_admin(),
            may_run_actions: user.actor.may_change_segments(),
            csrf_token: user.csrf_token.clone(),
            section,
        }
    }

    /// Whether `section` is the current one (for the navigation's highlight).
    pub fn is(&self, section: &str) -> bool {
        self.section == section
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    total: u64,
    rows: Vec<contacts::Row>,
    show_demo_hint: bool,
}

async fn dashboard(State(state): State<AppState>, user: SessionUser) -> Result<Html<String>, PageError> {
    let actor: &Actor = &user.actor;
    let total = state.core.contacts().count_contacts(actor).await?;
    let query = ListQuery {
        sort: Sort {
            key: SortKey::CreatedAt,
            descending: true,
        },
        limit: 10,
        after: None,
    };
    let page = state.core.contacts().list_contacts(actor, &query).await?;
    let tree = state.core.schema().type_tree().await?;
    let rows = page.items.iter().map(|c| contacts::Row::new(c, &tree)).collect();
    render(&DashboardPage {
        nav: Nav::new(&user, "home"),
        total,
        rows,
        show_demo_hint: total == 0 && actor.is_admin(),
    })
}

/// The answer for a path no route matches.
pub async fn not_found() -> Response {
    let page = PageError::Core(kartoteka_core::Error::NotFound { what: "page" });
    let mut response = page.into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
