//! Real public markdown documents (tests/fixtures/real, licences in its
//! README.md), each the only chapter of a report, compile as `renga
//! compile` compiles them: no Typst error, and the PDF (PDF/A-3a, PDF/UA-1)
//! is exported. Every word a reader of the document would see is in the
//! laid-out text, in order; every code span and code block is set verbatim;
//! and the PDF's text layer holds what was laid out.
//!
//! The words are taken from comrak's parse of the document, with the same
//! options renga uses: text, code spans, code blocks, the text of raw HTML
//! (tags and comments are not text; an `<img>`'s alt text is) and image alt
//! text. The laid-out text is read as a reader reads it, only the chapter
//! (not the cover, contents or colophon): running heads and page numbers
//! are skipped, and footnotes, set at the foot of a page, are
//! read apart from the body; each footnote's words are checked in order on
//! their own. The text of HTML comments, which a reader must not see, is
//! checked to be absent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::common::*;
use comrak::nodes::{AstNode, NodeHtmlBlock, NodeValue};
use comrak::{Arena, parse_document};
use renga::diag::Diagnostic;
use renga::pipeline::Edition;

/// Each fixture and the edition it is written for.
const FIXTURES: &[(&str, Edition)] = &[
    ("rust-book-ch02-guessing-game.md", Edition::En),
    ("prettier-options.md", Edition::En),
    ("rfc-3498-lifetime-capture-rules-2024.md", Edition::En),
    ("book-ja-ch03-02-data-types.md", Edition::Ja),
    ("book-ja-ch04-01-what-is-ownership.md", Edition::Ja),
];

/// The licence texts each fixture's licence requires to go with it, in
/// tests/fixtures/real/licences.
const LICENCES: &[(&str, &[&str])] = &[
    (
        "rust-book-ch02-guessing-game.md",
        &[
            "rust-lang-book/LICENSE-MIT",
            "rust-lang-book/LICENSE-APACHE",
        ],
    ),
    ("prettier-options.md", &["prettier/LICENSE"]),
    (
        "rfc-3498-lifetime-capture-rules-2024.md",
        &[
            "rust-lang-rfcs/LICENSE-MIT",
            "rust-lang-rfcs/LICENSE-APACHE",
        ],
    ),
    (
        "book-ja-ch03-02-data-types.md",
        &[
            "rust-lang-ja-book-ja/LICENSE-MIT",
            "rust-lang-ja-book-ja/LICENSE-APACHE",
        ],
    ),
    (
        "book-ja-ch04-01-what-is-ownership.md",
        &[
            "rust-lang-ja-book-ja/LICENSE-MIT",
            "rust-lang-ja-book-ja/LICENSE-APACHE",
        ],
    ),
];

/// The chapter folder a fixture is put in.
const SLUG: &str = "01-doc";

/// Author errors a fixture may have in a test project: its images are not
/// copied beside it. renga typesets their alt text instead.
const EXPECTED_ERRORS: &[&str] = &["image-missing"];

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/real/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// What a reader sees of one flow of text (the body, or one footnote): its
/// words in order, and its code spans and code blocks, which must be set
/// verbatim.
#[derive(Debug, Default, PartialEq)]
struct Flow {
    words: Vec<String>,
    code: Vec<String>,
}

/// What a reader sees of a document: the body, and each footnote in order
/// of first reference.
#[derive(Debug, Default)]
struct Words {
    body: Flow,
    footnotes: Vec<(String, Flow)>,
    /// The text of each HTML comment: material a reader must not see.
    hidden: Vec<String>,
}

