//! Every file renga reads from a project goes through here: it is resolved
//! to its real path (all symbolic links followed) and read only if that path
//! lies inside the project folder and is a regular file. CI builds pull
//! requests on machines that hold secrets, so a chapter that is a link to
//! `/proc/self/environ` must be refused, not typeset. Links that stay inside
//! the project keep working.
//!
//! The check is made where each file is opened, not once per folder: a link
//! can sit at any depth (a chapter folder, a data folder, the file itself).

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Location};

/// A project folder, by its real path.
#[derive(Debug, Clone)]
pub struct Root {
    /// The folder as given, made absolute, for reading link targets.
    given: PathBuf,
    /// Its real path (the given one when it cannot be resolved, in which
    /// case every read fails as missing).
    real: PathBuf,
}

/// Why a project file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing by that name (also a link to something that does not exist).
    Missing {
        dangling: Option<PathBuf>,
    },
    /// The path, or a folder on it, is a link that leads out of the project.
    Outside {
        link: String,
        target: PathBuf,
    },
    /// The path, or where a link on it leads, lies under `.git` in the
    /// project, where git keeps its own files and CI its checkout token
    /// (`.git/config`): never read, whatever the link. `target` is where
    /// the link leads, relative to the project (`None` when the path itself
    /// names `.git`).
    Secret {
        link: String,
        target: Option<PathBuf>,
    },
    /// Not a regular file (a folder, a FIFO, a device).
    NotAFile,
    /// The path is not a plain relative path inside the project.
    BadPath,
    Io(io::Error),
    /// The bytes are not UTF-8; `at` is where the first bad byte is.
    InvalidUtf8 {
        at: Location,
        byte: u8,
    },
}

impl Root {
    pub fn new(root: &Path) -> Self {
        Self {
            given: std::path::absolute(root)
                .map(|p| lexical(&p))
                .unwrap_or_else(|_| root.to_path_buf()),
            real: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The project folder's real path.
    pub fn real(&self) -> &Path {
        &self.real
    }

    /// The real path of `rel` (relative to the project, `/`-separated),
    /// refused when it leads outside the project or is not a regular file.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf, ReadError> {
        let real = self.real_path(rel)?;
        let meta = std::fs::metadata(&real).map_err(ReadError::Io)?;
        if !meta.is_file() {
            return Err(ReadError::NotAFile);
        }
        Ok(real)
    }

    /// The names in folder `rel`, sorted; refused like files when the folder
    /// is a link that leads outside the project.
    pub fn list(&self, rel: &str) -> Result<Vec<String>, ReadError> {
        let real = self.real_path(rel)?;
        let mut names: Vec<String> = std::fs::read_dir(real)
            .map_err(ReadError::Io)?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Whether `rel` is a folder inside the project (following links that
    /// stay inside); an error when it is a link that leads outside (or
    /// into `.git`).
    pub fn is_dir(&self, rel: &str) -> Result<bool, ReadError> {
        match self.real_path(rel) {
            Ok(real) => Ok(real.is_dir()),
            Err(err) if err.is_refusal() => Err(err),
            Err(_) => Ok(false),
        }
    }

    fn real_path(&self, rel: &str) -> Result<PathBuf, ReadError> {
        let rel_path = Path::new(rel);
        if rel.is_empty()
            || !rel_path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(ReadError::BadPath);
        }
        if under_git(rel_path) {
            return Err(ReadError::Secret {
                link: rel.to_string(),
                target: None,
            });
        }
        let path = self.given.join(rel_path);
        let real = match path.canonicalize() {
            Ok(real) => real,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                // A dangling link leaves an entry behind; say where it points.
                let dangling = path
                    .symlink_metadata()
                    .ok()
                    .filter(|m| m.file_type().is_symlink())
                    .and_then(|_| std::fs::read_link(&path).ok());
                // A link on the way that leaves the project is refused
                // even when its target does not exist.
                if let Some(outside) = self.first_link_outside(rel_path) {
                    return Err(outside);
                }
                return Err(ReadError::Missing { dangling });
            }
            Err(err) => return Err(ReadError::Io(err)),
        };
        let Ok(inside) = real.strip_prefix(&self.real) else {
            return Err(self
                .first_link_outside(rel_path)
                .unwrap_or(ReadError::Outside {
                    link: rel.to_string(),
                    target: real,
                }));
        };
        if under_git(inside) {
            return Err(self
                .first_link_into_git(rel_path)
                .unwrap_or(ReadError::Secret {
                    link: rel.to_string(),
                    target: Some(inside.to_path_buf()),
                }));
        }
        Ok(real)
    }

    /// The first link on `rel`'s way whose real path lies under `.git`.
    fn first_link_into_git(&self, rel: &Path) -> Option<ReadError> {
        let mut prefix = PathBuf::new();
        for component in rel.components() {
            prefix.push(component);
            let path = self.given.join(&prefix);
            let is_link = path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink());
            if !is_link {
                continue;
            }
            let leads = path.canonicalize().ok()?;
            if let Ok(inside) = leads.strip_prefix(&self.real)
                && under_git(inside)
            {
                return Some(ReadError::Secret {
                    link: prefix.to_string_lossy().replace('\\', "/"),
                    target: Some(inside.to_path_buf()),
                });
            }
        }
        None
    }

