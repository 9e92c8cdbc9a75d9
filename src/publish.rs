//! Writing files so that a reader never sees half of one, and a set of
//! files (the PDFs and their manifest; the chapters and records of an
//! XLIFF import) as one change, even when the process is killed midway.
//!
//! Each file is staged beside its destination (`.renga-new-*`, flushed to
//! disk); the files it replaces are kept as hard links in a
//! `.renga-previous-*` folder; then a journal (`.renga-publish.json`) lists
//! every rename, and only then are the files renamed into place. The
//! journal's removal is the end of the change. A run that finds a journal
//! finishes the renames it lists (every staged file was complete before the
//! journal was written), or, when one cannot be made, puts back the old
//! files; either way it then removes the staged files and kept copies that
//! a killed run leaves behind. Without a journal, leftovers of a run killed
//! before its first rename are removed and nothing else is touched.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;

/// The journal of a change in progress, in the folder it was published from.
pub const JOURNAL: &str = ".renga-publish.json";
const STAGED: &str = ".renga-new-";
const PREVIOUS: &str = ".renga-previous-";

/// Writes `bytes` to a temporary file in `dir`, flushed to disk, ready to be
/// renamed into place with `persist`. It is readable by others, as files
/// the user writes usually are (a bare temporary file is private).
pub fn stage(dir: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(STAGED);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    stage(dir, bytes)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One rename of a change, paths relative to the journal's folder.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    staged: String,
    path: String,
    /// Where the replaced file's old content is kept, if it had any.
    kept: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    previous: String,
    files: Vec<Entry>,
}

/// `path` relative to `dir` (the real path of the folder), `/`-separated:
/// the folder that holds `path` is resolved, the name is kept (a link in
/// its place is replaced, never followed).
fn relative(dir: &Path, path: &Path) -> io::Result<String> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::other(format!(
            "{} is no file path",
            path.display()
        )));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    parent
        .canonicalize()?
        .join(name)
        .strip_prefix(dir)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .map_err(|_| io::Error::other(format!("{} is not in {}", path.display(), dir.display())))
}

/// For tests only: `RENGA_TEST_KILL_PUBLISH_AFTER=N` ends the process
/// without any clean-up after N renames of a publish, as a kill would.
fn killed_after(renames: usize) {
    if std::env::var("RENGA_TEST_KILL_PUBLISH_AFTER").is_ok_and(|n| n == renames.to_string()) {
        std::process::exit(137);
    }
}

/// Renames staged files into place as one change: when a rename fails, the
/// files already replaced get their old content back (and new ones are
/// removed), so the files are left as they were; when the process is
/// killed midway, the next [`recover`] of `dir` finishes the change. `dir`
/// holds the journal and the kept old files; every destination is in it
/// or in a folder below it.
pub fn publish(dir: &Path, files: Vec<(NamedTempFile, PathBuf)>) -> io::Result<()> {
    let backup = tempfile::Builder::new().prefix(PREVIOUS).tempdir_in(dir)?;
    let dir = &dir.canonicalize()?;
    let mut entries = Vec::new();
    let mut olds = Vec::new();
    for (i, (tmp, path)) in files.iter().enumerate() {
        let old = keep_old(path, &backup.path().join(i.to_string()))?;
        entries.push(Entry {
            staged: relative(dir, tmp.path())?,
            path: relative(dir, path)?,
            kept: old.as_deref().map(|o| relative(dir, o)).transpose()?,
        });
        olds.push(old);
    }
    let journal = Journal {
        previous: relative(dir, backup.path())?,
        files: entries,
    };
    let text = serde_json::to_vec_pretty(&journal).map_err(io::Error::other)?;
    stage(dir, &text)?
        .persist(dir.join(JOURNAL))
        .map_err(|e| e.error)?;
    // (destination, where its old content is kept, if it had any)
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for (i, ((tmp, path), old)) in files.into_iter().zip(olds).enumerate() {
        killed_after(i);
        match tmp.persist(&path) {
            Ok(_) => done.push((path, old)),
            Err(err) => {
                let err = err.error;
                for (path, old) in done.into_iter().rev() {
                    let _ = match old {
                        Some(old) => std::fs::rename(old, &path),
                        None => std::fs::remove_file(&path),
                    };
                }
                let _ = std::fs::remove_file(dir.join(JOURNAL));
                return Err(io::Error::new(
                    err.kind(),
                    format!("{}: {err}", path.display()),
                ));
            }
        }
    }
    // The end of the change; the kept copies go with `backup`.
    std::fs::remove_file(dir.join(JOURNAL))?;
    Ok(())
}

