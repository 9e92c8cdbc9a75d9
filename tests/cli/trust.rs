//! What renga promises a CI runner that builds untrusted pull requests:
//! nothing outside the project is read, even through symbolic links, for
//! every kind of file it reads; links that stay inside keep working.
#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::common::*;

/// A file outside any project, holding `content` (which always carries the
/// word SECRET, so a leak shows in the output).
struct Outside {
    dir: tempfile::TempDir,
}

impl Outside {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path.canonicalize().unwrap()
    }
}

/// Replaces `rel` in the project by a link to `target`.
fn link(p: &TestProject, rel: &str, target: impl AsRef<Path>) {
    let path = p.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(&path).unwrap();
    } else if path.symlink_metadata().is_ok() {
        std::fs::remove_file(&path).unwrap();
    }
    symlink(target, &path).unwrap();
}

/// `renga check --format json` fails with one error, `outside-project`,
/// at `at` (the link itself, or the line that refers to it), naming `link`
/// and where it points; nothing from the outside file shows anywhere, and
/// `renga compile` writes nothing.
fn assert_refused_at(p: &TestProject, at: &str, link: &str, target: &Path) {
    let out = p.renga(&["check", "--format", "json"]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let diags: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let errors: Vec<_> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(
        errors.len(),
        1,
        "one error for one link, no cascade: {stdout}"
    );
    let d = errors[0];
    assert_eq!(d["code"], "outside-project", "{d}");
    assert_eq!(d["file"], at, "{d}");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{link} is a link to {}", target.display())),
        "{message}"
    );
    assert!(message.contains("outside the project"), "{message}");
    assert!(!stdout.contains("SECRET") && !stderr.contains("SECRET"));
    let compiled = p.renga(&["compile"]);
    assert_eq!(compiled.status.code(), Some(1));
    assert!(!p.path().join("out").exists(), "nothing was written");
}

fn assert_refused(p: &TestProject, link: &str, target: &Path) {
    assert_refused_at(p, link, link, target);
}

const CHAPTER_EN: &str = "## Leak\n\nSECRET words from outside.\n";
const CHAPTER_JA: &str = "## 漏洩\n\nSECRET 外部の文章。\n";

#[test]
fn a_chapter_file_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let target = outside.file("en.md", CHAPTER_EN);
    p.file("chapters/09-x/ja.md", CHAPTER_JA.replace("SECRET", "内部"));
    link(&p, "chapters/09-x/en.md", &target);
    assert_refused(&p, "chapters/09-x/en.md", &target);
}

#[test]
fn a_chapter_linking_to_the_process_environment_is_refused() {
    let p = TestProject::new();
    p.file("chapters/09-x/ja.md", "## 節\n\n本文。\n");
    link(&p, "chapters/09-x/en.md", "/proc/self/environ");
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("chapters/09-x/en.md is a link to /proc/"),
        "{text}"
    );
    // The environment itself (e.g. PATH) never reaches the output.
    assert!(!text.contains("PATH=") && !stderr(&out).contains("PATH="));
}

#[test]
fn a_chapter_folder_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    outside.file("09-x/en.md", CHAPTER_EN);
    outside.file("09-x/ja.md", CHAPTER_JA);
    let target = outside.dir.path().join("09-x").canonicalize().unwrap();
    link(&p, "chapters/09-x", &target);
    assert_refused(&p, "chapters/09-x", &target);
}

#[test]
fn report_toml_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let target = outside.file(
        "report.toml",
        &REPORT_TOML.replace("Test Report", "SECRET Report"),
    );
    link(&p, "report.toml", &target);
    assert_refused(&p, "report.toml", &target);
}

#[test]
fn a_metrics_file_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let target = outside.file(
        "identity.toml",
        &JP_IDENTITY.replace("Test source B", "SECRET source"),
    );
    link(&p, "data/jp/identity.toml", &target);
    assert_refused(&p, "data/jp/identity.toml", &target);
}

#[test]
fn a_metrics_folder_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    outside.file(
        "jp/identity.toml",
        &JP_IDENTITY.replace("Test source B", "SECRET source"),
    );
    let target = outside.dir.path().join("jp").canonicalize().unwrap();
    link(&p, "data/jp", &target);
    assert_refused(&p, "data/jp", &target);
}

