//! The demo workspace ships inside the binary: `cioscope --demo` works from
//! an installed binary in any folder, with no checkout beside it. On first
//! use the files are written to the user's cache folder (a folder per
//! content, so a newer binary never reads an older demo), then read like
//! any other config.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/demo");

/// The demo's `cioscope.toml`, written out first if needed.
pub fn config_path() -> std::io::Result<PathBuf> {
    let base = dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cioscope");
    let dir = base.join(format!(
        "demo-{}-{:016x}",
        env!("CARGO_PKG_VERSION"),
        fingerprint()
    ));
    let config = dir.join("cioscope.toml");
    if dir.join(".complete").exists() {
        return Ok(config);
    }
    // Written aside and moved in place, so a half-written demo is never read
    // (two processes starting at once each write their own and one wins).
    std::fs::create_dir_all(&base)?;
    static ATTEMPT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let attempt = ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let staging = base.join(format!(".demo-{}-{attempt}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    write_dir(&DEMO, &staging)?;
    std::fs::write(staging.join(".complete"), b"")?;
    match std::fs::rename(&staging, &dir) {
        Ok(()) => {}
        Err(_) if dir.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
        }
        Err(e) => return Err(e),
    }
    Ok(config)
}

fn write_dir(d: &Dir<'_>, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for f in d.files() {
        let name = f.path().file_name().unwrap_or_default();
        std::fs::write(to.join(name), f.contents())?;
    }
    for sub in d.dirs() {
        let name = sub.path().file_name().unwrap_or_default();
        write_dir(sub, &to.join(name))?;
    }
    Ok(())
}

/// A hash of every embedded path and byte.
fn fingerprint() -> u64 {
    fn walk(d: &Dir<'_>, h: &mut std::collections::hash_map::DefaultHasher) {
        for f in d.files() {
            f.path().hash(h);
            f.contents().hash(h);
        }
        for sub in d.dirs() {
            walk(sub, h);
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    walk(&DEMO, &mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_demo_is_the_one_in_the_tree() {
        let path = super::config_path().unwrap();
        let written = std::fs::read(&path).unwrap();
        let tree = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo/cioscope.toml"
        ))
        .unwrap();
        assert_eq!(written, tree);
        let dir = path.parent().unwrap();
        assert!(dir.join("customerio/people").is_dir());
        assert!(dir.join("shop.sql").is_file());
    }
}
