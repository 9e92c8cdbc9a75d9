//! `renga watch`: rebuild on every save, keeping one set of typst sources
//! alive so that typst lays out again only what changed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};
use sha2::{Digest, Sha256};

use crate::cli::args::WatchArgs;
use crate::cli::compile::{editions, write_outputs};
use crate::diag::{self, Diagnostics, Format};
use crate::pipeline::{self, Edition, EditionOutput, Prepared, Timings};
use crate::typeset::world::{Sources, file_id};

/// What one rebuild did.
#[derive(Debug, Default)]
pub struct Rebuild {
    /// Editions laid out again, with their page counts.
    pub built: Vec<(Edition, usize)>,
    pub diagnostics: Diagnostics,
    pub elapsed: Duration,
    /// Set when an error kept the last good PDFs in place.
    pub failed: bool,
    /// Set when the PDFs could not be written.
    pub write_error: Option<String>,
}

/// A watch session: the sources typst saw last, and the last good PDFs.
pub struct Session {
    root: PathBuf,
    editions: Vec<Edition>,
    out_dir: PathBuf,
    strict: bool,
    /// `--jobs`: editions laid out at once (`None`: decided per rebuild).
    jobs: Option<usize>,
    sources: Option<Sources>,
    fingerprints: HashMap<Edition, Vec<u8>>,
    last_good: HashMap<Edition, EditionOutput>,
    /// The project files typst read in the last build (images and the like),
    /// relative to the root: a change to one of them means a rebuild.
    read: HashSet<PathBuf>,
    /// Also write the web editions (`--html`).
    html: bool,
    /// The report's name (`report.toml`'s `name`) from the last build that
    /// read it: the outputs' file names.
    name: Option<String>,
}

impl Session {
    pub fn new(root: &Path, editions: Vec<Edition>, out_dir: PathBuf, strict: bool) -> Self {
        Self {
            root: root.to_path_buf(),
            editions,
            out_dir,
            strict,
            jobs: None,
            sources: None,
            fingerprints: HashMap::new(),
            last_good: HashMap::new(),
            read: HashSet::new(),
            html: false,
            name: None,
        }
    }

    /// Where the outputs are written.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// The report's name, once a build has read `report.toml`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The editions this session builds.
    pub fn editions(&self) -> &[Edition] {
        &self.editions
    }

    /// The last good PDF of an edition.
    pub fn last_good(&self, edition: Edition) -> Option<&EditionOutput> {
        self.last_good.get(&edition)
    }

    /// Also writes the web editions on every rebuild (as `[output] html`).
    pub fn with_html(mut self, html: bool) -> Self {
        self.html = html;
        self
    }

    /// Lays out at most `jobs` editions at once (`None`: as many as the
    /// machine has cores and memory for).
    pub fn with_jobs(mut self, jobs: Option<usize>) -> Self {
        self.jobs = jobs;
        self
    }

