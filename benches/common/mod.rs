//! Helpers shared by the benchmarks.

// Each benchmark uses some of them, and is compiled with its own copy.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use renga::review::records;

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// This repository's chapter folders, in order.
pub fn chapter_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("chapters"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// A report of `count` chapters made from this repository's chapters in
/// turn. Every paragraph of a copy starts with its own number (§7.12), so
/// no two chapters have the same text and typst lays out each afresh.
pub fn generate(root: &Path, dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(root.join("report.toml"), dir.join("report.toml")).unwrap();
    copy_dir(&root.join("data"), &dir.join("data"));
    let sources = chapter_dirs(root);
    for i in 0..count {
        let source = &sources[i % sources.len()];
        let name = source.file_name().unwrap().to_string_lossy();
        let slug = name.split_once('-').map_or(name.as_ref(), |(_, s)| s);
        let own = format!("{:03}-{slug}", i + 1);
        let target = dir.join("chapters").join(&own);
        copy_dir(source, &target);
        // The originals' records do not match the numbered copies.
        let _ = std::fs::remove_file(target.join(records::RECORD));
        for lang in ["en", "ja"] {
            let file = target.join(format!("{lang}.md"));
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, number_paragraphs(&relink(&text, &own), i + 1)).unwrap();
        }
    }
}

/// Rewrites `](../NN-name/` links to `](../<own>/`, so that links between
/// chapters stay valid in the copies.
fn relink(text: &str, own: &str) -> String {
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

/// Starts every paragraph (outside front matter, code and tables) with
/// `§chapter.paragraph`.
fn number_paragraphs(text: &str, chapter: usize) -> String {
    let mut out = String::with_capacity(text.len() + 4096);
    let (mut front, mut fence, mut blank) = (false, false, true);
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t == "+++" && (i == 0 || front) {
            front = !front;
        } else if t.starts_with("```") {
            fence = !fence;
        }
        let starts_paragraph =
            blank && !front && !fence && t.chars().next().is_some_and(|c| c.is_alphabetic());
        if starts_paragraph {
            n += 1;
            out.push_str(&format!("§{chapter}.{n} "));
        }
        out.push_str(line);
        out.push('\n');
        blank = t.is_empty();
    }
    out
}

/// Wall and CPU time of `f` (CPU time of this whole process, so on every
/// thread): CPU time is renga's own work, whatever else runs on the machine.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (wall, cpu) = (Instant::now(), cpu_time());
    let out = f();
    (out, wall.elapsed(), cpu_time().saturating_sub(cpu))
}

pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The machine's load average over the last minute: how many other
/// processes competed for its cores while a figure was measured.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
