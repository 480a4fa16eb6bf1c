//! Building the predicate IR: [`PredicateBuilder`] pushes nodes and hands back [`Node`]
//! handles, so children always come before their parents, as the contract requires.

use std::fmt::{self, Write as _};

use crate::{
    ActivityExists, ArgNode, Args, Compare, CompareOp, GeoBox, InSet, IrNode, PluginError, Predicate, Range, Residual,
    TextMatch, TextMode, Value,
};

/// A node pushed on a [`PredicateBuilder`]; only valid with the builder that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node(u32);

impl Node {
    /// The node's index in the predicate's node list.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Builds a [`Predicate`]: each method pushes one node and returns its handle.
///
/// ```
/// use kartoteka_plugin_sdk::{PredicateBuilder, TextMode};
///
/// let mut b = PredicateBuilder::new();
/// let empty = b.is_empty("name");
/// let not_empty = b.not(empty);
/// let starts = b.text("name", TextMode::Prefix, "Jo", true);
/// let both = b.and(&[not_empty, starts]);
/// let predicate = b.finish(both);
/// assert_eq!(predicate.to_string(), r#"and(not(is-empty(name)), prefix(name, "Jo", fold))"#);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PredicateBuilder {
    nodes: Vec<IrNode>,
}

impl PredicateBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes any node. Children it names must be handles from this builder.
    pub fn push(&mut self, node: IrNode) -> Node {
        self.nodes.push(node);
        Node(u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX))
    }

    /// Matches every contact.
    pub fn always(&mut self) -> Node {
        self.push(IrNode::Always)
    }

    /// Matches no contact.
    pub fn never(&mut self) -> Node {
        self.push(IrNode::Never)
    }

    /// `field op value`.
    pub fn compare(&mut self, field: &str, op: CompareOp, value: impl Into<Value>) -> Node {
        self.push(IrNode::Compare(Compare {
            field: field.to_owned(),
            op,
            value: value.into(),
        }))
    }

    /// `low <= field <= high`.
    pub fn range(&mut self, field: &str, low: impl Into<Value>, high: impl Into<Value>) -> Node {
        self.push(IrNode::Range(Range {
            field: field.to_owned(),
            low: low.into(),
            high: high.into(),
        }))
    }

    /// A text match: `needle` is where `mode` says in the field's text. With `fold`
    /// false, the bytes must be equal (case and accents count: `"Ab"` does not match
    /// `"ab"`). With `fold` true, both sides are compared in their folded form (see
    /// [`TextMatch`]): case, accents and compatibility forms don't count, so `"lodz"`
    /// matches `"Łódź"` and `"gmail"` matches `"gmaíl"`. For "ignoring case only",
    /// use [`Plan::text`](crate::Plan::text) with [`TextFold::Case`](crate::TextFold).
    pub fn text(&mut self, field: &str, mode: TextMode, needle: &str, fold: bool) -> Node {
        self.push(IrNode::Text(TextMatch {
            field: field.to_owned(),
            mode,
            needle: needle.to_owned(),
            fold,
        }))
    }

    /// `field` is one of `values` (for a multiselect field: any of its items is).
    pub fn in_set(&mut self, field: &str, values: Vec<Value>) -> Node {
        self.push(IrNode::InSet(InSet {
            field: field.to_owned(),
            values,
        }))
    }

    /// `field` is null.
    pub fn is_null(&mut self, field: &str) -> Node {
        self.push(IrNode::IsNull(field.to_owned()))
    }

    /// `field` is empty (an empty string or an empty list).
    pub fn is_empty(&mut self, field: &str) -> Node {
        self.push(IrNode::IsEmpty(field.to_owned()))
    }

    /// At least `min_count` activities matching `activity` (see [`ActivityExists`]).
    pub fn activity(&mut self, activity: ActivityExists) -> Node {
        self.push(IrNode::Activity(activity))
    }

    /// The contact's position lies in the box.
    pub fn geo_box(&mut self, min_lat: f64, max_lat: f64, min_lon: f64, max_lon: f64) -> Node {
        self.push(IrNode::Geo(GeoBox {
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        }))
    }

    /// All of `children` (an empty list is true).
    pub fn and(&mut self, children: &[Node]) -> Node {
        self.push(IrNode::And(children.iter().map(|child| child.0).collect()))
    }

    /// Any of `children` (an empty list is false).
    pub fn or(&mut self, children: &[Node]) -> Node {
        self.push(IrNode::Or(children.iter().map(|child| child.0).collect()))
    }

    /// Not `child`.
    pub fn not(&mut self, child: Node) -> Node {
        self.push(IrNode::Not(child.0))
    }

    /// The exact test that SQL can't do: the host calls this plugin's
    /// `matches(op, args, batch)` on the candidates' values of `field`.
    pub fn residual(&mut self, op: &str, field: &str, args: &Args) -> Node {
        self.push(IrNode::Residual(Residual {
            op: op.to_owned(),
            field: field.to_owned(),
            args: args.clone(),
        }))
    }

    /// The predicate whose root is `root`. Nodes pushed after `root` can't be reached
    /// from it and are dropped, so the root is the last node.
    pub fn finish(mut self, root: Node) -> Predicate {
        self.nodes.truncate(root.0 as usize + 1);
        Predicate { nodes: self.nodes }
    }
}

impl Predicate {
    /// A predicate of one node.
    pub fn single(node: IrNode) -> Self {
        Self { nodes: vec![node] }
    }

