//! `cargo bench --bench book`: renga at book scale, on a bilingual report
//! generated from this repository's chapters (each copy's paragraphs numbered
//! apart, so that typst cannot reuse one copy's layout for another).
//!
//! - `book`: about 500 pages per edition. The English and Japanese editions,
//!   then all three, laid out one at a time (`--jobs 1`) and side by side
//!   (`--jobs 2`): wall time, each stage, renga's own share, peak memory.
//!   Targets: side by side at most 0.6 of one at a time; renga's own stages
//!   (load, convert, templates, render, write) under 3% of the total; peak
//!   memory of the three editions under 1.5 GB, which `--low-memory` (run
//!   last, for all three) meets at the cost of time.
//! - `report`: this repository's report, three editions, one at a time and
//!   side by side (target: 1.2 s).
//! - `growth`: 1×, 2× and 4× five eighths of the book (80, 160 and 320
//!   chapters; 4×: over 1,000 pages per edition): renga's own stages
//!   (prepare: load, convert, templates, parse), the translation status of
//!   every chapter and `renga diff` between two versions, in CPU time
//!   (independent of the machine's load) and wall time; and the English
//!   edition laid out and exported (its pages, layout wall time and peak
//!   memory). Each should grow about as the chapters do, never as their
//!   square.
//!
//! `cargo bench --bench book -- growth` runs one part; `-- generate DIR`
//! only writes the generated book to DIR (to profile `renga compile` on it). Set `RENGA_BOOK` to
//! a project folder to measure another book instead of the generated one,
//! `RENGA_BOOK_CHAPTERS` to generate another size.
//! Compiles run the real binary in a fresh process, as CI would; times and
//! peak memory come from `renga compile --timings`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use renga::diag::Diagnostics;
use renga::pipeline::{self, Edition, Timings};
use renga::review::records::{self, Record, RecordBlock};

mod common;
use common::{chapter_dirs, generate, load, timed};

