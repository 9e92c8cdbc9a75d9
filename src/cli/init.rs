//! `renga init`: a new report project that compiles at once, with an
//! example chapter in both languages that shows every feature.

use std::path::{Path, PathBuf};

use crate::cli::args::InitArgs;
use crate::diag::{self, Diagnostic, Location};
use crate::render::template;

/// The files of a new project, relative to its folder.
const FILES: &[(&str, &str)] = &[
    ("report.toml", include_str!("../../assets/init/report.toml")),
    (
        "chapters/01-getting-started/en.md",
        include_str!("../../assets/init/en.md"),
    ),
    (
        "chapters/01-getting-started/ja.md",
        include_str!("../../assets/init/ja.md"),
    ),
    (
        "chapters/01-getting-started/example.svg",
        include_str!("../../assets/init/example.svg"),
    ),
    (
        "data/sg/example.toml",
        include_str!("../../assets/init/sg.toml"),
    ),
    (
        "data/jp/example.toml",
        include_str!("../../assets/init/jp.toml"),
    ),
    (".gitignore", "/out\n"),
];

pub fn run(args: &InitArgs, quiet: bool) -> i32 {
    match create(&args.dir, !args.bare) {
        Ok(count) => {
            if !quiet {
                eprintln!(
                    "created a report project in {} ({count} files)",
                    args.dir.display()
                );
                eprintln!("next: renga compile {}", shell_word(&args.dir));
            }
            0
        }
        Err(d) => {
            if let Err(err) = diag::emit(&args.dir, &[d], args.diagnostics.format) {
                eprintln!("error: cannot print diagnostics: {err}");
            }
            1
        }
    }
}

/// A path as one word for a POSIX shell, so that the "next:" command can be
/// pasted as printed: `'my report'`, `'it'\''s'`.
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    // A path starting with `-` would read as an option.
    let text = if text.starts_with('-') {
        format!("./{text}")
    } else {
        text.into_owned()
    };
    shlex::try_quote(&text).map_or(text.clone(), |q| q.into_owned())
}

/// Writes the project all at once: it refuses, writing nothing, if any of
/// its files exists, and a failure midway leaves nothing behind, not even the
/// parent folders it made for the project. A new
/// folder is built beside its place and renamed into it; in an existing
/// folder, the files are written to a temporary folder inside it first and
/// then linked into place, and removed again if one cannot be.
pub fn create(dir: &Path, templates: bool) -> Result<usize, Diagnostic> {
    let mut files: Vec<(String, &str)> = FILES.iter().map(|(p, t)| (p.to_string(), *t)).collect();
    if templates {
        files.extend(
            template::DEFAULTS
                .iter()
                .map(|(name, text)| (format!("templates/{name}"), *text)),
        );
    }
    let nothing = "; nothing was written";
    if dir.join("report.toml").symlink_metadata().is_ok() {
        return Err(Diagnostic::error(
            "project-exists",
            format!(
                "{} is already a report project (it has report.toml){nothing}",
                dir.display()
            ),
        )
        .at(Location::file("report.toml")));
    }
    if let Some((path, _)) = files
        .iter()
        .find(|(p, _)| dir.join(p).symlink_metadata().is_ok())
    {
        return Err(Diagnostic::error(
            "init-exists",
            format!("{} already exists{nothing}", dir.join(path).display()),
        )
        .at(Location::file(path.as_str())));
    }
    let existing = dir.symlink_metadata().is_ok();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let stage_in = if existing { dir } else { parent };
    let made = if existing {
        Vec::new()
    } else {
        create_folders(parent).map_err(|e| io_error("create", parent, e))?
    };
    let written = write_all(dir, existing, stage_in, &files);
    if written.is_err() {
        // The folders made for the project go with it, innermost first;
        // `remove_dir` takes only an empty folder, so nothing else goes.
        for folder in made.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    written.map(|()| files.len())
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> Diagnostic {
    Diagnostic::error(
        "io",
        format!(
            "cannot {what} {}: {err}; nothing was written",
            path.display()
        ),
    )
}

/// Creates `folder` and whichever of its parents are missing, and returns
/// the ones it made, outermost first, so that a failure later can remove
/// them again (`create_dir_all` would not say which it made).
fn create_folders(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = folder;
    while at.symlink_metadata().is_err() {
        missing.push(at.to_path_buf());
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => break,
        }
    }
    let mut made = Vec::new();
    for folder in missing.into_iter().rev() {
        match std::fs::create_dir(&folder) {
            Ok(()) => made.push(folder),
            // Made meanwhile by someone else: theirs, not ours to remove.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && folder.is_dir() => {}
            Err(e) => {
                for folder in made.iter().rev() {
                    let _ = std::fs::remove_dir(folder);
                }
                return Err(e);
            }
        }
    }
    Ok(made)
}

/// Stages every file in a temporary folder in `stage_in` and puts them in
/// place: one rename for a new folder, file by file in an existing one.
fn write_all(
    dir: &Path,
    existing: bool,
    stage_in: &Path,
    files: &[(String, &str)],
) -> Result<(), Diagnostic> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".renga-init-");
    // As a folder the user makes: 0777 less the umask (a temporary folder
    // would be private).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let staging = builder
        .tempdir_in(stage_in)
        .map_err(|e| io_error("write in", stage_in, e))?;
    for (path, text) in files {
        let target = staging.path().join(path);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder).map_err(|e| io_error("create", folder, e))?;
        }
        std::fs::write(&target, text).map_err(|e| io_error("write", &target, e))?;
    }
    if existing {
        place_each(staging.path(), dir, files).map_err(|(path, e)| io_error("write", &path, e))?;
    } else {
        // One rename: the folder appears whole or not at all.
        let staged = staging.keep();
        if let Err(err) = std::fs::rename(&staged, dir) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error("create", dir, err));
        }
    }
    Ok(())
}

/// Links every staged file into its place in `dir`, never replacing a file;
/// on a failure, removes the files and folders it made.
fn place_each(
    staged: &Path,
    dir: &Path,
    files: &[(String, &str)],
) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    let mut made_dirs = Vec::new();
    let mut made_files = Vec::new();
    let mut result = Ok(());
    'files: for (path, _) in files {
        let target = dir.join(path);
        let mut folder = dir.to_path_buf();
        let parts: Vec<_> = Path::new(path).components().collect();
        for part in &parts[..parts.len() - 1] {
            folder.push(part);
            if folder.is_dir() {
                continue;
            }
            if let Err(err) = std::fs::create_dir(&folder) {
                result = Err((folder.clone(), err));
                break 'files;
            }
            made_dirs.push(folder.clone());
        }
        // A hard link never replaces an existing file.
        if let Err(err) = std::fs::hard_link(staged.join(path), &target) {
            result = Err((target, err));
            break;
        }
        made_files.push(target);
    }
    if result.is_err() {
        for file in made_files.iter().rev() {
            let _ = std::fs::remove_file(file);
        }
        for folder in made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    result
}
