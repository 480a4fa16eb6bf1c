//! One row of a file read into a contact: the cells by their targets, parsed, with every
//! problem at the column it came from.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::mapping::{Mapping, Target, parse_kind};
use crate::contact_types::TypeTree;
use crate::contacts::{ContactDraft, ContactPatch};
use crate::fields::value::parse_decimal;
use crate::text::fold;

/// A problem of a row: the column (its header), the value, and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The header of the column; `None` for a problem of the row as a whole.
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.column, &self.value) {
            (Some(c), Some(v)) if !v.is_empty() => write!(f, "{c} `{v}`: {}", self.message),
            (Some(c), _) => write!(f, "{c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// A row read into what a contact write takes.
#[derive(Debug, Clone, Default)]
pub struct RowContact {
    /// The contact as a new one (empty cells empty).
    pub draft: ContactDraft,
    /// The change to an existing one: only the non-empty cells.
    pub patch: ContactPatch,
    /// The value that identifies an existing contact (e-mails in lower case).
    pub identity: Option<String>,
    /// The company named in the row (people only).
    pub company_name: Option<String>,
    pub problems: Vec<RowProblem>,
}

impl RowContact {
    /// Whether the row is a company.
    pub fn is_company(&self) -> bool {
        self.draft.kind == "company"
    }
}

/// What reading a row needs besides the mapping: the types and the users.
#[derive(Debug, Clone)]
pub struct Lookups {
    pub types: TypeTree,
    /// User e-mails (lower case) to ids.
    pub users: HashMap<String, i64>,
}

/// Reads `cells` (of a file whose columns are `header`) under `mapping`.
pub fn read_row(cells: &[String], header: &[String], mapping: &Mapping, lookups: &Lookups) -> RowContact {
    let mut row = RowContact::default();
    let mut problems = Vec::new();
    if cells.len() > header.len() && cells.iter().skip(header.len()).any(|c| !c.trim().is_empty()) {
        problems.push(RowProblem {
            column: None,
            value: None,
            message: format!(
                "the row has {} cells and the header {}: a delimiter or quote is out of place",
                cells.len(),
                header.len()
            ),
        });
    }
    let mut first = None;
    let mut last = None;
    let mut fields = Map::new();
    let mut kind = None;
    for ((target, cell), column) in mapping.columns.iter().zip(cells).zip(header) {
        let text = cell.trim();
        if text.is_empty() || *target == Target::Skip {
            continue;
        }
        let problem = |message: String| RowProblem {
            column: Some(column.clone()),
            value: Some(text.to_owned()),
            message,
        };
        let some = || Some(text.to_owned());
        if text.contains('\0') {
            problems.push(problem(
                "holds a zero byte; the file may be damaged or in another encoding".into(),
            ));
            continue;
        }
        match target {
            Target::Skip => {}
            Target::Name => {
                row.draft.name = text.to_owned();
                row.patch.name = some();
            }
            Target::FirstName => first = some(),
            Target::LastName => last = some(),
            Target::Kind => match parse_kind(text) {
                Some(k) => kind = Some(k),
                None => problems.push(problem("is neither a person nor a company".into())),
            },
            Target::Type => match type_key(text, &lookups.types) {
                Some(key) => {
                    row.draft.type_key.clone_from(&key);
                    row.patch.type_key = Some(key);
                }
                None => problems.push(problem(crate::contact_types::unknown_type(text))),
            },
            Target::Email => {
                let email = text.to_lowercase();
                row.draft.email = Some(email.clone());
                row.patch.email = Some(Some(email));
            }
            Target::Phone => {
                row.draft.phone = some();
                row.patch.phone = Some(some());
            }
            Target::Position => {
                row.draft.position = some();
                row.patch.position = Some(some());
            }
            Target::Street => {
                row.draft.street = some();
                row.patch.street = Some(some());
            }
            Target::City => {
                row.draft.city = some();
                row.patch.city = Some(some());
            }
            Target::Region => {
                row.draft.region = some();
                row.patch.region = Some(some());
            }
            Target::Country => {
                row.draft.country = some();
                row.patch.country = Some(some());
            }
            Target::PostalCode => {
                row.draft.postal_code = some();
                row.patch.postal_code = Some(some());
            }
            Target::Latitude | Target::Longitude => match parse_decimal(text) {
                Ok(n) if *target == Target::Latitude => {
                    row.draft.latitude = Some(n);
                    row.patch.latitude = Some(Some(n));
                }
                Ok(n) => {
                    row.draft.longitude = Some(n);
                    row.patch.longitude = Some(Some(n));
                }
                Err(why) => problems.push(problem(why)),
            },
            Target::Company => row.company_name = some(),
            Target::CompanyId => match text.parse::<i64>() {
                Ok(id) if id > 0 => {
                    row.draft.company_id = Some(id);
                    row.patch.company_id = Some(Some(id));
                }
                _ => problems.push(problem("is not a contact id (a whole number)".into())),
            },
            Target::Owner => match lookups.users.get(&text.to_lowercase()) {
                Some(id) => {
                    row.draft.owner_id = Some(*id);
                    row.patch.owner_id = Some(Some(*id));
                }
                None => problems.push(problem("no user has this e-mail".into())),
            },
            Target::DoNotContact => match parse_yes_no(text) {
                Some(b) => {
                    row.draft.do_not_contact = b;
                    row.patch.do_not_contact = Some(b);
                }
                None => problems.push(problem("is neither yes nor no".into())),
            },
            Target::Field(key) => {
                fields.insert(key.clone(), Value::String(text.to_owned()));
            }
        }
    }
    if first.is_some() || last.is_some() {
        let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
        row.draft.name.clone_from(&name);
        row.patch.name = Some(name);
    }
    let kind = kind.unwrap_or_else(|| parse_kind(&mapping.kind).unwrap_or("person"));
    row.draft.kind = kind.to_owned();
    // The kind a column gives changes an existing contact; the mapping's default doesn't.
    if mapping.columns.contains(&Target::Kind) && row.patch.kind.is_none() {
        row.patch.kind = cells
            .iter()
            .zip(&mapping.columns)
            .find(|(c, t)| **t == Target::Kind && !c.trim().is_empty())
            .map(|_| kind.to_owned());
    }
    if row.draft.type_key.is_empty() {
        row.draft.type_key.clone_from(&mapping.type_key);
    }
    if kind == "company" && row.company_name.is_some() {
        // A company's "company" column is its own name in many exports; it links nothing.
        row.company_name = None;
    }
    if !fields.is_empty() {
        row.draft.fields = fields.clone();
        row.patch.fields = Some(fields);
    }
    row.identity = match mapping.match_by.target() {
        Some(Target::Email) => row.draft.email.clone(),
        Some(Target::Phone) => row.draft.phone.clone(),
        Some(Target::Field(key)) => row.draft.fields.get(&key).and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    row.problems = problems;
    row
}

/// A type's key from its key or its label (case and accents aside).
fn type_key(text: &str, types: &TypeTree) -> Option<String> {
    if types.by_key(text).is_some() {
        return Some(text.to_owned());
    }
    let folded = fold(text);
    types
        .all()
        .iter()
        .find(|t| fold(&t.label) == folded || fold(&t.key) == folded)
        .map(|t| t.key.clone())
}

/// Yes or no as people write it in a file, in the five languages the headers are read in.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match fold(text.trim()).as_str() {
        "1" | "true" | "yes" | "y" | "x" | "tak" | "t" | "так" | "да" | "da" => Some(true),
        "0" | "false" | "no" | "n" | "nie" | "ні" | "нет" | "nu" => Some(false),
        _ => None,
    }
}
