//! Material nobody wrote for renga, in every edition: translations whose
//! structure differs from their original (constructed pairs, and real public
//! chapters with their Japanese translations from tests/fixtures/translated),
//! documents written for static site generators (YAML front matter,
//! site-rooted and missing images), scripts the bundled fonts lack, and
//! Japanese ruby.

use std::path::Path;

use crate::common::*;
use renga::diag::Diagnostics;
use renga::pipeline::{self, Edition, Timings};
use typst::foundations::{Content, NativeElement, Selector};
use typst::introspection::Introspector;
use typst::layout::{Frame, FrameItem, Point};
use typst::model::HeadingElem;
use typst_layout::PagedDocument;

const EN: &str = "test-report.en.pdf";
const JA: &str = "test-report.ja.pdf";
const BI: &str = "test-report.en-ja.pdf";

fn translated(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/translated/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A project with the test report's manifest and no chapters.
fn project() -> TestProject {
    let p = TestProject::empty();
    p.file("report.toml", REPORT_TOML);
    p
}

fn layout(p: &TestProject, edition: Edition) -> PagedDocument {
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let prepared = pipeline::prepare(p.path(), &[edition], &mut diags, &mut timings)
        .unwrap_or_else(|| panic!("{:?}", diags.items));
    let (doc, d) = prepared.layout(edition);
    doc.unwrap_or_else(|| panic!("{d:?}"))
}

/// A heading as the PDF's structure, outline and bookmarks see it.
#[derive(Debug)]
struct Heading {
    level: usize,
    /// The number typst shows and bookmarks, e.g. "2.1"; empty if unnumbered.
    numbers: String,
    text: String,
    outlined: bool,
    bookmarked: bool,
}

fn headings(doc: &PagedDocument) -> Vec<Heading> {
    let field = |h: &Content, name: &str| h.get_by_name(name).ok();
    doc.introspector()
        .query(&Selector::Elem(HeadingElem::ELEM, None))
        .iter()
        .map(|h| Heading {
            level: field(h, "level")
                .and_then(|v| v.cast::<usize>().ok())
                .unwrap_or(0),
            numbers: h
                .to_packed::<HeadingElem>()
                .and_then(|h| h.numbers.clone())
                .unwrap_or_default()
                .to_string(),
            text: h
                .to_packed::<HeadingElem>()
                .map(|h| h.body.plain_text().to_string())
                .unwrap_or_default(),
            outlined: field(h, "outlined").is_some_and(|v| v.cast::<bool>().unwrap_or(true)),
            bookmarked: field(h, "bookmarked").is_none_or(|v| v.cast::<bool>().unwrap_or(true)),
        })
        .collect()
}

/// PDF/UA-1's rule, checked on the document typst exports: no heading is more
/// than one level deeper than the one before it.
fn assert_no_skipped_level(headings: &[Heading]) {
    let mut previous = 0;
    for h in headings {
        assert!(
            h.level <= previous + 1,
            "skipped from level {previous} to {} at {h:?}\n{headings:#?}",
            h.level
        );
        previous = h.level;
    }
}

fn heading<'a>(headings: &'a [Heading], text: &str) -> &'a Heading {
    headings
        .iter()
        .find(|h| h.text.contains(text))
        .unwrap_or_else(|| panic!("no heading {text}: {headings:#?}"))
}

fn compile(p: &TestProject) -> (bool, String) {
    let out = p.renga(&["compile"]);
    (out.status.success(), stderr(&out))
}

