//! What a plugin says it is ([`Description`]): its kind (the world it implements), the
//! capabilities it asks for and what it offers, checked before the host believes it.

use serde_json::{Map, Value as Json};

use super::{FieldKind, check_text};
use crate::plugin::bindings::types;

/// A capability a plugin may ask for (bulk actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    SendEmail,
    CreateTask,
    GrantAccess,
}

impl Capability {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::SendEmail => "send_email",
            Capability::CreateTask => "create_task",
            Capability::GrantAccess => "grant_access",
        }
    }

    /// The capability named `s`.
    pub fn parse(s: &str) -> Option<Capability> {
        [Capability::SendEmail, Capability::CreateTask, Capability::GrantAccess]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    fn from_wit(c: types::Capability) -> Capability {
        match c {
            types::Capability::SendEmail => Capability::SendEmail,
            types::Capability::CreateTask => Capability::CreateTask,
            types::Capability::GrantAccess => Capability::GrantAccess,
        }
    }
}

/// Which world a component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    FilterOperator,
    SegmentCriterion,
    BulkAction,
}

impl Kind {
    /// The world's name: `filter-operator`, `segment-criterion`, `bulk-action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FilterOperator => "filter-operator",
            Kind::SegmentCriterion => "segment-criterion",
            Kind::BulkAction => "bulk-action",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::FilterOperator, Kind::SegmentCriterion, Kind::BulkAction]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The kind in words: `filter operator`, `scoring criterion`, `bulk action`.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::FilterOperator => "filter operator",
            Kind::SegmentCriterion => "scoring criterion",
            Kind::BulkAction => "bulk action",
        }
    }

    /// What one offer of this kind is called: operator, criterion, action.
    pub fn offer(self) -> &'static str {
        match self {
            Kind::FilterOperator => "operator",
            Kind::SegmentCriterion => "criterion",
            Kind::BulkAction => "action",
        }
    }

    /// What the offers of this kind are called: operators, criteria, actions.
    pub fn offers(self) -> &'static str {
        match self {
            Kind::FilterOperator => "operators",
            Kind::SegmentCriterion => "criteria",
            Kind::BulkAction => "actions",
        }
    }
}

/// One thing a plugin offers: an operator, a criterion or an action.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// The name after the plugin's: `eq` in `std.eq`.
    pub name: String,
    pub label: String,
    /// The field kinds it applies to (empty for actions).
    pub applies_to: Vec<FieldKind>,
    /// JSON Schema of its argument or parameters.
    pub schema: Json,
}

/// What a plugin says it is, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    /// A slug, unique among installed plugins.
    pub name: String,
    /// Semantic version.
    pub version: semver::Version,
    pub description: String,
    pub kind: Kind,
    pub capabilities: Vec<Capability>,
    pub offers: Vec<Offer>,
}

/// The most operators (criteria, actions) one plugin may offer.
pub const MAX_OFFERS: usize = 256;
fn is_slug(s: &str, max: usize, extra: u8) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && s.len() <= max
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == extra)
}

/// Whether `name` is a valid plugin name: a lowercase slug (`acme-fuzzy`), at most 40.
pub fn is_plugin_name(name: &str) -> bool {
    is_slug(name, 40, b'-')
}

/// Checks a manifest and a list of offers from `describe`.
pub(crate) fn check_description(
    kind: Kind,
    manifest: types::Manifest,
    offers: Vec<(String, String, Vec<types::FieldKind>, String)>,
) -> Result<Description, String> {
    if !is_plugin_name(&manifest.name) {
        return Err(format!(
            "the name `{}` is not a plugin name: a lowercase slug of letters, digits and `-`, starting with a letter, at most 40",
            manifest.name.chars().take(60).collect::<String>()
        ));
    }
    let version = semver::Version::parse(&manifest.version).map_err(|e| {
        format!(
            "the version `{}` is not a semantic version (MAJOR.MINOR.PATCH): {e}",
            manifest.version.chars().take(40).collect::<String>()
        )
    })?;
    if manifest.description.len() > 2_000 {
        return Err("the description is longer than 2000 bytes".into());
    }
    if offers.len() > MAX_OFFERS {
        return Err(format!(
            "{} {} offered; at most {MAX_OFFERS}",
            offers.len(),
            kind.offers()
        ));
    }
    let mut checked: Vec<Offer> = Vec::with_capacity(offers.len());
    for (name, label, applies_to, schema) in offers {
        if !is_slug(&name, 64, b'_') {
            return Err(format!(
                "`{}` is not a name for one of its {}: lowercase letters, digits and `_`, starting with a letter, at most 64",
                name.chars().take(60).collect::<String>(),
                kind.offers()
            ));
        }
        if checked.iter().any(|o| o.name == name) {
            return Err(format!("`{name}` is offered twice"));
        }
        if label.trim().is_empty() || label.len() > 200 {
            return Err(format!("`{name}` needs a label of 1 to 200 bytes"));
        }
        let schema = check_text(schema, "a schema")?;
        let schema: Json = if schema.trim().is_empty() {
            Json::Object(Map::new())
        } else {
            serde_json::from_str(&schema).map_err(|e| format!("the schema of `{name}` is not JSON: {e}"))?
        };
        let mut kinds: Vec<FieldKind> = Vec::new();
        for k in applies_to {
            let k = FieldKind::from(k);
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        checked.push(Offer {
            name,
            label,
            applies_to: kinds,
            schema,
        });
    }
    let mut capabilities: Vec<Capability> = manifest.capabilities.into_iter().map(Capability::from_wit).collect();
    capabilities.sort();
    capabilities.dedup();
    Ok(Description {
        name: manifest.name,
        version,
        description: manifest.description,
        kind,
        capabilities,
        offers: checked,
    })
}
