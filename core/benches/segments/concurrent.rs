//! Concurrent writers: `WRITERS` tasks updating contacts of their own at once, with the
//! membership upkeep of every segment in each write, as a server's requests would. On
//! SQLite, with the process's write queue (`kernel::base::WriteQueue`: writers wait
//! their turn in the process, each begins when the one before commits) and without it
//! (each writer begins and sleeps in SQLite's busy handler until the lock is free); on
//! PostgreSQL, which has no queue.

use std::time::{Duration, Instant};

use kartoteka_core::auth::Actor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use crate::definitions::places;
use crate::support::{Base, Res};

/// How many writers write at once.
pub const WRITERS: usize = 10;

/// What a round of concurrent writes measured.
pub struct Round {
    /// Each update's latency.
    pub took: Vec<Duration>,
    /// From the first update's start to the last one's end.
    pub wall: Duration,
}

/// `WRITERS` tasks, each making `each` updates of random contacts among its share of
/// `ids` (no two writers touch one contact, so no update meets a version conflict).
pub async fn round(base: &Base, actor: &Actor, ids: &[i64], each: usize, seed: u64) -> Res<Round> {
    let mut tasks = Vec::with_capacity(WRITERS);
    let started = Instant::now();
    for writer in 0..WRITERS {
        let core = base.core.clone();
        let actor = actor.clone();
        let mine: Vec<i64> = ids.iter().copied().skip(writer).step_by(WRITERS).collect();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed + writer as u64);
            let places = places();
            let mut took = Vec::with_capacity(each);
            for _ in 0..each {
                let id = *mine.choose(&mut rng).ok_or("no contacts")?;
                let contact = core.contacts().get_contact(&actor, id).await?;
                let patch = crate::change(&mut rng, &places, &contact).map_err(|e| e.to_string())?;
                let at = Instant::now();
                core.contacts().update_contact(&actor, id, patch).await?;
                took.push(at.elapsed());
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(took)
        }));
    }
    let mut took = Vec::with_capacity(WRITERS * each);
    for task in tasks {
        took.extend(task.await?.map_err(|e| e.to_string())?);
    }
    Ok(Round {
        took,
        wall: started.elapsed(),
    })
}