    /// Rebuilds the editions whose sources changed (all of them when
    /// `everything`, e.g. after an image or template changed).
    pub fn rebuild(&mut self, everything: bool) -> Rebuild {
        let start = Instant::now();
        let mut report = Rebuild::default();
        let mut timings = Timings::default();
        let Some(prepared) = pipeline::prepare_reusing(
            &self.root,
            &self.editions,
            &mut self.sources,
            &mut report.diagnostics,
            &mut timings,
        ) else {
            report.failed = true;
            report.elapsed = start.elapsed();
            return report;
        };
        let changed: Vec<(Edition, Vec<u8>)> = self
            .editions
            .iter()
            .map(|&e| (e, fingerprint(&prepared, e)))
            .filter(|(e, f)| everything || self.fingerprints.get(e) != Some(f))
            .collect();
        let to_build: Vec<Edition> = changed.iter().map(|c| c.0).collect();
        let jobs = pipeline::jobs(self.jobs, &prepared, &to_build);
        let outputs: Vec<(EditionOutput, Vec<u8>)> = prepared
            .typeset_editions(
                &to_build,
                jobs,
                pipeline::Caches::Keep,
                &|_| {},
                &mut report.diagnostics,
                &mut timings,
            )
            .into_iter()
            .zip(changed.into_iter().map(|c| c.1))
            .collect();
        // Keep memory flat over hours: drop cache entries unused for a while.
        pipeline::evict(10);
        // The web editions are cheap to make: all of them, on every rebuild.
        let pages = if self.html || prepared.project.manifest.output.html {
            crate::render::web::build(
                &prepared,
                &self.editions,
                &mut report.diagnostics,
                &mut timings,
            )
        } else {
            Vec::new()
        };
        let web: Vec<&crate::render::web::WebOutput> = pages.iter().collect();
        let name = prepared.project.manifest.name.clone();
        self.name = Some(name.clone());
        self.read
            .extend(prepared.sources.read_paths().into_iter().map(PathBuf::from));
        self.sources = Some(prepared.sources);
        report.diagnostics.dedup();
        if self.strict {
            report.diagnostics.make_strict();
        }
        report.elapsed = start.elapsed();
        if report.diagnostics.has_errors() {
            report.failed = true;
            return report;
        }
        for (output, print) in outputs {
            report.built.push((output.edition, output.pages));
            self.fingerprints.insert(output.edition, print);
            self.last_good.insert(output.edition, output);
        }
        let written: Vec<&EditionOutput> = report
            .built
            .iter()
            .filter_map(|(e, _)| self.last_good.get(e))
            .collect();
        let mut all: Vec<&EditionOutput> = self.last_good.values().collect();
        all.sort_by_key(|o| o.edition);
        if !(written.is_empty() && web.is_empty())
            && let Err(err) = write_outputs(&self.out_dir, &name, &written, &all, &web)
        {
            report.write_error = Some(format!("cannot write to {}: {err}", self.out_dir.display()));
            report.failed = true;
        }
        report.elapsed = start.elapsed();
        report
    }
}

/// Everything one edition is made of, as typst will read it.
fn fingerprint(prepared: &Prepared, edition: Edition) -> Vec<u8> {
    let mut hasher = Sha256::new();
    let text = |path: &str| {
        prepared
            .sources
            .source_text(file_id(path))
            .unwrap_or_default()
            .to_string()
    };
    hasher.update(text(&format!("/.renga/main-{}.typ", edition.code())));
    hasher.update(text(crate::markdown::PRELUDE));
    for c in prepared.converted_for(edition) {
        hasher.update(&c.source);
    }
    hasher.finalize().to_vec()
}

/// Whether a changed path can change the report: a file the project is
/// made of (report.toml, chapter texts and translation records, metrics,
/// templates, fonts, images), a folder that holds chapters or metrics, or
/// any file the last build read. Logs, notes, editors' backups and scratch
/// files, hidden files and the output folder never trigger a build.
fn relevant(path: &Path, root: &Path, out_dir: &Path, read: &HashSet<PathBuf>) -> bool {
    if path.starts_with(out_dir) {
        return false;
    }
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    if read.contains(rel) {
        return true;
    }
    let parts: Vec<&str> = rel
        .components()
        .map(|c| c.as_os_str().to_str().unwrap_or("."))
        .collect();
    let Some(&name) = parts.last() else {
        return false;
    };
    // Hidden files (.git, editors' swap files) and a cargo build folder.
    if parts.iter().any(|p| p.starts_with('.')) || parts[0] == "target" || scratch(name) {
        return false;
    }
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    // Chapter and agency folders are named without dots.
    let folder = |n: &str| !n.contains('.');
    match parts.as_slice() {
        ["report.toml"] => true,
        ["chapters" | "data" | "templates" | "fonts"] => true,
        ["chapters" | "data", dir] => folder(dir),
        ["chapters", _, "en.md" | "ja.md" | "translation.toml"] => true,
        ["data", _, _] => ext == "toml",
        // The templates folder is read whole.
        ["templates", _] => true,
        ["fonts", ..] => matches!(ext.as_str(), "ttf" | "otf" | "ttc" | "otc"),
        // Images may sit anywhere in the project.
        _ => matches!(
            ext.as_str(),
            "svg" | "png" | "jpg" | "jpeg" | "gif" | "webp"
        ),
    }
}

