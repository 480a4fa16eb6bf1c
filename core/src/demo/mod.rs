//! Demo data: realistic companies, people and activities for `kartoteka demo`, also used by
//! the load benchmarks (up to a million contacts).
//!
//! The data mixes four locales (Polish, Ukrainian, Romanian, Russian): names in their own
//! script with gendered surnames, real cities with their region, postal codes in the local
//! format, coordinates jittered by a few kilometres around the city centre, local phone
//! formats, and e-mail addresses transliterated to ASCII.
//!
//! Generation is deterministic: a small SplitMix64 generator seeded from
//! [`DemoOptions::seed`] drives every choice, so the same options give the same data.
//!
//! Rows are streamed: companies first (their ids are kept, people refer to them), then
//! people in batches, each batch with its activities inserted in the same transaction by
//! multi-row `INSERT`s with bound parameters only. Nothing but the companies' ids and a
//! few attributes stays in memory between batches. Each row carries its derived columns
//! (folded text, search words), computed by [`crate::contacts::derived`] like on every
//! other contact write.

pub mod names;

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Days, SubsecRound, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, InsertStatement, Order, Query, Value as SqlValue};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, TransactionTrait};
use serde_json::{Map, Value as Json, json};

use names::City;

use crate::contacts::derived::{self, Derived, FoldSchema, Source};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// People (contacts of kind `person`).
    pub people: usize,
    /// Companies (contacts of kind `company`), inserted before the people.
    pub companies: usize,
    /// Average number of activities per person (each gets 0..=2× this many).
    pub activities_per_contact: usize,
    /// Seed of the generator: the same seed gives the same data.
    pub seed: u64,
    /// Users to assign as owners; empty leaves `owner_id` NULL.
    pub owner_ids: Vec<i64>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            people: 2000,
            companies: 300,
            activities_per_contact: 6,
            seed: 42,
            owner_ids: Vec::new(),
        }
    }
}

/// What [`load`] inserted.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoReport {
    pub people: u64,
    pub companies: u64,
    pub activities: u64,
    /// Field definitions added (those that already existed are not counted).
    pub fields: u64,
}

/// Loads the demo into `db`; `progress(done, total)` is called after each batch
/// (contacts+activities rows).
///
/// Needs the seeded contact types (`lead` with `cold`/`warm`/`hot`/`refused`, `client`,
/// `employee` with `staff`/`freelance`/`temporary`/`remote`, `supplier`, `contractor`);
/// missing ones are skipped, and at least one type must exist. Field definitions the demo
/// uses are added when no field with their key exists; an existing field with the same key
/// is used as it is (its options and types), or skipped when its kind differs.
pub async fn load(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    opts: &DemoOptions,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<DemoReport, DbErr> {
    let now = now.trunc_subsecs(0);
    let types = read_types(db).await?;
    let (fields_added, live_fields) = ensure_fields(db, now).await?;
    // The definitions the derived columns (folded text, search words) are computed under;
    // see `contacts::derived`.
    let fold = FoldSchema::read(db)
        .await
        .map_err(|e| DbErr::Custom(format!("demo: reading the field definitions: {e}")))?;
    let plan = Plan::new(&types, live_fields, fold)?;

    let activities_total = count_activities(opts);
    let total = to_u64(opts.companies)
        .saturating_add(to_u64(opts.people))
        .saturating_add(activities_total);
    let mut generator = Generator::new(opts, now, plan);
    let mut report = DemoReport {
        fields: fields_added,
        ..DemoReport::default()
    };
    let mut done = 0u64;

    // Companies first: people need their ids.
    let mut remaining = opts.companies;
    while remaining > 0 {
        let in_txn = remaining.min(CONTACTS_PER_TXN);
        let txn = db.begin().await?;
        let mut left = in_txn;
        while left > 0 {
            let n = left.min(CONTACT_ROWS_PER_INSERT);
            let mut stmt = insert_into("contacts", &contact_columns());
            let mut pending = Vec::with_capacity(n);
            for _ in 0..n {
                let (row, company) = generator.company();
                stmt.values(row.into_exprs(&generator.plan.fold)).map_err(build_err)?;
                pending.push(company);
            }
            let ids = insert_returning_ids(&txn, stmt, n).await?;
            for (id, mut company) in ids.into_iter().zip(pending) {
                company.id = id;
                generator.companies.push(company);
            }
            left -= n;
        }
        txn.commit().await?;
        remaining -= in_txn;
        report.companies += to_u64(in_txn);
        done += to_u64(in_txn);
        progress(done, total);
    }

    // People, one batch per transaction: their contacts, then their activities. While the
    // database works on one statement the next one is generated (`join!` polls the insert
    // first, which hands it to the database, then runs the generation).
    //
    // Activity INSERTs always carry a full ACTIVITY_ROWS_PER_INSERT rows (rows left over go
    // into the next transaction; only the very last INSERT is shorter): every statement
    // then has the same SQL, so the drivers' prepared-statement caches hold one or two
    // statements instead of one per odd size (each of them large with 24,000 parameters).
    let mut cursor = ActivityCursor::default();
    let mut remaining = opts.people;
    let mut next_people = if remaining > 0 {
        Some(generator.people(remaining.min(PEOPLE_PER_TXN))?)
    } else {
        None
    };
    while let Some((stmt, contexts)) = next_people.take() {
        let n = contexts.len();
        remaining -= n;
        let txn = db.begin().await?;
        let ids = insert_returning_ids(&txn, stmt, n).await?;
        let people: Vec<(i64, PersonCtx)> = ids.into_iter().zip(contexts).collect();

        cursor.next_person = 0;
        cursor.last_batch = remaining == 0;
        let mut activities = 0u64;
        let mut next_activities = generator.activity_statement(&people, &mut cursor)?;
        while let Some((stmt, rows)) = next_activities.take() {
            if !cursor.has_more(&people) {
                // The batch's last statement: meanwhile, generate the next batch.
                let (inserted, following) = tokio::join!(biased; txn.execute(&stmt), async {
                    if remaining > 0 {
                        generator.people(remaining.min(PEOPLE_PER_TXN)).map(Some)
                    } else {
                        Ok(None)
                    }
                });
                inserted?;
                next_people = following?;
            } else {
                let (inserted, following) = tokio::join!(biased; txn.execute(&stmt), async {
                    generator.activity_statement(&people, &mut cursor)
                });
                inserted?;
                next_activities = following?;
            }
            activities += to_u64(rows);
        }
        if next_people.is_none() && remaining > 0 {
            next_people = Some(generator.people(remaining.min(PEOPLE_PER_TXN))?);
        }
        txn.commit().await?;

        report.people += to_u64(n);
        report.activities += activities;
        done += to_u64(n) + activities;
        progress(done, total);
    }

    tracing::info!(
        companies = report.companies,
        people = report.people,
        activities = report.activities,
        fields = report.fields,
        "demo data loaded"
    );
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Batching
// ---------------------------------------------------------------------------------------------

const CONTACT_COLUMNS: [&str; 20] = [
    "kind",
    "type_id",
    "name",
    "email",
    "phone",
    "position",
    "company_id",
    "street",
    "city",
    "region",
    "country",
    "postal_code",
    "latitude",
    "longitude",
    "owner_id",
    "do_not_contact",
    "fields",
    "created_at",
    "updated_at",
    "version",
];

const ACTIVITY_COLUMNS: [&str; 6] = [
    "contact_id",
    "kind",
    "occurred_at",
    "properties",
    "amount",
    "created_at",
];

/// The columns of a contacts INSERT: [`CONTACT_COLUMNS`], then the derived ones.
fn contact_columns() -> Vec<&'static str> {
    CONTACT_COLUMNS.iter().chain(derived::COLUMNS.iter()).copied().collect()
}

/// Contacts per multi-row INSERT.
const CONTACT_ROWS_PER_INSERT: usize = 900;
/// Companies per transaction.
const CONTACTS_PER_TXN: usize = 2000;
/// People per transaction (one INSERT), with their activities.
const PEOPLE_PER_TXN: usize = CONTACT_ROWS_PER_INSERT;
/// Activities per multi-row INSERT.
const ACTIVITY_ROWS_PER_INSERT: usize = 4000;

// SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
const _: () = assert!((CONTACT_COLUMNS.len() + derived::COLUMNS.len()) * CONTACT_ROWS_PER_INSERT <= 30_000);
const _: () = assert!(ACTIVITY_COLUMNS.len() * ACTIVITY_ROWS_PER_INSERT <= 30_000);

fn insert_into(table: &str, columns: &[&str]) -> InsertStatement {
    let mut stmt = Query::insert();
    stmt.into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)));
    stmt
}

