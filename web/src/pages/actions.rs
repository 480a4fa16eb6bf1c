//! Running a bulk action from the pages: on a segment's members (the segment page's
//! Actions section) or on contacts from the contacts table (the ticked rows, or every
//! result of the current filter and search). Admins and managers only, as `core` says.
//!
//! The page picks an action of [`kartoteka_core::jobs::Jobs::actions`], then shows a form
//! for its parameters made from their JSON Schema ([`super::schema_form`]) with two
//! buttons, "Dry run" and "Run". A started job leads to its page; a refused one comes
//! back with every problem next to its input and the values typed kept.
//!
//! For a segment the picker is a GET form (`/segments/{id}/actions?action=`). From the
//! contacts table the selection travels in the form: the table's buttons post it to
//! [`urls::CONTACT_ACTIONS`], and the page carries it on in hidden inputs (`scope=selected`
//! with `contact_ids`, or `scope=all` with `filter` and `q`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::{ListQuery, SearchQuery};
use kartoteka_core::error::Problem;
use kartoteka_core::filter::ContactQuery;
use kartoteka_core::filter::tree::parse_json;
use kartoteka_core::jobs::{ActionRequest, Targets};
use kartoteka_core::plugin::ActionEntry;
use serde_json::json;

use super::Nav;
use super::contact_filter;
use super::contact_lists::{back_url, selected};
use super::contacts::Choice;
use super::flash;
use super::schema_form::ParamsForm;
use super::segments::parse_id;
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The routes of the action forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/segments/{id}/actions", get(segment_form).post(segment_start))
        .route(urls::CONTACT_ACTIONS, get(to_contacts).post(contacts_action))
}

/// A GET on the contacts' action address (a reload): the selection is gone, so the table.
async fn to_contacts() -> Redirect {
    Redirect::to(urls::CONTACTS)
}

/// How many ticked contacts the page names.
const NAMED: usize = 20;

/// What an action runs on.
#[derive(Debug, Clone)]
enum Scope {
    Segment {
        id: i64,
        name: String,
        count: u64,
    },
    /// Ticked contacts; `names` of the first [`NAMED`].
    Contacts {
        ids: Vec<i64>,
        names: Vec<String>,
    },
    /// Every contact matching the filter (its text as posted) and the search.
    Matching {
        filter: String,
        q: String,
        count: u64,
        sentence: String,
    },
}

impl Scope {
    async fn segment(state: &AppState, actor: &Actor, id: i64) -> Result<Self, Error> {
        let segment = state.core.segments().get_segment(actor, id).await?;
        Ok(Scope::Segment {
            id,
            name: segment.name,
            count: segment.count,
        })
    }

    /// The selection the contacts table (or this page) posted: `scope=selected` with the
    /// ticked ids, or `scope=all` with the table's `filter` and `q`.
    async fn posted(state: &AppState, actor: &Actor, form: &FormData) -> Result<Self, Error> {
        match form.get("scope").unwrap_or("selected") {
            "all" => {
                let filter = form.text("filter");
                let q = form.text("q");
                let prepared = contact_filter::prepare(state, &filter).await?;
                let query = ContactQuery {
                    filter: prepared,
                    search: SearchQuery::parse(&q)?,
                    page: ListQuery::default(),
                };
                let count = state.core.filter().count_query(actor, &query).await?;
                let json = parse_json(&filter)?;
                let sentence = if json.is_null() {
                    String::new()
                } else {
                    state.core.filter_describer(actor).await?.sentence(&json)
                };
                Ok(Scope::Matching {
                    filter,
                    q,
                    count,
                    sentence,
                })
            }
            "selected" => {
                let page = form.checked("all_on_page") && !form.all("page_ids").is_empty();
                if form.all("contact_ids").is_empty() && !page {
                    return Err(Error::invalid(
                        "contact_ids",
                        "Tick the contacts to run an action on first, or run it on all the results.",
                    ));
                }
                let mut ids = selected(form)?;
                ids.sort_unstable();
                ids.dedup();
                let shown: Vec<i64> = ids.iter().copied().take(NAMED).collect();
                let found = state.core.contacts().contact_names(actor, &shown).await?;
                let names = shown.iter().filter_map(|id| found.get(id).cloned()).collect();
                Ok(Scope::Contacts { ids, names })
            }
            other => Err(Error::invalid(
                "scope",
                format!("expected `selected` or `all`, got `{other}`"),
            )),
        }
    }