    /// The first link on `rel`'s way (a folder or the file itself) whose
    /// target is outside the project.
    fn first_link_outside(&self, rel: &Path) -> Option<ReadError> {
        let mut prefix = PathBuf::new();
        for component in rel.components() {
            prefix.push(component);
            let path = self.given.join(&prefix);
            let Ok(meta) = path.symlink_metadata() else {
                return None;
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            // Where the link leads: resolved when it exists, else as written
            // against the link's folder.
            let target = std::fs::read_link(&path).unwrap_or_default();
            let leads = path.canonicalize().unwrap_or_else(|_| {
                let base = path.parent().unwrap_or(&self.given);
                lexical(&base.join(&target))
            });
            if !leads.starts_with(&self.real) && !leads.starts_with(&self.given) {
                return Some(ReadError::Outside {
                    link: prefix.to_string_lossy().replace('\\', "/"),
                    target: leads,
                });
            }
        }
        None
    }

    /// Where writing `rel` must go: the real path of the file, so that a
    /// file that is a link to another file inside the project is written
    /// through the link (the link stays a link, as a text editor keeps it);
    /// a new file goes in its folder's real path. Refused like a read when
    /// the path or a folder on it leads outside the project, or when it is
    /// a link to nothing.
    pub fn write_target(&self, rel: &str) -> Result<PathBuf, ReadError> {
        match self.resolve(rel) {
            Err(ReadError::Missing { dangling: None }) => {
                let path = Path::new(rel);
                let (Some(name), Some(folder)) = (path.file_name(), path.parent()) else {
                    return Err(ReadError::BadPath);
                };
                let folder = folder.to_string_lossy();
                if folder.is_empty() {
                    return Ok(self.real.join(name));
                }
                Ok(self.real_path(&folder)?.join(name))
            }
            other => other,
        }
    }

    /// The bytes of `rel`.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, ReadError> {
        let real = self.resolve(rel)?;
        std::fs::read(real).map_err(ReadError::Io)
    }

    /// The text of `rel`, which must be UTF-8.
    pub fn read_text(&self, rel: &str) -> Result<String, ReadError> {
        let bytes = self.read(rel)?;
        String::from_utf8(bytes).map_err(|err| {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.as_bytes();
            // The valid prefix is text: count lines and characters in it.
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            ReadError::InvalidUtf8 {
                at: Location::from_offset(rel, prefix, valid).with_len(1),
                byte: bytes[valid],
            }
        })
    }

    /// Whether `rel` names an entry at all (a dangling or outside link counts:
    /// reading it then says what is wrong, instead of "missing").
    pub fn has_entry(&self, rel: &str) -> bool {
        self.given.join(rel).symlink_metadata().is_ok()
    }
}

