//! `renga status` and `renga translated` on temporary projects: a record
//! holds only the pairs that the alignment shown by `status` supports,
//! untranslated text stays visible, suggestions are commands that work, and
//! problems are diagnostics in every format.

use std::process::Output;

use crate::common::*;
use serde_json::Value;

const EN: &str = "chapters/01-intro/en.md";
const JA: &str = "chapters/01-intro/ja.md";
const RECORD: &str = "chapters/01-intro/translation.toml";

fn json(out: &Output) -> Value {
    let text = stdout(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn record_text(p: &TestProject) -> String {
    std::fs::read_to_string(p.path().join(RECORD)).unwrap()
}

/// A chapter of `sections` sections, each a heading and three paragraphs,
/// in both languages; every block names its number (`2.1`) so that a pair
/// can be checked.
fn sections(p: &TestProject, sections: usize) {
    let (mut en, mut ja) = (String::new(), String::new());
    for s in 1..=sections {
        en.push_str(&format!("## Section {s}\n\n"));
        ja.push_str(&format!("## 第{s}節\n\n"));
        for k in 1..=3 {
            en.push_str(&format!(
                "Paragraph {s}.{k} describes the services of this area in detail.\n\n"
            ));
            ja.push_str(&format!(
                "段落{s}.{k}はこの分野のサービスを詳しく説明する。\n\n"
            ));
        }
    }
    p.file(EN, en).file(JA, ja);
}

/// The numbers (`2.1`, `3`) each block names, in en and ja, for every
/// pair of the record.
fn recorded_pairs(p: &TestProject) -> Vec<(String, String)> {
    let record: toml::Value = toml::from_str(&record_text(p)).unwrap();
    let number = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
            .trim_matches('.')
            .to_string()
    };
    record["block"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                number(b["en_text"].as_str().unwrap()),
                number(b["ja_text"].as_str().unwrap()),
            )
        })
        .collect()
}

fn insert_before(p: &TestProject, rel: &str, before: &str, block: &str) {
    let text = std::fs::read_to_string(p.path().join(rel)).unwrap();
    assert!(text.contains(before), "{rel} has no `{before}`");
    p.file(
        rel,
        text.replacen(before, &format!("{block}\n\n{before}"), 1),
    );
}

#[test]
fn translated_records_only_the_pairs_that_status_shows() {
    let p = TestProject::new();
    sections(&p, 5);
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A new English paragraph as block 3 and a new Japanese one as block 20:
    // the same number of blocks, but no pair between them.
    insert_before(&p, EN, "Paragraph 1.2 ", "A new English paragraph.");
    insert_before(&p, JA, "段落5.3", "新しい日本語の段落。");
    let status = json(&p.renga(&["status", "--format", "json"]));
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    let added = |b: &Value| {
        (
            b["reason"].clone(),
            b["en_block"].clone(),
            b["ja_block"].clone(),
        )
    };
    assert_eq!(
        blocks.iter().map(added).collect::<Vec<_>>(),
        [
            ("source-added".into(), 3.into(), Value::Null),
            ("source-added".into(), Value::Null, 20.into())
        ],
        "{status:#}"
    );

    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("en.md block 3 (line 5) is not recorded: it has no Japanese translation"),
        "{err}"
    );
    assert!(
        err.contains("ja.md block 20 (line 39) is not recorded: it has no English translation"),
        "{err}"
    );
    // Every recorded pair is a block and its own translation…
    let pairs = recorded_pairs(&p);
    assert_eq!(pairs.len(), 20);
    for (en, ja) in &pairs {
        assert_eq!(en, ja, "{}", record_text(&p));
    }
    // …and the untranslated blocks are still untranslated.
    let after = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(after["chapters"][0]["state"], "stale", "{after:#}");
    assert_eq!(
        after["chapters"][0]["blocks"],
        status["chapters"][0]["blocks"]
    );
    assert_eq!(p.renga(&["status", "--strict"]).status.code(), Some(1));

    // Once both languages have the block, recording pairs it.
    insert_before(&p, JA, "段落1.2", "新しい英語の段落の訳。");
    insert_before(
        &p,
        EN,
        "Paragraph 5.3",
        "The new Japanese paragraph, translated.",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not recorded"), "{}", stderr(&out));
    let after = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(after["chapters"][0]["state"], "in-sync", "{after:#}");
}

