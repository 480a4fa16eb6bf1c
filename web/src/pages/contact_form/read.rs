//! Reading a submitted contact form: the draft it describes for `core`, and the problems of
//! the inputs the form itself could not read (a latitude `north`, an unknown company),
//! joined with `core`'s own check so that every problem is reported at once.

use kartoteka_core::Error;
use kartoteka_core::contacts::ContactDraft;
use kartoteka_core::error::Problems;
use kartoteka_core::fields::value::parse_decimal;
use kartoteka_core::fields::{FieldDef, FieldKind, Schema};
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::auth::{FormData, SessionUser};
use crate::pages::company_picker;

/// The extra-field values of a submitted form, for `core`: every field whose input was
/// sent (a hidden box's inputs are not), blank meaning "remove". Nothing is filtered by
/// type here: a value that doesn't apply is `core`'s to refuse.
fn field_values(defs: &[FieldDef], form: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    for d in defs {
        let name = format!("f.{}", d.key);
        let Some(first) = form.get(&name) else { continue };
        let value = match d.kind {
            FieldKind::Multiselect => json!(
                form.all(&name)
                    .into_iter()
                    .filter(|v| !v.trim().is_empty())
                    .collect::<Vec<_>>()
            ),
            FieldKind::Geo if first.is_empty() => Value::Null,
            FieldKind::Geo => match first.split_once(',') {
                Some((lat, lon)) => json!({"lat": lat.trim(), "lon": lon.trim()}),
                None => json!({"lat": first}),
            },
            _ => Value::String(first.to_owned()),
        };
        out.insert(d.key.clone(), value);
    }
    out
}

/// A number input: blank is `None`; anything else is read by [`parse_decimal`] or noted
/// as a problem at `path`.
pub fn decimal_input(form: &FormData, name: &str, path: &str, problems: &mut Problems) -> Option<f64> {
    let text = form.opt(name)?;
    match parse_decimal(&text) {
        Ok(n) => Some(n),
        Err(m) => {
            problems.add(path, m);
            None
        }
    }
}

/// An id input (`owner`, `version`): blank is `None`, anything else a whole number.
pub(super) fn id_input(form: &FormData, name: &str, path: &str, problems: &mut Problems) -> Option<i64> {
    let text = form.opt(name)?;
    match text.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.add(path, format!("`{text}` is not an id"));
            None
        }
    }
}

/// The draft a submitted form describes, with the problems of the inputs that could not
/// be read (those properties are left empty).
pub(super) async fn read_form(
    state: &AppState,
    user: &SessionUser,
    schema: &Schema,
    form: &FormData,
) -> Result<(ContactDraft, Problems), Error> {
    let mut problems = Problems::default();
    let company_id = company_picker::read(&state.core, user, form, &mut problems).await?;
    let draft = ContactDraft {
        kind: form
            .get("kind")
            .filter(|k| !k.is_empty())
            .unwrap_or("person")
            .to_owned(),
        type_key: form.text("type"),
        name: form.text("name"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        position: form.opt("position"),
        company_id,
        street: form.opt("street"),
        city: form.opt("city"),
        region: form.opt("region"),
        country: form.opt("country"),
        postal_code: form.opt("postal_code"),
        latitude: decimal_input(form, "latitude", "latitude", &mut problems),
        longitude: decimal_input(form, "longitude", "longitude", &mut problems),
        owner_id: id_input(form, "owner", "owner", &mut problems),
        do_not_contact: form.checked("do_not_contact"),
        fields: field_values(&schema.fields, form),
    };
    Ok((draft, problems))
}

/// The problems of the form's own reading and `core`'s check together; `core`'s at a path
/// the form already reported are left out (they follow from the unread input).
pub(in crate::pages) fn together(own: Problems, checked: Result<(), Error>) -> Result<Error, Error> {
    let own = match own.into_result() {
        Ok(()) => Vec::new(),
        Err(e) => e.problems(),
    };
    let mut all = own.clone();
    match checked {
        Ok(()) => {}
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            all.extend(
                e.problems()
                    .into_iter()
                    .filter(|p| !own.iter().any(|o| o.path == p.path)),
            );
        }
        Err(e) => return Err(e),
    }
    Error::from_problems(all).ok_or_else(|| Error::Internal("no problems to report".into()))
}
