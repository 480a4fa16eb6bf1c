//! How many password guesses anyone gets: sign-in limits counted in the database.
//!
//! # Design
//!
//! Three counters stand between a guess and the password check, each a row of
//! `sign_in_limits` keyed by what it counts:
//!
//! 1. **The client address** (`address:<ip>`; IPv6 by its /64, the block one subscriber
//!    gets): [`ADDRESS`] failed attempts on any accounts. Stops one address spraying many
//!    accounts.
//! 2. **The account from that address** (`pair:<email> <ip>`): [`PAIR`] failed attempts
//!    ([`crate::auth::MAX_FAILED_LOGINS`]). This is the lockout users see; it holds the
//!    attacker's address only, so the owner of the account signs in from anywhere else.
//! 3. **The account from anywhere** (`account:<email>`): [`ACCOUNT`] failed attempts, a
//!    ceiling for guesses spread over many addresses. Addresses the account has signed in
//!    from before (a `pair` row with a success) are exempt, so even a distributed attack
//!    leaves the owner a way in from a known place.
//!
//! Each counter locks when it reaches its limit with a failure, for [`LOCKOUT`] the first
//! time and twice as long each time after ([`MAX_DOUBLINGS`] at most: 15 minutes, 30, ...
//! 16 hours), so a patient attacker gets a few guesses a day, not a few an hour. A counter
//! starts over after [`QUIET`] without attempts, forgets its lockouts after a quiet
//! [`FORGET`], and a success from an address resets that address's `pair` counter.
//!
//! **Atomic.** An attempt *reserves* its place in each counter before the password is
//! checked, with one conditional `UPDATE ... WHERE failures < limit ... RETURNING`: the
//! database serialises the updates of a row (PostgreSQL re-checks the `WHERE` on the row it
//! waited for; SQLite has one writer), so of a burst of any size at most the limit get
//! checked, and the rest are refused without a hash computation. A success gives its
//! place back. The old design read the count, checked the password (tens of milliseconds),
//! then wrote the count: a burst of parallel guesses all read the same small count.
//!
//! **The same answer for every email.** Counters are keyed by the email as typed
//! (normalised), not by the user id, so an unknown email is limited exactly like a real
//! one: `401 wrong email or password`, then `429` with the same `Retry-After`. Unknown
//! emails still run a password check against a dummy hash, so timing doesn't tell either.
//!
//! Times are stored as Unix seconds: the conditional updates compare them in SQL, and
//! integers compare alike on both databases. Rows untouched for a day (and not holding a
//! recent success) are deleted whenever a new address shows up.
//!
//! # Alternatives considered
//!
//! - *A per-account lock for everyone* (the old design): one attacker locks the owner out
//!   for its whole duration, from everywhere, with no recourse. Replaced by the pair lock.
//! - *Counting in memory* (a `governor` rate limiter per address): fast, but every server
//!   instance would count alone, a restart forgets, and it can't be atomic with respect to
//!   other instances sharing the database. The database already serialises the writes.
//! - *`SELECT ... FOR UPDATE` in a transaction around the check*: holds a row lock (and on
//!   SQLite the write lock) for the whole password hash; the reservation holds it for one
//!   statement.
//! - *CAPTCHAs or e-mailed unlock links*: need infrastructure Kartoteka doesn't have.
//!
//! # Limits
//!
//! The address is the TCP peer's. Behind a reverse proxy every client has the proxy's
//! address, so the address counter counts everyone together; run the proxy so that it
//! limits sign-ins itself, or on the same host as a trusted single client.

use std::net::IpAddr;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};

use crate::Result;

/// A counter's rule: how many failures lock it, and for how long at first.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failed attempts that lock.
    pub failures: i64,
    /// The first lock's length in seconds; each further lock doubles it.
    pub lockout_secs: i64,
}

/// The first lock's length in seconds ([`crate::auth::LOCKOUT`]).
pub const LOCKOUT: i64 = crate::auth::LOCKOUT.num_seconds();
/// How often a lock's length doubles at most (15 minutes * 2^6 = 16 hours).
pub const MAX_DOUBLINGS: u32 = 6;
/// Seconds without an attempt after which a counter starts over.
pub const QUIET: i64 = 15 * 60;
/// Seconds without an attempt after which a counter forgets its past lockouts.
pub const FORGET: i64 = 24 * 3600;
/// How long an address where the account signed in counts as known.
pub const KNOWN_FOR: i64 = 90 * 24 * 3600;

/// Failed attempts from one address, on any accounts.
pub const ADDRESS: Limit = Limit {
    failures: 30,
    lockout_secs: LOCKOUT,
};
/// Failed attempts on one account from one address.
pub const PAIR: Limit = Limit {
    failures: crate::auth::MAX_FAILED_LOGINS as i64,
    lockout_secs: LOCKOUT,
};
/// Failed attempts on one account from addresses it never signed in from.
pub const ACCOUNT: Limit = Limit {
    failures: 50,
    lockout_secs: LOCKOUT,
};

/// The address as counted: IPv4 (also when mapped into IPv6) whole, IPv6 by its /64.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("address:{v4}"),
            None => {
                let s = v6.segments();
                let [a, b, c, d, ..] = s;
                format!("address:{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
    }
}

/// The counter of `email` from `address_key`.
pub fn pair_key(email: &str, address_key: &str) -> String {
    let address = address_key.strip_prefix("address:").unwrap_or(address_key);
    format!("pair:{email} {address}")
}

/// The counter of `email` from anywhere.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The counters of one database.
#[derive(Debug, Clone, Copy)]
pub struct Counters<'a> {
    db: &'a DatabaseConnection,
    /// Now, in Unix seconds.
    now: i64,
}

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may go ahead.
    Granted,
    /// The counter is full: refuse, and say when to try again.
    Refused { retry_after_secs: i64 },
}