/// Editors' backups and scratch files: `en.md~`, `#en.md#`, vim's `4913`,
/// `x.bak`, `x.swp`, `x.tmp`, `x.orig`.
fn scratch(name: &str) -> bool {
    name.ends_with('~')
        || name.starts_with('#')
        || name.chars().all(|c| c.is_ascii_digit())
        || [".bak", ".swp", ".swx", ".tmp", ".orig"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Whether a change needs every edition rebuilt: anything but chapter text
/// and metrics (images, templates) is read by typst or the templates directly.
fn affects_everything(path: &Path) -> bool {
    !matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("md" | "toml")
    )
}

pub fn run(args: &WatchArgs, quiet: bool) -> i32 {
    let root = args.project.project.clone();
    let format = args.project.diagnostics.format;
    watch_loop(args, quiet, |_, rebuild| {
        announce(&root, rebuild, format, quiet)
    })
}

/// Whether `root` is a report project; says why not. Watching a folder
/// that is none would promise "the last good PDFs" that never existed.
pub fn is_project(root: &Path) -> bool {
    let manifest = crate::load::project::MANIFEST;
    if root.join(manifest).is_file() {
        return true;
    }
    if root.exists() {
        eprintln!(
            "error: {} has no {manifest}: not a report project (create one with `renga init`)",
            root.display()
        );
    } else {
        eprintln!("error: {} does not exist", root.display());
    }
    false
}

/// What the watch loop waits for: a file event, or Ctrl-C.
enum Wake {
    Files(notify::Result<notify::Event>),
    Stop,
}

/// The watch loop of `renga watch` and `renga serve`: a first build, then a
/// rebuild after every relevant change, each handed to `on_rebuild`. Ctrl-C
/// stops it between rebuilds (exit status 0), never in the middle of
/// writing the outputs.
pub fn watch_loop(
    args: &WatchArgs,
    quiet: bool,
    mut on_rebuild: impl FnMut(&Session, &Rebuild),
) -> i32 {
    let root = args.project.project.clone();
    if !is_project(&root) {
        return 1;
    }
    let out_dir = match crate::cli::compile::output_folder(&root, args.out.as_deref()) {
        Ok(dir) => dir,
        Err(d) => {
            let _ = crate::diag::emit(&root, &[d], args.project.diagnostics.format);
            return 1;
        }
    };
    let out_abs = std::path::absolute(&out_dir).unwrap_or(out_dir.clone());
    let root_abs = std::path::absolute(&root).unwrap_or(root.clone());
    let (tx, rx) = mpsc::channel();
    let stop = tx.clone();
    // Only the first handler counts; a second loop in one process (tests)
    // keeps the first.
    let _ = ctrlc::set_handler(move || {
        let _ = stop.send(Wake::Stop);
    });
    let mut watcher = match notify::recommended_watcher(move |event| {
        let _ = tx.send(Wake::Files(event));
    }) {
        Ok(w) => w,
        Err(err) => {
            eprintln!("error: cannot watch files: {err}");
            return 1;
        }
    };
    if let Err(err) = watcher.watch(&root_abs, RecursiveMode::Recursive) {
        eprintln!("error: cannot watch {}: {err}", root.display());
        return 1;
    }
    let mut session = Session::new(&root, editions(&args.project), out_dir, args.project.strict)
        .with_jobs(args.project.jobs.map(usize::from))
        .with_html(args.project.html);
    if !quiet {
        eprintln!("watching {} (Ctrl-C to stop)", root.display());
    }
    let first = guarded(&mut session, true);
    on_rebuild(&session, &first);
    let debounce = Duration::from_millis(args.debounce);
    loop {
        // Wait for a relevant change, then for the editor to finish saving.
        let mut everything = false;
        let mut seen = false;
        let mut timeout = None;
        loop {
            let event = match timeout {
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                Some(t) => rx.recv_timeout(t),
            };
            match event {
                Ok(Wake::Stop) => {
                    if !quiet {
                        eprintln!("stopped");
                    }
                    return 0;
                }
                Ok(Wake::Files(Ok(event))) => {
                    if matches!(event.kind, EventKind::Access(_)) {
                        continue;
                    }
                    for path in event
                        .paths
                        .iter()
                        .filter(|p| relevant(p, &root_abs, &out_abs, &session.read))
                    {
                        seen = true;
                        everything |= affects_everything(path);
                    }
                    if seen {
                        timeout = Some(debounce);
                    }
                }
                Ok(Wake::Files(Err(err))) => eprintln!("warning: file watching: {err}"),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return 1,
            }
        }
        let rebuild = guarded(&mut session, everything);
        on_rebuild(&session, &rebuild);
    }
}

/// A rebuild in which a panic (a bug, never the author's) is reported as an
/// internal error and the session goes on watching.
fn guarded(session: &mut Session, everything: bool) -> Rebuild {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.rebuild(everything)))
        .unwrap_or_else(|_| {
            let mut report = Rebuild {
                failed: true,
                ..Rebuild::default()
            };
            report.diagnostics.push(diag::internal_error());
            report
        })
}