fn build_err(e: sea_orm::sea_query::error::Error) -> DbErr {
    DbErr::Custom(format!("demo: building an insert: {e}"))
}

/// Runs a multi-row insert into `contacts` and returns the new ids in row order.
///
/// A single multi-row INSERT assigns ids in the order of its VALUES rows on both SQLite
/// and PostgreSQL, so sorting the returned ids gives them in row order.
async fn insert_returning_ids<C: ConnectionTrait>(
    conn: &C,
    mut stmt: InsertStatement,
    rows: usize,
) -> Result<Vec<i64>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let mut ids = if conn.support_returning() {
        stmt.returning_col(Alias::new("id"));
        let result = conn.query_all(&stmt).await?;
        result
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        let before = max_contact_id(conn).await?;
        conn.execute(&stmt).await?;
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contacts"))
            .and_where(Expr::col(Alias::new("id")).gt(before))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(to_u64(rows))
            .to_owned();
        let result = conn.query_all(&select).await?;
        result
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<Vec<_>, _>>()?
    };
    ids.sort_unstable();
    if ids.len() != rows {
        return Err(DbErr::Custom(format!(
            "demo: inserted {rows} contacts but got {} ids back",
            ids.len()
        )));
    }
    Ok(ids)
}

async fn max_contact_id<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    let select = Query::select()
        .expr(Func::max(Expr::col(Alias::new("id"))))
        .from(Alias::new("contacts"))
        .to_owned();
    let row = conn.query_one(&select).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    })
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Draws every person's activity count up front, from the generator's own stream, so the
/// progress total is exact.
fn count_activities(opts: &DemoOptions) -> u64 {
    let mut counts = Rng::new(opts.seed, STREAM_COUNTS);
    (0..opts.people)
        .map(|_| u64::from(activity_count(&mut counts, opts.activities_per_contact)))
        .sum()
}

fn activity_count(rng: &mut Rng, average: usize) -> u32 {
    let max = to_u64(average).saturating_mul(2);
    u32::try_from(rng.below(max.saturating_add(1))).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

const STREAM_MAIN: u64 = 1;
const STREAM_COUNTS: u64 = 2;

/// SplitMix64: tiny, fast and good enough for demo data.
#[derive(Debug, Clone)]
struct Rng {
    state: u64,
}

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Rng {
            state: seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
        };
        rng.next_u64();
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(to_u64(len))).unwrap_or(0)
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        lo.saturating_add_unsigned(self.below(span))
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn digit(&mut self) -> char {
        char::from(b'0' + (self.below(10) as u8))
    }
}

/// One item of a slice, uniformly (the default value for an empty slice).
fn pick<T: Copy + Default>(rng: &mut Rng, items: &[T]) -> T {
    items.get(rng.index(items.len())).copied().unwrap_or_default()
}

/// One item of a weighted list (the default value for an empty list).
fn pick_weighted<T: Copy + Default>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut r = rng.below(total);
    for (item, weight) in items {
        let weight = u64::from(*weight);
        if r < weight {
            return *item;
        }
        r -= weight;
    }
    items.last().map(|(item, _)| *item).unwrap_or_default()
}

fn pick_city(rng: &mut Rng, cities: &[City]) -> City {
    let total: u64 = cities.iter().map(|c| u64::from(c.weight)).sum();
    let mut r = rng.below(total);
    for city in cities {
        let weight = u64::from(city.weight);
        if r < weight {
            return *city;
        }
        r -= weight;
    }
    cities.first().copied().unwrap_or_default()
}

/// Replaces every `#` of `template` by a random digit.
fn fill_digits(rng: &mut Rng, template: &str) -> String {
    template
        .chars()
        .map(|c| if c == '#' { rng.digit() } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Locales
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Lang {
    #[default]
    Pl,
    Ua,
    Ro,
    Ru,
}

const LANGS: &[(Lang, u32)] = &[(Lang::Pl, 40), (Lang::Ua, 25), (Lang::Ro, 20), (Lang::Ru, 15)];

struct Locale {
    country: &'static str,
    male: &'static [&'static str],
    female: &'static [&'static str],
    surnames: &'static [&'static str],
    streets: &'static [&'static str],
    cities: &'static [City],
    mobile: &'static [&'static str],
    freemail: &'static [&'static str],
    company_words: &'static [&'static str],
    company_suffixes: &'static [&'static str],
    company_mailboxes: &'static [&'static str],
    tlds: &'static [&'static str],
    positions: &'static [&'static str],
    support_subjects: &'static [&'static str],
    notes: &'static [&'static str],
}

static PL: Locale = Locale {
    country: "Polska",
    male: names::PL_MALE,
    female: names::PL_FEMALE,
    surnames: names::PL_SURNAMES,
    streets: names::PL_STREETS,
    cities: names::PL_CITIES,
    mobile: names::PL_MOBILE,
    freemail: names::PL_FREEMAIL,
    company_words: names::PL_COMPANY_WORDS,
    company_suffixes: names::PL_COMPANY_SUFFIXES,
    company_mailboxes: &["biuro", "kontakt", "info", "sekretariat"],
    tlds: &["pl", "pl", "com.pl", "eu"],
    positions: names::PL_POSITIONS,
    support_subjects: names::PL_SUPPORT_SUBJECTS,
    notes: names::PL_NOTES,
};

static UA: Locale = Locale {
    country: "Україна",
    male: names::UA_MALE,
    female: names::UA_FEMALE,
    surnames: names::UA_SURNAMES,
    streets: names::UA_STREETS,
    cities: names::UA_CITIES,
    mobile: names::UA_MOBILE,
    freemail: names::UA_FREEMAIL,
    company_words: names::UA_COMPANY_WORDS,
    company_suffixes: names::UA_COMPANY_SUFFIXES,
    company_mailboxes: &["office", "info", "sales"],
    tlds: &["com.ua", "com.ua", "ua"],
    positions: names::UA_POSITIONS,
    support_subjects: names::UA_SUPPORT_SUBJECTS,
    notes: names::UA_NOTES,
};

