//! The plugin host's costs, against the same work in native Rust in the same run.
//!
//! ```text
//! cargo bench -p kartoteka-core --bench plugins -- --values 1000000
//! ```
//!
//! With the example plugin (`plugins/examples/longer-than`, built first if missing):
//!
//! - instantiation from the `InstancePre`, pooling allocator vs on-demand allocation;
//! - the cost of one call (`matches` on one value, `lower`), each on a fresh instance;
//! - `matches` throughput on `--values` strings in batches of 4,096: one fresh instance
//!   per batch (what `Registry::matches` does) and one instance per query (reused across
//!   the batches while it behaves), against `s.chars().count() > n` in native Rust over
//!   the same buffers;
//! - what the deadline costs: the per-query path with epoch interruption (the server's
//!   setting), with nothing (no deadline at all) and with fuel metering.
//!
//! With `--compare PATH`, the per-query path again on another build of the example (the
//! same operator built with an older SDK, say), in the same process.
//!
//! With the Python operator (`plugins/examples/python-regex`, built by
//! `plugins/examples/build-guests.sh`; skipped when it isn't there, or give `--python
//! PATH`): `matches_pattern` with a regular expression on the same strings, per query,
//! against the `regex` crate over the same `String`s in native Rust.
//!
//! Prints a Markdown table. Every WASM answer is checked against the native one.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::plugin::engine::{Host, HostOptions, Interrupt, Loaded};
use kartoteka_core::plugin::values::{Batch, Column, FieldKind, FieldRef, args_to_wit};
use serde_json::json;
use support::{Res, arg, median};

const BATCH: usize = 4096;
/// `longer_than`'s argument.
const N: usize = 12;

/// The example component, built with the plugins' own workspace if it isn't there yet.
fn example() -> Res<Vec<u8>> {
    let plugins = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins");
    let file = plugins.join("target/wasm32-wasip2/release/kartoteka_example_longer_than.wasm");
    if !file.exists() {
        let mut command = Command::new("cargo");
        command.current_dir(&plugins).args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            "kartoteka-example-longer-than",
        ]);
        for (name, _) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if (name.starts_with("CARGO") && name != "CARGO_HOME")
                || (name.starts_with("RUST") && name != "RUSTUP_HOME")
            {
                command.env_remove(name);
            }
        }
        command.env("CARGO_TARGET_DIR", plugins.join("target"));
        if !command.status()?.success() {
            return Err("building the example plugin failed".into());
        }
    }
    Ok(std::fs::read(file)?)
}

/// `count` deterministic strings of 3 to 40 characters, a fifth of them non-ASCII.
fn strings(count: usize) -> Vec<String> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz.@-ąćęłńóśźżŁÓŚ".chars().collect();
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 3 + (state % 38) as usize;
            (0..len)
                .map(|i| {
                    let k = (state >> (i % 48)) as usize + i * 7;
                    let ascii = !state.is_multiple_of(5);
                    let pool = if ascii { 29 } else { alphabet.len() };
                    alphabet.get(k % pool).copied().unwrap_or('x')
                })
                .collect()
        })
        .collect()
}

fn batches(values: &[String]) -> Vec<Batch> {
    values
        .chunks(BATCH)
        .map(|chunk| Batch::texts(chunk.iter().map(|s| Some(s.as_str()))))
        .collect()
}

/// The same test in native Rust on the strings as the host holds them: the best baseline.
fn native_strings(values: &[String]) -> Vec<bool> {
    values.iter().map(|s| s.chars().count() > N).collect()
}

/// The same test in native Rust over the buffers the plugin receives (bytes and end
/// offsets, each string's UTF-8 checked, as the guest must).
fn native(batches: &[Batch]) -> Vec<bool> {
    let mut out = Vec::new();
    for batch in batches {
        if let Column::Texts { bytes, ends } = batch.column() {
            let mut start = 0usize;
            for &end in ends {
                let end = end as usize;
                let s = std::str::from_utf8(bytes.get(start..end).unwrap_or_default()).unwrap_or_default();
                out.push(s.chars().count() > N);
                start = end;
            }
        }
    }
    out
}

fn fresh_per_batch(loaded: &Loaded, batches: &[Batch]) -> Res<Vec<bool>> {
    let args = args_to_wit(Some(&json!(N)))?;
    let mut out = Vec::new();
    for batch in batches {
        let mut answer = loaded
            .matches("longer_than", &args, batch.clone())
            .result
            .map_err(|e| e.to_string())?;
        out.append(&mut answer);
    }
    Ok(out)
}

