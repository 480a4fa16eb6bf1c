//! Scoring models on the demo base: a full rescore against a hand-written `UPDATE ... SET
//! score = CASE ...` of the same model, the what-if of a draft over the whole base, and
//! contact updates with two models and 200 dynamic segments kept current.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench scoring -- --contacts 1000000
//! ```
//!
//! Options: `--contacts N` (default 100,000), `--activities A` (per person, default 3),
//! `--updates U` (timed updates per case, default 1,000, each after 100 untimed ones),
//! `--runs R` (timed runs of the hand-written statement, default 3), `--keep`,
//! `--postgres-only`.
//!
//! For SQLite and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL, it loads the demo
//! base (`support::load_base`), then:
//!
//! 1. **Full rescore** of "Fit", six parameters over the people, every one a built-in
//!    criterion of the `scoring` plugin: city and e-mail present (`presence`), the
//!    newsletter flag and the country (`options`), the birthday and the creation time
//!    (`ranges` on a date and a datetime); weights 5, 3, 2, 1, 4, 2; bands Standard < 40 <=
//!    Medium < 70 <= Ideal. The model is saved with the inline limit at 0 and the rescore
//!    job is timed (`Scoring::run_pending_rescores`): from no scores, then again when
//!    nothing changed. Against it, the same model written by hand as one statement on the
//!    same database: `UPDATE contacts SET score = ..., score_band = CASE ... FROM (SELECT
//!    id, ROUND((5 * CASE ... + ...) / 17, 2) ...)` into the contacts' own `score` and
//!    `score_band` columns (median of `--runs`). Every person's stored score and band are
//!    then compared with the statement's.
//! 2. **The what-if** of a draft of "Fit" (other weights and points) over every person
//!    against the stored scores.
//! 3. **Contact updates**: 200 dynamic segments (the segments benchmark's) are created,
//!    then random people are updated through `Contacts::update_contact` (a city moved, the
//!    newsletter flag turned, an e-mail set or cleared): with the 200 segments and no
//!    model, then with "Fit" and "Engagement" (page visits in the last 30 days, the sum of
//!    purchases, days since the last purchase with `recency`) rescoring the person in the
//!    same write, before the segments. The updates go through a second core opened as the
//!    server opens its database (`db::connect_server`; on SQLite the log is checkpointed by
//!    a task beside the writers, never by a commit). Then the scores' part of a write
//!    alone: the hook's begin, and its rescore of one person in a transaction rolled back.
//!
//! Run against a release build; results are printed as Markdown tables.

#[path = "segments/definitions.rs"]
#[allow(dead_code)]
mod definitions;
#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::{ContactKind, ContactPatch};
use kartoteka_core::scoring::ModelInput;
use kartoteka_core::segments::SegmentDraft;
use kartoteka_core::{Core, SystemClock};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value as Json, json};

use definitions::{Round, SEGMENTS, chained, definitions, places, referring};
use support::{Base, Res, arg, demo_size, flag, latency_cells, load_base, median, ms, on_each_database, ratio};

const WARM_UP: usize = 100;

fn fit(weights: [i64; 6], country_points: [f64; 3]) -> Json {
    json!({
        "parameters": [
            {"source": {"field": "city"}, "criterion": "scoring.presence", "weight": weights[0], "params": {"present": 100}},
            {"source": {"field": "email"}, "criterion": "scoring.presence", "weight": weights[1], "params": {"present": 100}},
            {"source": {"field": "fields.newsletter"}, "criterion": "scoring.options", "weight": weights[2],
             "params": {"points": {"true": 100, "false": 20}}},
            {"source": {"field": "fields.birthday"}, "criterion": "scoring.ranges", "weight": weights[3],
             "params": {"ranges": [{"from": "1990-01-01", "points": 100}], "otherwise": 40}},
            {"source": {"field": "created_at"}, "criterion": "scoring.ranges", "weight": weights[4],
             "params": {"ranges": [{"from": "2025-01-01", "points": 100}], "otherwise": 50}},
            {"source": {"field": "country"}, "criterion": "scoring.options", "weight": weights[5],
             "params": {"points": {"Polska": country_points[0], "Україна": country_points[1], "România": country_points[2]}, "otherwise": 20}},
        ],
        "bands": [
            {"name": "Standard", "from": 0, "to": 40},
            {"name": "Medium", "from": 40, "to": 70},
            {"name": "Ideal", "from": 70, "to": 100},
        ],
    })
}

