//! Stage 4b: the web editions. Every chapter text is written as HTML once
//! (by [`html`], from the same resolving as the PDFs), then each
//! edition is laid out by the `main.html` template into one self-contained
//! file: styles inline, images as data, no script, nothing fetched.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::markdown;
use crate::pipeline::{Edition, Prepared, Timings, context};
use crate::render::html::{self, HtmlChapter};

/// One web edition, ready to write.
pub struct WebOutput {
    pub edition: Edition,
    pub html: Vec<u8>,
}

impl WebOutput {
    pub fn file_name(&self, name: &str) -> String {
        format!("{name}.{}.html", self.edition.code())
    }
}

/// Whether a build writes the web editions: `--html`, or `[output] html = true`.
pub fn wanted(flag: bool, prepared: &Prepared) -> bool {
    flag || prepared.project.manifest.output.html
}

/// Writes every chapter text as HTML, then renders `main.html` for each of
/// `editions`. Problems are added to `diags`; an edition whose template
/// fails is left out.
pub fn build(
    prepared: &Prepared,
    editions: &[Edition],
    diags: &mut Diagnostics,
    timings: &mut Timings,
) -> Vec<WebOutput> {
    let start = std::time::Instant::now();
    let project = &prepared.project;
    let anchors = markdown::collect_anchors(project);
    let mut pages: Vec<HtmlChapter> = Vec::new();
    for converted in &prepared.converted {
        let Some(chapter) = project.chapters.iter().find(|c| c.slug == converted.slug) else {
            continue;
        };
        let Some(text) = chapter.text(converted.lang) else {
            continue;
        };
        let key = (chapter.slug.clone(), converted.lang);
        let page = html::convert(
            project,
            &anchors,
            chapter,
            text,
            converted,
            prepared.pending.get(&key),
        );
        // The Typst writer reported the same problems at the same places.
        diags.extend(page.diagnostics.iter().cloned());
        pages.push(page);
    }
    diags.dedup();
    timings
        .stages
        .push(("html convert".into(), start.elapsed()));

    let mut outputs = Vec::new();
    for &edition in editions {
        let start = std::time::Instant::now();
        let base = Value::from(minijinja::value::Serde(context(
            project,
            &prepared.converted,
            &prepared.pairings,
            edition,
            prepared.date,
            &[],
        )));
        let ctx = minijinja::context! { pages => pages_value(&pages), ..base };
        match prepared.templates.render("main.html", ctx) {
            Ok(rendered) => {
                let output = WebOutput {
                    edition,
                    html: rendered.text.into_bytes(),
                };
                diags.extend(self_contained(&output));
                outputs.push(output);
            }
            Err(d) => diags.push(d),
        }
        timings
            .stages
            .push((format!("html {}", edition.code()), start.elapsed()));
    }
    diags.dedup();
    outputs
}

/// `pages[slug][lang]`: each chapter text's HTML, marked safe (renga wrote
/// it and escaped every piece of author text in it).
fn pages_value(pages: &[HtmlChapter]) -> Value {
    let mut by_slug: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for page in pages {
        let sections: Vec<Value> = page
            .sections
            .iter()
            .map(|s| {
                minijinja::context! {
                    level => s.level,
                    id => s.id.clone(),
                    heading => Value::from_safe_string(s.heading.clone()),
                    mark => Value::from_safe_string(s.mark.clone()),
                    body => Value::from_safe_string(s.body.clone()),
                }
            })
            .collect();
        let value = minijinja::context! {
            id => page.id.clone(),
            lang => page.lang.code(),
            title => Value::from_safe_string(page.title.clone()),
            sections => sections,
            footnotes => Value::from_safe_string(page.footnotes.clone()),
        };
        by_slug
            .entry(page.slug.clone())
            .or_default()
            .insert(page.lang.code().to_string(), value);
    }
    Value::from(
        by_slug
            .into_iter()
            .map(|(slug, langs)| (slug, Value::from(langs)))
            .collect::<BTreeMap<String, Value>>(),
    )
}

/// Checks a rendered web edition for what the template language cannot
/// promise: no `<script>`, nothing loaded from the network.
pub fn self_contained(output: &WebOutput) -> Vec<Diagnostic> {
    let text = String::from_utf8_lossy(&output.html);
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (needle, what) in [
        ("<script", "a script"),
        ("src=\"http", "an image or frame from the network"),
        ("src=\"//", "an image or frame from the network"),
        ("<link ", "a linked stylesheet or resource"),
        ("@import", "a stylesheet import"),
        ("url(http", "a resource from the network"),
        ("url(//", "a resource from the network"),
    ] {
        if lower.contains(needle) {
            out.push(
                Diagnostic::error(
                    "html-external",
                    format!(
                        "the {} web edition contains {what} (`{needle}`); web editions must work offline and without scripts",
                        output.edition.code()
                    ),
                )
                .at(crate::diag::Location::file("templates/main.html"))
                .hint("keep styles inline (style.css) and images beside the chapters"),
            );
        }
    }
    out
}
