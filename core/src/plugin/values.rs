//! What travels to a plugin and back besides the IR: arguments, batches, field references
//! and self-descriptions, as host types, with their conversions to and from the WIT
//! shapes and the checks an answer passes.

use serde_json::{Map, Number, Value as Json};

use super::bindings::filter::exports::kartoteka::plugin::filter as wit;
use super::bindings::types;
use super::limits::{MAX_ARG_NODES, MAX_DEPTH, MAX_LIST, MAX_STRING};

/// The kinds of value a field reference holds, as plugins see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Integer,
    Money,
    Date,
    Datetime,
    Boolean,
    Select,
    Multiselect,
    Email,
    Phone,
    Url,
    Geo,
    /// `activity.<kind>`.
    Activity,
    /// `location`.
    Location,
    /// `segment`.
    Segment,
    /// `type`.
    ContactType,
}

impl FieldKind {
    /// Every kind, in the contract's order.
    pub const ALL: [FieldKind; 18] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Number,
        FieldKind::Integer,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::Datetime,
        FieldKind::Boolean,
        FieldKind::Select,
        FieldKind::Multiselect,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Url,
        FieldKind::Geo,
        FieldKind::Activity,
        FieldKind::Location,
        FieldKind::Segment,
        FieldKind::ContactType,
    ];

    /// The API name (the field kinds' own names, plus `activity`, `location`, `segment`,
    /// `contact_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Integer => "integer",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Boolean => "boolean",
            FieldKind::Select => "select",
            FieldKind::Multiselect => "multiselect",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Url => "url",
            FieldKind::Geo => "geo",
            FieldKind::Activity => "activity",
            FieldKind::Location => "location",
            FieldKind::Segment => "segment",
            FieldKind::ContactType => "contact_type",
        }
    }

    /// The kind named `s` (`long_text` or `long-text`).
    pub fn parse(s: &str) -> Option<FieldKind> {
        let s = s.replace('-', "_");
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn from_wit(kind: types::FieldKind) -> FieldKind {
        use types::FieldKind as W;
        match kind {
            W::Text => FieldKind::Text,
            W::LongText => FieldKind::LongText,
            W::Number => FieldKind::Number,
            W::Integer => FieldKind::Integer,
            W::Money => FieldKind::Money,
            W::Date => FieldKind::Date,
            W::Datetime => FieldKind::Datetime,
            W::Boolean => FieldKind::Boolean,
            W::Select => FieldKind::Select,
            W::Multiselect => FieldKind::Multiselect,
            W::Email => FieldKind::Email,
            W::Phone => FieldKind::Phone,
            W::Url => FieldKind::Url,
            W::Geo => FieldKind::Geo,
            W::Activity => FieldKind::Activity,
            W::Location => FieldKind::Location,
            W::Segment => FieldKind::Segment,
            W::ContactType => FieldKind::ContactType,
        }
    }

    fn to_wit(self) -> types::FieldKind {
        use types::FieldKind as W;
        match self {
            FieldKind::Text => W::Text,
            FieldKind::LongText => W::LongText,
            FieldKind::Number => W::Number,
            FieldKind::Integer => W::Integer,
            FieldKind::Money => W::Money,
            FieldKind::Date => W::Date,
            FieldKind::Datetime => W::Datetime,
            FieldKind::Boolean => W::Boolean,
            FieldKind::Select => W::Select,
            FieldKind::Multiselect => W::Multiselect,
            FieldKind::Email => W::Email,
            FieldKind::Phone => W::Phone,
            FieldKind::Url => W::Url,
            FieldKind::Geo => W::Geo,
            FieldKind::Activity => W::Activity,
            FieldKind::Location => W::Location,
            FieldKind::Segment => W::Segment,
            FieldKind::ContactType => W::ContactType,
        }
    }
}

impl From<crate::fields::FieldKind> for FieldKind {
    fn from(kind: crate::fields::FieldKind) -> Self {
        FieldKind::parse(kind.as_str()).unwrap_or(FieldKind::Text)
    }
}

/// The field a filter node is on, as `lower` receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// `name`, `fields.industry`, `activity.purchase`, `location`, ...
    pub path: String,
    pub kind: FieldKind,
    /// The options of a select or multiselect field.
    pub options: Vec<String>,
}