    /// The targets for `core`.
    fn targets(&self) -> Result<Targets, Error> {
        Ok(match self {
            Scope::Segment { id, .. } => Targets::Segment(*id),
            Scope::Contacts { ids, .. } => Targets::Contacts(ids.clone()),
            Scope::Matching { filter, q, .. } => {
                let filter = parse_json(filter)?;
                Targets::Matching {
                    filter: if filter.is_null() { json!({}) } else { filter },
                    q: Some(q.clone()).filter(|q| !q.trim().is_empty()),
                }
            }
        })
    }

    /// What it runs on, in words.
    fn text(&self) -> String {
        let contacts = |n: u64| {
            if n == 1 {
                "1 contact".to_owned()
            } else {
                format!("{n} contacts")
            }
        };
        match self {
            Scope::Segment { name, count, .. } => {
                format!("the members of the segment “{name}” ({})", contacts(*count))
            }
            Scope::Contacts { ids, names } => {
                let mut text = format!("the {} ticked: {}", contacts(ids.len() as u64), names.join(", "));
                if ids.len() > names.len() {
                    text.push_str(&format!(" and {} more", ids.len() - names.len()));
                }
                text
            }
            Scope::Matching { q, count, sentence, .. } => {
                let mut text = format!("all {}", contacts(*count));
                if !sentence.is_empty() {
                    text.push_str(&format!(" matching the filter “{sentence}”"));
                }
                if !q.trim().is_empty() {
                    text.push_str(&format!(" found by the search “{}”", q.trim()));
                }
                if sentence.is_empty() && q.trim().is_empty() {
                    text.push_str(" you see");
                }
                text
            }
        }
    }

    /// Up to [`NAMED`] contacts of the scope, to render a preview for: (id, name).
    async fn first_contacts(&self, state: &AppState, actor: &Actor) -> Result<Vec<(i64, String)>, Error> {
        let page = ListQuery {
            limit: NAMED as u64,
            ..ListQuery::default()
        };
        let contacts = match self {
            Scope::Segment { id, .. } => {
                let query = ContactQuery {
                    filter: None,
                    search: None,
                    page,
                };
                state.core.segments().segment_members(actor, *id, &query).await?.items
            }
            Scope::Contacts { ids, .. } => {
                let shown: Vec<i64> = ids.iter().copied().take(NAMED).collect();
                state.core.contacts().get_contacts(actor, &shown).await?
            }
            Scope::Matching { filter, q, .. } => {
                let query = ContactQuery {
                    filter: contact_filter::prepare(state, filter).await?,
                    search: SearchQuery::parse(q)?,
                    page,
                };
                state.core.filter().query_contacts(actor, &query).await?.items
            }
        };
        Ok(contacts
            .into_iter()
            .map(|c| {
                let label = match &c.email {
                    Some(e) if !e.is_empty() => format!("{} <{e}>", c.name),
                    _ => format!("{} (no e-mail)", c.name),
                };
                (c.id, label)
            })
            .collect())
    }

    /// The selection as hidden inputs of the contacts forms (none for a segment).
    fn hidden(&self, back: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match self {
            Scope::Segment { .. } => return out,
            Scope::Contacts { ids, .. } => {
                out.push(("scope".into(), "selected".into()));
                out.extend(ids.iter().map(|id| ("contact_ids".to_owned(), id.to_string())));
            }
            Scope::Matching { filter, q, .. } => {
                out.push(("scope".into(), "all".into()));
                out.push(("filter".into(), filter.clone()));
                out.push(("q".into(), q.clone()));
            }
        }
        out.push(("back".into(), back.to_owned()));
        out
    }
}