#[test]
fn sections_pair_by_structure_and_headings_never_skip_a_level() {
    let p = project();
    // A section the translation adds.
    p.file(
        "chapters/01-setup/en.md",
        "# Setting up\n\n## Install\n\nRun `cargo install renga`.\n\n## Use\n\nRun `renga compile` in 2026.\n",
    );
    p.file(
        "chapters/01-setup/ja.md",
        "# 準備\n\n## インストール\n\n`cargo install renga`を実行する。\n\n## 補足\n\n日本語版だけの節。\n\n## 使い方\n\n2026年に`renga compile`を実行する。\n",
    );
    // The translation sets every section one level deeper, and adds a
    // deeper one the original does not have.
    p.file(
        "chapters/02-deeper/en.md",
        "# Deeper\n\n## Alpha\n\nAbout `alpha`.\n\n### Alpha one\n\nAbout `alpha1`.\n\n## Beta\n\nAbout `beta`.\n",
    );
    p.file(
        "chapters/02-deeper/ja.md",
        "# 深い\n\n### アルファ\n\n`alpha`について。\n\n#### アルファ一\n\n`alpha1`について。\n\n##### 追記\n\n訳者の追記。\n\n### ベータ\n\n`beta`について。\n",
    );
    // Invisible content before the title: a translator's comment, an empty tag.
    p.file(
        "chapters/03-comment/en.md",
        "<div></div>\n\n# Comments\n\n## Kept apart\n\nText.\n",
    );
    p.file(
        "chapters/03-comment/ja.md",
        "<!--\n# Comments\n-->\n\n# コメント\n\n<!--\n## Kept apart\n-->\n\n## 別にする\n\n本文。\n",
    );

    let (ok, err) = compile(&p);
    assert!(ok, "{err}");
    for pdf in [EN, JA, BI] {
        assert!(p.out(pdf).is_file(), "{pdf} missing: {err}");
    }
    // The section only in Japanese is named, with both files.
    assert!(
        err.contains("warning[section-unpaired]")
            && err.contains("chapters/01-setup/ja.md:7")
            && err.contains("“補足” has no counterpart in chapters/01-setup/en.md"),
        "{err}"
    );
    assert!(err.contains("“追記” has no counterpart"), "{err}");

    for edition in Edition::ALL {
        assert_no_skipped_level(&headings(&layout(&p, edition)));
    }
    let bi = headings(&layout(&p, Edition::Bilingual));
    // A paired Japanese heading carries its English partner's number and
    // stays out of the outline; one alone is numbered and outlined itself.
    for (en, ja) in [
        ("Setting up", "準備"),
        ("Install", "インストール"),
        ("Use", "使い方"),
        ("Alpha", "アルファ"),
        ("Alpha one", "アルファ一"),
        ("Beta", "ベータ"),
        ("Kept apart", "別にする"),
    ] {
        let (e, j) = (heading(&bi, en), heading(&bi, ja));
        assert!(!e.numbers.is_empty(), "{e:?}");
        assert_eq!(
            (e.numbers.as_str(), e.level),
            (j.numbers.as_str(), j.level),
            "{en} / {ja}"
        );
        assert!(e.outlined && e.bookmarked, "{e:?}");
        assert!(!j.outlined && !j.bookmarked, "{j:?}");
    }
    assert_eq!(heading(&bi, "Install").numbers, "1.1");
    assert_eq!(heading(&bi, "Use").numbers, "1.3");
    let alone = heading(&bi, "補足");
    assert_eq!((alone.numbers.as_str(), alone.outlined), ("1.2", true));
    let deeper = heading(&bi, "追記");
    assert_eq!((deeper.level, deeper.numbers.as_str()), (4, "2.1.1.1"));
    // Numbers counted once per pair: the next chapter is 3, not 6.
    assert_eq!(heading(&bi, "Comments").numbers, "3");

    // The comment is not the title: both languages get the same structure.
    let ja = headings(&layout(&p, Edition::Ja));
    assert_eq!(heading(&ja, "コメント").level, 1);
    assert_eq!(heading(&ja, "別にする").level, 2);
    let text = squash(&pdf_text(&p.out(JA)));
    assert!(
        !text.contains("Keptapart"),
        "comments are never printed: {text}"
    );
}

