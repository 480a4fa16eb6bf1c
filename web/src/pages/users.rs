//! Users and roles (admins): the table of accounts with each one's role, status and
//! creation date, the form to add a user, and per user the forms to change the role,
//! deactivate or reactivate, and set a new password. And "Change password" for every
//! signed-in user.
//!
//! Every form posts with the session's CSRF token and answers with a redirect and a
//! message when it did what it asked; refused input shows the page again with the
//! messages next to the inputs (the add form's at its fields, a row form's in its row).
//! The rules are `kartoteka_core::users`'.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::auth::{Role, User};
use kartoteka_core::users::{NewUser, UserPatch};

use super::Nav;
use super::contacts::Choice;
use super::flash::{self, Flash};
use super::form_errors;
use crate::app::AppState;
use crate::auth::{CheckedForm, ClientAddr, SESSION_COOKIE, SessionUser, cookie};
use crate::error::{PageError, classify, render};
use crate::urls;

/// The users routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::USERS, get(list).post(create))
        .route("/users/{id}/{action}", get(to_users).post(change))
        .route(urls::ACCOUNT_PASSWORD, get(password_form).post(change_password))
}

/// A GET on a row form's address (a reload): the users page.
async fn to_users() -> Redirect {
    Redirect::to(urls::USERS)
}

/// A user as a row, with its forms' addresses.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub active: bool,
    /// `YYYY-MM-DD`.
    pub created: String,
    /// `YYYY-MM-DD` when deactivated.
    pub deactivated: String,
    pub roles: Vec<Choice>,
    pub role_url: String,
    pub status_url: String,
    pub password_url: String,
    /// Whether it is the signed-in admin.
    pub is_me: bool,
    /// What a form of this row was refused with.
    pub error: Option<String>,
}

/// The add form, empty or as posted with its problems.
#[derive(Debug, Clone, Default)]
pub struct AddForm {
    pub name: String,
    pub email: String,
    pub roles: Vec<Choice>,
    /// `(input, message)`.
    pub errors: Vec<(String, String)>,
}

impl AddForm {
    fn new(role: &str) -> Self {
        AddForm {
            roles: role_choices(role),
            ..AddForm::default()
        }
    }

    /// The messages at input `name`.
    pub fn error_for(&self, name: &str) -> Option<String> {
        form_errors::at(&self.errors, name)
    }

    /// The problems not tied to an input.
    pub fn general_errors(&self) -> Vec<String> {
        form_errors::elsewhere(&self.errors, &["name", "email", "role", "password"])
    }
}

fn role_choices(selected: &str) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: r.as_str().to_owned(),
            selected: r.as_str() == selected,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    nav: Nav,
    notice: Option<String>,
    rows: Vec<UserRow>,
    active_count: usize,
    form: AddForm,
    create_url: &'static str,
}

fn row(user: User, me: i64) -> UserRow {
    UserRow {
        id: user.id,
        role: user.role.as_str(),
        active: user.is_active(),
        created: user.created_at.format("%Y-%m-%d").to_string(),
        deactivated: user
            .deactivated_at
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        roles: role_choices(user.role.as_str()),
        role_url: urls::user_action(user.id, "role"),
        status_url: urls::user_action(user.id, "status"),
        password_url: urls::user_action(user.id, "password"),
        is_me: user.id == me,
        error: None,
        name: user.name,
        email: user.email,
    }
}