fn document_words(markdown: &str) -> Words {
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &renga::markdown::options_for(markdown));
    let mut definitions = HashMap::new();
    for node in root.children() {
        if let NodeValue::FootnoteDefinition(def) = &node.data().value {
            definitions.insert(def.name.clone(), node);
        }
    }
    let mut seen = Seen::default();
    seen.node(root);
    let mut words = Words {
        body: seen.flow(),
        ..Words::default()
    };
    for node in root.descendants() {
        if let NodeValue::HtmlBlock(NodeHtmlBlock { literal, .. })
        | NodeValue::HtmlInline(literal) = &node.data().value
        {
            words.hidden.extend(comments(literal));
        }
    }
    // Footnotes inside footnotes are referenced while collecting, so the
    // list grows as it is walked.
    let mut i = 0;
    while i < seen.footnotes.len() {
        let name = seen.footnotes[i].clone();
        i += 1;
        if words.footnotes.iter().any(|(n, _)| *n == name) {
            continue;
        }
        // A reference without a definition is plain text to comrak, so every
        // referenced name has one.
        for child in definitions[&name].children() {
            seen.node(child);
        }
        words.footnotes.push((name, seen.flow()));
    }
    words
}

/// The text a reader sees, collected node by node.
#[derive(Default)]
struct Seen {
    text: String,
    code: Vec<String>,
    /// Names of the footnotes referenced, in order.
    footnotes: Vec<String>,
    /// Inside a ruby annotation (`<rt>`, `<rp>`): set above the line or
    /// left out, not read with the text.
    annotation: bool,
}

impl Seen {
    /// Appends the text a reader sees of `node`, with a space between nodes
    /// (splitting words more finely never makes the check pass wrongly: the
    /// laid-out text is compared without spaces).
    fn node<'a>(&mut self, node: &'a AstNode<'a>) {
        match &node.data().value {
            NodeValue::Text(t) if !self.annotation => self.text.push_str(t),
            NodeValue::Code(c) => {
                self.text.push_str(&c.literal);
                self.code.push(c.literal.clone());
            }
            NodeValue::CodeBlock(c) => {
                self.text.push_str(&c.literal);
                self.code.push(c.literal.clone());
            }
            NodeValue::HtmlBlock(h) => self.text.push_str(&html_text(&h.literal, false).0),
            NodeValue::HtmlInline(h) => {
                let (text, annotation) = html_text(h, self.annotation);
                self.text.push_str(&text);
                self.annotation = annotation;
            }
            NodeValue::FootnoteReference(r) => self.footnotes.push(r.name.clone()),
            NodeValue::FootnoteDefinition(_) | NodeValue::FrontMatter(_) => {}
            _ => {
                for child in node.children() {
                    self.node(child);
                }
            }
        }
        self.text.push(' ');
    }

    /// The flow collected so far; starts a new one.
    fn flow(&mut self) -> Flow {
        Flow {
            words: split_words(&std::mem::take(&mut self.text)),
            code: std::mem::take(&mut self.code),
        }
    }
}

/// The text a reader sees of raw HTML: comments and tags are not text,
/// except an `<img>`'s alt text; entities are decoded. A ruby annotation
/// (`<rt>`, `<rp>`) is not read with the text: `annotation` says whether the
/// HTML starts inside one, and the result whether it ends inside one.
fn html_text(html: &str, mut annotation: bool) -> (String, bool) {
    let mut out = String::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |i| &comment[i + 3..]);
            out.push(' ');
            continue;
        }
        let starts_tag = c == '<'
            && rest[1..]
                .trim_start_matches('/')
                .starts_with(|c: char| c.is_ascii_alphabetic());
        if starts_tag && let Some(end) = tag_end(rest) {
            let tag = &rest[..end];
            let name = tag[1..]
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .next()
                .unwrap_or("");
            if ["rt", "rp"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
                annotation = !tag.starts_with("</");
            }
            if name.eq_ignore_ascii_case("img")
                && let Some(alt) = attr(tag, "alt")
            {
                out.push(' ');
                out.push_str(&decode_html(&alt));
            }
            out.push(' ');
            rest = &rest[end..];
            continue;
        }
        let next = rest[1..].find('<').map_or(rest.len(), |i| i + 1);
        if !annotation {
            out.push_str(&decode_html(&rest[..next]));
        }
        rest = &rest[next..];
    }
    (out, annotation)
}

