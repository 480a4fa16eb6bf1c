//! From the contract's generated types to the SDK's own and back, and the component's
//! exports.
//!
//! wit-bindgen generates one Rust type per WIT type ([`crate::bindings`]); the SDK's own
//! types ([`crate::types`]) mirror them. Every conversion is here, written out field by
//! field with exhaustive matches, so a change to the WIT fails to compile *here* instead
//! of changing what plugin authors write. The `Export*` adapters implement the generated
//! `Guest` traits for any [`FilterPlugin`], [`CriterionPlugin`] or [`ActionPlugin`]; the
//! `export_*_plugin!` macros emit the component's exports for one of them on `wasm32`.

use std::marker::PhantomData;

use crate::bindings::action::exports::kartoteka::plugin::action as wa;
use crate::bindings::criterion::exports::kartoteka::plugin::criterion as wc;
use crate::bindings::filter::exports::kartoteka::plugin::filter as wf;
use crate::bindings::filter::kartoteka::plugin::types as wt;
use crate::plugin::{ActionPlugin, CriterionPlugin, FilterPlugin};
use crate::types::*;

fn arg_node(node: wt::ArgNode) -> ArgNode {
    match node {
        wt::ArgNode::Null => ArgNode::Null,
        wt::ArgNode::Boolean(v) => ArgNode::Boolean(v),
        wt::ArgNode::Integer(v) => ArgNode::Integer(v),
        wt::ArgNode::Number(v) => ArgNode::Number(v),
        wt::ArgNode::Text(v) => ArgNode::Text(v),
        wt::ArgNode::List(v) => ArgNode::List(v),
        wt::ArgNode::Object(v) => ArgNode::Object(v),
    }
}

fn raw_arg_node(node: ArgNode) -> wt::ArgNode {
    match node {
        ArgNode::Null => wt::ArgNode::Null,
        ArgNode::Boolean(v) => wt::ArgNode::Boolean(v),
        ArgNode::Integer(v) => wt::ArgNode::Integer(v),
        ArgNode::Number(v) => wt::ArgNode::Number(v),
        ArgNode::Text(v) => wt::ArgNode::Text(v),
        ArgNode::List(v) => wt::ArgNode::List(v),
        ArgNode::Object(v) => wt::ArgNode::Object(v),
    }
}

impl From<wt::Args> for Args {
    fn from(args: wt::Args) -> Self {
        Args {
            nodes: args.nodes.into_iter().map(arg_node).collect(),
        }
    }
}

impl From<Args> for wt::Args {
    fn from(args: Args) -> Self {
        wt::Args {
            nodes: args.nodes.into_iter().map(raw_arg_node).collect(),
        }
    }
}

impl From<wt::FieldKind> for FieldKind {
    fn from(kind: wt::FieldKind) -> Self {
        match kind {
            wt::FieldKind::Text => FieldKind::Text,
            wt::FieldKind::LongText => FieldKind::LongText,
            wt::FieldKind::Number => FieldKind::Number,
            wt::FieldKind::Integer => FieldKind::Integer,
            wt::FieldKind::Money => FieldKind::Money,
            wt::FieldKind::Date => FieldKind::Date,
            wt::FieldKind::Datetime => FieldKind::Datetime,
            wt::FieldKind::Boolean => FieldKind::Boolean,
            wt::FieldKind::Select => FieldKind::Select,
            wt::FieldKind::Multiselect => FieldKind::Multiselect,
            wt::FieldKind::Email => FieldKind::Email,
            wt::FieldKind::Phone => FieldKind::Phone,
            wt::FieldKind::Url => FieldKind::Url,
            wt::FieldKind::Geo => FieldKind::Geo,
            wt::FieldKind::Activity => FieldKind::Activity,
            wt::FieldKind::Location => FieldKind::Location,
            wt::FieldKind::Segment => FieldKind::Segment,
            wt::FieldKind::ContactType => FieldKind::ContactType,
        }
    }
}

