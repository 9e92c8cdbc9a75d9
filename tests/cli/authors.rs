//! An author's path through renga: every figure printed exactly as its data
//! gives it, nothing the author wrote dropped without a word, and every error
//! reported at its cause. One test per problem found (issue 15).

use crate::common::*;

const EN: &str = "test-report.en.pdf";
const JA: &str = "test-report.ja.pdf";
const BI: &str = "test-report.en-ja.pdf";

/// The diagnostics of `renga check --format json`, one object per line.
fn check_json(p: &TestProject) -> Vec<serde_json::Value> {
    let out = p.renga(&["check", "--format", "json"]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn with_code<'a>(diags: &'a [serde_json::Value], code: &str) -> Vec<&'a serde_json::Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

// ---- Figures printed exactly ------------------------------------------------

/// Rounded only where the data says so (`decimals`), on the digits.
const ROUNDED: &str = r#"
[[metric]]
id = "rounded"
label = { en = "Share rounded", ja = "丸めた比率" }
value = 12.345
decimals = 1
unit = "percent"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "cents"
label = { en = "Fee rounded", ja = "丸めた手数料" }
value = 0.005
decimals = 2
unit = "usd"
as_of = 2024-12-31
source = "Test"
"#;

const FIGURES: &str = r#"[topic]
en = "Figures"
ja = "数値"

[[metric]]
id = "fee"
label = { en = "Fee per transaction", ja = "1件あたりの手数料" }
value = 0.005
unit = "usd"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "share"
label = { en = "Share online", ja = "オンライン比率" }
value = 12.345
unit = "percent"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "budget"
label = { en = "Budget", ja = "予算" }
value = 150000000.5
unit = "jpy"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "half"
label = { en = "Staff, decimal", ja = "職員数（小数）" }
value = 12345.5
unit = "people"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "whole"
label = { en = "Staff, whole", ja = "職員数（整数）" }
value = 12_345
unit = "people"
as_of = 2024-12-31
source = "Test"

[[metric]]
id = "deficit"
label = { en = "Deficit", ja = "赤字" }
value = -1234567
unit = "sgd"
as_of = 2024-12-31
source = "Test"
"#;

fn figures_project(data: &str, ids: &[&str]) -> TestProject {
    let p = TestProject::new();
    p.file("data/sg/figures.toml", data);
    let refs = ids
        .iter()
        .map(|id| format!("[{id}: {{{{metric sg.figures.{id}}}}}]"))
        .collect::<Vec<_>>()
        .join(" ");
    p.file(
        "chapters/01-intro/en.md",
        format!("## Purpose\n\nFigures: {refs}.\n"),
    );
    p.file(
        "chapters/01-intro/ja.md",
        format!("## 目的\n\n数値：{refs}。\n"),
    );
    p
}

#[test]
fn figures_print_with_the_digits_the_data_gives_in_every_edition() {
    let p = figures_project(
        FIGURES,
        &["fee", "share", "budget", "half", "whole", "deficit"],
    );
    let out = p.renga(&["compile"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let en = squash(&pdf_text(&p.out(EN)));
    let ja = squash(&pdf_text(&p.out(JA)));
    let bi = squash(&pdf_text(&p.out(BI)));
    for (text, name) in [(&en, "en"), (&bi, "en-ja")] {
        // In the prose, each as written: never doubled, never rounded.
        for expected in [
            "[fee:US$0.005]",
            "[share:12.345%]",
            "[budget:¥150,000,000.5]",
            "[half:12,345.5people]",
            "[whole:12,345people]",
            "[deficit:−S$1,234,567]",
        ] {
            assert!(text.contains(expected), "{name}: no {expected} in {text}");
        }
        assert!(!text.contains("US$0.01"), "{name}: {text}");
        assert!(!text.contains("12.35%"), "{name}: {text}");
        assert!(
            !text.contains("S$-") && !text.contains("S$−"),
            "{name}: {text}"
        );
        // The comparison table and the sources print the same figures.
        assert!(text.matches("US$0.005").count() >= 3, "{name}: {text}");
        assert!(text.matches("12.345%").count() >= 3, "{name}: {text}");
    }
    for (text, name) in [(&ja, "ja"), (&bi, "en-ja")] {
        for expected in [
            "[fee:0.005米ドル]",
            "[share:12.345%]",
            // One Japanese rule for whole numbers and decimals: myriads.
            "[budget:1億5,000万0.5円]",
            "[half:1万2,345.5人]",
            "[whole:1万2,345人]",
            "[deficit:−123万4,567シンガポールドル]",
        ] {
            assert!(text.contains(expected), "{name}: no {expected} in {text}");
        }
        assert!(!text.contains("12,345.5人"), "{name}: {text}");
    }
}

#[test]
fn figures_are_rounded_only_where_the_data_says_how() {
    let data = format!("{FIGURES}{ROUNDED}");
    let p = figures_project(&data, &["share", "rounded", "fee", "cents"]);
    let out = p.renga(&["compile", "--lang", "en", "--lang", "ja"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let en = squash(&pdf_text(&p.out(EN)));
    for expected in [
        "[share:12.345%]",
        "[rounded:12.3%]",
        "[fee:US$0.005]",
        "[cents:US$0.01]",
    ] {
        assert!(en.contains(expected), "no {expected} in {en}");
    }
    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(ja.contains("[rounded:12.3%]"), "{ja}");
    assert!(ja.contains("[cents:0.01米ドル]"), "{ja}");
}

#[test]
fn decimals_out_of_range_is_an_error_at_its_line() {
    let p = TestProject::new();
    let data = format!("{FIGURES}{ROUNDED}").replace("decimals = 1", "decimals = 40");
    p.file("data/sg/figures.toml", &data);
    let diags = check_json(&p);
    let d = with_code(&diags, "metric-decimals");
    assert_eq!(d.len(), 1, "{diags:?}");
    assert_eq!(d[0]["file"], "data/sg/figures.toml");
    let line = data.lines().position(|l| l == "decimals = 40").unwrap() + 1;
    assert_eq!(d[0]["line"], line);
}

#[test]
fn the_same_metric_id_in_different_units_is_two_rows_and_a_warning() {
    let p = TestProject::new();
    p.file(
        "data/jp/identity.toml",
        r#"[topic]
en = "Digital identity"
ja = "デジタルアイデンティティ"

[[metric]]
id = "users"
label = { en = "Identity programme budget", ja = "ID事業予算" }
value = 100129804
unit = "sgd"
as_of = 2025-03-31
source = "Test source B"
"#,
    );
    let diags = check_json(&p);
    let unit = with_code(&diags, "metric-unit");
    assert_eq!(unit.len(), 1, "{diags:?}");
    assert_eq!(unit[0]["severity"], "warning");
    assert_eq!(unit[0]["file"], "data/jp/identity.toml");
    assert_eq!(unit[0]["line"], 5);
    let message = unit[0]["message"].as_str().unwrap();
    assert!(message.contains("sg.identity.users"), "{message}");
    assert!(
        message.contains("`people`") && message.contains("`sgd`"),
        "{message}"
    );

    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = squash(&pdf_text(&p.out(EN)));
    // Each figure has its own row with its own label: no row compares
    // people with Singapore dollars.
    assert!(
        !text.contains("DigitalIDusers/Identityprogrammebudget"),
        "{text}"
    );
    assert!(text.contains("Identityprogrammebudget"), "{text}");
}

#[test]
fn budgets_in_two_currencies_still_share_a_row() {
    let p = TestProject::new();
    let money = |unit: &str, value: &str| {
        format!(
            "[topic]\nen = \"Budget\"\nja = \"予算\"\n\n[[metric]]\nid = \"budget\"\nlabel = {{ en = \"Budget\", ja = \"予算\" }}\nvalue = {value}\nunit = \"{unit}\"\nas_of = 2024-12-31\nsource = \"Test\"\n"
        )
    };
    p.file("data/sg/budget.toml", money("sgd", "3300000000"));
    p.file("data/jp/budget.toml", money("jpy", "500000000000"));
    let diags = check_json(&p);
    assert!(with_code(&diags, "metric-unit").is_empty(), "{diags:?}");
}

#[test]
fn an_as_of_date_after_publication_is_a_warning_at_its_line() {
    let p = TestProject::new();
    p.file(
        "data/sg/identity.toml",
        SG_IDENTITY.replace("as_of = 2024-12-31", "as_of = 2027-01-31"),
    );
    let diags = check_json(&p);
    let d = with_code(&diags, "metric-date");
    assert_eq!(d.len(), 1, "{diags:?}");
    assert_eq!(d[0]["severity"], "warning");
    assert_eq!(d[0]["file"], "data/sg/identity.toml");
    assert_eq!(d[0]["line"], 10);
    assert!(
        d[0]["message"].as_str().unwrap().contains("2026-11-27"),
        "{:?}",
        d[0]
    );
}

// ---- Nothing dropped in silence ----------------------------------------------

/// The right edge of the rightmost word poppler finds on each page, and the
/// page's width, in points.
fn words_beyond_the_page(pdf: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("pdftotext")
        .args(["-bbox", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let start = tag.find(&key).map(|i| i + key.len()).unwrap();
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].parse().unwrap()
    };
    let mut beyond = Vec::new();
    let mut width = f64::MAX;
    for piece in html.split('<').skip(1) {
        if piece.starts_with("page ") {
            width = attr(piece, "width");
        } else if piece.starts_with("word ") && attr(piece, "xMax") > width + 0.5 {
            beyond.push(piece.split('>').nth(1).unwrap_or("").to_string());
        }
    }
    beyond
}

#[test]
fn a_code_line_too_long_for_the_page_is_wrapped_with_a_mark_and_a_warning() {
    let p = TestProject::new();
    let long: String = (0..60).map(|i| format!("{i:02}ab")).collect();
    p.file(
        "chapters/01-intro/en.md",
        format!("## Purpose\n\nThe key:\n\n```text\nshort line\n{long}\n```\n"),
    );
    let out = p.renga(&["compile", "--lang", "en", "--lang", "en-ja"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for pdf in [EN, BI] {
        let path = p.out(pdf);
        let beyond = words_beyond_the_page(&path);
        assert!(
            beyond.is_empty(),
            "{pdf}: printed beyond the page: {beyond:?}"
        );
        let text = pdf_text(&path);
        assert!(text.contains('↪'), "{pdf}: no continuation mark in {text}");
        // Every character of the line is printed, in order.
        let printed: String = squash(&text).replace('↪', "");
        assert!(printed.contains(&long), "{pdf}: {printed}");
    }
    assert!(err.contains("warning[code-wrapped]"), "{err}");
    assert!(err.contains("chapters/01-intro/en.md:7:1"), "{err}");
    // Met in both editions, reported once, naming them.
    assert_eq!(err.matches("warning[code-wrapped]").count(), 1, "{err}");
    assert!(err.contains("in the en and en-ja editions"), "{err}");
}

#[test]
fn footnotes_without_definition_or_reference_are_warned_at_their_line() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nA claim.[^missing] Another.[^1]\n\n[^1]: Cited.\n\n[^unused]: Never cited.\n",
    );
    let diags = check_json(&p);
    let missing = with_code(&diags, "footnote-missing");
    assert_eq!(missing.len(), 1, "{diags:?}");
    assert_eq!(missing[0]["file"], "chapters/01-intro/en.md");
    assert_eq!(missing[0]["line"], 3);
    assert_eq!(missing[0]["column"], 9);
    let unused = with_code(&diags, "footnote-unused");
    assert_eq!(unused.len(), 1, "{diags:?}");
    assert_eq!(unused[0]["line"], 7);
    assert!(unused[0]["message"].as_str().unwrap().contains("[^unused]"));
}

#[test]
fn a_link_to_the_other_languages_file_links_to_this_languages_chapter() {
    use typst::layout::{Frame, FrameItem};
    use typst::model::Destination;
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nSee [the method](../02-method/ja.md#数え方).\n",
    );
    p.file(
        "chapters/02-method/en.md",
        "## Background\n\nFirst.\n\n## How we count\n\nCarefully.\n",
    );
    p.file(
        "chapters/02-method/ja.md",
        "## 背景\n\n最初に。\n\n## 数え方\n\n慎重に。\n",
    );
    let diags = check_json(&p);
    assert!(
        diags
            .iter()
            .all(|d| !d["code"].as_str().unwrap().starts_with("link")),
        "{diags:?}"
    );
    // In the English edition the link goes to the English heading in the
    // same place (the second), and is a link inside the PDF.
    let mut d = renga::diag::Diagnostics::default();
    let mut t = renga::pipeline::Timings::default();
    let edition = renga::pipeline::Edition::En;
    let prepared = renga::pipeline::prepare(p.path(), &[edition], &mut d, &mut t).unwrap();
    let intro = prepared
        .converted
        .iter()
        .find(|c| c.slug == "01-intro")
        .unwrap();
    assert!(
        intro.source.contains("\"ch-02-method-en--how-we-count\""),
        "{}",
        intro.source
    );
    let (doc, _) = prepared.layout(edition);
    fn text_of(frame: &Frame) -> String {
        let mut out = String::new();
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => out.push_str(&text_of(&g.frame)),
                FrameItem::Text(t) => out.push_str(t.text.as_str()),
                _ => {}
            }
        }
        out
    }
    fn links(frame: &Frame) -> usize {
        frame
            .items()
            .map(|(_, item)| match item {
                FrameItem::Group(g) => links(&g.frame),
                FrameItem::Link(Destination::Location(_), _) => 1,
                _ => 0,
            })
            .sum()
    }
    let doc = doc.unwrap();
    let page = doc
        .pages()
        .iter()
        .find(|page| text_of(&page.frame).contains("the method"))
        .expect("the page with the link");
    assert_eq!(links(&page.frame), 1, "the link is a link inside the PDF");
}

#[test]
fn an_empty_chapter_is_warned_and_titled_by_its_slug() {
    let p = TestProject::new();
    p.file("chapters/09-open-data/en.md", "");
    p.file("chapters/09-open-data/ja.md", "+++\nlead = \"jp\"\n+++\n");
    let diags = check_json(&p);
    let empty = with_code(&diags, "chapter-empty");
    let files: Vec<&str> = empty.iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        ["chapters/09-open-data/en.md", "chapters/09-open-data/ja.md"],
        "{diags:?}"
    );
    assert!(empty.iter().all(|d| d["severity"] == "warning"));
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdf_text(&p.out(EN));
    assert!(text.contains("Open data"), "{text}");
    assert!(!text.contains("09-open-data"), "{text}");
}

#[test]
fn a_footnote_in_a_heading_stays_out_of_the_contents() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose[^def]\n\nText.\n\n[^def]: The definition used throughout.\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pages = pdf_text(&p.out(EN));
    let pages: Vec<&str> = pages.split('\u{c}').collect();
    let contents = pages
        .iter()
        .find(|page| page.contains("Contents"))
        .expect("a contents page");
    assert!(contents.contains("Purpose"), "{contents}");
    assert!(!contents.contains("The definition used"), "{contents}");
    // The note itself is printed once, with its chapter.
    let all = pages.join("");
    assert_eq!(all.matches("The definition used").count(), 1, "{all}");
}

#[test]
fn details_keep_the_summary_apart_from_the_body() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\n<details><summary>Method</summary>Counted twice.</details>\n\nInline <details><summary>Scope</summary>All agencies.</details> here.\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = pdf_text(&p.out(EN));
    assert!(!text.contains("MethodCounted"), "{text}");
    assert!(!text.contains("ScopeAll"), "{text}");
    assert!(text.contains("Method\nCounted twice."), "{text}");
    assert!(text.contains("Scope\nAll agencies."), "{text}");
}

