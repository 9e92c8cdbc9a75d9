//! `cargo bench --bench watch`: a watch session on a ~300-page bilingual
//! report, then (`-- book`: only this) on the generated book of
//! `benches/book.rs`, all three editions (~450 pages each, the bilingual
//! ~750). Targets: after a one-paragraph edit, the rebuild takes under a
//! quarter of the cold compile; resident memory after 200 rebuilds stays
//! within 20% of that after the first. `RENGA_BENCH_REBUILDS` sets another
//! number of rebuilds. Times are given as CPU time of the process (renga's
//! and typst's work, whatever else runs on the machine) and wall time.

use std::path::Path;
use std::time::Instant;

use renga::cli::watch::Session;
use renga::pipeline::Edition;

mod common;
use common::{chapter_dirs, copy_dir, cpu_time, generate, load};

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
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    if filter != "book" {
        report();
    }
    if "book".contains(filter.as_str()) {
        book();
    }
}

fn rebuilds() -> usize {
    std::env::var("RENGA_BENCH_REBUILDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// A watch session on the generated book, all three editions: the cold
/// build, then one paragraph of one chapter's English text edited again and
/// again (the English and bilingual editions are laid out again each time).
fn book() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    generate(root, dir.path(), 128);
    let out = dir.path().join("out");
    let mut session = Session::new(dir.path(), Edition::ALL.to_vec(), out, false);
    let (wall, cpu) = (Instant::now(), cpu_time());
    let first = session.rebuild(true);
    let (cold_wall, cold_cpu) = (wall.elapsed(), cpu_time() - cpu);
    assert!(!first.failed, "the book builds");
    let pages: Vec<String> = first
        .built
        .iter()
        .map(|(e, p)| format!("{} {p}", e.code()))
        .collect();
    println!("watch: the generated book, pages {}", pages.join(", "));
    println!(
        "  cold build: CPU {:.1} s (wall {:.1} s), resident {:.0} MiB; load average {}",
        cold_cpu.as_secs_f64(),
        cold_wall.as_secs_f64(),
        rss_mib(),
        load()
    );

    let target = chapter_dirs(dir.path())[40].join("en.md");
    let original = std::fs::read_to_string(&target).unwrap();
    let rebuilds = rebuilds();
    let mut first_rss = 0.0;
    let (mut total_cpu, mut total_wall) = (0.0, 0.0);
    let (mut min_cpu, mut max_cpu) = (f64::MAX, 0.0f64);
    for n in 0..rebuilds {
        let text = original.replacen(". ", &format!(" (edit {n}). "), 1);
        std::fs::write(&target, text).unwrap();
        let (wall, cpu) = (Instant::now(), cpu_time());
        let r = session.rebuild(false);
        let (wall, cpu) = (
            wall.elapsed().as_secs_f64(),
            (cpu_time() - cpu).as_secs_f64(),
        );
        assert!(!r.failed && r.built.len() == 2, "{:?}", r.built);
        total_cpu += cpu;
        total_wall += wall;
        min_cpu = min_cpu.min(cpu);
        max_cpu = max_cpu.max(cpu);
        if n > 0 && (n + 1) % 10 == 0 {
            println!(
                "    after {} rebuilds: resident {:.0} MiB, this rebuild CPU {cpu:.2} s; load average {}",
                n + 1,
                rss_mib(),
                load()
            );
        }
        if n == 0 {
            first_rss = rss_mib();
            println!(
                "  first one-paragraph edit: CPU {:.2} s = {:.1}% of cold (wall {:.2} s = {:.1}%; target < 25%), resident {:.0} MiB; load average {}",
                cpu,
                100.0 * cpu / cold_cpu.as_secs_f64(),
                wall,
                100.0 * wall / cold_wall.as_secs_f64(),
                first_rss,
                load()
            );
        }
    }
    let n = rebuilds.max(1) as f64;
    let last_rss = rss_mib();
    println!(
        "  {rebuilds} rebuilds: mean CPU {:.2} s = {:.1}% of cold (min {:.2}, max {:.2}; mean wall {:.2} s = {:.1}%); resident after the first {:.0} MiB, after the last {:.0} MiB ({:+.1}%, target within 20%); load average {}",
        total_cpu / n,
        100.0 * total_cpu / n / cold_cpu.as_secs_f64(),
        min_cpu,
        max_cpu,
        total_wall / n,
        100.0 * total_wall / n / cold_wall.as_secs_f64(),
        first_rss,
        last_rss,
        100.0 * (last_rss - first_rss) / first_rss,
        load()
    );
}

/// The watch session on this report, six times over.
fn report() {
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

    let rebuilds = rebuilds();
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
