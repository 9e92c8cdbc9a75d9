//! `cargo bench --bench diff`: wall time of `renga diff` and `renga status`
//! on a long chapter whose sections hold 150–250 paragraphs that read
//! almost alike, every paragraph edited: the case where pairing blocks
//! compares every old paragraph of a section with every new one (`diff`
//! between two versions; `status` between the English text and the one
//! its translation was recorded against). Sizes 1× (2,000 paragraphs), 2×
//! (4,000) and 4× (8,000) show how the time grows (target: under 2 s at 1×,
//! on two cores). Both commands bound their matching by a count of work
//! steps, not by time, so their answers are the same on any machine.
//!
//! Each measurement runs the real binary in a fresh process, as a reviewer
//! or CI would.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

#[path = "../tests/cli/common.rs"]
mod common;
use common::{TestProject, similar_paragraphs};

const RUNS: usize = 3;

/// Section sizes of the 1× chapter: 2,000 paragraphs.
const SECTIONS: [usize; 10] = [150, 250, 200, 180, 220, 170, 230, 160, 240, 200];

const CHAPTER: &str = "chapters/02-long";

/// The chapter's section sizes `scale` times over.
fn sections(scale: usize) -> Vec<usize> {
    SECTIONS.repeat(scale)
}

/// The same project as the tests use, with the long chapter in English.
fn project(scale: usize, edited: bool) -> TestProject {
    let p = TestProject::new();
    p.file(
        &format!("{CHAPTER}/en.md"),
        similar_paragraphs(&sections(scale), edited),
    );
    p
}

/// The long chapter in both languages with its translation recorded, then
/// every English paragraph edited: every Japanese paragraph is stale.
fn translated_project(scale: usize) -> TestProject {
    let p = project(scale, false);
    // The Japanese text only needs as many blocks; the status of a block
    // depends on how its own language changed since the record.
    p.file(
        &format!("{CHAPTER}/ja.md"),
        similar_paragraphs(&sections(scale), false),
    );
    check(&renga(p.path(), &["translated", "02-long"]), "translated");
    p.file(
        &format!("{CHAPTER}/en.md"),
        similar_paragraphs(&sections(scale), true),
    );
    p
}

fn renga(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("renga runs")
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "renga {what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `diff` run: its wall time and how many blocks were paired as changed.
fn diff(old: &Path, new: &Path) -> (Duration, usize) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(["--format", "json"])
        .output()
        .expect("renga runs");
    let wall = start.elapsed();
    check(&out, "diff");
    let text = String::from_utf8_lossy(&out.stdout);
    (wall, text.matches("\"status\":\"changed\"").count())
}

/// One `status` run: its wall time and how many blocks were found stale
/// because their source changed (paired), rather than removed and added.
fn status(project: &Path) -> (Duration, usize) {
    let start = Instant::now();
    let out = renga(project, &["status", "--format", "json"]);
    let wall = start.elapsed();
    check(&out, "status");
    let text = String::from_utf8_lossy(&out.stdout);
    (wall, text.matches("\"reason\":\"source-changed\"").count())
}

/// The median and minimum of `RUNS` runs, and the last run's count.
fn measure(mut run: impl FnMut() -> (Duration, usize)) -> (f64, f64, usize) {
    let mut walls = Vec::new();
    let mut count = 0;
    for _ in 0..RUNS {
        let (wall, c) = run();
        walls.push(wall);
        count = c;
    }
    walls.sort();
    (
        walls[walls.len() / 2].as_secs_f64(),
        walls[0].as_secs_f64(),
        count,
    )
}

fn main() {
    println!(
        "renga diff and renga status, a chapter of similar paragraphs in sections of 150-250, every paragraph edited"
    );
    let (mut diff_base, mut status_base) = (None, None);
    for scale in [1, 2, 4] {
        let paragraphs: usize = SECTIONS.iter().sum::<usize>() * scale;
        let (old, new) = (project(scale, false), project(scale, true));
        let (median, min, changed) = measure(|| diff(old.path(), new.path()));
        let base = *diff_base.get_or_insert(median);
        println!(
            "  diff   {scale}× ({paragraphs} paragraphs): median {median:.2} s (min {min:.2} s) over {RUNS} runs, {:.1}× the 1× time; {changed} blocks paired as changed",
            median / base
        );
        let p = translated_project(scale);
        let (median, min, stale) = measure(|| status(p.path()));
        let base = *status_base.get_or_insert(median);
        println!(
            "  status {scale}× ({paragraphs} paragraphs): median {median:.2} s (min {min:.2} s) over {RUNS} runs, {:.1}× the 1× time; {stale} blocks stale as changed",
            median / base
        );
    }
}
