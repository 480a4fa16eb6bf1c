//! Importing contacts: `/imports` (the latest imports and the upload form), `/imports/{id}`
//! (the mapping page: each column with its first values and a target, what identifies an
//! existing contact and what to do with it, a dry run or the import; while a run goes on,
//! its progress, reloading itself; then the report and the rows to download).
//! Every handler calls [`kartoteka_core::imports::Imports`].

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::imports::{ImportState, MAX_FILE_BYTES, StoredImport};
use serde_json::{Value, json};

use super::Nav;
use super::contacts::Choice;
use super::flash::{self, Flash};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser, constant_time_eq};
use crate::error::{PageError, render};
use crate::urls;

/// The import routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            urls::IMPORTS,
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + (64 << 10))),
        )
        .route("/imports/{id}", get(show).post(start))
        .route("/imports/{id}/outcomes.csv", get(outcomes))
}

/// An import as a row of the list.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub url: String,
    pub file_name: String,
    pub state: &'static str,
    pub summary: String,
    pub created: String,
}

impl ImportRow {
    fn new(i: &StoredImport) -> Self {
        ImportRow {
            url: urls::import(i.id),
            file_name: i.file_name.clone(),
            state: i.state.as_str(),
            summary: summary(i),
            created: i.created_at.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// The report of the last run in a line.
fn summary(i: &StoredImport) -> String {
    let Some(r) = &i.report else {
        return match i.state {
            ImportState::Running => format!("{} rows so far", i.rows_done),
            _ => String::new(),
        };
    };
    let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "{}{} rows: {} created, {} updated, {} unchanged, {} skipped, {} refused",
        if i.dry_run { "Dry run: " } else { "" },
        n("rows"),
        n("created"),
        n("updated"),
        n("unchanged"),
        n("skipped"),
        n("refused")
    )
}

#[derive(Template)]
#[template(path = "imports/list.html")]
struct ListPage {
    nav: Nav,
    imports: Vec<ImportRow>,
    error: Option<String>,
    notice: Option<String>,
    max_mb: usize,
}

async fn list_page(
    state: &AppState,
    user: &SessionUser,
    notice: Option<String>,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let imports = state.core.imports().list(&user.actor, 50).await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = render(&ListPage {
        nav: Nav::new(user, "imports"),
        imports: imports.iter().map(ImportRow::new).collect(),
        error: error.map(|e| e.describe()),
        notice,
        max_mb: MAX_FILE_BYTES / 1024 / 1024,
    })?;
    Ok((status, html).into_response())
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = list_page(&state, &user, flash.message(), None).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// The upload: a multipart body with `csrf_token` and `file`.
async fn upload(State(state): State<AppState>, user: SessionUser, mut form: Multipart) -> Result<Response, PageError> {
    let (mut csrf, mut file, mut name) = (String::new(), Vec::new(), String::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let error = Error::invalid("file", format!("the upload can't be read: {e}"));
                return list_page(&state, &user, None, Some(error)).await;
            }
        };
        let field_name = field.name().unwrap_or_default().to_owned();
        if field_name == "file" {
            name = field.file_name().unwrap_or_default().to_owned();
        }
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => {
                let error = Error::invalid(
                    "file",
                    format!("the upload can't be read (at most {MAX_FILE_BYTES} bytes): {e}"),
                );
                return list_page(&state, &user, None, Some(error)).await;
            }
        };
        match field_name.as_str() {
            "csrf_token" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes.to_vec(),
            _ => {}
        }
    }
    if csrf.is_empty() || !constant_time_eq(csrf.as_bytes(), user.csrf_token.as_bytes()) {
        return Err(PageError::Csrf);
    }
    match state.core.imports().upload(&user.actor, &name, file).await {
        Ok((import, _)) => Ok(flash::redirect(
            &state,
            &urls::import(import.id),
            "Uploaded. Check where each column goes, then run a dry run or the import.",
        )),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => list_page(&state, &user, None, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// A column of the file on the mapping page.
#[derive(Debug, Clone)]
pub struct ColumnRow {
    pub index: usize,
    pub header: String,
    /// Its first values, joined.
    pub sample: String,
    pub targets: Vec<Choice>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "imports/show.html")]
struct ShowPage {
    nav: Nav,
    import: StoredImport,
    state: &'static str,
    running: bool,
    /// Percent of the file done (CSV), for the progress bar.
    percent: i64,
    shape: String,
    columns: Vec<ColumnRow>,
    match_by: Vec<Choice>,
    on_match: Vec<Choice>,
    kinds: Vec<Choice>,
    types: Vec<Choice>,
    /// Problems not at a column.
    errors: Vec<String>,
    summary: String,
    companies: String,
    legacy: String,
    outcomes_url: String,
    notice: Option<String>,
}

fn choices(options: &[(String, String)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: value.clone(),
            label: label.clone(),
            selected: value == selected,
        })
        .collect()
}

/// The mapping page of import `id`; `sent` is a mapping the form sent back with
/// `error`'s problems.
async fn show_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    sent: Option<Value>,
    error: Option<Error>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let import = state.core.imports().get(&user.actor, id).await?;
    if import.state == ImportState::Running {
        // The page reloads every second while a run goes on and shows only its progress:
        // the file is not read back for it.
        let percent = if import.size > 0 {
            (import.bytes_done * 100 / import.size).clamp(0, 100)
        } else {
            0
        };
        let html = render(&ShowPage {
            nav: Nav::new(user, "imports"),
            state: import.state.as_str(),
            running: true,
            percent,
            shape: format!("{} columns", import.header.len()),
            columns: Vec::new(),
            match_by: Vec::new(),
            on_match: Vec::new(),
            kinds: Vec::new(),
            types: Vec::new(),
            errors: Vec::new(),
            summary: summary(&import),
            companies: String::new(),
            legacy: String::new(),
            outcomes_url: String::new(),
            import,
            notice,
        })?;
        return Ok(html.into_response());
    }
    let preview = state.core.imports().stored_preview(&user.actor, id).await?;
    let mapping = sent
        .or_else(|| import.mapping.clone())
        .unwrap_or_else(|| preview.suggested.to_json(&preview.header));
    let targets = crate::api::imports::targets(state).await?;
    let target_options: Vec<(String, String)> = targets.iter().map(|t| (t.name.clone(), t.label.clone())).collect();
    let problems = error.as_ref().map(Error::problems).unwrap_or_default();
    let mut at_column: Vec<Option<String>> = vec![None; preview.header.len()];
    let mut errors = Vec::new();
    for p in &problems {
        let column = p
            .path
            .strip_prefix("mapping.columns[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
            .or_else(|| {
                p.path
                    .strip_prefix("mapping.columns.")
                    .and_then(|h| preview.header.iter().position(|x| x == h))
            });
        match column.and_then(|i| at_column.get_mut(i)) {
            Some(slot) => {
                *slot = Some(match slot.take() {
                    Some(before) => format!("{before}; {}", p.message),
                    None => p.message.clone(),
                })
            }
            None => errors.push(match p.path.strip_prefix("mapping.") {
                Some(path) => format!("{path}: {}", p.message),
                None if p.path.is_empty() => p.message.clone(),
                None => format!("{}: {}", p.path, p.message),
            }),
        }
    }
    if let Some(e) = &error
        && problems.is_empty()
    {
        errors.push(e.to_string());
    }
    let column_target = |i: usize, header: &str| -> String {
        match mapping.get("columns") {
            Some(Value::Array(list)) => list.get(i).and_then(Value::as_str).unwrap_or("skip").to_owned(),
            Some(Value::Object(named)) => named.get(header).and_then(Value::as_str).unwrap_or("skip").to_owned(),
            _ => "skip".to_owned(),
        }
    };
    let columns = preview
        .header
        .iter()
        .enumerate()
        .map(|(i, header)| ColumnRow {
            index: i,
            header: header.clone(),
            sample: preview
                .rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .filter(|c| !c.trim().is_empty())
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" · "),
            targets: choices(&target_options, &column_target(i, header)),
            error: at_column.get(i).cloned().flatten(),
        })
        .collect();
    let text = |key: &str, default: &str| mapping.get(key).and_then(Value::as_str).unwrap_or(default).to_owned();
    let mut match_options = vec![
        ("email".to_owned(), "E-mail".to_owned()),
        ("phone".to_owned(), "Phone".to_owned()),
        ("none".to_owned(), "Nothing: every row is a new contact".to_owned()),
    ];
    match_options.extend(
        targets
            .iter()
            .filter(|t| t.name.starts_with("fields."))
            .map(|t| (t.name.clone(), format!("Field: {}", t.label))),
    );
    let on_match_options = [
        ("update", "Update it with the row's non-empty cells"),
        ("skip", "Skip the row"),
        ("create", "Create another contact all the same"),
    ]
    .map(|(v, l)| (v.to_owned(), l.to_owned()));
    let kind_options = [("person", "People"), ("company", "Companies")].map(|(v, l)| (v.to_owned(), l.to_owned()));
    let tree = state.core.schema().type_tree().await?;
    let mut type_options = vec![(String::new(), "The base's default type".to_owned())];
    type_options.extend(tree.all().iter().map(|t| (t.key.clone(), t.label.clone())));
    let report = import.report.clone().unwrap_or(Value::Null);
    let n = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = render(&ShowPage {
        nav: Nav::new(user, "imports"),
        state: import.state.as_str(),
        running: false,
        percent: 0,
        shape: preview.shape.describe(preview.header.len()),
        columns,
        match_by: choices(&match_options, &text("match_by", "email")),
        on_match: choices(&on_match_options, &text("on_match", "update")),
        kinds: choices(&kind_options, &text("kind", "person")),
        types: choices(&type_options, &text("type", "")),
        errors,
        summary: summary(&import),
        companies: if n("companies_created") > 0 {
            format!(
                "{} companies {}.",
                n("companies_created"),
                if import.dry_run { "would be created" } else { "created" }
            )
        } else {
            String::new()
        },
        legacy: if n("legacy_cells") > 0 {
            format!(
                "{} cells were not UTF-8 and were read as Windows-1250 or -1251; check the accents in the outcomes.",
                n("legacy_cells")
            )
        } else {
            String::new()
        },
        outcomes_url: format!("{}/outcomes.csv", urls::import(import.id)),
        import,
        notice,
    })?;
    Ok((status, html).into_response())
}

