//! Writing files so that a reader never sees half of one: the bytes go to
//! a temporary file beside the destination, which is renamed into place.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Writes `bytes` to a temporary file in `dir`, flushed to disk, ready to be
/// renamed into place with `persist`. It is readable by others, as files
/// the user writes usually are (a bare temporary file is private).
pub fn stage(dir: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
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

/// Renames staged files into place as one change: when a rename fails, the
/// files already replaced get their old content back (and new ones are
/// removed), so `dir` is left as it was. Old files are kept as hard links
/// (copies where links are not possible) in a temporary folder in `dir`
/// until every rename succeeded.
pub fn publish(dir: &Path, files: Vec<(NamedTempFile, PathBuf)>) -> io::Result<()> {
    let backup = tempfile::Builder::new()
        .prefix(".renga-previous-")
        .tempdir_in(dir)?;
    // (destination, where its old content is kept, if it had any)
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for (i, (tmp, path)) in files.into_iter().enumerate() {
        let result = keep_old(&path, &backup.path().join(i.to_string()))
            .and_then(|old| tmp.persist(&path).map(|_| old).map_err(|e| e.error));
        match result {
            Ok(old) => done.push((path, old)),
            Err(err) => {
                for (path, old) in done.into_iter().rev() {
                    let _ = match old {
                        Some(old) => std::fs::rename(old, &path),
                        None => std::fs::remove_file(&path),
                    };
                }
                return Err(io::Error::new(
                    err.kind(),
                    format!("{}: {err}", path.display()),
                ));
            }
        }
    }
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
}