impl From<FieldKind> for wt::FieldKind {
    fn from(kind: FieldKind) -> Self {
        match kind {
            FieldKind::Text => wt::FieldKind::Text,
            FieldKind::LongText => wt::FieldKind::LongText,
            FieldKind::Number => wt::FieldKind::Number,
            FieldKind::Integer => wt::FieldKind::Integer,
            FieldKind::Money => wt::FieldKind::Money,
            FieldKind::Date => wt::FieldKind::Date,
            FieldKind::Datetime => wt::FieldKind::Datetime,
            FieldKind::Boolean => wt::FieldKind::Boolean,
            FieldKind::Select => wt::FieldKind::Select,
            FieldKind::Multiselect => wt::FieldKind::Multiselect,
            FieldKind::Email => wt::FieldKind::Email,
            FieldKind::Phone => wt::FieldKind::Phone,
            FieldKind::Url => wt::FieldKind::Url,
            FieldKind::Geo => wt::FieldKind::Geo,
            FieldKind::Activity => wt::FieldKind::Activity,
            FieldKind::Location => wt::FieldKind::Location,
            FieldKind::Segment => wt::FieldKind::Segment,
            FieldKind::ContactType => wt::FieldKind::ContactType,
        }
    }
}

fn capability(capability: Capability) -> wt::Capability {
    match capability {
        Capability::SendEmail => wt::Capability::SendEmail,
        Capability::CreateTask => wt::Capability::CreateTask,
        Capability::GrantAccess => wt::Capability::GrantAccess,
    }
}

fn manifest(manifest: Manifest) -> wt::Manifest {
    wt::Manifest {
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        capabilities: manifest.capabilities.into_iter().map(capability).collect(),
    }
}

impl From<PluginError> for wt::PluginError {
    fn from(error: PluginError) -> Self {
        wt::PluginError {
            message: error.message,
            path: error.path,
        }
    }
}

impl From<wt::Batch> for Batch {
    fn from(batch: wt::Batch) -> Self {
        let values = match batch.values {
            wt::Column::Numbers(v) => Column::Numbers(v),
            wt::Column::Integers(v) => Column::Integers(v),
            wt::Column::Booleans(v) => Column::Booleans(v),
            wt::Column::Texts(t) => Column::Texts(TextColumn {
                bytes: t.bytes,
                ends: t.ends,
            }),
            wt::Column::Points(v) => Column::Points(v),
        };
        Batch {
            values,
            nulls: batch.nulls,
        }
    }
}

fn value(value: Value) -> wt::Value {
    match value {
        Value::Null => wt::Value::Null,
        Value::Boolean(v) => wt::Value::Boolean(v),
        Value::Integer(v) => wt::Value::Integer(v),
        Value::Number(v) => wt::Value::Number(v),
        Value::Text(v) => wt::Value::Text(v),
        Value::Date(v) => wt::Value::Date(v),
        Value::Datetime(v) => wt::Value::Datetime(v),
    }
}

