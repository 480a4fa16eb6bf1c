//! What one plugin call may use, and the limiter that enforces the memory part.
//!
//! Every number a plugin author can run into is a constant here, so the author's guide,
//! the error messages and the host agree. Time is wall-clock time enforced by epoch
//! interruption (see [`super::engine`]); memory by a [`wasmtime::ResourceLimiter`]; the size
//! of an answer twice: by wasmtime's *hostcall fuel* while the answer is copied out of the
//! guest (bytes), then by [`super::ir`] on its shape (nodes, depth, list lengths).

use std::time::Duration;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::error::Problem;

/// How often the ticker thread advances the engine's epoch: the granularity of deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// Deadline of `describe`: it should only return constants.
pub const DESCRIBE_DEADLINE: Duration = Duration::from_secs(1);
/// Deadline of `lower`: called once per filter node per query, so it must be quick.
pub const LOWER_DEADLINE: Duration = Duration::from_secs(1);
/// Deadline of one `matches` (or `score`, `run`) call on one batch of up to
/// [`MAX_BATCH`] values.
pub const BATCH_DEADLINE: Duration = Duration::from_secs(2);

/// Linear memory one plugin instance may grow to (all its memories together).
pub const MEMORY_LIMIT: usize = 64 << 20;
/// Table elements one instance may have (function references; generous for Rust code).
pub const TABLE_ELEMENTS: usize = 100_000;
/// Bytes a guest may hand back to the host in one answer (strings and lists, as copied
/// out of its memory). Enforced by wasmtime's hostcall fuel while the answer is lifted.
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Most values in one batch the host sends to `matches`.
pub const MAX_BATCH: usize = 4096;
/// Most nodes in a predicate a plugin answers.
pub const MAX_IR_NODES: usize = 1024;
/// Most nodes a predicate may expand to once shared sub-trees are copied (a node may be
/// the child of several parents).
pub const MAX_IR_EXPANDED: usize = 4096;
/// Deepest nesting of a predicate or an argument tree.
pub const MAX_DEPTH: usize = 64;
/// Most values in one `in-set` node, items in a list argument, or properties.
pub const MAX_LIST: usize = 10_000;
/// Longest string in an answer (a field name, a needle, a text value).
pub const MAX_STRING: usize = 64 << 10;
/// Most nodes in an argument tree (sent or answered).
pub const MAX_ARG_NODES: usize = 10_000;

/// Bytes of stdout and of stderr kept per call; the rest is dropped (and says so).
pub const MAX_OUTPUT: usize = 16 << 10;
/// Plugin calls running at once in one server process; more wait for a slot.
pub const MAX_CONCURRENT_CALLS: usize = 32;
/// Largest component accepted at upload. Components that embed a language runtime are
/// large: a Python operator built with componentize-py is about 18 MB (CPython and its
/// standard library), a JavaScript one built with componentize-js about 12 MB.
pub const MAX_COMPONENT_SIZE: usize = 64 << 20;

/// The budget of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall-clock time before the call is interrupted.
    pub deadline: Duration,
    /// Linear memory cap in bytes.
    pub memory: usize,
    /// Bytes the answer may carry.
    pub answer_bytes: usize,
}

impl CallLimits {
    /// The limits of `describe`.
    pub const DESCRIBE: CallLimits = CallLimits {
        deadline: DESCRIBE_DEADLINE,
        memory: MEMORY_LIMIT,
        answer_bytes: MAX_ANSWER_BYTES,
    };
    /// The limits of `lower`.
    pub const LOWER: CallLimits = CallLimits {
        deadline: LOWER_DEADLINE,
        memory: MEMORY_LIMIT,
        answer_bytes: MAX_ANSWER_BYTES,
    };
    /// The limits of a batch call (`matches`, `score`, `run`).
    pub const BATCH: CallLimits = CallLimits {
        deadline: BATCH_DEADLINE,
        memory: MEMORY_LIMIT,
        answer_bytes: MAX_ANSWER_BYTES,
    };

    /// The deadline in epoch ticks, rounded up, plus one: the ticker may advance the epoch
    /// right after the deadline is set, so one tick is never a full [`TICK`].
    pub fn deadline_ticks(&self) -> u64 {
        let tick = TICK.as_nanos().max(1);
        let ticks = self.deadline.as_nanos().div_ceil(tick);
        u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
    }
}

/// The most memory an admin may grant one plugin (see [`Grant`]); the instance pool is
/// sized for it.
pub const MAX_GRANT_MEMORY: usize = 512 << 20;
/// The longest deadline an admin may grant one plugin's calls.
pub const MAX_GRANT_DEADLINE: Duration = Duration::from_secs(10);

/// What an admin granted one plugin at approval, beyond the defaults: more memory for
/// every call, a longer deadline for every call. A plugin built from a language runtime
/// (CPython, a JavaScript engine) may need it; the defaults stay the limits of every other
/// plugin. A grant only raises a limit: each call gets the larger of its default and the
/// grant, up to [`MAX_GRANT_MEMORY`] and [`MAX_GRANT_DEADLINE`].
///
/// Made only by [`Grant::new`] (which checks the bounds), [`Grant::MAX`] and `default()`,
/// so a grant is always within them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grant {
    /// Linear memory for every call; `None`: [`MEMORY_LIMIT`].
    memory: Option<usize>,
    /// The deadline of every call; `None`: each call's default.
    deadline: Option<Duration>,
}

