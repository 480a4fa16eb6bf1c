//! Static lists from a contacts table: tick rows (or the whole page) and add them to a
//! list, add every result of the current filter and search in one go, remove a row from
//! the list a table shows.
//!
//! All of it works without JavaScript. The row checkboxes are inputs of the add form
//! through their `form` attribute, so the table needs no enclosing form and a row may hold
//! a form of its own (remove). "Select all on this page" is an input too: ticked, the form
//! sends the page's ids (hidden inputs beside it), so the server adds the whole page;
//! `assets/table-select.js`, when it runs, only ticks the row boxes to match.
//!
//! The forms post here with the session's CSRF token; the answer is a redirect back to
//! the table (the `back` input, a local path) with a one-time message ([`super::flash`]):
//! "12 added to Newsletter, 3 were already in it". Only admins and managers get the
//! controls, and `core` refuses the change for anyone else.
//!
//! For a template that includes `contacts/_table.html`, two optional variables:
//! `table_select: Option<TableSelect>` (the checkbox column) and `table_remove:
//! Option<TableRemove>` (a Remove button per row). A template without them gets the
//! plain table.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::filter::tree::parse_json;
use kartoteka_core::segments::lists::{Added, Addition};

use super::flash;
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData};
use crate::error::PageError;
use crate::urls;

/// The routes of the list forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::ADD_TO_LIST, get(to_contacts).post(add))
        .route(urls::REMOVE_FROM_LIST, get(to_contacts).post(remove))
}

/// A GET on a list form's address (a reload, Enter in the address bar): the contacts.
async fn to_contacts() -> Redirect {
    Redirect::to(urls::CONTACTS)
}

/// The id of the contacts page's add form, which its checkboxes belong to.
pub const ADD_FORM: &str = "list-add";

/// The checkbox column of `contacts/_table.html`: one box per row and one for the page,
/// all inputs of the form with id `form`.
#[derive(Debug, Clone)]
pub struct TableSelect {
    pub form: &'static str,
}

/// A Remove button on each row of `contacts/_table.html`, for the static list
/// `segment_id` the table shows; the page comes back to `back`.
#[derive(Debug, Clone)]
pub struct TableRemove {
    pub action: &'static str,
    pub segment_id: i64,
    pub back: String,
}

impl TableRemove {
    /// The Remove buttons for static list `segment_id` on a page at `back`.
    pub fn new(segment_id: i64, back: String) -> Self {
        TableRemove {
            action: urls::REMOVE_FROM_LIST,
            segment_id,
            back,
        }
    }
}

/// The add-to-list form above a contacts table.
#[derive(Debug, Clone)]
pub struct ListTools {
    /// The form's id (the checkboxes' `form`).
    pub form: &'static str,
    pub action: &'static str,
    /// Where to come back to (the table as it is now, page included).
    pub back: String,
    /// The static lists: (id, name).
    pub lists: Vec<(i64, String)>,
}

impl ListTools {
    /// The table's checkbox column for this form.
    pub fn select(&self) -> TableSelect {
        TableSelect { form: self.form }
    }
}

/// The add form for a table at `back`, for an admin or a manager; `None` for others.
pub async fn tools(state: &AppState, actor: &Actor, back: String) -> Result<Option<ListTools>, Error> {
    if !actor.may_change_segments() {
        return Ok(None);
    }
    Ok(Some(ListTools {
        form: ADD_FORM,
        action: urls::ADD_TO_LIST,
        back,
        lists: state.core.segments().static_lists().await?,
    }))
}

/// The page to come back to: the posted `back` when it is a path of this site, else the
/// contacts page.
pub(super) fn back_url(form: &FormData) -> String {
    form.get("back")
        .filter(|b| {
            b.starts_with('/')
                && !b.starts_with("//")
                && !b.starts_with("/\\")
                && !b.chars().any(|c| c.is_control() || c.is_whitespace())
        })
        .unwrap_or(urls::CONTACTS)
        .to_owned()
}

