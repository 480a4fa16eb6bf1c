//! The SDK's own types: the shapes of the contract (`plugins/wit`), as plain Rust.
//!
//! They mirror the WIT records one to one, but they are the SDK's, not wit-bindgen's: a
//! change to the contract changes [`crate::raw`] and the conversions in `glue`, not the
//! types a plugin is written against. Nothing here is wasm-specific, so `cargo test`
//! uses them natively.

/// A typed scalar, as filters compare it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    Text(String),
    /// A calendar date, `YYYY-MM-DD`.
    Date(String),
    /// An instant, seconds since the Unix epoch, UTC.
    Datetime(i64),
}

/// One node of an argument tree (a filter's `value`, a criterion's or action's `params`).
#[derive(Clone, Debug, PartialEq)]
pub enum ArgNode {
    Null,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    Text(String),
    /// Indices of the items (each smaller than this node's).
    List(Vec<u32>),
    /// Keys and the indices of their values.
    Object(Vec<(String, u32)>),
}

/// An argument tree; the root is the last node, and an empty list means no argument.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    pub nodes: Vec<ArgNode>,
}

/// The kinds of value a field holds: what an operator or criterion applies to.
///
/// | kind | holds | examples |
/// |---|---|---|
/// | `Text` | one line of text | `name`, `city`, `fields.industry` of kind text |
/// | `LongText` | several lines | `notes`-like extra fields |
/// | `Number`, `Money` | a decimal number | `fields.revenue` |
/// | `Integer` | a whole number | `fields.employees` |
/// | `Date` | a calendar date, `YYYY-MM-DD` | `fields.birthday` |
/// | `Datetime` | an instant, seconds since the epoch | `created_at`, `updated_at` |
/// | `Boolean` | yes or no | `do_not_contact` |
/// | `Select` | one of the field's options | `fields.stage` |
/// | `Multiselect` | any number of the field's options | `fields.interests` |
/// | `Email` | an e-mail address (text) | `email` |
/// | `Phone` | a phone number (text) | `phone` |
/// | `Url` | an address (text) | `fields.website` |
/// | `Geo` | a latitude/longitude point | an extra field of kind geo |
/// | `Activity` | the contact's activities of one kind | `activity.purchase` |
/// | `Location` | latitude/longitude with city, region, country | `location` |
/// | `Segment` | membership of a segment | `segment` |
/// | `ContactType` | the contact-type tree | `type` |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    Activity,
    Location,
    Segment,
    ContactType,
}

/// What a bulk action asks to be allowed to do; an admin approves each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    SendEmail,
    CreateTask,
    GrantAccess,
}

/// Why a call failed. `path` points into the arguments (`value.within.amount`) when the
/// arguments were at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    pub message: String,
    pub path: Option<String>,
}

/// A column of values of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Numbers(Vec<f64>),
    Integers(Vec<i64>),
    Booleans(Vec<bool>),
    Texts(TextColumn),
    /// Latitude and longitude interleaved: `[lat0, lon0, lat1, lon1, ...]`.
    Points(Vec<f64>),
}

/// UTF-8 strings laid end to end; string `i` is `bytes[ends[i-1]..ends[i]]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextColumn {
    pub bytes: Vec<u8>,
    pub ends: Vec<u32>,
}

/// A batch: a column and which of its rows are null (same length as the column).
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub values: Column,
    pub nulls: Vec<bool>,
}

/// Name, version and what the plugin is; the [`plugin!`](crate::plugin) macro builds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// A slug, unique among installed plugins: `std`, `geo`, `acme-fuzzy`.
    pub name: String,
    /// Semantic version of the plugin.
    pub version: String,
    pub description: String,
    /// Capabilities it will ask for; effects outside the approved set are refused.
    pub capabilities: Vec<Capability>,
}

/// One operator, criterion or action a plugin offers, as `describe` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The name after the plugin's: `eq` in `std.eq`.
    pub name: String,
    pub label: String,
    /// The field kinds it applies to (empty for actions, which apply to contacts).
    pub applies_to: Vec<FieldKind>,
    /// JSON Schema of its arguments or parameters.
    pub schema: String,
}

/// What a plugin is and what it offers.
#[derive(Clone, Debug, PartialEq)]
pub struct Description {
    pub manifest: Manifest,
    pub entries: Vec<Entry>,
}

/// The field a filter node is on.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// `name`, `fields.industry`, `activity.purchase`, `location`, ...
    pub path: String,
    pub kind: FieldKind,
    /// For select and multiselect fields: the options.
    pub options: Vec<String>,
}

/// The comparison of a [`Compare`] node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Where a [`TextMatch`]'s needle must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextMode {
    Contains,
    Prefix,
    Suffix,
    Equals,
}

/// `field op value`; a null field never matches, `ne` included (`ne` is "has a value
/// and it differs"; wrap an `eq` in `not` for "is null or differs").
#[derive(Clone, Debug, PartialEq)]
pub struct Compare {
    pub field: String,
    pub op: CompareOp,
    pub value: Value,
}

