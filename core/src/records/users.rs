//! Managing accounts: admins add users, change their name and role, deactivate and
//! reactivate them and reset their passwords; every user changes their own password.
//! Signing in, sessions and tokens are [`crate::auth`]'s.
//!
//! - Only admins manage users ([`Actor::require_admin`]); a user may read their own
//!   account. Every problem of a request is reported at once ([`Problems`]).
//! - There is always an active admin: a change that would leave none (the last active
//!   admin demoting or deactivating themselves) is refused with `Conflict`. The check runs
//!   inside the change's transaction after the change, with the active admins' rows locked
//!   first on PostgreSQL (`FOR UPDATE`), so two admins demoting each other at once can't
//!   both win; on SQLite the change's `UPDATE` takes the database's write lock before the
//!   count, which serialises the same way.
//! - Deactivating keeps the account (contacts, tasks and history still name it) and ends
//!   every session and API token of the user at once: their rows are deleted and this
//!   instance forgets them; other instances sharing the database stop accepting them
//!   within [`crate::auth::TOKEN_RECHECK`] (see [`crate::auth`] for why a bound and not
//!   zero). Sign-in is refused while deactivated; reactivating allows it again (no old
//!   session comes back).
//! - A role change is read again on the user's next request on this instance, within
//!   `TOKEN_RECHECK` elsewhere; their sessions stay.
//! - An admin's password reset ends all of that user's sessions and tokens; a user's
//!   change of their own password needs the current one (checked within the sign-in
//!   limits, so a stolen session can't guess it faster than the sign-in page could) and
//!   ends their other sessions and tokens, keeping the one that asked.
//! - An admin sets the new user's first password and tells it to them; there is no
//!   e-mailed invitation or self-service reset by mail yet.

use std::net::IpAddr;
use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::auth::{Actor, Role, TokenCache, User, Users, end_tokens_of, hash_password, valid_email};
use crate::clock::stored;
use crate::entities::users;
use crate::error::Problems;
use crate::kernel::base::Base;
use crate::{Error, Result};

/// The fewest characters a password has.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The most characters a password has (hashing a huge one would cost the server).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The most characters a name has.
pub const MAX_NAME_CHARS: usize = 200;

/// A user an admin adds.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// admin, manager or agent.
    pub role: String,
    pub password: String,
}

/// A change to a user: any subset.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    /// admin, manager or agent.
    pub role: Option<String>,
    /// `false` deactivates, `true` reactivates.
    pub active: Option<bool>,
}

/// The accounts service (see the module docs).
#[derive(Debug, Clone)]
pub struct Accounts {
    base: Base,
    users: Users,
    tokens: Arc<TokenCache>,
}

fn check_name(problems: &mut Problems, name: &str, required: bool) {
    if name.is_empty() {
        if required {
            problems.add("name", "is required");
        }
    } else if name.chars().count() > MAX_NAME_CHARS {
        problems.add("name", format!("must be at most {MAX_NAME_CHARS} characters"));
    } else if name.chars().any(char::is_control) {
        problems.add("name", "must not contain control characters");
    }
}

fn check_password(problems: &mut Problems, path: &str, password: &str) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        problems.add(path, format!("must have at least {MIN_PASSWORD_CHARS} characters"));
    } else if chars > MAX_PASSWORD_CHARS {
        problems.add(path, format!("must have at most {MAX_PASSWORD_CHARS} characters"));
    }
}

fn check_role(problems: &mut Problems, role: &str) -> Result<Option<Role>> {
    problems.take(role.trim().parse::<Role>())
}

/// Checks and stores a new user; `name_required` for admins' forms (the command line
/// may leave it empty).
pub(crate) async fn insert_user(
    base: &Base,
    email: &str,
    name: &str,
    password: &str,
    role: &str,
    name_required: bool,
) -> Result<User> {
    let mut problems = Problems::default();
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        problems.add("email", "is required");
    } else if !valid_email(&email) {
        problems.add("email", "not a valid email address");
    }
    let name = name.trim();
    check_name(&mut problems, name, name_required);
    let role = check_role(&mut problems, role)?;
    check_password(&mut problems, "password", password);
    problems.into_result()?;
    let Some(role) = role else {
        return Err(Error::invalid("role", "is required"));
    };
    let taken = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .count(&base.db)
        .await?
        > 0;
    let duplicate = || Error::conflict(format!("a user with email {email} already exists"));
    if taken {
        return Err(duplicate());
    }
    let hash = hash_password(password.to_owned()).await?;
    let inserted = users::ActiveModel {
        email: Set(email.clone()),
        name: Set(name.to_owned()),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(stored(base.clock.now())),
        deactivated_at: Set(None),
        ..Default::default()
    }
    .insert(&base.db)
    .await;
    let model = match inserted {
        Ok(model) => model,
        // Added by someone else between the check and the insert.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            return Err(duplicate());
        }
        Err(e) => return Err(e.into()),
    };
    // Filters name owners by email: the prepared ones know one user less.
    crate::kernel::generations::catalog_changed(&base.db).await?;
    base.changes.mark();
    User::try_from(model)
}

impl Accounts {
    /// The service over the sign-in service `users` (whose token cache it shares).
    pub fn new(base: Base, users: Users) -> Self {
        Accounts {
            base,
            tokens: users.token_cache(),
            users,
        }
    }

