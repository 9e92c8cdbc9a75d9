//! Every example of the CommonMark and GFM specifications compiles without
//! a Typst error, and the chapter typst lays out (not the cover, contents
//! or colophon) holds the words of the reference rendering, in order. Prints "passed N of M" per suite.

use crate::common::*;
use renga::pipeline::Edition;

#[derive(serde::Deserialize)]
struct Example {
    example: u32,
    section: String,
    markdown: String,
    html: String,
}

/// The words (runs of letters and digits) of an HTML rendering's text.
fn html_words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        rest = &rest[lt..];
        let end = if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map(|i| i + 3)
        } else {
            tag_end(rest)
        };
        rest = &rest[end.unwrap_or(rest.len())..];
    }
    text.push_str(rest);
    // renga shows a character no bundled font has as its code point.
    let text: String = decode_html(&text)
        .chars()
        .map(|c| {
            if renga::typeset::fonts::Fonts::bundled().covers(c) {
                c.to_string()
            } else {
                format!("[U+{:04X}]", c as u32)
            }
        })
        .collect();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Examples whose reference rendering renga is right not to match; they
/// must still compile without a Typst error.
fn known_difference(file: &str, example: u32) -> Option<&'static str> {
    match (file, example) {
        // GitHub's tagfilter shows `<title>`, `<xmp>`… as text. renga never
        // passes HTML through, so it has nothing to filter: such a tag's
        // content is kept and the tag itself is reported as a warning.
        ("gfm.json", 653) | ("gfm-extensions.json", 22) => {
            Some("tagfilter: tag names are not text")
        }
        // GFM 0.29 predates CommonMark 0.30, which made `<!-- a -- b -->` a
        // comment; comrak follows the newer rule.
        ("gfm.json", 645) => Some("HTML comment syntax of CommonMark 0.30"),
        _ => None,
    }
}

fn run_suite(file: &str, name: &str) {
    let examples: Vec<Example> = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/commonmark/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let p = TestProject::empty();
    p.file("report.toml", REPORT_TOML);
    let mut failures = Vec::new();
    let mut differing = 0;
    for ex in &examples {
        if let Some(why) = known_difference(file, ex.example) {
            println!(
                "  example {} ({}): expected to differ: {why}",
                ex.example, ex.section
            );
            differing += 1;
        }
        p.file("chapters/01-example/en.md", &ex.markdown);
        match p.chapter_text(Edition::En, "01-example") {
            Ok((text, diags)) => {
                if let Some(d) = diags
                    .items
                    .iter()
                    .find(|d| d.code == "typst" && d.is_error())
                {
                    failures.push(format!(
                        "example {} ({}): typst error: {}",
                        ex.example, ex.section, d.message
                    ));
                } else if known_difference(file, ex.example).is_some() {
                } else if let Err(why) = in_order(&html_words(&ex.html), &text) {
                    failures.push(format!("example {} ({}): {why}", ex.example, ex.section));
                }
            }
            Err(diags) => {
                // Errors renga reports itself (a missing image, a link out of
                // the project) are fine; typst must still compile the rest.
                let typst: Vec<_> = diags
                    .items
                    .iter()
                    .filter(|d| d.code == "typst" && d.is_error())
                    .collect();
                if !typst.is_empty()
                    || !diags
                        .items
                        .iter()
                        .any(|d| d.is_error() && d.code != "typst")
                {
                    failures.push(format!(
                        "example {} ({}): {:?}",
                        ex.example,
                        ex.section,
                        typst.first().map(|d| &d.message)
                    ));
                } else {
                    // Lay out what renga produced despite the author error.
                    failures.extend(check_despite_errors(&p, ex));
                }
            }
        }
    }
    let passed = examples.len() - failures.len();
    println!(
        "{name}: passed {passed} of {} ({differing} by design differ from the reference rendering, checked for no Typst error only)",
        examples.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} examples failed",
        failures.len(),
        examples.len()
    );
}

/// An example with an author error (e.g. an image that is not there):
/// the words must still be typeset.
fn check_despite_errors(p: &TestProject, ex: &Example) -> Option<String> {
    let mut diags = renga::diag::Diagnostics::default();
    let mut timings = renga::pipeline::Timings::default();
    let prepared = renga::pipeline::prepare(p.path(), &[Edition::En], &mut diags, &mut timings)?;
    let (doc, d) = prepared.layout(Edition::En);
    if let Some(e) = d.iter().find(|d| d.is_error()) {
        return Some(format!(
            "example {}: typst error: {}",
            ex.example, e.message
        ));
    }
    let words = html_words(&ex.html);
    let text = match read_chapter(&doc?, &chapter_label(Edition::En, "01-example")) {
        Ok(reading) => reading.all,
        // A file renga refused as a whole (`+++` opening front matter that
        // never closes) is no chapter; that is right when it has no words.
        Err(_) if words.is_empty() => return None,
        Err(why) => return Some(format!("example {}: {why}", ex.example)),
    };
    in_order(&words, &text)
        .err()
        .map(|why| format!("example {} ({}): {why}", ex.example, ex.section))
}

#[test]
fn commonmark_spec_examples() {
    run_suite("spec.json", "CommonMark 0.31.2");
}

#[test]
fn gfm_spec_examples() {
    run_suite("gfm.json", "GFM 0.29");
}

#[test]
fn gfm_extension_examples() {
    run_suite("gfm-extensions.json", "cmark-gfm extensions");
}

#[test]
fn html_words_skip_tags_and_decode_entities() {
    assert_eq!(
        html_words("<p>a &amp; <em>b</em><!-- c --></p>"),
        vec!["a", "b"]
    );
    assert!(in_order(&["a".into(), "b".into()], "x a y b").is_ok());
    assert!(in_order(&["b".into(), "a".into()], "a b").is_err());
}
