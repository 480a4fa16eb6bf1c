//! The shapes of the API (DESIGN section 9), kept apart from `core`'s types so that the
//! wire format is explicit and input structs can't be bound straight into storage.

use chrono::{DateTime, Utc};
use kartoteka_core::activities::Activity;
use kartoteka_core::contact_types::ContactType;
use kartoteka_core::contacts::{Contact, ContactDraft, ContactPatch};
use kartoteka_core::fields::{FieldDef, NewField};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `Some(None)` for an explicit `null`, `None` for an absent key.
pub(crate) fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    /// `person` or `company`.
    pub kind: String,
    /// The contact type's key.
    #[serde(rename = "type")]
    pub type_key: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_id: Option<i64>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The owning user's id.
    pub owner: Option<i64>,
    pub do_not_contact: bool,
    pub score: Option<f64>,
    pub score_band: Option<String>,
    /// The contact's scores by scoring model key (on one contact's answer: read, created
    /// or changed; explained at `/contacts/{id}/scores`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<std::collections::BTreeMap<String, ScoreSummary>>,
    /// Extra-field values by field key.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Send it back with a change; a change made against an old version is refused (409).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactOut {
    fn from(c: Contact) -> Self {
        ContactOut {
            id: c.id,
            kind: c.kind.as_str().to_owned(),
            type_key: c.type_key,
            name: c.name,
            email: c.email,
            phone: c.phone,
            position: c.position,
            company_id: c.company_id,
            street: c.street,
            city: c.city,
            region: c.region,
            country: c.country,
            postal_code: c.postal_code,
            latitude: c.latitude,
            longitude: c.longitude,
            owner: c.owner_id,
            do_not_contact: c.do_not_contact,
            score: c.score,
            scores: None,
            score_band: c.score_band,
            fields: c.fields,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactCreate {
    /// `person` (default) or `company`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A contact type key; the base's default type (`GET /api/v1/settings`) when absent.
    #[serde(rename = "type", default)]
    pub type_key: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_id: Option<i64>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The owning user's id; the caller when absent.
    pub owner: Option<i64>,
    #[serde(default)]
    pub do_not_contact: bool,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

impl From<ContactCreate> for ContactDraft {
    fn from(c: ContactCreate) -> Self {
        ContactDraft {
            kind: c.kind.unwrap_or_else(|| "person".into()),
            type_key: c.type_key.unwrap_or_default(),
            name: c.name,
            email: c.email,
            phone: c.phone,
            position: c.position,
            company_id: c.company_id,
            street: c.street,
            city: c.city,
            region: c.region,
            country: c.country,
            postal_code: c.postal_code,
            latitude: c.latitude,
            longitude: c.longitude,
            owner_id: c.owner,
            do_not_contact: c.do_not_contact,
            fields: c.fields,
        }
    }
}

/// A change to a contact: any subset of its properties plus the `version` it was made
/// against. `null` clears a property; in `fields`, `null` removes that value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUpdate {
    pub version: i64,
    pub kind: Option<String>,
    #[serde(rename = "type")]
    pub type_key: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub position: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub street: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub owner: Option<Option<i64>>,
    pub do_not_contact: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

impl From<ContactUpdate> for ContactPatch {
    fn from(u: ContactUpdate) -> Self {
        ContactPatch {
            version: u.version,
            kind: u.kind,
            type_key: u.type_key,
            name: u.name,
            email: u.email,
            phone: u.phone,
            position: u.position,
            company_id: u.company_id,
            street: u.street,
            city: u.city,
            region: u.region,
            country: u.country,
            postal_code: u.postal_code,
            latitude: u.latitude,
            longitude: u.longitude,
            owner_id: u.owner,
            do_not_contact: u.do_not_contact,
            fields: u.fields,
        }
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactOut>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

/// An extra-field definition.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDto {
    pub key: String,
    pub label: String,
    /// text, long_text, number, integer, money, date, datetime, boolean, select,
    /// multiselect, email, phone, url, geo.
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub searchable: bool,
    /// Contact type keys (with their subtypes); empty means every type.
    #[serde(default)]
    pub applies_to: Vec<String>,
}

impl From<FieldDef> for FieldDto {
    fn from(f: FieldDef) -> Self {
        FieldDto {
            key: f.key,
            label: f.label,
            kind: f.kind.as_str().to_owned(),
            options: f.options,
            required: f.required,
            searchable: f.searchable,
            applies_to: f.applies_to,
        }
    }
}

impl From<FieldDto> for NewField {
    fn from(f: FieldDto) -> Self {
        NewField {
            key: f.key,
            label: f.label,
            kind: f.kind,
            options: f.options,
            required: f.required,
            searchable: f.searchable,
            applies_to: f.applies_to,
        }
    }
}

/// A change to a field. Changing `kind` or `options` converts stored values; if some
/// can't be converted the change is refused (409, with the report) unless
/// `drop_unconvertible` is true.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldUpdate {
    pub label: Option<String>,
    pub kind: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub searchable: Option<bool>,
    pub applies_to: Option<Vec<String>>,
    #[serde(default)]
    pub drop_unconvertible: bool,
}

/// A contact type.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactTypeDto {
    /// A stable slug.
    pub key: String,
    pub label: String,
    /// The parent type's key.
    pub parent: Option<String>,
}

impl From<ContactType> for ContactTypeDto {
    fn from(t: ContactType) -> Self {
        ContactTypeDto {
            key: t.key,
            label: t.label,
            parent: t.parent,
        }
    }
}

/// A new contact type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactTypeCreate {
    pub key: String,
    pub label: String,
    pub parent: Option<String>,
}

/// A change to a contact type: rename (`label`) and/or move (`parent`; `null` = root).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactTypeUpdate {
    pub label: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
}

