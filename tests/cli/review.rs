//! Reviewers' commands on temporary git repositories: `renga diff` between
//! revisions and folders (terminal, markdown, JSON, redline PDF), and
//! translation status with `renga status` and `renga translated`.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;
use serde_json::Value;

const EN: &str = "chapters/01-intro/en.md";
const JA: &str = "chapters/01-intro/ja.md";

/// Runs git in `dir`, as a user with a name, and insists that it works.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// The test project committed to a new repository, with its translation recorded.
fn repository() -> TestProject {
    let p = TestProject::new();
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "first draft"]);
    p
}

fn edit(p: &TestProject, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(p.path().join(rel)).unwrap();
    assert!(text.contains(from), "{rel} has no `{from}`");
    p.file(rel, text.replace(from, to));
}

/// The JSON document a command printed: for `diff`, the last of its JSON
/// lines (problems come first, each on a line of its own).
fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    let text = stdout(out);
    serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(text.trim_end().rsplit('\n').next().unwrap_or("")))
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Word changes (`words` of a diff block, `changes` of a stale block) as
/// (op, text) pairs.
fn ops(changes: &Value) -> Vec<(String, String)> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["op"].as_str().unwrap().to_string(),
                w["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_english_paragraph_edit_is_that_paragraphs_word_change() {
    let p = repository();
    edit(&p, EN, "residents.", "citizens.");

    // The working tree (uncommitted) against HEAD, the default.
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let chapters = report["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 1, "{report:#}");
    assert_eq!(chapters[0]["chapter"], "01-intro");
    assert_eq!(chapters[0]["status"], "changed");
    let texts = chapters[0]["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 1, "only the English text changed: {report:#}");
    assert_eq!(texts[0]["lang"], "en");
    let blocks = texts[0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{report:#}");
    assert_eq!(blocks[0]["status"], "changed");
    assert_eq!(blocks[0]["kind"], "paragraph");
    assert_eq!(blocks[0]["section"], "Purpose");
    assert_eq!(blocks[0]["new"]["line"], 8);
    assert_eq!(
        ops(&blocks[0]["words"]),
        [
            ("equal", "Singpass serves 1,234,567 people "),
            ("delete", "residents."),
            ("insert", "citizens."),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(report["metrics"].as_array().unwrap().is_empty());

    let out = p.renga(&["diff", "--format", "markdown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(
        md.contains("- **01-intro** · Introduction — changed: en 1 block (1 changed)"),
        "{md}"
    );
    assert!(
        md.contains("Singpass serves 1,234,567 people <del>residents.</del><ins>citizens.</ins>"),
        "{md}"
    );

    // Piped (and NO_COLOR): plain markers, no escape codes.
    let out = p.renga(&["diff"]);
    let text = stdout(&out);
    assert!(
        text.contains("Singpass serves 1,234,567 people [-residents.-]{+citizens.+}"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text}");
}

#[test]
fn an_english_edit_makes_exactly_the_japanese_block_stale_until_recorded() {
    let p = repository();
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");
    assert!(p.renga(&["status", "--strict"]).status.success());

    edit(&p, EN, "residents.", "citizens.");
    let status = json(&p.renga(&["status", "--format", "json"]));
    let chapter = &status["chapters"][0];
    assert_eq!(chapter["chapter"], "01-intro");
    assert_eq!(chapter["state"], "stale");
    let blocks = chapter["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{status:#}");
    assert_eq!(blocks[0]["lang"], "ja");
    assert_eq!(blocks[0]["block"], 2, "the paragraph after the heading");
    assert_eq!(blocks[0]["line"], 8);
    assert_eq!(blocks[0]["reason"], "source-changed");
    assert_eq!(blocks[0]["source"], "en");
    assert_eq!(
        ops(&blocks[0]["changes"]["en"]),
        [
            ("equal", "Singpass serves {{metric sg.identity.users}} "),
            ("delete", "residents."),
            ("insert", "citizens."),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    let out = p.renga(&["status"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "without --strict, stale is no failure"
    );
    assert!(text.contains("01-intro  stale: block 2 (ja)"), "{text}");
    assert!(
        text.contains("ja.md block 2 (line 8): its English source changed"),
        "{text}"
    );
    assert!(text.contains("[-residents.-]{+citizens.+}"), "{text}");
    assert_eq!(p.renga(&["status", "--strict"]).status.code(), Some(1));

    // The translator updates the Japanese block and records it.
    edit(&p, JA, "が利用している。", "が市民として利用している。");
    let out = p.renga(&["translated", "01-intro", "--block", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");
    assert!(p.renga(&["status", "--strict"]).status.success());

    // The record is plain text, and the change to it is one block's.
    let record =
        std::fs::read_to_string(p.path().join("chapters/01-intro/translation.toml")).unwrap();
    assert!(
        record.starts_with("# Written by `renga translated`"),
        "{record}"
    );
    assert!(
        record.contains("en_text = \"Singpass serves {{metric sg.identity.users}} citizens.\""),
        "{record}"
    );
    let diff = Command::new("git")
        .args([
            "diff",
            "--numstat",
            "--",
            "chapters/01-intro/translation.toml",
        ])
        .current_dir(p.path())
        .output()
        .unwrap();
    assert!(
        stdout(&diff).starts_with("4\t4\t"),
        "one block's four lines changed: {}",
        stdout(&diff)
    );
}

#[test]
fn a_japanese_edit_makes_the_english_block_stale_and_a_whole_record_clears_it() {
    let p = repository();
    edit(&p, JA, "## 目的", "## 本書の目的");
    let status = json(&p.renga(&["status", "--format", "json"]));
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{status:#}");
    assert_eq!(blocks[0]["lang"], "en");
    assert_eq!(blocks[0]["block"], 1);
    assert_eq!(blocks[0]["source"], "ja");

    // A new English paragraph is untranslated, and shifts nothing else.
    p.file(
        EN,
        std::fs::read_to_string(p.path().join(EN)).unwrap() + "\nA new closing paragraph.\n",
    );
    let status = json(&p.renga(&["status", "--format", "json"]));
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{status:#}");
    assert_eq!(blocks[1]["reason"], "source-added");
    assert_eq!(blocks[1]["lang"], "ja");
    assert_eq!(blocks[1]["block"], Value::Null);
    assert_eq!(blocks[1]["en_block"], 3);

    // Recording the chapter records its pairs; the new block stays
    // untranslated…
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("en.md block 3 (line 10) is not recorded: it has no Japanese translation"),
        "{}",
        stderr(&out)
    );
    let status = json(&p.renga(&["status", "--format", "json"]));
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{status:#}");
    assert_eq!(blocks[0]["reason"], "source-added");
    // …until both languages have the block.
    p.file(
        JA,
        std::fs::read_to_string(p.path().join(JA)).unwrap() + "\n新しい結びの段落。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");
}

#[test]
fn status_lists_missing_and_unrecorded_chapters() {
    let p = TestProject::new();
    p.file(
        "chapters/02-english-only/en.md",
        "## Only English\n\nText.\n",
    );
    let out = p.renga(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("01-intro         not recorded (run `renga translated 01-intro`)"),
        "{text}"
    );
    assert!(text.contains("02-english-only  missing ja.md"), "{text}");
    assert_eq!(p.renga(&["status", "--strict"]).status.code(), Some(1));
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][1]["state"], "missing");
    assert_eq!(status["chapters"][1]["missing"][0], "ja");

    let out = p.renga(&["translated", "03-nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no chapter `03-nowhere`")
            && stderr(&out).contains("chapters: 01-intro, 02-english-only"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_redline_pdf_marks_inserted_and_deleted_words() {
    let p = repository();
    edit(&p, EN, "residents.", "citizens.");
    edit(&p, JA, "が利用している。", "が日常的に利用している。");
    let out = p.renga(&["diff", "--pdf", "redline.pdf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = squash(&pdf_text(&p.path().join("redline.pdf")));
    assert!(text.contains("Summaryofchanges"), "{text}");
    assert!(
        text.contains("01-intro(en),line8:paragraphchanged"),
        "{text}"
    );
    // Both words, the deleted before the inserted, in both languages.
    assert!(
        text.contains("Singpassserves1,234,567peopleresidents.citizens."),
        "{text}"
    );
    assert!(text.contains("日常的に"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(p.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files are left behind");

    // A version that cannot be typeset writes nothing.
    p.file(
        EN,
        std::fs::read_to_string(p.path().join(EN)).unwrap()
            + "\nSee {{metric sg.identity.user}}.\n",
    );
    let out = p.renga(&["diff", "--pdf", "broken.pdf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown metric"), "{}", stderr(&out));
    assert!(!p.path().join("broken.pdf").exists());
}

#[test]
fn metric_value_changes_show_old_and_new_values() {
    let p = repository();
    edit(
        &p,
        "data/sg/identity.toml",
        "value = 1234567",
        "value = 1300000",
    );
    edit(
        &p,
        "data/jp/identity.toml",
        "as_of = 2025-03-31",
        "as_of = 2025-06-30",
    );
    git(p.path(), &["commit", "-q", "-a", "-m", "new figures"]);

    // Two revisions, the working tree left aside.
    let report = json(&p.renga(&["diff", "HEAD~1", "HEAD", "--format", "json"]));
    let metrics = report["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 2, "{report:#}");
    let sg = metrics
        .iter()
        .find(|m| m["key"] == "sg.identity.users")
        .unwrap();
    assert_eq!(sg["status"], "changed");
    assert_eq!(sg["changed"], serde_json::json!(["value"]));
    assert_eq!(sg["old"]["text"]["en"], "1,234,567 people");
    assert_eq!(sg["new"]["text"]["en"], "1,300,000 people");
    assert_eq!(sg["old"]["text"]["ja"], "123万4,567人");
    assert_eq!(sg["new"]["text"]["ja"], "130万人");
    let jp = metrics
        .iter()
        .find(|m| m["key"] == "jp.identity.users")
        .unwrap();
    assert_eq!(jp["changed"], serde_json::json!(["as_of"]));
    assert_eq!(jp["old"]["as_of"], "2025-03-31");
    assert_eq!(jp["new"]["as_of"], "2025-06-30");

    let text = stdout(&p.renga(&["diff", "HEAD~1", "HEAD"]));
    assert!(
        text.contains("sg.identity.users · Digital ID users: 1,234,567 people → 1,300,000 people"),
        "{text}"
    );
    assert!(
        text.contains("as of 31 March 2025 → 30 June 2025"),
        "{text}"
    );
    let md = stdout(&p.renga(&["diff", "HEAD~1", "HEAD", "--format", "markdown"]));
    assert!(
        md.contains("| value | 1,234,567 people<br>123万4,567人<br>2024-12-31 | 1,300,000 people<br>130万人<br>2024-12-31 |"),
        "{md}"
    );
    // The paragraph that cites the figure reads differently too.
    assert!(
        md.contains("<del>1,234,567</del><ins>1,300,000</ins>"),
        "{md}"
    );
}

#[test]
fn two_folders_compare_without_git_and_chapters_are_matched_by_name_and_content() {
    let old = TestProject::new();
    let new = TestProject::new();
    // Renumbered (same name), renamed (same text), added.
    new.file(
        "chapters/02-intro/en.md",
        std::fs::read_to_string(old.path().join(EN)).unwrap(),
    );
    new.file(
        "chapters/02-intro/ja.md",
        std::fs::read_to_string(old.path().join(JA)).unwrap(),
    );
    std::fs::remove_dir_all(new.path().join("chapters/01-intro")).unwrap();
    let long = "## Trust\n\nVerified credentials let a holder prove facts about themselves to a verifier.\n";
    old.file("chapters/03-credentials/en.md", long);
    old.file(
        "chapters/03-credentials/ja.md",
        "## 信頼\n\n検証可能な資格情報。\n",
    );
    new.file("chapters/03-verified-credentials/en.md", long);
    new.file(
        "chapters/03-verified-credentials/ja.md",
        "## 信頼\n\n検証可能な資格情報。\n",
    );
    new.file("chapters/04-new/en.md", "## New\n\nA new chapter.\n");
    new.file("chapters/04-new/ja.md", "## 新章\n\n新しい章。\n");

    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .arg(old.path())
        .arg(new.path())
        .args(["--format", "json"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let report = json(&out);
    let chapters = report["chapters"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = chapters
        .iter()
        .map(|c| {
            (
                c["chapter"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["renamed_from"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("02-intro", "unchanged", "01-intro"),
            ("03-verified-credentials", "unchanged", "03-credentials"),
            ("04-new", "added", ""),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())),
        "{report:#}"
    );
}

#[test]
fn a_project_in_a_subfolder_of_the_repository_is_read_at_its_revision() {
    let repo = TestProject::empty();
    let p = TestProject::new();
    // The project lives in report/ of a larger repository.
    let copy = Command::new("cp")
        .arg("-r")
        .arg(p.path())
        .arg(repo.path().join("report"))
        .status()
        .unwrap();
    assert!(copy.success());
    repo.file("README.md", "Not part of the report.\n");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    repo.file(
        "report/chapters/01-intro/en.md",
        "## Purpose\n\nRewritten entirely.\n",
    );
    // An untracked chapter in the working tree is part of it.
    repo.file("report/chapters/02-new/en.md", "## New\n\nNew text.\n");
    repo.file("report/chapters/02-new/ja.md", "## 新\n\n新しい。\n");

    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["diff", "-C", "report", "--format", "json"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let report = json(&out);
    assert!(
        report["from"].as_str().unwrap().starts_with("HEAD ("),
        "{report:#}"
    );
    let chapters = report["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 2, "{report:#}");
    assert_eq!(chapters[0]["status"], "changed");
    assert_eq!(chapters[1]["chapter"], "02-new");
    assert_eq!(chapters[1]["status"], "added");
}

#[test]
fn unreadable_versions_are_clear_errors() {
    let p = TestProject::new();
    // Not a repository: HEAD cannot be read.
    let out = p.renga(&["diff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not in a git repository"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("renga diff OLD NEW"),
        "{}",
        stderr(&out)
    );

    let p = repository();
    let out = p.renga(&["diff", "v9.9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown revision `v9.9`"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn draft_builds_mark_stale_blocks_and_strict_builds_refuse_them() {
    let p = repository();
    edit(&p, EN, "residents.", "citizens.");
    // Not a draft: no mark, but a warning at the stale block.
    let (text, diags) = p.layout_text(renga::pipeline::Edition::Ja).unwrap();
    assert!(!squash(&text).contains("翻訳待ち"), "{text}");
    let warning = diags
        .items
        .iter()
        .find(|d| d.code == "translation-stale")
        .unwrap();
    let at = warning.location.as_ref().unwrap();
    assert_eq!((at.file.as_str(), at.line), (JA, 8));

    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    let (text, _) = p.layout_text(renga::pipeline::Edition::Bilingual).unwrap();
    let text = squash(&text);
    assert!(text.contains("翻訳待ち"), "{text}");
    assert!(
        !text.contains("translationpending"),
        "only the stale language: {text}"
    );

    let out = p.renga(&["compile", "--strict", "--lang", "ja"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[translation-stale]"),
        "{}",
        stderr(&out)
    );
    assert!(!p.out("test-report.ja.pdf").exists());
    // The English edition alone has nothing stale.
    let out = p.renga(&["compile", "--strict", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---- Issue 14: every change shown, no wrong answer ------------------------------

fn read(p: &TestProject, rel: &str) -> String {
    std::fs::read_to_string(p.path().join(rel)).unwrap()
}

/// The blocks of the one chapter text a diff reports.
fn only_blocks(report: &Value) -> Vec<Value> {
    let chapters = report["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 1, "{report:#}");
    let texts = chapters[0]["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 1, "{report:#}");
    texts[0]["blocks"].as_array().unwrap().clone()
}

#[test]
fn no_redline_is_written_when_a_changed_block_of_the_new_version_has_an_error() {
    let p = repository();
    // The reference is mistyped inside a block that changed: a redline sets
    // that block as its words and would print the reference as text.
    edit(
        &p,
        EN,
        "{{metric sg.identity.users}} residents.",
        "{{metric sg.identity.user}} residents.",
    );
    let out = p.renga(&["diff", "--pdf", "redline.pdf"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown metric"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("redline edition of working tree was not written"),
        "{}",
        stderr(&out)
    );
    assert!(!p.path().join("redline.pdf").exists());
    // `renga check` refuses the same version.
    assert_eq!(p.renga(&["check"]).status.code(), Some(1));
}

#[test]
fn a_chapter_that_is_not_utf8_is_an_error_at_its_byte_not_a_removal() {
    let p = repository();
    p.file(EN, b"## Purpose\n\nSingpass \xff serves.\n");
    let out = p.renga(&["diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("chapters/01-intro/en.md is not UTF-8 text: byte 0xff"),
        "{err}"
    );
    assert!(err.contains("line 3, column 10"), "{err}");
    assert!(!stdout(&out).contains("removed"), "{}", stdout(&out));

    // The same problem as a diagnostic with its place, as `compile` gives it.
    let out = p.renga(&["diff", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["code"], "utf8");
    assert_eq!(lines[0]["file"], EN);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["column"].as_u64()),
        (Some(3), Some(10))
    );
}

#[test]
fn diff_problems_follow_the_diagnostic_formats() {
    let p = repository();
    let out = p.renga(&["diff", "v9.9", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(line["severity"], "error");
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .contains("unknown revision `v9.9`"),
        "{line}"
    );
    let out = p.renga(&["diff", "v9.9", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("::error title=diff-revision::unknown revision `v9.9`"),
        "{}",
        stdout(&out)
    );
    // `human` is the terminal format, as for every other command.
    let out = p.renga(&["diff", "--format", "human"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));
}

#[test]
fn a_byte_order_mark_changes_nothing() {
    let p = repository();
    p.file(EN, format!("\u{feff}{}", read(&p, EN)));
    let report = json(&p.renga(&["diff", "--format", "json"]));
    assert_eq!(report["chapters"], serde_json::json!([]), "{report:#}");
    assert!(stdout(&p.renga(&["diff"])).contains("no changes"));
}

#[test]
fn an_escaped_pipe_in_a_table_cell_stays_escaped() {
    let p = repository();
    p.file(
        EN,
        read(&p, EN) + "\n| Service | Note |\n|---|---|\n| Singpass | login \\| sign |\n",
    );
    git(p.path(), &["commit", "-q", "-a", "-m", "table"]);
    edit(&p, EN, "login \\| sign", "login \\| verify");
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let blocks = only_blocks(&report);
    assert_eq!(blocks.len(), 1, "{report:#}");
    assert_eq!(blocks[0]["kind"], "row");
    assert_eq!(blocks[0]["old"]["text"], "Singpass | login \\| sign");
    assert_eq!(blocks[0]["new"]["text"], "Singpass | login \\| verify");
    let text = stdout(&p.renga(&["diff"]));
    assert!(
        text.contains("Singpass | login \\| [-sign-]{+verify+}"),
        "{text}"
    );
}

#[test]
fn a_swap_of_two_paragraphs_is_a_move() {
    let p = repository();
    p.file(
        EN,
        read(&p, EN) + "\nThe first added paragraph, on trust.\n\nThe second added paragraph, on identity.\n",
    );
    git(p.path(), &["commit", "-q", "-a", "-m", "two paragraphs"]);
    p.file(
        EN,
        read(&p, EN).replace(
            "The first added paragraph, on trust.\n\nThe second added paragraph, on identity.",
            "The second added paragraph, on identity.\n\nThe first added paragraph, on trust.",
        ),
    );
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let blocks = only_blocks(&report);
    assert_eq!(
        blocks.len(),
        1,
        "one move, not a removal and an addition: {report:#}"
    );
    assert_eq!(blocks[0]["status"], "moved");
    let (old, new) = (&blocks[0]["old"]["line"], &blocks[0]["new"]["line"]);
    assert_ne!(old, new, "{report:#}");
    let text = stdout(&p.renga(&["diff"]));
    assert!(text.contains(&format!("moved from line {old}")), "{text}");
    let md = stdout(&p.renga(&["diff", "--format", "markdown"]));
    assert!(md.contains(&format!("moved from line {old}")), "{md}");
}

/// Renders markdown as GitHub does (CommonMark with the GFM extensions;
/// GitHub keeps `<del>` and `<ins>`).
fn github_html(md: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(md, &options)
}

#[test]
fn pull_request_markdown_marks_words_that_render_next_to_japanese_punctuation() {
    let p = repository();
    edit(
        &p,
        JA,
        "が利用している。",
        "が公開鍵基盤（PKI）の上で利用している。",
    );
    git(p.path(), &["commit", "-q", "-a", "-m", "PKI"]);
    edit(&p, JA, "基盤（PKI）の上", "基盤の上");
    edit(&p, EN, "residents.", "citizens.");
    let md = stdout(&p.renga(&["diff", "--format", "markdown"]));
    let html = github_html(&md);
    assert!(html.contains("<del>（PKI）</del>"), "{md}\n{html}");
    assert!(
        html.contains("<del>residents.</del><ins>citizens.</ins>"),
        "{md}\n{html}"
    );
    assert!(!html.contains('~'), "no marker is left unrendered: {html}");
    assert!(!html.contains("**"), "{html}");
}

const SVG_A: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n";
const SVG_B: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><circle r=\"5\" cx=\"5\" cy=\"5\"/></svg>\n";

#[test]
fn a_changed_image_file_and_a_chapter_pointing_at_another_image_are_shown() {
    let p = repository();
    p.file("chapters/01-intro/figure.svg", SVG_A);
    p.file(EN, read(&p, EN) + "\n![Square](figure.svg)\n");
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "figure"]);

    // The same name, new bytes.
    p.file("chapters/01-intro/figure.svg", SVG_B);
    let report = json(&p.renga(&["diff", "--format", "json"]));
    assert_eq!(report["chapters"], serde_json::json!([]), "{report:#}");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "chapters/01-intro/figure.svg");
    assert_eq!(files[0]["kind"], "image");
    assert_eq!(files[0]["status"], "changed");
    assert_eq!(files[0]["old"]["size"], SVG_A.len());
    assert_eq!(files[0]["new"]["size"], SVG_B.len());
    assert_ne!(files[0]["old"]["sha256"], files[0]["new"]["sha256"]);
    let text = stdout(&p.renga(&["diff"]));
    assert!(
        text.contains(&format!(
            "chapters/01-intro/figure.svg: image changed: {} → {} bytes, sha256 ",
            SVG_A.len(),
            SVG_B.len()
        )),
        "{text}"
    );

    // The chapter points at another image with the same alt text.
    p.file("chapters/01-intro/figure.svg", SVG_A);
    p.file("chapters/01-intro/other.svg", SVG_B);
    edit(&p, EN, "(figure.svg)", "(other.svg)");
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let blocks = only_blocks(&report);
    assert_eq!(blocks.len(), 1, "{report:#}");
    assert_eq!(blocks[0]["status"], "changed");
    assert_eq!(
        ops(&blocks[0]["words"]),
        [
            ("delete", "![Square](figure.svg)"),
            ("insert", "![Square](other.svg)"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(report["files"][0]["file"], "chapters/01-intro/other.svg");
    assert_eq!(report["files"][0]["status"], "added");
}

#[test]
fn report_settings_are_shown_by_key_with_old_and_new_values() {
    let p = repository();
    p.file(
        "report.toml",
        REPORT_TOML.replace("en = \"Test Report\"", "en = \"Test Report 2026\"")
            + "\n[layout]\ndraft = true\n",
    );
    let report = json(&p.renga(&["diff", "--format", "json"]));
    assert_eq!(
        report["settings"],
        serde_json::json!([
            { "key": "layout.draft", "new": "true" },
            { "key": "title.en", "old": "\"Test Report\"", "new": "\"Test Report 2026\"" },
        ]),
        "{report:#}"
    );
    let text = stdout(&p.renga(&["diff"]));
    assert!(
        text.contains("title.en: \"Test Report\" → \"Test Report 2026\""),
        "{text}"
    );
    assert!(text.contains("layout.draft: added, true"), "{text}");
    let md = stdout(&p.renga(&["diff", "--format", "markdown"]));
    assert!(
        md.contains("| `title.en` | \"Test Report\" | \"Test Report 2026\" |"),
        "{md}"
    );
}

#[test]
fn template_changes_are_shown_by_file_and_line() {
    let p = repository();
    let main = include_str!("../../templates/main.typ");
    p.file("templates/main.typ", main);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "own template"]);
    let (n, line) = main
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("set page"))
        .expect("the template sets the page");
    let changed = format!("{line} // margins reviewed");
    p.file("templates/main.typ", main.replacen(line, &changed, 1));
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "templates/main.typ");
    assert_eq!(files[0]["kind"], "template");
    assert_eq!(
        files[0]["lines"],
        serde_json::json!([
            { "op": "delete", "line": n + 1, "text": line },
            { "op": "insert", "line": n + 1, "text": changed },
        ]),
        "{report:#}"
    );
    let text = stdout(&p.renga(&["diff"]));
    assert!(
        text.contains("templates/main.typ: template changed"),
        "{text}"
    );
    assert!(
        text.contains(&format!("line {}: + {changed}", n + 1)),
        "{text}"
    );
}

#[test]
fn a_change_of_emphasis_alone_is_shown_as_formatting() {
    let p = repository();
    edit(&p, EN, "residents.", "*residents*.");
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let blocks = only_blocks(&report);
    assert_eq!(blocks.len(), 1, "{report:#}");
    assert_eq!(blocks[0]["status"], "changed");
    assert_eq!(blocks[0]["formatting"], true);
    assert_eq!(
        ops(&blocks[0]["words"]),
        [
            ("equal", "Singpass serves 1,234,567 people "),
            ("delete", "residents."),
            ("insert", "*residents*."),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let text = stdout(&p.renga(&["diff"]));
    assert!(text.contains("changed (formatting only)"), "{text}");
}

#[test]
fn a_name_that_is_both_a_folder_and_a_revision_is_refused() {
    let p = repository();
    git(p.path(), &["branch", "draft"]);
    std::fs::create_dir(p.path().join("draft")).unwrap();
    let out = p.renga(&["diff", "draft"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("`draft` is both a folder and a git revision"),
        "{err}"
    );
    assert!(
        err.contains("`./draft`") && err.contains("`draft^{commit}`"),
        "{err}"
    );
    // Either spelling says which is meant.
    let out = p.renga(&["diff", "draft^{commit}"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_long_chapter_of_similar_paragraphs_diffs_in_bounded_time() {
    // 2,000 paragraphs in sections of 150 to 250, every one of them edited.
    let sections = [150, 250, 200, 180, 220, 170, 230, 160, 240, 200];
    let old = TestProject::new();
    let new = TestProject::new();
    old.file(
        "chapters/02-long/en.md",
        similar_paragraphs(&sections, false),
    );
    new.file(
        "chapters/02-long/en.md",
        similar_paragraphs(&sections, true),
    );
    // Measured as the processor time renga used (bash's `time`), which a
    // machine busy with other tests does not inflate as it does wall time.
    let out = Command::new("bash")
        .args(["-c", "TIMEFORMAT='%3U %3S'; { time \"$@\" > \"$0\"; } 2>&1"])
        .arg(old.path().join("diff.json"))
        .arg(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .arg(old.path())
        .arg(new.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let cpu: f64 = stdout(&out)
        .split_whitespace()
        .map(|t| t.parse::<f64>().unwrap())
        .sum();
    assert!(cpu < 2.0, "took {cpu} s of processor time");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(old.path().join("diff.json")).unwrap())
            .unwrap();
    let blocks = only_blocks(&report);
    assert_eq!(blocks.len(), 2000, "every paragraph changed");
    // Each paragraph is paired with itself, not with a neighbour.
    for b in &blocks {
        assert_eq!(b["status"], "changed", "{b:#}");
        assert_eq!(b["old"]["line"], b["new"]["line"], "{b:#}");
    }
}

// ---- Issue 10: reading revisions with git ---------------------------------------

/// Runs git in `dir` and returns what it printed, trimmed.
fn git_out(dir: &Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A commit of the project's tree with one more entry, made with git's
/// plumbing as a hostile repository could be: `name` holds `file`.
fn commit_with_entry(p: &TestProject, name: &str, file: &str) -> String {
    let blob = git_out(p.path(), &["hash-object", "-w", "--stdin"], "planted\n");
    let inner = git_out(
        p.path(),
        &["mktree"],
        &format!("100644 blob {blob}\t{file}\n"),
    );
    let listing = git_out(p.path(), &["ls-tree", "HEAD"], "");
    let tree = git_out(
        p.path(),
        &["mktree"],
        &format!("{listing}\n040000 tree {inner}\t{name}\n"),
    );
    git_out(
        p.path(),
        &["commit-tree", &tree, "-p", "HEAD", "-m", "hostile"],
        "",
    )
}

#[test]
fn paths_from_a_git_tree_that_leave_the_checkout_are_refused_before_writing() {
    let p = repository();
    let scratch = TestProject::empty();
    let escape = "renga-escaped.txt";
    for (name, says) in [("..", "`..`"), (".git", "`.git`")] {
        let commit = commit_with_entry(&p, name, escape);
        let out = Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(["diff", "HEAD", &commit])
            .current_dir(p.path())
            .env("TMPDIR", scratch.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "has a file `{name}/{escape}` that renga will not write"
            )) && err.contains(says),
            "{err}"
        );
        // Nothing landed beside the temporary checkouts, and they are gone.
        let left: Vec<_> = std::fs::read_dir(scratch.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
}

/// A folder with a `git` that runs `script` (sh) before the real git.
fn wrapped_git(script: &str) -> TestProject {
    let real = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    let bin = TestProject::empty();
    bin.file("git", format!("#!/bin/sh\n{script}\nexec {real} \"$@\"\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.path().join("git"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    bin
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn a_git_that_complains_at_length_cannot_stall_diff() {
    let p = repository();
    edit(&p, EN, "residents.", "citizens.");
    // Two megabytes on standard error before every object is read.
    let bin = wrapped_git(
        "for a in \"$@\"; do [ \"$a\" = cat-file ] && head -c 2000000 /dev/zero | tr '\\0' e >&2; done",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["diff", "--format", "json"])
        .current_dir(p.path())
        .env("PATH", path_with(bin.path()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() > 60 {
            child.kill().unwrap();
            panic!("renga diff stalled on git's standard error");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let report = json(&out);
    assert_eq!(only_blocks(&report).len(), 1, "{report:#}");
}

#[test]
fn a_missing_or_old_git_is_one_clear_error() {
    let p = repository();
    let empty = TestProject::empty();
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .current_dir(p.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("renga diff reads revisions with git, and git is not installed"),
        "{err}"
    );
    assert_eq!(err.matches("error").count(), 1, "one error: {err}");

    let bin = wrapped_git("[ \"$1\" = --version ] && echo 'git version 2.1.4' && exit 0");
    let out = Command::new(env!("CARGO_BIN_EXE_renga"))
        .arg("diff")
        .current_dir(p.path())
        .env("PATH", path_with(bin.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("renga diff needs git 2.24 or newer to read revisions; `git --version` says `git version 2.1.4`"),
        "{err}"
    );
    assert_eq!(err.matches("error").count(), 1, "one error: {err}");
}

/// A chapter of sections of two-line paragraphs (sizes in `sections`),
/// every paragraph opening with `b{section}y{paragraph}z` and closing with
/// `e{section}y{paragraph}z`, so that a page's text tells where each one
/// starts and ends; `edited` rewords the English headings and last
/// paragraphs.
fn tagged_sections(sections: &[usize], edited: bool) -> (String, String) {
    let mut en = String::from("+++\ntitle = \"Long\"\nlead = \"sg\"\n+++\n\n");
    let mut ja = String::from("+++\ntitle = \"長い章\"\nlead = \"sg\"\n+++\n\n");
    let word = if edited { "revised" } else { "first" };
    for (k, &size) in sections.iter().enumerate() {
        en.push_str(&format!("## Section {k}, {word} version\n\n"));
        ja.push_str(&format!("## 第{k}節\n\n"));
        for p in 0..size {
            let last = if p + 1 == size { word } else { "first" };
            en.push_str(&format!(
                "b{k}y{p}z The agency reviewed the service in its {last} version and found that the figures for the year agreed with the earlier report in every respect that mattered. e{k}y{p}z\n\n"
            ));
            // One to three lines.
            let said = "庁はサービスを見直し、その年の数値が以前の報告とあらゆる点で一致することを確認した。"
                .repeat(1 + (k + p) % 3);
            ja.push_str(&format!("b{k}y{p}z {said} e{k}y{p}z\n\n"));
        }
    }
    (en, ja)
}

#[test]
fn the_pending_mark_moves_to_the_next_page_with_its_block() {
    let p = TestProject::new();
    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    // Sections of varied length put headings and paragraphs at every height
    // of a page, so that some are pushed to the next one: a heading kept
    // with its paragraph, a paragraph that would leave one line behind.
    let sections: Vec<usize> = (0..40).map(|k| 1 + (k * 7) % 5).collect();
    let (en, ja) = tagged_sections(&sections, false);
    p.file(EN, en).file(JA, ja);
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // English headings and last paragraphs change: their Japanese blocks
    // are pending.
    p.file(EN, tagged_sections(&sections, true).0);
    let out = p.renga(&["compile", "--lang", "ja"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let text = pdf_text(&p.out("test-report.ja.pdf"));
    let pages: Vec<String> = text.split('\x0c').map(squash).collect();
    let page = |tag: &str| {
        pages
            .iter()
            .position(|t| t.contains(tag))
            .unwrap_or_else(|| panic!("`{tag}` is on no page"))
    };
    // The page each pending block starts on: a heading's is its paragraph's
    // (a heading is kept with the paragraph after it).
    let mut expected = vec![0; pages.len()];
    let (mut pushed_headings, mut pushed_paragraphs) = (0, 0);
    for (k, &size) in sections.iter().enumerate() {
        let heading = page(&format!("b{k}y0z"));
        expected[heading] += 1;
        if k > 0 && page(&format!("e{}y{}z", k - 1, sections[k - 1] - 1)) < heading {
            pushed_headings += 1;
        }
        let last = page(&format!("b{k}y{}z", size - 1));
        expected[last] += 1;
        if size > 1 && page(&format!("e{k}y{}z", size - 2)) < last {
            pushed_paragraphs += 1;
        }
    }
    assert!(
        pushed_headings > 0 && pushed_paragraphs > 0,
        "the chapter no longer pushes a pending heading ({pushed_headings}) and paragraph ({pushed_paragraphs}) to the next page"
    );
    let marks: Vec<usize> = pages
        .iter()
        .map(|t| t.matches("翻訳待ち").count())
        .collect();
    assert_eq!(marks, expected, "pending marks per page");
}

#[test]
fn a_figure_written_with_other_digits_is_a_change() {
    // `12.50` and `12.5` are the same number but print differently (figures
    // print with the digits the data gives): a reviewer must see it.
    let p = TestProject::new();
    p.file(
        "data/sg/identity.toml",
        format!(
            "{SG_IDENTITY}\n[[metric]]\nid = \"share\"\nlabel = {{ en = \"Share online\", ja = \"オンライン比率\" }}\nvalue = 12.50\nunit = \"percent\"\nas_of = 2024-12-31\nsource = \"Test source A\"\n"
        ),
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "first draft"]);
    edit(&p, "data/sg/identity.toml", "value = 12.50", "value = 12.5");

    let report = json(&p.renga(&["diff", "--format", "json"]));
    let metrics = report["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 1, "{report:#}");
    assert_eq!(metrics[0]["key"], "sg.identity.share");
    assert_eq!(metrics[0]["status"], "changed");
    assert_eq!(metrics[0]["changed"], serde_json::json!(["value"]));
    assert_eq!(metrics[0]["old"]["figure"], "12.50");
    assert_eq!(metrics[0]["new"]["figure"], "12.5");
    let text = stdout(&p.renga(&["diff"]));
    assert!(!text.contains("no changes"), "{text}");
    assert!(text.contains("12.50% → 12.5%"), "{text}");

    // Rounding set in the data changes what is printed too.
    edit(
        &p,
        "data/sg/identity.toml",
        "value = 12.5",
        "value = 12.50\ndecimals = 0",
    );
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let changed = &report["metrics"][0];
    assert_eq!(
        changed["changed"],
        serde_json::json!(["value", "decimals"]),
        "{report:#}"
    );
    assert_eq!(changed["new"]["text"]["en"], "13%");
}

#[test]
fn a_metric_reference_in_capitals_is_written_out_in_the_diff_as_in_the_editions() {
    // `compile` reads `{{METRIC …}}` as a reference; so must `diff`, or a
    // paragraph citing a figure that changed looks unchanged.
    let p = TestProject::new();
    p.file(
        EN,
        "+++\ntitle = \"Introduction\"\nlead = \"sg\"\n+++\n\n## Purpose\n\nSingpass serves {{METRIC SG.Identity.Users}} residents.\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "first draft"]);
    edit(
        &p,
        "data/sg/identity.toml",
        "value = 1234567",
        "value = 1300000",
    );

    let report = json(&p.renga(&["diff", "--format", "json"]));
    let chapters = report["chapters"].as_array().unwrap();
    let en = chapters
        .iter()
        .flat_map(|c| c["texts"].as_array().unwrap())
        .find(|t| t["lang"] == "en")
        .unwrap_or_else(|| {
            panic!("the English paragraph that cites the figure changed: {report:#}")
        });
    let block = &en["blocks"][0];
    assert_eq!(block["status"], "changed", "{report:#}");
    assert_eq!(
        block["new"]["text"],
        "Singpass serves 1,300,000 people residents."
    );
    assert!(
        ops(&block["words"]).contains(&("insert".to_string(), "1,300,000".to_string())),
        "{block:#}"
    );
    // The Japanese paragraph, in lowercase, changed the same way.
    assert_eq!(
        chapters[0]["texts"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
}

#[test]
fn a_project_font_that_changed_is_in_the_diff() {
    // A font in fonts/ sets text in every edition: adding, replacing or
    // removing it changes the PDFs, so the diff names it.
    let p = repository();
    let font = std::fs::read(format!(
        "{}/tests/fixtures/fonts/NotoSansThai-Regular.ttf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    p.file("fonts/NotoSansThai-Regular.ttf", &font);
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "fonts/NotoSansThai-Regular.ttf");
    assert_eq!(files[0]["kind"], "font");
    assert_eq!(files[0]["status"], "added");
    assert_eq!(files[0]["new"]["size"], font.len());
    let text = stdout(&p.renga(&["diff"]));
    assert!(text.contains("font added: 37,744 bytes"), "{text}");
}

#[test]
fn a_site_rooted_image_outside_the_chapters_is_compared_by_size_and_hash() {
    let p = repository();
    p.file("images/docs/x.svg", SVG_A);
    p.file(EN, read(&p, EN) + "\n![Square](/images/docs/x.svg)\n");
    // An image in the project that no chapter references is not the
    // report's: changing it changes no edition.
    p.file("images/unused.svg", SVG_A);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "site-rooted figure"]);

    p.file("images/docs/x.svg", SVG_B);
    p.file("images/unused.svg", SVG_B);
    let report = json(&p.renga(&["diff", "--format", "json"]));
    assert_eq!(report["chapters"], serde_json::json!([]), "{report:#}");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "images/docs/x.svg");
    assert_eq!(files[0]["kind"], "image");
    assert_eq!(files[0]["status"], "changed");
    assert_eq!(files[0]["old"]["size"], SVG_A.len());
    assert_eq!(files[0]["new"]["size"], SVG_B.len());
    assert_ne!(files[0]["old"]["sha256"], files[0]["new"]["sha256"]);

    // Between two revisions too, read from git's trees.
    git(p.path(), &["commit", "-q", "-am", "new figure"]);
    let report = json(&p.renga(&["diff", "--format", "json", "HEAD~1", "HEAD"]));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "images/docs/x.svg");
    assert_eq!(files[0]["status"], "changed");

    // The chapter stops referencing it: the image left the report.
    edit(&p, EN, "\n![Square](/images/docs/x.svg)\n", "\n");
    let report = json(&p.renga(&["diff", "--format", "json"]));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "images/docs/x.svg");
    assert_eq!(files[0]["status"], "removed");
}

#[test]
fn an_image_in_an_authors_raw_html_is_compared_like_a_markdown_image() {
    // Pages imported from documentation sites set their figures as raw
    // `<img>` tags, which every edition shows (React's documentation page
    // in tests/fixtures does). Its file changing is a change to the report.
    let p = repository();
    p.file("images/site/fig.svg", SVG_A);
    p.file(
        EN,
        read(&p, EN) + "\n<img src=\"/images/site/fig.svg\" alt=\"A square\" />\n",
    );
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "figure in raw HTML"]);

    p.file("images/site/fig.svg", SVG_B);
    let out = p.renga(&["diff", "--format", "json"]);
    let report = json(&out);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report:#}");
    assert_eq!(files[0]["file"], "images/site/fig.svg");
    assert_eq!(files[0]["kind"], "image");
    assert_eq!(files[0]["status"], "changed");
    // And the terminal says so, instead of "no changes".
    let text = stdout(&p.renga(&["diff"]));
    assert!(text.contains("images/site/fig.svg"), "{text}");
}

#[cfg(unix)]
#[test]
fn an_image_that_cannot_be_read_is_an_error_at_it_not_an_empty_file() {
    let p = repository();
    p.file("images/x.svg", SVG_A);
    p.file(EN, read(&p, EN) + "\n![Square](/images/x.svg)\n");
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "figure"]);

    // A folder where the image should be: no bytes to compare.
    std::fs::remove_file(p.path().join("images/x.svg")).unwrap();
    std::fs::create_dir(p.path().join("images/x.svg")).unwrap();
    let out = p.renga(&["diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("images/x.svg") && err.contains("not a regular file"),
        "{err}"
    );
    assert!(!stdout(&out).contains("changed"), "{}", stdout(&out));

    // A link to nothing.
    std::fs::remove_dir(p.path().join("images/x.svg")).unwrap();
    std::os::unix::fs::symlink("gone.svg", p.path().join("images/x.svg")).unwrap();
    let out = p.renga(&["diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot read images/x.svg") && err.contains("does not exist"),
        "{err}"
    );
}

/// The test project with `en` and `ja` appended to its chapter texts,
/// committed with its translation recorded.
fn repository_with(en: &str, ja: &str) -> TestProject {
    let p = TestProject::new();
    for (rel, extra) in [(EN, en), (JA, ja)] {
        let text = std::fs::read_to_string(p.path().join(rel)).unwrap();
        p.file(rel, format!("{text}\n{extra}"));
    }
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    git(p.path(), &["init", "-q"]);
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "first draft"]);
    p
}

/// `renga diff` in plain text, insisting that it works.
fn plain_diff(p: &TestProject) -> String {
    let out = p.renga(&["diff"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_code_language_change_is_a_change_that_makes_the_translation_stale() {
    let code = "```rust\nfn main() {}\n```\n";
    let p = repository_with(code, code);
    edit(&p, EN, "```rust", "```text");
    let text = plain_diff(&p);
    assert!(!text.contains("no changes"), "{text}");
    assert!(
        text.contains("changed (formatting only: code language: rust → text)"),
        "{text}"
    );
    // A Japanese reader gets the same code, set as the source now says.
    let out = p.renga(&["status"]);
    let status = stdout(&out);
    assert!(status.contains("stale"), "{status}");
    assert!(
        status.contains("[code language: [-rust]-]{+text]+}"),
        "{status}"
    );
}

#[test]
fn a_column_alignment_change_is_a_change_but_each_language_aligns_its_own_table() {
    let table = "| Service | Users |\n|---|---|\n| Singpass | 4 |\n";
    let p = repository_with(
        table,
        "| サービス | 利用者 |\n|---|---|\n| Singpass | 4 |\n",
    );
    edit(&p, EN, "|---|---|", "|---|--:|");
    let text = plain_diff(&p);
    assert!(!text.contains("no changes"), "{text}");
    assert!(text.contains("column 2 alignment: none → right"), "{text}");
    edit(&p, EN, "|---|--:|", "|:--|--:|");
    git(p.path(), &["commit", "-q", "-a", "-m", "aligned"]);
    edit(&p, EN, "|:--|--:|", "|--:|--:|");
    let text = plain_diff(&p);
    assert!(text.contains("column 1 alignment: left → right"), "{text}");
    let status = stdout(&p.renga(&["status"]));
    assert!(status.contains("01-intro  in sync"), "{status}");
}

#[test]
fn a_removed_hard_line_break_is_a_change() {
    for brk in ["  ", "\\"] {
        let address = format!("GovTech{brk}\n10 Pasir Panjang Road\n");
        let p = repository_with(&address, "GovTech\n");
        edit(&p, EN, &format!("GovTech{brk}\n"), "GovTech\n");
        let text = plain_diff(&p);
        assert!(!text.contains("no changes"), "{brk:?}: {text}");
        assert!(
            text.contains("changed (formatting only: line break removed)"),
            "{brk:?}: {text}"
        );
    }
}

#[test]
fn a_heading_level_change_says_which_levels() {
    let p = repository();
    edit(&p, EN, "## Purpose", "### Purpose");
    let text = plain_diff(&p);
    assert!(
        text.contains("changed (formatting only: level 2 → 3)"),
        "{text}"
    );
}

/// Characters as GitHub counts a comment's length (UTF-16 code units, at
/// least as many as characters).
fn github_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[test]
fn a_pull_request_comment_stays_within_githubs_limit() {
    let p = repository();
    // Forty chapters, each with long paragraphs, every one rewritten:
    // far more than 65,536 characters of changes.
    let paragraph = |i: usize, k: usize, word: &str| {
        format!(
            "{} Paragraph {k} of chapter {i}: {word}.\n\n",
            "The service grows and".repeat(40)
        )
    };
    let chapter = |i: usize, word: &str| -> String {
        let mut text = format!("+++\ntitle = \"Chapter {i}\"\n+++\n\n## Part {i}\n\n");
        for k in 0..20 {
            text.push_str(&paragraph(i, k, word));
        }
        text
    };
    for i in 2..42 {
        p.file(&format!("chapters/{i:02}-part/en.md"), chapter(i, "before"));
    }
    git(p.path(), &["add", "."]);
    git(p.path(), &["commit", "-q", "-m", "long"]);
    for i in 2..42 {
        // Insertions a whole sentence long, not elided.
        p.file(
            &format!("chapters/{i:02}-part/en.md"),
            chapter(
                i,
                &"and reaches every resident of the island nation now ".repeat(3),
            ),
        );
    }
    let whole = stdout(&p.renga(&["diff", "--format", "markdown", "--max-size", "100000000"]));
    assert!(
        github_len(&whole) > 65_536,
        "the test needs a long diff: {}",
        github_len(&whole)
    );

    // Printed: one comment within the limit, its summary naming every
    // changed chapter, and a note saying what was cut and how to see it.
    let out = p.renga(&["diff", "--format", "markdown"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(github_len(&md) <= 65_536, "{}", github_len(&md));
    for i in 2..42 {
        assert!(
            md.contains(&format!("**{i:02}-part**")),
            "chapter {i} is not in the summary"
        );
    }
    assert!(md.contains("Cut to stay within 65536 characters"), "{md}");
    assert!(md.contains("--format terminal"), "{md}");
    let html = github_html(&md);
    assert!(!html.contains("&lt;details"), "the folds render: {html}");

    // In parts: each within the limit, every change in one of them.
    let dir = p.path().join("comment");
    let out = p.renga(&[
        "diff",
        "--format",
        "markdown",
        "--max-size",
        "20000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut parts = Vec::new();
    for k in 1.. {
        match std::fs::read_to_string(dir.join(format!("comment-{k}.md"))) {
            Ok(part) => parts.push(part),
            Err(_) => break,
        }
    }
    assert!(parts.len() > 3, "{} parts", parts.len());
    for (k, part) in parts.iter().enumerate() {
        assert!(
            github_len(part) <= 20_000,
            "part {}: {}",
            k + 1,
            github_len(part)
        );
        assert!(part.starts_with("<!-- renga diff -->"), "{part}");
        assert!(
            part.contains(&format!("(part {} of {})", k + 1, parts.len())),
            "{part}"
        );
        // Every fold that opens in a part closes in it.
        assert_eq!(
            part.matches("<details").count(),
            part.matches("</details>").count(),
            "{part}"
        );
    }
    let all = parts.concat();
    for i in 2..42 {
        for k in 0..20 {
            assert!(
                all.contains(&format!("Paragraph {k} of chapter {i}:")),
                "chapter {i} paragraph {k} is in no part"
            );
        }
    }
    assert!(
        !all.contains("Cut to stay within"),
        "nothing is cut when written in parts"
    );
}

#[test]
fn a_code_block_is_compared_line_by_line() {
    let code: String = (1..=20)
        .map(|i| format!("let x{i} = compute({i});\n"))
        .collect();
    let block = format!("```rust\n{code}```\n");
    let p = repository_with(&block, &block);
    edit(&p, EN, "let x10 = compute(10);", "let x10 = compute(11);");
    let text = plain_diff(&p);
    // The changed line with its words marked, a line of context on each
    // side, the unchanged lines left out, each on its own line.
    let start = text.find("code block").unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = text[start..]
        .lines()
        .skip(1)
        .take(5)
        .map(str::trim)
        .collect();
    assert!(lines[0].ends_with("⋮ 8 unchanged lines"), "{text}");
    assert!(lines[1].ends_with("  let x9 = compute(9);"), "{text}");
    assert!(
        lines[2].ends_with("~ let x10 = [-compute(10);-]{+compute(11);+}"),
        "{text}"
    );
    assert!(lines[3].ends_with("  let x11 = compute(11);"), "{text}");
    assert!(lines[4].contains("9 unchanged lines"), "{text}");

    // The pull request comment keeps the lines too, words marked.
    let md = stdout(&p.renga(&["diff", "--format", "markdown"]));
    let html = github_html(&md);
    assert!(html.contains("<pre>"), "{html}");
    assert!(
        html.contains("~ let x10 = <del>compute(10);</del><ins>compute(11);</ins>"),
        "{html}"
    );
    assert!(html.contains("  let x11 = compute(11);\n"), "{html}");
}

#[test]
fn control_characters_in_the_project_never_reach_the_reviewers_terminal() {
    let p = repository();
    // Hidden text, a new window title, the clipboard (OSC 52), a carriage
    // return that would overwrite the line: in a paragraph, a heading and a
    // template line.
    let hostile =
        "residents.\u{1b}[8m hidden\u{1b}[0m \u{1b}]0;owned\u{7} \u{1b}]52;c;ZWNobyBoaQ==\u{7}\rX";
    edit(&p, EN, "residents.", hostile);
    edit(&p, EN, "## Purpose", "## Pur\u{1b}[2Jpose");
    edit(
        &p,
        JA,
        "が利用している。",
        "が利用している。\u{1b}[8m隠れ\u{9b}31m",
    );
    for args in [
        vec!["diff"],
        vec!["diff", "--format", "markdown"],
        vec!["diff", "--format", "github"],
        vec!["status"],
    ] {
        let out = p.renga(&args);
        let text = stdout(&out);
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(raw.is_empty(), "{args:?} printed {raw:?}: {text}");
        if args[0] == "diff" {
            assert!(text.contains("␛"), "{args:?}: shown, not dropped: {text}");
        }
    }
    let status = stdout(&p.renga(&["status"]));
    assert!(status.contains("␛]52;c;"), "{status}");
}