/// The page, with `form` as the add form and `refused` the error of a row's form; the
/// status is the error's (a refused form is not a 200).
async fn page(
    state: &AppState,
    user: &SessionUser,
    form: AddForm,
    refused: Option<(i64, Error)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let users = state.core.accounts().list(&user.actor).await?;
    let mut status = if form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut rows: Vec<UserRow> = users.into_iter().map(|u| row(u, user.actor.user_id)).collect();
    if let Some((id, e)) = refused {
        if matches!(e, Error::Db(_) | Error::Internal(_)) {
            return Err(PageError::Core(e));
        }
        status = classify(&e).0;
        let message = crate::error::public_message(&e);
        match rows.iter_mut().find(|r| r.id == id) {
            Some(r) => r.error = Some(message),
            None => return Err(PageError::Core(e)),
        }
    }
    let page = UsersPage {
        nav: Nav::new(user, "users"),
        notice,
        active_count: rows.iter().filter(|r| r.active).count(),
        rows,
        form,
        create_url: urls::USERS,
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /users`: every account (admins).
async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = page(&state, &user, AddForm::new("agent"), None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// `POST /users`: adds a user; back to the page with the problems at their inputs when
/// refused.
async fn create(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let new = NewUser {
        email: form.text("email"),
        name: form.text("name"),
        role: form.text("role"),
        password: form.get("password").unwrap_or_default().to_owned(),
    };
    match state.core.accounts().add_user(&user.actor, new).await {
        Ok(added) => Ok(flash::redirect(
            &state,
            urls::USERS,
            &format!(
                "Added {} ({}) as {}. Tell them their password; they can change it under “Password”.",
                added.name,
                added.email,
                added.role.as_str()
            ),
        )),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_) | Error::Conflict { .. })) => {
            let mut shown = AddForm::new(&form.text("role"));
            shown.name = form.text("name");
            shown.email = form.text("email");
            shown.errors = match &e {
                Error::Conflict { message, .. } => vec![("email".to_owned(), message.clone())],
                _ => e.problems().into_iter().map(|p| (p.path, p.message)).collect(),
            };
            page(&state, &user, shown, None, None).await
        }
        Err(e) => Err(PageError::Core(e)),
    }
}

/// `POST /users/{id}/{role|status|password}`: a row's forms.
async fn change(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "user" }))?;
    let accounts = state.core.accounts();
    let done = match action.as_str() {
        "role" => {
            let patch = UserPatch {
                role: Some(form.text("role")),
                ..UserPatch::default()
            };
            accounts
                .update(&user.actor, id, patch)
                .await
                .map(|u| format!("{} is now {}.", u.email, u.role.as_str()))
        }
        "status" => {
            let active = form.get("active") == Some("true");
            let patch = UserPatch {
                active: Some(active),
                ..UserPatch::default()
            };
            accounts.update(&user.actor, id, patch).await.map(|u| {
                if u.is_active() {
                    format!("{} is active again and may sign in.", u.email)
                } else {
                    format!("{} is deactivated; their sessions and API tokens ended.", u.email)
                }
            })
        }
        "password" => {
            let password = form.get("password").unwrap_or_default();
            match accounts.reset_password(&user.actor, id, password).await {
                Ok(ended) => accounts
                    .get(&user.actor, id)
                    .await
                    .map(|u| format!("Set a new password for {}; {ended} of their sessions ended.", u.email)),
                Err(e) => Err(e),
            }
        }
        _ => return Err(PageError::Core(Error::NotFound { what: "page" })),
    };
    match done {
        Ok(message) => Ok(flash::redirect(&state, urls::USERS, &message)),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_) | Error::Conflict { .. })) => {
            page(&state, &user, AddForm::new("agent"), Some((id, e)), None).await
        }
        Err(e) => Err(PageError::Core(e)),
    }
}

/// The "Change password" form, as posted with its problems.
#[derive(Template)]
#[template(path = "users/password.html")]
struct PasswordPage {
    nav: Nav,
    notice: Option<String>,
    /// `(input, message)`.
    errors: Vec<(String, String)>,
    action: &'static str,
}

impl PasswordPage {
    /// The messages at input `name`.
    fn error_for(&self, name: &str) -> Option<String> {
        form_errors::at(&self.errors, name)
    }

    /// The problems not tied to an input.
    fn general_errors(&self) -> Vec<String> {
        form_errors::elsewhere(
            &self.errors,
            &["current_password", "new_password", "new_password_again"],
        )
    }
}

/// `GET /account/password`: the signed-in user's own password.
async fn password_form(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = render(&PasswordPage {
        nav: Nav::new(&user, "account"),
        notice: flash.message(),
        errors: Vec::new(),
        action: urls::ACCOUNT_PASSWORD,
    })?
    .into_response();
    flash.clear(&state, &mut response);
    Ok(response)
}

/// `POST /account/password`: changes it (the current one required); this session stays,
/// the user's others end.
async fn change_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    // Trimmed like the sign-in form's password, so what is set here signs in there.
    let new = form.text("new_password");
    if new != form.text("new_password_again") {
        let errors = vec![(
            "new_password_again".to_owned(),
            "is not the same as the new password".to_owned(),
        )];
        return password_refused(&user, errors);
    }
    let keep = cookie(&headers, SESSION_COOKIE);
    let changed = state
        .core
        .accounts()
        .change_own_password(
            &user.actor,
            keep.as_deref(),
            &form.text("current_password"),
            &new,
            client,
        )
        .await;
    match changed {
        Ok(ended) => Ok(flash::redirect(
            &state,
            urls::ACCOUNT_PASSWORD,
            &format!("Your password is changed; {ended} other sessions and API tokens ended."),
        )),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            password_refused(&user, e.problems().into_iter().map(|p| (p.path, p.message)).collect())
        }
        Err(e) => Err(PageError::Core(e)),
    }
}

fn password_refused(user: &SessionUser, errors: Vec<(String, String)>) -> Result<Response, PageError> {
    let page = PasswordPage {
        nav: Nav::new(user, "account"),
        notice: None,
        errors,
        action: urls::ACCOUNT_PASSWORD,
    };
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}
