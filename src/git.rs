//! The versions `renga diff` compares: a project folder as it is, or the
//! project as a git revision has it, read through git itself into a
//! temporary folder. The working tree never needs to be clean.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    /// revision of the project at `project`.
    pub fn open(spec: &str, project: &Path) -> Result<Self, String> {
        let path = Path::new(spec);
        if path.is_dir() {
            Ok(Self::folder(path, spec))
        } else {
            revision(project, spec)
        }
    }
}

/// Runs git in `dir` and returns its standard output, or its complaint.
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

/// The project at `project` as revision `rev` has it, written to a
/// temporary folder.
pub fn revision(project: &Path, rev: &str) -> Result<Version, String> {
    if !project.is_dir() {
        return Err(format!("{} is not a folder", project.display()));
    }
    git(project, &["rev-parse", "--show-toplevel"]).map_err(|_| {
        format!(
            "`{rev}` is neither a folder nor a git revision: {} is not in a git repository",
            project.display()
        )
    })?;
    let commit = git(
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
    .map_err(|_| {
        let hint = if rev == "HEAD" {
            " (the repository has no commits yet)"
        } else {
            ""
        };
        format!("unknown revision `{rev}`{hint}: not a folder, branch, tag or commit")
    })?;
    // Paths below the project folder, relative to it (git lists from the
    // folder it runs in).
    let listing = git(project, &["ls-tree", "-r", "-z", &commit])?;
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (mode, kind, object) = (meta.next(), meta.next(), meta.next());
        // Files only: no submodules, and no symbolic links, which could
        // point anywhere.
        if kind == Some("blob")
            && mode != Some("120000")
            && let Some(object) = object
        {
            files.push((object.to_string(), path.to_string()));
        }
    }
    let short = &commit[..commit.len().min(7)];
    if !files.iter().any(|(_, p)| p == crate::project::MANIFEST) {
        return Err(format!(
            "`{rev}` ({short}) has no {} in {}: the project is not in that revision",
            crate::project::MANIFEST,
            project.display()
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix("renga-diff-")
        .tempdir()
        .map_err(|err| format!("cannot create a temporary folder: {err}"))?;
    let contents = cat_files(project, files.iter().map(|f| f.0.as_str()))?;
    for ((_, path), bytes) in files.iter().zip(contents) {
        let target = dir.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| format!("cannot write {}: {err}", target.display()))?;
        }
        std::fs::write(&target, bytes)
            .map_err(|err| format!("cannot write {}: {err}", target.display()))?;
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
    // Written from another thread so that a full output pipe cannot block us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut out)
        .map_err(|err| format!("cannot read from git: {err}"))?;
    let status = child.wait().map_err(|err| format!("git failed: {err}"))?;
    let _ = writer.join();
    if !status.success() {
        return Err("git cat-file failed".into());
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