fn per_query(loaded: &Loaded, batches: &[Batch]) -> Res<Vec<bool>> {
    let args = args_to_wit(Some(&json!(N)))?;
    let mut session = loaded.match_session("longer_than", args).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in batches {
        let mut answer = session.matches(batch.clone()).map_err(|e| e.to_string())?;
        out.append(&mut answer);
    }
    Ok(out)
}

/// The median of `runs` timings of `f` after a warm-up; the batches are cloned before the
/// clock starts, so only the plugin path is timed.
fn time_path(
    runs: usize,
    batches: &[Batch],
    expected: &[bool],
    f: &dyn Fn(&[Batch]) -> Res<Vec<bool>>,
) -> Res<Duration> {
    let warm = f(batches)?;
    if warm != expected {
        return Err("a WASM path disagrees with native Rust".into());
    }
    let mut samples = Vec::new();
    for _ in 0..runs {
        let input: Vec<Batch> = batches.to_vec();
        let started = Instant::now();
        let answer = f(&input)?;
        samples.push(started.elapsed());
        if answer.len() != expected.len() {
            return Err("short answer".into());
        }
    }
    Ok(median(samples))
}

fn per_op(runs: usize, f: &dyn Fn() -> Res<()>) -> Res<Duration> {
    for _ in 0..runs / 10 {
        f()?;
    }
    let started = Instant::now();
    for _ in 0..runs {
        f()?;
    }
    Ok(started.elapsed() / u32::try_from(runs).unwrap_or(1))
}

fn host(interrupt: Interrupt, pooling: bool) -> Res<Arc<Host>> {
    Ok(Host::new(HostOptions { interrupt, pooling })?)
}

/// The value of `--name PATH`, if given.
fn path_arg(name: &str) -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|at| args.get(at + 1))
        .map(PathBuf::from)
}

/// The pattern the Python operator and the `regex` crate both run: an address-like shape.
const PATTERN: &str = "^[a-z]+[.@-][a-z]";

/// `matches_pattern` of the Python component per query, against the `regex` crate.
fn python_rows(runs: usize, values: &[String], input: &[Batch]) -> Res<Vec<(String, Duration)>> {
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/target/guest/regex.wasm");
    let file = path_arg("--python").unwrap_or(default);
    if !file.exists() {
        eprintln!(
            "skipping the Python operator: no {} (run plugins/examples/build-guests.sh)",
            file.display()
        );
        return Ok(Vec::new());
    }
    let loaded = host(Interrupt::Epoch, true)?.load(&std::fs::read(&file)?, None)?;
    let pattern = regex::Regex::new(PATTERN)?;
    let expected: Vec<bool> = values.iter().map(|s| pattern.is_match(s)).collect();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let n = std::hint::black_box(values.iter().filter(|s| pattern.is_match(s)).count());
        samples.push(started.elapsed());
        std::hint::black_box(n);
    }
    let native = median(samples);
    let args = args_to_wit(Some(&json!(PATTERN)))?;
    let python = time_path(runs, input, &expected, &|batches| {
        let mut session = loaded
            .match_session("matches_pattern", args.clone())
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for batch in batches {
            out.append(&mut session.matches(batch.clone()).map_err(|e| e.to_string())?);
        }
        Ok(out)
    })?;
    Ok(vec![
        (
            format!("native Rust, the `regex` crate's `{PATTERN}` over the `String`s"),
            native,
        ),
        (
            "Python `regex.matches_pattern` (componentize-py, `re.search`), one instance per call, epochs".to_owned(),
            python,
        ),
    ])
}

