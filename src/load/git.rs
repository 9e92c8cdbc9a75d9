//! The versions `renga diff` compares: a project folder as it is, or the
//! project as a git revision has it, read through git itself into a
//! temporary folder. The working tree never needs to be clean.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::diag::Diagnostic;

/// A version of the project, readable as a folder.
#[derive(Debug)]
pub struct Version {
    /// How to name it to a person: `HEAD (1a2b3c4)`, `working tree`, a path.
    pub label: String,
    /// The project's root folder.
    pub root: PathBuf,
    /// The revision's files, removed when the version is dropped.
    _checkout: Option<tempfile::TempDir>,
}

impl Version {
    /// A project folder as it is now.
    pub fn folder(root: &Path, label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            root: root.to_path_buf(),
            _checkout: None,
        }
    }

    /// `spec` as a folder if one exists by that name, else as a git
    /// revision of the project at `project`. A name that is both is an
    /// error: which one is meant cannot be guessed.
    pub fn open(spec: &str, project: &Path) -> Result<Self, Diagnostic> {
        let path = Path::new(spec);
        if !path.is_dir() {
            return revision(project, spec);
        }
        if let Ok(commit) = resolve(project, spec) {
            let short = &commit[..commit.len().min(7)];
            return Err(Diagnostic::error(
                "diff-ambiguous",
                format!("`{spec}` is both a folder and a git revision ({short})"),
            )
            .hint(format!(
                "write `./{spec}` for the folder or `{spec}^{{commit}}` for the revision"
            )));
        }
        Ok(Self::folder(path, spec))
    }
}

/// The oldest git that has everything renga runs (`rev-parse --end-of-options`).
const GIT_MINIMUM: (u32, u32) = (2, 24);

/// Checks that git is there and new enough, once per run.
fn check_git() -> Result<(), Diagnostic> {
    let hint = "install git 2.24 or newer, or compare two project folders: renga diff OLD NEW";
    let out = match Command::new("git")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(err) => {
            let what = if err.kind() == std::io::ErrorKind::NotFound {
                "git is not installed (not found on PATH)".to_string()
            } else {
                format!("git cannot be run: {err}")
            };
            return Err(Diagnostic::error(
                "git",
                format!("renga diff reads revisions with git, and {what}"),
            )
            .hint(hint));
        }
    };
    let text = line(out.stdout);
    // "git version 2.47.3", "git version 2.39.5 (Apple Git-154)"
    let version = text.strip_prefix("git version ").and_then(|v| {
        let mut parts = v.split(|c: char| !c.is_ascii_digit());
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    });
    match version {
        Some(v) if v >= GIT_MINIMUM => Ok(()),
        _ => Err(Diagnostic::error(
            "git",
            format!(
                "renga diff needs git {}.{} or newer to read revisions; `git --version` says `{text}`",
                GIT_MINIMUM.0, GIT_MINIMUM.1
            ),
        )
        .hint(hint)),
    }
}

/// Runs git in `dir` and returns its standard output, or its complaint.
/// Both outputs are read as they come, so neither can fill up and stall git.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run git: {err}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn line(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// The commit `rev` names in the repository of `project`.
fn resolve(project: &Path, rev: &str) -> Result<String, String> {
    git(
        project,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map(line)
}

/// Why a path from a git tree cannot be written into a checkout: it is
/// absolute, leaves the folder (`..`), is not plain (`.`, empty parts), or
/// lies under `.git`, where git keeps its own files.
fn unsafe_path(path: &str) -> Option<&'static str> {
    if path.starts_with('/') {
        return Some("it is absolute");
    }
    for part in path.split('/') {
        match part {
            "" | "." => return Some("it has an empty or `.` part"),
            ".." => return Some("it leaves the folder (`..`)"),
            _ if part.eq_ignore_ascii_case(".git") => return Some("it lies under `.git`"),
            _ => {}
        }
    }
    None
}

fn revision_error(message: impl Into<String>) -> Diagnostic {
    Diagnostic::error("diff-revision", message)
}