/// The chosen action and its parameters form.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub name: String,
    pub label: String,
    /// The kinds of effect it may have, in words.
    pub capabilities: String,
    pub form: ParamsForm,
    /// Whether it sends e-mail: the page offers a preview and a test message.
    pub sends_mail: bool,
}

/// A message rendered for one contact, before any run.
#[derive(Debug, Clone)]
pub struct ShownPreview {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl Chosen {
    fn new(entry: &ActionEntry) -> Self {
        Chosen {
            name: entry.name.clone(),
            label: entry.label.clone(),
            capabilities: entry
                .capabilities
                .iter()
                .map(|c| c.as_str().replace('_', " "))
                .collect::<Vec<_>>()
                .join(", "),
            form: ParamsForm::new(&entry.params_schema),
            sends_mail: entry
                .capabilities
                .contains(&kartoteka_core::plugin::values::Capability::SendEmail),
        }
    }
}

#[derive(Template)]
#[template(path = "actions/form.html")]
struct ActionPage {
    nav: Nav,
    /// What the action runs on, in words.
    target: String,
    back_url: String,
    back_label: String,
    /// The picker: a GET form for a segment, a POST form carrying the selection for
    /// contacts.
    pick_post: bool,
    pick_url: String,
    actions: Vec<Choice>,
    /// Where the parameters form posts.
    post_url: String,
    /// The selection, as hidden inputs of both forms (contacts only).
    hidden: Vec<(String, String)>,
    chosen: Option<Chosen>,
    /// Problems of the whole request (an action that isn't offered).
    errors: Vec<String>,
    /// The users, for inputs that take a user id.
    users: Vec<(i64, String)>,
    /// For an action that sends e-mail: contacts to preview it for, the one chosen, the
    /// rendered message, and what a test send did.
    preview_contacts: Vec<(i64, String)>,
    preview_contact: i64,
    preview: Option<ShownPreview>,
    notice: Option<String>,
}

/// What the page shows besides the form: a preview, a notice.
#[derive(Default)]
struct Extra {
    preview_contact: Option<i64>,
    preview: Option<ShownPreview>,
    notice: Option<String>,
}

/// Where the page leads back to and posts to, for `scope`.
struct Place {
    back_url: String,
    back_label: String,
    post_url: String,
}

impl Place {
    fn of(scope: &Scope, back: String) -> Self {
        match scope {
            Scope::Segment { id, name, .. } => Place {
                back_url: urls::segment(*id),
                back_label: format!("Back to “{name}”"),
                post_url: urls::segment_actions(*id, None),
            },
            _ => Place {
                back_url: back,
                back_label: "Back to the contacts".into(),
                post_url: urls::CONTACT_ACTIONS.into(),
            },
        }
    }
}

/// The action page for `scope`: the picker with `chosen` (its form as filled), or with
/// none; `errors` above.
async fn page(
    state: &AppState,
    user: &SessionUser,
    scope: &Scope,
    place: Place,
    chosen: Option<Chosen>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    page_with(state, user, scope, place, chosen, errors, Extra::default()).await
}

async fn page_with(
    state: &AppState,
    user: &SessionUser,
    scope: &Scope,
    place: Place,
    chosen: Option<Chosen>,
    errors: Vec<String>,
    extra: Extra,
) -> Result<Response, PageError> {
    let preview_contacts = if chosen.as_ref().is_some_and(|c| c.sends_mail) {
        scope.first_contacts(state, &user.actor).await?
    } else {
        Vec::new()
    };
    let preview_contact = extra
        .preview_contact
        .or_else(|| preview_contacts.first().map(|(id, _)| *id))
        .unwrap_or_default();
    let all = state.core.jobs().actions(&user.actor).await?;
    let selected = chosen.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let actions = all
        .iter()
        .map(|a| Choice {
            selected: a.name == selected,
            value: a.name.clone(),
            label: a.label.clone(),
        })
        .collect();
    let status = if errors.is_empty()
        && chosen
            .as_ref()
            .is_none_or(|c| c.form.errors.is_empty() && !has_field_errors(&c.form))
    {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let html = render(&ActionPage {
        nav: Nav::new(
            user,
            if matches!(scope, Scope::Segment { .. }) {
                "segments"
            } else {
                "contacts"
            },
        ),
        target: scope.text(),
        pick_post: !matches!(scope, Scope::Segment { .. }),
        pick_url: place.post_url.clone(),
        hidden: scope.hidden(&place.back_url),
        back_url: place.back_url,
        back_label: place.back_label,
        post_url: place.post_url,
        actions,
        chosen,
        errors,
        users: state.core.contacts().choosable_people(&user.actor, None).await?,
        preview_contacts,
        preview_contact,
        preview: extra.preview,
        notice: extra.notice,
    })?;
    Ok((status, html).into_response())
}

fn has_field_errors(form: &ParamsForm) -> bool {
    form.fields.iter().any(|f| match f {
        super::schema_form::Field::Input(i) => i.error.is_some(),
        super::schema_form::Field::Choice(c) => {
            c.error.is_some()
                || c.alternatives
                    .iter()
                    .any(|a| a.inputs.iter().any(|i| i.error.is_some()))
        }
    })
}

/// The action called `name` among those `actor` may run, or the problem to show.
async fn find_action(state: &AppState, actor: &Actor, name: &str) -> Result<Result<Chosen, String>, Error> {
    let all = state.core.jobs().actions(actor).await?;
    Ok(match all.iter().find(|a| a.name == name) {
        Some(entry) => Ok(Chosen::new(entry)),
        None if name.is_empty() => Err("Choose an action.".into()),
        None => Err(format!("There is no action “{name}” you may run.")),
    })
}

/// `GET /segments/{id}/actions?action=`: the picker, and the chosen action's form.
async fn segment_form(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let id = parse_id(&id)?;
    let scope = Scope::segment(&state, &user.actor, id).await?;
    let pairs = query_pairs(query.as_deref());
    let name = param(&pairs, "action").unwrap_or_default().trim();
    let (chosen, errors) = if name.is_empty() {
        (None, Vec::new())
    } else {
        match find_action(&state, &user.actor, name).await? {
            Ok(chosen) => (Some(chosen), Vec::new()),
            Err(message) => (None, vec![message]),
        }
    };
    page(&state, &user, &scope, Place::of(&scope, String::new()), chosen, errors).await
}

/// `POST /segments/{id}/actions`: starts the action on the segment.
async fn segment_start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let id = parse_id(&id)?;
    let scope = Scope::segment(&state, &user.actor, id).await?;
    start(&state, &user, &scope, Place::of(&scope, String::new()), &form).await
}

/// `POST /contacts/actions`: from the contacts table (the selection, no `run`), the
/// picker (`action`, no `run`), or the parameters form (`run=dry` or `run=real`).
async fn contacts_action(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let back = back_url(&form);
    let scope = match Scope::posted(&state, &user.actor, &form).await {
        Ok(scope) => scope,
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            return Ok(flash::redirect(&state, &back, &crate::error::public_message(&e)));
        }
        Err(e) => return Err(e.into()),
    };
    let place = Place::of(&scope, back);
    if form.get("run").is_some_and(|r| !r.is_empty()) {
        return start(&state, &user, &scope, place, &form).await;
    }
    let name = form.text("action");
    let (chosen, errors) = if name.is_empty() {
        (None, Vec::new())
    } else {
        match find_action(&state, &user.actor, &name).await? {
            Ok(chosen) => (Some(chosen), Vec::new()),
            Err(message) => (None, vec![message]),
        }
    };
    page(&state, &user, &scope, place, chosen, errors).await
}

