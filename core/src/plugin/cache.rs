//! Compiled components on disk, so a restart does not run Cranelift again.
//!
//! A cache file holds native code that is mapped executable: loading a file someone else
//! wrote is running their code. So:
//!
//! - the key is `sha256(component bytes)` and a digest of
//!   [`wasmtime::Engine::precompile_compatibility_hash`] (same wasmtime, same settings, same
//!   CPU features), so a file is only ever read by an engine that could have written it;
//! - the directory is created `0700` and used only if it belongs to this process's user
//!   and nobody else may write to it; otherwise the cache is off (with a warning) and
//!   components are compiled in memory;
//! - files are written `0600` under a temporary name and renamed into place, and start
//!   with a magic number and the SHA-256 of the serialized component, checked before
//!   wasmtime sees a byte (a truncated or corrupted file is recompiled, never loaded);
//! - the file is read into memory and deserialized from there, so it can't change between
//!   the check and the load.
//!
//! Where: `KARTOTEKA_PLUGIN_CACHE` if set; else `plugin-cache/` next to the SQLite file;
//! else `kartoteka-plugin-cache/` in the system's temporary directory (see [`default_dir`]).

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The variable that names the cache directory.
pub const CACHE_DIR_VAR: &str = "KARTOTEKA_PLUGIN_CACHE";

const MAGIC: &[u8; 8] = b"KTPLUGC1";
const HEADER: usize = 8 + 32;

/// The cache directory for a server on `database_url`: `KARTOTEKA_PLUGIN_CACHE` if set,
/// `plugin-cache/` next to a SQLite file, else the system's temporary directory.
pub fn default_dir(database_url: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_VAR).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(file) = sqlite_file(database_url)
        && let Some(parent) = file.parent()
    {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        return parent.join("plugin-cache");
    }
    std::env::temp_dir().join("kartoteka-plugin-cache")
}

/// The path of the SQLite file in `sqlite://PATH?...`, if it is one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

/// The user id this process runs as (the owner of `/proc/self`).
fn own_uid() -> Option<u32> {
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// A directory of compiled components that only this user can write.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// Opens (creating it `0700` if needed) the cache in `dir`; `None`, with a warning,
    /// when it can't be made or someone else could write to it.
    pub fn open(dir: &Path) -> Option<DiskCache> {
        let made = fs::DirBuilder::new().recursive(true).mode(0o700).create(dir);
        if let Err(e) = made {
            tracing::warn!(dir = %dir.display(), error = %e, "plugin cache directory can't be created; compiling in memory");
            return None;
        }
        let meta = match fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "plugin cache directory unreadable; compiling in memory");
                return None;
            }
        };
        let ours = own_uid().is_some_and(|uid| uid == meta.uid());
        let private = meta.permissions().mode() & 0o022 == 0;
        if !meta.is_dir() || !ours || !private {
            tracing::warn!(
                dir = %dir.display(),
                "plugin cache directory is not a private directory of this user; compiling in memory"
            );
            return None;
        }
        Some(DiskCache { dir: dir.to_owned() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `wasm` compiled by `engine`.
    pub fn path_for(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        self.dir.join(format!("{}.cwasm", key(engine, wasm)))
    }

    /// The component compiled from `wasm`: read from the cache when a valid entry exists,
    /// otherwise compiled and stored.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Component> {
        let path = self.path_for(engine, wasm);
        if let Some(component) = self.read(engine, &path) {
            return Ok(component);
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.write(&path, &component) {
            tracing::warn!(path = %path.display(), error = %e, "can't store a compiled plugin");
        }
        Ok(component)
    }

    fn read(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let bytes = fs::read(path).ok()?;
        let (header, body) = bytes.split_at_checked(HEADER)?;
        let (magic, digest) = header.split_at_checked(MAGIC.len())?;
        if magic != MAGIC || digest != Sha256::digest(body).as_slice() {
            tracing::warn!(path = %path.display(), "corrupt compiled plugin in the cache; recompiling");
            return None;
        }
        // SAFETY: `Component::deserialize` trusts its input to be the output of
        // `Component::serialize` by a compatible engine, because it maps the native code
        // in it as executable. This file is in a directory only this user may write
        // (checked in `open`), was written by `write` below under a name derived from
        // the engine's compatibility hash, and its content digest was checked just above
        // on the bytes in memory that are deserialized, so it is a file this server
        // wrote. wasmtime still checks its own header (version, settings) and refuses a
        // mismatch with an error.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, body) };
        match component {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "stale compiled plugin in the cache; recompiling");
                None
            }
        }
    }

    fn write(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let body = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let tmp = self.dir.join(format!(".tmp-{:016x}", rand::random::<u64>()));
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(&body))?;
            file.write_all(&body)?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// `sha256(wasm)` and a digest of the engine's compatibility hash, in hex.
pub fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_digest = hasher.0.finalize();
    format!(
        "{}-{}",
        hex(&Sha256::digest(wasm)),
        hex(engine_digest.get(..8).unwrap_or_default())
    )
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A [`Hasher`] that feeds SHA-256, so the key is stable across processes and Rust
/// releases (std's hashers promise neither).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_is_next_to_the_sqlite_file() {
        if std::env::var_os(CACHE_DIR_VAR).is_some() {
            return;
        }
        assert_eq!(
            default_dir("sqlite:///srv/k/kartoteka.db?mode=rwc"),
            PathBuf::from("/srv/k/plugin-cache")
        );
        assert_eq!(
            default_dir("sqlite://kartoteka.db?mode=rwc"),
            PathBuf::from("./plugin-cache")
        );
        assert_eq!(
            default_dir("postgres://x@h/db"),
            std::env::temp_dir().join("kartoteka-plugin-cache")
        );
        assert_eq!(
            default_dir("sqlite::memory:"),
            std::env::temp_dir().join("kartoteka-plugin-cache")
        );
    }

    #[test]
    fn a_shared_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(DiskCache::open(&open).is_none());
        assert!(DiskCache::open(&dir.path().join("private")).is_some());
    }
}