/// The text inside each `<!-- … -->` of raw HTML.
fn comments(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        let inside = &rest[start + 4..];
        let end = inside.find("-->").unwrap_or(inside.len());
        out.push(inside[..end].to_string());
        rest = &inside[end..];
    }
    out
}

/// The HTML comments whose text shows in `text`: the letters and digits of
/// each comment long enough to be told apart (12 or more) must not occur in
/// the letters and digits of the laid-out text more often than in what a
/// reader sees of the document (a comment may repeat visible code).
fn hidden_shown(hidden: &[String], visible: &str, text: &str) -> Result<usize, String> {
    let letters = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let (seen, laid_out) = (letters(visible), letters(text));
    let mut checked = 0;
    for comment in hidden {
        let needle = letters(comment);
        if needle.chars().count() < 12 {
            continue;
        }
        checked += 1;
        if laid_out.matches(&needle).count() > seen.matches(&needle).count() {
            return Err(format!(
                "an HTML comment shows in the chapter: {:?}",
                comment.trim()
            ));
        }
    }
    Ok(checked)
}

/// The value of attribute `name` in a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before = lower[..at].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = tag[from..].trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_string(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    None
}

/// Whether every piece of code occurs in `text` in order, character for
/// character but for whitespace (long lines wrap, and runs are joined by
/// spaces).
fn code_in_order(code: &[String], text: &str) -> Result<(), String> {
    let hay = squash(text);
    let mut pos = 0;
    for (i, c) in code.iter().enumerate() {
        let c = squash(c);
        match hay[pos..].find(&c) {
            Some(at) => pos += at + c.len(),
            None => {
                return Err(format!(
                    "code {} of {} is not set verbatim (or is out of order): {:?}",
                    i + 1,
                    code.len(),
                    code[i]
                ));
            }
        }
    }
    Ok(())
}

/// A fixture laid out, and exported if it could be.
struct Compiled {
    reading: Reading,
    /// The text of every run typst laid out, artifacts included.
    laid_out: String,
    /// The PDF, or the errors that stopped its export.
    pdf: Result<Vec<u8>, String>,
    diagnostics: Vec<Diagnostic>,
}

/// Lays the project out and exports the PDF (with its PDF/A and PDF/UA
/// checks), as `renga compile` does. Like `TestProject::layout_text`, but it
/// keeps the document (to tell footnotes and page artifacts from the body)
/// and carries on despite renga's author errors when they are ones a
/// fixture is expected to have (an image that is not there: its alt text is
/// typeset instead). Errs when there is no layout to check.
fn compile(p: &TestProject, edition: Edition) -> Result<Compiled, String> {
    let mut diags = renga::diag::Diagnostics::default();
    let mut timings = renga::pipeline::Timings::default();
    let prepared = renga::pipeline::prepare(p.path(), &[edition], &mut diags, &mut timings);
    if let Some(d) = diags
        .items
        .iter()
        .find(|d| d.is_error() && !EXPECTED_ERRORS.contains(&d.code))
    {
        return Err(format!("error `{}`: {}", d.code, d.message));
    }
    let prepared = prepared.ok_or("the project did not load")?;
    let (doc, d) = prepared.layout(edition);
    let errors = |d: &[Diagnostic]| -> Vec<String> {
        d.iter()
            .filter(|d| d.code == "typst" && d.is_error())
            .map(|d| {
                let at = d
                    .location
                    .as_ref()
                    .map(|l| format!(" (line {})", l.line))
                    .unwrap_or_default();
                format!("typst error{at}: {}", d.message)
            })
            .collect()
    };
    let Some(doc) = doc else {
        return Err(errors(&d).join("; "));
    };
    let layout_errors = errors(&d);
    if !layout_errors.is_empty() {
        return Err(layout_errors.join("; "));
    }
    diags.extend(d);
    let mut export = renga::diag::Diagnostics::default();
    let outputs = prepared.typeset(&mut export, &mut timings);
    let export_errors = errors(&export.items);
    let pdf = match outputs.into_iter().find_map(|o| o.pdf) {
        Some(pdf) if export_errors.is_empty() => Ok(pdf),
        _ => Err(format!(
            "the PDF export failed: {}",
            export_errors.join("; ")
        )),
    };
    Ok(Compiled {
        reading: read_chapter(&doc, &chapter_label(edition, SLUG))?,
        laid_out: renga::pipeline::plain_text(&doc),
        pdf,
        diagnostics: diags.items,
    })
}

