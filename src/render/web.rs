//! Stage 4b: the web editions. Every chapter text is written as HTML once
//! (by [`html`], from the same resolving as the PDFs), then each
//! edition is laid out by the `main.html` template into one self-contained
//! file: styles inline, images as data, no script, nothing fetched, which
//! [`allowlist`] checks on the finished page.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::markdown;
use crate::pipeline::{Edition, Prepared, Timings, context};
use crate::render::allowlist;
use crate::render::html::{self, HtmlChapter};
use crate::render::template::{Rendered, Templates};

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
                diags.extend(self_contained(
                    &prepared.templates,
                    &rendered,
                    &pages,
                    edition,
                ));
                outputs.push(WebOutput {
                    edition,
                    html: rendered.text.into_bytes(),
                });
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

/// Holds a rendered web edition to the allow-list ([`allowlist`]): the page
/// is parsed as a browser parses it, and each element, attribute, address
/// or style rule it does not allow is an `html-external` error at the
/// template line that wrote it, or at the chapter whose HTML holds it.
pub fn self_contained(
    templates: &Templates,
    rendered: &Rendered,
    pages: &[HtmlChapter],
    edition: Edition,
) -> Vec<Diagnostic> {
    let text = &rendered.text;
    allowlist::check_page(text)
        .into_iter()
        .map(|problem| {
            let offset = offset_of(text, &problem);
            let located = templates.locate_detail(rendered, offset);
            let mut d = Diagnostic::error(
                "html-external",
                format!(
                    "the {} web edition would contain {}; web editions carry no script and fetch nothing",
                    edition.code(),
                    problem.message
                ),
            );
            match located {
                Some((at, true)) => d = d.at(at),
                Some((at, false)) => {
                    // Inserted by `{{ … }}`: a chapter's HTML, when one holds it.
                    let line = line_text(text, problem.line);
                    let chapter = pages.iter().find(|p| {
                        !line.trim().is_empty()
                            && (p.title.contains(line.trim())
                                || p.footnotes.contains(line.trim())
                                || p.sections.iter().any(|s| {
                                    s.body.contains(line.trim())
                                        || s.heading.contains(line.trim())
                                }))
                    });
                    match chapter {
                        Some(p) => {
                            d = d
                                .at(Location::file(format!(
                                    "chapters/{}/{}.md",
                                    p.slug,
                                    p.lang.code()
                                )))
                                .hint(format!(
                                    "inserted by the template at {}:{}",
                                    at.file, at.line
                                ))
                        }
                        None => {
                            d = d.at(at).hint("in a value this template line inserts")
                        }
                    }
                }
                None => d = d.at(Location::file(templates.origin("main.html"))),
            }
            d.hint("the web editions allow the elements, attributes, links (http, https, mailto, #fragments, the other editions) and styles listed in README.md, Web editions; images and fonts as `data:` URLs")
        })
        .collect()
}

/// The text of 1-based `line` of `text`.
fn line_text(text: &str, line: usize) -> &str {
    text.split('\n').nth(line.saturating_sub(1)).unwrap_or("")
}

/// The byte offset a problem points at: its column on its line, else the
/// last place its needle is written in the (at most 20) lines up to the
/// end of its line (a tag can span lines), else the line's start.
fn offset_of(text: &str, problem: &allowlist::Problem) -> usize {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let index = problem.line.saturating_sub(1).min(starts.len() - 1);
    let start = starts[index];
    let end = starts.get(index + 1).map_or(text.len(), |e| e - 1);
    if let Some(column) = problem.column {
        let within = text[start..end]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(end - start, |(i, _)| i);
        return start + within;
    }
    if let Some(needle) = &problem.needle {
        let from = starts[index.saturating_sub(20)];
        let window = text[from..end].to_ascii_lowercase();
        if let Some(i) = window.rfind(&needle.to_ascii_lowercase()) {
            return from + i;
        }
    }
    start
}