static RO: Locale = Locale {
    country: "România",
    male: names::RO_MALE,
    female: names::RO_FEMALE,
    surnames: names::RO_SURNAMES,
    streets: names::RO_STREETS,
    cities: names::RO_CITIES,
    mobile: names::RO_MOBILE,
    freemail: names::RO_FREEMAIL,
    company_words: names::RO_COMPANY_WORDS,
    company_suffixes: names::RO_COMPANY_SUFFIXES,
    company_mailboxes: &["office", "contact", "info"],
    tlds: &["ro"],
    positions: names::RO_POSITIONS,
    support_subjects: names::RO_SUPPORT_SUBJECTS,
    notes: names::RO_NOTES,
};

static RU: Locale = Locale {
    country: "Россия",
    male: names::RU_MALE,
    female: names::RU_FEMALE,
    surnames: names::RU_SURNAMES,
    streets: names::RU_STREETS,
    cities: names::RU_CITIES,
    mobile: names::RU_MOBILE,
    freemail: names::RU_FREEMAIL,
    company_words: names::RU_COMPANY_WORDS,
    company_suffixes: names::RU_COMPANY_SUFFIXES,
    company_mailboxes: &["info", "office", "sales", "zakaz"],
    tlds: &["ru", "ru", "com"],
    positions: names::RU_POSITIONS,
    support_subjects: names::RU_SUPPORT_SUBJECTS,
    notes: names::RU_NOTES,
};

fn locale(lang: Lang) -> &'static Locale {
    match lang {
        Lang::Pl => &PL,
        Lang::Ua => &UA,
        Lang::Ro => &RO,
        Lang::Ru => &RU,
    }
}

/// The feminine form of a surname stored in its masculine form.
fn surname(lang: Lang, base: &str, female: bool) -> String {
    if !female {
        return base.to_owned();
    }
    let swap = |from: &str, to: &str| base.strip_suffix(from).map(|stem| format!("{stem}{to}"));
    let feminine = match lang {
        Lang::Pl => swap("ski", "ska")
            .or_else(|| swap("cki", "cka"))
            .or_else(|| swap("dzki", "dzka")),
        Lang::Ua => swap("ський", "ська").or_else(|| swap("цький", "цька")),
        Lang::Ru => swap("ский", "ская")
            .or_else(|| swap("цкий", "цкая"))
            .or_else(|| swap("ой", "ая"))
            .or_else(|| {
                ["ов", "ев", "ёв", "ин", "ын"]
                    .iter()
                    .any(|s| base.ends_with(s))
                    .then(|| format!("{base}а"))
            }),
        Lang::Ro => None,
    };
    feminine.unwrap_or_else(|| base.to_owned())
}

/// Lowercase ASCII letters and digits for `s`: diacritics dropped, Cyrillic transliterated
/// (Ukrainian or Russian rules), everything else left out.
fn translit(s: &str, lang: Lang) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let ua = lang == Lang::Ua;
        let mapped = match c {
            'ą' | 'ă' | 'â' | 'а' => "a",
            'ć' => "c",
            'ę' | 'е' | 'ё' | 'э' => "e",
            'ł' | 'л' => "l",
            'ń' | 'н' => "n",
            'ó' | 'о' => "o",
            'ś' | 'ș' | 'ş' | 'с' => "s",
            'ź' | 'ż' | 'з' => "z",
            'î' | 'і' => "i",
            'ț' | 'ţ' | 'т' => "t",
            'б' => "b",
            'в' => "v",
            'г' if ua => "h",
            'г' | 'ґ' => "g",
            'д' => "d",
            'є' => "ye",
            'ж' => "zh",
            'и' if ua => "y",
            'и' => "i",
            'ї' => "yi",
            'й' | 'ы' => "y",
            'к' => "k",
            'м' => "m",
            'п' => "p",
            'р' => "r",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            _ => "",
        };
        out.push_str(mapped);
    }
    out
}

fn postal_code(rng: &mut Rng, lang: Lang, city: &City) -> String {
    let (lo, hi) = city.postal;
    let n = rng.between(i64::from(lo), i64::from(hi));
    match lang {
        Lang::Pl => format!("{:02}-{:03}", n / 1000, n % 1000),
        Lang::Ua => format!("{n:05}"),
        Lang::Ro | Lang::Ru => format!("{n:06}"),
    }
}

fn mobile_phone(rng: &mut Rng, lang: Lang) -> String {
    let prefix = pick(rng, locale(lang).mobile);
    match lang {
        Lang::Pl => format!("+48 {prefix} {}", fill_digits(rng, "### ###")),
        Lang::Ua => format!("+380 {prefix} {}", fill_digits(rng, "### ## ##")),
        Lang::Ro => format!("+40 {prefix} {}", fill_digits(rng, "### ###")),
        Lang::Ru => format!("+7 {prefix} {}", fill_digits(rng, "###-##-##")),
    }
}

fn street_address(rng: &mut Rng, lang: Lang, with_flat: bool) -> String {
    let street = pick(rng, locale(lang).streets);
    let number = rng.between(1, 180);
    let flat = with_flat.then(|| rng.between(1, 120));
    match (lang, flat) {
        (Lang::Pl, Some(flat)) => format!("{street} {number}/{flat}"),
        (Lang::Pl, None) => format!("{street} {number}"),
        (Lang::Ua, Some(flat)) => format!("{street}, {number}, кв. {flat}"),
        (Lang::Ua, None) => format!("{street}, {number}"),
        (Lang::Ro, Some(flat)) => format!("{street} nr. {number}, ap. {flat}"),
        (Lang::Ro, None) => format!("{street} nr. {number}"),
        (Lang::Ru, Some(flat)) => format!("{street}, д. {number}, кв. {flat}"),
        (Lang::Ru, None) => format!("{street}, д. {number}"),
    }
}

/// A point within a few kilometres of the city centre.
fn jitter(rng: &mut Rng, city: &City) -> (f64, f64) {
    let lat = city.lat + (rng.unit() - 0.5) * 0.09;
    let lon = city.lon + (rng.unit() - 0.5) * 0.09 / city.lat.to_radians().cos().max(0.2);
    ((lat * 1e6).round() / 1e6, (lon * 1e6).round() / 1e6)
}

/// A company's display name and the stem of its domain.
fn company_name(rng: &mut Rng, lang: Lang) -> (String, String) {
    let loc = locale(lang);
    let w = pick(rng, loc.company_words);
    let s = pick(rng, loc.company_suffixes);
    let person = pick(rng, loc.surnames);
    let (tw, ts, tp) = (translit(w, lang), translit(s, lang), translit(person, lang));
    match (lang, rng.below(6)) {
        (Lang::Pl, 0) => (format!("{person} i Wspólnicy Sp. z o.o."), format!("{tp}-wspolnicy")),
        (Lang::Pl, 1) => (format!("PHU {w}"), format!("phu-{tw}")),
        (Lang::Pl, 2) => (format!("{w} {s} S.A."), format!("{tw}{ts}")),
        (Lang::Pl, 3) => (format!("{person} i Syn Sp. j."), format!("{tp}-i-syn")),
        (Lang::Pl, _) => (format!("{w}-{s} Sp. z o.o."), format!("{tw}-{ts}")),
        (Lang::Ua, 0) => (format!("ПП «{w}»"), tw),
        (Lang::Ua, 1) => (format!("ПрАТ «{w}-{s}»"), format!("{tw}-{ts}")),
        (Lang::Ua, 2) => (format!("ТОВ «{person} і партнери»"), format!("{tp}-partners")),
        (Lang::Ua, _) => (format!("ТОВ «{w}-{s}»"), format!("{tw}-{ts}")),
        (Lang::Ro, 0) => (format!("{person} & Asociații SRL"), format!("{tp}-asociatii")),
        (Lang::Ro, 1) => (format!("{w} {s} SA"), format!("{tw}{ts}")),
        (Lang::Ro, _) => (format!("SC {w} {s} SRL"), format!("{tw}-{ts}")),
        (Lang::Ru, 0) => (format!("АО «{w}»"), tw),
        (Lang::Ru, 1) => (format!("ООО «{w}{}»", s.to_lowercase()), format!("{tw}{ts}")),
        (Lang::Ru, 2) => (format!("ООО «ТД {w}»"), format!("td-{tw}")),
        (Lang::Ru, _) => (format!("ООО «{w}-{s}»"), format!("{tw}-{ts}")),
    }
}