fn ir_node(node: IrNode) -> wf::IrNode {
    match node {
        IrNode::Always => wf::IrNode::Always,
        IrNode::Never => wf::IrNode::Never,
        IrNode::Compare(c) => wf::IrNode::Compare(wf::Compare {
            field: c.field,
            op: match c.op {
                CompareOp::Eq => wf::CompareOp::Eq,
                CompareOp::Ne => wf::CompareOp::Ne,
                CompareOp::Lt => wf::CompareOp::Lt,
                CompareOp::Le => wf::CompareOp::Le,
                CompareOp::Gt => wf::CompareOp::Gt,
                CompareOp::Ge => wf::CompareOp::Ge,
            },
            value: value(c.value),
        }),
        IrNode::Range(r) => wf::IrNode::Range(wf::Range {
            field: r.field,
            low: value(r.low),
            high: value(r.high),
        }),
        IrNode::Text(t) => wf::IrNode::Text(wf::TextMatch {
            field: t.field,
            mode: match t.mode {
                TextMode::Contains => wf::TextMode::Contains,
                TextMode::Prefix => wf::TextMode::Prefix,
                TextMode::Suffix => wf::TextMode::Suffix,
                TextMode::Equals => wf::TextMode::Equals,
            },
            needle: t.needle,
            fold: t.fold,
        }),
        IrNode::InSet(s) => wf::IrNode::InSet(wf::InSet {
            field: s.field,
            values: s.values.into_iter().map(value).collect(),
        }),
        IrNode::IsNull(field) => wf::IrNode::IsNull(field),
        IrNode::IsEmpty(field) => wf::IrNode::IsEmpty(field),
        IrNode::Activity(a) => wf::IrNode::Activity(wf::ActivityExists {
            kind: a.kind,
            since: a.since,
            until: a.until,
            min_count: a.min_count,
            min_amount: a.min_amount,
            properties: a.properties.into_iter().map(|(k, v)| (k, value(v))).collect(),
        }),
        IrNode::Geo(g) => wf::IrNode::Geo(wf::GeoBox {
            min_lat: g.min_lat,
            max_lat: g.max_lat,
            min_lon: g.min_lon,
            max_lon: g.max_lon,
        }),
        IrNode::And(children) => wf::IrNode::And(children),
        IrNode::Or(children) => wf::IrNode::Or(children),
        IrNode::Not(child) => wf::IrNode::Not(child),
        IrNode::Residual(r) => wf::IrNode::Residual(wf::Residual {
            op: r.op,
            field: r.field,
            args: r.args.into(),
        }),
    }
}

fn kinds(kinds: Vec<FieldKind>) -> Vec<wt::FieldKind> {
    kinds.into_iter().map(Into::into).collect()
}

fn contact(contact: wa::Contact) -> Contact {
    Contact {
        id: contact.id,
        kind: contact.kind,
        name: contact.name,
        email: contact.email,
        phone: contact.phone,
        owner: contact.owner,
        fields_json: contact.fields_json,
    }
}

fn effect(effect: Effect) -> wa::Effect {
    let kind = match effect.effect {
        EffectKind::SendEmail(e) => wa::EffectKind::SendEmail(wa::SendEmail {
            to: e.to,
            subject: e.subject,
            html: e.html,
            text: e.text,
        }),
        EffectKind::CreateTask(t) => wa::EffectKind::CreateTask(wa::CreateTask {
            title: t.title,
            body: t.body,
            assignee: t.assignee,
            due: t.due,
        }),
        EffectKind::GrantAccess(g) => wa::EffectKind::GrantAccess(wa::GrantAccess {
            principal: match g.principal {
                Principal::User(id) => wa::Principal::User(id),
                Principal::Role(role) => wa::Principal::Role(role),
            },
            level: match g.level {
                AccessLevel::Read => wa::AccessLevel::Read,
                AccessLevel::Write => wa::AccessLevel::Write,
            },
        }),
    };
    wa::Effect {
        contact_id: effect.contact_id,
        effect: kind,
    }
}

/// Adapts a [`FilterPlugin`] to the generated export trait.
#[doc(hidden)]
pub struct ExportFilter<T>(PhantomData<T>);

impl<T: FilterPlugin> wf::Guest for ExportFilter<T> {
    fn describe() -> wf::Description {
        let description = T::description();
        wf::Description {
            manifest: manifest(description.manifest),
            operators: description
                .entries
                .into_iter()
                .map(|e| wf::OperatorInfo {
                    name: e.name,
                    label: e.label,
                    applies_to: kinds(e.applies_to),
                    args_schema: e.schema,
                })
                .collect(),
        }
    }

    fn lower(
        op: String,
        field: wf::FieldRef,
        args: wt::Args,
        context: wf::LowerContext,
    ) -> Result<wf::Predicate, wt::PluginError> {
        let field = Field {
            path: field.path,
            kind: field.kind.into(),
            options: field.options,
        };
        let predicate = T::lower(&op, &field, &args.into(), context.now)?;
        Ok(wf::Predicate {
            nodes: predicate.nodes.into_iter().map(ir_node).collect(),
        })
    }