fn main() -> Res<()> {
    let count = arg("--values", 1_000_000);
    let runs = arg("--runs", 5);
    let wasm = example()?;
    let values = strings(count);
    let input = batches(&values);

    let epoch = host(Interrupt::Epoch, true)?.load(&wasm, None)?;
    let on_demand = host(Interrupt::Epoch, false)?.load(&wasm, None)?;
    let off = host(Interrupt::Off, true)?.load(&wasm, None)?;
    let fuel = host(Interrupt::Fuel, true)?.load(&wasm, None)?;

    let inst_pool = per_op(2000, &|| Ok(epoch.instantiate_once()?))?;
    let inst_demand = per_op(2000, &|| Ok(on_demand.instantiate_once()?))?;
    let args = args_to_wit(Some(&json!(N)))?;
    let one = Batch::texts([Some("Łódź, Piotrkowska")]);
    let call_one = per_op(2000, &|| {
        epoch
            .matches("longer_than", &args, one.clone())
            .result
            .map_err(|e| e.to_string())?;
        Ok(())
    })?;
    let field = FieldRef {
        path: "name".into(),
        kind: FieldKind::Text,
        options: vec![],
    };
    let call_lower = per_op(2000, &|| {
        epoch
            .lower("longer_than", &field, &args, 0)
            .result
            .map_err(|e| e.to_string())?;
        Ok(())
    })?;

    let expected = native(&input);
    if native_strings(&values) != expected {
        return Err("the two native baselines disagree".into());
    }
    let time_native = |f: &dyn Fn() -> usize| {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let n = std::hint::black_box(f());
            samples.push(started.elapsed());
            if n != count {
                return Err("native answer short");
            }
        }
        Ok(median(samples))
    };
    let native_time = time_native(&|| native_strings(std::hint::black_box(&values)).len())?;
    let native_buffers = time_native(&|| native(std::hint::black_box(&input)).len())?;
    let fresh = time_path(runs, &input, &expected, &|b| fresh_per_batch(&epoch, b))?;
    let query = time_path(runs, &input, &expected, &|b| per_query(&epoch, b))?;
    let query_off = time_path(runs, &input, &expected, &|b| per_query(&off, b))?;
    let query_fuel = time_path(runs, &input, &expected, &|b| per_query(&fuel, b))?;
    let fresh_off = time_path(runs, &input, &expected, &|b| fresh_per_batch(&off, b))?;
    let compared = match path_arg("--compare") {
        Some(file) => {
            let other = host(Interrupt::Epoch, true)?.load(&std::fs::read(&file)?, None)?;
            Some((file, time_path(runs, &input, &expected, &|b| per_query(&other, b))?))
        }
        None => None,
    };
    let python = python_rows(runs, &values, &input)?;

    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    let rate = |d: Duration| format!("{:.1} M values/s", count as f64 / d.as_secs_f64() / 1e6);
    let ratio = |d: Duration| format!("{:.2}x", d.as_secs_f64() / native_time.as_secs_f64());
    let matches = count.div_ceil(BATCH);
    println!("| what | time | throughput | vs native |");
    println!("|---|---|---|---|");
    println!(
        "| instantiate from `InstancePre`, pooling allocator | {} | | |",
        us(inst_pool)
    );
    println!(
        "| instantiate from `InstancePre`, on-demand allocation | {} | | |",
        us(inst_demand)
    );
    println!(
        "| one `matches` call on 1 value (fresh store + instance) | {} | | |",
        us(call_one)
    );
    println!(
        "| one `lower` call (fresh store + instance, predicate checked) | {} | | |",
        us(call_lower)
    );
    println!(
        "| native Rust `s.chars().count() > {N}` over {count} `String`s (the baseline) | {} | {} | 1.00x |",
        ms(native_time),
        rate(native_time)
    );
    println!(
        "| native Rust, same test over the batches' bytes + end offsets (UTF-8 checked) | {} | {} | {} |",
        ms(native_buffers),
        rate(native_buffers),
        ratio(native_buffers)
    );
    println!(
        "| WASM `matches`, fresh instance per batch of {BATCH} ({matches} calls), epochs | {} | {} | {} |",
        ms(fresh),
        rate(fresh),
        ratio(fresh)
    );
    println!(
        "| WASM `matches`, one instance per call over all batches, epochs (the server's setting) | {} | {} | {} |",
        ms(query),
        rate(query),
        ratio(query)
    );
    println!(
        "| same, no interruption at all | {} | {} | {} |",
        ms(query_off),
        rate(query_off),
        ratio(query_off)
    );
    println!(
        "| same, fuel metering | {} | {} | {} |",
        ms(query_fuel),
        rate(query_fuel),
        ratio(query_fuel)
    );
    println!(
        "| fresh instance per batch, no interruption | {} | {} | {} |",
        ms(fresh_off),
        rate(fresh_off),
        ratio(fresh_off)
    );
    if let Some((file, time)) = compared {
        println!(
            "| same as the server's setting, component `{}` | {} | {} | {} |",
            file.display(),
            ms(time),
            rate(time),
            ratio(time)
        );
    }
    if let Some((_, baseline)) = python.first() {
        for (what, time) in &python {
            println!(
                "| {what} | {} | {} | {:.2}x of the `regex` crate |",
                ms(*time),
                rate(*time),
                time.as_secs_f64() / baseline.as_secs_f64()
            );
        }
    }
    Ok(())
}