impl<'a> Counters<'a> {
    /// The counters of `db` at `now` (Unix seconds).
    pub fn new(db: &'a DatabaseConnection, now: i64) -> Self {
        Counters { db, now }
    }

    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        // `$n` placeholders: PostgreSQL's, and SQLite reads them by number too.
        Statement::from_sql_and_values(self.db.get_database_backend(), sql, values)
    }

    /// Takes a place in counter `key` for an attempt about to be checked, atomically: at
    /// most `limit.failures` places are taken until the counter starts over.
    pub async fn reserve(&self, key: &str, limit: Limit) -> Result<Reservation> {
        let inserted = self
            .db
            .execute_raw(self.statement(
                "INSERT INTO sign_in_limits (key, failures, lockouts, updated_at) VALUES ($1, 0, 0, $2) \
                 ON CONFLICT (key) DO NOTHING",
                vec![key.into(), self.now.into()],
            ))
            .await?;
        if inserted.rows_affected() > 0 && key.starts_with("address:") {
            self.prune().await?;
        }
        // A counter starts over when its lock ran out or after a quiet spell; it forgets
        // its lockouts after a long one.
        let reserved = self
            .db
            .query_one_raw(self.statement(
                "UPDATE sign_in_limits SET \
                   failures = CASE WHEN locked_until IS NOT NULL OR updated_at <= $2 - $4 \
                                   THEN 1 ELSE failures + 1 END, \
                   lockouts = CASE WHEN updated_at <= $2 - $5 THEN 0 ELSE lockouts END, \
                   locked_until = NULL, \
                   updated_at = $2 \
                 WHERE key = $1 \
                   AND (locked_until IS NULL OR locked_until <= $2) \
                   AND (failures < $3 OR locked_until IS NOT NULL OR updated_at <= $2 - $4) \
                 RETURNING failures",
                vec![
                    key.into(),
                    self.now.into(),
                    limit.failures.into(),
                    QUIET.into(),
                    FORGET.into(),
                ],
            ))
            .await?;
        if reserved.is_some() {
            return Ok(Reservation::Granted);
        }
        Ok(Reservation::Refused {
            retry_after_secs: self.retry_after(key).await?.unwrap_or(limit.lockout_secs),
        })
    }

    /// Seconds until counter `key`'s lock ends, if it is locked.
    pub async fn retry_after(&self, key: &str) -> Result<Option<i64>> {
        let row = self
            .db
            .query_one_raw(self.statement(
                "SELECT locked_until FROM sign_in_limits WHERE key = $1",
                vec![key.into()],
            ))
            .await?;
        let until: Option<i64> = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => None,
        };
        Ok(until.filter(|u| *u > self.now).map(|u| u - self.now))
    }

    /// Records that the attempt holding a place in `key` failed: a full counter locks, for
    /// longer with each lockout. Returns the seconds until the lock ends, if it is locked.
    pub async fn failed(&self, key: &str, limit: Limit) -> Result<Option<i64>> {
        let doublings = (0..=MAX_DOUBLINGS)
            .map(|n| format!("WHEN lockouts = {n} THEN {}", limit.lockout_secs << n))
            .collect::<Vec<_>>()
            .join(" ");
        let longest = limit.lockout_secs << MAX_DOUBLINGS;
        let sql = format!(
            "UPDATE sign_in_limits SET \
               locked_until = $2 + CASE {doublings} ELSE {longest} END, \
               lockouts = lockouts + 1, \
               updated_at = $2 \
             WHERE key = $1 AND failures >= $3 AND locked_until IS NULL"
        );
        self.db
            .execute_raw(self.statement(&sql, vec![key.into(), self.now.into(), limit.failures.into()]))
            .await?;
        self.retry_after(key).await
    }

    /// Gives back the place an attempt that succeeded held in `key`.
    pub async fn give_back(&self, key: &str) -> Result<()> {
        self.db
            .execute_raw(self.statement(
                "UPDATE sign_in_limits SET failures = failures - 1 WHERE key = $1 AND failures > 0",
                vec![key.into()],
            ))
            .await?;
        Ok(())
    }

    /// Records a success in pair counter `key`: it starts over and the address is known.
    pub async fn succeeded(&self, key: &str) -> Result<()> {
        self.db
            .execute_raw(self.statement(
                "UPDATE sign_in_limits SET failures = 0, lockouts = 0, locked_until = NULL, \
                   succeeded_at = $2, updated_at = $2 WHERE key = $1",
                vec![key.into(), self.now.into()],
            ))
            .await?;
        Ok(())
    }

    /// Whether pair counter `key` holds a success from the last [`KNOWN_FOR`].
    pub async fn known(&self, key: &str) -> Result<bool> {
        let row = self
            .db
            .query_one_raw(self.statement(
                "SELECT 1 FROM sign_in_limits WHERE key = $1 AND succeeded_at > $2",
                vec![key.into(), (self.now - KNOWN_FOR).into()],
            ))
            .await?;
        Ok(row.is_some())
    }

    /// Deletes counters nobody used for a day that hold no lock and no recent success.
    async fn prune(&self) -> Result<()> {
        self.db
            .execute_raw(self.statement(
                "DELETE FROM sign_in_limits WHERE updated_at < $1 - $2 \
                   AND (locked_until IS NULL OR locked_until < $1) \
                   AND (succeeded_at IS NULL OR succeeded_at < $1 - $3)",
                vec![self.now.into(), FORGET.into(), KNOWN_FOR.into()],
            ))
            .await?;
        Ok(())
    }
}
