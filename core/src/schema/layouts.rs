//! Card layouts: per contact type, the extra fields of its card in titled sections, in
//! order.
//!
//! - A type uses its own layout, else its nearest ancestor's (a "Hot" lead the "Lead"
//!   layout), else the default: one section, "Fields", with every field that applies to
//!   the type in the fields' own order.
//! - A field no section holds is never lost: the card and the edit form show it under
//!   "Other fields" (a field the layout hides, one defined after the layout was saved,
//!   one that doesn't apply to the type but holds a value). "Hiding" a field is taking it
//!   out of every section.
//! - A layout names fields by key. A field removed later stays in the stored layout and is
//!   skipped when the layout is read ([`CardLayout::arrange`]); the next save drops it.
//!
//! The layout covers the extra fields; the core columns (e-mail, phone, address, owner)
//! keep their "Details" block above them on every card, so that no type can lose the
//! columns every contact has.
//!
//! Stored as JSON in `card_layouts`, one row per type (migration 000025): the layout is
//! small (tens of keys) and always read whole, so a row per section or per field would
//! only add joins.

use std::collections::{HashMap, HashSet};

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SchemaService;
use super::contact_types::TypeTree;
use super::fields::{FieldDef, Schema};
use crate::auth::Actor;
use crate::entities::card_layouts;
use crate::error::Problems;
use crate::{Error, Result};

/// The most sections a layout may have.
pub const MAX_SECTIONS: usize = 30;

/// The most characters of a section's title.
pub const MAX_TITLE: usize = 100;

/// The title of the default layout's one section.
pub const DEFAULT_SECTION: &str = "Fields";

/// The title under which the fields no section holds are shown.
pub const OTHER_FIELDS: &str = "Other fields";

/// A titled section of a card: the keys of its extra fields, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    pub fields: Vec<String>,
}

/// A card layout: its sections, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CardLayout {
    pub sections: Vec<Section>,
}

/// Where a type's layout comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutSource {
    /// The type's own.
    Own,
    /// The layout of this ancestor (its key).
    Inherited(String),
    /// No layout anywhere up the tree: the default.
    Default,
}

impl LayoutSource {
    /// `own`, `inherited` or `default`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LayoutSource::Own => "own",
            LayoutSource::Inherited(_) => "inherited",
            LayoutSource::Default => "default",
        }
    }
}

/// A type's layout as it applies, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLayout {
    pub type_key: String,
    pub layout: CardLayout,
    pub source: LayoutSource,
}

/// Items arranged by a layout: the sections with what they hold (empty sections kept, so
/// an editor sees them), then the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Arranged<T> {
    pub sections: Vec<(String, Vec<T>)>,
    /// What no section holds ("Other fields").
    pub other: Vec<T>,
}

impl CardLayout {
    /// The default layout of `type_key`: one section with the fields that apply to it.
    pub fn default_for(schema: &Schema, type_key: &str) -> Self {
        CardLayout {
            sections: vec![Section {
                title: DEFAULT_SECTION.to_owned(),
                fields: schema
                    .fields
                    .iter()
                    .filter(|f| f.applies_to_type(&schema.types, type_key))
                    .map(|f| f.key.clone())
                    .collect(),
            }],
        }
    }