/// The letters and digits of `text`, counted.
fn alphanumerics(text: &str) -> BTreeMap<char, usize> {
    let mut counts = BTreeMap::new();
    for c in text.chars().filter(|c| c.is_alphanumeric()) {
        *counts.entry(c).or_default() += 1;
    }
    counts
}

/// Whether the PDF's text layer, as poppler extracts it, holds exactly the
/// letters and digits typst laid out (poppler reads in its own order, so
/// they are compared as counts; the order is checked on the layout).
fn pdf_holds(laid_out: &str, pdf: &str) -> Result<(), String> {
    let (want, got) = (alphanumerics(laid_out), alphanumerics(pdf));
    let chars: BTreeSet<&char> = want.keys().chain(got.keys()).collect();
    let differ: Vec<String> = chars
        .into_iter()
        .filter(|c| want.get(c) != got.get(c))
        .map(|c| {
            format!(
                "{c:?} laid out {} times, {} in the PDF",
                want.get(c).unwrap_or(&0),
                got.get(c).unwrap_or(&0)
            )
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the PDF's text differs from the layout: {}",
            differ[..differ.len().min(10)].join("; ")
        ))
    }
}

/// Compiles one fixture as the only chapter of a report and checks the
/// result: no Typst error, the PDF exported, and every word and every piece
/// of code of the document in the laid-out text, in order, and in the PDF.
fn check_fixture(name: &str) {
    let &(_, edition) = FIXTURES
        .iter()
        .find(|(f, _)| *f == name)
        .expect("the fixture is listed in FIXTURES");
    let markdown = fixture(name);
    let p = TestProject::empty();
    p.file("report.toml", REPORT_TOML);
    let file = match edition {
        Edition::Ja => "ja.md",
        _ => "en.md",
    };
    p.file(&format!("chapters/{SLUG}/{file}"), &markdown);
    let compiled = match compile(&p, edition) {
        Ok(c) => c,
        Err(why) => panic!("{name}: {why}"),
    };
    let text = &compiled.reading;
    let words = document_words(&markdown);
    let mut problems = Vec::new();
    problems.extend(in_order(&words.body.words, &text.body).err());
    problems.extend(code_in_order(&words.body.code, &text.body).err());
    for (footnote, flow) in &words.footnotes {
        problems.extend(
            in_order(&flow.words, &text.all)
                .and_then(|()| code_in_order(&flow.code, &text.all))
                .map_err(|why| format!("footnote [^{footnote}]: {why}"))
                .err(),
        );
    }
    let visible: String = std::iter::once(&words.body)
        .chain(words.footnotes.iter().map(|(_, f)| f))
        .flat_map(|f| f.words.iter())
        .map(String::as_str)
        .collect();
    let hidden = match hidden_shown(&words.hidden, &visible, &text.all) {
        Ok(n) => n,
        Err(why) => {
            problems.push(why);
            0
        }
    };
    match &compiled.pdf {
        Ok(bytes) => {
            let pdf = p.path().join("out.pdf");
            std::fs::write(&pdf, bytes).unwrap();
            problems.extend(pdf_holds(&compiled.laid_out, &pdf_text(&pdf)).err());
        }
        Err(why) => problems.push(why.clone()),
    }
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &compiled.diagnostics {
        *codes.entry(d.code).or_default() += 1;
    }
    println!(
        "{name}: {} words, {} pieces of code, {} footnotes, {hidden} HTML comments absent; diagnostics {codes:?}",
        words.body.words.len()
            + words
                .footnotes
                .iter()
                .map(|(_, f)| f.words.len())
                .sum::<usize>(),
        words.body.code.len()
            + words
                .footnotes
                .iter()
                .map(|(_, f)| f.code.len())
                .sum::<usize>(),
        words.footnotes.len()
    );
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
}