/// One line per rebuild, after the diagnostics.
pub fn announce(root: &Path, rebuild: &Rebuild, format: Format, quiet: bool) {
    let _ = diag::emit(root, &rebuild.diagnostics.items, format);
    let ms = rebuild.elapsed.as_millis();
    let warnings = rebuild.diagnostics.warning_count();
    if let Some(err) = &rebuild.write_error {
        eprintln!("error: {err}");
    } else if rebuild.failed {
        eprintln!(
            "[{ms} ms] {} error(s): kept the last good PDFs; fix and save to rebuild",
            rebuild.diagnostics.error_count()
        );
    } else if quiet {
        // Diagnostics only.
    } else if rebuild.built.is_empty() {
        eprintln!("[{ms} ms] no edition changed");
    } else {
        let built: Vec<String> = rebuild
            .built
            .iter()
            .map(|(e, pages)| format!("{} ({pages} pages)", e.code()))
            .collect();
        eprintln!(
            "[{ms} ms] rebuilt {}, {warnings} warning(s)",
            built.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_that_can_change_the_report_are_relevant() {
        let root = Path::new("/r");
        let out = Path::new("/r/out");
        let mut read = HashSet::new();
        read.insert(PathBuf::from("assets/logo.pdf"));
        let yes = |p: &str| relevant(&root.join(p), root, out, &read);
        for p in [
            "report.toml",
            "chapters/01-a/en.md",
            "chapters/01-a/ja.md",
            "chapters/01-a/translation.toml",
            "chapters/01-a/figure.svg",
            "chapters/02-b",
            "data/sg/identity.toml",
            "data/sg",
            "templates/main.typ",
            "images/logo.PNG",
            "fonts/Custom.otf",
            "assets/logo.pdf",
        ] {
            assert!(yes(p), "{p} can change the report");
        }
        for p in [
            "build.log",
            "chapters/01-a/notes.txt",
            "chapters/01-a/en.md~",
            "chapters/01-a/#en.md#",
            "chapters/01-a/.en.md.swp",
            "chapters/01-a/4913",
            "chapters/build.log",
            "data/sg/identity.toml.bak",
            "data/README.md",
            "out/x.pdf",
            ".git/index",
            "target/release/renga",
            "target/doc/logo.svg",
            "notes.md",
        ] {
            assert!(!yes(p), "{p} cannot change the report");
        }
    }
}