#[test]
fn a_template_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let (_, prelude) = renga::render::template::DEFAULTS
        .iter()
        .find(|(n, _)| *n == "prelude.typ")
        .unwrap();
    let target = outside.file("prelude.typ", &format!("{prelude}\n// SECRET\n"));
    link(&p, "templates/prelude.typ", &target);
    assert_refused(&p, "templates/prelude.typ", &target);
}

const SVG: &str = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><title>SECRET</title><rect width='10' height='10'/></svg>";

#[test]
fn an_image_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let target = outside.file("x.svg", SVG);
    link(&p, "chapters/01-intro/x.svg", &target);
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\n![A square](x.svg)\n",
    );
    // Reported at the image in the chapter, naming the link.
    assert_refused_at(
        &p,
        "chapters/01-intro/en.md",
        "chapters/01-intro/x.svg",
        &target,
    );
}

#[test]
fn a_translation_record_linking_outside_is_refused() {
    let p = TestProject::new();
    let record = "[[block]]\nen = \"000000000000\"\nja = \"000000000000\"\nen_text = \"SECRET\"\nja_text = \"SECRET\"\n";
    let outside = Outside::new();
    let target = outside.file("translation.toml", record);
    link(&p, "chapters/01-intro/translation.toml", &target);
    assert_refused(&p, "chapters/01-intro/translation.toml", &target);
}

#[test]
fn a_dangling_link_out_of_the_project_is_refused_not_missing() {
    let p = TestProject::new();
    p.file("chapters/09-x/ja.md", "## 節\n\n本文。\n");
    link(&p, "chapters/09-x/en.md", "/nonexistent/secret.md");
    let out = p.renga(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "chapters/09-x/en.md is a link to /nonexistent/secret.md, outside the project"
        ),
        "{err}"
    );
    assert!(!err.contains("has no en.md"), "no cascade: {err}");
}

/// Links that stay inside the project keep working, for every kind of file.
#[test]
fn links_inside_the_project_keep_working() {
    let p = TestProject::new();
    // A chapter kept in a drafts folder, linked in as a folder.
    p.file(
        "drafts/02-shared/en.md",
        "## Shared\n\nShared words.\n\n![A square](../../assets/square.svg)\n",
    );
    p.file(
        "drafts/02-shared/ja.md",
        "## 共有\n\n共有の文章。\n\n![四角](../../assets/square.svg)\n",
    );
    p.file("assets/square.svg", SVG.replace("SECRET", "Square"));
    link(&p, "chapters/02-shared", "../drafts/02-shared");
    // A chapter file, a metrics file, a template and an image linked one by one.
    p.file(
        "shared/intro-en.md",
        "## Purpose\n\nLinked words.\n\n![A square](pic.svg)\n",
    );
    link(&p, "chapters/01-intro/en.md", "../../shared/intro-en.md");
    link(&p, "chapters/01-intro/pic.svg", "../../assets/square.svg");
    p.file("shared/jp-identity.toml", JP_IDENTITY);
    link(&p, "data/jp/identity.toml", "../../shared/jp-identity.toml");
    let (_, prelude) = renga::render::template::DEFAULTS
        .iter()
        .find(|(n, _)| *n == "prelude.typ")
        .unwrap();
    p.file("layout/prelude.typ", prelude);
    link(&p, "templates/prelude.typ", "../layout/prelude.typ");
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = squash(&pdf_text(&p.out("test-report.en.pdf")));
    assert!(text.contains("Linkedwords."), "{text}");
    assert!(text.contains("Sharedwords."), "{text}");
}

#[test]
fn the_project_folder_itself_may_be_a_link() {
    let p = TestProject::new();
    let holder = tempfile::tempdir().unwrap();
    let alias = holder.path().join("report");
    symlink(p.path(), &alias).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["check", "--lang", "en"])
        .arg(&alias)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---- Outputs are all or nothing ----

const EN: &str = "test-report.en.pdf";
const BI: &str = "test-report.en-ja.pdf";