#[test]
fn a_pairing_resting_on_structure_alone_names_both_files_and_lines() {
    let p = project();
    p.file(
        "chapters/01-a/en.md",
        "# A\n\n## One\n\nFirst.\n\n### One point one\n\nDetail.\n\n## Two\n\nSecond.\n",
    );
    p.file(
        "chapters/01-a/ja.md",
        "# あ\n\n## 一\n\n最初。\n\n## 二\n\n二番目。\n",
    );
    let (ok, err) = compile(&p);
    assert!(ok, "{err}");
    assert!(
        err.contains("warning[section-pairing]")
            && err.contains("chapters/01-a/en.md:3")
            && err.contains("chapters/01-a/ja.md:3"),
        "{err}"
    );
}

/// Builds the Rust book's chapters 4.1 and 13.1 with their Japanese
/// translations, which keep the English in comments and (13.1) drifted
/// from the English: the bilingual edition built on today's main failed
/// PDF/UA with skipped heading levels.
#[test]
fn a_long_real_translation_with_diverging_structure_builds_in_every_edition() {
    let sums = String::from_utf8(translated("SHA256SUMS")).unwrap();
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").unwrap();
        assert_eq!(sha256_hex(&translated(name)), sum, "{name} changed");
    }
    let p = project();
    for (slug, name) in [
        ("01-ownership", "rust-book-ch04-01-what-is-ownership"),
        ("02-closures", "rust-book-ch13-01-closures"),
    ] {
        for lang in ["en", "ja"] {
            p.file(
                &format!("chapters/{slug}/{lang}.md"),
                translated(&format!("{name}.{lang}.md")),
            );
        }
    }
    let start = std::time::Instant::now();
    let out = p.renga(&["compile", "--timings"]);
    let elapsed = start.elapsed();
    let err = stderr(&out);
    // Their images are not copied: the only errors.
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error[")).collect();
    assert!(
        !errors.is_empty() && errors.iter().all(|l| l.contains("image-missing")),
        "{err}"
    );
    // As a draft the same chapters build, images as placeholders.
    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    let start = std::time::Instant::now();
    let out = p.renga(&["compile", "--timings"]);
    let draft_time = start.elapsed();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let pages = pdf_pages(&p.out(BI));
    eprintln!(
        "real translated pair: bilingual {pages} pages, en {} pages, ja {} pages; compile of three editions {:.1} s (final, failing on images: {:.1} s)",
        pdf_pages(&p.out(EN)),
        pdf_pages(&p.out(JA)),
        draft_time.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    // Chapter 13.1 drifted: renga says where it is unsure, naming both files.
    assert!(
        err.contains("chapters/02-closures/ja.md:") && err.contains("chapters/02-closures/en.md"),
        "{err}"
    );
    // Chapter 4.1 pairs section by section, without a warning.
    // (Other warnings, such as wrapped code lines, may name the chapter.)
    assert!(
        !err.split("\n\n")
            .any(|d| d.starts_with("warning[section-") && d.contains("01-ownership")),
        "{err}"
    );
    for edition in Edition::ALL {
        assert_no_skipped_level(&headings(&layout(&p, edition)));
    }
    let bi = headings(&layout(&p, Edition::Bilingual));
    for (en, ja) in [
        ("What Is Ownership?", "所有権とは？"),
        ("Ownership Rules", "所有権規則"),
        ("Memory and Allocation", "メモリと確保"),
        ("Stack-Only Data: Copy", "スタックのみのデータ: コピー"),
    ] {
        let (e, j) = (heading(&bi, en), heading(&bi, ja));
        assert_eq!(
            (e.numbers.as_str(), e.level),
            (j.numbers.as_str(), j.level),
            "{en} / {ja}"
        );
    }
    // The outline lists each section once.
    let mut numbers: Vec<&str> = bi
        .iter()
        .filter(|h| h.outlined && !h.numbers.is_empty())
        .map(|h| h.numbers.as_str())
        .collect();
    let count = numbers.len();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), count, "{bi:#?}");
    // The English kept in comments is never printed in the Japanese edition.
    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(!ja.contains("Rust’scentralfeatureis"), "{ja}");
}