fn email_local(rng: &mut Rng, first: &str, last: &str) -> String {
    let initial: String = first.chars().take(1).collect();
    match rng.below(6) {
        0 | 1 => format!("{first}.{last}"),
        2 => format!("{initial}.{last}"),
        3 => format!("{first}{last}"),
        4 => format!("{last}.{first}"),
        _ => format!("{first}_{last}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Contact types and fields
// ---------------------------------------------------------------------------------------------

struct TypeRow {
    id: i64,
    key: String,
    parent_id: Option<i64>,
}

async fn read_types(db: &DatabaseConnection) -> Result<Vec<TypeRow>, DbErr> {
    let select = Query::select()
        .columns([Alias::new("id"), Alias::new("key"), Alias::new("parent_id")])
        .from(Alias::new("contact_types"))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let rows = db.query_all(&select).await?;
    rows.iter()
        .map(|r| {
            Ok(TypeRow {
                id: r.try_get_by_index::<i64>(0)?,
                key: r.try_get_by_index::<String>(1)?,
                parent_id: r.try_get_by_index::<Option<i64>>(2)?,
            })
        })
        .collect()
}

/// A field the demo fills in.
struct FieldSpec {
    key: &'static str,
    label: &'static str,
    kind: &'static str,
    options: &'static [&'static str],
    searchable: bool,
    applies_to: &'static [&'static str],
    /// How often a person / a company it applies to gets a value.
    p_person: f64,
    p_company: f64,
}

const COMPANY_TYPES: &[&str] = &["client", "supplier", "contractor"];

const FIELD_SPECS: &[FieldSpec] = &[
    FieldSpec {
        key: "industry",
        label: "Industry",
        kind: "select",
        options: names::INDUSTRIES,
        searchable: false,
        applies_to: COMPANY_TYPES,
        p_person: 0.1,
        p_company: 0.9,
    },
    FieldSpec {
        key: "employees",
        label: "Employees",
        kind: "integer",
        options: &[],
        searchable: false,
        applies_to: &["client", "supplier", "contractor", "lead"],
        p_person: 0.0,
        p_company: 0.8,
    },
    FieldSpec {
        key: "annual_revenue",
        label: "Annual revenue",
        kind: "money",
        options: &[],
        searchable: false,
        applies_to: COMPANY_TYPES,
        p_person: 0.0,
        p_company: 0.6,
    },
    FieldSpec {
        key: "website",
        label: "Website",
        kind: "url",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.0,
        p_company: 0.75,
    },
    FieldSpec {
        key: "linkedin",
        label: "LinkedIn",
        kind: "url",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.3,
        p_company: 0.4,
    },
    FieldSpec {
        key: "birthday",
        label: "Birthday",
        kind: "date",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.45,
        p_company: 0.0,
    },
    FieldSpec {
        key: "newsletter",
        label: "Newsletter",
        kind: "boolean",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.7,
        p_company: 0.3,
    },
    FieldSpec {
        key: "interests",
        label: "Interests",
        kind: "multiselect",
        options: names::INTERESTS,
        searchable: false,
        applies_to: &[],
        p_person: 0.4,
        p_company: 0.25,
    },
    FieldSpec {
        key: "lead_source",
        label: "Lead source",
        kind: "select",
        options: names::LEAD_SOURCES,
        searchable: false,
        applies_to: &["lead"],
        p_person: 0.85,
        p_company: 0.85,
    },
    FieldSpec {
        key: "nps",
        label: "NPS",
        kind: "integer",
        options: &[],
        searchable: false,
        applies_to: &["client"],
        p_person: 0.35,
        p_company: 0.0,
    },
    FieldSpec {
        key: "notes",
        label: "Notes",
        kind: "long_text",
        options: &[],
        searchable: true,
        applies_to: &[],
        p_person: 0.08,
        p_company: 0.2,
    },
];

/// A demo field as it is defined in the database.
struct LiveField {
    options: Vec<String>,
    applies_to: Vec<String>,
}

fn json_strings(value: &Json) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Reads a JSON column, whether the driver hands it over as JSON or as text.
fn json_column(row: &QueryResult, index: usize) -> Json {
    match row.try_get_by_index::<Json>(index) {
        Ok(value) => value,
        Err(_) => row
            .try_get_by_index::<String>(index)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Json::Null),
    }
}