/// Every file and folder under `dir` with its bytes (folders: `None`).
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                todo.push(path);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn a_failed_third_write_leaves_out_byte_identical() {
    let p = TestProject::new();
    assert!(p.renga(&["compile"]).status.success());
    // A folder takes the place of the third file (the bilingual edition):
    // its rename fails after the English and Japanese PDFs were renamed.
    std::fs::remove_file(p.out(BI)).unwrap();
    std::fs::create_dir(p.out(BI)).unwrap();
    std::fs::write(p.out(BI).join("keep.txt"), "mine").unwrap();
    let before = snapshot(&p.path().join("out"));
    // New text, so that every new PDF differs from the old one.
    p.file("chapters/01-intro/en.md", "## Purpose\n\nRevised words.\n");
    p.file("chapters/01-intro/ja.md", "## 目的\n\n改訂した文章。\n");
    let out = p.renga(&["compile"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write"), "{err}");
    assert!(err.contains(BI), "names the file that failed: {err}");
    assert_eq!(
        snapshot(&p.path().join("out")),
        before,
        "out/ is byte for byte as it was: no new PDF, no temporary file"
    );
    // Once the folder is gone, the same build publishes everything.
    std::fs::remove_dir_all(p.out(BI)).unwrap();
    assert!(p.renga(&["compile"]).status.success());
    assert!(squash(&pdf_text(&p.out(EN))).contains("Revisedwords."));
}

fn manifest_entries(p: &TestProject) -> Vec<serde_json::Value> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.out("manifest.json")).unwrap()).unwrap();
    manifest["files"].as_array().unwrap().clone()
}