async fn show(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let mut response = show_page(&state, &user, id, None, None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// The mapping form: `col.<i>` per column, `match_by`, `on_match`, `kind`, `type`, and
/// `run` = `dry_run` or `import`.
async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let import = state.core.imports().get(&user.actor, id).await?;
    let mapping = mapping_of(&form, import.header.len());
    let dry_run = form.get("run") != Some("import");
    match state
        .core
        .imports()
        .start(&user.actor, id, Some(&mapping), dry_run)
        .await
    {
        Ok(_) => Ok(flash::redirect(
            &state,
            &urls::import(id),
            if dry_run {
                "Dry run started: nothing is written."
            } else {
                "Import started."
            },
        )),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_) | Error::Conflict { .. })) => {
            show_page(&state, &user, id, Some(mapping), Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The mapping the form sent, as [`kartoteka_core::imports::Mapping::from_json`] reads it.
fn mapping_of(form: &FormData, columns: usize) -> Value {
    let list: Vec<Value> = (0..columns)
        .map(|i| Value::String(form.get(&format!("col.{i}")).unwrap_or("skip").to_owned()))
        .collect();
    json!({
        "columns": list,
        "match_by": form.get("match_by").unwrap_or("email"),
        "on_match": form.get("on_match").unwrap_or("update"),
        "kind": form.get("kind").unwrap_or("person"),
        "type": form.get("type").unwrap_or(""),
    })
}

async fn outcomes(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    Ok(crate::api::imports::outcomes_csv(&state, &user.actor, id).await?)
}

fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "import" }))
}