#[test]
fn rust_book_chapter() {
    check_fixture("rust-book-ch02-guessing-game.md");
}

#[test]
fn prettier_options_page() {
    check_fixture("prettier-options.md");
}

#[test]
fn rust_rfc_with_footnotes() {
    check_fixture("rfc-3498-lifetime-capture-rules-2024.md");
}

#[test]
fn japanese_book_chapter_with_tables() {
    check_fixture("book-ja-ch03-02-data-types.md");
}

#[test]
fn japanese_book_chapter_with_missing_images() {
    check_fixture("book-ja-ch04-01-what-is-ownership.md");
}

#[test]
fn every_fixture_is_tested_and_has_its_licence_noted() {
    let dir = format!("{}/tests/fixtures/real", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).unwrap();
    let this = include_str!("real_documents.rs");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if matches!(name.as_str(), "README.md" | "SHA256SUMS" | "licences") {
            continue;
        }
        let (_, licences) = LICENCES
            .iter()
            .find(|(f, _)| *f == name)
            .unwrap_or_else(|| panic!("{name} has no licence texts listed"));
        for licence in *licences {
            let text = std::fs::read_to_string(format!("{dir}/licences/{licence}"))
                .unwrap_or_else(|_| panic!("{name}: licences/{licence} is missing"));
            let mit = text.contains("Permission is hereby granted, free of charge");
            let apache = text.contains("Apache License") && text.contains("Version 2.0");
            assert!(mit || apache, "licences/{licence} is not a licence text");
        }
        // A translation credits its translators.
        let &(_, edition) = FIXTURES.iter().find(|(f, _)| *f == name).unwrap();
        if edition == Edition::Ja {
            let section = readme
                .split("\n## ")
                .find(|s| s.starts_with(&format!("`{name}`")))
                .unwrap_or_else(|| panic!("{name} has no section in the README"));
            assert!(
                section.contains("translated into Japanese by"),
                "{name}: the README does not credit its translators"
            );
        }
        assert!(
            FIXTURES.iter().any(|(f, _)| *f == name),
            "{name} is not in FIXTURES"
        );
        assert!(
            this.contains(&format!("check_fixture(\"{name}\")")),
            "{name} has no test"
        );
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in tests/fixtures/real/README.md"
        );
    }
}

