//! `renga compile`: every edition to PDF, written atomically, with a manifest.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::args::{CompileArgs, ProjectArgs};
use crate::atomic;
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::pipeline::{self, Edition, EditionOutput, Timings};

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
    if let Err(err) = diag::emit(root, &diags.items, args.format) {
        eprintln!("error: cannot print diagnostics: {err}");
    }
    if diags.has_errors() {
        if !quiet && args.format == diag::Format::Human {
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

pub fn run(args: &CompileArgs, quiet: bool) -> i32 {
    let root = args.project.project.clone();
    let editions = editions(&args.project);
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let outputs = match pipeline::prepare(&root, &editions, &mut diags, &mut timings) {
        Some(prepared) => {
            let progress = Progress::new(
                &editions,
                quiet || args.project.format != diag::Format::Human,
            );
            // Each edition's PDF export runs while the next edition is laid
            // out: the two overlap on a two-core machine.
            let outputs = std::thread::scope(|scope| {
                let mut exports = Vec::new();
                for &edition in &editions {
                    progress.start(edition);
                    let start = std::time::Instant::now();
                    let (document, d) = prepared.layout(edition);
                    timings
                        .stages
                        .push((format!("layout {}", edition.code()), start.elapsed()));
                    let failed = document.is_none() || d.iter().any(Diagnostic::is_error);
                    progress.finish(
                        edition,
                        document.as_ref().map_or(0, |doc| doc.pages().len()),
                        failed,
                    );
                    diags.extend(d);
                    let prepared = &prepared;
                    exports.push(scope.spawn(move || {
                        let pages = document.as_ref().map_or(0, |doc| doc.pages().len());
                        let (pdf, d, time) = match &document {
                            Some(doc) => prepared.export(edition, doc),
                            None => (
                                None,
                                Vec::new(),
                                (format!("pdf {}", edition.code()), Default::default()),
                            ),
                        };
                        (
                            EditionOutput {
                                edition,
                                pages,
                                pdf,
                            },
                            d,
                            time,
                        )
                    }));
                }
                let mut outputs = Vec::new();
                for handle in exports {
                    let (output, d, time) = handle.join().expect("PDF export thread panicked");
                    diags.extend(d);
                    timings.stages.push(time);
                    outputs.push(output);
                }
                outputs
            });
            diags.dedup();
            Some((prepared.project.manifest.name.clone(), outputs))
        }
        None => None,
    };
    let code = finish(&root, &args.project, &mut diags, quiet);
    if code != 0 {
        return code;
    }
    let Some((name, outputs)) = outputs else {
        return 1;
    };
    let out_dir = args.out.clone().unwrap_or_else(|| root.join("out"));
    let start = std::time::Instant::now();
    let all: Vec<&EditionOutput> = outputs.iter().collect();
    match write_outputs(&out_dir, &name, &all, &all) {
        Ok(written) => {
            timings.stages.push(("write".into(), start.elapsed()));
            if !quiet {
                for (path, pages) in written {
                    eprintln!("wrote {} ({pages} pages)", path.display());
                }
            }
        }
        Err(err) => {
            let d = Diagnostic::error(
                "io",
                format!("cannot write to {}: {err}", out_dir.display()),
            );
            let _ = diag::emit(&root, &[d], args.project.format);
            return 1;
        }
    }
    if args.timings {
        print_timings(&timings);
    }
    0
}

fn print_timings(timings: &Timings) {
    eprintln!("stage timings:");
    for (name, d) in &timings.stages {
        eprintln!("  {name:<12} {:>8.1} ms", d.as_secs_f64() * 1000.0);
    }
    eprintln!(
        "  {:<12} {:>8.1} ms",
        "total",
        timings.total().as_secs_f64() * 1000.0
    );
}

#[derive(Serialize)]
struct ManifestEntry {
    file: String,
    edition: Edition,
    pages: usize,
    bytes: usize,
    sha256: String,
}

/// Writes every PDF and `manifest.json` to temporary files first and
/// renames them into place only once all are written, so a failure
/// leaves the previous outputs untouched.
pub fn write_outputs(
    out_dir: &Path,
    name: &str,
    outputs: &[&EditionOutput],
    manifest: &[&EditionOutput],
) -> std::io::Result<Vec<(PathBuf, usize)>> {
    std::fs::create_dir_all(out_dir)?;
    let file_name = |output: &EditionOutput| format!("{name}.{}.pdf", output.edition.code());
    let mut pending = Vec::new();
    for output in outputs {
        let Some(pdf) = &output.pdf else { continue };
        let tmp = atomic::stage(out_dir, pdf)?;
        pending.push((tmp, out_dir.join(file_name(output)), output.pages));
    }
    let entries: Vec<ManifestEntry> = manifest
        .iter()
        .filter_map(|output| {
            let pdf = output.pdf.as_ref()?;
            Some(ManifestEntry {
                file: file_name(output),
                edition: output.edition,
                pages: output.pages,
                bytes: pdf.len(),
                sha256: Sha256::digest(pdf)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            })
        })
        .collect();
    let manifest =
        serde_json::to_vec_pretty(&serde_json::json!({ "report": name, "files": entries }))?;
    let mut manifest = manifest;
    manifest.push(b'\n');
    let tmp = atomic::stage(out_dir, &manifest)?;
    let mut written = Vec::new();
    for (tmp, path, pages) in pending {
        tmp.persist(&path).map_err(|e| e.error)?;
        written.push((path, pages));
    }
    tmp.persist(out_dir.join("manifest.json"))
        .map_err(|e| e.error)?;
    Ok(written)
}

/// One line per edition on a terminal while the editions are typeset;
/// nothing when stderr is not a terminal or with `--quiet`.
struct Progress {
    bars: Vec<(Edition, indicatif::ProgressBar)>,
    started: std::cell::Cell<Option<std::time::Instant>>,
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
        Self {
            bars,
            started: std::cell::Cell::new(None),
        }
    }

    fn bar(&self, edition: Edition) -> Option<&indicatif::ProgressBar> {
        self.bars
            .iter()
            .find(|(e, _)| *e == edition)
            .map(|(_, b)| b)
    }

    fn start(&self, edition: Edition) {
        self.started.set(Some(std::time::Instant::now()));
        if let Some(bar) = self.bar(edition) {
            bar.set_message("typesetting…");
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
    }

    fn finish(&self, edition: Edition, pages: usize, failed: bool) {
        let secs = self
            .started
            .get()
            .map_or(0.0, |s| s.elapsed().as_secs_f64());
        if let Some(bar) = self.bar(edition) {
            if failed {
                bar.finish_with_message(format!("failed after {secs:.1} s"));
            } else {
                bar.finish_with_message(format!("{pages} pages in {secs:.1} s"));
            }
        }
    }
}
