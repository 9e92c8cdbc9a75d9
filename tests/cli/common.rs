//! A temporary report project and the real renga binary, so that tests read
//! like an author's session.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use renga::diag::Diagnostics;
use renga::pipeline::{self, Edition, Timings};

pub const REPORT_TOML: &str = r#"name = "test-report"
version = "0.1"
date = 2026-11-27
keywords = ["digital government"]

[description]
en = "A test report."
ja = "試験用の報告書。"

[title]
en = "Test Report"
ja = "試験報告書"

[edition]
en = "Draft"
ja = "草稿"

[[agencies]]
id = "sg"
name = { en = "GovTech", ja = "シンガポール政府技術庁" }
short = { en = "GovTech", ja = "GovTech" }
country = { en = "Singapore", ja = "シンガポール" }

[[agencies]]
id = "jp"
name = { en = "Digital Agency", ja = "デジタル庁" }
short = { en = "Digital Agency", ja = "デジタル庁" }
country = { en = "Japan", ja = "日本" }
"#;

pub const SG_IDENTITY: &str = r#"[topic]
en = "Digital identity"
ja = "デジタルアイデンティティ"

[[metric]]
id = "users"
label = { en = "Digital ID users", ja = "デジタルID利用者数" }
value = 1234567
unit = "people"
as_of = 2024-12-31
source = "Test source A"
"#;

pub const JP_IDENTITY: &str = r#"[topic]
en = "Digital identity"
ja = "デジタルアイデンティティ"

[[metric]]
id = "users"
label = { en = "Digital ID users", ja = "デジタルID利用者数" }
value = 98765432
unit = "people"
as_of = 2025-03-31
source = "Test source B"
illustrative = true
"#;

pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    /// A valid project with one chapter in both languages and metrics from both agencies.
    pub fn new() -> Self {
        let p = Self::empty();
        p.file("report.toml", REPORT_TOML);
        p.file("data/sg/identity.toml", SG_IDENTITY);
        p.file("data/jp/identity.toml", JP_IDENTITY);
        p.file(
            "chapters/01-intro/en.md",
            "+++\ntitle = \"Introduction\"\nlead = \"sg\"\n+++\n\n## Purpose\n\nSingpass serves {{metric sg.identity.users}} residents.\n",
        );
        p.file(
            "chapters/01-intro/ja.md",
            "+++\ntitle = \"はじめに\"\nlead = \"sg\"\n+++\n\n## 目的\n\nシンガポールでは{{metric sg.identity.users}}が利用している。\n",
        );
        p
    }

    pub fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path().join(rel)).unwrap();
        self
    }

    /// Runs `renga ARGS` in the project folder.
    pub fn renga(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .expect("renga runs")
    }

    pub fn out(&self, file: &str) -> PathBuf {
        self.path().join("out").join(file)
    }

    /// Loads, converts, templates and lays out one edition in-process: the
    /// document (none when loading or layout failed) and every diagnostic.
    fn laid_out(&self, edition: Edition) -> (Option<PagedDocument>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let mut timings = Timings::default();
        let Some(prepared) = pipeline::prepare(self.path(), &[edition], &mut diags, &mut timings)
        else {
            return (None, diags);
        };
        let (doc, d) = prepared.layout(edition);
        diags.extend(d);
        (doc, diags)
    }

    /// The text of one laid-out edition, or the diagnostics that stopped it.
    pub fn layout_text(&self, edition: Edition) -> Result<(String, Diagnostics), Diagnostics> {
        match self.laid_out(edition) {
            (Some(doc), diags) if !diags.has_errors() => Ok((pipeline::plain_text(&doc), diags)),
            (_, diags) => Err(diags),
        }
    }

    /// The runs of text of one laid-out edition, each with its language tag.
    pub fn layout_runs(&self, edition: Edition) -> Vec<pipeline::TextRun> {
        let (doc, diags) = self.laid_out(edition);
        pipeline::text_runs(&doc.unwrap_or_else(|| panic!("{:?}", diags.items)))
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF, as poppler's pdftotext reads it.
pub fn pdf_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed; .ci/run installs it");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page count poppler's pdfinfo reports.
pub fn pdf_pages(path: &Path) -> usize {
    let out = Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

/// Removes all whitespace, for comparing text across line breaks.
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---- Reading reference renderings, shared by the text-fidelity tests ----
// An oracle of its own: deliberately not renga's HTML handling.

/// The end of an HTML tag, skipping `>` inside quoted attribute values.
pub fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Decodes HTML character references (named ones of HTML's core, numeric ones).
pub fn decode_html(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&e| e < 12).and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Runs of letters and digits.
pub fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether every word occurs in `text` in order (letters and digits only,
/// so hyphenation and spacing do not matter).
pub fn in_order(words: &[String], text: &str) -> Result<(), String> {
    let hay: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut pos = 0;
    for (i, w) in words.iter().enumerate() {
        match hay[pos..].find(w.as_str()) {
            Some(at) => pos += at + w.len(),
            None => {
                let before = words[i.saturating_sub(8)..i].join(" ");
                let after = words[i + 1..(i + 8).min(words.len())].join(" ");
                return Err(format!(
                    "word {} of {}, `{w}`, missing or out of order (… {before} [{w}] {after} …)",
                    i + 1,
                    words.len()
                ));
            }
        }
    }
    Ok(())
}

// ---- Reading a laid-out chapter, shared by the text-fidelity tests ----

use typst::foundations::Value;
use typst::introspection::{Location, Tag};
use typst::layout::{Frame, FrameItem};
use typst::model::{FootnoteEntry, HeadingElem};
use typst::pdf::ArtifactElem;
use typst_layout::PagedDocument;

/// The laid-out text as a reader reads it: page artifacts (running heads,
/// page numbers) are skipped, and footnotes, set at the foot of a page in
/// the middle of a sentence or a code block that runs on to the next page,
/// are read apart from the body.
#[derive(Default)]
pub struct Reading {
    /// The text of the pages' bodies, without footnotes.
    pub body: String,
    /// All the text but artifacts: the body with the footnotes.
    pub all: String,
}

pub fn read_chapter(doc: &PagedDocument, chapter: &str) -> Result<Reading, String> {
    #[derive(PartialEq)]
    enum Open {
        Artifact,
        Footnote,
    }
    /// Where the walk is: before the chapter (cover, contents), in it, or
    /// after it (metrics, sources, colophon). Only the chapter is read.
    #[derive(PartialEq)]
    enum Part {
        Before,
        Chapter,
        After,
    }
    struct Walk<'a> {
        chapter: &'a str,
        part: Part,
        open: Vec<(Location, Open)>,
    }
    fn walk(frame: &Frame, w: &mut Walk, out: &mut Reading) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(group) => walk(&group.frame, w, out),
                FrameItem::Tag(Tag::Start(content, _)) => {
                    // The chapter opens with its labelled heading and ends at
                    // the next top-level heading (the metrics section).
                    if content
                        .label()
                        .is_some_and(|l| l.resolve().as_str() == w.chapter)
                    {
                        w.part = Part::Chapter;
                    } else if w.part == Part::Chapter
                        && content.is::<HeadingElem>()
                        && content.get_by_name("level").ok() == Some(Value::Int(1))
                    {
                        w.part = Part::After;
                    }
                    let open = &mut w.open;
                    let kind = if content.is::<ArtifactElem>() {
                        Open::Artifact
                    } else if content.is::<FootnoteEntry>() {
                        Open::Footnote
                    } else {
                        continue;
                    };
                    if let Some(location) = content.location() {
                        open.push((location, kind));
                    }
                }
                FrameItem::Tag(Tag::End(location, ..)) => w.open.retain(|(l, _)| l != location),
                FrameItem::Text(text) => {
                    let open = &w.open;
                    if w.part != Part::Chapter || open.iter().any(|(_, k)| *k == Open::Artifact) {
                        continue;
                    }
                    out.all.push_str(&text.text);
                    out.all.push(' ');
                    if open.is_empty() {
                        out.body.push_str(&text.text);
                        out.body.push(' ');
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Reading::default();
    let mut w = Walk {
        chapter,
        part: Part::Before,
        open: Vec::new(),
    };
    for page in doc.pages() {
        // A footnote that runs on to the next page ends there: its end tag
        // does not end the body text before it.
        w.open.clear();
        walk(&page.frame, &mut w, &mut out);
    }
    if w.part == Part::Before {
        return Err(format!(
            "the chapter's heading <{chapter}> was never laid out"
        ));
    }
    Ok(out)
}

impl TestProject {
    /// Like [`TestProject::layout_text`], but only the text of chapter
    /// `slug` (not the cover, contents, metrics or colophon), as a reader
    /// reads it.
    pub fn chapter_text(
        &self,
        edition: Edition,
        slug: &str,
    ) -> Result<(String, Diagnostics), Diagnostics> {
        let mut diags = Diagnostics::default();
        let mut timings = Timings::default();
        let Some(prepared) = pipeline::prepare(self.path(), &[edition], &mut diags, &mut timings)
        else {
            return Err(diags);
        };
        let (doc, d) = prepared.layout(edition);
        diags.extend(d);
        match doc {
            Some(doc) if !diags.has_errors() => {
                match read_chapter(&doc, &chapter_label(edition, slug)) {
                    Ok(reading) => Ok((reading.all, diags)),
                    Err(why) => {
                        diags.push(renga::diag::Diagnostic::error("test", why));
                        Err(diags)
                    }
                }
            }
            _ => Err(diags),
        }
    }
}

/// The label of a chapter's heading in an edition's first language.
pub fn chapter_label(edition: Edition, slug: &str) -> String {
    renga::markdown::label(slug, edition.langs()[0], None)
}

// ---- A long chapter for the review commands' time bounds ----

/// A chapter of sections holding `sizes[i]` paragraphs each, all written
/// from one small vocabulary so that every paragraph reads much like its
/// neighbours: the hard case for pairing blocks between two versions.
/// With `edited`, one word of every paragraph is replaced. The same sizes
/// always give the same text.
pub fn similar_paragraphs(sizes: &[usize], edited: bool) -> String {
    const VOCABULARY: [&str; 30] = [
        "agency",
        "service",
        "digital",
        "identity",
        "residents",
        "government",
        "platform",
        "data",
        "record",
        "public",
        "trust",
        "verify",
        "credential",
        "payment",
        "health",
        "portal",
        "citizen",
        "report",
        "figure",
        "year",
        "review",
        "standard",
        "policy",
        "access",
        "secure",
        "national",
        "local",
        "mobile",
        "network",
        "system",
    ];
    // xorshift64: a fixed sequence, no dependency.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut text = String::new();
    for (s, &count) in sizes.iter().enumerate() {
        text.push_str(&format!("## Section {}\n\n", s + 1));
        for _ in 0..count {
            let mut words: Vec<&str> = (0..30).map(|_| VOCABULARY[next(30)]).collect();
            let at = next(30);
            if edited {
                words[at] = "changed";
            }
            text.push_str(&words.join(" "));
            text.push_str(".\n\n");
        }
    }
    text
}