/// An activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityOut {
    pub id: i64,
    pub contact_id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub amount: Option<f64>,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

impl From<Activity> for ActivityOut {
    fn from(a: Activity) -> Self {
        ActivityOut {
            id: a.id,
            contact_id: a.contact_id,
            kind: a.kind,
            occurred_at: a.occurred_at,
            amount: a.amount,
            properties: a.properties,
        }
    }
}

/// An activity to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    pub contact_id: i64,
    /// page_visit, link_click, purchase, email_sent, email_open, email_click, sms, call,
    /// meeting, support_request, note.
    pub kind: String,
    /// RFC 3339; now when absent.
    pub occurred_at: Option<DateTime<Utc>>,
    pub amount: Option<f64>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

/// One activity, or a batch of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ActivityBatch {
    Many(Vec<ActivityIn>),
    One(ActivityIn),
}

/// Credentials for a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// A list without paging (the whole set fits in one answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    pub items: Vec<T>,
    /// Always `null`: the whole list is here.
    pub next: Option<String>,
}

impl<T: ToSchema> Items<T> {
    /// All of `items`.
    pub fn all(items: Vec<T>) -> Self {
        Items { items, next: None }
    }
}

/// A contact's score under one model.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScoreSummary {
    pub score: f64,
    pub band: String,
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// invalid, not_found, conflict, unauthorized, forbidden, rate_limited, plugin (a plugin
    /// failed; 502, the message names it), internal.
    pub code: String,
    pub message: String,
    /// Where in the input (`fields.birthday`, `[2].kind`), for `invalid`: the first
    /// problem's, with `message` its message.
    pub path: Option<String>,
    /// For `invalid`: every problem, in input order, as `[{"path", "message"}, ...]` (a
    /// form with three bad values gets three). For `conflict`: a report object when there
    /// is one (`current_version`, a field conversion's `failed` values).
    #[schema(schema_with = error_details)]
    pub details: Option<Value>,
}

/// `ErrorDetail.details`: the problems of invalid input, or a conflict's report.
fn error_details() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let problem = ObjectBuilder::new()
        .property("path", text("where (`fields.nps`, `[2].kind`; empty: the whole input)"))
        .required("path")
        .property("message", text("why"))
        .required("message");
    Schema::OneOf(
        OneOfBuilder::new()
            .item(
                ArrayBuilder::new()
                    .items(problem)
                    .description(Some("every problem of invalid input")),
            )
            .item(ObjectBuilder::new().description(Some("a conflict's report")))
            .build(),
    )
}