impl FieldRef {
    pub(crate) fn to_wit(&self) -> wit::FieldRef {
        wit::FieldRef {
            path: self.path.clone(),
            kind: self.kind.to_wit(),
            options: self.options.clone(),
        }
    }
}

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

/// A string of at most [`MAX_STRING`] bytes.
pub fn check_text(s: String, what: &str) -> Result<String, String> {
    if s.len() > MAX_STRING {
        Err(format!("{what} is {} bytes long; at most {MAX_STRING}", s.len()))
    } else {
        Ok(s)
    }
}

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
            let k = FieldKind::from_wit(k);
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

/// Flattens a JSON value into an argument tree, children first and the root last;
/// `None` is the empty tree (no argument).
pub fn args_to_wit(value: Option<&Json>) -> Result<types::Args, String> {
    fn push(value: &Json, nodes: &mut Vec<types::ArgNode>, depth: usize) -> Result<u32, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the value is nested deeper than {MAX_DEPTH} levels"));
        }
        if nodes.len() >= MAX_ARG_NODES {
            return Err(format!("the value has more than {MAX_ARG_NODES} parts"));
        }
        let node = match value {
            Json::Null => types::ArgNode::Null,
            Json::Bool(b) => types::ArgNode::Boolean(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => types::ArgNode::Integer(i),
                None => types::ArgNode::Number(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => types::ArgNode::Text(s.clone()),
            Json::Array(items) => {
                let mut children = Vec::with_capacity(items.len());
                for item in items {
                    children.push(push(item, nodes, depth + 1)?);
                }
                types::ArgNode::List(children)
            }
            Json::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (k, v) in map {
                    entries.push((k.clone(), push(v, nodes, depth + 1)?));
                }
                types::ArgNode::Object(entries)
            }
        };
        if nodes.len() >= MAX_ARG_NODES {
            return Err(format!("the value has more than {MAX_ARG_NODES} parts"));
        }
        nodes.push(node);
        u32::try_from(nodes.len() - 1).map_err(|_| "the value is too large".to_owned())
    }
    let mut nodes = Vec::new();
    if let Some(value) = value {
        push(value, &mut nodes, 1)?;
    }
    Ok(types::Args { nodes })
}

/// Reads an argument tree from a plugin back into JSON, checking its indices (children
/// before parents, root last), size and depth; `None` for the empty tree.
pub fn args_from_wit(args: &types::Args) -> Result<Option<Json>, String> {
    if args.nodes.len() > MAX_ARG_NODES {
        return Err(format!("{} argument nodes; at most {MAX_ARG_NODES}", args.nodes.len()));
    }
    // (value, expanded size, depth) of each node so far.
    let mut built: Vec<(Json, usize, usize)> = Vec::with_capacity(args.nodes.len());
    for (i, node) in args.nodes.iter().enumerate() {
        let child = |c: u32| -> Result<&(Json, usize, usize), String> {
            let c = usize::try_from(c).unwrap_or(usize::MAX);
            if c == i {
                return Err(format!("argument node {i} refers to itself"));
            }
            built
                .get(c)
                .ok_or_else(|| format!("argument node {i} refers to node {c}, which is not an earlier node"))
        };
        let entry = match node {
            types::ArgNode::Null => (Json::Null, 1, 1),
            types::ArgNode::Boolean(b) => (Json::Bool(*b), 1, 1),
            types::ArgNode::Integer(n) => (Json::from(*n), 1, 1),
            types::ArgNode::Number(n) => (
                Json::Number(Number::from_f64(*n).ok_or_else(|| format!("argument node {i} is not a finite number"))?),
                1,
                1,
            ),
            types::ArgNode::Text(s) => (Json::String(check_text(s.clone(), "an argument")?), 1, 1),
            types::ArgNode::List(items) => {
                if items.len() > MAX_LIST {
                    return Err(format!("argument node {i} has more than {MAX_LIST} items"));
                }
                let (mut size, mut depth, mut out) = (1usize, 1usize, Vec::with_capacity(items.len()));
                for &c in items {
                    let (v, s, d) = child(c)?;
                    size = size.saturating_add(*s);
                    depth = depth.max(d + 1);
                    if size > MAX_ARG_NODES {
                        return Err(format!("the arguments expand to more than {MAX_ARG_NODES} nodes"));
                    }
                    out.push(v.clone());
                }
                (Json::Array(out), size, depth)
            }
            types::ArgNode::Object(entries) => {
                if entries.len() > MAX_LIST {
                    return Err(format!("argument node {i} has more than {MAX_LIST} keys"));
                }
                let (mut size, mut depth, mut out) = (1usize, 1usize, Map::new());
                for (k, c) in entries {
                    let (v, s, d) = child(*c)?;
                    size = size.saturating_add(*s);
                    depth = depth.max(d + 1);
                    if size > MAX_ARG_NODES {
                        return Err(format!("the arguments expand to more than {MAX_ARG_NODES} nodes"));
                    }
                    out.insert(check_text(k.clone(), "an argument key")?, v.clone());
                }
                (Json::Object(out), size, depth)
            }
        };
        if entry.2 > MAX_DEPTH {
            return Err(format!("the arguments are nested deeper than {MAX_DEPTH} levels"));
        }
        built.push(entry);
    }
    Ok(built.pop().map(|(v, _, _)| v))
}