/// Whether a path relative to the project has a `.git` part (in any case:
/// file systems that ignore case open `.GIT/config` as `.git/config`).
fn under_git(rel: &Path) -> bool {
    rel.components().any(|c| match c {
        Component::Normal(name) => name.eq_ignore_ascii_case(".git"),
        _ => false,
    })
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl ReadError {
    /// A path renga refuses to read whatever is there (a link out of the
    /// project, or into `.git`), as opposed to one that is missing or broken.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ReadError::Outside { .. } | ReadError::Secret { .. })
    }

    /// The error as a diagnostic about `rel`.
    pub fn diagnostic(&self, rel: &str) -> Diagnostic {
        match self {
            ReadError::Secret { link, target } => {
                let what = match target {
                    Some(target) => format!("{link} is a link to {}, under `.git`", target.display()),
                    None => format!("{link} lies under `.git`"),
                };
                Diagnostic::error(
                    "secret-path",
                    format!("{what}: renga never reads anything under `.git`, where git keeps its settings and CI its credentials"),
                )
                .at(Location::file(link))
                .hint("copy the text into the project instead of linking to it")
            }
            ReadError::Outside { link, target } => Diagnostic::error(
                "outside-project",
                format!(
                    "{link} is a link to {}, outside the project: renga reads only files inside the project folder",
                    target.display()
                ),
            )
            .at(Location::file(link))
            .hint("copy the file into the project instead of linking to it"),
            ReadError::Missing {
                dangling: Some(target),
            } => Diagnostic::error(
                "io",
                format!("cannot read {rel}: it is a link to {}, which does not exist", target.display()),
            )
            .at(Location::file(rel)),
            ReadError::Missing { dangling: None } => {
                Diagnostic::error("io", format!("cannot read {rel}: no such file"))
                    .at(Location::file(rel))
            }
            ReadError::NotAFile => {
                Diagnostic::error("io", format!("cannot read {rel}: it is not a regular file"))
                    .at(Location::file(rel))
            }
            ReadError::BadPath => Diagnostic::error(
                "io",
                format!("cannot read {rel}: not a path inside the project"),
            )
            .at(Location::file(rel)),
            ReadError::Io(err) => {
                Diagnostic::error("io", format!("cannot read {rel}: {err}")).at(Location::file(rel))
            }
            ReadError::InvalidUtf8 { at, byte } => Diagnostic::error(
                "utf8",
                format!(
                    "{rel} is not UTF-8 text: byte 0x{byte:02x} at line {}, column {} is not UTF-8",
                    at.line, at.column
                ),
            )
            .at(at.clone())
            .hint("save the file as UTF-8"),
        }
    }

    /// A one-line message, for typst's file errors.
    pub fn message(&self, rel: &str) -> String {
        self.diagnostic(rel).message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_inside_are_followed_and_links_outside_refused() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "token").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/real.md"), "text").unwrap();
        symlink("real.md", root.join("a/inside.md")).unwrap();
        symlink(outside.path().join("secret"), root.join("a/leak.md")).unwrap();
        symlink(outside.path(), root.join("b")).unwrap();
        symlink("../../nowhere", root.join("a/dangling.md")).unwrap();
        let r = Root::new(root);
        assert_eq!(r.read_text("a/inside.md").unwrap(), "text");
        match r.read_text("a/leak.md") {
            Err(ReadError::Outside { link, target }) => {
                assert_eq!(link, "a/leak.md");
                assert_eq!(
                    target,
                    outside.path().join("secret").canonicalize().unwrap()
                );
            }
            other => panic!("{other:?}"),
        }
        // A linked folder is named as the link, not the file under it.
        match r.read_text("b/secret") {
            Err(ReadError::Outside { link, .. }) => assert_eq!(link, "b"),
            other => panic!("{other:?}"),
        }
        // A link out of the project that leads nowhere is still refused.
        assert!(matches!(
            r.read_text("a/dangling.md"),
            Err(ReadError::Outside { .. })
        ));
        assert!(matches!(r.read_text("../x"), Err(ReadError::BadPath)));
        assert!(matches!(r.read_text("a"), Err(ReadError::NotAFile)));
        assert!(matches!(r.list("b"), Err(ReadError::Outside { .. })));
        assert_eq!(r.list("a").unwrap().len(), 4);
    }

    #[cfg(unix)]
    #[test]
    fn nothing_under_git_is_read_by_any_path() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "token").unwrap();
        std::fs::create_dir_all(root.join("ch")).unwrap();
        symlink("../.git/config", root.join("ch/en.md")).unwrap();
        symlink(".git", root.join("g")).unwrap();
        let r = Root::new(root);
        for (rel, link) in [
            (".git/config", ".git/config"),
            (".GIT/config", ".GIT/config"),
            ("ch/en.md", "ch/en.md"),
            ("g/config", "g"),
        ] {
            match r.read_text(rel) {
                Err(ReadError::Secret { link: l, .. }) => assert_eq!(l, link, "{rel}"),
                other => panic!("{rel}: {other:?}"),
            }
        }
        assert!(matches!(r.list("g"), Err(ReadError::Secret { .. })));
        assert!(matches!(r.is_dir("g"), Err(ReadError::Secret { .. })));
    }

    #[test]
    fn invalid_utf8_is_located_at_its_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.md"), b"ok\nab\xe3\x81\xaf\xffz\n").unwrap();
        match Root::new(dir.path()).read_text("x.md") {
            Err(ReadError::InvalidUtf8 { at, byte }) => {
                assert_eq!((at.line, at.column, byte), (2, 4, 0xff));
            }
            other => panic!("{other:?}"),
        }
    }
}
