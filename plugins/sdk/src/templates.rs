//! Templates over a contact, as the built-in actions render them (feature `templates`):
//! what a [minijinja](https://docs.rs/minijinja) template sees of a contact, rendering
//! with errors that name the parameter and the contact, and a template error worded for
//! the person who wrote the template.
//!
//! A template sees `id`, `name`, `kind` (the contact type's key), `email`, `phone`,
//! `owner` (the owning user's id) and `fields` (the extra fields: `fields.city`). What a
//! contact lacks (no e-mail, phone or owner, an extra field that is absent or null) is
//! left out of the context, so it is undefined: with minijinja's lenient undefined it
//! renders empty, however deep it is read, and `default(..)` fills it.

use minijinja::{Template, Value};
use serde_json::{Map, Value as Json};

use crate::{Contact, PluginError};

/// What a template sees of `contact`, as `(name, value)` pairs an action may add to (the
/// built-in `email` adds `first_name` and `sender`) before it makes the context with
/// `Value::from_iter`.
pub fn contact_context(contact: &Contact) -> Result<Vec<(&'static str, Value)>, PluginError> {
    let mut fields: Map<String, Json> = serde_json::from_str(&contact.fields_json).map_err(|error| {
        PluginError::new(format!(
            "contact {}: the extra fields are not a JSON object: {error}",
            contact.id
        ))
    })?;
    fields.retain(|_, value| !value.is_null());
    let mut context = vec![
        ("id", Value::from(contact.id)),
        ("name", Value::from(contact.name.as_str())),
        ("kind", Value::from(contact.kind.as_str())),
        ("fields", Value::from_serialize(&fields)),
    ];
    if let Some(email) = &contact.email {
        context.push(("email", Value::from(email.as_str())));
    }
    if let Some(phone) = &contact.phone {
        context.push(("phone", Value::from(phone.as_str())));
    }
    if let Some(owner) = contact.owner {
        context.push(("owner", Value::from(owner)));
    }
    Ok(context)
}

/// `template` rendered for `contact`, or the error at `path` (`params.title`), naming the
/// contact.
pub fn render(
    template: &Template<'_, '_>,
    path: &str,
    contact: &Contact,
    context: &Value,
) -> Result<String, PluginError> {
    template
        .render(context)
        .map_err(|error| PluginError::at(path, format!("{}, for contact {}", describe(&error), contact.id)))
}

/// A template error as a person reads it: what went wrong and on which line of the
/// template (minijinja's own text also names the template, which the path says already).
pub fn describe(error: &minijinja::Error) -> String {
    let mut text = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    if let Some(line) = error.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
pub fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}
