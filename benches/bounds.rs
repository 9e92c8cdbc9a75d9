//! `cargo bench --bench bounds`: how the work renga bounds grows with its
//! input (issue #22), at 1×, 2× and 4× sizes:
//!
//! - `xliff import` of a file whose every unit is refused (each placed at
//!   its line): 10,000, 20,000 and 40,000 units, in a fresh process each;
//! - the SVG text check renga makes before typst sees a figure, in-process,
//!   on 1, 2 and 4 MB of text;
//! - `renga check` of a chapter with an SVG figure holding 5,000, 10,000
//!   and 20,000 characters of text (20,000 is the most renga accepts: what
//!   is left of usvg's quadratic text layout).
//!
//! Linear growth doubles the time from one size to the next.

use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/cli/common.rs"]
mod common;
use common::TestProject;

fn xliff(units: usize) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">\n<file original=\"chapters\" source-language=\"en\" target-language=\"ja\" datatype=\"x-markdown\">\n<body>\n",
    );
    for i in 0..units {
        out.push_str(&format!(
            "<trans-unit id=\"99-none/en/{i}\">\n<source>Text {i}.</source>\n<target state=\"translated\">本文{i}。</target>\n</trans-unit>\n"
        ));
    }
    out.push_str("</body>\n</file>\n</xliff>\n");
    out
}

fn timed(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn report(what: &str, sizes: &[usize], times: &[Duration]) {
    for (size, time) in sizes.iter().zip(times) {
        println!("{what:<40} {size:>9}  {:>8.3} s", time.as_secs_f64());
    }
    for pair in times.windows(2) {
        println!(
            "{what:<40} ratio {:.2}",
            pair[1].as_secs_f64() / pair[0].as_secs_f64().max(1e-9)
        );
    }
}

fn main() {
    let renga = env!("CARGO_BIN_EXE_renga");

    let sizes = [10_000, 20_000, 40_000];
    let times: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let p = TestProject::new();
            p.file("units.xlf", xliff(n));
            timed(|| {
                let out = Command::new(renga)
                    .args(["xliff", "import", "units.xlf", "--format", "json"])
                    .current_dir(p.path())
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(1), "every unit is refused");
            })
        })
        .collect();
    report("xliff import, units refused", &sizes, &times);

    let sizes = [1 << 20, 2 << 20, 4 << 20];
    let times: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let svg = format!("<svg><text>{}</text></svg>", "a".repeat(n));
            timed(|| {
                assert!(renga::typeset::svg::too_much_text(svg.as_bytes()).is_some());
            })
        })
        .collect();
    report("SVG text check, characters", &sizes, &times);

    let sizes = [5_000, 10_000, 20_000];
    let times: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let p = TestProject::new();
            p.file(
                "chapters/01-intro/fig.svg",
                format!(
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"20\"><text x=\"0\" y=\"10\">{}</text></svg>",
                    "a ".repeat(n / 2)
                ),
            );
            p.file("chapters/01-intro/en.md", "## Purpose\n\n![A figure](fig.svg)\n");
            timed(|| {
                let out = Command::new(renga)
                    .args(["check", "--lang", "en"])
                    .current_dir(p.path())
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            })
        })
        .collect();
    report("check, SVG text characters", &sizes, &times);
}