/// The project at `project` as revision `rev` has it, written to a
/// temporary folder.
pub fn revision(project: &Path, rev: &str) -> Result<Version, Diagnostic> {
    if !project.is_dir() {
        return Err(revision_error(format!(
            "{} is not a folder",
            project.display()
        )));
    }
    check_git()?;
    git(project, &["rev-parse", "--show-toplevel"]).map_err(|_| {
        revision_error(format!(
            "`{rev}` is neither a folder nor a git revision: {} is not in a git repository",
            project.display()
        ))
    })?;
    let commit = resolve(project, rev).map_err(|_| {
        let hint = if rev == "HEAD" {
            " (the repository has no commits yet)"
        } else {
            ""
        };
        revision_error(format!(
            "unknown revision `{rev}`{hint}: not a folder, branch, tag or commit"
        ))
    })?;
    // Paths below the project folder, relative to it (git lists from the
    // folder it runs in).
    let listing = git(project, &["ls-tree", "-r", "-z", &commit]).map_err(revision_error)?;
    let short = &commit[..commit.len().min(7)];
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let meta = String::from_utf8_lossy(&entry[..tab]);
        let mut meta = meta.split(' ');
        let (mode, kind, object) = (meta.next(), meta.next(), meta.next());
        // Files only: no submodules, and no symbolic links, which could
        // point anywhere.
        if kind != Some("blob") || mode == Some("120000") {
            continue;
        }
        let Some(object) = object else { continue };
        // Every path is checked before anything is written.
        let path = std::str::from_utf8(&entry[tab + 1..]).map_err(|_| {
            revision_error(format!(
                "`{rev}` ({short}) has a file whose name is not UTF-8: {}",
                String::from_utf8_lossy(&entry[tab + 1..])
            ))
        })?;
        if let Some(why) = unsafe_path(path) {
            return Err(revision_error(format!(
                "`{rev}` ({short}) has a file `{path}` that renga will not write: {why}; nothing was written"
            ))
            .hint("a tree like this is made by hand, not by `git add`: check where the revision came from"));
        }
        files.push((object.to_string(), path.to_string()));
    }
    if !files
        .iter()
        .any(|(_, p)| p == crate::load::project::MANIFEST)
    {
        return Err(revision_error(format!(
            "`{rev}` ({short}) has no {} in {}: the project is not in that revision",
            crate::load::project::MANIFEST,
            project.display()
        )));
    }
    let dir = tempfile::Builder::new()
        .prefix("renga-diff-")
        .tempdir()
        .map_err(|err| revision_error(format!("cannot create a temporary folder: {err}")))?;
    let contents =
        cat_files(project, files.iter().map(|f| f.0.as_str())).map_err(revision_error)?;
    if contents.len() != files.len() {
        return Err(revision_error(format!(
            "git gave {} of the {} files of `{rev}` ({short})",
            contents.len(),
            files.len()
        )));
    }
    for ((_, path), bytes) in files.iter().zip(contents) {
        let target = dir.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|err| {
                revision_error(format!("cannot write {}: {err}", target.display()))
            })?;
        }
        std::fs::write(&target, bytes)
            .map_err(|err| revision_error(format!("cannot write {}: {err}", target.display())))?;
    }
    Ok(Version {
        label: format!("{rev} ({short})"),
        root: dir.path().to_path_buf(),
        _checkout: Some(dir),
    })
}

/// The contents of git objects, in order, from one `git cat-file --batch`.
fn cat_files<'a>(
    dir: &Path,
    objects: impl Iterator<Item = &'a str>,
) -> Result<Vec<Vec<u8>>, String> {
    let input: String = objects.map(|o| format!("{o}\n")).collect();
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run git: {err}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // Written and read from other threads so that no full pipe (however
    // much git complains) can stall git or us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let complaint = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let mut out = Vec::new();
    let read = child.stdout.take().expect("piped").read_to_end(&mut out);
    let status = child.wait().map_err(|err| format!("git failed: {err}"))?;
    let _ = writer.join();
    let complaint = complaint.join().unwrap_or_default();
    read.map_err(|err| format!("cannot read from git: {err}"))?;
    if !status.success() {
        let complaint = String::from_utf8_lossy(&complaint);
        // The first lines say what went wrong; the rest can be very long.
        let first: Vec<&str> = complaint.lines().take(5).collect();
        return Err(format!("git cat-file failed: {}", first.join("\n")));
    }
    // Each object: "<oid> blob <size>\n<content>\n".
    let mut contents = Vec::new();
    let mut rest = out.as_slice();
    while !rest.is_empty() {
        let eol = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("unexpected output from git cat-file")?;
        let header = String::from_utf8_lossy(&rest[..eol]).to_string();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("unexpected output from git cat-file: {header}"))?;
        let start = eol + 1;
        let end = start + size;
        if end > rest.len() {
            return Err("git cat-file output was cut short".into());
        }
        contents.push(rest[start..end].to_vec());
        rest = rest.get(end + 1..).unwrap_or(&[]);
    }
    Ok(contents)
}