    /// Checks what the host checks on shape: at least one node, and every child index
    /// (and every residual's argument tree) refers to earlier nodes only.
    pub fn check(&self) -> Result<(), PluginError> {
        if self.nodes.is_empty() {
            return Err(PluginError::new("empty predicate: the root is the last node"));
        }
        for (at, node) in self.nodes.iter().enumerate() {
            let bad = match node {
                IrNode::And(children) | IrNode::Or(children) => {
                    children.iter().find(|&&child| child as usize >= at).copied()
                }
                IrNode::Not(child) => Some(*child).filter(|&child| child as usize >= at),
                IrNode::Residual(residual) if !residual.args.is_well_formed() => {
                    return Err(PluginError::new(format!("node {at}: malformed residual arguments")));
                }
                _ => None,
            };
            if let Some(child) = bad {
                return Err(PluginError::new(format!(
                    "node {at} refers to node {child}: children must come before their parent"
                )));
            }
        }
        Ok(())
    }
}

/// Renders the predicate from its root, e.g. `and(not(is-empty(name)), residual(...))`.
impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.nodes.len().checked_sub(1) {
            Some(root) => render_node(f, &self.nodes, root),
            None => f.write_str("<empty>"),
        }
    }
}

fn render_node(f: &mut fmt::Formatter<'_>, nodes: &[IrNode], at: usize) -> fmt::Result {
    let child = |f: &mut fmt::Formatter<'_>, index: u32| {
        if (index as usize) < at {
            render_node(f, nodes, index as usize)
        } else {
            write!(f, "<bad index {index}>")
        }
    };
    let Some(node) = nodes.get(at) else {
        return write!(f, "<bad index {at}>");
    };
    match node {
        IrNode::Always => f.write_str("always"),
        IrNode::Never => f.write_str("never"),
        IrNode::Compare(c) => {
            let op = match c.op {
                CompareOp::Eq => "eq",
                CompareOp::Ne => "ne",
                CompareOp::Lt => "lt",
                CompareOp::Le => "le",
                CompareOp::Gt => "gt",
                CompareOp::Ge => "ge",
            };
            write!(f, "{op}({}, {})", c.field, ValueText(&c.value))
        }
        IrNode::Range(r) => write!(f, "range({}, {}, {})", r.field, ValueText(&r.low), ValueText(&r.high)),
        IrNode::Text(t) => {
            let mode = match t.mode {
                TextMode::Contains => "contains",
                TextMode::Prefix => "prefix",
                TextMode::Suffix => "suffix",
                TextMode::Equals => "equals",
            };
            write!(
                f,
                "{mode}({}, {:?}{})",
                t.field,
                t.needle,
                if t.fold { ", fold" } else { "" }
            )
        }
        IrNode::InSet(s) => {
            write!(f, "in({}, [", s.field)?;
            for (i, value) in s.values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", ValueText(value))?;
            }
            f.write_str("])")
        }
        IrNode::IsNull(field) => write!(f, "is-null({field})"),
        IrNode::IsEmpty(field) => write!(f, "is-empty({field})"),
        IrNode::Activity(a) => {
            write!(f, "activity({}, min-count {}", a.kind, a.min_count)?;
            if let Some(since) = a.since {
                write!(f, ", since {since}")?;
            }
            if let Some(until) = a.until {
                write!(f, ", until {until}")?;
            }
            if let Some(amount) = a.min_amount {
                write!(f, ", min-amount {amount:?}")?;
            }
            for (key, value) in &a.properties {
                write!(f, ", {key} = {}", ValueText(value))?;
            }
            f.write_str(")")
        }
        IrNode::Geo(g) => write!(
            f,
            "geo({:?}..{:?}, {:?}..{:?})",
            g.min_lat, g.max_lat, g.min_lon, g.max_lon
        ),
        IrNode::And(children) | IrNode::Or(children) => {
            f.write_str(if matches!(node, IrNode::And(_)) { "and(" } else { "or(" })?;
            for (i, &index) in children.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                child(f, index)?;
            }
            f.write_str(")")
        }
        IrNode::Not(index) => {
            f.write_str("not(")?;
            child(f, *index)?;
            f.write_str(")")
        }
        IrNode::Residual(r) => {
            let mut args = String::new();
            if let Some(root) = r.args.nodes.len().checked_sub(1) {
                render_arg(&mut args, &r.args.nodes, root)?;
            }
            write!(f, "residual({}, {}, {args})", r.op, r.field)
        }
    }
}

fn render_arg(out: &mut String, nodes: &[ArgNode], at: usize) -> fmt::Result {
    let item = |out: &mut String, index: u32| {
        if (index as usize) < at {
            render_arg(out, nodes, index as usize)
        } else {
            write!(out, "<bad index {index}>")
        }
    };
    match nodes.get(at) {
        None => write!(out, "<bad index {at}>"),
        Some(ArgNode::Null) => out.write_str("null"),
        Some(ArgNode::Boolean(v)) => write!(out, "{v}"),
        Some(ArgNode::Integer(v)) => write!(out, "{v}"),
        Some(ArgNode::Number(v)) => write!(out, "{v:?}"),
        Some(ArgNode::Text(v)) => write!(out, "{v:?}"),
        Some(ArgNode::List(items)) => {
            out.push('[');
            for (i, &index) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                item(out, index)?;
            }
            out.push(']');
            Ok(())
        }
        Some(ArgNode::Object(entries)) => {
            out.push('{');
            for (i, (key, index)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{key:?}: ")?;
                item(out, *index)?;
            }
            out.push('}');
            Ok(())
        }
    }
}

/// A value as the rendering shows it: `"text"`, `3`, `3.5`, `date(2024-01-31)`.
struct ValueText<'a>(&'a Value);

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => f.write_str("null"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::Integer(v) => write!(f, "{v}"),
            Value::Number(v) => write!(f, "{v:?}"),
            Value::Text(v) => write!(f, "{v:?}"),
            Value::Date(v) => write!(f, "date({v})"),
            Value::Datetime(v) => write!(f, "datetime({v})"),
        }
    }
}