#[test]
fn building_one_edition_keeps_the_others_in_the_manifest_while_unchanged() {
    let p = TestProject::new();
    assert!(p.renga(&["compile"]).status.success());
    let all = manifest_entries(&p);
    assert_eq!(all.len(), 3);
    p.file("chapters/01-intro/ja.md", "## 目的\n\n改訂した文章。\n");
    let out = p.renga(&["compile", "--lang", "ja"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let now = manifest_entries(&p);
    let editions: Vec<&str> = now.iter().map(|e| e["edition"].as_str().unwrap()).collect();
    assert_eq!(editions, ["en", "ja", "en-ja"]);
    assert_eq!(now[0], all[0], "the English entry is kept as it was");
    assert_eq!(now[2], all[2], "the bilingual entry is kept as it was");
    assert_ne!(
        now[1]["sha256"], all[1]["sha256"],
        "the Japanese entry is new"
    );
    // An edition whose file changed or went away since is no longer listed.
    std::fs::write(p.out(EN), b"not the PDF renga wrote").unwrap();
    std::fs::remove_file(p.out(BI)).unwrap();
    assert!(p.renga(&["compile", "--lang", "ja"]).status.success());
    let now = manifest_entries(&p);
    let editions: Vec<&str> = now.iter().map(|e| e["edition"].as_str().unwrap()).collect();
    assert_eq!(editions, ["ja"]);
}

// ---- renga init: all or nothing, in the one diagnostic language ----

fn renga_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn init_that_cannot_finish_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report");
    std::fs::create_dir(&target).unwrap();
    // A file where the project's data/ folder must go: report.toml and the
    // chapter could be written, data/sg/example.toml cannot.
    std::fs::write(target.join("data"), "an author's notes").unwrap();
    let before = snapshot(&target);
    let out = renga_in(dir.path(), &["init", "report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let d: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(d["severity"], "error");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{d}"
    );
    assert_eq!(snapshot(&target), before, "no half-made project");
}

#[test]
fn init_that_cannot_finish_in_a_new_nested_folder_leaves_no_folder_behind() {
    let dir = tempfile::tempdir().unwrap();
    // a/ and a/b/ can be made and the project staged in a/b/, but no file
    // system takes a 300-byte name: the last step, naming the project
    // folder, fails.
    let name = format!("a/b/{}", "r".repeat(300));
    let out = renga_in(dir.path(), &["init", &name, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let d: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(d["code"], "io", "{d}");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{d}"
    );
    assert!(
        snapshot(dir.path()).is_empty(),
        "no folder left behind: {:?}",
        snapshot(dir.path()).keys().collect::<Vec<_>>()
    );
}

#[test]
fn init_in_a_new_folder_is_readable_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = renga_in(dir.path(), &["init", "a/b/report"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let root = dir.path().join("a/b/report");
    assert!(root.join("report.toml").is_file());
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".renga")),
        "no staging folder left: {names:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = root.metadata().unwrap().permissions().mode();
    assert_ne!(mode & 0o700, 0, "{mode:o}");
    assert_eq!(
        mode & 0o777,
        std::fs::metadata(dir.path().join("a/b"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        "the project folder gets the same mode as a folder made by mkdir"
    );
}

#[test]
fn init_over_a_project_reports_in_json_and_github_format() {
    let dir = tempfile::tempdir().unwrap();
    assert!(renga_in(dir.path(), &["init", "r"]).status.success());
    let before = snapshot(&dir.path().join("r"));
    let out = renga_in(dir.path(), &["init", "r", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(d["code"], "project-exists");
    assert_eq!(d["file"], "report.toml");
    assert!(d["line"].is_u64() && d["column"].is_u64(), "{d}");
    let out = renga_in(dir.path(), &["init", "r", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("::error file=report.toml,"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&dir.path().join("r")), before);
    // A wrong command line is still exit 2.
    assert_eq!(
        renga_in(dir.path(), &["init", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
}

// ---- One problem, one diagnostic ----

/// The diagnostics of `renga check --format json`, each with its file,
/// line and column.
fn check_json(p: &TestProject) -> Vec<serde_json::Value> {
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    stdout(&out)
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("JSON lines");
            assert!(
                d["file"].is_string() && d["line"].is_u64() && d["column"].is_u64(),
                "{d}"
            );
            d
        })
        .collect()
}

fn errors(diags: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    diags.iter().filter(|d| d["severity"] == "error").collect()
}

#[test]
fn an_image_without_alt_text_is_reported_once() {
    let p = TestProject::new();
    p.file("chapters/01-intro/pic.svg", SVG.replace("SECRET", "x"));
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nText.\n\n![](pic.svg)\n",
    );
    let diags = check_json(&p);
    let errors = errors(&diags);
    assert_eq!(errors.len(), 1, "{diags:?}");
    assert_eq!(errors[0]["code"], "image-alt");
    assert_eq!(errors[0]["file"], "chapters/01-intro/en.md");
    assert_eq!(errors[0]["line"], 5);
}

#[test]
fn an_unreadable_chapter_is_not_also_missing() {
    let p = TestProject::new();
    // Not UTF-8: the first bad byte is on line 3, after two characters.
    p.file(
        "chapters/01-intro/en.md",
        b"## Purpose\n\nab\xff\xfe text\n",
    );
    let diags = check_json(&p);
    let errors = errors(&diags);
    assert_eq!(errors.len(), 1, "no `has no en.md` as well: {diags:?}");
    let d = errors[0];
    assert_eq!(d["code"], "utf8");
    assert_eq!(d["file"], "chapters/01-intro/en.md");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("byte 0xff at line 3, column 3"),
        "{d}"
    );
}

#[test]
fn broken_front_matter_is_not_also_missing() {
    let p = TestProject::new();
    // Both languages broken: not "has neither en.md nor ja.md" either.
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Intro\"\n\n## Never closed\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "+++\ntitle = \"はじめに\"\n\n## 閉じない\n",
    );
    let diags = check_json(&p);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["front-matter", "front-matter"], "{diags:?}");
    // One language broken, the other fine: the broken one only.
    p.file("chapters/01-intro/ja.md", "## 目的\n\n本文。\n");
    let diags = check_json(&p);
    let errors = errors(&diags);
    assert_eq!(errors.len(), 1, "{diags:?}");
    assert_eq!(errors[0]["file"], "chapters/01-intro/en.md");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn invalid_utf8_in_metrics_and_report_toml_is_located() {
    let p = TestProject::new();
    p.file(
        "data/sg/identity.toml",
        [
            SG_IDENTITY.as_bytes(),
            b"note = { en = \"caf\xe9\", ja = \"x\" }\n",
        ]
        .concat(),
    );
    let diags = check_json(&p);
    let d = errors(&diags)[0].clone();
    assert_eq!(d["code"], "utf8");
    assert_eq!(d["file"], "data/sg/identity.toml");
    assert_eq!(
        d["line"].as_u64(),
        Some(SG_IDENTITY.lines().count() as u64 + 1)
    );
    assert_eq!(d["column"].as_u64(), Some(19));
}

#[test]
fn a_broken_metrics_file_is_not_also_every_unknown_metric() {
    let p = TestProject::new();
    // The chapter cites sg.identity.users in both languages.
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("value = 1234567", "value = \"many\""),
    );
    let diags = check_json(&p);
    let found = errors(&diags);
    assert_eq!(found.len(), 1, "{diags:?}");
    assert_eq!(found[0]["code"], "toml");
    assert_eq!(found[0]["file"], "data/sg/identity.toml");
    // One bad entry: the same.
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("source = \"Test source A\"", "source = \" \""),
    );
    let diags = check_json(&p);
    let found = errors(&diags);
    assert_eq!(found.len(), 1, "{diags:?}");
    assert_eq!(found[0]["code"], "metric-source");
}

#[test]
fn a_project_font_linking_outside_is_refused() {
    let p = TestProject::new();
    let outside = Outside::new();
    let target = outside.file("x.ttf", "SECRET, and no font");
    link(&p, "fonts/x.ttf", &target);
    let out = p.renga(&["check", "--format", "json"]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let errors: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON lines"))
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "one error for one link: {stdout}");
    assert_eq!(errors[0]["file"], "fonts/x.ttf", "{stdout}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("outside the project"), "{message}");
    assert!(!stdout.contains("SECRET") && !stderr.contains("SECRET"));
}

// ---------------------------------------------------------------------------
// Nothing under `.git` is ever read. The project folder is the checkout's
// root on CI, and `actions/checkout` keeps its token in `.git/config`: a
// chapter linked to it is "inside the project", but must never be typeset.

/// What `actions/checkout` leaves in `.git/config`, with a fake token.
const TOKEN: &str = "eC1hY2Nlc3MtdG9rZW46Z2hzX0ZBS0VUT0tFTg==";

fn git_in(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// The test project as a git checkout whose `.git/config` holds a token.
fn checkout() -> TestProject {
    let p = TestProject::new();
    git_in(p.path(), &["init", "-q"]);
    git_in(
        p.path(),
        &[
            "config",
            "http.https://github.com/.extraheader",
            &format!("AUTHORIZATION: basic {TOKEN}"),
        ],
    );
    git_in(p.path(), &["add", "."]);
    git_in(p.path(), &["commit", "-q", "-m", "first draft"]);
    p
}

/// Every file under `dir`, except `.git`, holds no trace of the token.
fn assert_no_token_in(dir: &Path) {
    for entry in walk_files(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "{} holds the token",
            entry.display()
        );
        if entry.extension().is_some_and(|e| e == "pdf") {
            assert!(!pdf_text(&entry).contains(TOKEN), "{}", entry.display());
        }
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => out.extend(walk_files(&path)),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// `check` fails with one `secret-path` error at `at`; `compile` (PDF and
/// HTML) fails and writes nothing; the token shows nowhere.
fn assert_secret_refused(p: &TestProject, at: &str) {
    let out = p.renga(&["check", "--format", "json"]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "{stdout}\n{stderr}"
    );
    let diags: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let errors: Vec<_> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(errors.len(), 1, "one error, no cascade: {stdout}");
    assert_eq!(errors[0]["code"], "secret-path", "{stdout}");
    assert_eq!(errors[0]["file"], at, "{stdout}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains(".git"),
        "{stdout}"
    );
    for args in [&["compile"][..], &["compile", "--html"][..]] {
        let out = p.renga(args);
        let (stdout, stderr) = (super::common::stdout(&out), super::common::stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_no_token_in(p.path());
    }
}

#[test]
fn a_chapter_linking_to_the_git_config_is_refused_everywhere() {
    let p = checkout();
    p.file("chapters/09-x/ja.md", "## 節\n\n本文。\n");
    link(&p, "chapters/09-x/en.md", "../../.git/config");
    assert_secret_refused(&p, "chapters/09-x/en.md");
    // Where the link leads, said relative to the project.
    let err = stderr(&p.renga(&["check"]));
    assert!(
        err.contains("chapters/09-x/en.md is a link to .git/config, under `.git`"),
        "{err}"
    );
    // Nor in the pull-request comment that `renga diff` writes, with the
    // link in the working tree or committed.
    for commit in [false, true] {
        if commit {
            git_in(p.path(), &["add", "."]);
            git_in(p.path(), &["commit", "-q", "-m", "link"]);
        }
        for args in [
            &["diff", "--format", "markdown"][..],
            &["diff", "HEAD~1", "HEAD", "--format", "markdown"][..],
        ] {
            if !commit && args.len() > 3 {
                continue;
            }
            let out = p.renga(args);
            let (stdout, stderr) = (stdout(&out), stderr(&out));
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert!(
                !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
                "{args:?}: {stdout}\n{stderr}"
            );
        }
    }
}

#[test]
fn a_chapter_folder_linking_into_git_is_refused() {
    let p = checkout();
    std::fs::create_dir_all(p.path().join(".git/renga/09-x")).unwrap();
    std::fs::write(
        p.path().join(".git/renga/09-x/en.md"),
        format!("## Leak\n\n{TOKEN}\n"),
    )
    .unwrap();
    std::fs::write(p.path().join(".git/renga/09-x/ja.md"), "## 節\n\n本文。\n").unwrap();
    link(&p, "chapters/09-x", "../.git/renga/09-x");
    assert_secret_refused(&p, "chapters/09-x");
}

#[test]
fn a_template_reading_the_git_config_is_refused() {
    let p = checkout();
    let (_, prelude) = renga::render::template::DEFAULTS
        .iter()
        .find(|(n, _)| *n == "prelude.typ")
        .unwrap();
    p.file(
        "templates/prelude.typ",
        format!("{prelude}\n#raw(read(\"/.git/config\"))\n"),
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains(".git"), "{stderr}");
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "{stderr}"
    );
    assert_no_token_in(p.path());
}

#[test]
fn an_image_under_git_is_refused_at_its_line() {
    let p = checkout();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nText.\n\n![x](../../.git/config)\n",
    );
    assert_secret_refused(&p, "chapters/01-intro/en.md");
    // Through a link inside the project that leads into `.git`, too.
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nText.\n\n![x](../../g/config)\n",
    );
    link(&p, "g", ".git");
    assert_secret_refused(&p, "chapters/01-intro/en.md");
}

#[test]
fn a_project_font_under_git_is_refused() {
    let p = checkout();
    link(&p, "fonts/x.ttf", "../.git/config");
    assert_secret_refused(&p, "fonts/x.ttf");
}

// ---------------------------------------------------------------------------
// A figure is printed exactly as the data file gives it, or refused.

#[test]
fn integer_figures_print_exactly_in_pdf_html_and_data_attributes() {
    let p = TestProject::new();
    for (literal, digits, grouped) in [
        (
            "0x7fffffffffffffff",
            "9223372036854775807",
            "9,223,372,036,854,775,807",
        ),
        (
            "9.007199254740993e15",
            "9007199254740993",
            "9,007,199,254,740,993",
        ),
        (
            "1e20",
            "100000000000000000000",
            "100,000,000,000,000,000,000",
        ),
    ] {
        p.file(
            "data/sg/identity.toml",
            SG_IDENTITY.replace("value = 1234567", &format!("value = {literal}")),
        );
        let out = p.renga(&["compile", "--lang", "en", "--html"]);
        assert!(out.status.success(), "{literal}: {}", stderr(&out));
        let pdf = pdf_text(&p.out("test-report.en.pdf"));
        assert!(pdf.contains(grouped), "{literal}: {pdf}");
        let html = std::fs::read_to_string(p.out("test-report.en.html")).unwrap();
        assert!(
            html.contains(grouped),
            "{literal}: no {grouped} in the page"
        );
        assert!(
            html.contains(&format!("<data value=\"{digits}\">")),
            "{literal}: every <data value> exact"
        );
        assert!(
            !html.contains("776000") && !pdf.contains("776,000"),
            "{literal}"
        );
    }
}

#[test]
fn a_metric_without_a_finite_value_is_one_error_at_its_line() {
    let p = TestProject::new();
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("value = 1234567", "value = nan"),
    );
    let diags = check_json(&p);
    assert_eq!(diags.len(), 1, "one problem, one diagnostic: {diags:?}");
    let found = errors(&diags);
    assert_eq!(found[0]["code"], "metric-value", "{diags:?}");
    assert_eq!(found[0]["file"], "data/sg/identity.toml");
    assert_eq!(found[0]["line"], 8, "the line of the value: {diags:?}");
}

// ---------------------------------------------------------------------------
// Outputs are confined like inputs: `out` that is a link out of the project
// is refused, unless the user names the folder with `--out`.

#[test]
fn an_out_folder_linking_outside_is_refused_unless_given_on_the_command_line() {
    let p = TestProject::new();
    let outside = Outside::new();
    let manifest = outside.file("manifest.json", "{\"report\": \"SECRET\", \"files\": []}");
    let target = outside.dir.path().canonicalize().unwrap();
    link(&p, "out", &target);
    let out = p.renga(&["compile", "--lang", "en", "--format", "json"]);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let diags: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let found = errors(&diags);
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(found[0]["code"], "outside-project", "{stdout}");
    assert_eq!(found[0]["file"], "out", "{stdout}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("out is a link to {}", target.display())),
        "{stdout}"
    );
    // Nothing written there, and the manifest there untouched.
    let names: Vec<_> = std::fs::read_dir(&target).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("SECRET")
    );
    // Named on the command line, the folder is the user's choice.
    let given = target.to_str().unwrap();
    let out = p.renga(&["compile", "--lang", "en", "--out", given]);
    assert!(out.status.success(), "{}", super::common::stderr(&out));
    assert!(target.join("test-report.en.pdf").is_file());
}

// ---------------------------------------------------------------------------
// Publishing is recoverable: a build or an import killed between two
// renames is finished by the next run, which removes what it left behind.

/// Every name in `dir` that a publish leaves behind when killed.
fn leftovers(dir: &Path) -> Vec<String> {
    walk_files(dir)
        .into_iter()
        .chain(
            std::fs::read_dir(dir)
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path()),
        )
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tmp") || n.starts_with(".renga-"))
        .collect()
}

#[test]
fn a_build_killed_between_two_renames_is_finished_by_the_next_run() {
    let p = TestProject::new();
    let out = p.renga(&["compile", "--lang", "en", "--lang", "ja"]);
    assert!(out.status.success(), "{}", stderr(&out));
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nA second draft of the purpose.\n",
    );
    // Killed after the first rename: a new PDF beside the old manifest.
    let killed = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["compile", "--lang", "en", "--lang", "ja"])
        .current_dir(p.path())
        .env("RENGA_TEST_KILL_PUBLISH_AFTER", "1")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), Some(137), "{}", stderr(&killed));
    let out_dir = p.path().join("out");
    assert!(!leftovers(&out_dir).is_empty(), "the kill left its files");
    // The next run, even one that fails, finishes the change first.
    p.file(
        "chapters/01-intro/ja.md",
        "## 目的\n\n{{metric sg.identity.nothing}}\n",
    );
    let out = p.renga(&["compile"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(leftovers(&out_dir), Vec::<String>::new());
    // Every file the manifest lists is there with the bytes it lists.
    let entries = manifest_entries(&p);
    assert_eq!(entries.len(), 2, "{entries:?}");
    for entry in entries {
        let bytes = std::fs::read(out_dir.join(entry["file"].as_str().unwrap())).unwrap();
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sha, entry["sha256"].as_str().unwrap(), "{entry}");
    }
    assert!(squash(&pdf_text(&p.out("test-report.en.pdf"))).contains("Aseconddraft"));
}
