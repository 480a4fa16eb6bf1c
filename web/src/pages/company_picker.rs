//! The company picker of the contact form: a text input whose `<datalist>`
//! `assets/contact-form.js` fills from [`urls::COMPANY_SEARCH`] as the user types.
//!
//! Each option reads `Name (City) #id`, so companies of the same name differ; the server
//! takes the id after `#`. A bare name (typed without the script) is taken when exactly one
//! visible company has it, and refused with the candidates when several do.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use kartoteka_core::contacts::CompanyChoice;
use kartoteka_core::error::Problems;
use kartoteka_core::{Core, Error};

use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{FormData, SessionUser};
use crate::error::PageError;
#[cfg(doc)]
use crate::urls;

/// How many companies the picker offers per search.
const PICKER_LIMIT: u64 = 20;

/// The companies `user` sees matching `text` (global search words), by name; a query the
/// search can't take (too many words) finds nothing rather than failing.
async fn search(core: &Core, user: &SessionUser, text: &str) -> Result<Vec<CompanyChoice>, Error> {
    match core.contacts().search_companies(&user.actor, text, PICKER_LIMIT).await {
        Ok(found) => Ok(found),
        Err(Error::Validation { .. } | Error::Invalid(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// How the picker shows a company: `Name (City) #id`.
pub fn label(c: &CompanyChoice) -> String {
    match c.city.as_deref().filter(|c| !c.is_empty()) {
        Some(city) => format!("{} ({city}) #{}", c.name, c.id),
        None => format!("{} #{}", c.name, c.id),
    }
}

/// The id at the end of a picker label (`Acme (Kraków) #12`), or of a bare `#12`.
pub fn label_id(text: &str) -> Option<i64> {
    let (_, id) = text.rsplit_once('#')?;
    id.trim().parse().ok()
}

/// The company of the form: the picker's `company` (a label, or a name typed without the
/// list), or a bare `company_id`. A problem is noted at `company_id`.
pub async fn read(
    core: &Core,
    user: &SessionUser,
    form: &FormData,
    problems: &mut Problems,
) -> Result<Option<i64>, Error> {
    let text = form.text("company");
    if text.is_empty() {
        return match form.opt("company_id") {
            None => Ok(None),
            Some(v) => match v.parse() {
                Ok(id) => Ok(Some(id)),
                Err(_) => {
                    problems.add("company_id", format!("`{v}` is not a company id"));
                    Ok(None)
                }
            },
        };
    }
    if let Some(id) = label_id(&text) {
        return Ok(Some(id));
    }
    let candidates = search(core, user, &text).await?;
    let named: Vec<&CompanyChoice> = candidates
        .iter()
        .filter(|c| c.name.to_lowercase() == text.to_lowercase())
        .collect();
    match named.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => {
            problems.add(
                "company_id",
                format!("no company called `{text}`; pick one from the list"),
            );
            Ok(None)
        }
        several => {
            let labels: Vec<String> = several.iter().map(|c| label(c)).collect();
            problems.add(
                "company_id",
                format!(
                    "several companies are called `{text}` ({}); pick one from the list",
                    labels.join(", ")
                ),
            );
            Ok(None)
        }
    }
}

/// One company the picker offers.
#[derive(Debug, serde::Serialize)]
pub struct PickerItem {
    pub id: i64,
    pub name: String,
    pub city: Option<String>,
    /// What the input shows and sends: `Name (City) #id`.
    pub label: String,
}

/// The companies the user sees matching `q` (global search words), for the picker: JSON
/// `[{id, name, city, label}]`, at most 20, by name.
pub async fn search_json(
    State(state): State<AppState>,
    user: SessionUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let pairs = query_pairs(query.as_deref());
    let q = param(&pairs, "q").unwrap_or_default();
    let q = if label_id(q).is_some() {
        // A chosen label searches its name.
        q.rsplit_once('#').map(|(name, _)| name).unwrap_or(q)
    } else {
        q
    };
    let items: Vec<PickerItem> = search(&state.core, &user, q)
        .await?
        .into_iter()
        .map(|c| PickerItem {
            label: label(&c),
            id: c.id,
            name: c.name,
            city: c.city,
        })
        .collect();
    Ok(Json(items).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_carries_its_id() {
        let acme = CompanyChoice {
            id: 12,
            name: "Acme #1".into(),
            city: Some("Kraków".into()),
        };
        assert_eq!(label(&acme), "Acme #1 (Kraków) #12");
        assert_eq!(label_id(&label(&acme)), Some(12));
        assert_eq!(label_id("#7"), Some(7));
        assert_eq!(label_id("Acme"), None);
    }
}
