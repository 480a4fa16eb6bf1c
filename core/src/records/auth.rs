//! Sign-in, passwords, web sessions and API tokens. Managing the accounts (adding, roles,
//! deactivating, password changes) is [`crate::users`].
//!
//! - Passwords are hashed with argon2id (the crate's defaults: 19 MiB, 2 passes), on a
//!   blocking thread so a sign-in never stalls the async runtime.
//! - Sessions and API tokens are random 256-bit secrets. Only their SHA-256 is stored
//!   (`auth_tokens`), so a leaked table does not leak live credentials, and every server
//!   instance sharing the database sees the same sessions.
//! - A web session carries its own CSRF token, checked on every form post by `web`.
//! - Every request of a signed-in user starts by resolving its token. An instance trusts a
//!   token it read for [`TOKEN_RECHECK`] before reading it again ([`TokenCache`]): a
//!   sign-out on this instance ends it here at once, on another instance within that
//!   time, and its expiry is checked on every request. That read took 0.20 ms (SQLite)
//!   and 0.32 ms (PostgreSQL) of index-served counts of 1.22 and 1.68 ms through the API
//!   (BENCHMARKS.md, "The server from outside"). Alternatives: reading it every time (exact everywhere, that cost on every
//!   request), or a signed token that needs no read (no revocation before it expires).
//! - The same bound holds for what admins change ([`crate::users`]): deactivating a user,
//!   resetting their password or changing their role deletes or forgets their tokens, so
//!   it takes effect at once on the instance that made the change and within
//!   [`TOKEN_RECHECK`] (one second) on every other instance sharing the database; a
//!   request already under way finishes as the user it started as. A token read joins
//!   its user, so a deactivated user's token is refused even if it was stored after the
//!   deactivation (a sign-in that had checked the password just before).
//!   Push instead of re-reading (PostgreSQL `LISTEN`/`NOTIFY` to every instance) would
//!   shorten that second to the notification's latency, at the cost of a listening
//!   connection per instance and a fallback for SQLite; not worth it for one second.
//! - A deactivated user who gives the right password is told so (`Forbidden`); anyone
//!   else hears "wrong email or password", so the answer reveals an account's status only
//!   to whoever knows its password.
//! - Failed sign-ins are counted in the database, atomically, per client address, per
//!   account from that address and per account from unknown addresses: after
//!   [`MAX_FAILED_LOGINS`] from one address the account is locked *for that address* for
//!   [`LOCKOUT`] (longer each time). The design and its alternatives are in
//!   [`crate::sign_in_limits`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::clock::stored;
use crate::entities::{auth_tokens, users};
use crate::kernel::base::Base;
use crate::sign_in_limits::{self as limits, Counters, Reservation};
use crate::{Error, Result};

pub use crate::kernel::identity::{Actor, Role};
pub use crate::kernel::validate::valid_email;

/// Failed sign-ins in a row that lock an account for the address they came from.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a locked account stays locked the first time (each further lock doubles it).
pub const LOCKOUT: Duration = Duration::minutes(15);
/// How long a web session lives.
pub const SESSION_TTL: Duration = Duration::days(7);
/// How long an API token lives.
pub const API_TOKEN_TTL: Duration = Duration::days(90);

/// A user as shown to other code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// When an admin deactivated the account; `None` while it is active.
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl TryFrom<users::Model> for User {
    type Error = Error;
    fn try_from(m: users::Model) -> Result<Self> {
        Ok(User {
            id: m.id,
            role: m.role.parse()?,
            email: m.email,
            name: m.name,
            created_at: m.created_at,
            deactivated_at: m.deactivated_at,
        })
    }
}

impl User {
    /// Whether the account may sign in (no admin deactivated it).
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    /// The user as an actor.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            email: self.email.clone(),
            role: self.role,
        }
    }
}

/// A new web session: the cookie value and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A resolved web session.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
}

const KIND_SESSION: &str = "session";
const KIND_API: &str = "api";

/// A fresh random secret, URL-safe.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = new_salt()?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| Error::Internal(format!("stored password hash is unreadable: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// A hash to verify against when the account does not exist, so that the answer takes as
/// long as for a real account and does not reveal which emails are registered.
fn dummy_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        new_salt()
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"not a password of anyone", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
    .clone()
}

fn new_salt() -> Result<SaltString> {
    let bytes: [u8; 16] = rand::random();
    SaltString::encode_b64(&bytes).map_err(|e| Error::Internal(format!("salt: {e}")))
}

const BAD_CREDENTIALS: &str = "wrong email or password";

/// What a deactivated user hears when the password was right.
pub const DEACTIVATED: &str = "this account is deactivated; an admin can reactivate it";

