//! Third-party test fixtures are what their sources published: every file
//! under tests/fixtures is recorded, with its SHA-256, in its folder's
//! SHA256SUMS (the format `sha256sum -c` reads) and matches it, unless the
//! folder's README says it was written for renga.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Every file under `dir`, relative to it, with `/` separators.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let path = rel.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                out.insert(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[test]
fn every_fixture_matches_its_recorded_checksum() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut checked = 0;
    for folder in std::fs::read_dir(&root).unwrap() {
        let dir = folder.unwrap().path();
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS"))
            .unwrap_or_else(|_| panic!("{} has no SHA256SUMS", dir.display()));
        let mut listed = BTreeSet::new();
        for line in sums.lines() {
            let (sum, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not a sha256sum line: {line}"));
            let bytes = std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{name} is listed but unreadable: {e}"));
            let actual: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(actual, sum, "{}/{name} changed", dir.display());
            listed.insert(name.to_string());
            checked += 1;
        }
        // Files of renga's own are said to be in the folder's README.
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
        let own = |f: &str| {
            ["README.md", "SHA256SUMS"].contains(&f)
                || readme
                    .lines()
                    .any(|l| l.contains(&format!("`{f}`")) && l.contains("written for renga"))
        };
        let unlisted: Vec<_> = files(&dir)
            .difference(&listed)
            .filter(|f| !own(f))
            .cloned()
            .collect();
        assert!(
            unlisted.is_empty(),
            "{}: neither in SHA256SUMS nor written for renga: {unlisted:?}",
            dir.display()
        );
    }
    assert!(checked >= 8, "only {checked} files checked");
}
