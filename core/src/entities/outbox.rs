use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The effect key of a message a job sent: `(job_id, contact_id, effect_index)`; no
    /// job for a test send.
    pub job_id: Option<i64>,
    pub contact_id: i64,
    pub effect_index: i32,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    pub plain: String,
    /// `queued`, `sent`, `failed` or `skipped`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// The server's last answer: why it failed, or what it said when it took the message.
    pub last_error: Option<String>,
    /// `smtp` or `local`, once handed off.
    pub transport: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub opened_at: Option<DateTimeUtc>,
    pub clicked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
