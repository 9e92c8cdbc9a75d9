//! `cargo bench --bench diff`: wall time of `renga diff` between two
//! versions of a long chapter whose sections hold 150–250 paragraphs that
//! read almost alike, every paragraph edited: the case where pairing
//! blocks compares every old paragraph of a section with every new one.
//! Sizes 1× (2,000 paragraphs), 2× and 4× show how the time grows (target:
//! under 2 s at 1×, on two cores).
//!
//! Each measurement runs the real binary in a fresh process, as a reviewer
//! or CI would.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{TestProject, similar_paragraphs};

const RUNS: usize = 3;

/// Section sizes of the 1× chapter: 2,000 paragraphs.
const SECTIONS: [usize; 10] = [150, 250, 200, 180, 220, 170, 230, 160, 240, 200];

/// The chapter's section sizes `scale` times over.
fn sections(scale: usize) -> Vec<usize> {
    SECTIONS.repeat(scale)
}

/// The same project as the tests use, with the long chapter.
fn project(scale: usize, edited: bool) -> TestProject {
    let p = TestProject::new();
    p.file(
        "chapters/02-long/en.md",
        similar_paragraphs(&sections(scale), edited),
    );
    p
}

/// One run: its wall time and how many blocks were paired as changed.
fn run(old: &Path, new: &Path) -> (Duration, usize) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(["--format", "json"])
        .output()
        .expect("renga runs");
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "renga diff failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    (wall, text.matches("\"status\":\"changed\"").count())
}

fn main() {
    println!("renga diff, a chapter of similar paragraphs, every paragraph edited");
    let mut first = None;
    for scale in [1, 2, 4] {
        let (old, new) = (project(scale, false), project(scale, true));
        let mut walls = Vec::new();
        let mut changed = 0;
        for _ in 0..RUNS {
            let (wall, c) = run(old.path(), new.path());
            walls.push(wall);
            changed = c;
        }
        walls.sort();
        let median = walls[walls.len() / 2].as_secs_f64();
        let base = *first.get_or_insert(median);
        let paragraphs: usize = SECTIONS.iter().sum::<usize>() * scale;
        println!(
            "  {scale}× ({paragraphs} paragraphs): median {median:.2} s (min {:.2} s) over {RUNS} runs, {:.1}× the 1× time; {changed} blocks paired as changed",
            walls[0].as_secs_f64(),
            median / base
        );
    }
}
