//! The web editions (`renga compile --html`): what the HTML says, that
//! chapter text stays text, and how the files are written. tests/browser/
//! checks them in a real browser (axe-core, the Nu Html Checker, layout).

use crate::common::{TestProject, stderr};

const EN_HTML: &str = "test-report.en.html";
const JA_HTML: &str = "test-report.ja.html";
const BI_HTML: &str = "test-report.en-ja.html";

fn read(p: &TestProject, file: &str) -> String {
    std::fs::read_to_string(p.out(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A chapter that uses every feature, and tries to smuggle in markup.
fn project() -> TestProject {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\"\nlead = \"sg\"\n+++\n\n\
         ## Purpose\n\n\
         Singpass serves {{metric sg.identity.users}} residents as of {{metric sg.identity.users date}}; \
         Japan counts {{metric jp.identity.users}}.[^src] The デジタル庁 agrees.\n\n\
         <script>alert(1)</script> and <b onclick=\"x()\">bold</b> and <marquee>moving</marquee>.\n\n\
         A [bad link](javascript:alert(2)), [a heading](#purpose) and [the web](https://example.org/).\n\n\
         ### Detail <img src=figure.svg alt=\"a square\" onerror=alert(3)>\n\n\
         | Measure | Value |\n|---|--:|\n| Users | 10 |\n\n\
         ![The trust triangle](figure.svg \"Issuer, holder, verifier\")\n\n\
         [^src]: GovTech statistics, <i>2024</i>.\n",
    );
    p.file(
        "chapters/01-intro/figure.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>",
    );
    p
}

#[test]
fn html_editions_are_written_with_the_pdfs_and_listed_in_the_manifest() {
    let p = project();
    let run = p.renga(&["compile", "--html"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.out("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let html: Vec<&serde_json::Value> = files.iter().filter(|f| f["format"] == "html").collect();
    assert_eq!(html.len(), 3, "{manifest}");
    for f in html {
        let bytes = std::fs::read(p.out(f["file"].as_str().unwrap())).unwrap();
        assert_eq!(f["bytes"].as_u64().unwrap() as usize, bytes.len());
    }
    assert_eq!(files.iter().filter(|f| f["format"] == "pdf").count(), 3);
}

#[test]
fn chapter_text_never_becomes_markup_or_script() {
    let p = project();
    let run = p.renga(&["compile", "--html", "--lang", "en"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let html = read(&p, EN_HTML);
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "onclick", "onerror", "javascript:", "<marquee"] {
        assert!(!lower.contains(bad), "{bad} in the page");
    }
    // The text of tags without a rendering is kept, with a warning, as in the PDF.
    assert!(html.contains("alert(1)"));
    assert!(html.contains("moving"));
    assert!(html.contains("<strong>bold</strong>"));
    assert!(html.contains("bad link"));
    assert!(stderr(&run).contains("HTML tag <marquee> has no rendering"));
    assert!(stderr(&run).contains("javascript:alert(2)"));
}

#[test]
fn pages_carry_languages_values_dates_notes_and_figures() {
    let p = project();
    let run = p.renga(&["compile", "--html"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let en = read(&p, EN_HTML);
    assert!(en.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    // Metric values and their as-of dates, machine-readable.
    assert!(
        en.contains("<data value=\"1234567\">1,234,567 people</data>"),
        "{en}"
    );
    assert!(en.contains("<time datetime=\"2024-12-31\">31 December 2024</time>"));
    // Illustrative figures say so in words.
    assert!(en.contains("98,765,432 people (illustrative)</data>"));
    // Japanese inside English text is tagged.
    assert!(en.contains("<span lang=\"ja\">デジタル庁</span>"));
    // A footnote links to its note, and the note back.
    assert!(en.contains("href=\"#fn-01-intro-en-1\" id=\"fnref-01-intro-en-1\""));
    assert!(en.contains("<li id=\"fn-01-intro-en-1\">"));
    assert!(en.contains("href=\"#fnref-01-intro-en-1\""));
    // Headings in order below the chapter's <h2>, with the PDF's labels as ids.
    assert!(en.contains("<h3 id=\"ch-01-intro-en--purpose\">Purpose</h3>"));
    assert!(en.contains("<h4 id=\"ch-01-intro-en--detail-"));
    assert!(en.contains("href=\"#ch-01-intro-en--purpose\""));
    // Tables with header cells and scope; figures with captions; images inline.
    assert!(en.contains("<th scope=\"col\">Measure</th>"));
    assert!(en.contains("<figcaption>Issuer, holder, verifier</figcaption>"));
    assert!(en.contains("<img src=\"data:image/svg+xml;base64,"));
    assert!(en.contains("alt=\"The trust triangle\""));
    // Skip link, contents, one article per chapter, a chart with its text.
    assert!(en.contains("<a class=\"skip\" href=\"#main\">"));
    assert!(en.contains("<nav class=\"toc\""));
    assert_eq!(en.matches("<article ").count(), 1);
    assert!(en.contains("<svg role=\"img\""));
    assert!(en.contains("<desc id=\"chart-identity-desc\">Bar chart comparing"));

    let ja = read(&p, JA_HTML);
    assert!(ja.contains("<html lang=\"ja\">"));
    assert!(ja.contains("<data value=\"1234567\">123万4,567人</data>"));

    let bi = read(&p, BI_HTML);
    assert!(bi.contains("<article id=\"chapter-01-intro\" class=\"pairs\""));
    assert!(bi.contains("<div class=\"sec ja\" lang=\"ja\">"));
}

#[test]
fn the_same_sources_give_the_same_bytes() {
    let p = project();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        let run = p.renga(&["compile", "--html", "--out", dir.path().to_str().unwrap()]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    for file in [EN_HTML, JA_HTML, BI_HTML] {
        assert_eq!(
            std::fs::read(a.path().join(file)).unwrap(),
            std::fs::read(b.path().join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn report_toml_makes_html_part_of_every_build_and_lang_picks_editions() {
    let p = project();
    let toml = std::fs::read_to_string(p.path().join("report.toml")).unwrap();
    p.file("report.toml", format!("{toml}\n[output]\nhtml = true\n"));
    let run = p.renga(&["compile", "--lang", "ja"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(p.out(JA_HTML).is_file());
    assert!(!p.out(EN_HTML).exists());
    assert!(!p.out(BI_HTML).exists());
}

#[test]
fn html_template_errors_are_reported_at_the_template_and_nothing_is_written() {
    let p = project();
    p.file(
        "templates/main.html",
        "<!DOCTYPE html>\n<title>{{ report.title.en }}</title>\n{{ no_such_value.x }}\n",
    );
    let check = p.renga(&["check", "--html"]);
    assert!(!check.status.success());
    assert!(
        stderr(&check).contains("templates/main.html:3"),
        "{}",
        stderr(&check)
    );
    let run = p.renga(&["compile", "--html"]);
    assert!(!run.status.success());
    assert!(!p.out(EN_HTML).exists());
    assert!(!p.out("test-report.en.pdf").exists());
    // Without --html the web template is not rendered.
    assert!(p.renga(&["check"]).status.success());
}

#[test]
fn a_project_template_that_loads_from_the_network_is_refused() {
    let p = project();
    p.file(
        "templates/main.html",
        "<!DOCTYPE html>\n<html lang=\"en\"><title>x</title><script src=\"https://cdn.example/x.js\"></script></html>\n",
    );
    let run = p.renga(&["compile", "--html", "--lang", "en"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("html-external"), "{}", stderr(&run));
    assert!(!p.out(EN_HTML).exists());
}

/// A cell's heading: its level and text; `None` for a cell without one.
type Cell = Option<(u8, String)>;

/// The bilingual web edition's rows: the English and the Japanese cell's
/// heading, in order, read from the chapter's article.
fn rows(html: &str, slug: &str) -> Vec<(Cell, Cell)> {
    let start = html
        .find(&format!("<article id=\"chapter-{slug}\""))
        .unwrap_or_else(|| panic!("no article {slug}"));
    let article = &html[start..start + html[start..].find("</article>").unwrap()];
    let heading = |cell: &str| {
        let at = cell.find("<h")?;
        let level = cell[at + 2..].chars().next()?.to_digit(10)? as u8;
        let text_start = at + cell[at..].find('>')? + 1;
        let text_end = text_start + cell[text_start..].find("</h")?;
        Some((level, cell[text_start..text_end].to_string()))
    };
    let cells: Vec<&str> = article.split("<div class=\"sec ").skip(1).collect();
    cells
        .chunks(2)
        .map(|pair| {
            assert!(
                pair[0].starts_with("en\"") && pair[1].starts_with("ja\""),
                "cells alternate en, ja: {pair:?}"
            );
            (heading(pair[0]), heading(pair[1]))
        })
        .collect()
}

/// The bilingual web edition lays sections out as the PDF does, by the
/// structural pairing (src/markdown/pairing.rs): a section only the translation has
/// stands beside an empty cell instead of pushing every later section one
/// row off, and a pair's headings share one level, which never skips.
#[test]
fn the_bilingual_page_pairs_sections_by_structure_as_the_pdf_does() {
    let p = project();
    p.file(
        "chapters/02-setup/en.md",
        "# Setting up\n\n## Install\n\nRun `cargo install renga`.\n\n## Use\n\nRun `renga compile` in 2026.\n",
    );
    p.file(
        "chapters/02-setup/ja.md",
        "# 準備\n\n## インストール\n\n`cargo install renga`を実行する。\n\n## 補足\n\n日本語版だけの節。\n\n## 使い方\n\n2026年に`renga compile`を実行する。\n",
    );
    p.file(
        "chapters/03-deeper/en.md",
        "# Deeper\n\n## Alpha\n\nAbout `alpha`.\n\n### Alpha one\n\nAbout `alpha1`.\n\n## Beta\n\nAbout `beta`.\n",
    );
    p.file(
        "chapters/03-deeper/ja.md",
        "# 深い\n\n### アルファ\n\n`alpha`について。\n\n#### アルファ一\n\n`alpha1`について。\n\n##### 追記\n\n訳者の追記。\n\n### ベータ\n\n`beta`について。\n",
    );
    let run = p.renga(&["compile", "--html", "--lang", "en-ja"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("“補足” has no counterpart"),
        "{}",
        stderr(&run)
    );
    let bi = read(&p, BI_HTML);
    let h = |level: u8, text: &str| Some((level, text.to_string()));
    assert_eq!(
        rows(&bi, "02-setup"),
        [
            (None, None),
            (h(3, "Install"), h(3, "インストール")),
            (None, h(3, "補足")),
            (h(3, "Use"), h(3, "使い方")),
        ]
    );
    assert_eq!(
        rows(&bi, "03-deeper"),
        [
            (None, None),
            (h(3, "Alpha"), h(3, "アルファ")),
            (h(4, "Alpha one"), h(4, "アルファ一")),
            (None, h(5, "追記")),
            (h(3, "Beta"), h(3, "ベータ")),
        ]
    );
    // In the one-language editions each text keeps its own outline, one
    // level below its chapter's <h2> however deep the markdown started.
    let run = p.renga(&["compile", "--html", "--lang", "ja"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let ja = read(&p, JA_HTML);
    for expected in [
        "<h3 id=\"ch-03-deeper-ja--アルファ\">アルファ</h3>",
        "<h5 id=\"ch-03-deeper-ja--追記\">追記</h5>",
    ] {
        assert!(ja.contains(expected), "{expected} in {ja}");
    }
}

/// `#` alone is an empty heading (CommonMark): there is no title to set,
/// and PDF/UA refuses an empty heading, so every edition failed to export.
/// It is left out of the PDF and the web page alike, with a warning at its
/// line; the first heading with text titles the chapter (and, with text
/// before it, stays in the body), and the sections keep their pairing.
#[test]
fn an_empty_heading_is_left_out_with_a_warning_in_every_edition() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "#\n\nText.\n\n## \n\n## Purpose\n\nMore.\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "#\n\n本文。\n\n## \n\n## 目的\n\n続き。\n",
    );
    let run = p.renga(&["compile", "--html"]);
    let err = stderr(&run);
    assert!(run.status.success(), "{err}");
    for at in [
        "chapters/01-intro/en.md:1",
        "chapters/01-intro/en.md:5",
        "chapters/01-intro/ja.md:1",
        "chapters/01-intro/ja.md:5",
    ] {
        assert!(err.contains(at), "no warning at {at}: {err}");
    }
    assert_eq!(err.matches("warning[heading-empty]").count(), 4, "{err}");
    let bi = read(&p, BI_HTML);
    assert_eq!(
        rows(&bi, "01-intro"),
        [
            (None, None),
            (Some((3, "Purpose".into())), Some((3, "目的".into())))
        ]
    );
    assert!(
        bi.contains("<span class=\"number\">1</span> Purpose</h2>"),
        "{bi}"
    );
    // No heading element without content (`<h3 id="…"></h3>`).
    assert!(!bi.contains("\"></h"), "an empty heading element: {bi}");
}

#[test]
fn a_draft_shows_where_a_missing_image_goes_as_the_pdf_does() {
    let p = TestProject::new();
    p.file(
        "report.toml",
        format!("{}\n[layout]\ndraft = true\n", crate::common::REPORT_TOML),
    );
    p.file(
        "chapters/01-intro/en.md",
        "# Intro\n\n![Issuer & holder](img/triangle.svg)\n\nInline ![a seal](seal.png) here.\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "# はじめに\n\n![信頼の三角形](img/triangle.svg)\n",
    );
    let run = p.renga(&["compile", "--html"]);
    let err = stderr(&run);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("warning[image-missing]"), "{err}");
    let en = read(&p, EN_HTML);
    // The path and the alt text, as text (escaped), where the image goes.
    assert!(
        en.contains(
            "<p class=\"missing-image\">Image missing: <code>img&#x2f;triangle.svg</code> — Issuer &amp; holder</p>"
        ),
        "{en}"
    );
    assert!(
        en.contains(
            "Inline <span class=\"missing-image\">Image missing: <code>seal.png</code> — a seal</span> here."
        ),
        "{en}"
    );
    let ja = read(&p, JA_HTML);
    assert!(
        ja.contains(
            "<p class=\"missing-image\">画像未配置：<code>img&#x2f;triangle.svg</code> — 信頼の三角形</p>"
        ),
        "{ja}"
    );
    // A final build refuses instead, as for the PDF, and writes nothing.
    p.file("report.toml", crate::common::REPORT_TOML);
    let run = p.renga(&["compile", "--html"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("error[image-missing]"));
    assert_eq!(read(&p, EN_HTML), en);
}

// ---- The allow-list and the link policy (issue #22) ------------------------

/// The diagnostics of `renga ARGS --format json`, one object per line.
fn json_diags(p: &TestProject, args: &[&str]) -> (bool, Vec<serde_json::Value>) {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let run = p.renga(&args);
    assert!(!stderr(&run).contains("panicked"), "{}", stderr(&run));
    let diags = crate::common::stdout(&run)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (run.status.success(), diags)
}

/// The 1-based line of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the template"))
        + 1
}

#[test]
fn each_hostile_template_construct_is_refused_at_its_line() {
    // Each passed the text search that stood for the policy, and in
    // Chromium ran a script or made a request.
    let hostile_html = [
        "<img src=\"data:image/png;base64,AAAA\" alt=\"\" onerror=\"alert(1)\">",
        "<img alt=\"\" src='http://evil.example/single.png'>",
        "<img alt=\"\" src=http://evil.example/bare.png>",
        "<iframe title=\"x\"></iframe>",
        "<link/rel=stylesheet href=data:text/css,p{}>",
        "<meta http-equiv=refresh content=\"0;url=https://evil.example/\">",
        "<a href=\"javascript:alert(2)\">javascript link</a>",
        "<a href=\" JaVaScRiPt:alert(3)\">spaced link</a>",
        "<p style=\"background:url('https://evil.example/style-attr.png')\">x</p>",
        "<object data=\"https://evil.example/o\"></object>",
        "<embed src=\"https://evil.example/e\">",
        "<base href=\"https://evil.example/\">",
        "<svg><image href=\"https://evil.example/svg.png\"></image></svg>",
        "<ScRiPt>alert(4)</ScRiPt>",
        "<form action=\"https://evil.example/f\"><button>Send</button></form>",
    ];
    let hostile_css = [
        "p { background: url('https://evil.example/quoted.png'); }",
        "@font-face { font-family: x; src: url(https://evil.example/font.woff2); }",
        "@import url(https://evil.example/import.css);",
        "b { width: expression(alert(5)); }",
        "i { background: u\\72l(https://evil.example/escaped.png); }",
    ];
    let p = project();
    let main = include_str!("../../templates/main.html").replace(
        "</footer>",
        &format!("</footer>\n{}", hostile_html.join("\n")),
    );
    let style = format!(
        "{}\n{}\n",
        include_str!("../../templates/style.css"),
        hostile_css.join("\n")
    );
    p.file("templates/main.html", &main);
    p.file("templates/style.css", &style);
    let (ok, diags) = json_diags(&p, &["compile", "--html", "--lang", "en"]);
    assert!(!ok);
    assert!(!p.out(EN_HTML).exists());
    let refused: Vec<&serde_json::Value> = diags
        .iter()
        .filter(|d| d["code"] == "html-external")
        .collect();
    for (file, text, constructs) in [
        ("templates/main.html", &main, &hostile_html[..]),
        ("templates/style.css", &style, &hostile_css[..]),
    ] {
        for construct in constructs {
            let line = line_of(text, construct);
            assert!(
                refused
                    .iter()
                    .any(|d| d["file"] == file && d["line"] == line),
                "{construct} not refused at {file}:{line}: {refused:#?}"
            );
        }
    }
    // Nothing but the hostile lines is refused: the default templates pass.
    let first = line_of(&main, hostile_html[0]);
    let first_css = line_of(&style, hostile_css[0]);
    for d in &refused {
        let line = d["line"].as_u64().unwrap() as usize;
        assert!(
            (d["file"] == "templates/main.html" && line >= first)
                || (d["file"] == "templates/style.css" && line >= first_css),
            "{d}"
        );
    }
}

#[test]
fn chapter_text_that_mentions_markup_and_imports_builds_and_shows_it() {
    let p = project();
    p.file(
        "chapters/01-intro/en.md",
        "# Introduction\n\n\
         A style sheet starts with `@import url(https://x.example/a.css)`; a page with `<script>`, \
         `<iframe src=\"https://x.example\">` or `onerror=` is refused.\n\n\
         ```css\n@font-face { src: url(https://x.example/f.woff); }\np { width: expression(alert(1)); }\n```\n",
    );
    let run = p.renga(&["compile", "--html", "--lang", "en"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let raw = read(&p, EN_HTML);
    // Text, not tags: escaped in the page.
    assert!(raw.contains("<code>&lt;script&gt;</code>"));
    let html = crate::common::decode_html(&raw);
    assert!(html.contains("<code>@import url(https://x.example/a.css)</code>"));
    assert!(html.contains("<code><script></code>"));
    assert!(html.contains("<code><iframe src=\"https://x.example\"></code>"));
    assert!(html.contains("@font-face { src: url(https://x.example/f.woff); }"));
}

/// Every `/URI` of the PDF's link actions, read back object by object.
fn uri_actions(pdf: &std::path::Path) -> Vec<String> {
    use hayro_syntax::Pdf;
    use hayro_syntax::object::{Dict, MaybeRef, Object};
    // The dictionaries written inside an object (an annotation's `/A`).
    fn collect(dict: &Dict, out: &mut Vec<String>) {
        for (key, value) in dict.entries() {
            match value {
                MaybeRef::NotRef(Object::String(s)) if key.as_ref() == b"URI" => {
                    out.push(String::from_utf8_lossy(s.as_bytes()).into_owned())
                }
                MaybeRef::NotRef(Object::Dict(inner)) => collect(&inner, out),
                _ => {}
            }
        }
    }
    let pdf = Pdf::new(std::fs::read(pdf).unwrap()).expect("a PDF hayro reads");
    let mut out = Vec::new();
    for object in pdf.objects() {
        if let Object::Dict(dict) = object {
            collect(&dict, &mut out);
        }
    }
    out
}

#[test]
fn links_by_other_schemes_are_text_in_the_pdf_and_the_web_editions() {
    let p = project();
    p.file(
        "chapters/01-intro/en.md",
        "# Introduction\n\n\
         A [script](javascript:alert(1)), a [basic one](vbscript:msgbox), a [local file](file:///etc/passwd),\n\
         a [share](smb://evil.example/share), <a href=\"smb://evil.example/raw\">a raw share</a>\n\
         and [the web](https://example.org/ok).\n",
    );
    p.file(
        "data/sg/identity.toml",
        format!(
            "{}url = \"smb://evil.example/metric\"\n",
            crate::common::SG_IDENTITY
        ),
    );
    let (ok, diags) = json_diags(&p, &["compile", "--html", "--lang", "en"]);
    assert!(ok, "{diags:#?}");
    // One located warning per link, the same for both writers.
    let warned: Vec<&serde_json::Value> = diags
        .iter()
        .filter(|d| d["code"] == "link-scheme")
        .collect();
    for (url, line) in [
        ("javascript:alert(1)", 3),
        ("vbscript:msgbox", 3),
        ("file:///etc/passwd", 3),
        ("smb://evil.example/share", 4),
        ("smb://evil.example/raw", 4),
    ] {
        let found: Vec<_> = warned
            .iter()
            .filter(|d| d["message"].as_str().unwrap().contains(url))
            .collect();
        assert_eq!(found.len(), 1, "{url}: {warned:#?}");
        assert_eq!(found[0]["file"], "chapters/01-intro/en.md");
        assert_eq!(found[0]["line"], line);
    }
    let uris = uri_actions(&p.out("test-report.en.pdf"));
    assert!(
        uris.iter().any(|u| u == "https://example.org/ok"),
        "{uris:?}"
    );
    for u in &uris {
        assert!(u.starts_with("https://"), "the PDF keeps a URI action {u}");
    }
    let pdf = crate::common::pdf_text(&p.out("test-report.en.pdf"));
    assert!(pdf.contains("a share"), "{pdf}");
    assert!(pdf.contains("smb://evil.example/metric"), "{pdf}");
    let html = crate::common::decode_html(&read(&p, EN_HTML));
    for href in ["javascript:", "vbscript:", "file:", "smb:"] {
        assert!(!html.contains(&format!("href=\"{href}")), "{href}");
    }
    assert!(html.contains("a raw share"));
    assert!(html.contains("smb://evil.example/metric"));
    assert!(html.contains("href=\"https://example.org/ok\""));
}

#[test]
fn a_template_link_by_another_scheme_is_refused_in_the_pdf() {
    let p = project();
    let main = include_str!("../../templates/main.typ");
    p.file(
        "templates/main.typ",
        format!("{main}\n#link(\"smb://evil.example/share\")[Share]\n"),
    );
    let (ok, diags) = json_diags(&p, &["compile", "--lang", "en"]);
    assert!(!ok);
    assert!(!p.out("test-report.en.pdf").exists());
    let line = main.lines().count() + 2;
    assert!(
        diags.iter().any(|d| d["code"] == "link-scheme"
            && d["file"] == "templates/main.typ"
            && d["line"] == line),
        "{diags:#?}"
    );
}