/// How long an instance trusts a session or API token it read (the same as the
/// generations, [`crate::kernel::generations::RECHECK`]).
pub const TOKEN_RECHECK: std::time::Duration = crate::kernel::generations::RECHECK;

/// How many tokens an instance keeps; when full, it starts again empty.
const TOKENS_KEPT: usize = 10_000;

/// The tokens an instance resolved lately, by hash (see the module docs).
#[derive(Debug, Default)]
pub struct TokenCache {
    kept: Mutex<HashMap<String, KeptToken>>,
}

#[derive(Debug, Clone)]
struct KeptToken {
    kind: String,
    actor: Actor,
    csrf_token: Option<String>,
    expires_at: DateTime<Utc>,
    read: Instant,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<KeptToken> {
        let kept = self.kept.lock().ok()?;
        kept.get(hash).filter(|k| k.read.elapsed() < TOKEN_RECHECK).cloned()
    }

    fn put(&self, hash: String, token: KeptToken) {
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= TOKENS_KEPT {
                kept.clear();
            }
            kept.insert(hash, token);
        }
    }

    fn forget(&self, hash: &str) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.remove(hash);
        }
    }

    /// Forgets every token of user `user_id`, so that this instance reads them again (and
    /// finds them gone, or the user's new role) on their next request.
    pub(crate) fn forget_user(&self, user_id: i64) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|_, k| k.actor.user_id != user_id);
        }
    }
}