/// A column of values for a batch call.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numbers(Vec<f64>),
    Integers(Vec<i64>),
    Booleans(Vec<bool>),
    /// UTF-8 strings end to end; string `i` ends at `ends[i]`.
    Texts {
        bytes: Vec<u8>,
        ends: Vec<u32>,
    },
    /// Latitude and longitude interleaved.
    Points(Vec<f64>),
}

/// A batch of values (and which are null) for `matches` or `score`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    column: Column,
    nulls: Vec<bool>,
}

impl Batch {
    /// Texts; `None` is null (sent as an empty string).
    pub fn texts<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Batch {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        let mut nulls = Vec::new();
        for v in values {
            bytes.extend_from_slice(v.unwrap_or_default().as_bytes());
            ends.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            nulls.push(v.is_none());
        }
        Batch {
            column: Column::Texts { bytes, ends },
            nulls,
        }
    }

    /// Numbers; `None` is null.
    pub fn numbers(values: impl IntoIterator<Item = Option<f64>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(0.0), v.is_none())).unzip();
        Batch {
            column: Column::Numbers(column),
            nulls,
        }
    }

    /// Integers; `None` is null.
    pub fn integers(values: impl IntoIterator<Item = Option<i64>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(0), v.is_none())).unzip();
        Batch {
            column: Column::Integers(column),
            nulls,
        }
    }

    /// Booleans; `None` is null.
    pub fn booleans(values: impl IntoIterator<Item = Option<bool>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(false), v.is_none())).unzip();
        Batch {
            column: Column::Booleans(column),
            nulls,
        }
    }

    /// Points `(lat, lon)`; `None` is null.
    pub fn points(values: impl IntoIterator<Item = Option<(f64, f64)>>) -> Batch {
        let mut column = Vec::new();
        let mut nulls = Vec::new();
        for v in values {
            let (lat, lon) = v.unwrap_or((0.0, 0.0));
            column.push(lat);
            column.push(lon);
            nulls.push(v.is_none());
        }
        Batch {
            column: Column::Points(column),
            nulls,
        }
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.nulls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nulls.is_empty()
    }

    /// The column.
    pub fn column(&self) -> &Column {
        &self.column
    }

    /// Splits the batch into batches of at most `max` values, in order.
    pub fn chunks(self, max: usize) -> Vec<Batch> {
        let max = max.max(1);
        if self.len() <= max {
            return vec![self];
        }
        let Batch { column, nulls } = self;
        let nulls: Vec<Vec<bool>> = nulls.chunks(max).map(<[bool]>::to_vec).collect();
        let columns: Vec<Column> = match column {
            Column::Numbers(v) => v.chunks(max).map(|c| Column::Numbers(c.to_vec())).collect(),
            Column::Integers(v) => v.chunks(max).map(|c| Column::Integers(c.to_vec())).collect(),
            Column::Booleans(v) => v.chunks(max).map(|c| Column::Booleans(c.to_vec())).collect(),
            Column::Points(v) => v.chunks(max * 2).map(|c| Column::Points(c.to_vec())).collect(),
            Column::Texts { bytes, ends } => {
                let mut out = Vec::new();
                let mut start = 0u32;
                for chunk in ends.chunks(max) {
                    let end = chunk.last().copied().unwrap_or(start);
                    let slice = bytes
                        .get(start as usize..end as usize)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default();
                    out.push(Column::Texts {
                        bytes: slice,
                        ends: chunk.iter().map(|e| e.saturating_sub(start)).collect(),
                    });
                    start = end;
                }
                out
            }
        };
        columns
            .into_iter()
            .zip(nulls)
            .map(|(column, nulls)| Batch { column, nulls })
            .collect()
    }

    /// The WIT shape (moves the buffers, copies nothing).
    pub(crate) fn into_wit(self) -> types::Batch {
        types::Batch {
            values: match self.column {
                Column::Numbers(v) => types::Column::Numbers(v),
                Column::Integers(v) => types::Column::Integers(v),
                Column::Booleans(v) => types::Column::Booleans(v),
                Column::Texts { bytes, ends } => types::Column::Texts(types::TextColumn { bytes, ends }),
                Column::Points(v) => types::Column::Points(v),
            },
            nulls: self.nulls,
        }
    }

    /// A batch of `kind` values from JSON (for trying an operator by hand): texts for text
    /// kinds and dates, numbers, integers (datetimes as Unix seconds), booleans, points
    /// (`[lat, lon]`). `null` is null.
    pub fn from_json(kind: FieldKind, values: &[Json]) -> Result<Batch, String> {
        let bad = |i: usize, what: &str| format!("values[{i}]: expected {what} or null");
        Ok(match kind {
            FieldKind::Number | FieldKind::Money => Batch::numbers(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_f64().map(Some).ok_or_else(|| bad(i, "a number")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Integer | FieldKind::Datetime => Batch::integers(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_i64().map(Some).ok_or_else(|| bad(i, "an integer")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Boolean => Batch::booleans(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_bool().map(Some).ok_or_else(|| bad(i, "true or false")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Geo | FieldKind::Location => Batch::points(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        Json::Array(p) => match (p.first().and_then(Json::as_f64), p.get(1).and_then(Json::as_f64)) {
                            (Some(lat), Some(lon)) if p.len() == 2 => Ok(Some((lat, lon))),
                            _ => Err(bad(i, "[lat, lon]")),
                        },
                        _ => Err(bad(i, "[lat, lon]")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => {
                let texts = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        Json::String(s) => Ok(Some(s.as_str())),
                        _ => Err(bad(i, "a string")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Batch::texts(texts)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn args_round_trip() {
        for value in [
            json!(null),
            json!(3),
            json!(2.5),
            json!("Łódź"),
            json!([1, [2, 3], {"a": true}]),
            json!({"amount": 30, "unit": "days", "where": {"path": "/pricing"}}),
        ] {
            let args = args_to_wit(Some(&value)).unwrap();
            assert_eq!(args_from_wit(&args).unwrap(), Some(value.clone()), "{value}");
        }
        assert_eq!(args_from_wit(&args_to_wit(None).unwrap()).unwrap(), None);
    }

    #[test]
    fn args_from_a_plugin_are_checked() {
        let bad = types::Args {
            nodes: vec![types::ArgNode::List(vec![0])],
        };
        assert!(args_from_wit(&bad).unwrap_err().contains("itself"));
        let forward = types::Args {
            nodes: vec![types::ArgNode::List(vec![1]), types::ArgNode::Null],
        };
        assert!(args_from_wit(&forward).unwrap_err().contains("not an earlier node"));
        let mut nodes = vec![types::ArgNode::Null];
        for i in 0..40u32 {
            nodes.push(types::ArgNode::List(vec![i, i]));
        }
        assert!(args_from_wit(&types::Args { nodes }).is_err());
    }

    #[test]
    fn text_batches_split_on_value_boundaries() {
        let values: Vec<String> = (0..10).map(|i| "x".repeat(i)).collect();
        let batch = Batch::texts(values.iter().map(|s| Some(s.as_str())));
        let chunks = batch.chunks(4);
        assert_eq!(chunks.len(), 3);
        let mut seen = Vec::new();
        for chunk in chunks {
            let Column::Texts { bytes, ends } = chunk.column() else {
                panic!("texts")
            };
            let mut start = 0usize;
            for &end in ends {
                seen.push(String::from_utf8(bytes[start..end as usize].to_vec()).unwrap());
                start = end as usize;
            }
        }
        assert_eq!(seen, values);
    }

    #[test]
    fn field_kinds_parse_both_spellings() {
        assert_eq!(FieldKind::parse("long-text"), Some(FieldKind::LongText));
        assert_eq!(FieldKind::parse("contact_type"), Some(FieldKind::ContactType));
        assert_eq!(FieldKind::parse("nope"), None);
    }
}