    /// Reads `{"sections": [{"title": "...", "fields": ["key", ...]}, ...]}`, checked
    /// against `fields`: every problem at once, at its path (`sections[1].fields[0]`).
    pub fn from_json(value: &Value, fields: &[FieldDef]) -> Result<Self> {
        let mut problems = Problems::default();
        let Some(sections) = value.get("sections").and_then(Value::as_array) else {
            return Err(Error::invalid(
                "sections",
                "is required: a list of {\"title\": \"...\", \"fields\": [\"field key\", ...]}",
            ));
        };
        if let Some(obj) = value.as_object() {
            for key in obj.keys().filter(|k| k.as_str() != "sections") {
                problems.add(key.clone(), "is not part of a layout; send `sections` alone");
            }
        }
        if sections.len() > MAX_SECTIONS {
            problems.add(
                "sections",
                format!("has {}; a layout holds at most {MAX_SECTIONS}", sections.len()),
            );
        }
        let known: HashSet<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        let mut placed: HashMap<String, String> = HashMap::new();
        let mut titles: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for (i, section) in sections.iter().enumerate() {
            let at = format!("sections[{i}]");
            let title = match section.get("title").and_then(Value::as_str).map(str::trim) {
                None => {
                    problems.add(format!("{at}.title"), "is required: the section's heading");
                    String::new()
                }
                Some("") => {
                    problems.add(format!("{at}.title"), "must not be empty");
                    String::new()
                }
                Some(t) if t.chars().any(char::is_control) => {
                    problems.add(format!("{at}.title"), "must not contain control characters");
                    String::new()
                }
                Some(t) if t.chars().count() > MAX_TITLE => {
                    problems.add(format!("{at}.title"), format!("must be at most {MAX_TITLE} characters"));
                    String::new()
                }
                Some(t) => {
                    if !titles.insert(t.to_lowercase()) {
                        problems.add(
                            format!("{at}.title"),
                            format!("`{t}` is the title of an earlier section"),
                        );
                    }
                    t.to_owned()
                }
            };
            let keys = match section.get("fields") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys.clone(),
                Some(_) => {
                    problems.add(format!("{at}.fields"), "must be a list of field keys");
                    Vec::new()
                }
            };
            let mut section_fields = Vec::new();
            for (j, key) in keys.iter().enumerate() {
                let path = format!("{at}.fields[{j}]");
                let Some(key) = key.as_str() else {
                    problems.add(path, "must be a field key (text)");
                    continue;
                };
                if !known.contains(key) {
                    problems.add(
                        path,
                        format!("no extra field `{}`", key.chars().take(100).collect::<String>()),
                    );
                } else if let Some(first) = placed.get(key) {
                    problems.add(path, format!("`{key}` is already placed at {first}"));
                } else {
                    placed.insert(key.to_owned(), path);
                    section_fields.push(key.to_owned());
                }
            }
            out.push(Section {
                title,
                fields: section_fields,
            });
        }
        problems.into_result()?;
        Ok(CardLayout { sections: out })
    }

    /// The layout as the API gives it.
    pub fn to_json(&self) -> Value {
        json!({ "sections": self.sections })
    }

    /// `items` (by field key) arranged: each section's in the section's order, the fields
    /// no section holds after, in the order given. A key the layout names but `items`
    /// lacks (a removed field, a field without a value on a card) is skipped.
    pub fn arrange<T>(&self, items: Vec<(String, T)>) -> Arranged<T> {
        let mut by_key: HashMap<String, T> = HashMap::new();
        let mut order = Vec::new();
        for (key, item) in items {
            order.push(key.clone());
            by_key.insert(key, item);
        }
        let sections = self
            .sections
            .iter()
            .map(|s| {
                let held = s.fields.iter().filter_map(|k| by_key.remove(k)).collect();
                (s.title.clone(), held)
            })
            .collect();
        let other = order.into_iter().filter_map(|k| by_key.remove(&k)).collect();
        Arranged { sections, other }
    }

    /// The keys every section holds, in order.
    pub fn placed(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().flat_map(|s| s.fields.iter().map(String::as_str))
    }
}

/// Every stored layout, to resolve many types' layouts without a query each (the tiles of
/// a page of contacts of mixed types).
#[derive(Debug, Clone, Default)]
pub struct LayoutBook {
    /// Stored layouts by type key.
    stored: HashMap<String, CardLayout>,
}

impl LayoutBook {
    /// The layout that applies to `type_key`: its own, its nearest ancestor's, or the
    /// default.
    pub fn resolve(&self, schema: &Schema, type_key: &str) -> TypeLayout {
        for (depth, key) in schema.types.lineage(type_key).into_iter().enumerate() {
            if let Some(layout) = self.stored.get(key) {
                return TypeLayout {
                    type_key: type_key.to_owned(),
                    layout: layout.clone(),
                    source: if depth == 0 {
                        LayoutSource::Own
                    } else {
                        LayoutSource::Inherited(key.to_owned())
                    },
                };
            }
        }
        TypeLayout {
            type_key: type_key.to_owned(),
            layout: CardLayout::default_for(schema, type_key),
            source: LayoutSource::Default,
        }
    }
}

impl SchemaService {
    /// Every stored layout.
    pub async fn layout_book(&self) -> Result<LayoutBook> {
        let tree = self.type_tree().await?;
        self.layout_book_in(&tree).await
    }

