//! The web editions in a real browser: the three HTML editions of this
//! repository's report and of a fresh `renga init` project (which uses every
//! chapter feature) are loaded in headless Chromium and checked by
//! tests/browser/check.mjs: axe-core with the WCAG 2.0/2.1/2.2 A and AA rules
//! (zero violations), the Nu Html Checker (zero errors), nothing requested
//! from the network, and the bilingual layout in screenshots at desktop and
//! phone widths (paired sections level side by side, stacked on a phone).
//!
//! The tools are not optional: without Chromium, Node.js, Java or the npm
//! packages this test fails and says what to install (`.ci/run` installs all
//! of them), so a CI machine without a browser never passes unchecked.
//! The screenshots are kept in `target/tmp/browser-shots/` for a person to
//! look at.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::stderr;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The program `name` on the PATH, or a failure saying how to get it.
fn require(name: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}` is not installed: the web editions are checked in a real browser. \
         Install Debian's `{package}` (`.ci/run` installs everything this test needs)"
    );
}

/// Runs `renga ARGS`, which must succeed.
fn renga(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("renga runs");
    assert!(out.status.success(), "renga {args:?}: {}", stderr(&out));
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    files.sort();
    files
}

#[test]
fn web_editions_pass_axe_and_the_validator_and_pair_level_in_chromium() {
    require("chromium", "chromium");
    require("node", "nodejs");
    require("java", "default-jre-headless");
    let harness = repo().join("tests/browser");
    assert!(
        harness.join("node_modules/puppeteer-core").is_dir()
            && harness.join("node_modules/axe-core").is_dir()
            && harness.join("node_modules/vnu-jar").is_dir(),
        "the browser harness's npm packages are missing: run `npm ci` in tests/browser \
         (`.ci/run` does)"
    );

    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report");
    renga(&[
        "compile",
        repo().to_str().unwrap(),
        "--html",
        "--quiet",
        "--out",
        report.to_str().unwrap(),
    ]);
    let example = work.path().join("example");
    renga(&["init", example.to_str().unwrap()]);
    // The example is a draft: an image not in the project yet shows as a
    // placeholder, checked like the rest (contrast, validity, and a long
    // path that must not widen a phone's page).
    let chapter = example.join("chapters/01-getting-started");
    for (lang, alt) in [("en", "The architecture"), ("ja", "構成図")] {
        let path = chapter.join(format!("{lang}.md"));
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!(
            "\n![{alt}](images/architecture-of-the-verifiable-credentials-exchange-between-agencies.svg)\n"
        ));
        std::fs::write(&path, text).unwrap();
    }
    renga(&["compile", example.to_str().unwrap(), "--html", "--quiet"]);
    let page = std::fs::read_to_string(example.join("out/my-report.en-ja.html")).unwrap();
    assert_eq!(page.matches("class=\"missing-image\"").count(), 2);

    let mut files = html_files(&report);
    files.extend(html_files(&example.join("out")));
    // Three editions of each: a missing one would pass unchecked.
    assert_eq!(files.len(), 6, "{files:?}");

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-shots");
    let out = Command::new("node")
        .arg(harness.join("check.mjs"))
        .arg(&shots)
        .args(&files)
        .current_dir(&harness)
        .output()
        .expect("node runs");
    let report_text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report_text}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{report_text}"
    );
    // Every file was checked by both tools, and the layout was measured.
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            report_text.contains(&format!("{name}: axe: ")),
            "{name} not checked by axe:\n{report_text}"
        );
    }
    assert!(
        report_text.contains(&format!("vnu: 0 error(s) in {} file(s)", files.len())),
        "{report_text}"
    );
    for name in ["sg-jp-digital-government-report", "my-report"] {
        for width in ["desktop", "phone"] {
            let shot = shots.join(format!("{name}.en-ja.{width}.png"));
            assert!(shot.is_file(), "no screenshot {}", shot.display());
        }
    }
}

#[test]
fn a_served_page_reloads_by_itself_in_chromium_and_shows_a_broken_build() {
    require("chromium", "chromium");
    require("node", "nodejs");
    let harness = repo().join("tests/browser");
    assert!(
        harness.join("node_modules/puppeteer-core").is_dir(),
        "the browser harness's npm packages are missing: run scripts/test"
    );
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("report");
    renga(&["init", project.to_str().unwrap()]);
    let serve = crate::serve::Serve::start(&project, &[]);
    let out = Command::new("node")
        .arg(harness.join("serve.mjs"))
        .arg(format!("http://{}/my-report.en-ja.html", serve.addr))
        .arg(project.join("chapters/01-getting-started/en.md"))
        .current_dir(&harness)
        .output()
        .expect("node runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "live reload in Chromium:\n{text}");
    assert!(text.contains("reloaded by itself"), "{text}");
    assert!(
        text.contains("the error went with the next good save"),
        "{text}"
    );
}
