//! Loading the demo into a database with progress: companies first, then people in batches
//! with their activities, one transaction per batch.
//!
//! While the database works on one statement the next one is generated (see [`load`]); the
//! generation itself lives in the sibling modules, the statements in [`super::insert`].

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use super::activities::{ActivityCursor, count_activities};
use super::fields::ensure_fields;
use super::generate::{Generator, PersonCtx};
use super::insert::{
    CONTACT_ROWS_PER_INSERT, CONTACTS_PER_TXN, PEOPLE_PER_TXN, build_err, insert_into, insert_returning_ids, to_u64,
};
use super::plan::{Plan, read_types};
use super::row::contact_columns;
use super::{DemoOptions, DemoReport};
use crate::contacts::derived::FoldSchema;

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