/// Ends every session and API token of user `user_id` but the one whose secret is `keep`:
/// deletes their rows (every instance reads them again within [`TOKEN_RECHECK`] and finds
/// them gone) and forgets them on this instance at once.
pub(crate) async fn end_tokens_of(
    db: &impl sea_orm::ConnectionTrait,
    tokens: &TokenCache,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64> {
    let mut delete = auth_tokens::Entity::delete_many().filter(auth_tokens::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        delete = delete.filter(auth_tokens::Column::TokenHash.ne(token_hash(keep)));
    }
    let ended = delete.exec(db).await?.rows_affected;
    tokens.forget_user(user_id);
    Ok(ended)
}

/// The users service: accounts, sign-in, sessions and tokens.
#[derive(Debug, Clone)]
pub struct Users {
    base: Base,
    tokens: Arc<TokenCache>,
}

impl Users {
    /// The service over `base`.
    pub fn new(base: Base) -> Self {
        Users {
            base,
            tokens: Arc::default(),
        }
    }

    /// Creates a user without asking who may (the command line's `user add`, and the
    /// first admin); admins add users through [`crate::users::Accounts::add_user`]. The
    /// checks are the same: [`crate::users`].
    pub async fn create_user(&self, email: &str, name: &str, password: &str, role: Role) -> Result<User> {
        crate::users::insert_user(&self.base, email, name, password, role.as_str(), false).await
    }

    /// The cache of resolved tokens, shared with the accounts service, which ends tokens.
    pub(crate) fn token_cache(&self) -> Arc<TokenCache> {
        self.tokens.clone()
    }

    /// All users, by email.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        use sea_orm::QueryOrder;
        users::Entity::find()
            .order_by_asc(users::Column::Email)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Checks an email and password from a client at `client`, within the sign-in limits
    /// ([`crate::sign_in_limits`]): `Unauthorized` for a wrong email or password,
    /// `RateLimited` once a limit is reached, alike for known and unknown emails.
    pub async fn authenticate(&self, email: &str, password: &str, client: IpAddr) -> Result<User> {
        let email = email.trim().to_lowercase();
        if !valid_email(&email) {
            return Err(Error::Unauthorized(BAD_CREDENTIALS.into()));
        }
        let counters = Counters::new(&self.base.db, self.base.clock.now().timestamp());
        let address = limits::address_key(client);
        let pair = limits::pair_key(&email, &address);
        let account = limits::account_key(&email);
        let refused = |retry_after_secs: i64| Error::RateLimited {
            retry_after_secs: retry_after_secs.max(1),
        };

        // Per-address limits first; an attempt on a locked pair still costs the address.
        if let Reservation::Refused { retry_after_secs } = counters.reserve(&address, limits::ADDRESS).await? {
            return Err(refused(retry_after_secs));
        }
        if let Reservation::Refused { retry_after_secs } = counters.reserve(&pair, limits::PAIR).await? {
            return Err(refused(retry_after_secs));
        }
        let mut held = vec![(address, limits::ADDRESS), (pair.clone(), limits::PAIR)];
        if !counters.known(&pair).await? {
            if let Reservation::Refused { retry_after_secs } = counters.reserve(&account, limits::ACCOUNT).await? {
                // Not this address's fault: its own count stays as it was.
                counters.give_back(&pair).await?;
                return Err(refused(retry_after_secs));
            }
            held.push((account, limits::ACCOUNT));
        }

        let user = users::Entity::find()
            .filter(users::Column::Email.eq(&email))
            .one(&self.base.db)
            .await?;
        let right = match &user {
            Some(user) => verify_password(password.to_owned(), user.password_hash.clone()).await?,
            None => {
                verify_password(password.to_owned(), dummy_hash()).await?;
                false
            }
        };
        if let (true, Some(user)) = (right, user) {
            for (key, _) in &held {
                if *key == pair {
                    counters.succeeded(key).await?;
                } else {
                    counters.give_back(key).await?;
                }
            }
            // Said only to whoever knows the password: others hear "wrong email or
            // password" whether the account is active or not.
            if user.deactivated_at.is_some() {
                return Err(Error::Forbidden(DEACTIVATED.into()));
            }
            return User::try_from(user);
        }
        let mut locked_for = None;
        for (key, limit) in &held {
            if let Some(secs) = counters.failed(key, *limit).await? {
                locked_for = locked_for.max(Some(secs));
            }
        }
        match locked_for {
            Some(secs) => Err(refused(secs)),
            None => Err(Error::Unauthorized(BAD_CREDENTIALS.into())),
        }
    }

    /// Opens a web session for `user`.
    pub async fn start_session(&self, user: &User) -> Result<NewSession> {
        let token = random_token();
        let csrf_token = random_token();
        let now = stored(self.base.clock.now());
        let expires_at = now + SESSION_TTL;
        auth_tokens::ActiveModel {
            token_hash: Set(token_hash(&token)),
            user_id: Set(user.id),
            kind: Set(KIND_SESSION.into()),
            csrf_token: Set(Some(csrf_token.clone())),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(&self.base.db)
        .await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
        })
    }

    /// Issues a bearer token for the API.
    pub async fn issue_api_token(&self, user: &User) -> Result<String> {
        let token = random_token();
        let now = stored(self.base.clock.now());
        auth_tokens::ActiveModel {
            token_hash: Set(token_hash(&token)),
            user_id: Set(user.id),
            kind: Set(KIND_API.into()),
            csrf_token: Set(None),
            created_at: Set(now),
            expires_at: Set(now + API_TOKEN_TTL),
        }
        .insert(&self.base.db)
        .await?;
        Ok(token)
    }

    async fn resolve_token(&self, token: &str, kind: &str) -> Result<Option<(Actor, Option<String>)>> {
        let hash = token_hash(token);
        let kept = match self.tokens.get(&hash) {
            Some(kept) => kept,
            None => {
                // The token and its user in one round trip.
                let read = Instant::now();
                let Some((row, Some(user))) = auth_tokens::Entity::find_by_id(hash.clone())
                    .find_also_related(users::Entity)
                    .one(&self.base.db)
                    .await?
                else {
                    self.tokens.forget(&hash);
                    return Ok(None);
                };
                // Deactivating deletes the user's tokens; one a sign-in begun before it
                // stored after it is refused here.
                if user.deactivated_at.is_some() {
                    self.tokens.forget(&hash);
                    return Ok(None);
                }
                let kept = KeptToken {
                    kind: row.kind,
                    actor: User::try_from(user)?.actor(),
                    csrf_token: row.csrf_token,
                    expires_at: row.expires_at,
                    read,
                };
                self.tokens.put(hash, kept.clone());
                kept
            }
        };
        if kept.kind != kind || kept.expires_at <= self.base.clock.now() {
            return Ok(None);
        }
        Ok(Some((kept.actor, kept.csrf_token)))
    }

    /// The session behind a cookie value, if it is live.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<Session>> {
        Ok(self
            .resolve_token(token, KIND_SESSION)
            .await?
            .map(|(actor, csrf)| Session {
                actor,
                csrf_token: csrf.unwrap_or_default(),
            }))
    }

    /// The actor behind a bearer token, if it is live.
    pub async fn resolve_api_token(&self, token: &str) -> Result<Option<Actor>> {
        Ok(self.resolve_token(token, KIND_API).await?.map(|(actor, _)| actor))
    }

    /// Ends a session or revokes a token.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        auth_tokens::Entity::delete_by_id(hash.clone())
            .exec(&self.base.db)
            .await?;
        self.tokens.forget(&hash);
        Ok(())
    }

    /// Number of users; the server prints how to create the first admin when it is zero.
    pub async fn count_users(&self) -> Result<u64> {
        Ok(users::Entity::find().count(&self.base.db).await?)
    }
}