/// `low <= field <= high`.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub field: String,
    pub low: Value,
    pub high: Value,
}

/// A text match: `needle` is where `mode` says in the field's text. With `fold` false,
/// the bytes must be equal (case and accents count). With `fold` set, both the field's text and the
/// needle are folded, in this order:
///
/// 1. compatibility decomposition (NFKD): `ó` becomes `o` and a combining accent, `ﬁ`
///    becomes `fi`, full-width and superscript forms their plain letters and digits;
/// 2. every combining mark dropped (accents, the Cyrillic breve and diaeresis);
/// 3. full Unicode lowercase, character by character;
/// 4. the letters that carry their accent inside the letter: `ł→l đ→d ð→d ø→o ß→ss
///    æ→ae œ→oe ı→i ħ→h þ→th ŧ→t`, and the final sigma `ς→σ`;
///
/// repeated until nothing changes. So `Łódź`, `LODZ` and `lodz` are one word, as are
/// `Straße` and `strasse`, `КИЇВ` and `Київ`. The host folds every stored text when a
/// contact is written and compares folded with folded on both databases, so a folded
/// `text` node is pushed down and indexed. Folding is not case-insensitivity: `gmaíl`
/// and `gmail` fold alike. An exact match (`fold: false`) compares bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct TextMatch {
    pub field: String,
    pub mode: TextMode,
    pub needle: String,
    pub fold: bool,
}

/// `field` is one of `values`; for multiselect fields, any of its items is.
#[derive(Clone, Debug, PartialEq)]
pub struct InSet {
    pub field: String,
    pub values: Vec<Value>,
}

/// At least `min_count` activities of `kind` in `[since, until)` (seconds), each with
/// every property equal to the given value and at least `min_amount`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityExists {
    pub kind: String,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub min_count: u32,
    pub min_amount: Option<f64>,
    pub properties: Vec<(String, Value)>,
}

/// The contact's latitude/longitude lies in the box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

/// Evaluate this plugin's `matches(op, args)` on the candidates' values of `field`.
#[derive(Clone, Debug, PartialEq)]
pub struct Residual {
    pub op: String,
    pub field: String,
    pub args: Args,
}

/// One node of the predicate IR. Children are indices of earlier nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum IrNode {
    Always,
    Never,
    Compare(Compare),
    Range(Range),
    Text(TextMatch),
    InSet(InSet),
    IsNull(String),
    IsEmpty(String),
    Activity(ActivityExists),
    Geo(GeoBox),
    And(Vec<u32>),
    Or(Vec<u32>),
    Not(u32),
    Residual(Residual),
}

/// A predicate: the root is the last node. It never carries SQL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Predicate {
    pub nodes: Vec<IrNode>,
}

/// What a bulk action sees of a contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub id: i64,
    /// The contact type's key: `person`, `company`, or one of the base's own.
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The owning user's id.
    pub owner: Option<i64>,
    /// The extra fields as a JSON object (`{"industry": "Retail"}`).
    pub fields_json: String,
}

/// An e-mail to the contact.
#[derive(Clone, Debug, PartialEq)]
pub struct SendEmail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A task about the contact.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateTask {
    pub title: String,
    pub body: String,
    /// A user's id; `None` leaves the task unassigned (`contact.owner` is the owner's).
    pub assignee: Option<i64>,
    /// Seconds since the Unix epoch.
    pub due: Option<i64>,
}

/// Read or write access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessLevel {
    Read,
    Write,
}

/// Who gets access: a user by id, or everyone with a role.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    User(i64),
    Role(String),
}

/// Access to the contact for a principal.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantAccess {
    pub principal: Principal,
    pub level: AccessLevel,
}

/// What should happen to a contact.
#[derive(Clone, Debug, PartialEq)]
pub enum EffectKind {
    SendEmail(SendEmail),
    CreateTask(CreateTask),
    GrantAccess(GrantAccess),
}

/// An effect on one contact of the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub contact_id: i64,
    pub effect: EffectKind,
}

impl Effect {
    /// The capability applying this effect needs.
    pub fn capability(&self) -> Capability {
        match self.effect {
            EffectKind::SendEmail(_) => Capability::SendEmail,
            EffectKind::CreateTask(_) => Capability::CreateTask,
            EffectKind::GrantAccess(_) => Capability::GrantAccess,
        }
    }

    /// An e-mail to `contact`.
    pub fn send_email(contact: &Contact, email: SendEmail) -> Self {
        Effect {
            contact_id: contact.id,
            effect: EffectKind::SendEmail(email),
        }
    }

    /// A task about `contact`.
    pub fn create_task(contact: &Contact, task: CreateTask) -> Self {
        Effect {
            contact_id: contact.id,
            effect: EffectKind::CreateTask(task),
        }
    }

    /// Access to `contact`.
    pub fn grant_access(contact: &Contact, grant: GrantAccess) -> Self {
        Effect {
            contact_id: contact.id,
            effect: EffectKind::GrantAccess(grant),
        }
    }
}