fn engagement() -> Json {
    json!({
        "parameters": [
            {"source": {"activity": "page_visit", "measure": "count", "within_days": 30}, "criterion": "scoring.ranges",
             "weight": 3, "params": {"ranges": [{"from": 1, "to": 5, "points": 50}, {"from": 5, "points": 100}]}},
            {"source": {"activity": "purchase", "measure": "sum"}, "criterion": "scoring.ranges",
             "weight": 2, "params": {"ranges": [{"from": 0, "to": 100, "points": 20}, {"from": 100, "points": 90}]}},
            {"source": {"activity": "purchase", "measure": "days_since_last"}, "criterion": "scoring.recency",
             "weight": 2, "params": {"half_life_days": 30}},
        ],
        "bands": [
            {"name": "Cold", "from": 0, "to": 30},
            {"name": "Warm", "from": 30, "to": 60},
            {"name": "Hot", "from": 60, "to": 100},
        ],
    })
}

/// The "Fit" model (weights 5, 3, 2, 1, 4, 2) by hand, into `contacts.score` and
/// `contacts.score_band`.
fn by_hand(backend: DbBackend) -> String {
    let pg = backend == DbBackend::Postgres;
    let field = |key: &str| {
        if pg {
            format!("(fields ->> '{key}')")
        } else {
            format!("json_extract(fields, '$.{key}')")
        }
    };
    let newsletter = if pg {
        "CASE fields ->> 'newsletter' WHEN 'true' THEN 100 WHEN 'false' THEN 20 ELSE 0 END".to_owned()
    } else {
        "CASE json_extract(fields, '$.newsletter') WHEN 1 THEN 100 WHEN 0 THEN 20 ELSE 0 END".to_owned()
    };
    let birthday = field("birthday");
    let created = if pg {
        "created_at >= TIMESTAMPTZ '2025-01-01 00:00:00+00'"
    } else {
        "created_at >= '2025-01-01'"
    };
    let present = |col: &str| format!("CASE WHEN {col} IS NOT NULL AND trim({col}) <> '' THEN 100 ELSE 0 END");
    let weighted = format!(
        "(5 * {city} + 3 * {email} + 2 * ({newsletter}) \
         + 1 * (CASE WHEN {birthday} IS NULL THEN 0 WHEN {birthday} >= '1990-01-01' THEN 100 ELSE 40 END) \
         + 4 * (CASE WHEN {created} THEN 100 ELSE 50 END) \
         + 2 * (CASE WHEN country IS NULL OR country = '' THEN 0 WHEN country = 'Polska' THEN 100 \
                WHEN country = 'Україна' THEN 80 WHEN country = 'România' THEN 60 ELSE 20 END)) / 17.0",
        city = present("city"),
        email = present("email"),
    );
    let rounded = if pg {
        format!("CAST(ROUND(CAST({weighted} AS numeric), 2) AS double precision)")
    } else {
        format!("ROUND({weighted}, 2)")
    };
    format!(
        "UPDATE contacts SET score = x.s, \
         score_band = CASE WHEN x.s >= 70 THEN 'Ideal' WHEN x.s >= 40 THEN 'Medium' ELSE 'Standard' END \
         FROM (SELECT id, {rounded} AS s FROM contacts WHERE kind = 'person') AS x \
         WHERE contacts.id = x.id"
    )
}

async fn rescore_job(base: &Base) -> Res<Duration> {
    let started = Instant::now();
    let ran = base.core.scoring().run_pending_rescores().await?;
    if ran != 1 {
        return Err(format!("{ran} rescores ran, expected 1").into());
    }
    Ok(started.elapsed())
}

/// How many people's stored "Fit" score or band differ from the hand-written statement's.
async fn mismatches(base: &Base, model: i64) -> Res<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM contacts c LEFT JOIN contact_scores s ON s.contact_id = c.id AND s.model_id = {model} \
         WHERE c.kind = 'person' AND (s.score IS NULL OR ABS(s.score - c.score) > 0.006 OR s.band <> c.score_band)"
    );
    let row = base
        .db
        .query_one_raw(Statement::from_string(base.db.get_database_backend(), sql))
        .await?
        .ok_or("no count")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// `n` updates of random people through `core`, timed one by one.