#[test]
fn yaml_front_matter_gives_the_title_and_other_keys_warn_once() {
    let p = project();
    p.file(
        "chapters/01-page/en.md",
        "---\ntitle: Thinking in renga\ncontent_type: concept\nweight: 30\n---\n\nBody text.\n",
    );
    p.file(
        "chapters/01-page/ja.md",
        "---\ntitle: rengaで考える\n---\n\n本文。\n",
    );
    let out = p.renga(&["compile", "--lang", "en", "--lang", "ja"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.matches("warning[front-matter-ignored]").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("`content_type`, `weight`") && err.contains("chapters/01-page/en.md:3"),
        "{err}"
    );
    let en = squash(&pdf_text(&p.out(EN)));
    assert!(en.contains("1ThinkinginrengaBodytext."), "{en}");
    assert!(
        !en.contains("content_type") && !en.contains("weight"),
        "{en}"
    );
    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(ja.contains("rengaで考える"), "{ja}");
    assert!(!ja.contains("title"), "{ja}");

    // Broken YAML is an error at its line.
    p.file(
        "chapters/01-page/ja.md",
        "---\ntitle: [unclosed\n---\n\n本文。\n",
    );
    let out = p.renga(&["check"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("error[front-matter]") && err.contains("chapters/01-page/ja.md:"),
        "{err}"
    );
}

/// The places of the images a markdown file references from the project
/// (not remote, not inside an HTML comment): (line, path).
fn local_images(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut comment = false;
    for (i, line) in markdown.lines().enumerate() {
        let mut rest = line;
        while !rest.is_empty() {
            if comment {
                match rest.find("-->") {
                    Some(end) => {
                        comment = false;
                        rest = &rest[end + 3..];
                    }
                    None => break,
                }
                continue;
            }
            let next = |pat: &str| rest.find(pat);
            let starts = [next("<!--"), next("src=\""), next("](")];
            let Some(at) = starts.iter().flatten().min().copied() else {
                break;
            };
            if next("<!--") == Some(at) {
                comment = true;
                rest = &rest[at + 4..];
                continue;
            }
            let open = if next("](") == Some(at) { 2 } else { 5 };
            let tail = &rest[at + open..];
            let end = tail.find(['"', ')']).unwrap_or(tail.len());
            let path = &tail[..end];
            if !path.contains("://") && (line.contains("<img") || line.contains("![")) {
                out.push((i + 1, path.to_string()));
            }
            rest = &tail[end..];
        }
    }
    out
}

/// A public documentation page (React's, in English and Japanese) whose
/// image is site-rooted, and the Rust book's chapter 4.1, whose images sit
/// beside it: none of the image files was copied.
#[test]
fn site_rooted_images_and_missing_images_in_draft_and_final_builds() {
    let p = project();
    let mut expected = Vec::new();
    for (slug, name) in [
        ("01-modules", "react-importing-and-exporting-components"),
        ("02-ownership", "rust-book-ch04-01-what-is-ownership"),
    ] {
        for lang in ["en", "ja"] {
            let text = translated(&format!("{name}.{lang}.md"));
            let file = format!("chapters/{slug}/{lang}.md");
            for (line, path) in local_images(std::str::from_utf8(&text).unwrap()) {
                expected.push((format!("{file}:{line}:"), path));
            }
            p.file(&file, text);
        }
    }
    assert_eq!(expected.len(), 10, "{expected:?}");
    assert!(
        expected
            .iter()
            .any(|(_, path)| path.starts_with("/images/"))
    );
    // A final build lists every missing image at its line, and writes nothing.
    let (ok, err) = compile(&p);
    assert!(!ok, "{err}");
    for (at, path) in &expected {
        assert!(
            err.contains(at.as_str()),
            "{at} ({path}) not listed:\n{err}"
        );
    }
    assert_eq!(
        err.matches("error[image-missing]").count(),
        expected.len(),
        "{err}"
    );
    assert!(
        err.contains("looked for images/docs/illustrations/i_import-export.svg"),
        "{err}"
    );
    assert!(!err.contains("error[typst]"), "{err}");
    assert!(!p.out(EN).exists());

    // A draft builds, with a placeholder naming the path and the alt text.
    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    let (ok, err) = compile(&p);
    assert!(ok, "{err}");
    assert_eq!(
        err.matches("warning[image-missing]").count(),
        expected.len(),
        "{err}"
    );
    let en = squash(&pdf_text(&p.out(EN)));
    assert!(
        en.contains(
            "Imagemissing:/images/docs/illustrations/i_import-export.svg—Defaultandnamedexports"
        ),
        "{en}"
    );
    assert!(
        en.contains("Imagemissing:img/trpl04-01.svg—Stringinmemory"),
        "{en}"
    );
    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(
        ja.contains("/images/docs/illustrations/i_import-export.svg—デフォルトエクスポートと名前付きエクスポート"),
        "{ja}"
    );
    let bi = squash(&pdf_text(&p.out(BI)));
    assert!(bi.contains("img/trpl04-04.svg—s2にムーブされたs1"), "{bi}");

    // Once the image is in the project folder, the site-rooted path finds it.
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\" fill=\"#1d4e89\"/></svg>";
    p.file("images/docs/illustrations/i_import-export.svg", svg);
    let (ok, err) = compile(&p);
    assert!(ok, "{err}");
    assert_eq!(
        err.matches("warning[image-missing]").count(),
        expected.len() - 2,
        "{err}"
    );
}

#[test]
fn a_rooted_image_path_never_leaves_the_project() {
    let p = project();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    let name = outside
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    p.file(
        "chapters/01-a/en.md",
        format!("# A\n\n![x](/../{name}/secret.svg)\n\n![y](//etc/passwd)\n\n![z](/images/../../x.svg)\n"),
    );
    let out = p.renga(&["check", "--lang", "en"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert_eq!(err.matches("error[image-outside]").count(), 2, "{err}");
    assert!(
        err.contains("chapters/01-a/en.md:3") && err.contains("chapters/01-a/en.md:7"),
        "{err}"
    );
}

#[test]
fn project_fonts_set_scripts_the_bundled_fonts_lack() {
    let font = std::fs::read(format!(
        "{}/tests/fixtures/fonts/NotoSansThai-Regular.ttf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(
        sha256_hex(&font),
        "dfbd5ed0f1e68c3cbc51aa08f646d1ab0e68e7c4ceab70a69e465225ff701f93"
    );
    let make = || {
        let p = project();
        p.file(
            "chapters/01-thai/en.md",
            "# Greetings\n\nIn Thai, hello is สวัสดี.\n",
        );
        p
    };
    // Without the font: reported, with how to add one.
    let p = make();
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning[glyph-missing]") && err.contains("fonts/ folder"),
        "{err}"
    );

    // With the font in the project's fonts/ folder: set, embedded, no warning.
    let builds: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let p = make();
            p.file("fonts/NotoSansThai-Regular.ttf", &font);
            p.file("fonts/OFL.txt", "licence text, not a font");
            let out = p.renga(&["compile", "--lang", "en"]);
            let err = stderr(&out);
            assert!(out.status.success(), "{err}");
            assert!(!err.contains("glyph-missing"), "{err}");
            let text = pdf_text(&p.out(EN));
            assert!(text.contains("สวัสดี"), "{text}");
            assert!(pdf_fonts(&p.out(EN)).contains("NotoSansThai"));
            std::fs::read(p.out(EN)).unwrap()
        })
        .collect();
    assert!(builds[0] == builds[1], "builds in two folders differ");

    // A file that is not a font is an error naming it.
    let p = make();
    p.file("fonts/broken.ttf", "not a font");
    let out = p.renga(&["check", "--lang", "en"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("fonts/broken.ttf is not a font"), "{err}");
}

/// Where each run of text was laid out: its text, size and top-left corner.
fn placed_runs(doc: &PagedDocument) -> Vec<(String, f64, Point)> {
    fn walk(frame: &Frame, at: Point, out: &mut Vec<(String, f64, Point)>) {
        for (pos, item) in frame.items() {
            let here = at + *pos;
            match item {
                FrameItem::Group(g) => walk(
                    &g.frame,
                    here + Point::new(g.transform.tx, g.transform.ty),
                    out,
                ),
                FrameItem::Text(t) => out.push((t.text.to_string(), t.size.to_pt(), here)),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for page in doc.pages() {
        walk(&page.frame, Point::zero(), &mut out);
    }
    out
}

#[test]
fn ruby_is_set_above_its_base_and_the_base_is_the_text() {
    let p = project();
    p.file(
        "chapters/01-ruby/ja.md",
        "# ルビ\n\n<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>を読む。<ruby>東<rt>とう</rt>京<rt>きょう</rt></ruby>へ行く。\n",
    );
    let out = p.renga(&["compile", "--lang", "ja"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("<ruby>") && !err.contains("<rt>"), "{err}");
    // The base runs on as the line's text, without the parentheses of <rp>.
    let text = squash(&pdf_text(&p.out(JA)));
    assert!(text.contains("漢字を読む。東京へ行く。"), "{text}");
    assert!(!text.contains('('), "{text}");
    // The tagged text, which assistive technology reads, is the base alone:
    // the reading is an artifact.
    let tagged = std::process::Command::new("pdfinfo")
        .arg("-struct-text")
        .arg(p.out(JA))
        .output()
        .expect("pdfinfo (poppler-utils) is installed");
    let tagged = String::from_utf8_lossy(&tagged.stdout);
    assert!(tagged.contains("\"漢字\""), "{tagged}");
    assert!(
        !tagged.contains("かんじ") && !tagged.contains("きょう"),
        "{tagged}"
    );

    // On the page the reading sits above its base, centred, at half its size.
    let runs = placed_runs(&layout(&p, Edition::Ja));
    let find = |s: &str| {
        runs.iter()
            .find(|r| r.0 == s)
            .unwrap_or_else(|| panic!("no run {s}: {runs:?}"))
            .clone()
    };
    for (base, reading) in [("漢字", "かんじ"), ("東", "とう"), ("京", "きょう")] {
        let (b, r) = (find(base), find(reading));
        assert!((r.1 * 2.0 - b.1).abs() < 0.01, "{b:?} {r:?}");
        assert!(
            r.2.y.to_pt() < b.2.y.to_pt() - b.1 * 0.5,
            "reading not above: {b:?} {r:?}"
        );
        let centre = |run: &(String, f64, Point), em: f64| run.2.x.to_pt() + em * run.1 / 2.0;
        let (bc, rc) = (
            centre(&b, base.chars().count() as f64),
            centre(&r, reading.chars().count() as f64),
        );
        assert!((bc - rc).abs() < 0.5, "not centred: {b:?} {r:?}");
    }
}

#[test]
fn japanese_colophon_and_sources_have_no_stray_spaces() {
    let p = TestProject::new();
    let runs = p.layout_runs(Edition::Ja);
    let text: String = runs.iter().map(|r| r.text.as_str()).collect();
    assert!(text.contains("示す。「"), "{text}");
    assert!(text.contains("License）。本書の指標データ"), "{text}");
    assert!(!text.contains("。 "), "{text}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fonts poppler's pdffonts lists, with whether each is embedded.
fn pdf_fonts(path: &Path) -> String {
    let out = std::process::Command::new("pdffonts")
        .arg(path)
        .output()
        .expect("pdffonts (poppler-utils) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The widest space between two words in the text items of `doc` that lie
/// inside a table cell, in ems of their font.
fn widest_space_in_table(doc: &PagedDocument) -> f64 {
    use typst::introspection::Tag;
    use typst::model::TableCell;
    fn walk(frame: &Frame, cells: &mut Vec<typst::introspection::Location>, widest: &mut f64) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => walk(&g.frame, cells, widest),
                FrameItem::Tag(Tag::Start(content, _)) if content.is::<TableCell>() => {
                    cells.extend(content.location());
                }
                FrameItem::Tag(Tag::End(location, ..)) => cells.retain(|l| l != location),
                FrameItem::Text(t) if !cells.is_empty() => {
                    for g in &t.glyphs {
                        let range = usize::from(g.range.start)..usize::from(g.range.end);
                        if t.text.get(range) == Some(" ") {
                            *widest = widest.max(g.x_advance.get());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut widest = 0.0;
    for page in doc.pages() {
        walk(&page.frame, &mut Vec::new(), &mut widest);
    }
    widest
}

#[test]
fn narrow_table_cells_are_set_ragged() {
    let p = project();
    let cell = "Interoperable credentials let a resident prove eligibility once and reuse the verified proof across agencies";
    p.file(
        "chapters/01-table/en.md",
        format!("# Table\n\n| A | B | C | D |\n| --- | --- | --- | --- |\n| {cell} | {cell} | {cell} | {cell} |\n"),
    );
    let doc = layout(&p, Edition::En);
    let widest = widest_space_in_table(&doc);
    // A justified narrow cell stretches its spaces well beyond a word space.
    assert!(widest > 0.0 && widest < 0.4, "widest space {widest} em");
}

/// The glyphs' own text of a PDF, without the spaces a reader guesses from
/// stretched gaps (PyMuPDF's TEXT_INHIBIT_SPACES): a space in it is a space
/// in print.
fn pdf_glyph_text(pdf: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, pymupdf\nfor page in pymupdf.open(sys.argv[1]):\n    sys.stdout.write(page.get_text(flags=pymupdf.TEXT_INHIBIT_SPACES))",
        ])
        .arg(pdf)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "PyMuPDF (pip install pymupdf; scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// JLREQ: nothing follows the ideographic comma and full stop but their
/// own space. The Rust book's translation breaks its lines after 、 and 。
/// before Latin words and code 45 times in these two chapters; each printed
/// a space ("ではなく、 robot_name").
#[test]
fn no_space_is_printed_after_japanese_punctuation_at_a_line_break() {
    let p = project();
    p.file(
        "report.toml",
        format!("{REPORT_TOML}\n[layout]\ndraft = true\n"),
    );
    for (slug, name) in [
        ("01-ownership", "rust-book-ch04-01-what-is-ownership"),
        ("02-closures", "rust-book-ch13-01-closures"),
    ] {
        for lang in ["en", "ja"] {
            p.file(
                &format!("chapters/{slug}/{lang}.md"),
                translated(&format!("{name}.{lang}.md")),
            );
        }
    }
    let out = p.renga(&["compile", "--lang", "ja", "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdf_glyph_text(&p.out(JA));
    assert!(
        text.contains("所有権"),
        "the Japanese edition's text was read"
    );
    let gaps: Vec<String> = text
        .lines()
        .flat_map(|line| {
            let chars: Vec<char> = line.chars().collect();
            (0..chars.len().saturating_sub(2))
                .filter(|&i| {
                    matches!(chars[i], '、' | '。')
                        && chars[i + 1] == ' '
                        && chars[i + 2].is_ascii()
                })
                .map(|i| {
                    chars[i.saturating_sub(6)..(i + 8).min(chars.len())]
                        .iter()
                        .collect()
                })
                .collect::<Vec<String>>()
        })
        .collect();
    assert!(
        gaps.is_empty(),
        "{} gaps after 、 or 。: {gaps:?}",
        gaps.len()
    );
    // The web edition joins them the same way.
    let html = std::fs::read_to_string(p.out("test-report.ja.html")).unwrap();
    assert!(!html.contains("、\n<code>") && !html.contains("。\n<code>"));
}
