//! The timed contact updates, the WAL's state around them, and the latency tables' cells.

#[allow(unused_imports)]
use super::*;

pub(crate) const PERSON_TYPES: [&str; 11] = [
    "staff",
    "freelance",
    "temporary",
    "remote",
    "cold",
    "warm",
    "hot",
    "refused",
    "client",
    "contractor",
    "supplier",
];
pub(crate) const COMPANY_TYPES: [&str; 7] = ["client", "supplier", "contractor", "cold", "warm", "hot", "refused"];
/// The types `employees` applies to (`client`, `supplier`, `contractor`, `lead` and its
/// children).
pub(crate) const EMPLOYEES_TYPES: [&str; 8] = [
    "client",
    "supplier",
    "contractor",
    "lead",
    "cold",
    "warm",
    "hot",
    "refused",
];

/// A change of `contact` that moves it across segments, and is a change.
pub(crate) fn change(
    rng: &mut StdRng,
    places: &[(&'static City, &'static str)],
    contact: &Contact,
) -> Res<ContactPatch> {
    let mut patch = ContactPatch {
        version: contact.version,
        ..ContactPatch::default()
    };
    let roll = rng.random_range(0..10);
    if roll < 4 {
        // Another city, weighted by size as the demo places contacts.
        let total: u32 = places.iter().map(|(c, _)| c.weight).sum();
        let (city, country) = loop {
            let mut at = rng.random_range(0..total);
            let picked = places.iter().find(|(c, _)| {
                if at < c.weight {
                    true
                } else {
                    at -= c.weight;
                    false
                }
            });
            let (city, country) = picked.ok_or("no city")?;
            if contact.city.as_deref() != Some(city.name) {
                break (city, country);
            }
        };
        patch.city = Some(Some(city.name.to_owned()));
        patch.region = Some(Some(city.region.to_owned()));
        patch.country = Some(Some((*country).to_owned()));
        patch.latitude = Some(Some(city.lat + rng.random_range(-0.045..0.045)));
        patch.longitude = Some(Some(city.lon + rng.random_range(-0.07..0.07)));
    } else if roll < 7 {
        let mut fields = serde_json::Map::new();
        let current = |key: &str| contact.fields.get(key).and_then(Json::as_i64);
        if contact.type_key == "client" && rng.random_bool(0.5) {
            let now = current("nps");
            let nps = loop {
                let n = rng.random_range(0..=10i64);
                if Some(n) != now {
                    break n;
                }
            };
            fields.insert("nps".into(), json!(nps));
        } else if EMPLOYEES_TYPES.contains(&contact.type_key.as_str()) {
            let now = current("employees");
            let employees = loop {
                let n = (rng.random::<f64>() * 5000f64.ln()).exp().round() as i64;
                if Some(n.max(1)) != now {
                    break n.max(1);
                }
            };
            fields.insert("employees".into(), json!(employees));
        } else {
            let now = contact
                .fields
                .get("newsletter")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            fields.insert("newsletter".into(), json!(!now));
        }
        patch.fields = Some(fields);
    } else {
        let types: &[&str] = if contact.kind == ContactKind::Company {
            &COMPANY_TYPES
        } else {
            &PERSON_TYPES
        };
        let choices: Vec<&&str> = types.iter().filter(|t| **t != contact.type_key).collect();
        let t = choices.choose(rng).ok_or("no other type")?;
        patch.type_key = Some((**t).to_owned());
    }
    Ok(patch)
}

pub(crate) async fn last_event(db: &DatabaseConnection) -> Res<i64> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT COALESCE(MAX(id), 0) FROM segment_events",
    );
    let row = db.query_one_raw(stmt).await?.ok_or("MAX(id) returned no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// The state of SQLite's write-ahead log, from its wal-index (the `-shm` file; SQLite's
/// file format, "the WAL-index format"): the last frame in the log (`mxFrame`, offset
/// 16) and how many frames checkpoints have copied back into the database (`nBackfill`,
/// offset 96), native-endian `u32`s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wal {
    pub(crate) frames: u32,
    pub(crate) backfilled: u32,
}

pub(crate) fn wal(shm: &Path) -> Res<Wal> {
    let mut index = [0u8; 100];
    std::fs::File::open(shm)?.read_exact(&mut index)?;
    let at = |i: usize| -> Res<u32> {
        let bytes = index.get(i..i + 4).ok_or("short wal-index")?;
        Ok(u32::from_ne_bytes(bytes.try_into()?))
    };
    Ok(Wal {
        frames: at(16)?,
        backfilled: at(96)?,
    })
}

/// What one write did to SQLite's log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Logged {
    pub(crate) pages: u32,
    /// Its commit ran the automatic checkpoint.
    pub(crate) checkpoint: bool,
    /// It started the log again from the beginning (the first write after a complete
    /// checkpoint).
    pub(crate) restart: bool,
}

/// One timed update: its time, the membership changes it made and, on SQLite, what it
/// did to the log.
pub(crate) struct Update {
    pub(crate) took: Duration,
    pub(crate) changes: u64,
    pub(crate) wal: Option<Logged>,
    /// Whether the write lowered the time-relative plans again.
    pub(crate) relowered: bool,
}

/// When the book's time-relative plans were lowered last, as the engine's rule
/// (`MAX_PLAN_AGE`) tells from the outside; `None` while there is no book.
pub(crate) type Lowered = Option<DateTime<Utc>>;

/// `n` updates of random contacts among `ids`; `shm` is SQLite's wal-index.
pub(crate) async fn updates(
    base: &Base,
    actor: &Actor,
    ids: &[i64],
    rng: &mut StdRng,
    n: usize,
    shm: Option<&Path>,
    lowered: &mut Lowered,
) -> Res<Vec<Update>> {
    let places = places();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = *ids.choose(rng).ok_or("no contacts")?;
        let contact = base.core.contacts().get_contact(actor, id).await?;
        let patch = change(rng, &places, &contact)?;
        let before = last_event(&base.db).await?;
        let log_before = shm.map(wal).transpose()?;
        let at = SystemClock.now();
        let relowered = match lowered {
            Some(last) if at - *last > MAX_PLAN_AGE => {
                *lowered = Some(at);
                true
            }
            _ => false,
        };
        let started = Instant::now();
        let written = base.core.contacts().update_contact(actor, id, patch).await?;
        let took = started.elapsed();
        if written.version == contact.version {
            return Err(format!("the update of contact {id} changed nothing").into());
        }
        let log = match (log_before, shm.map(wal).transpose()?) {
            // A write after a complete checkpoint starts the log again from its beginning.
            (Some(b), Some(a)) => Some(Logged {
                pages: if a.frames >= b.frames {
                    a.frames - b.frames
                } else {
                    a.frames
                },
                checkpoint: a.backfilled > b.backfilled,
                restart: a.frames < b.frames,
            }),
            _ => None,
        };
        let changes = u64::try_from(last_event(&base.db).await? - before)?;
        out.push(Update {
            took,
            changes,
            wal: log,
            relowered,
        });
    }
    Ok(out)
}

/// The machine's load average over the last minute (Linux), to tell a busy machine.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