#[test]
fn words_model_what_a_reader_sees() {
    let w = document_words(
        "a <!-- hidden --> *b* `c`\n\n<div title=\"no\">d &amp; e<img src=\"x.png\" alt=\"f g\"></div>\n\n```\nh\n```\n\n![i](j.png) k[^n] <ruby>m<rp>(</rp><rt>reading</rt><rp>)</rp></ruby>\n\n[^n]: l\n",
    );
    assert_eq!(
        w.body.words,
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "k", "m"]
    );
    assert_eq!(w.body.code, ["c", "h\n"]);
    assert_eq!(
        w.footnotes,
        [(
            "n".to_string(),
            Flow {
                words: vec!["l".to_string()],
                code: vec![]
            }
        )]
    );
    assert!(in_order(&["a".into(), "b".into()], "x a-\ny b").is_ok());
    assert!(in_order(&["b".into(), "a".into()], "a b").is_err());
    assert!(code_in_order(&["a(b)".into()], "x a ( b ) y").is_ok());
    assert!(code_in_order(&["a--b".into()], "a–b").is_err());
    assert!(pdf_holds("ab 1", "1\nb a").is_ok());
    // Hidden material: each comment's text is looked for in the text shown.
    let w = document_words("a <!-- a secret note here --> b\n\n<!--\nAnother hidden block\n-->\n");
    assert_eq!(w.hidden.len(), 2);
    assert_eq!(hidden_shown(&w.hidden, "a b", "a b"), Ok(2));
    assert!(hidden_shown(&w.hidden, "a b", "a a secret note here b").is_err());
    assert!(hidden_shown(&w.hidden, "a b", "x Another hidden\nblock").is_err());
    // Text a comment repeats from the visible document is not a leak.
    assert!(hidden_shown(&w.hidden, "a secret note here", "a secret note here").is_ok());
    assert!(pdf_holds("ﬁ", "fi").is_err());
}

/// Front matter as 3 of 50 published GovTech pages open it, `--- ` with a
/// trailing space (Jekyll accepts it): it is front matter, not a rule and a
/// heading that print the YAML as the chapter's title and again as 1.1.
#[test]
fn front_matter_fences_with_trailing_white_space_are_front_matter() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "--- \nlayout: post\ntitle: \"Singpass for Businesses\"\npermalink: /singpass/  \n---  \n\n## Purpose\n\nSingpass serves {{metric sg.identity.users}} residents.\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "---\t\r\ntitle: シンガポールの電子政府\r\n---\r\n\r\n## 目的\r\n\r\n本文。\r\n",
    );
    let (en, _) = p
        .layout_text(Edition::En)
        .unwrap_or_else(|d| panic!("{:?}", d.items));
    assert!(en.contains("Singpass for Businesses"), "{en}");
    assert!(
        !en.contains("layout: post") && !en.contains("permalink"),
        "{en}"
    );
    let (ja, _) = p
        .layout_text(Edition::Ja)
        .unwrap_or_else(|d| panic!("{:?}", d.items));
    assert!(
        squash(&ja).contains(&squash("シンガポールの電子政府")),
        "{ja}"
    );
    assert!(!ja.contains("title:"), "{ja}");
}

/// `--` directly before a letter is a command-line option, not a dash, as
/// the Digital Agency's pages write them (`## --format オプション`,
/// `--infile`, `--sep` in lists); a dash between words or numbers stays one.
#[test]
fn two_hyphens_before_a_letter_are_an_option_not_a_dash() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/ja.md",
        "+++\ntitle = \"はじめに\"\n+++\n\n## --format オプション\n\n- 入力は --infile、区切りは (--sep) で指定する。\n- 1990--2000年、A -- B。\n",
    );
    let out = p.renga(&["compile", "--lang", "ja", "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdf_text(&p.out("test-report.ja.pdf"));
    for option in ["--format オプション", "--infile", "(--sep)"] {
        assert!(text.contains(option), "{option} in\n{text}");
    }
    assert!(
        text.contains("1990–2000") && text.contains("A – B"),
        "{text}"
    );
    let page = decode_html(&std::fs::read_to_string(p.out("test-report.ja.html")).unwrap());
    // The text as read: without tags (Latin runs carry `lang="en"` spans).
    let mut html = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => html.push(c),
            _ => {}
        }
    }
    for option in ["--format オプション", "--infile", "(--sep)"] {
        assert!(html.contains(option), "{option} in the web edition");
    }
    assert!(html.contains("1990–2000"));
}

