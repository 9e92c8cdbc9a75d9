//! `renga compile`: every edition to PDF, written atomically, with a manifest.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cli::args::{CompileArgs, ProjectArgs};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::pipeline::{self, Edition, EditionOutput, Timings, TypesetEvent};
use crate::publish;
use crate::render::web::{self, WebOutput};

/// The editions asked for, in canonical order, each once.
pub fn editions(args: &ProjectArgs) -> Vec<Edition> {
    let mut editions = if args.editions.is_empty() {
        Edition::ALL.to_vec()
    } else {
        args.editions.clone()
    };
    editions.sort();
    editions.dedup();
    editions
}

/// Prints diagnostics and a closing line; returns the exit code.
pub fn finish(root: &Path, args: &ProjectArgs, diags: &mut Diagnostics, quiet: bool) -> i32 {
    if args.strict {
        diags.make_strict();
    }
    if let Err(err) = diag::emit(root, &diags.items, args.diagnostics.format) {
        eprintln!("error: cannot print diagnostics: {err}");
    }
    if diags.has_errors() {
        if !quiet && args.diagnostics.format == diag::Format::Human {
            eprintln!(
                "error: {} error(s), {} warning(s); nothing was written",
                diags.error_count(),
                diags.warning_count()
            );
        }
        1
    } else {
        0
    }
}

/// How to lay out `editions` (see [`pipeline::plan`]), saying so when renga
/// lays out with the least memory by itself: the build takes longer than
/// the author is used to, and `--jobs` keeps the caches.
pub fn plan(
    args: &ProjectArgs,
    low_memory: bool,
    prepared: &pipeline::Prepared,
    editions: &[Edition],
    quiet: bool,
) -> pipeline::Plan {
    let plan = pipeline::plan(args.jobs.map(usize::from), low_memory, prepared, editions);
    if let Some((available, need)) = plan.short_of_memory
        && !quiet
    {
        eprintln!(
            "note: {} MiB of memory available, and the largest edition needs about {} MiB: laying out one edition at a time with typst's caches emptied between iterations (slower; `--jobs 1` keeps them)",
            available >> 20,
            need >> 20
        );
    }
    plan
}

/// Where the outputs go: `--out DIR` as given (the user chose it on the
/// command line), or the project's `out` folder, which is confined like
/// every file renga reads: committed as a link to a folder outside the
/// project (or into `.git`), it is refused, so that a pull request cannot
/// make a CI build write, or read an old `manifest.json`, elsewhere.
pub fn output_folder(root: &Path, given: Option<&Path>) -> Result<PathBuf, Diagnostic> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    match crate::load::confine::Root::new(root).is_dir("out") {
        Err(crate::load::confine::ReadError::Outside { link, target }) => Err(Diagnostic::error(
            "outside-project",
            format!(
                "{link} is a link to {}, outside the project: renga writes its outputs only inside the project folder",
                target.display()
            ),
        )
        .at(diag::Location::file(&link))
        .hint("remove the link, or name the folder on the command line: --out DIR")),
        Err(err) => Err(err.diagnostic("out")),
        Ok(_) => Ok(root.join("out")),
    }
}

pub fn run(args: &CompileArgs, quiet: bool) -> i32 {
    let started = std::time::Instant::now();
    let root = args.project.project.clone();
    let editions = editions(&args.project);
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let out_dir = match output_folder(&root, args.out.as_deref()) {
        Ok(dir) => dir,
        Err(d) => {
            diags.push(d);
            return finish(&root, &args.project, &mut diags, quiet);
        }
    };
    // A build killed while publishing is finished (or undone) now, even
    // if this one fails: `out` is never left half old, half new.
    if let Err(err) = publish::recover(&out_dir) {
        diags.push(Diagnostic::error(
            "io",
            format!("cannot recover {}: {err}", out_dir.display()),
        ));
        return finish(&root, &args.project, &mut diags, quiet);
    }
    let outputs = match pipeline::prepare(&root, &editions, &mut diags, &mut timings) {
        Some(prepared) => {
            let progress = Progress::new(
                &editions,
                quiet || args.project.diagnostics.format != diag::Format::Human,
            );
            let plan = plan(&args.project, args.low_memory, &prepared, &editions, quiet);
            let outputs = prepared.typeset_editions(
                &editions,
                plan.jobs,
                plan.caches,
                &|event| progress.event(event),
                &mut diags,
                &mut timings,
            );
            let pages = if web::wanted(args.project.html, &prepared) {
                web::build(&prepared, &editions, &mut diags, &mut timings)
            } else {
                Vec::new()
            };
            Some((prepared.project.manifest.name.clone(), outputs, pages))
        }
        None => None,
    };
    let code = finish(&root, &args.project, &mut diags, quiet);
    if code != 0 {
        return code;
    }
    let Some((name, outputs, pages)) = outputs else {
        return 1;
    };
    let start = std::time::Instant::now();
    let all: Vec<&EditionOutput> = outputs.iter().collect();
    let web: Vec<&WebOutput> = pages.iter().collect();
    match write_outputs(&out_dir, &name, &all, &all, &web) {
        Ok(written) => {
            timings.stages.push(("write".into(), start.elapsed()));
            if !quiet {
                for (path, pages) in written {
                    match pages {
                        Some(pages) => eprintln!("wrote {} ({pages} pages)", path.display()),
                        None => eprintln!("wrote {}", path.display()),
                    }
                }
            }
        }
        Err(err) => {
            let d = Diagnostic::error(
                "io",
                format!("cannot write to {}: {err}", out_dir.display()),
            );
            let _ = diag::emit(&root, &[d], args.project.diagnostics.format);
            return 1;
        }
    }
    if args.timings {
        print_timings(&timings, started.elapsed());
    }
    0
}