async fn updates(core: &Core, actor: &Actor, people: &[i64], rng: &mut StdRng, n: usize) -> Res<Vec<Duration>> {
    let places = places();
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let id = *people.choose(rng).ok_or("no people")?;
        let contact = core.contacts().get_contact(actor, id).await?;
        if contact.kind != ContactKind::Person {
            continue;
        }
        let mut patch = ContactPatch {
            version: contact.version,
            ..ContactPatch::default()
        };
        match rng.random_range(0..3) {
            0 => {
                let (city, country) = *places.choose(rng).ok_or("no places")?;
                patch.city = Some(Some(city.name.to_owned()));
                patch.region = Some(Some(city.region.to_owned()));
                patch.country = Some(Some(country.to_owned()));
            }
            1 => {
                let now = contact
                    .fields
                    .get("newsletter")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                let mut fields = serde_json::Map::new();
                fields.insert("newsletter".into(), json!(!now));
                patch.fields = Some(fields);
            }
            _ => {
                patch.email = Some(match contact.email {
                    Some(_) => None,
                    None => Some(format!("p{id}@example.com")),
                });
            }
        }
        let started = Instant::now();
        core.contacts().update_contact(actor, id, patch).await?;
        took.push(started.elapsed());
    }
    Ok(took)
}

async fn run(label: &'static str, url: String) -> Res<()> {
    let (people, activities) = demo_size();
    let n_updates = arg("--updates", 1000);
    let runs = arg("--runs", 3);
    let base = load_base(label, &url, std::sync::Arc::new(SystemClock), people, activities).await?;
    base.print_heading(label);
    let actor = base.admin.actor();
    let scoring = base.core.scoring();
    scoring.scoring_state().set_inline_limit(0);

    // 1. The full rescore against the statement by hand.
    eprintln!("{label}: the full rescore");
    let model = scoring
        .create_model(
            &actor,
            ModelInput {
                key: "fit".into(),
                name: "Fit".into(),
                kind: "person".into(),
                definition: fit([5, 3, 2, 1, 4, 2], [100.0, 80.0, 60.0]),
            },
        )
        .await?;
    let first = rescore_job(&base).await?;
    let scored = model.id;
    let persons = base.report.people;
    scoring.request_rescore(&actor, scored).await?;
    let unchanged = rescore_job(&base).await?;
    let backend = base.db.get_database_backend();
    let statement = by_hand(backend);
    let mut samples = Vec::new();
    for _ in 0..runs {
        base.db
            .execute_unprepared("UPDATE contacts SET score = NULL, score_band = NULL")
            .await?;
        let started = Instant::now();
        base.db.execute_unprepared(&statement).await?;
        samples.push(started.elapsed());
    }
    let hand = median(samples);
    let wrong = mismatches(&base, scored).await?;
    println!("#### Full rescore, \"Fit\" (six parameters) over {persons} people\n");
    println!("| what | time | people a second | against the statement |");
    println!("|---|---:|---:|---:|");
    let rate = |d: Duration| persons as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "| the rescore job, no scores stored | {} | {:.0} | {} |",
        ms(first),
        rate(first),
        ratio(first, hand)
    );
    println!(
        "| the rescore job, nothing changed | {} | {:.0} | {} |",
        ms(unchanged),
        rate(unchanged),
        ratio(unchanged, hand)
    );
    println!(
        "| `UPDATE ... SET score = CASE ...` by hand (median of {runs}) | {} | {:.0} | 1.00x |",
        ms(hand),
        rate(hand)
    );
    println!("\nPeople whose stored score or band differ from the statement's: {wrong}.\n");

    // 2. The what-if.
    eprintln!("{label}: the what-if");
    let started = Instant::now();
    let what_if = scoring
        .what_if(
            &actor,
            "person",
            &fit([2, 3, 5, 1, 1, 4], [60.0, 100.0, 80.0]),
            Some(scored),
            &|_, _| {},
        )
        .await?;
    let took = started.elapsed();
    let moved: u64 = what_if.moves.iter().map(|m| m.count).sum();
    println!("#### The what-if of a draft over {} people\n", what_if.total);
    println!(
        "{} ({:.0} people a second); {moved} would change band, {} would not.\n",
        ms(took),
        what_if.total as f64 / took.as_secs_f64().max(1e-9),
        what_if.unchanged
    );
    println!("| band | saved | draft |");
    println!("|---|---:|---:|");
    for b in &what_if.bands {
        println!("| {} | {} | {} |", b.band, b.saved, b.draft);
    }

    // 3. Updates with 200 segments, without and with two models.
    eprintln!("{label}: creating {SEGMENTS} segments");
    scoring.delete_model(&actor, scored).await?;
    base.core.segments().segment_state().set_inline_limit(u64::MAX);
    let mut created: HashMap<String, i64> = HashMap::new();
    let started = Instant::now();
    let rounds: [Round; 3] = [|_| definitions(), referring, chained];
    for round in rounds {
        for def in round(&created)? {
            let segment = base
                .core
                .segments()
                .create_segment(
                    &actor,
                    SegmentDraft {
                        name: def.name.clone(),
                        kind: "dynamic".into(),
                        filter: Some(def.filter.clone()),
                    },
                )
                .await?;
            created.insert(def.name, segment.id);
        }
    }
    eprintln!("{label}: {} segments in {}", created.len(), ms(started.elapsed()));
    support::analyze(&base.db).await?;
    let ids: Vec<i64> = {
        let rows = base
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id FROM contacts WHERE kind = 'person' ORDER BY id",
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<_, _>>()?
    };
    // The updates go through a core opened as `kartoteka serve` opens its database: on
    // SQLite no commit checkpoints the log, a task beside the writers does.
    let server = Core::new(
        kartoteka_core::db::connect_server(&url).await?,
        std::sync::Arc::new(SystemClock),
    );
    server.plugins().start().await?;
    let checkpoints = tokio::spawn(kartoteka_core::db::run_checkpoints(
        server.db().clone(),
        kartoteka_core::db::CHECKPOINT_EVERY,
    ));
    let mut rng = StdRng::seed_from_u64(17);
    eprintln!("{label}: updates, 200 segments, no model");
    updates(&server, &actor, &ids, &mut rng, WARM_UP).await?;
    let without = updates(&server, &actor, &ids, &mut rng, n_updates).await?;
    eprintln!("{label}: two models");
    for (key, name, definition) in [
        ("fit", "Fit", fit([5, 3, 2, 1, 4, 2], [100.0, 80.0, 60.0])),
        ("engagement", "Engagement", engagement()),
    ] {
        let m = scoring
            .create_model(
                &actor,
                ModelInput {
                    key: key.into(),
                    name: name.into(),
                    kind: "person".into(),
                    definition,
                },
            )
            .await?;
        let started = Instant::now();
        scoring.run_pending_rescores().await?;
        eprintln!("{label}: {name} rescored in {} (model {})", ms(started.elapsed()), m.id);
    }
    eprintln!("{label}: updates, 200 segments, two models");
    updates(&server, &actor, &ids, &mut rng, WARM_UP).await?;
    let with = updates(&server, &actor, &ids, &mut rng, n_updates).await?;
    let (book, hook) = score_hook_alone(&server, &ids, &mut rng, n_updates).await?;
    checkpoints.abort();
    println!("#### A person's update with 200 dynamic segments\n");
    println!("| case | updates | median | p90 | p99 | max | mean |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!("| no scoring model | {} |", latency_cells(&without));
    println!(
        "| two models (\"Fit\", six parameters; \"Engagement\", three activity measures) | {} |",
        latency_cells(&with)
    );
    println!(
        "| of which the scores' part, alone: the models' check before the transaction | {} |",
        latency_cells(&book)
    );
    println!(
        "| of which the scores' part, alone: rescoring the person in the transaction | {} |",
        latency_cells(&hook)
    );
    Ok(())
}

/// The scores' part of a write, timed alone `n` times on random people: the hook's
/// begin (the models' stamp read, the compiled book reused) and its rescore of one person
/// inside a transaction that is then rolled back (the person's row unchanged, so the
/// scores are read and compared, not written).
async fn score_hook_alone(
    core: &Core,
    people: &[i64],
    rng: &mut StdRng,
    n: usize,
) -> Res<(Vec<Duration>, Vec<Duration>)> {
    use sea_orm::TransactionTrait;
    let (mut begin, mut rescore) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let id = *people.choose(rng).ok_or("no people")?;
        let started = Instant::now();
        let hook = core.scoring().write_hook().await?;
        begin.push(started.elapsed());
        let txn = core.db().begin().await?;
        let started = Instant::now();
        hook.written(&txn, &[id]).await?;
        rescore.push(started.elapsed());
        txn.rollback().await?;
    }
    Ok((begin, rescore))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let keep = flag("--keep");
    on_each_database("scoring", keep, run).await
}
