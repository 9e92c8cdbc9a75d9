//! `cargo bench --bench compile`: wall time of `renga compile` on this
//! repository's report (target: three editions under 2 s on two cores) and on
//! a generated report of 200 chapters in both languages, where renga's own
//! stages (everything but typst's layout and PDF export) should stay under 5%;
//! and the web editions' build time next to the PDFs' (`html`, target < 10%).
//!
//! Each measurement runs the real binary in a fresh process, as an author or
//! CI would; stage times come from `renga compile --timings`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{chapter_dirs, copy_dir};

const RUNS: usize = 5;

fn renga(project: &Path, out: &Path) -> (Duration, Vec<(String, f64)>) {
    renga_with(project, out, &[])
}

fn renga_with(project: &Path, out: &Path, extra: &[&str]) -> (Duration, Vec<(String, f64)>) {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("compile")
        .arg(project)
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg("--timings")
        .output()
        .expect("renga runs");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "renga compile failed:\n{stderr}");
    let stages = stderr
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_suffix(" ms")?;
            let (name, ms) = l.rsplit_once(' ')?;
            Some((name.trim().to_string(), ms.trim().parse().ok()?))
        })
        .filter(|(name, _): &(String, f64)| name != "total")
        .collect();
    (wall, stages)
}

fn report(name: &str, project: &Path, runs: usize) {
    let out = tempfile::tempdir().unwrap();
    let mut walls = Vec::new();
    let mut last = Vec::new();
    for _ in 0..runs {
        let (wall, stages) = renga(project, out.path());
        walls.push(wall);
        last = stages;
    }
    walls.sort();
    let median = walls[walls.len() / 2];
    let typst: f64 = last
        .iter()
        .filter(|(n, _)| n.starts_with("layout") || n.starts_with("pdf"))
        .map(|s| s.1)
        .sum();
    let total: f64 = last.iter().map(|s| s.1).sum();
    let own = total - typst;
    println!("{name}");
    println!(
        "  wall: min {:.2} s, median {:.2} s over {} run(s)",
        walls[0].as_secs_f64(),
        median.as_secs_f64(),
        walls.len()
    );
    for (stage, ms) in &last {
        println!("  {stage:<14} {ms:>9.1} ms");
    }
    println!(
        "  renga's own stages: {own:.1} ms of {total:.1} ms = {:.2}%",
        100.0 * own / total
    );
    let pages: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .map(|e| {
            format!(
                "{} ({} KB)",
                e.file_name().to_string_lossy(),
                e.metadata().unwrap().len() / 1024
            )
        })
        .collect();
    println!("  outputs: {}", pages.join(", "));
}

/// A report of `count` chapters made from this repository's chapters, in turn.
fn generate_large(root: &Path, dir: &Path, count: usize) {
    std::fs::copy(root.join("report.toml"), dir.join("report.toml")).unwrap();
    copy_dir(&root.join("data"), &dir.join("data"));
    let sources = chapter_dirs(root);
    for i in 0..count {
        let source = &sources[i % sources.len()];
        let name = source.file_name().unwrap().to_string_lossy();
        let slug = name.split_once('-').map_or(name.as_ref(), |(_, s)| s);
        let target = dir.join("chapters").join(format!("{:03}-{slug}", i + 1));
        copy_dir(source, &target);
        // Links between chapters point at the copies' new names: keep them
        // valid by pointing each at its own chapter.
        for lang in ["en", "ja"] {
            let file = target.join(format!("{lang}.md"));
            let text = std::fs::read_to_string(&file).unwrap();
            let fixed = regex_free_relink(&text, &format!("{:03}-{slug}", i + 1));
            std::fs::write(&file, fixed).unwrap();
        }
    }
}

/// Rewrites `](../NN-name/` links to `](../<own>/`.
fn regex_free_relink(text: &str, own: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("](../") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        if let Some(end) = rest.find('/') {
            out.push_str(own);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The web editions' build time next to the PDFs' (target: under 10%).
/// The HTML editions' cost is what `--html` adds: their stages (chapters
/// written as HTML, three pages rendered), since loading and converting are
/// shared with the PDFs. It is set against the wall time of building the
/// three PDFs alone, what an author waits for, and against the PDFs' own
/// stages (layout and export, which run side by side).
fn html(project: &Path, runs: usize) {
    let out = tempfile::tempdir().unwrap();
    let mut html = Vec::new();
    let mut typst = Vec::new();
    let mut pdf_wall = Vec::new();
    for _ in 0..runs {
        let (wall, _) = renga(project, out.path());
        pdf_wall.push(wall.as_secs_f64() * 1000.0);
        let (_, stages) = renga_with(project, out.path(), &["--html"]);
        let sum = |prefix: &[&str]| -> f64 {
            stages
                .iter()
                .filter(|(n, _)| prefix.iter().any(|p| n.starts_with(p)))
                .map(|s| s.1)
                .sum()
        };
        html.push(sum(&["html"]));
        typst.push(sum(&["layout", "pdf"]));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (h, t, w) = (median(&mut html), median(&mut typst), median(&mut pdf_wall));
    println!("web editions of this report (median of {runs} runs):");
    println!("  HTML, three editions (html stages):        {h:>9.1} ms");
    println!("  PDF, three editions (wall, without --html): {w:>9.1} ms");
    println!("  PDF layout and export stages (summed):     {t:>9.1} ms");
    println!(
        "  HTML / PDF wall: {:.2}%, HTML / PDF stages: {:.2}% (target < 10%)",
        100.0 * h / w,
        100.0 * h / t
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks one benchmark.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if "report".contains(filter.as_str()) {
        report("this report (3 editions)", root, RUNS);
    }
    if "html".contains(filter.as_str()) {
        html(root, RUNS);
    }
    if "large".contains(filter.as_str()) {
        let dir = tempfile::tempdir().unwrap();
        generate_large(root, dir.path(), 200);
        report(
            "generated report: 200 chapters × 2 languages (3 editions)",
            dir.path(),
            1,
        );
    }
}