    fn matches(op: String, args: wt::Args, values: wt::Batch) -> Result<Vec<bool>, wt::PluginError> {
        Ok(T::matches(&op, &args.into(), &values.into())?)
    }
}

/// Adapts a [`CriterionPlugin`] to the generated export trait.
#[doc(hidden)]
pub struct ExportCriterion<T>(PhantomData<T>);

impl<T: CriterionPlugin> wc::Guest for ExportCriterion<T> {
    fn describe() -> wc::Description {
        let description = T::description();
        wc::Description {
            manifest: manifest(description.manifest),
            criteria: description
                .entries
                .into_iter()
                .map(|e| wc::CriterionInfo {
                    name: e.name,
                    label: e.label,
                    applies_to: kinds(e.applies_to),
                    params_schema: e.schema,
                })
                .collect(),
        }
    }

    fn score(criterion: String, params: wt::Args, values: wt::Batch) -> Result<Vec<f64>, wt::PluginError> {
        Ok(T::score(&criterion, &params.into(), &values.into())?)
    }
}

/// Adapts an [`ActionPlugin`] to the generated export trait.
#[doc(hidden)]
pub struct ExportAction<T>(PhantomData<T>);

impl<T: ActionPlugin> wa::Guest for ExportAction<T> {
    fn describe() -> wa::Description {
        let description = T::description();
        wa::Description {
            manifest: manifest(description.manifest),
            actions: description
                .entries
                .into_iter()
                .map(|e| wa::ActionInfo {
                    name: e.name,
                    label: e.label,
                    params_schema: e.schema,
                })
                .collect(),
        }
    }

    fn run(action: String, params: wt::Args, contacts: Vec<wa::Contact>) -> Result<Vec<wa::Effect>, wt::PluginError> {
        let contacts: Vec<Contact> = contacts.into_iter().map(contact).collect();
        let effects = T::run(&action, &params.into(), &contacts)?;
        Ok(effects.into_iter().map(effect).collect())
    }
}

/// Compile-time checks the export macros use on targets without export glue.
#[doc(hidden)]
pub fn assert_filter_plugin<T: FilterPlugin>() {}
#[doc(hidden)]
pub fn assert_criterion_plugin<T: CriterionPlugin>() {}
#[doc(hidden)]
pub fn assert_action_plugin<T: ActionPlugin>() {}

/// Makes `$ty` (a [`FilterPlugin`](crate::FilterPlugin)) the component's
/// `kartoteka:plugin/filter` export. [`plugin!`](crate::plugin) calls it; call it
/// yourself only for a hand-written `FilterPlugin`, once, at the root of a `cdylib` crate.
/// On `wasm32` it emits the exports; elsewhere (native `cargo test`) it only checks the type.
#[macro_export]
macro_rules! export_filter_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaFilterPlugin = $crate::__private::ExportFilter<$ty>;
            $crate::__private::filter::__export_filter_operator_raw!(
                __KartotekaFilterPlugin with_types_in $crate::__private::filter
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_filter_plugin::<$ty>;
    };
}

/// Makes `$ty` (a [`CriterionPlugin`](crate::CriterionPlugin)) the component's
/// `kartoteka:plugin/criterion` export; see [`export_filter_plugin!`](crate::export_filter_plugin).
#[macro_export]
macro_rules! export_criterion_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaCriterionPlugin = $crate::__private::ExportCriterion<$ty>;
            $crate::__private::criterion::__export_segment_criterion_raw!(
                __KartotekaCriterionPlugin with_types_in $crate::__private::criterion
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_criterion_plugin::<$ty>;
    };
}

/// Makes `$ty` (an [`ActionPlugin`](crate::ActionPlugin)) the component's
/// `kartoteka:plugin/action` export; see [`export_filter_plugin!`](crate::export_filter_plugin).
#[macro_export]
macro_rules! export_action_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaActionPlugin = $crate::__private::ExportAction<$ty>;
            $crate::__private::action::__export_bulk_action_raw!(
                __KartotekaActionPlugin with_types_in $crate::__private::action
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_action_plugin::<$ty>;
    };
}
