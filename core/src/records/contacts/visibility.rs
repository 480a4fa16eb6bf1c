//! Who sees which contacts, as a SQL condition.
//!
//! Admins see every contact. Managers and agents see the contacts they own and those
//! granted to them, personally or through their role (`grants`). The condition is added to
//! every contact query in `core` — lists, single reads, writes, counts — so no handler can
//! forget it and no page can show what the API would hide.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Query};

use crate::auth::Actor;
use crate::entities::{contacts, grants};

/// The level a grant gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// One user.
    User(i64),
    /// Everyone with a role.
    Role(crate::auth::Role),
}

impl Access {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// The condition on `contacts` that keeps the rows `actor` may access at `level`.
pub fn condition(actor: &Actor, level: Access) -> Condition {
    if actor.is_admin() {
        return Condition::all();
    }
    let mut by_grant = Condition::any()
        .add(grants::Column::UserId.eq(actor.user_id))
        .add(grants::Column::Role.eq(actor.role.as_str()));
    if level == Access::Write {
        by_grant = Condition::all().add(by_grant).add(grants::Column::Level.eq("write"));
    }
    let granted = Query::select()
        .column(grants::Column::ContactId)
        .from(grants::Entity)
        .cond_where(by_grant)
        .to_owned();
    Condition::any()
        .add(contacts::Column::OwnerId.eq(actor.user_id))
        .add(contacts::Column::Id.in_subquery(granted))
}