/// The list chosen in the form (`segment`).
fn list_id(form: &FormData) -> Result<i64, Error> {
    match form.get("segment").filter(|v| !v.is_empty()) {
        None => Err(Error::invalid("segment", "choose a list")),
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid("segment", format!("`{v}` is not a list"))),
    }
}

/// The ids of the inputs called `name`, each a contact id (errors at `name[i]`).
fn ids(form: &FormData, name: &str) -> Result<Vec<i64>, Error> {
    form.all(name)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.trim()
                .parse()
                .map_err(|_| Error::invalid(format!("{name}[{i}]"), format!("`{v}` is not a contact id")))
        })
        .collect()
}

/// The contacts the form selected: the ticked rows, and the whole page when "select all
/// on this page" is ticked.
pub(super) fn selected(form: &FormData) -> Result<Vec<i64>, Error> {
    let mut out = ids(form, "contact_ids")?;
    if form.checked("all_on_page") {
        out.extend(ids(form, "page_ids")?);
    }
    if out.is_empty() {
        return Err(Error::invalid(
            "contact_ids",
            "tick the contacts to add first (or add all the results)",
        ));
    }
    Ok(out)
}

/// "12 added to Newsletter, 3 were already in it".
fn added_message(added: Added, list: &str) -> String {
    let mut message = format!("{} added to {list}", added.joined);
    match added.already {
        0 => {}
        1 => message.push_str(", 1 was already in it"),
        n => message.push_str(&format!(", {n} were already in it")),
    }
    message
}

fn redirect(state: &AppState, back: &str, message: &str) -> Response {
    let mut response = Redirect::to(back).into_response();
    flash::set(state, &mut response, message, back);
    response
}

/// Adds the ticked contacts (`scope=selected`) or every contact matching the posted
/// `filter` and `q` (`scope=all`) to the list `segment`.
async fn add(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let back = back_url(&form);
    let list = list_id(&form)?;
    let added = match form.get("scope").unwrap_or("selected") {
        "all" => {
            let filter = parse_json(form.get("filter").unwrap_or_default())?;
            let q = form.get("q").unwrap_or_default();
            let what = Addition::Matching {
                filter: &filter,
                q: Some(q),
            };
            state.core.segments().add_to_list(&user.actor, list, what).await?
        }
        "selected" => {
            let ids = selected(&form)?;
            state
                .core
                .segments()
                .add_to_list(&user.actor, list, Addition::Ids(&ids))
                .await?
        }
        other => {
            return Err(Error::invalid("scope", format!("expected `selected` or `all`, got `{other}`")).into());
        }
    };
    let name = state.core.segments().get_segment(&user.actor, list).await?.name;
    Ok(redirect(&state, &back, &added_message(added, &name)))
}

/// Removes the posted contacts from the list `segment`.
async fn remove(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let back = back_url(&form);
    let list = list_id(&form)?;
    let ids = ids(&form, "contact_ids")?;
    if ids.is_empty() {
        return Err(Error::invalid("contact_ids", "say which contacts to remove").into());
    }
    let done = state
        .core
        .segments()
        .remove_segment_members(&user.actor, list, &ids)
        .await?;
    let name = state.core.segments().get_segment(&user.actor, list).await?.name;
    Ok(redirect(&state, &back, &format!("{} removed from {name}", done.left)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_happened() {
        let m = |joined, already| added_message(Added { joined, already }, "Newsletter");
        assert_eq!(m(12, 3), "12 added to Newsletter, 3 were already in it");
        assert_eq!(m(0, 1), "0 added to Newsletter, 1 was already in it");
        assert_eq!(m(5, 0), "5 added to Newsletter");
    }

    #[test]
    fn only_local_paths_are_followed_back() {
        let back = |b: &str| back_url(&FormData::parse(format!("back={}", urls::encode(b)).as_bytes()));
        assert_eq!(back("/contacts?sort=name&q=x"), "/contacts?sort=name&q=x");
        assert_eq!(back("/segments/3"), "/segments/3");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a b",
        ] {
            assert_eq!(back(bad), urls::CONTACTS, "{bad}");
        }
    }
}