    /// Every user, active or not, by email (admins).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require_admin()?;
        users::Entity::find()
            .order_by_asc(users::Column::Email)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// One user (admins; anyone reads their own account).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<User> {
        if actor.user_id != id {
            actor.require_admin()?;
        }
        self.find(id).await
    }

    async fn find(&self, id: i64) -> Result<User> {
        users::Entity::find_by_id(id)
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "user" })
            .and_then(User::try_from)
    }

    /// Adds a user with a name, e-mail, role and first password (admins).
    pub async fn add_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        actor.require_admin()?;
        insert_user(&self.base, &new.email, &new.name, &new.password, &new.role, true).await
    }

    /// Changes a user's name, role or status (admins). Refused with `Conflict` when it
    /// would leave no active admin.
    pub async fn update(&self, actor: &Actor, id: i64, patch: UserPatch) -> Result<User> {
        actor.require_admin()?;
        let mut problems = Problems::default();
        let name = patch.name.as_deref().map(str::trim);
        if let Some(name) = name {
            check_name(&mut problems, name, true);
        }
        let role = match patch.role.as_deref() {
            Some(role) => check_role(&mut problems, role)?,
            None => None,
        };
        problems.into_result()?;
        let target = self.find(id).await?;
        let deactivating = patch.active == Some(false) && target.is_active();
        let reactivating = patch.active == Some(true) && !target.is_active();
        let role_changes = role.is_some_and(|r| r != target.role);
        let name_changes = name.is_some_and(|n| n != target.name);
        if !(deactivating || reactivating || role_changes || name_changes) {
            return Ok(target);
        }
        let losing_admin = target.is_active()
            && target.role == Role::Admin
            && (deactivating || role.is_some_and(|r| r != Role::Admin));

        let turn = self.base.writers.enter().await;
        let txn = self.base.db.begin().await?;
        if losing_admin && self.base.db.get_database_backend() == DbBackend::Postgres {
            users::Entity::find()
                .select_only()
                .column(users::Column::Id)
                .filter(active_admins())
                .lock_exclusive()
                .into_tuple::<i64>()
                .all(&txn)
                .await?;
        }
        let mut update = users::Entity::update_many().filter(users::Column::Id.eq(id));
        if let Some(name) = name.filter(|_| name_changes) {
            update = update.col_expr(users::Column::Name, Expr::value(name.to_owned()));
        }
        if let Some(role) = role.filter(|_| role_changes) {
            update = update.col_expr(users::Column::Role, Expr::value(role.as_str()));
        }
        if deactivating {
            update = update.col_expr(users::Column::DeactivatedAt, Expr::value(Some(self.base.now())));
        } else if reactivating {
            update = update.col_expr(
                users::Column::DeactivatedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            );
        }
        update.exec(&txn).await?;
        if losing_admin {
            let left = users::Entity::find().filter(active_admins()).count(&txn).await?;
            if left == 0 {
                txn.rollback().await?;
                let doing = if deactivating {
                    "deactivated"
                } else {
                    "given another role"
                };
                return Err(Error::conflict(format!(
                    "{} is the last active admin and can't be {doing}; make another user an admin first",
                    target.email
                )));
            }
        }
        txn.commit().await?;
        drop(turn);
        if deactivating {
            end_tokens_of(&self.base.db, &self.tokens, id, None).await?;
        } else if role_changes {
            self.tokens.forget_user(id);
        }
        self.find(id).await
    }

    /// Sets another password for user `id` (admins) and ends all their sessions and API
    /// tokens; answers how many ended.
    pub async fn reset_password(&self, actor: &Actor, id: i64, password: &str) -> Result<u64> {
        actor.require_admin()?;
        let mut problems = Problems::default();
        check_password(&mut problems, "password", password);
        problems.into_result()?;
        let target = self.find(id).await?;
        self.store_password(target.id, password).await?;
        end_tokens_of(&self.base.db, &self.tokens, target.id, None).await
    }

    /// Changes the actor's own password after checking `current` (within the sign-in
    /// limits of `client`, see [`Users::authenticate`]); ends their other sessions and API
    /// tokens, all but `keep` (the one that asked). Answers how many ended.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        keep: Option<&str>,
        current: &str,
        new: &str,
        client: IpAddr,
    ) -> Result<u64> {
        let mut problems = Problems::default();
        if current.is_empty() {
            problems.add("current_password", "is required");
        } else {
            match self.users.authenticate(&actor.email, current, client).await {
                Ok(user) if user.id == actor.user_id => {}
                Ok(_) | Err(Error::Unauthorized(_)) => {
                    problems.add("current_password", "is not your current password");
                }
                Err(e) => return Err(e),
            }
        }
        check_password(&mut problems, "new_password", new);
        problems.into_result()?;
        self.store_password(actor.user_id, new).await?;
        end_tokens_of(&self.base.db, &self.tokens, actor.user_id, keep).await
    }

    async fn store_password(&self, id: i64, password: &str) -> Result<()> {
        let hash = hash_password(password.to_owned()).await?;
        let updated = users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(hash))
            .filter(users::Column::Id.eq(id))
            .exec(&self.base.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(Error::NotFound { what: "user" });
        }
        Ok(())
    }
}

/// The condition of the active admins.
fn active_admins() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(users::Column::Role.eq(Role::Admin.as_str()))
        .add(users::Column::DeactivatedAt.is_null())
}