/// Adds the demo's field definitions that don't exist yet; returns how many were added and
/// each demo field as defined now (`None` where an existing field of that key has another
/// kind, so the demo leaves it alone).
async fn ensure_fields(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(u64, Vec<Option<LiveField>>), DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let keys: Vec<&str> = FIELD_SPECS.iter().map(|f| f.key).collect();
    let select_existing = Query::select()
        .columns([
            Alias::new("key"),
            Alias::new("kind"),
            Alias::new("options"),
            Alias::new("applies_to"),
        ])
        .from(Alias::new("field_defs"))
        .and_where(Expr::col(Alias::new("key")).is_in(keys.iter().copied()))
        .to_owned();

    let txn = db.begin().await?;
    let existing: Vec<String> = txn
        .query_all(&select_existing)
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    let missing: Vec<&FieldSpec> = FIELD_SPECS
        .iter()
        .filter(|f| !existing.iter().any(|k| k == f.key))
        .collect();
    if !missing.is_empty() {
        let max_position = Query::select()
            .expr(Func::max(Expr::col(Alias::new("position"))))
            .from(Alias::new("field_defs"))
            .to_owned();
        let mut position = match txn.query_one(&max_position).await? {
            Some(row) => row
                .try_get_by_index::<Option<i32>>(0)?
                .map_or(0, |p| p.saturating_add(1)),
            None => 0,
        };
        let mut stmt = insert_into(
            "field_defs",
            &[
                "key",
                "label",
                "kind",
                "options",
                "required",
                "searchable",
                "applies_to",
                "position",
                "created_at",
                "updated_at",
            ],
        );
        for spec in &missing {
            stmt.values([
                text(spec.key),
                text(spec.label),
                text(spec.kind),
                json_value(json!(spec.options)),
                Expr::val(false),
                Expr::val(spec.searchable),
                json_value(json!(spec.applies_to)),
                Expr::val(position),
                timestamp(now),
                timestamp(now),
            ])
            .map_err(build_err)?;
            position = position.saturating_add(1);
        }
        txn.execute(&stmt).await?;
    }
    let rows = txn.query_all(&select_existing).await?;
    txn.commit().await?;

    let mut live: Vec<Option<LiveField>> = FIELD_SPECS.iter().map(|_| None).collect();
    for row in &rows {
        let key = row.try_get_by_index::<String>(0)?;
        let kind = row.try_get_by_index::<String>(1)?;
        let Some(index) = FIELD_SPECS.iter().position(|f| f.key == key && f.kind == kind) else {
            continue;
        };
        let field = LiveField {
            options: json_strings(&json_column(row, 2)),
            applies_to: json_strings(&json_column(row, 3)),
        };
        let usable = !matches!(kind.as_str(), "select" | "multiselect") || !field.options.is_empty();
        if let Some(slot) = live.get_mut(index)
            && usable
        {
            *slot = Some(field);
        }
    }
    Ok((to_u64(missing.len()), live))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Category {
    #[default]
    Lead,
    Refused,
    Client,
    Partner,
    Employee,
}

/// Everything derived from the database before generation starts.
struct Plan {
    company_types: Vec<(i64, u32)>,
    /// For people at a company, by the company's type.
    person_types_at: HashMap<i64, Vec<(i64, u32)>>,
    /// For people on their own.
    person_types_free: Vec<(i64, u32)>,
    categories: HashMap<i64, Category>,
    /// Bit `i` set: `FIELD_SPECS[i]` is usable and applies to the type.
    field_masks: HashMap<i64, u32>,
    fields: Vec<Option<LiveField>>,
    /// The field definitions as the derived columns see them.
    fold: FoldSchema,
}

impl Plan {
    fn new(types: &[TypeRow], fields: Vec<Option<LiveField>>, fold: FoldSchema) -> Result<Self, DbErr> {
        if types.is_empty() {
            return Err(DbErr::Custom(
                "demo: there are no contact types; seed them first".into(),
            ));
        }
        let by_id: HashMap<i64, &TypeRow> = types.iter().map(|t| (t.id, t)).collect();
        let lineage = |id: i64| -> Vec<&str> {
            let mut keys = Vec::new();
            let mut current = by_id.get(&id);
            while let Some(t) = current {
                keys.push(t.key.as_str());
                if keys.len() > 32 {
                    break;
                }
                current = t.parent_id.and_then(|p| by_id.get(&p));
            }
            keys
        };
        let id_of = |key: &str| types.iter().find(|t| t.key == key).map(|t| t.id);
        let resolve = |weights: &[(&str, u32)]| -> Vec<(i64, u32)> {
            weights
                .iter()
                .filter_map(|(key, w)| id_of(key).map(|id| (id, *w)))
                .collect()
        };
        // Leaves only, when some are missing: fall back to any type at all.
        let all: Vec<(i64, u32)> = types.iter().map(|t| (t.id, 1)).collect();
        let or_all = |v: Vec<(i64, u32)>| if v.is_empty() { all.clone() } else { v };

        let company_types = or_all(resolve(&[
            ("client", 45),
            ("supplier", 15),
            ("contractor", 12),
            ("cold", 12),
            ("warm", 9),
            ("hot", 5),
            ("refused", 2),
        ]));
        let person_types_free = or_all(resolve(&[
            ("staff", 18),
            ("freelance", 9),
            ("temporary", 5),
            ("remote", 8),
            ("cold", 15),
            ("warm", 12),
            ("hot", 6),
            ("refused", 5),
            ("client", 15),
            ("contractor", 5),
            ("supplier", 2),
        ]));

        let mut categories = HashMap::new();
        let mut field_masks = HashMap::new();
        for t in types {
            let keys = lineage(t.id);
            let has = |k: &str| keys.contains(&k);
            let category = if has("employee") {
                Category::Employee
            } else if has("refused") {
                Category::Refused
            } else if has("client") {
                Category::Client
            } else if has("supplier") || has("contractor") {
                Category::Partner
            } else {
                Category::Lead
            };
            categories.insert(t.id, category);
            let mut mask = 0u32;
            for (bit, field) in fields.iter().enumerate() {
                if let Some(field) = field
                    && (field.applies_to.is_empty() || field.applies_to.iter().any(|a| has(a)))
                {
                    mask |= 1 << bit;
                }
            }
            field_masks.insert(t.id, mask);
        }

        let mut person_types_at = HashMap::new();
        for (company_type, _) in &company_types {
            let key = by_id.get(company_type).map(|t| t.key.as_str()).unwrap_or_default();
            let weights: Vec<(&str, u32)> = match key {
                "client" => vec![("client", 88), ("hot", 6), ("warm", 6)],
                "supplier" => vec![("supplier", 95), ("contractor", 5)],
                "contractor" => vec![("contractor", 95), ("supplier", 5)],
                "cold" | "warm" | "hot" | "refused" => {
                    let mut w = vec![("cold", 6), ("warm", 6), ("hot", 4), ("refused", 4)];
                    w.push((key, 80));
                    w
                }
                _ => vec![(key, 1)],
            };
            let mut dist = resolve(&weights);
            if dist.is_empty() {
                dist.clone_from(&person_types_free);
            }
            person_types_at.insert(*company_type, dist);
        }

        Ok(Plan {
            company_types,
            person_types_at,
            person_types_free,
            categories,
            field_masks,
            fields,
            fold,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// A company kept in memory for the people who work there.
struct Company {
    id: i64,
    lang: Lang,
    city: City,
    domain: String,
    type_id: i64,
    created: i64,
    owner: Option<i64>,
}

/// What a person's activities depend on.
struct PersonCtx {
    /// The language of the country the person lives in (notes, support requests).
    lang: Lang,
    category: Category,
    created: i64,
    has_email: bool,
    has_phone: bool,
    do_not_contact: bool,
}

/// One `contacts` row.
struct ContactRow {
    kind: &'static str,
    type_id: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    position: Option<String>,
    company_id: Option<i64>,
    street: Option<String>,
    city: City,
    country: &'static str,
    postal_code: Option<String>,
    point: (f64, f64),
    owner_id: Option<i64>,
    do_not_contact: bool,
    fields: Map<String, Json>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

impl ContactRow {
    /// The row's values in the order of [`contact_columns`], derived columns computed
    /// under `fold`.
    fn into_exprs(self, fold: &FoldSchema) -> Vec<Expr> {
        let derived = Derived::compute(
            &Source {
                name: &self.name,
                email: self.email.as_deref(),
                phone: self.phone.as_deref(),
                position: self.position.as_deref(),
                street: self.street.as_deref(),
                city: Some(self.city.name),
                region: Some(self.city.region),
                country: Some(self.country),
                postal_code: self.postal_code.as_deref(),
                fields: &self.fields,
            },
            fold,
        );
        let mut exprs = vec![
            text(self.kind),
            Expr::val(self.type_id),
            text(self.name),
            Expr::val(SqlValue::String(self.email)),
            Expr::val(SqlValue::String(self.phone)),
            Expr::val(SqlValue::String(self.position)),
            Expr::val(SqlValue::BigInt(self.company_id)),
            Expr::val(SqlValue::String(self.street)),
            text(self.city.name),
            text(self.city.region),
            text(self.country),
            Expr::val(SqlValue::String(self.postal_code)),
            Expr::val(self.point.0),
            Expr::val(self.point.1),
            Expr::val(SqlValue::BigInt(self.owner_id)),
            Expr::val(self.do_not_contact),
            json_value(Json::Object(self.fields)),
            timestamp(self.created),
            timestamp(self.updated),
            Expr::val(1i64),
        ];
        exprs.extend(derived.into_values().into_iter().map(Expr::val));
        exprs
    }
}

fn text(s: impl Into<String>) -> Expr {
    Expr::val(SqlValue::String(Some(s.into())))
}

fn json_value(v: Json) -> Expr {
    Expr::val(SqlValue::Json(Some(Box::new(v))))
}

fn timestamp(t: DateTime<Utc>) -> Expr {
    Expr::val(SqlValue::ChronoDateTimeUtc(Some(t)))
}

/// Money as JSON: an integer when whole, else a number with two decimals.
fn money(cents: i64) -> Json {
    if cents % 100 == 0 {
        Json::from(cents / 100)
    } else {
        Json::from(cents as f64 / 100.0)
    }
}

const DAY: i64 = 86_400;

/// Who a set of field values is for.
enum Subject<'a> {
    Company { slug: &'a str, domain: &'a str, lang: Lang },
    Person { first: &'a str, last: &'a str, lang: Lang },
}

struct Generator {
    rng: Rng,
    counts: Rng,
    plan: Plan,
    now: i64,
    owners: Vec<i64>,
    average_activities: usize,
    companies: Vec<Company>,
    /// Fingerprints of the e-mail addresses and company domains handed out, to keep them
    /// unique (8 bytes each, not the strings).
    taken: HashSet<u64>,
}

/// Where activity generation stands.
#[derive(Default)]
struct ActivityCursor {
    /// The next person of the current batch whose activities are to be generated.
    next_person: usize,
    /// Generated rows not inserted yet.
    queued: VecDeque<Vec<Expr>>,
    /// No more people after this batch: flush whatever is queued.
    last_batch: bool,
}

impl ActivityCursor {
    /// Whether [`Generator::activity_statement`] has another statement to give.
    fn has_more(&self, people: &[(i64, PersonCtx)]) -> bool {
        self.next_person < people.len()
            || self.queued.len() >= ACTIVITY_ROWS_PER_INSERT
            || (self.last_batch && !self.queued.is_empty())
    }
}

/// FNV-1a, for the uniqueness fingerprints.
fn fingerprint(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Generator {
    fn new(opts: &DemoOptions, now: DateTime<Utc>, plan: Plan) -> Self {
        Generator {
            rng: Rng::new(opts.seed, STREAM_MAIN),
            counts: Rng::new(opts.seed, STREAM_COUNTS),
            plan,
            now: now.timestamp(),
            owners: opts.owner_ids.clone(),
            average_activities: opts.activities_per_contact,
            companies: Vec::with_capacity(opts.companies),
            taken: HashSet::new(),
        }
    }

    /// `local@domain`, with a number added to `local` if the address is taken.
    fn unique_email(&mut self, local: &str, domain: &str) -> String {
        let mut email = format!("{local}@{domain}");
        for attempt in 1..=20 {
            if self.taken.insert(fingerprint(&email)) {
                break;
            }
            let n = self.rng.between(2, 9 * attempt * attempt + 9);
            email = format!("{local}{n}@{domain}");
        }
        email
    }

    /// The next `n` people as one INSERT, with what their activities need.
    fn people(&mut self, n: usize) -> Result<(InsertStatement, Vec<PersonCtx>), DbErr> {
        let mut stmt = insert_into("contacts", &contact_columns());
        let mut contexts = Vec::with_capacity(n);
        for _ in 0..n {
            let (row, ctx) = self.person();
            stmt.values(row.into_exprs(&self.plan.fold)).map_err(build_err)?;
            contexts.push(ctx);
        }
        Ok((stmt, contexts))
    }

    /// The next full INSERT of activities for `people` and the rows queued before them, with
    /// its row count; `None` when fewer rows than a full INSERT are left, unless this is the
    /// last batch.
    fn activity_statement(
        &mut self,
        people: &[(i64, PersonCtx)],
        cursor: &mut ActivityCursor,
    ) -> Result<Option<(InsertStatement, usize)>, DbErr> {
        while cursor.queued.len() < ACTIVITY_ROWS_PER_INSERT {
            let Some((id, ctx)) = people.get(cursor.next_person) else {
                break;
            };
            cursor.next_person += 1;
            cursor.queued.extend(self.activities(*id, ctx));
        }
        let rows = cursor.queued.len().min(ACTIVITY_ROWS_PER_INSERT);
        if rows == 0 || (rows < ACTIVITY_ROWS_PER_INSERT && !cursor.last_batch) {
            return Ok(None);
        }
        let mut stmt = insert_into("activities", &ACTIVITY_COLUMNS);
        for row in cursor.queued.drain(..rows) {
            stmt.values(row).map_err(build_err)?;
        }
        Ok(Some((stmt, rows)))
    }

    fn time(&self, secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs.min(self.now), 0).unwrap_or_default()
    }

    fn owner(&mut self) -> Option<i64> {
        (!self.owners.is_empty()).then(|| pick(&mut self.rng, &self.owners))
    }

    /// Created within the three years before now (not before `not_before`), updated since.
    fn created_updated(&mut self, not_before: i64) -> (i64, i64) {
        let mut created = self.rng.between(self.now - 3 * 365 * DAY, self.now);
        if created < not_before {
            created = self.rng.between(not_before, self.now);
        }
        let updated = if self.rng.chance(0.6) {
            self.rng.between(created, self.now)
        } else {
            created
        };
        (created, updated)
    }

    fn company(&mut self) -> (ContactRow, Company) {
        let rng = &mut self.rng;
        let lang = pick_weighted(rng, LANGS);
        let loc = locale(lang);
        let city = pick_city(rng, loc.cities);
        let (name, mut stem) = company_name(rng, lang);
        let tld = pick(rng, loc.tlds);
        // Same-named companies are different firms: give each its own domain.
        for attempt in 0..20 {
            if self.taken.insert(fingerprint(&format!("@{stem}.{tld}"))) {
                break;
            }
            stem = if attempt == 0 {
                format!("{stem}-{}", translit(city.name, lang))
            } else {
                let base = stem.trim_end_matches(|c: char| c.is_ascii_digit());
                format!("{base}{}", rng.between(2, 999))
            };
        }
        let domain = format!("{stem}.{tld}");
        let type_id = pick_weighted(rng, &self.plan.company_types);
        let mailbox = rng.chance(0.85).then(|| pick(rng, loc.company_mailboxes));
        let email = mailbox.map(|m| format!("{m}@{domain}"));
        let phone = rng.chance(0.9).then(|| fill_digits(rng, city.landline));
        let street = rng.chance(0.95).then(|| street_address(rng, lang, false));
        let postal_code = Some(postal_code(rng, lang, &city));
        let point = jitter(rng, &city);
        let do_not_contact = rng.chance(0.01);
        let owner = self.owner();
        let (created, updated) = self.created_updated(i64::MIN);
        let fields = self.fields(
            type_id,
            false,
            &Subject::Company {
                slug: &stem,
                domain: &domain,
                lang,
            },
        );
        let row = ContactRow {
            kind: "company",
            type_id,
            name,
            email,
            phone,
            position: None,
            company_id: None,
            street,
            city,
            country: loc.country,
            postal_code,
            point,
            owner_id: owner,
            do_not_contact,
            fields,
            created: self.time(created),
            updated: self.time(updated),
        };
        (
            row,
            Company {
                id: 0,
                lang,
                city,
                domain,
                type_id,
                created,
                owner,
            },
        )
    }

    fn person(&mut self) -> (ContactRow, PersonCtx) {
        let company_index =
            (!self.companies.is_empty() && self.rng.chance(0.8)).then(|| self.rng.index(self.companies.len()));
        let company = company_index.and_then(|i| self.companies.get(i));
        let rng = &mut self.rng;

        let type_id = match company {
            Some(c) => match self.plan.person_types_at.get(&c.type_id) {
                Some(dist) => pick_weighted(rng, dist),
                None => pick_weighted(rng, &self.plan.person_types_free),
            },
            None => pick_weighted(rng, &self.plan.person_types_free),
        };
        let category = self.plan.categories.get(&type_id).copied().unwrap_or_default();
        // Names follow `lang`; the address, phone and job title follow the country the
        // person lives in, which is their company's (a Ukrainian working in Poland).
        let lang = match company {
            Some(c) if rng.chance(0.95) => c.lang,
            _ => pick_weighted(rng, LANGS),
        };
        let loc = locale(lang);
        let place_lang = company.map_or(lang, |c| c.lang);
        let place = locale(place_lang);
        let female = rng.chance(0.5);
        let first = pick(rng, if female { loc.female } else { loc.male });
        let last = surname(lang, pick(rng, loc.surnames), female);
        let (first_ascii, last_ascii) = (translit(first, lang), translit(&last, lang));

        let address = rng.chance(0.92).then(|| {
            let local = email_local(rng, &first_ascii, &last_ascii);
            match company {
                Some(c) if rng.chance(0.85) => (local, c.domain.clone()),
                _ => {
                    let suffix = if rng.chance(0.6) {
                        match rng.below(3) {
                            0 => rng.between(1960, 2003).to_string(),
                            1 => format!("{:02}", rng.between(0, 99)),
                            _ => rng.between(100, 999).to_string(),
                        }
                    } else {
                        String::new()
                    };
                    (format!("{local}{suffix}"), pick(rng, loc.freemail).to_owned())
                }
            }
        });
        let phone = rng.chance(0.82).then(|| mobile_phone(rng, place_lang));
        let has_position = match (company, category) {
            (Some(_), _) => rng.chance(0.9),
            (None, Category::Employee) => rng.chance(0.8),
            (None, _) => rng.chance(0.15),
        };
        let position = has_position
            .then(|| {
                if rng.chance(0.25) {
                    pick(rng, names::EN_POSITIONS)
                } else {
                    pick(rng, place.positions)
                }
            })
            .map(str::to_owned);

        let city = match company {
            Some(c) if rng.chance(0.75) => c.city,
            _ => pick_city(rng, place.cities),
        };
        let street_chance = if company.is_some() { 0.4 } else { 0.85 };
        let street = rng.chance(street_chance).then(|| {
            let with_flat = rng.chance(0.6);
            street_address(rng, place_lang, with_flat)
        });
        let postal_code = rng.chance(0.9).then(|| postal_code(rng, place_lang, &city));
        let point = jitter(rng, &city);
        let do_not_contact = rng.chance(0.03);

        let company_id = company.map(|c| c.id);
        let company_owner = company.and_then(|c| c.owner);
        let not_before = company.map_or(i64::MIN, |c| c.created);
        let email = address.map(|(local, domain)| self.unique_email(&local, &domain));
        let owner = match company_owner {
            Some(owner) if self.rng.chance(0.7) => Some(owner),
            _ => self.owner(),
        };
        let (created, updated) = self.created_updated(not_before);
        let fields = self.fields(
            type_id,
            true,
            &Subject::Person {
                first: &first_ascii,
                last: &last_ascii,
                lang: place_lang,
            },
        );

        let ctx = PersonCtx {
            lang: place_lang,
            category,
            created,
            has_email: email.is_some(),
            has_phone: phone.is_some(),
            do_not_contact,
        };
        let row = ContactRow {
            kind: "person",
            type_id,
            name: format!("{first} {last}"),
            email,
            phone,
            position,
            company_id,
            street,
            city,
            country: place.country,
            postal_code,
            point,
            owner_id: owner,
            do_not_contact,
            fields,
            created: self.time(created),
            updated: self.time(updated),
        };
        (row, ctx)
    }

    /// Extra field values for a contact of `type_id`.
    fn fields(&mut self, type_id: i64, person: bool, subject: &Subject<'_>) -> Map<String, Json> {
        let mut out = Map::new();
        let mask = self.plan.field_masks.get(&type_id).copied().unwrap_or(0);
        let now = self.now;
        let rng = &mut self.rng;
        for (bit, (spec, live)) in FIELD_SPECS.iter().zip(&self.plan.fields).enumerate() {
            let Some(live) = live else { continue };
            if mask & (1 << bit) == 0 {
                continue;
            }
            let p = if person { spec.p_person } else { spec.p_company };
            if !rng.chance(p) {
                continue;
            }
            let options = live.options.as_slice();
            let value = match spec.key {
                "industry" | "lead_source" => options.get(rng.index(options.len())).map(|o| Json::from(o.as_str())),
                "employees" => {
                    let n = (rng.unit() * 5000f64.ln()).exp().round() as i64;
                    Some(Json::from(n.max(1)))
                }
                "annual_revenue" => {
                    let employees = out
                        .get("employees")
                        .and_then(Json::as_i64)
                        .unwrap_or_else(|| rng.between(1, 200));
                    let per_head = rng.between(40_000, 300_000);
                    let cents = employees.saturating_mul(per_head).saturating_mul(100) / 100_000 * 100_000
                        + if rng.chance(0.3) { rng.between(0, 99_999) } else { 0 };
                    Some(money(cents.max(100_000)))
                }
                "website" => match subject {
                    Subject::Company { domain, .. } => Some(Json::from(format!("https://www.{domain}"))),
                    Subject::Person { .. } => None,
                },
                "linkedin" => Some(Json::from(match subject {
                    Subject::Company { slug, .. } => {
                        format!("https://www.linkedin.com/company/{slug}")
                    }
                    Subject::Person { first, last, .. } => {
                        format!("https://www.linkedin.com/in/{first}-{last}-{:x}", rng.below(0xff_ffff))
                    }
                })),
                "birthday" => {
                    let today = DateTime::from_timestamp(now, 0).unwrap_or_default().date_naive();
                    let age_days = rng.between(20 * 365, 66 * 365);
                    today
                        .checked_sub_days(Days::new(u64::try_from(age_days).unwrap_or(0)))
                        .map(|d| Json::from(d.format("%Y-%m-%d").to_string()))
                }
                "newsletter" => Some(Json::Bool(rng.chance(0.55))),
                "interests" => {
                    let wanted = usize::try_from(rng.between(1, 3)).unwrap_or(1).min(options.len());
                    let mut chosen: Vec<&str> = Vec::with_capacity(wanted);
                    while chosen.len() < wanted {
                        let option = options
                            .get(rng.index(options.len()))
                            .map(String::as_str)
                            .unwrap_or_default();
                        if !chosen.contains(&option) {
                            chosen.push(option);
                        }
                    }
                    (!chosen.is_empty()).then(|| json!(chosen))
                }
                "nps" => Some(Json::from(pick_weighted(
                    rng,
                    &[
                        (0i64, 1),
                        (2, 1),
                        (4, 2),
                        (5, 2),
                        (6, 3),
                        (7, 6),
                        (8, 9),
                        (9, 8),
                        (10, 6),
                    ],
                ))),
                "notes" => {
                    let lang = match subject {
                        Subject::Company { lang, .. } | Subject::Person { lang, .. } => *lang,
                    };
                    let note = if !person && rng.chance(0.5) {
                        pick(rng, names::COMPANY_NOTES)
                    } else {
                        pick(rng, locale(lang).notes)
                    };
                    Some(Json::from(note))
                }
                _ => None,
            };
            if let Some(value) = value {
                out.insert(spec.key.to_owned(), value);
            }
        }
        out
    }

    /// The activity rows of one person.
    fn activities(&mut self, contact_id: i64, ctx: &PersonCtx) -> Vec<Vec<Expr>> {
        let count = activity_count(&mut self.counts, self.average_activities);
        let rng = &mut self.rng;
        let start = ctx.created.max(self.now - 365 * DAY);
        let mut times: Vec<i64> = (0..count).map(|_| rng.between(start, self.now)).collect();
        times.sort_unstable();
        let kinds = match ctx.category {
            Category::Lead => ACTIVITY_LEAD,
            Category::Refused => ACTIVITY_REFUSED,
            Category::Client => ACTIVITY_CLIENT,
            Category::Partner => ACTIVITY_PARTNER,
            Category::Employee => ACTIVITY_EMPLOYEE,
        };
        let loc = locale(ctx.lang);
        let mut rows = Vec::with_capacity(times.len());
        for at in times {
            let mut kind = pick_weighted(rng, kinds);
            if ctx.do_not_contact && matches!(kind, "email_sent" | "sms") {
                kind = "page_visit";
            }
            if (kind.starts_with("email_") && !ctx.has_email) || (kind == "sms" && !ctx.has_phone) {
                kind = "note";
            }
            let mut amount = None;
            let properties = match kind {
                "page_visit" => {
                    let path = if rng.chance(0.25) {
                        format!("/blog/{}", pick(rng, names::BLOG_SLUGS))
                    } else {
                        pick(rng, names::WEB_PATHS).to_owned()
                    };
                    json!({ "path": path })
                }
                "link_click" => json!({ "url": pick(rng, names::LINK_TARGETS) }),
                "purchase" => {
                    amount = Some(rng.between(2_000, 500_000) as f64 / 100.0);
                    json!({ "product": pick(rng, names::PRODUCTS) })
                }
                "email_sent" | "email_open" | "sms" => {
                    json!({ "campaign": pick(rng, names::CAMPAIGNS) })
                }
                "email_click" => {
                    json!({ "campaign": pick(rng, names::CAMPAIGNS), "url": pick(rng, names::LINK_TARGETS) })
                }
                "call" => json!({ "duration_min": rng.between(1, 45) }),
                "meeting" => json!({ "duration_min": pick(rng, &[30i64, 45, 60, 90]) }),
                "support_request" => json!({ "subject": pick(rng, loc.support_subjects) }),
                "note" => json!({ "text": pick(rng, loc.notes) }),
                _ => json!({}),
            };
            let at = DateTime::from_timestamp(at, 0).unwrap_or_default();
            rows.push(vec![
                Expr::val(contact_id),
                text(kind),
                timestamp(at),
                json_value(properties),
                Expr::val(SqlValue::Double(amount)),
                timestamp(at),
            ]);
        }
        rows
    }
}

const ACTIVITY_LEAD: &[(&str, u32)] = &[
    ("page_visit", 30),
    ("link_click", 8),
    ("email_sent", 14),
    ("email_open", 9),
    ("email_click", 4),
    ("sms", 3),
    ("call", 8),
    ("meeting", 3),
    ("support_request", 1),
    ("note", 6),
    ("purchase", 2),
];

const ACTIVITY_REFUSED: &[(&str, u32)] = &[
    ("page_visit", 10),
    ("link_click", 2),
    ("email_sent", 20),
    ("email_open", 3),
    ("sms", 2),
    ("call", 8),
    ("note", 10),
];

const ACTIVITY_CLIENT: &[(&str, u32)] = &[
    ("page_visit", 20),
    ("link_click", 6),
    ("email_sent", 12),
    ("email_open", 9),
    ("email_click", 4),
    ("sms", 3),
    ("call", 8),
    ("meeting", 5),
    ("support_request", 7),
    ("note", 6),
    ("purchase", 12),
];

const ACTIVITY_PARTNER: &[(&str, u32)] = &[
    ("page_visit", 5),
    ("email_sent", 20),
    ("email_open", 10),
    ("sms", 3),
    ("call", 15),
    ("meeting", 10),
    ("support_request", 2),
    ("note", 12),
    ("purchase", 3),
];

const ACTIVITY_EMPLOYEE: &[(&str, u32)] = &[
    ("page_visit", 5),
    ("email_sent", 15),
    ("email_open", 10),
    ("sms", 5),
    ("call", 15),
    ("meeting", 20),
    ("note", 15),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let mut a = Rng::new(42, STREAM_MAIN);
        let mut b = Rng::new(42, STREAM_MAIN);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::new(43, STREAM_MAIN);
        assert_ne!(Rng::new(42, STREAM_MAIN).next_u64(), c.next_u64());
    }

    #[test]
    fn between_stays_in_range() {
        let mut rng = Rng::new(7, STREAM_MAIN);
        for _ in 0..10_000 {
            let n = rng.between(-3, 5);
            assert!((-3..=5).contains(&n));
        }
        assert_eq!(rng.between(5, 5), 5);
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn feminine_surnames() {
        assert_eq!(surname(Lang::Pl, "Kowalski", true), "Kowalska");
        assert_eq!(surname(Lang::Pl, "Czarnecki", true), "Czarnecka");
        assert_eq!(surname(Lang::Pl, "Wójcik", true), "Wójcik");
        assert_eq!(surname(Lang::Ru, "Иванов", true), "Иванова");
        assert_eq!(surname(Lang::Ru, "Вишневский", true), "Вишневская");
        assert_eq!(surname(Lang::Ru, "Толстой", true), "Толстая");
        assert_eq!(surname(Lang::Ua, "Ковальський", true), "Ковальська");
        assert_eq!(surname(Lang::Ua, "Шевченко", true), "Шевченко");
        assert_eq!(surname(Lang::Ro, "Popescu", true), "Popescu");
        assert_eq!(surname(Lang::Pl, "Kowalski", false), "Kowalski");
    }

    #[test]
    fn transliterates_to_ascii() {
        assert_eq!(translit("Łukasz Żółkowski", Lang::Pl), "lukaszzolkowski");
        assert_eq!(translit("Олександр", Lang::Ua), "oleksandr");
        assert_eq!(translit("Ірина", Lang::Ua), "iryna");
        assert_eq!(translit("Дмитрий", Lang::Ru), "dmitriy");
        assert_eq!(translit("Ștefan Țurcanu", Lang::Ro), "stefanturcanu");
        assert_eq!(translit("Мар'яна", Lang::Ua), "maryana");
    }

    #[test]
    fn tables_are_big_enough() {
        for lang in [Lang::Pl, Lang::Ua, Lang::Ro, Lang::Ru] {
            let loc = locale(lang);
            assert!(loc.male.len() >= 40 && loc.female.len() >= 40 && loc.surnames.len() >= 40);
            assert!(!loc.cities.is_empty() && !loc.streets.is_empty() && !loc.mobile.is_empty());
        }
    }
}
