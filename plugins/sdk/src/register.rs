//! [`plugin!`](crate::plugin): registering operators, criteria or actions, and what its
//! expansion calls (describing, dispatching, keeping each one's state for the session).
//!
//! The state: each registered type has one value per instance, made with `Default` on
//! its first call, and keeps the last arguments it was called with, deserialized. The host
//! calls the batches of one query on one instance with the same arguments, so a batch
//! after the first neither deserializes again nor loses what the type prepared. A plugin
//! compiled to WASM runs on one thread, so the state is thread-local; natively (tests),
//! each test thread has its own.

use std::any::{Any, TypeId};
use std::cell::RefCell;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{
    Action, Args, Batch, Capability, Contact, Criterion, Description, Effect, Entry, Field, Manifest, Operator, Plan,
    PluginError, Predicate,
};

/// One registered type's value and the last arguments it was called with, deserialized.
struct State<T, A> {
    value: T,
    last: Option<(Args, A)>,
}

thread_local! {
    /// Every registered type's [`State`], by the state's type.
    static STATES: RefCell<Vec<(TypeId, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `T`'s value and `args` deserialized as `A` (kept from the previous call
/// when the arguments are the same). The state is taken out while `f` runs, so `f` may
/// call into the SDK again, and put back whatever happens, so refused arguments don't
/// cost it.
fn with_state<T: Default + 'static, A: DeserializeOwned + 'static, R>(
    args: &Args,
    root: &str,
    f: impl FnOnce(&mut T, &A) -> Result<R, PluginError>,
) -> Result<R, PluginError> {
    let key = TypeId::of::<State<T, A>>();
    let taken = STATES.with_borrow_mut(|states| {
        let at = states.iter().position(|(id, _)| *id == key)?;
        Some(states.swap_remove(at).1)
    });
    let mut state: Box<State<T, A>> = taken.and_then(|state| state.downcast().ok()).unwrap_or_else(|| {
        Box::new(State {
            value: T::default(),
            last: None,
        })
    });
    let result = (|| {
        let State { value, last } = &mut *state;
        let parsed = match last {
            Some((raw, parsed)) if raw == args => parsed,
            _ => &last.insert((args.clone(), args.parse::<A>(root)?)).1,
        };
        f(value, parsed)
    })();
    STATES.with_borrow_mut(|states| states.push((key, state)));
    result
}

/// The JSON Schema of `T` as text: draft 2020-12 with every sub-schema inlined (no
/// `$ref`), which is what the filter builder and the forms read.
pub fn schema_of<T: JsonSchema>() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    serde_json::to_string(&schema).unwrap_or_else(|_| "{}".to_owned())
}

/// The description a plugin's `describe` returns.
pub fn describe(
    name: &str,
    version: &str,
    description: &str,
    capabilities: &[Capability],
    entries: Vec<Entry>,
) -> Description {
    Description {
        manifest: Manifest::new(name, version, description).with_capabilities(capabilities),
        entries,
    }
}

/// `O`'s entry in the description.
pub fn operator_entry<O: Operator>() -> Entry {
    Entry {
        name: O::NAME.to_owned(),
        label: O::LABEL.to_owned(),
        applies_to: O::APPLIES_TO.to_vec(),
        schema: O::args_schema(),
    }
}

/// `C`'s entry in the description.
pub fn criterion_entry<C: Criterion>() -> Entry {
    Entry {
        name: C::NAME.to_owned(),
        label: C::LABEL.to_owned(),
        applies_to: C::APPLIES_TO.to_vec(),
        schema: C::params_schema(),
    }
}

/// `A`'s entry in the description.
pub fn action_entry<A: Action>() -> Entry {
    Entry {
        name: A::NAME.to_owned(),
        label: A::LABEL.to_owned(),
        applies_to: Vec::new(),
        schema: A::params_schema(),
    }
}

/// Every capability of `lists`, each once, in order of first appearance.
pub fn capabilities(lists: &[&[Capability]]) -> Vec<Capability> {
    let mut all = Vec::new();
    for capability in lists.iter().flat_map(|list| list.iter()) {
        if !all.contains(capability) {
            all.push(*capability);
        }
    }
    all
}

/// `O::lower`, after checking the field's kind and deserializing the value.
pub fn lower<O: Operator>(plugin: &str, field: &Field, args: &Args, now: i64) -> Result<Predicate, PluginError> {
    if !O::APPLIES_TO.contains(&field.kind) {
        let kinds: Vec<&str> = O::APPLIES_TO.iter().map(|kind| kind.as_str()).collect();
        return Err(PluginError::new(format!(
            "{plugin}.{} applies to {} fields, not to {} (a {} field)",
            O::NAME,
            kinds.join(", "),
            field.path,
            field.kind.as_str()
        )));
    }
    with_state::<O, O::Args, _>(args, "value", |operator, parsed| {
        let mut plan = Plan::new(O::NAME, field, args, now);
        let root = operator.lower(field, parsed, &mut plan)?;
        Ok(plan.finish(root))
    })
}

/// `O::matches` on a batch; a case residual (see `crate::case`) is answered here.
pub fn matches<O: Operator>(args: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
    if let Some(answers) = crate::case::answer(args, values) {
        return answers;
    }
    with_state::<O, O::Args, _>(args, "value", |operator, parsed| operator.matches(parsed, values))
}

/// `C::score` on a batch.
pub fn score<C: Criterion>(params: &Args, values: &Batch) -> Result<Vec<f64>, PluginError> {
    with_state::<C, C::Params, _>(params, "params", |criterion, parsed| criterion.score(parsed, values))
}

/// `A::run` on a batch of contacts.
pub fn run<A: Action>(params: &Args, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
    with_state::<A, A::Params, _>(params, "params", |action, parsed| action.run(parsed, contacts))
}

/// Makes a plugin of a list of operators, criteria or actions, and exports it.
///
/// ```ignore
/// pub struct Example;
///
/// kartoteka_plugin_sdk::plugin!(Example {
///     name: "example",
///     description: "Example operators from the plugin author's guide.",
///     operators: [LongerThan],
/// });
/// ```
///
/// The list is `operators: [..]` ([`Operator`](crate::Operator)s, a `filter-operator`
/// component), `criteria: [..]` ([`Criterion`](crate::Criterion)s, `segment-criterion`)
/// or `actions: [..]` ([`Action`](crate::Action)s, `bulk-action`; the manifest asks for
/// every capability they name). `name` is a literal slug; `description` any `&str`
/// expression (`env!("CARGO_PKG_DESCRIPTION")`); `version:` defaults to the crate's
/// (`env!("CARGO_PKG_VERSION")`). The macro implements
/// [`FilterPlugin`](crate::FilterPlugin), [`CriterionPlugin`](crate::CriterionPlugin) or
/// [`ActionPlugin`](crate::ActionPlugin) for the type, which is what the
/// [`testing`](crate::testing) harness calls, and makes it the component's export. Call it
/// once, at the root of a `cdylib` crate.
#[macro_export]
macro_rules! plugin {
    (@version) => { env!("CARGO_PKG_VERSION") };
    (@version $version:expr) => { $version };
    ($ty:ident {
        name: $name:literal,
        $(version: $version:expr,)?
        description: $description:expr,
        operators: [$($item:ty),+ $(,)?] $(,)?
    }) => {
        impl $crate::FilterPlugin for $ty {
            fn description() -> $crate::Description {
                $crate::__private::describe(
                    $name,
                    $crate::plugin!(@version $($version)?),
                    $description,
                    &[],
                    vec![$($crate::__private::operator_entry::<$item>()),+],
                )
            }

            fn lower(
                op: &str,
                field: &$crate::Field,
                args: &$crate::Args,
                now: i64,
            ) -> ::core::result::Result<$crate::Predicate, $crate::PluginError> {
                $(if op == <$item as $crate::Operator>::NAME {
                    return $crate::__private::lower::<$item>($name, field, args, now);
                })+
                Err($crate::PluginError::unknown_operator(op))
            }

            fn matches(
                op: &str,
                args: &$crate::Args,
                values: &$crate::Batch,
            ) -> ::core::result::Result<::std::vec::Vec<bool>, $crate::PluginError> {
                $(if op == <$item as $crate::Operator>::NAME {
                    return $crate::__private::matches::<$item>(args, values);
                })+
                Err($crate::PluginError::unknown_operator(op))
            }
        }
        $crate::export_filter_plugin!($ty);
    };
    ($ty:ident {
        name: $name:literal,
        $(version: $version:expr,)?
        description: $description:expr,
        criteria: [$($item:ty),+ $(,)?] $(,)?
    }) => {
        impl $crate::CriterionPlugin for $ty {
            fn description() -> $crate::Description {
                $crate::__private::describe(
                    $name,
                    $crate::plugin!(@version $($version)?),
                    $description,
                    &[],
                    vec![$($crate::__private::criterion_entry::<$item>()),+],
                )
            }

            fn score(
                criterion: &str,
                params: &$crate::Args,
                values: &$crate::Batch,
            ) -> ::core::result::Result<::std::vec::Vec<f64>, $crate::PluginError> {
                $(if criterion == <$item as $crate::Criterion>::NAME {
                    return $crate::__private::score::<$item>(params, values);
                })+
                Err($crate::PluginError::unknown_criterion(criterion))
            }
        }
        $crate::export_criterion_plugin!($ty);
    };
    ($ty:ident {
        name: $name:literal,
        $(version: $version:expr,)?
        description: $description:expr,
        actions: [$($item:ty),+ $(,)?] $(,)?
    }) => {
        impl $crate::ActionPlugin for $ty {
            fn description() -> $crate::Description {
                $crate::__private::describe(
                    $name,
                    $crate::plugin!(@version $($version)?),
                    $description,
                    &$crate::__private::capabilities(&[$(<$item as $crate::Action>::CAPABILITIES),+]),
                    vec![$($crate::__private::action_entry::<$item>()),+],
                )
            }

            fn run(
                action: &str,
                params: &$crate::Args,
                contacts: &[$crate::Contact],
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Effect>, $crate::PluginError> {
                $(if action == <$item as $crate::Action>::NAME {
                    return $crate::__private::run::<$item>(params, contacts);
                })+
                Err($crate::PluginError::unknown_action(action))
            }
        }
        $crate::export_action_plugin!($ty);
    };
}