impl Grant {
    /// The most that can be granted: what `describe` runs with when a plugin is uploaded,
    /// so an admin can see what a plugin is before deciding what to grant it.
    pub const MAX: Grant = Grant {
        memory: Some(MAX_GRANT_MEMORY),
        deadline: Some(MAX_GRANT_DEADLINE),
    };

    /// A grant of `memory_mb` MiB and `time_ms` ms, or every reason it can't be given (an
    /// amount below the default or above the most), at `memory_mb` and `time_ms`.
    pub fn new(memory_mb: Option<u64>, time_ms: Option<u64>) -> crate::Result<Grant> {
        let mut problems = Vec::new();
        let default_mb = (MEMORY_LIMIT >> 20) as u64;
        let most_mb = (MAX_GRANT_MEMORY >> 20) as u64;
        if let Some(mb) = memory_mb
            && !(default_mb..=most_mb).contains(&mb)
        {
            problems.push(Problem {
                path: "memory_mb".into(),
                message: format!("expected {default_mb} to {most_mb} (MiB), found {mb}"),
            });
        }
        let (least_ms, most_ms) = (BATCH_DEADLINE.as_millis() as u64, MAX_GRANT_DEADLINE.as_millis() as u64);
        if let Some(ms) = time_ms
            && !(least_ms..=most_ms).contains(&ms)
        {
            problems.push(Problem {
                path: "time_ms".into(),
                message: format!("expected {least_ms} to {most_ms} (ms), found {ms}"),
            });
        }
        if let Some(error) = crate::Error::from_problems(problems) {
            return Err(error);
        }
        Ok(Grant {
            memory: memory_mb.filter(|&mb| mb > default_mb).map(|mb| (mb as usize) << 20),
            deadline: time_ms.filter(|&ms| ms > least_ms).map(Duration::from_millis),
        })
    }

    /// Whether it grants nothing beyond the defaults.
    pub fn is_default(&self) -> bool {
        self.memory.is_none() && self.deadline.is_none()
    }

    /// The memory every call gets, in bytes.
    pub fn memory(&self) -> usize {
        self.memory.unwrap_or(MEMORY_LIMIT)
    }

    /// The deadline of a batch call (`matches`, `score`, `run`).
    pub fn batch_deadline(&self) -> Duration {
        CallLimits::BATCH.granted(self).deadline
    }

    /// As stored: `{"memory_mb": 256, "time_ms": 5000}`, or `null` for the defaults.
    pub fn to_json(&self) -> serde_json::Value {
        if self.is_default() {
            return serde_json::Value::Null;
        }
        serde_json::json!({
            "memory_mb": self.memory.map(|m| m >> 20),
            "time_ms": self.deadline.map(|d| d.as_millis() as u64),
        })
    }

    /// The stored grant; the defaults for `null` or anything unreadable.
    pub fn from_json(json: Option<&serde_json::Value>) -> Grant {
        let number = |key: &str| json.and_then(|j| j.get(key)).and_then(serde_json::Value::as_u64);
        Grant::new(number("memory_mb"), number("time_ms")).unwrap_or_default()
    }
}

impl CallLimits {
    /// These limits raised by `grant` (never lowered).
    pub fn granted(&self, grant: &Grant) -> CallLimits {
        CallLimits {
            deadline: grant.deadline.map_or(self.deadline, |d| d.max(self.deadline)),
            memory: grant.memory.map_or(self.memory, |m| m.max(self.memory)),
            answer_bytes: self.answer_bytes,
        }
    }
}

/// [`StoreLimits`] (memory cap, table cap, trap on a refused growth) that also remembers
/// *that* it refused, so the error can say "memory limit" instead of a bare trap.
#[derive(Debug)]
pub struct Limiter {
    inner: StoreLimits,
    memory_cap: usize,
    /// The size a refused memory growth asked for, in bytes.
    pub refused_memory: Option<usize>,
    /// Whether a table growth was refused.
    pub refused_table: bool,
}

impl Limiter {
    /// A limiter for `limits`.
    pub fn new(limits: &CallLimits) -> Self {
        Limiter {
            inner: StoreLimitsBuilder::new()
                .memory_size(limits.memory)
                .table_elements(TABLE_ELEMENTS)
                .instances(64)
                .tables(64)
                .memories(8)
                .trap_on_grow_failure(true)
                .build(),
            memory_cap: limits.memory,
            refused_memory: None,
            refused_table: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.refused_memory = Some(desired);
        }
        self.inner.memory_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.inner.table_growing(current, desired, maximum);
        if !matches!(allowed, Ok(true)) {
            self.refused_table = true;
        }
        allowed
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_ticks() {
        assert_eq!(CallLimits::LOWER.deadline_ticks(), 101);
        let tiny = CallLimits {
            deadline: Duration::from_millis(1),
            ..CallLimits::LOWER
        };
        assert_eq!(tiny.deadline_ticks(), 2);
    }
}
