//! The upkeep's parts, timed apart on the same kinds of contacts.

#[allow(unused_imports)]
use super::*;

/// The stamp read a write makes inside its transaction (`read_stamp` in
/// `segments/maintain.rs`): the dynamic segments' versions, `FOR SHARE` on PostgreSQL,
/// and the two generations.
pub(crate) async fn stamp_read(db: &DatabaseConnection) -> Res<Duration> {
    let txn = db.begin().await?;
    let started = Instant::now();
    let mut rows = segments::Entity::find()
        .select_only()
        .column(segments::Column::Id)
        .column(segments::Column::Version)
        .column(segments::Column::Status)
        .filter(segments::Column::Kind.eq("dynamic"))
        .order_by_asc(segments::Column::Id);
    if db.get_database_backend() == DbBackend::Postgres {
        rows = rows.lock_shared();
    }
    let rows: Vec<(i64, i64, String)> = rows.into_tuple().all(&txn).await?;
    catalog_generation::Entity::find_by_id(1).one(&txn).await?;
    plugin_generation::Entity::find_by_id(1).one(&txn).await?;
    let took = started.elapsed();
    txn.rollback().await?;
    if rows.len() != SEGMENTS {
        return Err(format!("{} dynamic segments, expected {SEGMENTS}", rows.len()).into());
    }
    Ok(took)
}

pub(crate) struct Parts {
    pub(crate) stamp: Vec<Duration>,
    pub(crate) record: Vec<Duration>,
    pub(crate) evaluate: Vec<Duration>,
    /// Lowering the time-relative filters again, as a write does once their plans are
    /// older than `MAX_PLAN_AGE`.
    pub(crate) relower: Vec<Duration>,
    /// How many filters are time-relative.
    pub(crate) time_relative: usize,
}

pub(crate) async fn parts(base: &Base, actor: &Actor, ids: &[i64], rng: &mut StdRng, filters: &[Json]) -> Res<Parts> {
    let core = &base.core;
    let mut prepared: Vec<Prepared> = Vec::with_capacity(filters.len());
    for f in filters {
        prepared.push(core.filter().prepare_filter(f).await?);
    }
    // Time-relative as the book decides it: the plan differs when lowered a day later.
    let catalog = core.filter().filter_catalog().await?;
    let now = SystemClock.now();
    let mut time_relative = Vec::new();
    for (f, p) in filters.iter().zip(&prepared) {
        let later = core
            .filter()
            .prepare_at(f, catalog.clone(), now + chrono::Duration::days(1))
            .await?;
        if later.plan.predicate != p.plan.predicate {
            time_relative.push(f);
        }
    }
    let mut out = Parts {
        stamp: Vec::new(),
        record: Vec::new(),
        evaluate: Vec::new(),
        relower: Vec::new(),
        time_relative: time_relative.len(),
    };
    for _ in 0..PARTS {
        let started = Instant::now();
        let now = SystemClock.now();
        for f in &time_relative {
            core.filter().prepare_at(f, catalog.clone(), now).await?;
        }
        out.relower.push(started.elapsed());
        let id = *ids.choose(rng).ok_or("no contacts")?;
        out.stamp.push(stamp_read(&base.db).await?);
        let started = Instant::now();
        let contact = core.contacts().get_contact(actor, id).await?;
        let records = core.filter().records_of(vec![contact], true).await?;
        out.record.push(started.elapsed());
        let started = Instant::now();
        for p in &prepared {
            core.filter().evaluate_in_memory(p, &records).await?;
        }
        out.evaluate.push(started.elapsed());
    }
    Ok(out)
}
