//! The page URLs, in one place: templates and redirects use these instead of literals.

/// Percent-encodes `s` for a query string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub const HOME: &str = "/";
pub const LOGIN: &str = "/login";
pub const LOGOUT: &str = "/logout";
pub const CONTACTS: &str = "/contacts";
pub const NEW_CONTACT: &str = "/contacts/new";
/// The export of the contacts page's view (`format=csv|xlsx` and the page's state).
pub const CONTACTS_EXPORT: &str = "/contacts/export";
/// Saving the contacts page's state as a view.
pub const CONTACT_VIEWS: &str = "/contacts/views";
pub const CONTACT_TYPES: &str = "/contact-types";
/// Where the contact types page's "default type" form posts (a hyphen can't be in a type key).
pub const DEFAULT_CONTACT_TYPE: &str = "/contact-types/default-type";
pub const FIELDS: &str = "/fields";
pub const PLUGINS: &str = "/plugins";
pub const IMPORTS: &str = "/imports";
pub const SEGMENTS: &str = "/segments";
pub const NEW_SEGMENT: &str = "/segments/new";
/// The segment form's count and join/leave preview for a new segment (JSON).
pub const SEGMENT_PREVIEW: &str = "/segments/preview";
pub const ASSETS_CSS: &str = "/assets/app.css";
/// The icon pages link to (SVG).
pub const ASSETS_FAVICON: &str = "/assets/favicon.svg";
/// Where browsers look for an icon by themselves; the same SVG.
pub const FAVICON_ICO: &str = "/favicon.ico";
pub const ASSETS_FILTER_BUILDER: &str = "/assets/filter-builder.js";
/// "Select all on this page" of the contacts table.
pub const ASSETS_TABLE_SELECT: &str = "/assets/table-select.js";
/// Where the contacts table's add-to-list form posts.
pub const ADD_TO_LIST: &str = "/contacts/add-to-list";
/// Where a contacts table's remove-from-list buttons post.
pub const REMOVE_FROM_LIST: &str = "/contacts/remove-from-list";
pub const ASSETS_SEGMENT_FORM: &str = "/assets/segment-form.js";
/// The contact form's field switching and company picker.
pub const ASSETS_CONTACT_FORM: &str = "/assets/contact-form.js";
/// htmx, for the pages' live parts (job progress, the tasks' Done buttons).
pub const ASSETS_HTMX: &str = "/assets/htmx.min.js";
/// Bulk-action jobs: progress, cancel, resume (admins and managers).
pub const JOBS: &str = "/jobs";
/// The signed-in user's tasks.
pub const TASKS: &str = "/tasks";
/// Scoring models (admins).
pub const SCORING: &str = "/scoring";
pub const NEW_SCORING_MODEL: &str = "/scoring/new";
/// The editor's what-if for a model not saved yet.
pub const SCORING_WHAT_IF: &str = "/scoring/what-if";
/// Users and roles (admins).
pub const USERS: &str = "/users";
/// The signed-in user's own password.
pub const ACCOUNT_PASSWORD: &str = "/account/password";
/// The Outbox (admins).
pub const OUTBOX: &str = "/outbox";
/// Where the contacts table's "run an action" buttons post (ticked rows or all results).
pub const CONTACT_ACTIONS: &str = "/contacts/actions";
/// The company picker's search (JSON, session-authenticated): `?q=` words.
pub const COMPANY_SEARCH: &str = "/contacts/companies";
/// The filter builder's catalogue (JSON, session-authenticated).
pub const CONTACT_FILTER_FIELDS: &str = "/contacts/filter-fields";
/// The filter builder's live count (JSON, session-authenticated).
pub const CONTACT_COUNT: &str = "/contacts/count";

/// The card layout editor of contact type `key`.
pub fn type_layout(key: &str) -> String {
    format!("/contact-types/{}/layout", encode(key))
}

/// A contact's card.
pub fn contact(id: i64) -> String {
    format!("/contacts/{id}")
}

/// A contact's edit form.
pub fn edit_contact(id: i64) -> String {
    format!("/contacts/{id}/edit")
}

/// Where a contact's delete form posts.
pub fn delete_contact(id: i64) -> String {
    format!("/contacts/{id}/delete")
}

/// Where a contact's "log an activity" form posts.
pub fn contact_activities(id: i64) -> String {
    format!("/contacts/{id}/activities")
}

/// A segment's page.
pub fn segment(id: i64) -> String {
    format!("/segments/{id}")
}

/// The new-segment form, prefilled with `filter` (the filter JSON as text): "Save as
/// segment" on the contacts page.
pub fn new_segment_from(filter: &str) -> String {
    format!("{NEW_SEGMENT}?filter={}", encode(filter))
}

/// A field's edit page.
pub fn field(key: &str) -> String {
    format!("/fields/{}", encode(key))
}

/// A contact type's edit page.
pub fn contact_type(key: &str) -> String {
    format!("/contact-types/{}", encode(key))
}

/// Where a plugin's `action` form (approve, enable, disable, remove) posts.
pub fn plugin_action(name: &str, action: &str) -> String {
    format!("/plugins/{}/{action}", encode(name))
}

/// A segment's edit form.
pub fn edit_segment(id: i64) -> String {
    format!("/segments/{id}/edit")
}

/// Where a segment's delete form posts.
pub fn delete_segment(id: i64) -> String {
    format!("/segments/{id}/delete")
}

/// The edit form's count and join/leave preview against segment `id` (JSON).
pub fn segment_preview(id: i64) -> String {
    format!("/segments/{id}/preview")
}

/// A segment's members as CSV.
pub fn segment_export(id: i64) -> String {
    format!("/segments/{id}/export.csv")
}

/// A job's page.
pub fn job(id: i64) -> String {
    format!("/jobs/{id}")
}

/// Where a job's `action` form (cancel, resume, run) posts.
pub fn job_action(id: i64, action: &str) -> String {
    format!("/jobs/{id}/{action}")
}

/// A segment's action form; with `action`, that action's parameters.
pub fn segment_actions(id: i64, action: Option<&str>) -> String {
    match action {
        Some(a) => format!("/segments/{id}/actions?action={}", encode(a)),
        None => format!("/segments/{id}/actions"),
    }
}

/// Where a user's `action` form (role, status, password) posts on the users page.
pub fn user_action(id: i64, action: &str) -> String {
    format!("/users/{id}/{action}")
}

/// Where a task's `action` form (done, reopen) posts.
pub fn task_action(id: i64, action: &str) -> String {
    format!("/tasks/{id}/{action}")
}

/// Where a contact's "add a task" form posts.
pub fn contact_tasks(id: i64) -> String {
    format!("/contacts/{id}/tasks")
}

/// A scoring model's editor (its form posts here too).
pub fn scoring_model(id: i64) -> String {
    format!("/scoring/{id}")
}

/// A what-if's progress, then the form with its answer.
pub fn scoring_what_if_run(run: u64) -> String {
    format!("/scoring/what-ifs/{run}")
}

/// Where a scoring model's `action` form (what-if, rescore, delete) posts.
pub fn scoring_action(id: i64, action: &str) -> String {
    format!("/scoring/{id}/{action}")
}

/// An import's page.
pub fn import(id: i64) -> String {
    format!("/imports/{id}")
}
