//! Reviewers' commands on temporary git repositories: `renga diff` between
//! revisions and folders (terminal, markdown, JSON, redline PDF), and
//! translation status with `renga status` and `renga translated`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
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

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
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
        md.contains("#### 01-intro · Introduction — changed"),
        "{md}"
    );
    assert!(
        md.contains("Singpass serves 1,234,567 people ~~residents.~~**citizens.**"),
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
    assert!(md.contains("~~1,234,567~~**1,300,000**"), "{md}");
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