/// Starts the posted action on `scope`: to the job's page, or back to the form with every
/// problem.
async fn start(
    state: &AppState,
    user: &SessionUser,
    scope: &Scope,
    place: Place,
    form: &FormData,
) -> Result<Response, PageError> {
    let mut chosen = match find_action(state, &user.actor, &form.text("action")).await? {
        Ok(chosen) => chosen,
        Err(message) => return page(state, user, scope, place, None, vec![message]).await,
    };
    chosen.form.fill(form);
    let dry_run = form.get("run") != Some("real");
    let params = match chosen.form.params() {
        Ok(params) => params,
        Err(_) => return page(state, user, scope, place, Some(chosen), Vec::new()).await,
    };
    if let Some(what @ ("preview" | "test")) = form.get("run") {
        return try_message(state, user, scope, place, chosen, form, params, what).await;
    }
    let request = ActionRequest {
        action: chosen.name.clone(),
        params: Some(params),
        dry_run,
        targets: scope.targets()?,
    };
    match state.core.jobs().start(&user.actor, request).await {
        Ok(job) => {
            let what = if dry_run { "a dry run of" } else { "" };
            let message = format!(
                "Started {what} “{}” on {} {}.",
                chosen.label,
                job.total,
                if job.total == 1 { "contact" } else { "contacts" }
            )
            .replace("  ", " ");
            Ok(flash::redirect(state, &urls::job(job.id), &message))
        }
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            let problems: Vec<Problem> = e.problems();
            chosen.form.show(problems);
            page(state, user, scope, place, Some(chosen), Vec::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// "Preview" and "Send me a test" of an action that sends e-mail: the message rendered
/// for the chosen contact, shown on the page, or queued to the user's own address.
#[allow(clippy::too_many_arguments)]
async fn try_message(
    state: &AppState,
    user: &SessionUser,
    scope: &Scope,
    place: Place,
    mut chosen: Chosen,
    form: &FormData,
    params: serde_json::Value,
    what: &str,
) -> Result<Response, PageError> {
    let contact = match form.text("preview_contact").trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            let errors = vec!["Choose a contact to render the message for.".to_owned()];
            return page(state, user, scope, place, Some(chosen), errors).await;
        }
    };
    let mut extra = Extra {
        preview_contact: Some(contact),
        ..Extra::default()
    };
    let jobs = state.core.jobs();
    let answer = if what == "test" {
        jobs.send_test(&user.actor, &chosen.name, Some(&params), contact)
            .await
            .map(|_| {
                extra.notice = Some(format!(
                    "A test message is on its way to {} (see the Outbox).",
                    user.actor.email
                ));
            })
    } else {
        jobs.preview(&user.actor, &chosen.name, Some(&params), contact)
            .await
            .map(|effects| {
                extra.preview = effects.into_iter().find_map(|e| match e.effect {
                    kartoteka_core::plugin::values::EffectKind::SendEmail {
                        to,
                        subject,
                        html,
                        text,
                    } => Some(ShownPreview {
                        to,
                        subject,
                        html,
                        text,
                    }),
                    _ => None,
                });
                if extra.preview.is_none() {
                    extra.notice =
                        Some("The action makes no message for this contact (has it an e-mail address?).".into());
                }
            })
    };
    match answer {
        Ok(()) => page_with(state, user, scope, place, Some(chosen), Vec::new(), extra).await,
        Err(e @ (Error::Validation { .. } | Error::Invalid(_) | Error::Conflict { .. } | Error::NotFound { .. })) => {
            let problems: Vec<Problem> = e.problems();
            let general: Vec<String> = problems
                .iter()
                .filter(|p| !p.path.starts_with("params"))
                .map(|p| {
                    if p.path.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}: {}", p.path, p.message)
                    }
                })
                .collect();
            chosen.form.show(problems);
            page_with(state, user, scope, place, Some(chosen), general, extra).await
        }
        Err(e) => Err(e.into()),
    }
}