    /// Every stored layout, with the type tree already read.
    pub async fn layout_book_in(&self, tree: &TypeTree) -> Result<LayoutBook> {
        let rows = card_layouts::Entity::find().all(&self.base.db).await?;
        let mut stored = HashMap::new();
        for row in rows {
            // A layout of a type removed since is not anyone's.
            let Some(t) = tree.by_id(row.type_id) else { continue };
            let layout: CardLayout = serde_json::from_value(row.layout)
                .map_err(|e| Error::Internal(format!("card layout of `{}`: {e}", t.key)))?;
            stored.insert(t.key.clone(), layout);
        }
        Ok(LayoutBook { stored })
    }

    /// The layout that applies to type `type_key` (`NotFound` for no such type).
    pub async fn card_layout(&self, type_key: &str) -> Result<TypeLayout> {
        let schema = self.current().await?;
        if schema.types.by_key(type_key).is_none() {
            return Err(Error::NotFound { what: "contact type" });
        }
        Ok(self.layout_book_in(&schema.types).await?.resolve(&schema, type_key))
    }

    /// Stores `layout` (as the API sends it, checked) as type `type_key`'s own (admins).
    pub async fn set_card_layout(&self, actor: &Actor, type_key: &str, layout: &Value) -> Result<TypeLayout> {
        actor.require_admin()?;
        let schema = self.current().await?;
        let Some(t) = schema.types.by_key(type_key) else {
            return Err(Error::NotFound { what: "contact type" });
        };
        let layout = CardLayout::from_json(layout, &schema.fields)?;
        let row = card_layouts::ActiveModel {
            type_id: Set(t.id),
            layout: Set(serde_json::to_value(&layout).map_err(|e| Error::Internal(e.to_string()))?),
            updated_at: Set(crate::clock::stored(self.base.clock.now())),
        };
        let exists = card_layouts::Entity::find_by_id(t.id)
            .one(&self.base.db)
            .await?
            .is_some();
        if exists {
            row.update(&self.base.db).await?;
        } else {
            row.insert(&self.base.db).await?;
        }
        Ok(TypeLayout {
            type_key: type_key.to_owned(),
            layout,
            source: LayoutSource::Own,
        })
    }

    /// Removes type `type_key`'s own layout (admins): it uses its parent's again.
    pub async fn remove_card_layout(&self, actor: &Actor, type_key: &str) -> Result<TypeLayout> {
        actor.require_admin()?;
        let tree = self.type_tree().await?;
        let Some(t) = tree.by_key(type_key) else {
            return Err(Error::NotFound { what: "contact type" });
        };
        card_layouts::Entity::delete_by_id(t.id).exec(&self.base.db).await?;
        self.card_layout(type_key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldKind;

    fn field(key: &str) -> FieldDef {
        FieldDef {
            key: key.to_owned(),
            label: key.to_owned(),
            kind: FieldKind::Text,
            options: vec![],
            required: false,
            searchable: false,
            applies_to: vec![],
            position: 0,
        }
    }

    #[test]
    fn every_problem_at_its_path() {
        let fields = [field("nps"), field("budget")];
        let bad = json!({"sections": [
            {"title": "", "fields": ["nps", "ghost"]},
            {"title": "Money", "fields": ["nps", 3]},
            {"title": "money"}
        ], "hidden": []});
        let problems = CardLayout::from_json(&bad, &fields).unwrap_err().problems();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "hidden",
                "sections[0].title",
                "sections[0].fields[1]",
                "sections[1].fields[0]",
                "sections[1].fields[1]",
                "sections[2].title"
            ]
        );
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("already placed at sections[0].fields[0]"))
        );
    }

    #[test]
    fn arranges_by_section_and_keeps_the_rest() {
        let layout = CardLayout {
            sections: vec![
                Section {
                    title: "Sales".into(),
                    fields: vec!["budget".into(), "gone".into(), "nps".into()],
                },
                Section {
                    title: "Empty".into(),
                    fields: vec![],
                },
            ],
        };
        let arranged = layout.arrange(vec![("nps".into(), 1), ("size".into(), 2), ("budget".into(), 3)]);
        assert_eq!(
            arranged.sections,
            vec![("Sales".to_owned(), vec![3, 1]), ("Empty".to_owned(), vec![])]
        );
        assert_eq!(arranged.other, vec![2]);
    }
}