#[test]
fn metric_references_in_another_letter_case_are_recognised() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nUsers: {{METRIC sg.identity.users}}, as of {{Metric SG.Identity.Users DATE}}.\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = squash(&pdf_text(&p.out(EN)));
    assert!(
        text.contains("Users:1,234,567people,asof31December2024."),
        "{text}"
    );
    assert!(!text.contains("METRIC"), "{text}");
}

// ---- Every error at its cause -----------------------------------------------

#[test]
fn a_cmyk_jpeg_is_named_at_the_chapter_line() {
    let p = TestProject::new();
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/images/cmyk.jpg"
    ))
    .unwrap();
    p.file("chapters/01-intro/photo.jpg", jpeg);
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nText.\n\n![The team at work](photo.jpg)\n",
    );
    let out = p.renga(&["compile", "--lang", "en"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error[image-cmyk]"), "{err}");
    assert!(err.contains("photo.jpg"), "{err}");
    assert!(err.contains("chapters/01-intro/en.md:5:1"), "{err}");
    // Not also typst's export error without a place.
    assert!(!err.contains("missing a CMYK profile"), "{err}");
}

#[test]
fn a_broken_metrics_file_is_reported_once_and_its_references_name_it() {
    let p = TestProject::new();
    p.file(
        "data/jp/identity.toml",
        JP_IDENTITY.replace("value = 98765432", "value = 98,765,432"),
    );
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nJapan: {{metric jp.identity.users}}; again {{metric jp.identity.users}}.\n",
    );
    let out = p.renga(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("data/jp/identity.toml:8").count(), 1, "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    assert!(!err.contains("unknown metric"), "{err}");
    assert_eq!(
        err.matches(
            "metric `jp.identity.users` is unresolved because data/jp/identity.toml failed to load"
        )
        .count(),
        2,
        "{err}"
    );
}

#[test]
fn a_duplicate_chapter_number_is_one_error_without_link_warnings() {
    let p = TestProject::new();
    p.file("chapters/02-method/en.md", "## How\n\nCounting.\n");
    p.file("chapters/02-method/ja.md", "## 方法\n\n数える。\n");
    p.file("chapters/02-methods/en.md", "## How\n\nCounting.\n");
    p.file("chapters/02-methods/ja.md", "## 方法\n\n数える。\n");
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\nSee [methods](../02-methods/en.md), [how](../02-methods/en.md#how) and [again](../02-methods/).\n",
    );
    let diags = check_json(&p);
    assert_eq!(with_code(&diags, "chapter-number").len(), 1, "{diags:?}");
    let links: Vec<_> = diags
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("link"))
        .collect();
    assert!(links.is_empty(), "{links:?}");
}