/// Keeps the file at `path` (if any) at `keep`, leaving `path` in place.
fn keep_old(path: &Path, keep: &Path) -> io::Result<Option<PathBuf>> {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
        // A folder in the way: the rename will fail and nothing is replaced.
        Ok(meta) if meta.is_dir() => Ok(None),
        Ok(_) => {
            if std::fs::hard_link(path, keep).is_err() {
                std::fs::copy(path, keep)?;
            }
            Ok(Some(keep.to_path_buf()))
        }
    }
}

/// What [`recover`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Files an interrupted change put in place now.
    pub finished: usize,
    /// Files put back as they were, when the change could not be finished.
    pub undone: usize,
    /// Staged files and kept copies removed.
    pub removed: usize,
}

/// Finishes (or, failing that, undoes) a change that a killed run left in
/// `dir`, then removes every staged file and kept copy left behind, in
/// `dir` and the folders up to two levels below it (chapter folders). A
/// journal that renga did not write (a path that leaves `dir`, goes
/// through a link or into `.git`, or a staged name renga never uses) is an
/// error, and nothing is touched.
pub fn recover(dir: &Path) -> io::Result<Recovered> {
    let mut report = Recovered::default();
    let journal_path = dir.join(JOURNAL);
    match std::fs::symlink_metadata(&journal_path) {
        Ok(meta) if meta.is_file() => {
            let bytes = std::fs::read(&journal_path)?;
            let journal: Journal = serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::other(format!("{}: {e}", journal_path.display())))?;
            check_journal(dir, &journal).map_err(|why| {
                io::Error::other(format!(
                    "{} is no journal renga wrote ({why}); remove it",
                    journal_path.display()
                ))
            })?;
            replay(dir, &journal, &mut report);
            std::fs::remove_file(&journal_path)?;
        }
        Ok(_) => {
            return Err(io::Error::other(format!(
                "{} is not a file; remove it",
                journal_path.display()
            )));
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    remove_leftovers(dir, 0, &mut report);
    Ok(report)
}

/// Finishes the renames; if one fails, puts every destination back.
fn replay(dir: &Path, journal: &Journal, report: &mut Recovered) {
    let mut failed = false;
    for entry in &journal.files {
        let staged = dir.join(&entry.staged);
        if staged.exists() {
            if std::fs::rename(&staged, dir.join(&entry.path)).is_err() {
                failed = true;
                break;
            }
            report.finished += 1;
        }
    }
    if failed {
        report.finished = 0;
        for entry in &journal.files {
            let path = dir.join(&entry.path);
            let put_back = match &entry.kept {
                Some(kept) => std::fs::rename(dir.join(kept), &path),
                // New in this change: it goes, unless it was never renamed.
                None if !dir.join(&entry.staged).exists() => std::fs::remove_file(&path),
                None => Ok(()),
            };
            if put_back.is_ok() {
                report.undone += 1;
            }
        }
    }
}

/// Every path of the journal stays in `dir`, outside `.git`, through no
/// link; staged files are renga's and beside their destination; kept
/// copies are in the journal's own folder of them.
fn check_journal(dir: &Path, journal: &Journal) -> Result<(), String> {
    let plain = |rel: &str| -> Result<(), String> {
        let path = Path::new(rel);
        let ok = !rel.is_empty()
            && path.components().all(|c| match c {
                Component::Normal(name) => !name.eq_ignore_ascii_case(".git"),
                _ => false,
            });
        if !ok {
            return Err(format!("`{rel}` is not a plain path inside the folder"));
        }
        // No link on the way: the folders are real folders.
        let mut prefix = dir.to_path_buf();
        for c in path.parent().into_iter().flat_map(Path::components) {
            prefix.push(c);
            match std::fs::symlink_metadata(&prefix) {
                Ok(m) if m.is_dir() => {}
                _ => return Err(format!("`{rel}` is not in a folder of the project")),
            }
        }
        Ok(())
    };
    let name = |rel: &str| {
        Path::new(rel)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
    };
    plain(&journal.previous)?;
    if Path::new(&journal.previous).parent() != Some(Path::new(""))
        || !name(&journal.previous).is_some_and(|n| n.starts_with(PREVIOUS))
    {
        return Err(format!(
            "`{}` is not a folder of kept files",
            journal.previous
        ));
    }
    for entry in &journal.files {
        plain(&entry.staged)?;
        plain(&entry.path)?;
        if !name(&entry.staged).is_some_and(|n| n.starts_with(STAGED))
            || Path::new(&entry.staged).parent() != Path::new(&entry.path).parent()
        {
            return Err(format!(
                "`{}` is not a staged file of `{}`",
                entry.staged, entry.path
            ));
        }
        if let Some(kept) = &entry.kept
            && Path::new(kept).parent() != Some(Path::new(&journal.previous))
        {
            return Err(format!("`{kept}` is not in `{}`", journal.previous));
        }
    }
    Ok(())
}

/// Removes staged files and folders of kept copies in `dir` and below,
/// never following links or entering `.git`.
fn remove_leftovers(dir: &Path, depth: usize, report: &mut Recovered) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.starts_with(STAGED) && kind.is_file() {
            if std::fs::remove_file(entry.path()).is_ok() {
                report.removed += 1;
            }
        } else if name.starts_with(PREVIOUS) && kind.is_dir() {
            if std::fs::remove_dir_all(entry.path()).is_ok() {
                report.removed += 1;
            }
        } else if kind.is_dir() && depth < 2 && !name.eq_ignore_ascii_case(".git") {
            remove_leftovers(&entry.path(), depth + 1, report);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn written_files_replace_the_old_and_are_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        std::fs::write(&path, b"old").unwrap();
        super::write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_failed_rename_puts_back_what_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&a, b"old a").unwrap();
        // `b` is new; a folder stands where `c` should go.
        std::fs::create_dir(&c).unwrap();
        let files = vec![
            (super::stage(dir.path(), b"new a").unwrap(), a.clone()),
            (super::stage(dir.path(), b"new b").unwrap(), b.clone()),
            (super::stage(dir.path(), b"new c").unwrap(), c.clone()),
        ];
        let err = super::publish(dir.path(), files).unwrap_err();
        assert!(err.to_string().contains("/c"), "{err}");
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
        assert!(!b.exists());
        assert!(c.is_dir());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_journal_renga_did_not_write_is_refused_and_nothing_moves() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".renga-new-x"), b"evil").unwrap();
        for journal in [
            r#"{"previous": ".renga-previous-1", "files": [{"staged": ".renga-new-x", "path": "../x", "kept": null}]}"#,
            r#"{"previous": ".renga-previous-1", "files": [{"staged": ".renga-new-x", "path": ".git/config", "kept": null}]}"#,
            r#"{"previous": ".renga-previous-1", "files": [{"staged": "report.toml", "path": "x", "kept": null}]}"#,
            r#"{"previous": "/tmp", "files": []}"#,
        ] {
            std::fs::write(dir.path().join(super::JOURNAL), journal).unwrap();
            assert!(super::recover(dir.path()).is_err(), "{journal}");
            assert!(dir.path().join(".renga-new-x").exists());
        }
    }
}