/// Eight images without alt text stopped the draft of the Rust book. A
/// final build refuses them (PDF/UA needs alt text), located; a draft
/// builds with a warning at the line and a visible mark, in both outputs.
#[test]
fn a_draft_marks_an_image_without_alt_text_and_a_final_build_refuses_it() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/figure.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\" fill=\"#1d4e89\"/></svg>",
    );
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\"\n+++\n\n## Purpose\n\nText.\n\n![](figure.svg)\n\nInline ![](figure.svg) too.\n",
    );
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a final build refuses it");
    let errors: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|d: &serde_json::Value| d["code"] == "image-alt")
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|d| d["severity"] == "error"));
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[1]["line"].as_u64()),
        (Some(9), Some(11))
    );

    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    let out = p.renga(&["compile", "--html", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warnings: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|d: &serde_json::Value| d["code"] == "image-alt")
        .collect();
    assert!(
        !warnings.is_empty() && warnings.iter().all(|d| d["severity"] == "warning"),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|d| d["line"] == 9) && warnings.iter().any(|d| d["line"] == 11));
    let text = pdf_text(&p.out("test-report.en.pdf"));
    assert_eq!(text.matches("alt text missing").count(), 2, "{text}");
    let html = std::fs::read_to_string(p.out("test-report.en.html")).unwrap();
    assert_eq!(
        html.matches("<span class=\"missing-alt\">alt text missing</span>")
            .count(),
        2
    );
    assert!(html.contains("alt=\"alt text missing\""));
}

/// An imported Japanese page with no English yet (the Rust book's data
/// types chapter in Japanese, as published) stopped every edition. A draft
/// builds it, the English side a "translation pending" page under the
/// chapter's title; a final build refuses it at the file that exists.
#[test]
fn a_chapter_in_one_language_builds_as_pending_in_a_draft() {
    let p = TestProject::new();
    p.file(
        "chapters/02-types/ja.md",
        fixture("book-ja-ch03-02-data-types.md"),
    );
    let out = p.renga(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let missing: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|d: &serde_json::Value| d["code"] == "translation-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["severity"], "error");
    assert_eq!(missing[0]["file"], "chapters/02-types/ja.md");

    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    let out = p.renga(&["compile", "--html"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning[translation-missing]"), "{err}");
    let en = pdf_text(&p.out("test-report.en.pdf"));
    assert!(en.contains("Translation pending."), "{en}");
    assert!(en.contains("chapters/02-types/en.md"), "{en}");
    let ja = squash(&pdf_text(&p.out("test-report.ja.pdf")));
    assert!(ja.contains("データ型"), "the Japanese page is there");
    let bi = squash(&pdf_text(&p.out("test-report.en-ja.pdf")));
    assert!(bi.contains("Translationpending.") && bi.contains("データ型"));
}

/// The Rust book's strings chapter (ch08-02, MIT or Apache-2.0, as
/// published) shows a lone Devanagari virama and vowel sign in a code
/// block: `'्'`, a combining mark with nothing of its script to combine
/// with. It stopped the whole book with three errors blamed on the
/// template; it is the located glyph-missing warning, and the book builds.
#[test]
fn a_lone_combining_mark_is_a_located_warning_not_a_failed_book() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\"\n+++\n\n## Strings\n\nIf we look at the Hindi word “नमस्ते” written in the Devanagari script:\n\n```text\n['न', 'म', 'स', '्', 'त', 'े']\n```\n\n```text\n[\"न\", \"म\", \"स्\", \"ते\"]\n```\n\nIn prose too: ' ् '.\n",
    );
    let out = p.renga(&["compile", "--lang", "en", "--format", "json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let marks: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|d: &serde_json::Value| d["code"] == "glyph-missing")
        .collect();
    assert_eq!(marks.len(), 2, "one per character: {marks:?}");
    assert!(
        marks
            .iter()
            .all(|d| d["file"] == "chapters/01-intro/en.md" && d["line"] == 9),
        "{marks:?}"
    );
    let text = pdf_text(&p.out("test-report.en.pdf"));
    assert!(
        text.contains("[U+094D]") && text.contains("[U+0947]"),
        "{text}"
    );
}
