//! A failed call read as a reason a person can act on: which limit was hit (deadline,
//! memory, stack, answer size), the panic message a Rust guest left on stderr, or the
//! trap; and what was dropped from its output.

use std::time::Duration;

use wasmtime::{Store, Trap};

use super::calls::{CallError, Called};
use crate::plugin::limits::CallLimits;
use crate::plugin::sandbox::CallState;

/// The error and its causes, on one line.
pub(super) fn chain(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

pub(super) fn not_called<T>(error: CallError) -> Called<T> {
    Called {
        result: Err(error),
        stdout: String::new(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
    }
}

pub(super) fn with_dropped(mut text: String, dropped: usize) -> String {
    if dropped > 0 {
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("[{dropped} more bytes of output dropped]\n"));
    }
    text
}

/// A person's reading of a failed call: what limit was hit or what went wrong.
pub(super) fn explain(
    error: &wasmtime::Error,
    store: &Store<CallState>,
    limits: &CallLimits,
    elapsed: Duration,
) -> String {
    let state = store.data();
    let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
    if let Some(asked) = state.limiter.refused_memory {
        return format!(
            "ran out of memory: it tried to grow its memory to {:.1} MiB; the limit is {:.0} MiB",
            mib(asked),
            mib(limits.memory)
        );
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => format!(
                "ran past its deadline of {} ms and was stopped (after {} ms)",
                limits.deadline.as_millis(),
                elapsed.as_millis()
            ),
            Trap::StackOverflow => "overflowed its stack (runaway recursion?)".into(),
            Trap::OutOfFuel => "used up its fuel".into(),
            Trap::MemoryOutOfBounds => {
                "trapped: out-of-bounds memory access (in a Rust plugin, usually its stack overflowing from runaway recursion)"
                    .into()
            }
            Trap::UnreachableCodeReached => match panic_message(&state.stderr.text().0) {
                Some(message) => format!("panicked: {message}"),
                None => "trapped: it reached `unreachable` (an abort or a panic)".into(),
            },
            other => format!("trapped: {}", other.to_string().trim_start_matches("wasm trap: ")),
        };
    }
    let text = chain(error);
    if text.contains("hostcalls has been exhausted") {
        return format!(
            "answered with more than {:.0} MiB of data (the limit of an answer)",
            mib(limits.answer_bytes)
        );
    }
    if state.limiter.refused_table {
        return format!("{text} (a table grew past its limit)");
    }
    format!("failed: {text}")
}

/// The message of a Rust panic, as the standard library prints it to stderr.
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
    let first = lines.next()?;
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).take(5).collect();
    let message = message.join(" ");
    let message = if message.trim().is_empty() {
        first.trim().to_owned()
    } else {
        message.trim().to_owned()
    };
    Some(message.chars().take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_rust_panic_message() {
        let stderr =
            "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: it broke\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("boom: it broke"));
        assert_eq!(panic_message("nothing"), None);
    }
}