/// Each stage's time, then the wall time of the whole run: layouts of
/// several editions and their exports overlap, so the stages add up to more.
fn print_timings(timings: &Timings, wall: std::time::Duration) {
    eprintln!("stage timings:");
    for (name, d) in &timings.stages {
        eprintln!("  {name:<20} {:>8.1} ms", d.as_secs_f64() * 1000.0);
    }
    eprintln!("  {:<20} {:>8.1} ms", "wall", wall.as_secs_f64() * 1000.0);
    if let Some(peak) = peak_memory() {
        eprintln!(
            "  {:<20} {:>8.1} MiB",
            "peak memory",
            peak as f64 / 1048576.0
        );
    }
}

/// The most memory this process has held at once, in bytes (Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

#[derive(Serialize, serde::Deserialize)]
struct ManifestEntry {
    file: String,
    edition: Edition,
    /// `pdf` or `html`.
    #[serde(default = "pdf_format")]
    format: String,
    /// Pages of a PDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pages: Option<usize>,
    bytes: usize,
    sha256: String,
}

fn pdf_format() -> String {
    "pdf".into()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The entries of the `manifest.json` already in `out_dir` whose files are
/// still there with the bytes it lists: the editions a partial build
/// (`--lang ja`) did not touch.
fn unchanged_entries(out_dir: &Path, except: &[String]) -> Vec<ManifestEntry> {
    #[derive(serde::Deserialize)]
    struct Old {
        files: Vec<ManifestEntry>,
    }
    // Regular files only, never through a link: what `out` holds is
    // output, not trusted, and a link in it could lead anywhere.
    let read = |name: &str| {
        let path = out_dir.join(name);
        std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file())
            .then(|| std::fs::read(&path).ok())
            .flatten()
    };
    let Some(bytes) = read("manifest.json") else {
        return vec![];
    };
    let Ok(old) = serde_json::from_slice::<Old>(&bytes) else {
        return vec![];
    };
    old.files
        .into_iter()
        .filter(|entry| !except.contains(&entry.file))
        .filter(|entry| {
            // Only a plain file name: the manifest is output, not trusted.
            !entry.file.contains(['/', '\\'])
                && read(&entry.file)
                    .is_some_and(|pdf| pdf.len() == entry.bytes && sha256_hex(&pdf) == entry.sha256)
        })
        .collect()
}

/// Writes every PDF, web edition and `manifest.json` together: all are written to
/// temporary files first and renamed into place only once all are
/// written, and a rename that fails puts back the files already replaced,
/// so a failure at any point leaves `out_dir` as it was. `manifest` lists
/// the editions to enter in the manifest; editions built earlier keep their
/// entries while their files are unchanged. Returns each file written
/// with its page count (none for a web edition).
pub fn write_outputs(
    out_dir: &Path,
    name: &str,
    outputs: &[&EditionOutput],
    manifest: &[&EditionOutput],
    web: &[&WebOutput],
) -> std::io::Result<Vec<(PathBuf, Option<usize>)>> {
    // A build killed while publishing is finished first (or undone), and
    // what it left behind removed, before the old manifest is read.
    let recovered = publish::recover(out_dir)?;
    if recovered.finished + recovered.undone > 0 {
        eprintln!(
            "note: {} was left mid-publish by an interrupted build: {}",
            out_dir.display(),
            if recovered.undone > 0 {
                "put back as it was"
            } else {
                "finished"
            }
        );
    }
    let created = !out_dir.exists();
    let result = write_all(out_dir, name, outputs, manifest, web);
    if result.is_err() && created {
        // Back to no folder at all (only if nothing else appeared in it).
        let _ = std::fs::remove_dir(out_dir);
    }
    result
}