/// Chapters of the generated book: about 500 pages per edition (this
/// report's eight chapters take 35 English pages). `RENGA_BOOK_CHAPTERS`
/// sets another number (a multiple of 2).
fn book_chapters() -> usize {
    std::env::var("RENGA_BOOK_CHAPTERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(128)
}

/// One `renga compile --timings` run.
struct Run {
    wall: Duration,
    /// CPU time of the renga process, on all its threads.
    cpu: Duration,
    stages: Vec<(String, f64)>,
    peak_mib: f64,
    pages: Vec<(String, usize)>,
}

impl Run {
    /// The stages named `prefix…`, without their parts (a layout's passes).
    fn stage(&self, prefix: &str) -> f64 {
        self.stages
            .iter()
            .filter(|(n, _)| n.starts_with(prefix) && !n.contains(" pass "))
            .map(|s| s.1)
            .sum()
    }

    /// renga's own stages: everything but typst's layout and PDF export.
    fn own_ms(&self) -> f64 {
        self.stages
            .iter()
            .filter(|(n, _)| !n.starts_with("layout") && !n.starts_with("pdf"))
            .map(|s| s.1)
            .sum()
    }
}

/// `how`: `--jobs N` or `--low-memory`.
fn compile(project: &Path, editions: &[&str], how: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renga"));
    cmd.arg("compile")
        .arg(project)
        .arg("--out")
        .arg(out.path())
        .arg("--timings")
        .arg("--quiet")
        .args(how);
    for e in editions {
        cmd.args(["--lang", e]);
    }
    let (start, children) = (Instant::now(), children_cpu());
    let output = cmd.output().expect("renga runs");
    let (wall, cpu) = (start.elapsed(), children_cpu().saturating_sub(children));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "renga compile failed:\n{stderr}");
    let mut stages = Vec::new();
    let mut peak_mib = 0.0;
    for line in stderr.lines() {
        let line = line.trim();
        if let Some(mib) = line
            .strip_prefix("peak memory")
            .and_then(|l| l.strip_suffix(" MiB"))
        {
            peak_mib = mib.trim().parse().unwrap_or(0.0);
        } else if let Some(l) = line.strip_suffix(" ms")
            && let Some((name, ms)) = l.rsplit_once(' ')
            && name.trim() != "wall"
            && let Ok(ms) = ms.trim().parse()
        {
            stages.push((name.trim().to_string(), ms));
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let pages = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["edition"].as_str().unwrap().to_string(),
                f["pages"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    Run {
        wall,
        cpu,
        stages,
        peak_mib,
        pages,
    }
}

/// CPU time of this process's finished children (the renga runs).
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn print_run(label: &str, run: &Run) {
    let pages: Vec<String> = run.pages.iter().map(|(e, p)| format!("{e} {p}")).collect();
    println!(
        "  {label}: wall {:.2} s, CPU {:.2} s, peak memory {:.0} MiB, pages: {}; load average {}",
        run.wall.as_secs_f64(),
        run.cpu.as_secs_f64(),
        run.peak_mib,
        pages.join(", "),
        load()
    );
    let stages: Vec<String> = run
        .stages
        .iter()
        .map(|(n, ms)| format!("{n} {ms:.0}"))
        .collect();
    println!("    stages (ms): {}", stages.join(", "));
    let wall_ms = run.wall.as_secs_f64() * 1000.0;
    println!(
        "    renga's own stages: {:.0} ms = {:.1}% of the wall time",
        run.own_ms(),
        100.0 * run.own_ms() / wall_ms
    );
}

/// Sequential against side by side, for one set of editions; and, with
/// `lean`, with the least memory (`--low-memory`).
fn compare(project: &Path, editions: &[&str], label: &str, lean: bool) {
    println!("{label}");
    let one = compile(project, editions, &["--jobs", "1"]);
    print_run("--jobs 1", &one);
    let two = compile(project, editions, &["--jobs", "2"]);
    print_run("--jobs 2", &two);
    println!(
        "  side by side / one at a time: {:.2}",
        two.wall.as_secs_f64() / one.wall.as_secs_f64()
    );
    if lean {
        let low = compile(project, editions, &["--low-memory"]);
        print_run("--low-memory", &low);
        println!(
            "  --low-memory / --jobs 1: wall {:.2}, peak memory {:.2} (target under 1.5 GB: {})",
            low.wall.as_secs_f64() / one.wall.as_secs_f64(),
            low.peak_mib / one.peak_mib,
            if low.peak_mib * 1024.0 * 1024.0 < 1.5e9 {
                "met"
            } else {
                "not met"
            }
        );
    }
}

// ---- The generated book -------------------------------------------------

/// Records every chapter's translation as in sync, then edits one
/// paragraph of each English chapter, so that its Japanese block is stale.
fn record_translations(dir: &Path) {
    for chapter in chapter_dirs(dir) {
        let read =
            |lang: &str| std::fs::read_to_string(chapter.join(format!("{lang}.md"))).unwrap();
        let (en, ja) = (records::units(&read("en")), records::units(&read("ja")));
        let record = Record {
            block: en
                .iter()
                .zip(&ja)
                .map(|(e, j)| RecordBlock::new(e, j))
                .collect(),
        };
        std::fs::write(chapter.join(records::RECORD), record.to_toml()).unwrap();
    }
    edit(dir);
}

/// A new version: in every chapter, one English paragraph reworded and one
/// added.
fn edit(dir: &Path) {
    for chapter in chapter_dirs(dir) {
        let file = chapter.join("en.md");
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.replacen(" the ", " the revised ", 1);
        std::fs::write(&file, format!("{text}\nA paragraph added in review.\n")).unwrap();
    }
}

fn prepare(dir: &Path, editions: &[Edition]) -> (Duration, Timings) {
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let start = Instant::now();
    let prepared = pipeline::prepare(dir, editions, &mut diags, &mut timings);
    let elapsed = start.elapsed();
    assert!(
        prepared.is_some(),
        "{:?}",
        diags.items.iter().find(|d| d.is_error())
    );
    (elapsed, timings)
}

/// The growth series: renga's own stages at 1×, 2× and 4× five eighths of
/// the book, in CPU time (wall time in brackets), and the English edition
/// laid out (typst's work, with renga's layout iterations), up to over
/// 1,000 pages.
fn growth(root: &Path) {
    println!(
        "growth: 1×, 2× and 4× {} chapters; CPU ms (wall ms), load average at the end of each row",
        growth_base()
    );
    println!(
        "  {:>5} {:>8} {:>8} {:>15} {:>15} {:>13} {:>13} {:>28} {:>5}",
        "scale",
        "chapters",
        "md (KB)",
        "prepare",
        "convert (wall)",
        "status",
        "diff",
        "layout en (wall)",
        "load"
    );
    for scale in [1, 2, 4] {
        let chapters = growth_base() * scale;
        let work = tempfile::tempdir().unwrap();
        let (old, new) = (work.path().join("old"), work.path().join("new"));
        generate(root, &old, chapters);
        generate(root, &new, chapters);
        record_translations(&new);
        let bytes: u64 = chapter_dirs(&new)
            .iter()
            .flat_map(|c| ["en.md", "ja.md"].map(|f| c.join(f)))
            .map(|f| f.metadata().unwrap().len())
            .sum();

        // Load, convert (with the stale blocks of every chapter), templates,
        // parse.
        let (timings, prepare_wall, prepare_cpu) = timed(|| prepare(&new, &Edition::ALL).1);
        let convert: Duration = timings
            .stages
            .iter()
            .filter(|s| s.0 == "convert")
            .map(|s| s.1)
            .sum();

        // Every chapter's translation state, as `renga status` computes it.
        let mut diags = Diagnostics::default();
        let project = renga::load::project::load(&new, &mut diags).unwrap();
        let (stale, status_wall, status_cpu) = timed(|| {
            let mut stale = 0;
            for chapter in &project.chapters {
                let record = Record::load(&project.root, &chapter.slug).unwrap();
                if let records::State::Recorded(f) =
                    records::chapter_state(chapter, record.as_ref())
                {
                    stale += f.iter().filter(|f| f.is_stale()).count();
                }
            }
            stale
        });
        assert!(stale >= chapters, "every chapter has a stale block");

        // `renga diff old new`: chapters, blocks and words.
        let old_project = renga::load::project::load(&old, &mut diags).unwrap();
        let ((report, errors), diff_wall, diff_cpu) = timed(|| {
            renga::review::diff::compare(
                "old",
                "new",
                &old_project,
                &project,
                &renga::review::Budget::default(),
            )
        });
        assert_eq!(report.chapters.len(), chapters);
        assert!(errors.iter().all(Vec::is_empty), "{errors:?}");

        let run = compile(&new, &["en"], &["--jobs", "1"]);
        let pages = run.pages.first().map_or(0, |p| p.1);
        let layout = format!(
            "{:.0} ({pages} p., {} MiB)",
            run.stage("layout"),
            run.peak_mib
        );
        println!(
            "  {:>4}× {:>8} {:>8} {:>15} {:>15} {:>13} {:>13} {:>28} {:>5}",
            scale,
            chapters,
            bytes / 1024,
            format!("{:.0} ({:.0})", ms(prepare_cpu), ms(prepare_wall)),
            format!("({:.0})", ms(convert)),
            format!("{:.0} ({:.0})", ms(status_cpu), ms(status_wall)),
            format!("{:.0} ({:.0})", ms(diff_cpu), ms(diff_wall)),
            layout,
            load(),
        );
    }
}

/// The chapters of the growth series' first row: five eighths of the
/// book, so that four times as many make over 1,000 pages per edition.
fn growth_base() -> usize {
    book_chapters() * 5 / 8
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks one part.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench --bench book -- generate DIR`: only write the generated
    // book to DIR, to profile `renga compile` on it by hand.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let [what, dir] = args.as_slice()
        && what == "generate"
    {
        generate(root, Path::new(dir), book_chapters());
        println!("wrote a book of {} chapters to {dir}", book_chapters());
        return;
    }
    println!(
        "machine: {} cores, renga {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        env!("CARGO_PKG_VERSION")
    );
    if "book".contains(filter.as_str()) {
        let generated = tempfile::tempdir().unwrap();
        let book: PathBuf = match std::env::var_os("RENGA_BOOK") {
            Some(dir) => PathBuf::from(dir),
            None => {
                generate(root, generated.path(), book_chapters());
                generated.path().to_path_buf()
            }
        };
        compare(
            &book,
            &["en", "ja"],
            "book: English and Japanese editions",
            false,
        );
        compare(
            &book,
            &["en", "ja", "en-ja"],
            "book: all three editions",
            true,
        );
    }
    if "report".contains(filter.as_str()) {
        compare(
            root,
            &["en", "ja", "en-ja"],
            "this report: three editions",
            false,
        );
    }
    if "growth".contains(filter.as_str()) {
        growth(root);
    }
}
