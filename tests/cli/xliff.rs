//! The translators' round trip: `renga xliff export` and `renga xliff
//! import` on temporary projects, checked against the OASIS XLIFF 1.2 strict
//! schema (xmllint), an independent XLIFF implementation (Python's
//! translate-toolkit) and this repository's own report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use serde_json::Value;

const EN: &str = "chapters/01-intro/en.md";
const JA: &str = "chapters/01-intro/ja.md";
const RECORD: &str = "chapters/01-intro/translation.toml";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xliff")
}

/// A chapter with inline markdown of every kind, recorded as in sync.
fn project() -> TestProject {
    let p = TestProject::new();
    p.file(
        EN,
        "+++\ntitle = \"Introduction\"\n+++\n\n## Purpose\n\nSingpass serves {{metric sg.identity.users}} residents.\n\nSee the chapter on [identity](../01-intro/en.md) and `code`.\n\nThe last paragraph.\n",
    );
    p.file(
        JA,
        "+++\ntitle = \"はじめに\"\n+++\n\n## 目的\n\nシンガポールでは{{metric sg.identity.users}}が利用している。\n\n[アイデンティティ](../01-intro/ja.md)の章と`code`を参照。\n\n最後の段落。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    p
}

/// The English side changes: the last paragraph's translation is stale.
fn rewrite_last_paragraph(p: &TestProject) {
    edit(
        p,
        EN,
        "The last paragraph.",
        "The last paragraph, rewritten.",
    );
}

fn read(p: &TestProject, rel: &str) -> String {
    std::fs::read_to_string(p.path().join(rel)).unwrap()
}

fn edit(p: &TestProject, rel: &str, from: &str, to: &str) {
    let text = read(p, rel);
    assert!(text.contains(from), "{rel} has no `{from}`");
    p.file(rel, text.replace(from, to));
}

fn export(p: &TestProject, args: &[&str]) -> String {
    let mut all = vec!["xliff", "export"];
    all.extend_from_slice(args);
    let out = p.renga(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn import(p: &TestProject, xliff: &str, args: &[&str]) -> Output {
    p.file("translated.xlf", xliff);
    let mut all = vec!["xliff", "import", "translated.xlf"];
    all.extend_from_slice(args);
    p.renga(&all)
}

fn status(p: &TestProject) -> Value {
    let out = p.renga(&["status", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The units of a document: (id, the XML of its <source>).
fn units(xliff: &str) -> Vec<(String, String)> {
    xliff
        .split("<trans-unit ")
        .skip(1)
        .map(|u| {
            let id = u.split("id=\"").nth(1).unwrap().split('"').next().unwrap();
            let source = u
                .split("<source>")
                .nth(1)
                .unwrap()
                .split("</source>")
                .next()
                .unwrap();
            (id.to_string(), source.to_string())
        })
        .collect()
}

/// What a translator's tool does to one unit: its target set to `target`
/// (inline XML, codes included) and marked translated.
fn translate(xliff: &str, id: &str, target: &str) -> String {
    let at = xliff
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no unit {id}"));
    let end = at + xliff[at..].find("</source>").unwrap() + "</source>".len();
    let mut out = xliff[..end].to_string();
    let rest = &xliff[end..];
    // Drop the target the export offered, if any.
    let rest = match rest.trim_start().strip_prefix("<target") {
        Some(t) => &t[t.find("</target>").unwrap() + "</target>".len()..],
        None => rest,
    };
    out.push_str(&format!("<target state=\"translated\">{target}</target>"));
    out.push_str(rest);
    out
}

/// Validates a document against the OASIS XLIFF 1.2 strict schema, offline:
/// the W3C xml.xsd it imports resolves to the copy beside it.
fn validate(xliff: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlf");
    std::fs::write(&path, xliff).unwrap();
    let out = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(fixtures().join("xliff-core-1.2-strict.xsd"))
        .arg(&path)
        .env("XML_CATALOG_FILES", fixtures().join("catalog.xml"))
        .output()
        .expect("xmllint runs (Debian: libxml2-utils; .ci/run installs it)");
    assert!(
        out.status.success(),
        "not valid XLIFF 1.2 strict:\n{}\n{xliff}",
        stderr(&out)
    );
}

#[test]
fn export_holds_exactly_the_stale_blocks_and_validates_against_the_oasis_schema() {
    let p = project();
    // In sync: nothing to translate, and no document (XLIFF needs a <file>).
    let out = p.renga(&["xliff", "export", "--out", "none.xlf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing needs translation"),
        "{}",
        stderr(&out)
    );
    assert!(!p.path().join("none.xlf").exists());

    rewrite_last_paragraph(&p);
    let xliff = export(&p, &[]);
    validate(&xliff);
    let found = units(&xliff);
    assert_eq!(found.len(), 1, "{xliff}");
    let (id, source) = &found[0];
    // Chapter, source language, block number and the hash status records.
    let hash = renga::review::records::hash("The last paragraph, rewritten.");
    assert_eq!(id, &format!("01-intro/en/4/{hash}"));
    assert_eq!(source, "The last paragraph, rewritten.");
    assert!(
        xliff.contains("source-language=\"en\" target-language=\"ja\""),
        "{xliff}"
    );
    // The current translation, waiting for its update, and what changed.
    assert!(
        xliff.contains("<target state=\"needs-translation\">最後の段落。</target>"),
        "{xliff}"
    );
    assert!(
        xliff.contains("The last [-paragraph.-]{+paragraph, rewritten.+}"),
        "{xliff}"
    );
    assert!(
        xliff.contains("alttranstype=\"previous-version\""),
        "{xliff}"
    );
    assert!(
        xliff.contains("<source>The last paragraph.</source>"),
        "{xliff}"
    );

    // --out writes the same document to a file.
    let out = p.renga(&["xliff", "export", "--out", "x.xlf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(&p, "x.xlf"), xliff);
}

#[test]
fn inline_markdown_is_protected_and_restored_around_the_translation() {
    let p = project();
    edit(
        &p,
        EN,
        "The last paragraph.",
        "Read **the *whole* [report](../01-intro/en.md#purpose)** with {{metric sg.identity.users}}, `x = 1`, <br> and a note.[^n]\n\n[^n]: A note.",
    );
    edit(&p, JA, "最後の段落。", "最後の段落。[^n]\n\n[^n]: 注。");
    let xliff = export(&p, &[]);
    validate(&xliff);
    let found = units(&xliff);
    assert_eq!(found.len(), 1, "{xliff}");
    let (id, source) = &found[0];
    assert_eq!(
        source,
        "Read <g id=\"1\" ctype=\"bold\">the <g id=\"2\" ctype=\"italic\">whole</g> <g id=\"3\" ctype=\"link\">report</g><ph id=\"4\" ctype=\"x-link-target\">(../01-intro/en.md#purpose)</ph></g> with <ph id=\"5\" ctype=\"x-metric\">{{metric sg.identity.users}}</ph>, <ph id=\"6\" ctype=\"x-code\">`x = 1`</ph>, <ph id=\"7\" ctype=\"x-html\">&lt;br&gt;</ph> and a note.<ph id=\"8\" ctype=\"x-footnote\">[^n]</ph>",
        "the link's text is a paired code, its target a protected placeholder the translator sees"
    );
    // A target moved away from its link's text is refused, naming it.
    let apart = "<ph id=\"5\"/>で<g id=\"1\"><g id=\"3\">報告書</g>の<g id=\"2\">全体</g></g><ph id=\"4\"/>を、<ph id=\"6\"/>と<ph id=\"7\"/>とともに読む。<ph id=\"8\"/>";
    let ja = read(&p, JA);
    let out = import(&p, &translate(&xliff, id, apart), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "link destination(s) moved away from their text: 4 ((../01-intro/en.md#purpose))"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&p, JA), ja);
    // The translator moves the codes to where Japanese needs them.
    let target = "<ph id=\"5\">{{metric sg.identity.users}}</ph>で<g id=\"1\"><g id=\"3\">報告書</g><ph id=\"4\"/>の<g id=\"2\">全体</g></g>を、<ph id=\"6\"/>と<ph id=\"7\"/>とともに読む。<ph id=\"8\"/>";
    let out = import(&p, &translate(&xliff, id, target), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ja = read(&p, JA);
    assert!(
        ja.contains("{{metric sg.identity.users}}で**[報告書](../01-intro/ja.md#purpose)の*全体***を、`x = 1`と<br>とともに読む。[^n]\n"),
        "{ja}"
    );
    // Everything else in the file is as it was.
    assert!(
        ja.contains("[アイデンティティ](../01-intro/ja.md)の章と`code`を参照。"),
        "{ja}"
    );
    assert!(ja.contains("[^n]: 注。"), "{ja}");
    let s = status(&p);
    assert_eq!(s["chapters"][0]["state"], "in-sync", "{s}");
    // And the chapter still builds.
    let out = p.renga(&["check", "--lang", "ja"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn each_block_goes_the_way_it_needs_unless_a_direction_is_chosen() {
    let p = project();
    rewrite_last_paragraph(&p);
    edit(&p, JA, "シンガポールでは", "シンガポールでは現在");
    edit(
        &p,
        EN,
        "## Purpose\n",
        "## Purpose\n\nA new English paragraph.\n",
    );
    let both = export(&p, &[]);
    validate(&both);
    let ids: Vec<String> = units(&both).into_iter().map(|u| u.0).collect();
    assert_eq!(ids.len(), 3, "{both}");
    assert!(ids[0].starts_with("01-intro/en/2/"), "{ids:?}");
    assert!(ids[1].starts_with("01-intro/en/5/"), "{ids:?}");
    assert!(
        ids.iter().any(|i| i.starts_with("01-intro/ja/2/")),
        "{ids:?}"
    );
    // The new block has no translation yet: no target, and a note that says so.
    assert!(
        both.contains("New English text: there is no Japanese translation yet."),
        "{both}"
    );

    let en_ja = export(&p, &["--direction", "en-ja"]);
    let ids: Vec<String> = units(&en_ja).into_iter().map(|u| u.0).collect();
    assert_eq!(ids.len(), 2, "{en_ja}");
    assert!(ids.iter().all(|i| i.starts_with("01-intro/en/")), "{ids:?}");
    assert!(!en_ja.contains("source-language=\"ja\""), "{en_ja}");

    // A chapter is named by its folder, or without its number.
    let ja_en = export(&p, &["--direction", "ja-en", "--chapter", "intro"]);
    let found = units(&ja_en);
    assert_eq!(found.len(), 1, "{ja_en}");
    assert!(
        ja_en.contains("source-language=\"ja\" target-language=\"en\""),
        "{ja_en}"
    );
    assert!(found[0].1.contains("シンガポールでは現在"), "{ja_en}");
    let out = p.renga(&["xliff", "export", "--chapter", "02-nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("chapters: 01-intro"),
        "{}",
        stderr(&out)
    );

    // Translating all three brings the chapter in sync: the new block is
    // inserted after the heading's translation.
    let mut filled = both.clone();
    for (id, source) in units(&both) {
        let target = if id.starts_with("01-intro/ja/") {
            source
                .replace("シンガポールでは現在", "Singpass now serves ")
                .replace("が利用している。", " residents.")
        } else if source.contains("new English") {
            "新しい段落。".to_string()
        } else {
            "最後の段落を書き直した。".to_string()
        };
        filled = translate(&filled, &id, &target);
    }
    let out = import(&p, &filled, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        read(&p, JA).contains("## 目的\n\n新しい段落。\n\nシンガポール"),
        "{}",
        read(&p, JA)
    );
    assert!(
        read(&p, JA).contains("最後の段落を書き直した。\n"),
        "{}",
        read(&p, JA)
    );
    assert!(
        read(&p, EN).contains("Singpass now serves {{metric sg.identity.users}} residents.\n"),
        "{}",
        read(&p, EN)
    );
    let s = status(&p);
    assert_eq!(s["chapters"][0]["state"], "in-sync", "{s}");
}

#[test]
fn a_source_changed_after_the_export_is_refused_naming_the_unit() {
    let p = project();
    rewrite_last_paragraph(&p);
    let xliff = export(&p, &[]);
    let (id, _) = units(&xliff).remove(0);
    let filled = translate(&xliff, &id, "最後の段落を書き直した。");
    // The author changes the block again before the translation comes back.
    edit(&p, EN, "rewritten.", "rewritten twice.");
    let (ja, record) = (read(&p, JA), read(&p, RECORD));
    let out = import(&p, &filled, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("unit {id}")), "{err}");
    assert!(
        err.contains("no longer matches chapters/01-intro/en.md"),
        "{err}"
    );
    assert!(
        err.contains("translated.xlf:"),
        "the unit's line in the file: {err}"
    );
    assert_eq!(read(&p, JA), ja, "nothing written");
    assert_eq!(read(&p, RECORD), record, "nothing recorded");

    // A change elsewhere in the chapter does not matter: the id finds the block.
    edit(&p, EN, "rewritten twice.", "rewritten.");
    edit(
        &p,
        EN,
        "## Purpose\n",
        "## Purpose\n\nAn inserted paragraph.\n",
    );
    let out = import(&p, &filled, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&p, JA).contains("最後の段落を書き直した。\n"));
}

#[test]
fn lost_duplicated_or_foreign_placeholders_and_untranslated_units_are_refused() {
    let p = project();
    edit(
        &p,
        EN,
        "The last paragraph.",
        "The **last** paragraph has {{metric sg.identity.users}}.",
    );
    let xliff = export(&p, &[]);
    let (id, _) = units(&xliff).remove(0);
    let ja = read(&p, JA);
    let cases = [
        (
            "<g id=\"1\">最後</g>の段落。",
            "placeholder(s) lost: 2 ({{metric sg.identity.users}})",
        ),
        (
            "<g id=\"1\">最後</g>の<ph id=\"2\"/><ph id=\"2\"/>段落。",
            "placeholder(s) duplicated: 2",
        ),
        (
            "<g id=\"1\">最後</g>の<ph id=\"2\"/><ph id=\"9\"/>段落。",
            "placeholder(s) not in the source: 9",
        ),
        (
            "<ph id=\"1\"/>の<ph id=\"2\"/>段落。",
            "changed between placeholder and paired: 1",
        ),
        (
            "<g id=\"1\">最後</g>の<ph id=\"2\"/>*段落*。",
            "turns into markdown",
        ),
        (
            "<g id=\"1\">最後</g>の<ph id=\"2\"/><x id=\"3\"/>段落。",
            "<x> is not a code renga wrote",
        ),
    ];
    for (target, message) in cases {
        let out = import(&p, &translate(&xliff, &id, target), &[]);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let err = stderr(&out);
        assert!(err.contains(message), "{target}: {err}");
        assert!(err.contains(&id), "{err}");
        assert_eq!(read(&p, JA), ja, "nothing written for {target}");
    }
    // The export's own target, left as it was, is not a translation.
    let out = import(&p, &xliff, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not translated yet (state `needs-translation`)"),
        "{}",
        stderr(&out)
    );
    // A document that is not XML is an error at its line and column.
    let out = import(&p, "<xliff version=\"1.2\">\n<file>\n</xliff>\n", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("translated.xlf:3:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn partial_import_applies_the_good_units_and_lists_the_rest() {
    let p = project();
    rewrite_last_paragraph(&p);
    edit(&p, EN, "## Purpose", "## The purpose");
    let xliff = export(&p, &[]);
    let ids: Vec<String> = units(&xliff).into_iter().map(|u| u.0).collect();
    assert_eq!(ids.len(), 2, "{xliff}");
    let filled = translate(&xliff, &ids[0], "<ph id=\"1\"/>目的");
    let filled = translate(&filled, &ids[1], "");
    let (ja, record) = (read(&p, JA), read(&p, RECORD));
    // Without --partial: nothing.
    let out = import(&p, &filled, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing was imported"),
        "{}",
        stderr(&out)
    );
    assert_eq!((read(&p, JA), read(&p, RECORD)), (ja, record));
    // With it: the heading goes in and is recorded, the empty one is listed.
    let out = import(&p, &filled, &["--partial"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused unit still fails the run"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("unit {}: its translation is empty", ids[1])),
        "{err}"
    );
    assert!(
        err.contains("imported 1 of 2 unit(s): 01-intro (1)"),
        "{err}"
    );
    assert!(read(&p, JA).contains("## 目的\n"), "{}", read(&p, JA));
    let s = status(&p);
    let blocks = s["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{s}");
    assert_eq!(
        blocks[0]["en_block"], 4,
        "only the paragraph is still stale: {s}"
    );
}

/// A file that not even root may replace until the guard is dropped
/// (`chattr +i`): its rename fails, as a full disk or a failing drive makes
/// a write fail halfway through an import.
struct Immutable(PathBuf);

impl Immutable {
    fn new(path: PathBuf) -> Self {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(&path)
            .output()
            .expect("chattr runs (Debian: e2fsprogs)");
        assert!(
            out.status.success(),
            "chattr +i {} (needs root on ext4, as CI runs): {}",
            path.display(),
            stderr(&out)
        );
        Self(path)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn an_import_whose_last_write_fails_leaves_every_file_as_it_was() {
    let p = project();
    p.file(
        "chapters/02-next/en.md",
        "+++\ntitle = \"Next\"\n+++\n\nA second chapter.\n",
    );
    p.file(
        "chapters/02-next/ja.md",
        "+++\ntitle = \"次\"\n+++\n\n二つ目の章。\n",
    );
    assert!(p.renga(&["translated", "02-next"]).status.success());
    rewrite_last_paragraph(&p);
    edit(
        &p,
        "chapters/02-next/en.md",
        "A second chapter.",
        "A second chapter, revised.",
    );
    let xliff = export(&p, &[]);
    let ids: Vec<String> = units(&xliff).into_iter().map(|u| u.0).collect();
    assert_eq!(ids.len(), 2, "{xliff}");
    let filled = translate(&xliff, &ids[0], "最後の段落、書き直し。");
    let filled = translate(&filled, &ids[1], "二つ目の章、改訂。");
    p.file("translated.xlf", &filled);
    // Written in order: 01-intro's ja.md and record, then 02-next's ja.md
    // and record. The last one cannot be replaced.
    let before = snapshot(p.path());
    let last = Immutable::new(p.path().join("chapters/02-next/translation.toml"));
    let out = p.renga(&["xliff", "import", "translated.xlf"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        snapshot(p.path()) == before,
        "every file byte for byte as it was, no temporary file left: {:?}",
        walk(p.path())
    );
    assert!(err.contains("error[io]: cannot write"), "{err}");
    assert!(
        err.contains("02-next/translation.toml"),
        "names the file: {err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    // Once the file can be written, the same import writes all four.
    drop(last);
    let out = p.renga(&["xliff", "import", "translated.xlf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&p, JA).contains("最後の段落、書き直し。"));
    assert!(read(&p, "chapters/02-next/ja.md").contains("二つ目の章、改訂。"));
    let s = status(&p);
    for chapter in s["chapters"].as_array().unwrap() {
        assert_eq!(chapter["state"], "in-sync", "{s}");
    }
}

/// A chapter file that is a link to a file elsewhere in the project is
/// written through the link, as it was read through it: the link stays.
#[test]
fn an_import_writes_through_a_chapter_link_inside_the_project() {
    let p = project();
    std::fs::create_dir(p.path().join("drafts")).unwrap();
    std::fs::rename(p.path().join(JA), p.path().join("drafts/ja.md")).unwrap();
    std::os::unix::fs::symlink("../../drafts/ja.md", p.path().join(JA)).unwrap();
    rewrite_last_paragraph(&p);
    let xliff = export(&p, &[]);
    let id = units(&xliff).remove(0).0;
    let out = import(&p, &translate(&xliff, &id, "最後の段落、書き直し。"), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(p.path().join(JA)).unwrap();
    assert!(meta.file_type().is_symlink(), "the chapter is still a link");
    assert!(read(&p, "drafts/ja.md").contains("最後の段落、書き直し。"));
    assert_eq!(status(&p)["chapters"][0]["state"], "in-sync");
}

/// A chapter link that leads outside the project is never written through.
#[test]
fn an_import_never_writes_through_a_link_outside_the_project() {
    let p = project();
    rewrite_last_paragraph(&p);
    let xliff = export(&p, &[]);
    let id = units(&xliff).remove(0).0;
    // Between export and import the chapter becomes a link out.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("ja.md");
    std::fs::rename(p.path().join(JA), &target).unwrap();
    std::os::unix::fs::symlink(&target, p.path().join(JA)).unwrap();
    let before = std::fs::read(&target).unwrap();
    let out = import(&p, &translate(&xliff, &id, "最後の段落、書き直し。"), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("outside the project"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
    let meta = std::fs::symlink_metadata(p.path().join(JA)).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is left alone");
}

/// The report's own files, copied into a temporary project.
fn this_report() -> TestProject {
    let p = TestProject::empty();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    p.file(
        "report.toml",
        std::fs::read(root.join("report.toml")).unwrap(),
    );
    for top in ["chapters", "data"] {
        for entry in walk(&root.join(top)) {
            let rel = entry
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            p.file(&rel, std::fs::read(&entry).unwrap());
        }
    }
    p
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_block_of_this_report_round_trips_byte_for_byte() {
    let p = this_report();
    let before: Vec<(PathBuf, Vec<u8>)> = walk(&p.path().join("chapters"))
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect();
    let xliff = export(&p, &["--all"]);
    validate(&xliff);
    let count = units(&xliff).len();
    let blocks: usize = before
        .iter()
        .filter(|(f, _)| f.ends_with("en.md"))
        .map(|(_, b)| renga::review::records::units(std::str::from_utf8(b).unwrap()).len())
        .sum();
    assert_eq!(count, blocks, "every English block is a unit");
    // Each target is the current translation, through XML and back.
    assert!(!xliff.contains("state=\"needs"), "all in sync");
    let out = import(&p, &xliff, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("imported {count} of {count} unit(s)")),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(p.path().join("translated.xlf")).unwrap();
    for (file, bytes) in &before {
        assert!(
            std::fs::read(file).unwrap() == *bytes,
            "{} changed",
            file.display()
        );
    }
    assert_eq!(walk(&p.path().join("chapters")).len(), before.len());
}

#[test]
fn a_translation_filled_in_by_translate_toolkit_imports() {
    let p = project();
    edit(
        &p,
        EN,
        "The last paragraph.",
        "The **last** paragraph cites [identity](../01-intro/en.md).",
    );
    edit(&p, EN, "## Purpose", "## Purpose and scope");
    let xliff = export(&p, &["--out", "out.xlf"]);
    assert!(xliff.is_empty());
    p.file(
        "pairs.json",
        r#"[["Purpose and scope", "目的と範囲"], ["The ", ""], ["last", "最後"], [" paragraph cites ", "の段落は"], ["identity", "アイデンティティ"], [".", "を引用する。"]]"#,
    );
    let out = Command::new("python3")
        .arg(fixtures().join("cat_tool.py"))
        .args(["out.xlf", "filled.xlf", "pairs.json"])
        .current_dir(p.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "translate-toolkit (pip install translate-toolkit; .ci/run installs it): {}",
        stderr(&out)
    );
    let filled = read(&p, "filled.xlf");
    validate(&filled);
    let out = p.renga(&["xliff", "import", "filled.xlf"]);
    assert!(out.status.success(), "{}\n{filled}", stderr(&out));
    let ja = read(&p, JA);
    assert!(ja.contains("## 目的と範囲\n"), "{ja}");
    assert!(
        ja.contains("**最後**の段落は[アイデンティティ](../01-intro/ja.md)を引用する。\n"),
        "{ja}"
    );
    let s = status(&p);
    assert_eq!(s["chapters"][0]["state"], "in-sync", "{s}");
}

#[test]
fn the_schemas_are_the_published_files() {
    use sha2::{Digest, Sha256};
    for (file, sum) in [
        (
            "xliff-core-1.2-strict.xsd",
            "33ff003ac4c9540a7a041653b5118fd76487c8ceb43549031065b86831a8c173",
        ),
        (
            "xml.xsd",
            "c43df7d7e5983b9751a1503c8c263660ae941a4d15afb050ab0d77a267012770",
        ),
    ] {
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, sum, "{file} (see tests/fixtures/xliff/README.md)");
    }
}

#[test]
fn an_imported_block_whose_footnote_changed_stays_stale_until_the_note_is_translated() {
    // A footnote's text belongs to the block that references it, but XLIFF
    // carries the block alone: importing its translation must not record
    // the pair as in sync while the note is still the old one.
    let p = TestProject::new();
    p.file(
        EN,
        "## Purpose\n\nSingpass serves residents.[^n]\n\nThe last paragraph.\n\n[^n]: Figures of 2024.\n",
    );
    p.file(
        JA,
        "## 目的\n\nSingpassは住民に使われている。[^n]\n\n最後の段落。\n\n[^n]: 2024年の数値。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Only the sentence changes: its translation imports and is recorded.
    edit(&p, EN, "serves residents.", "serves most residents.");
    let xliff = export(&p, &[]);
    let found = units(&xliff);
    assert_eq!(found.len(), 1, "{xliff}");
    // The note's mark stays as the placeholder the export gave it.
    let mark = |source: &str| source[source.find("<ph").expect("a placeholder")..].to_string();
    let filled = translate(
        &xliff,
        &found[0].0,
        &format!("Singpassは大半の住民に使われている。{}", mark(&found[0].1)),
    );
    let out = import(&p, &filled, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("xliff-footnote"), "{}", stderr(&out));
    assert!(read(&p, JA).contains("Singpassは大半の住民に使われている。[^n]"));
    assert_eq!(status(&p)["chapters"][0]["state"], "in-sync");

    // The sentence and its note change: the sentence's translation is
    // written, the pair is not recorded, and the import says why.
    edit(
        &p,
        EN,
        "serves most residents.",
        "serves nearly all residents.",
    );
    edit(&p, EN, "Figures of 2024.", "Figures of 2025.");
    let xliff = export(&p, &[]);
    let found = units(&xliff);
    assert_eq!(found.len(), 1, "{xliff}");
    let filled = translate(
        &xliff,
        &found[0].0,
        &format!(
            "Singpassはほぼ全ての住民に使われている。{}",
            mark(&found[0].1)
        ),
    );
    let out = import(&p, &filled, &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("xliff-footnote") && err.contains("[^n]"),
        "{err}"
    );
    assert!(read(&p, JA).contains("Singpassはほぼ全ての住民に使われている。[^n]"));
    // Both files changed since the record and the note is not translated:
    // status asks a person to confirm the pair, never "in sync".
    let after = status(&p);
    assert_eq!(after["chapters"][0]["state"], "unconfirmed", "{after:#}");
    let block = &after["chapters"][0]["blocks"][0];
    assert_eq!(block["reason"], "both-changed", "{after:#}");
    assert_eq!(
        (block["en_block"].clone(), block["ja_block"].clone()),
        (2.into(), 2.into())
    );

    // Once the note is translated too, recording it settles the pair.
    edit(&p, JA, "2024年の数値。", "2025年の数値。");
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status(&p)["chapters"][0]["state"], "in-sync");
}

#[test]
fn language_tags_with_regions_as_cat_tools_write_them_are_the_same_languages() {
    let p = project();
    edit(&p, EN, "The last paragraph.", "The last paragraph, again.");
    let xliff = export(&p, &["--out", "out.xlf"]);
    assert!(xliff.is_empty());
    p.file(
        "pairs.json",
        r#"[["The last paragraph, again.", "最後の段落、もう一度。"]]"#,
    );
    let out = Command::new("python3")
        .arg(fixtures().join("cat_tool.py"))
        .args(["out.xlf", "filled.xlf", "pairs.json", "en-US", "ja-JP"])
        .current_dir(p.path())
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "translate-toolkit: {}", stderr(&out));
    let filled = read(&p, "filled.xlf");
    assert!(
        filled.contains(r#"source-language="en-US""#)
            && filled.contains(r#"target-language="ja-JP""#),
        "{filled}"
    );
    validate(&filled);
    // Another language is still refused, whatever its region.
    let french = filled.replace(r#"target-language="ja-JP""#, r#"target-language="fr-FR""#);
    p.file("french.xlf", &french);
    let out = p.renga(&["xliff", "import", "french.xlf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("its file says en-US to fr-FR"),
        "{}",
        stderr(&out)
    );
    let out = p.renga(&["xliff", "import", "filled.xlf"]);
    assert!(out.status.success(), "{}\n{filled}", stderr(&out));
    assert!(read(&p, JA).contains("最後の段落、もう一度。"));
}

#[test]
fn a_target_with_characters_xml_forbids_or_control_characters_is_refused() {
    for (what, bad) in [
        ("raw NUL", "\u{0}"),
        ("escape reference", "&#x1b;[8m"),
        ("raw escape", "\u{1b}]52;c;eA==\u{7}"),
        ("C1 control", "\u{9b}"),
    ] {
        let p = project();
        rewrite_last_paragraph(&p);
        let xliff = export(&p, &[]);
        let (id, _) = units(&xliff).remove(0);
        let filled = translate(&xliff, &id, &format!("最後の{bad}段落。"));
        let (ja, record) = (read(&p, JA), read(&p, RECORD));
        let out = import(&p, &filled, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(&format!("unit {id}")), "{what}: {err}");
        assert!(
            err.contains("translated.xlf:"),
            "{what}, the unit's line: {err}"
        );
        assert!(err.contains("U+"), "{what}, names the character: {err}");
        assert_eq!(read(&p, JA), ja, "{what}: nothing written");
        assert_eq!(read(&p, RECORD), record, "{what}: nothing recorded");
    }
}

#[test]
fn an_import_killed_between_two_renames_is_finished_by_the_next_run() {
    let p = project();
    rewrite_last_paragraph(&p);
    let xliff = export(&p, &[]);
    let (id, _) = units(&xliff).remove(0);
    let filled = translate(&xliff, &id, "最後の段落を書き直した。");
    p.file("translated.xlf", &filled);
    // Killed after the first rename: ja.md new, translation.toml old.
    let killed = Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["xliff", "import", "translated.xlf"])
        .current_dir(p.path())
        .env("RENGA_TEST_KILL_PUBLISH_AFTER", "1")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), Some(137), "{}", stderr(&killed));
    let names = |dir: &Path| -> Vec<String> {
        walk(dir)
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
    };
    assert!(!names(p.path()).is_empty(), "the kill left its files");
    // The next import (here of the same file, whose unit is now in place)
    // finishes the first one before it reads the chapters.
    let out = import(&p, &filled, &[]);
    let err = stderr(&out);
    assert!(err.contains("interrupted import"), "{err}");
    assert_eq!(names(p.path()), Vec::<String>::new(), "no leftovers");
    assert!(read(&p, JA).contains("最後の段落を書き直した。\n"));
    // Chapter and record agree: nothing is stale.
    let s = status(&p);
    let blocks = s["chapters"][0]["blocks"].as_array().unwrap();
    assert!(
        blocks.is_empty(),
        "the record was written with the chapter: {s}"
    );
}
