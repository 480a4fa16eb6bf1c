//! Builds the built-in plugins (`plugins/builtin/*`) for `wasm32-wasip2` and embeds them.
//!
//! The plugins are their own cargo workspace (`plugins/`), built by a nested
//! `cargo build --target wasm32-wasip2 --release -p <each built-in>` with its own target
//! directory (`plugins/target`) and an environment cleaned of everything the outer build
//! set for *this* crate (RUSTFLAGS, the target, the profile, clippy's wrapper, ...), so
//! that `cargo clippy`, `cargo bench` or a cross build outside don't leak into the guests.
//! The jobserver is kept: the nested build shares the outer build's CPU budget.
//!
//! The components are copied into `OUT_DIR` and `plugin::builtin::BUILTINS` includes them
//! with `include_bytes!`. Without the `wasm32-wasip2` target the build fails and says
//! `rustup target add wasm32-wasip2`. `KARTOTEKA_SKIP_BUILTIN_PLUGINS=1` embeds none
//! (a server without its built-in operators; for working on the host without the target).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fail(message: &str) -> ! {
    eprintln!("\nerror: {message}\n");
    std::process::exit(1);
}

/// The `name = "..."` of the `[package]` in a Cargo.toml.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest.trim_start().strip_prefix('=')?.trim().trim_matches('"');
            return Some(value.to_owned());
        }
    }
    None
}

/// Whether an inherited variable belongs to the outer build and must not reach the nested one.
fn outer_only(name: &str) -> bool {
    const KEEP: [&str; 6] = [
        "CARGO_HOME",
        "CARGO_MAKEFLAGS",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    if KEEP.iter().any(|k| name.starts_with(k)) {
        return false;
    }
    name.starts_with("CARGO")
        // RUSTUP_* stays: the nested build uses the outer build's toolchain and rustup
        // settings (with RUSTUP_AUTO_INSTALL=0, it must not install or update one).
        || (name.starts_with("RUST") && !name.starts_with("RUSTUP_"))
        || name.starts_with("DEP_")
        || matches!(
            name,
            "TARGET" | "HOST" | "OUT_DIR" | "OPT_LEVEL" | "PROFILE" | "DEBUG" | "NUM_JOBS"
        )
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let plugins = manifest_dir.join("../plugins");
    for watched in [
        "wit",
        "sdk",
        "builtin",
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
    ] {
        println!("cargo:rerun-if-changed={}", plugins.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=KARTOTEKA_SKIP_BUILTIN_PLUGINS");

    let mut packages: Vec<String> = std::fs::read_dir(plugins.join("builtin"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| package_name(&e.path().join("Cargo.toml")))
                .collect()
        })
        .unwrap_or_default();
    packages.sort();

    let skip = std::env::var("KARTOTEKA_SKIP_BUILTIN_PLUGINS").is_ok_and(|v| v == "1" || v == "true");
    if skip {
        println!(
            "cargo:warning=KARTOTEKA_SKIP_BUILTIN_PLUGINS is set: the server is built without its built-in plugins"
        );
        packages.clear();
    } else if packages.is_empty() {
        println!("cargo:warning=no built-in plugins found in plugins/builtin/");
    }

    let mut entries = String::new();
    if !packages.is_empty() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(&cargo);
        command
            .current_dir(&plugins)
            .args(["build", "--target", "wasm32-wasip2", "--release"]);
        for package in &packages {
            command.args(["-p", package]);
        }
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_none_or(outer_only) {
                command.env_remove(&name);
            }
        }
        command.env("CARGO_TARGET_DIR", plugins.join("target"));
        let output = command.output().unwrap_or_else(|e| {
            fail(&format!(
                "can't run {} to build the built-in plugins: {e}",
                cargo.to_string_lossy()
            ))
        });
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let missing_target = stderr.contains("wasm32-wasip2")
                && (stderr.contains("may not be installed")
                    || stderr.contains("can't find crate for `core`")
                    || stderr.contains("can't find crate for `std`"));
            let tail: Vec<&str> = stderr
                .lines()
                .rev()
                .take(60)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if missing_target {
                fail(&format!(
                    "the wasm32-wasip2 target is not installed, and the built-in plugins need it.\n       Run: rustup target add wasm32-wasip2\n\n{}",
                    tail.join("\n")
                ));
            }
            fail(&format!(
                "building the built-in plugins (in {}) failed:\n{}\n(hint: if the wasm32-wasip2 target is missing, run `rustup target add wasm32-wasip2`)",
                plugins.display(),
                tail.join("\n")
            ));
        }
        for package in &packages {
            let file = format!("{}.wasm", package.replace('-', "_"));
            let built = plugins.join("target/wasm32-wasip2/release").join(&file);
            let embedded = out_dir.join(&file);
            if let Err(e) = std::fs::copy(&built, &embedded) {
                fail(&format!(
                    "the built-in plugin {package} was built but {} can't be copied: {e}",
                    built.display()
                ));
            }
            entries.push_str(&format!(
                "    ({package:?}, include_bytes!({:?})),\n",
                embedded.to_string_lossy()
            ));
        }
    }
    let code = format!(
        "/// The built-in plugins compiled into this binary: (package, component bytes).\npub const BUILTINS: &[(&str, &[u8])] = &[\n{entries}];\n"
    );
    if let Err(e) = std::fs::write(out_dir.join("builtin_plugins.rs"), code) {
        fail(&format!("can't write the list of built-in plugins: {e}"));
    }
}
