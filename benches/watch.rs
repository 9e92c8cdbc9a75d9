//! `cargo bench --bench watch`: a watch session on a ~300-page bilingual
//! report. Targets: after a one-paragraph edit, the rebuild takes under a
//! quarter of the cold compile; resident memory after 200 rebuilds stays
//! within 20% of that after the first.

use std::path::Path;
use std::time::Instant;

use renga::pipeline::Edition;
use renga::watch::Session;

mod common;
use common::{chapter_dirs, copy_dir};

/// Resident set size of this process, in MiB (Linux).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("report.toml"), dir.path().join("report.toml")).unwrap();
    copy_dir(&root.join("data"), &dir.path().join("data"));
    // This report's eight chapters, six times over: about 300 bilingual pages.
    let chapters = chapter_dirs(root);
    for round in 0..6 {
        for (i, source) in chapters.iter().enumerate() {
            let name = source.file_name().unwrap().to_string_lossy().to_string();
            let slug = name.split_once('-').unwrap().1;
            copy_dir(
                source,
                &dir.path()
                    .join("chapters")
                    .join(format!("{:02}-{slug}-{round}", round * 10 + i + 1)),
            );
        }
    }
    // Cross-chapter links point at the originals' names; they only warn.
    let out = dir.path().join("out");
    let mut session = Session::new(dir.path(), vec![Edition::Bilingual], out, false);

    let start = Instant::now();
    let first = session.rebuild(true);
    let cold = start.elapsed();
    assert!(
        !first.failed,
        "{:?}",
        first
            .diagnostics
            .items
            .iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    );
    let pages = first.built.first().map_or(0, |b| b.1);
    println!("watch: bilingual edition of {pages} pages");
    println!(
        "  cold compile (first build):  {:>7.0} ms",
        cold.as_secs_f64() * 1000.0
    );

    let target = dir
        .path()
        .join(format!("chapters/{:02}-cybersecurity-2/en.md", 2 * 10 + 4));
    let original = std::fs::read_to_string(&target).unwrap();
    let edit = |n: usize| {
        // Change one word of the first long paragraph.
        let text = original.replacen(". ", &format!(" (edit {n}). "), 1);
        std::fs::write(&target, text).unwrap();
    };

    edit(0);
    let start = Instant::now();
    let warm = session.rebuild(false);
    let incremental = start.elapsed();
    assert!(!warm.failed && !warm.built.is_empty());
    let rss_first = rss_mib();
    println!(
        "  one-paragraph edit rebuild:  {:>7.0} ms = {:.1}% of cold (target < 25%)",
        incremental.as_secs_f64() * 1000.0,
        100.0 * incremental.as_secs_f64() / cold.as_secs_f64()
    );

    let rebuilds = std::env::var("RENGA_BENCH_REBUILDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let start = Instant::now();
    for n in 1..rebuilds {
        edit(n);
        let r = session.rebuild(false);
        assert!(!r.failed);
    }
    let rss_last = rss_mib();
    println!(
        "  {rebuilds} rebuilds: mean {:.0} ms; resident memory after the first {:.0} MiB, after the last {:.0} MiB ({:+.1}%, target within 20%)",
        start.elapsed().as_secs_f64() * 1000.0 / (rebuilds.max(2) - 1) as f64,
        rss_first,
        rss_last,
        100.0 * (rss_last - rss_first) / rss_first
    );
}
