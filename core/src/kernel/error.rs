//! The one error type of `core`.
//!
//! Every service returns [`Result<T>`]. The variants are what a caller can act on:
//! - [`Error::Validation`]: the input is wrong; `path` says where (`fields.birthday`,
//!   `parent`), `message` says why. The web layer answers 400.
//! - [`Error::Invalid`]: the input is wrong in several places at once (two or more
//!   [`Problem`]s, in input order). A check that can go on after a first problem collects
//!   them all with [`Problems`], so a person fixes a form in one round, not one error per
//!   submit. Callers that read one problem use [`Error::problems`], which answers the list
//!   for both variants. 400, like `Validation`.
//! - [`Error::NotFound`]: the thing does not exist *for this actor* (an invisible contact is
//!   not found, never forbidden, so existence does not leak). 404.
//! - [`Error::Conflict`]: the write is refused because of the state it met: a stale
//!   `version`, a duplicate key, a type still in use, a field conversion that would lose
//!   values. `details` carries a machine-readable report when there is one. 409.
//! - [`Error::Unauthorized`] / [`Error::Forbidden`]: who you are / what you may do. 401 / 403.
//! - [`Error::RateLimited`]: too many failed sign-ins from the address, or for the account
//!   from it (see `sign_in_limits`). 429.
//! - [`Error::Plugin`]: a plugin failed (trapped, panicked, ran past its deadline or out of
//!   memory, answered garbage, or can't run on this server). Neither the caller's input nor
//!   our own bug: `name` says whose fault it is. 502, code `plugin`.
//! - [`Error::Db`] and [`Error::Internal`]: our fault. Logged in full, shown as a generic 500.

use serde_json::Value;

/// A `core` result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is invalid at `path`.
    #[error("{path}: {message}")]
    Validation { path: String, message: String },
    /// The input is invalid in several places (at least two; one is a `Validation`).
    #[error("{}", summary(.0))]
    Invalid(Vec<Problem>),
    /// Nothing of this kind with this identity is visible to the actor.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The write conflicts with the current state.
    #[error("{message}")]
    Conflict { message: String, details: Option<Value> },
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed attempts; try again after the given number of seconds.
    #[error("too many failed sign-in attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    /// Plugin `name` failed; `message` says how (it never carries the caller's data).
    #[error("plugin `{name}` {message}")]
    Plugin { name: String, message: String },
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// An invariant of ours broke.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One problem with the input: where (`fields.nps`, `[2].kind`, empty for the whole
/// input) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

fn summary(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The problems found so far by a check that goes on after the first one.
///
/// ```
/// # use kartoteka_core::{Error, error::Problems};
/// let mut problems = Problems::default();
/// problems.add("name", "is required");
/// let n: Option<i64> = problems.take("x".parse::<i64>().map_err(|_| Error::invalid("age", "is not a number"))).unwrap();
/// assert!(n.is_none());
/// assert_eq!(problems.into_result().unwrap_err().problems().len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// Notes a problem at `path`.
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// The value of `result`, or `None` after noting its problems when it is invalid
    /// input; any other error (the database failed) is passed on.
    pub fn take<T>(&mut self, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
                self.0.extend(e.problems());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether a problem was noted at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.0.iter().any(|p| p.path == path)
    }

    /// Whether nothing was noted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was noted; otherwise the error carrying every problem.
    pub fn into_result(self) -> Result<()> {
        match Error::from_problems(self.0) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

/// Whether `value` holds a control character anywhere (keys included) other than tab,
/// newline and carriage return. PostgreSQL refuses NUL in text and JSON; every such
/// string is refused as input before it reaches a query.
pub fn has_control_chars(value: &serde_json::Value) -> bool {
    fn bad(s: &str) -> bool {
        s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    }
    match value {
        serde_json::Value::String(s) => bad(s),
        serde_json::Value::Array(items) => items.iter().any(has_control_chars),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| bad(k) || has_control_chars(v)),
        _ => false,
    }
}

impl Error {
    /// A validation error at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The error carrying `problems`: `None` for none, a `Validation` for one, `Invalid`
    /// for several.
    pub fn from_problems(mut problems: Vec<Problem>) -> Option<Self> {
        match problems.len() {
            0 => None,
            1 => problems.pop().map(|p| Error::Validation {
                path: p.path,
                message: p.message,
            }),
            _ => Some(Error::Invalid(problems)),
        }
    }

    /// The problems of invalid input, in order (empty for any other error).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Error::Validation { path, message } => vec![Problem {
                path: path.clone(),
                message: message.clone(),
            }],
            Error::Invalid(problems) => problems.clone(),
            _ => Vec::new(),
        }
    }

    /// The error as one line for people: each problem of invalid input with its path
    /// (`email: not an email address; name: is required`), any other error as displayed.
    pub fn describe(&self) -> String {
        let problems = self.problems();
        if problems.is_empty() {
            return self.to_string();
        }
        problems
            .iter()
            .map(|p| {
                if p.path.is_empty() {
                    p.message.clone()
                } else {
                    format!("{}: {}", p.path, p.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A conflict without a report.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            details: None,
        }
    }

    /// The same error with `prefix.` put in front of a validation path.
    pub fn under(self, prefix: &str) -> Self {
        match self {
            Error::Invalid(problems) => Error::Invalid(
                problems
                    .into_iter()
                    .map(|p| Problem {
                        path: if p.path.is_empty() {
                            prefix.to_owned()
                        } else {
                            format!("{prefix}.{}", p.path)
                        },
                        message: p.message,
                    })
                    .collect(),
            ),
            Error::Validation { path, message } if path.is_empty() => Error::Validation {
                path: prefix.to_owned(),
                message,
            },
            Error::Validation { path, message } => Error::Validation {
                path: format!("{prefix}.{path}"),
                message,
            },
            other => other,
        }
    }
}