fn write_all(
    out_dir: &Path,
    name: &str,
    outputs: &[&EditionOutput],
    manifest: &[&EditionOutput],
    web: &[&WebOutput],
) -> std::io::Result<Vec<(PathBuf, Option<usize>)>> {
    std::fs::create_dir_all(out_dir)?;
    let file_name = |edition: Edition| format!("{name}.{}.pdf", edition.code());
    let mut staged = Vec::new();
    let mut written = Vec::new();
    for output in outputs {
        let Some(pdf) = &output.pdf else { continue };
        let path = out_dir.join(file_name(output.edition));
        staged.push((publish::stage(out_dir, pdf)?, path.clone()));
        written.push((path, Some(output.pages)));
    }
    for page in web {
        let path = out_dir.join(page.file_name(name));
        staged.push((publish::stage(out_dir, &page.html)?, path.clone()));
        written.push((path, None));
    }
    let mut entries: Vec<ManifestEntry> = manifest
        .iter()
        .filter_map(|output| {
            let pdf = output.pdf.as_ref()?;
            Some(ManifestEntry {
                file: file_name(output.edition),
                edition: output.edition,
                format: "pdf".into(),
                pages: Some(output.pages),
                bytes: pdf.len(),
                sha256: sha256_hex(pdf),
            })
        })
        .collect();
    entries.extend(web.iter().map(|page| ManifestEntry {
        file: page.file_name(name),
        edition: page.edition,
        format: "html".into(),
        pages: None,
        bytes: page.html.len(),
        sha256: sha256_hex(&page.html),
    }));
    let listed: Vec<String> = entries.iter().map(|e| e.file.clone()).collect();
    entries.extend(unchanged_entries(out_dir, &listed));
    entries.sort_by(|a, b| (a.edition, &a.format).cmp(&(b.edition, &b.format)));
    let mut manifest =
        serde_json::to_vec_pretty(&serde_json::json!({ "report": name, "files": entries }))?;
    manifest.push(b'\n');
    staged.push((
        publish::stage(out_dir, &manifest)?,
        out_dir.join("manifest.json"),
    ));
    publish::publish(out_dir, staged)?;
    Ok(written)
}

/// One line per edition on a terminal while the editions are typeset;
/// nothing when stderr is not a terminal or with `--quiet`.
struct Progress {
    bars: Vec<(Edition, indicatif::ProgressBar)>,
}

impl Progress {
    fn new(editions: &[Edition], hidden: bool) -> Self {
        let visible = !hidden && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let multi = indicatif::MultiProgress::with_draw_target(if visible {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        });
        let style = indicatif::ProgressStyle::with_template("{spinner} {prefix:>6} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let bars = editions
            .iter()
            .map(|&e| {
                let bar =
                    multi.add(indicatif::ProgressBar::new_spinner().with_style(style.clone()));
                bar.set_prefix(e.code());
                bar.set_message("waiting");
                (e, bar)
            })
            .collect();
        Self { bars }
    }

    fn bar(&self, edition: Edition) -> Option<&indicatif::ProgressBar> {
        self.bars
            .iter()
            .find(|(e, _)| *e == edition)
            .map(|(_, b)| b)
    }

    fn event(&self, event: TypesetEvent) {
        match event {
            TypesetEvent::Started(edition) => {
                if let Some(bar) = self.bar(edition) {
                    bar.set_message("typesetting…");
                    bar.enable_steady_tick(std::time::Duration::from_millis(100));
                }
            }
            TypesetEvent::LaidOut {
                edition,
                pages,
                failed,
                elapsed,
            } => {
                let secs = elapsed.as_secs_f64();
                if let Some(bar) = self.bar(edition) {
                    if failed {
                        bar.finish_with_message(format!("failed after {secs:.1} s"));
                    } else {
                        bar.finish_with_message(format!("{pages} pages in {secs:.1} s"));
                    }
                }
            }
        }
    }
}