#[test]
fn translated_refuses_to_pair_blocks_of_different_kinds() {
    let p = TestProject::new();
    // As many blocks, but a heading where the other language has a paragraph.
    p.file(EN, "## Purpose\n\n## Scope\n\nText.\n");
    p.file(JA, "## 目的\n\n本文。\n\n## 範囲\n");
    let out = p.renga(&["translated", "01-intro"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "en.md block 2 (line 3) is a heading and ja.md block 2 (line 3) is a paragraph: a record pairs only blocks of the same kind"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!p.path().join(RECORD).exists());
    // `status` does not suggest the command that refuses.
    let out = p.renga(&["status"]);
    let text = stdout(&out);
    assert!(!text.contains("run `renga translated"), "{text}");
    assert!(
        text.contains("not recorded; en.md block 2 (line 3) is a heading"),
        "{text}"
    );

    // With a record, a paragraph rewritten as a heading in one language
    // cannot be recorded against the other's paragraph.
    p.file(EN, "## Purpose\n\nScope.\n\nText.\n");
    p.file(JA, "## 目的\n\n範囲。\n\n本文。\n");
    assert!(p.renga(&["translated", "01-intro"]).status.success());
    let before = record_text(&p);
    p.file(EN, "## Purpose\n\n## Scope\n\nText.\n");
    let out = p.renga(&["translated", "01-intro"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "en.md block 2 (line 3) is a heading and ja.md block 2 (line 3) is a paragraph"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(record_text(&p), before, "nothing written");
}

#[test]
fn status_suggests_only_block_records_that_work() {
    let p = TestProject::new();
    let first = "The first paragraph describes the national digital identity service.";
    let second = "The second paragraph describes the trust framework for verified credentials.";
    p.file(EN, format!("## Purpose\n\n{first}\n\n{second}\n"));
    p.file(JA, "## 目的\n\n最初の段落。\n\n二番目の段落。\n");
    assert!(p.renga(&["translated", "01-intro"]).status.success());
    // Both languages rewrite block 3 and gain a block 4 at the same place:
    // two pairs to confirm, while the record has three entries.
    let second = second.replace("the trust", "the new trust");
    p.file(
        EN,
        format!("## Purpose\n\n{first}\n\n{second}\n\nA closing paragraph.\n"),
    );
    p.file(
        JA,
        "## 目的\n\n最初の段落。\n\n書き直した二番目の段落。\n\n結びの段落。\n",
    );
    let out = p.renga(&["status"]);
    let text = stdout(&out);
    let suggested: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("(if they agree: ").nth(1))
        .map(|c| c.trim_end_matches("):"))
        .collect();
    assert_eq!(
        suggested,
        [
            "renga translated 01-intro --block 3",
            "renga translated 01-intro --block 4"
        ],
        "{text}"
    );
    for command in suggested {
        let args: Vec<&str> = command.split(' ').skip(1).collect();
        let out = p.renga(&args);
        assert!(out.status.success(), "`{command}`: {}", stderr(&out));
    }
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");

    // A pair whose numbers differ cannot be recorded alone, and is not
    // suggested; the refusal says what block 2 pairs with.
    let first = first.replace("national", "national and local");
    p.file(
        EN,
        format!(
            "## Purpose\n\nAn opening paragraph.\n\n{first}\n\n{second}\n\nA closing paragraph.\n"
        ),
    );
    p.file(
        JA,
        "## 目的\n\n変更した最初の段落。\n\n書き直した二番目の段落。\n\n結びの段落。\n",
    );
    let text = stdout(&p.renga(&["status"]));
    assert!(!text.contains("--block"), "{text}");
    let out = p.renga(&["translated", "01-intro", "--block", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("en.md block 3 (line 5) pairs with ja.md block 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_chapter_path_leaving_chapters_is_refused() {
    let p = TestProject::new();
    for name in ["../01-intro", "/tmp/01-intro", "chapters/../../01-intro"] {
        let out = p.renga(&["translated", name]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("`{name}` is not a chapter of the report")),
            "{}",
            stderr(&out)
        );
        assert!(!p.path().join(RECORD).exists());
    }
    let out = p.renga(&["translated", "chapters/01-intro/"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_chapter_file_that_is_not_utf8_is_an_error_at_its_byte() {
    let p = TestProject::new();
    assert!(p.renga(&["translated", "01-intro"]).status.success());
    let mut bytes = std::fs::read(p.path().join(JA)).unwrap();
    let at = bytes.windows(3).position(|w| w == "利".as_bytes()).unwrap();
    bytes[at + 1] = 0xff;
    p.file(JA, bytes);

    let out = p.renga(&["status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let status = json(&out);
    assert_eq!(status["chapters"][0]["state"], "error", "{status:#}");
    assert_eq!(status["summary"]["missing"], 0);
    assert_eq!(status["summary"]["error"], 1);
    let d = &status["diagnostics"][0];
    assert_eq!(d["file"], JA, "{status:#}");
    // At the first byte that is not UTF-8: line 8, column 38.
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(8), Some(38)),
        "{status:#}"
    );

    let out = p.renga(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains("missing ja.md"), "{}", stdout(&out));
    assert!(stderr(&out).contains(JA), "{}", stderr(&out));
    // Nothing is recorded from a chapter that cannot be read.
    let before = record_text(&p);
    let out = p.renga(&["translated", "01-intro"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(JA), "{}", stderr(&out));
    assert_eq!(record_text(&p), before);
}

#[test]
fn a_corrupt_record_is_a_diagnostic_and_its_chapter_stays_listed() {
    let p = TestProject::new();
    p.file("chapters/02-next/en.md", "## Next\n\nText.\n");
    p.file("chapters/02-next/ja.md", "## 次\n\n本文。\n");
    assert!(p.renga(&["translated", "01-intro"]).status.success());
    assert!(p.renga(&["translated", "02-next"]).status.success());
    p.file(RECORD, record_text(&p).replacen("en = ", "en = = ", 1));

    let out = p.renga(&["status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let status = json(&out);
    let chapters = status["chapters"].as_array().unwrap();
    let states: Vec<(&str, &str)> = chapters
        .iter()
        .map(|c| (c["chapter"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("01-intro", "error"), ("02-next", "in-sync")]);
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "JSON lines: {}",
        stdout(&out)
    );
    let counted: u64 = status["summary"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(counted, 2, "{status:#}");
    let d = &status["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], RECORD);
    assert!(d["line"].as_u64().unwrap() > 1, "{status:#}");
    assert!(d["column"].as_u64().unwrap() > 0, "{status:#}");

    let out = p.renga(&["status", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(&format!("::error file={RECORD},line=")),
        "{}",
        stdout(&out)
    );
    let out = p.renga(&["status"]);
    assert!(
        stderr(&out).contains("error[translation-record]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("01-intro  cannot be compared"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn translated_speaks_the_diagnostics_of_every_command() {
    let p = TestProject::new();
    let out = p.renga(&["translated", "03-nowhere", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "JSON lines: {}",
        stdout(&out)
    );
    let d = json(&out);
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "no-chapter");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("no chapter `03-nowhere`")
    );
    let out = p.renga(&["translated", "03-nowhere", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("::error "), "{}", stdout(&out));
    let out = p.renga(&["translated", "01-intro", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_changed_footnote_makes_the_translation_of_its_paragraph_stale() {
    // A footnote is read where it is referenced: its text is part of that
    // paragraph's translation. Changing only the English note used to
    // leave the chapter "in sync".
    let p = TestProject::new();
    p.file(
        EN,
        "## Identity\n\nSingpass serves residents.[^src]\n\nA second paragraph.\n\n[^src]: Figures from GovTech, 2024.\n",
    );
    p.file(
        JA,
        "## アイデンティティ\n\nSingpassは住民に使われている。[^src]\n\n二つ目の段落。\n\n[^src]: GovTechによる2024年の数値。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");

    p.file(
        EN,
        "## Identity\n\nSingpass serves residents.[^src]\n\nA second paragraph.\n\n[^src]: Figures from GovTech, 2025 annual report.\n",
    );
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "stale", "{status:#}");
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{status:#}");
    // The paragraph that references the note (block 2, after the
    // heading), in Japanese, needs updating; the note's change is shown.
    assert_eq!(blocks[0]["reason"], "source-changed", "{status:#}");
    assert_eq!(blocks[0]["lang"], "ja", "{status:#}");
    assert_eq!(blocks[0]["ja_block"], 2, "{status:#}");
    let text = stdout(&p.renga(&["status"]));
    assert!(text.contains("[-2024.-]{+2025 annual report.+}"), "{text}");
    assert_eq!(p.renga(&["status", "--strict"]).status.code(), Some(1));

    // Translated and recorded again: in sync.
    p.file(
        JA,
        "## アイデンティティ\n\nSingpassは住民に使われている。[^src]\n\n二つ目の段落。\n\n[^src]: GovTechの2025年年次報告による数値。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "in-sync", "{status:#}");
}

#[test]
fn a_changed_chapter_title_in_front_matter_makes_the_translation_stale() {
    // The title in front matter is the chapter's heading in every edition
    // (this report's chapters are titled so). Changing only the English
    // title used to leave the chapter "in sync".
    let p = TestProject::new();
    p.file(
        EN,
        "+++\ntitle = \"Identity\"\n+++\n\nSingpass serves residents.\n",
    );
    p.file(
        JA,
        "---\ntitle: アイデンティティ\n---\n\nSingpassは住民に使われている。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&p.renga(&["status", "--format", "json"]))["chapters"][0]["state"],
        "in-sync"
    );

    p.file(
        EN,
        "+++\ntitle = \"Digital identity and trust\"\n+++\n\nSingpass serves residents.\n",
    );
    let status = json(&p.renga(&["status", "--format", "json"]));
    assert_eq!(status["chapters"][0]["state"], "stale", "{status:#}");
    let blocks = status["chapters"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{status:#}");
    assert_eq!(blocks[0]["lang"], "ja", "{status:#}");
    let text = stdout(&p.renga(&["status"]));
    assert!(text.contains("Digital identity and trust"), "{text}");

    // The Japanese title translated and recorded: in sync.
    p.file(
        JA,
        "---\ntitle: デジタルアイデンティティと信頼\n---\n\nSingpassは住民に使われている。\n",
    );
    let out = p.renga(&["translated", "01-intro"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&p.renga(&["status", "--format", "json"]))["chapters"][0]["state"],
        "in-sync"
    );
}