#[test]
fn a_project_prelude_without_a_function_the_chapters_use_is_named() {
    let p = TestProject::new();
    let prelude = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/prelude.typ"
    ))
    .unwrap();
    // The project's prelude lacks renga-metric (as an older one would).
    let without: String = prelude
        .lines()
        .filter(|l| !l.starts_with("#let renga-metric("))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(without, prelude);
    p.file("templates/prelude.typ", without);
    let out = p.renga(&["check", "--lang", "en"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("templates/prelude.typ does not define `renga-metric`"),
        "{err}"
    );
    assert!(err.contains("chapters/01-intro/en.md:8"), "{err}");
    assert!(!err.contains("subtraction"), "{err}");
}

#[test]
fn a_template_error_is_printed_once_naming_the_editions() {
    let p = TestProject::new();
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/main.typ"))
        .unwrap();
    p.file(
        "templates/main.typ",
        main.replace("{{ report.version }}", "{{ report.versoin }}"),
    );
    let out = p.renga(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("error[template]").count(), 1, "{err}");
    assert!(err.contains("in the en, ja and en-ja editions"), "{err}");

    // A typst error in the template, met by the editions built.
    p.file(
        "templates/main.typ",
        main.replace("#outline(", "#outline(nonsense: 1, "),
    );
    let out = p.renga(&["check", "--lang", "en", "--lang", "ja"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("error[typst]").count(), 1, "{err}");
    assert!(err.contains("in the en and ja editions"), "{err}");
}

#[test]
fn init_prints_the_next_command_quoted_for_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(["init", "my report's draft"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let next = err
        .lines()
        .find_map(|l| l.strip_prefix("next: "))
        .expect("a next: line");
    // What the shell reads back is the command with the folder as one word.
    let words = std::process::Command::new("sh")
        .args(["-c", &format!("printf '%s\\n' {next}")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&words.stdout),
        "renga\ncompile\nmy report's draft\n",
        "{next}"
    );
}

// ---- Output size ------------------------------------------------------------

/// A large vector drawing: `lines` polylines, each one stroke in the PDF.
fn large_svg(lines: usize) -> String {
    let mut seed: u64 = 15;
    let mut next = move |range: f64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64 * range
    };
    let mut svg = String::from(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 700" width="1000" height="700">"#,
    );
    for _ in 0..lines {
        svg.push_str("\n<polyline fill=\"none\" stroke-width=\"0.7\" points=\"");
        for _ in 0..8 {
            svg.push_str(&format!("{:.2},{:.2} ", next(1000.0), next(700.0)));
        }
        svg.push_str(&format!("\" stroke=\"#{:06x}\"/>", next(16777215.0) as u32));
    }
    svg.push_str("\n</svg>\n");
    svg
}

/// Strokes in a PDF: `stored` in its content streams (pages and form
/// XObjects, each counted once), `drawn` when its pages are painted (a form
/// counted at every use).
struct Strokes {
    stored: usize,
    drawn: usize,
}

fn strokes(pdf: &std::path::Path) -> Strokes {
    use hayro_syntax::Pdf;
    use hayro_syntax::content::UntypedIter;
    use hayro_syntax::object::{Dict, Name, Object};
    use hayro_syntax::page::Resources;

    fn is_form(dict: &Dict) -> bool {
        dict.get::<Name>(b"Subtype")
            .is_some_and(|n| n.as_str() == "Form")
    }
    fn count(content: &[u8]) -> usize {
        let mut ops = UntypedIter::new(content);
        let mut n = 0;
        while let Some(op) = ops.next() {
            n += usize::from(&**op.operator == b"S");
        }
        n
    }
    fn drawn(content: &[u8], resources: &Resources, depth: usize) -> usize {
        assert!(depth < 32, "form XObjects nest too deep");
        let mut n = 0;
        let mut ops = UntypedIter::new(content);
        while let Some(op) = ops.next() {
            match &**op.operator {
                b"S" => n += 1,
                b"Do" => {
                    let Some(Object::Name(name)) = op.operands().next() else {
                        continue;
                    };
                    let Some(form) = resources.get_x_object(name) else {
                        continue;
                    };
                    if !is_form(form.dict()) {
                        continue;
                    }
                    let inner = Resources::from_parent(
                        form.dict().get::<Dict>(b"Resources").unwrap_or_default(),
                        resources.clone(),
                    );
                    let data = form.decoded().expect("the form's content decodes");
                    n += drawn(&data, &inner, depth + 1);
                }
                _ => {}
            }
        }
        n
    }

    let pdf = Pdf::new(std::fs::read(pdf).unwrap()).expect("a PDF hayro reads");
    let mut stored = 0;
    let mut painted = 0;
    for page in pdf.pages().iter() {
        let content = page.page_stream().unwrap_or_default();
        stored += count(content);
        painted += drawn(content, page.resources(), 0);
    }
    for object in pdf.objects() {
        if let Object::Stream(stream) = object
            && is_form(stream.dict())
        {
            stored += count(&stream.decoded().expect("the form's content decodes"));
        }
    }
    Strokes {
        stored,
        drawn: painted,
    }
}

#[test]
fn a_large_svg_is_stored_once_per_pdf_however_often_it_is_shown() {
    const LINES: usize = 3000;
    let p = TestProject::new();
    p.file("chapters/01-intro/drawing.svg", large_svg(LINES));
    p.file(
        "chapters/01-intro/en.md",
        "## Purpose\n\n![A large drawing](drawing.svg)\n\nThe same drawing again:\n\n![The large drawing again](drawing.svg)\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "## 目的\n\n![大きな図](drawing.svg)\n",
    );
    let out = p.renga(&["compile"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // (edition, times the drawing is shown)
    for (pdf, shown) in [(EN, 2), (JA, 1), (BI, 3)] {
        let s = strokes(&p.out(pdf));
        // Every use is painted: the drawing's strokes, at each place it is shown.
        assert_eq!(s.drawn / LINES, shown, "{pdf}: drawn {} strokes", s.drawn);
        // ...from one copy of them in the file.
        assert_eq!(s.stored / LINES, 1, "{pdf}: stored {} strokes", s.stored);
    }
    // So the bilingual edition, which shows it three times, is about the size
    // of the Japanese edition, which shows it once.
    let size = |pdf| std::fs::metadata(p.out(pdf)).unwrap().len();
    assert!(
        size(BI) < size(JA) + size(JA) / 4,
        "en-ja {} bytes against ja {} bytes",
        size(BI),
        size(JA)
    );
}

/// Runs renga with `args` in `dir` (not the project root).
fn renga_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("renga runs")
}

/// An author inside a chapter folder runs `renga check` as they would run
/// `git status`: the project is found in the folders above.
#[test]
fn the_project_is_found_from_inside_it_and_by_its_report_toml() {
    let p = TestProject::new();
    let chapter = p.path().join("chapters/01-intro");
    let out = renga_in(&chapter, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = renga_in(&chapter, &["status", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("01-intro"), "{}", stdout(&out));
    // `renga compile path/to/report.toml` means that project.
    let elsewhere = tempfile::tempdir().unwrap();
    let manifest = p.path().join("report.toml");
    let out = renga_in(
        elsewhere.path(),
        &["compile", manifest.to_str().unwrap(), "--lang", "en"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.out(EN).is_file());
    // A folder that does not exist says so.
    let out = renga_in(elsewhere.path(), &["check", "no-such-folder"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no-such-folder does not exist"),
        "{}",
        stderr(&out)
    );
}

/// `watch` in a folder that is no project says so and stops, instead of
/// watching and promising "the last good PDFs" that never existed.
#[test]
fn watch_outside_a_project_says_so_and_stops() {
    let empty = tempfile::tempdir().unwrap();
    for command in ["watch", "serve"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_renga"))
            .args(
                [command, "--port", "0"]
                    .into_iter()
                    .take(if command == "serve" { 3 } else { 1 }),
            )
            .current_dir(empty.path())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("renga {command} kept running in a folder that is no project");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = stderr(&out);
        assert!(err.contains("not a report project"), "{command}: {err}");
        assert!(!err.contains("last good"), "{command}: {err}");
    }
}

/// `{{metric ID number}}` is the figure alone, for prose that names its own
/// unit ("Singpass has 1,234,567 users", not "1,234,567 people users").
#[test]
fn the_number_form_prints_the_figure_without_its_unit() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\"\n+++\n\n## Purpose\n\nSingpass has {{metric sg.identity.users number}} users and {{metric jp.identity.users NUMBER}} more.\n",
    );
    p.file(
        "chapters/01-intro/ja.md",
        "+++\ntitle = \"はじめに\"\n+++\n\n## 目的\n\n利用者は{{metric sg.identity.users number}}名。\n",
    );
    let out = p.renga(&["compile", "--html", "--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let en = squash(&pdf_text(&p.out(EN)));
    assert!(
        en.contains("Singpasshas1,234,567usersand98,765,432(illustrative)more."),
        "{en}"
    );
    let ja = squash(&pdf_text(&p.out(JA)));
    assert!(ja.contains("利用者は123万4,567名。"), "{ja}");
    let html = std::fs::read_to_string(p.out("test-report.en.html")).unwrap();
    assert!(
        html.contains("<data value=\"1234567\">1,234,567</data> users"),
        "{html}"
    );
}

/// A mistyped reference is not printed as it is (passing `check --strict`):
/// it is an error at its line with the reference the author meant.
#[test]
fn a_mistyped_metric_reference_is_an_error_with_a_suggestion() {
    let p = TestProject::new();
    p.file(
        "chapters/01-intro/en.md",
        "+++\ntitle = \"Introduction\"\n+++\n\n## Purpose\n\nSingpass has {{metrics sg.identity.users}} users.\n\nAgain {{metric: sg.identity.user}}, and mdBook's {{#include x.rs}} stays text.\n",
    );
    let diags = check_json(&p);
    let typos = with_code(&diags, "metric-syntax");
    assert_eq!(typos.len(), 2, "{diags:?}");
    assert_eq!(typos[0]["line"], 7, "{:?}", typos[0]);
    assert!(
        typos[0]["hints"][0]
            .as_str()
            .unwrap()
            .contains("did you mean `{{metric sg.identity.users}}`?"),
        "{:?}",
        typos[0]
    );
    assert_eq!(typos[1]["line"], 9, "{:?}", typos[1]);
    assert!(
        typos[1]["hints"][0]
            .as_str()
            .unwrap()
            .contains("{{metric sg.identity.users}}"),
        "{:?}",
        typos[1]
    );
    let out = p.renga(&["check", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
}
