//! The filter engine: check → lower → push down → residual.
//!
//! A filter is one JSON shape (`DESIGN.md` §5) used by the contacts page, the API and saved
//! segments. It runs in four steps, each in its own module:
//!
//! 1. **Check** ([`tree`]): the JSON parses into `Filter<Unchecked>` with the path of every
//!    node (`and[1].or[0]`), and is checked against the [`catalog`] (fields of the schema,
//!    operators of the enabled plugins, the operator applies to the field's kind) into
//!    `Filter<Checked>`. Errors are 400s at the path of the bad node.
//! 2. **Lower** ([`lower`]): each condition calls its plugin's `lower` once per query
//!    (at most: the plan is kept for the same catalogue and second).
//!    The plugin's answer is the predicate IR (`plugin::ir::Predicate`), checked for
//!    shape by the registry and against the catalogue here ([`validate`]): fields exist,
//!    values fit their field's kind. Value errors a plugin reports come back at `<node>.value...`.
//!    Nothing about any operator is known to this module: `eq`, `within_last`,
//!    `happened`, `within_distance` all live in built-in plugins.
//! 3. **Push down** ([`sql`]): the IR becomes sea-query expressions with bound parameters,
//!    per backend, added to the same visibility-checked, keyset-paged query the contacts
//!    table runs.
//! 4. **Residual** ([`run`]): what SQL can't decide goes back to the plugin's `matches`,
//!    in columnar batches over the candidates, which one walk ([`walk`]) hands out in
//!    keyset chunks to every reader that needs exact matches.
//!
//! Readers of contacts state what they want as a [`ContactQuery`] (filter, search, page);
//! [`query`] answers it and chooses the path.
//!
//! The same IR has an in-memory evaluator ([`memory`]) with the same semantics; the
//! property test holds SQLite, PostgreSQL and it to the same answers.
//!
//! ## Why an IR and not SQL from plugins, or a fixed operator set in core
//!
//! - Plugins writing SQL: fastest to build, but a plugin could read or break any table,
//!   and every plugin would need a dialect per backend. The IR is data; the host writes
//!   all SQL, with parameters, and a third-party operator gets both backends for free.
//! - Operators in core, plugins only for extras: two paths for one feature, and the
//!   built-ins would never exercise the plugin contract. With everything in plugins the
//!   contract is proven by the operators every user runs.
//! - Evaluating every filter in plugins row by row: simple and exact, but a scan of the
//!   whole base through WASM for every query; pushing the IR down lets indexes work, and
//!   `residual` keeps the exactness where SQL can't follow (great-circle distance).
//!
//! The IR is small on purpose (compare, range, text, in-set, null/empty, activity, geo
//! box, logic, residual): each node has one meaning on SQLite, PostgreSQL and in memory,
//! which the property test checks.
//!
//! ## Indexes a filter relies on
//!
//! See [`indexes`]: core columns that filters compare have B-tree indexes, extra fields
//! get expression indexes over exactly the expressions [`sql`] writes.

pub mod boundary;
pub mod catalog;
pub mod describe;
pub mod indexes;
pub mod lower;
pub mod memory;
pub mod query;
pub mod run;
pub mod sql;
pub mod tree;
pub mod validate;
pub mod walk;

use std::sync::Arc;

use crate::auth::Users;
use crate::contacts::ContactReader;
use crate::kernel::base::Base;
use crate::plugin::Registry;
use crate::schema::SchemaService;

pub use catalog::{Catalog, FieldSpec};
pub use describe::{Described, Describer};
pub use query::ContactQuery;
pub use run::Prepared;
pub use tree::{Checked, Filter, Plan, Unchecked};
pub use walk::{Decided, Walk};

/// The query engine as a service: the catalogue, preparing filters, the contacts query
/// and the exact decisions of residuals. It reads the schema, the users (owners in
/// filters), the plugins and the contacts, and nothing above them. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FilterEngine {
    pub(crate) base: Base,
    pub(crate) plugins: Arc<Registry>,
    pub(crate) schema: SchemaService,
    pub(crate) users: Users,
    pub(crate) contacts: ContactReader,
    pub(crate) catalog_cache: Arc<catalog::CatalogCache>,
    /// Plans lowered lately (see [`lower::PlanCache`]).
    pub(crate) plans: Arc<lower::PlanCache>,
    /// Turns to hold a streamed location walk open (see [`walk::STREAMS`]).
    pub(crate) streams: Arc<tokio::sync::Semaphore>,
}

impl FilterEngine {
    /// The engine over `base`, with the layers below it.
    pub fn new(
        base: Base,
        plugins: Arc<Registry>,
        schema: SchemaService,
        users: Users,
        contacts: ContactReader,
    ) -> Self {
        FilterEngine {
            base,
            plugins,
            schema,
            users,
            contacts,
            catalog_cache: Arc::default(),
            plans: Arc::default(),
            streams: Arc::new(tokio::sync::Semaphore::new(walk::STREAMS)),
        }
    }
}
