//! `kartoteka plugin new NAME --kind operator|criterion|action`: a ready plugin crate.
//!
//! It writes a folder that builds on its own, outside any workspace: `Cargo.toml` (the
//! SDK by path, serde and schemars for typed arguments, the release profile that keeps
//! components small, an empty `[workspace]` so a parent workspace doesn't claim it),
//! `rust-toolchain.toml` (this server's toolchain and the `wasm32-wasip2` target),
//! `Cargo.lock` (the versions the SDK is tested with), `src/lib.rs` (one working operator,
//! criterion or action with passing tests) and a `README.md` with the build, upload and
//! try commands. The files are askama templates (`web/templates/scaffold/`), the engine
//! the pages already use; `escape = "none"`, as they are code, not HTML.

use std::path::{Path, PathBuf};

use askama::Template;

/// The plugin kinds `--kind` takes.
pub const KINDS: [&str; 3] = ["operator", "criterion", "action"];

/// The toolchain the SDK is built with (`plugins/rust-toolchain.toml`).
pub const TOOLCHAIN: &str = "1.95.0";

/// The SDK of this checkout, when the binary runs where it was built.
pub fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk")
}

/// The versions the SDK and the built-in plugins are tested with.
const LOCKFILE: &str = include_str!("../../plugins/Cargo.lock");

/// What a kind is called in words: `filter operator`, `scoring criterion`, `bulk action`.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "criterion" => "scoring criterion",
        "action" => "bulk action",
        _ => "filter operator",
    }
}

/// What to make.
#[derive(Debug, Clone)]
pub struct Request {
    /// The plugin's name: a slug, also the crate's name.
    pub name: String,
    /// `operator`, `criterion` or `action`.
    pub kind: String,
    /// The folder to create the crate in (the crate is `<parent>/<name>`).
    pub parent: PathBuf,
    /// The SDK crate's folder.
    pub sdk: PathBuf,
}

#[derive(Template)]
#[template(path = "scaffold/Cargo.toml.txt", escape = "none")]
struct Manifest<'a> {
    name: &'a str,
    description: &'a str,
    sdk: &'a str,
}

#[derive(Template)]
#[template(path = "scaffold/rust-toolchain.toml.txt", escape = "none")]
struct Toolchain<'a> {
    toolchain: &'a str,
}

#[derive(Template)]
#[template(path = "scaffold/README.md.txt", escape = "none")]
struct Readme<'a> {
    name: &'a str,
    lib: &'a str,
    kind: &'a str,
    kind_label: &'a str,
    world: &'a str,
}

#[derive(Template)]
#[template(path = "scaffold/operator.rs.txt", escape = "none")]
struct OperatorSource<'a> {
    name: &'a str,
    description: &'a str,
}

#[derive(Template)]
#[template(path = "scaffold/criterion.rs.txt", escape = "none")]
struct CriterionSource<'a> {
    name: &'a str,
    description: &'a str,
}

#[derive(Template)]
#[template(path = "scaffold/action.rs.txt", escape = "none")]
struct ActionSource<'a> {
    name: &'a str,
    description: &'a str,
}

/// Every reason the request can't be made, at once.
pub fn check(request: &Request) -> Vec<String> {
    let mut problems = Vec::new();
    let name = request.name.as_str();
    let slug = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !slug {
        problems.push(format!(
            "NAME {name:?}: expected a slug of at most 64 characters, `a-z`, `0-9`, `-` and `_`, starting with a letter (e.g. `acme-words`)"
        ));
    }
    if !KINDS.contains(&request.kind.as_str()) {
        problems.push(format!(
            "--kind {:?}: expected one of {}",
            request.kind,
            KINDS.join(", ")
        ));
    }
    if !request.sdk.join("Cargo.toml").is_file() {
        problems.push(format!(
            "--sdk {}: no Cargo.toml there; point it at `plugins/sdk` of a Kartoteka checkout",
            request.sdk.display()
        ));
    }
    let folder = request.parent.join(name);
    if folder.exists()
        && std::fs::read_dir(&folder)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        problems.push(format!("{}: the folder exists and is not empty", folder.display()));
    }
    problems
}

/// Writes the crate; returns its folder. Fails with every problem of the request.
pub fn create(request: &Request) -> Result<PathBuf, Vec<String>> {
    let problems = check(request);
    if !problems.is_empty() {
        return Err(problems);
    }
    let name = request.name.as_str();
    let lib = name.replace('-', "_");
    let sdk = std::fs::canonicalize(&request.sdk).unwrap_or_else(|_| request.sdk.clone());
    let sdk = sdk.to_string_lossy().replace('\\', "/");
    let kind_label = kind_label(&request.kind);
    let world = match request.kind.as_str() {
        "criterion" => "segment-criterion",
        "action" => "bulk-action",
        _ => "filter-operator",
    };
    let description = format!("A Kartoteka {kind_label}.");
    let source = match request.kind.as_str() {
        "criterion" => CriterionSource {
            name,
            description: &description,
        }
        .render(),
        "action" => ActionSource {
            name,
            description: &description,
        }
        .render(),
        _ => OperatorSource {
            name,
            description: &description,
        }
        .render(),
    };
    let render = |result: askama::Result<String>| result.map_err(|e| vec![format!("rendering a template: {e}")]);
    let files = [
        (
            "Cargo.toml",
            render(
                Manifest {
                    name,
                    description: &description,
                    sdk: &sdk,
                }
                .render(),
            )?,
        ),
        (
            "rust-toolchain.toml",
            render(Toolchain { toolchain: TOOLCHAIN }.render())?,
        ),
        (
            "README.md",
            render(
                Readme {
                    name,
                    lib: &lib,
                    kind: &request.kind,
                    kind_label,
                    world,
                }
                .render(),
            )?,
        ),
        (".gitignore", "/target\n".to_owned()),
        ("Cargo.lock", LOCKFILE.to_owned()),
        ("src/lib.rs", render(source)?),
    ];
    let folder = request.parent.join(name);
    for (path, mut text) in files {
        // Templates lose their last newline when rendered; files end with one.
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let path = folder.join(path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        written.map_err(|e| vec![format!("{}: {e}", path.display())])?;
    }
    Ok(folder)
}
