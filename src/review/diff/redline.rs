//! `renga diff --pdf`: the redline edition, typeset like the report.

use super::*;

// ---- Redline edition -------------------------------------------------------------

/// A changed block's words for the redline; a deletion and the insertion
/// that replaces it are kept a space apart in text written with spaces.
fn tokens(changes: &[Change]) -> Vec<RedlineToken> {
    let mut out = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        out.push(match c.op {
            Op::Equal => RedlineToken::Same(c.text.clone()),
            Op::Insert => RedlineToken::Inserted(c.text.clone()),
            Op::Delete => RedlineToken::Deleted(c.text.clone()),
        });
        let next = changes.get(i + 1);
        if c.op == Op::Delete
            && let Some(next) = next.filter(|n| n.op == Op::Insert)
            && let (Some(a), Some(b)) = (c.text.chars().next_back(), next.text.chars().next())
            && !is_cjk(a)
            && !is_cjk(b)
            && !a.is_whitespace()
            && !b.is_whitespace()
        {
            out.push(RedlineToken::Same(" ".into()));
        }
    }
    out
}

/// What the redline edition of the new version marks: each chapter text's
/// top-level blocks against the old version's, and a summary that links to
/// every change.
pub fn redline(
    old: &Project,
    new: &Project,
    report: &Report,
    budget: &review::Budget,
) -> RedlineInput {
    let mut input = RedlineInput::default();
    for pair in match_chapters(old, new) {
        let Some(chapter) = pair.new else {
            let slug = &pair.old.expect("a pair has a chapter").slug;
            input.summary.push(RedlineEntry {
                text: format!("Chapter {slug} removed"),
                label: String::new(),
            });
            continue;
        };
        let slug = &chapter.slug;
        if let Some(was) = pair.old.filter(|o| &o.slug != slug) {
            input.summary.push(RedlineEntry {
                text: format!("Chapter {} is now {slug}", was.slug),
                label: markdown::label(slug, Lang::En, None),
            });
        }
        for (&lang, text) in &chapter.texts {
            let new_units = review::top_units(&text.text, Some((&new.metrics, lang)));
            let old_units = pair.old.and_then(|c| c.text(lang)).map_or(vec![], |t| {
                review::top_units(&t.text, Some((&old.metrics, lang)))
            });
            let mut redline = Redline::default();
            let mut removed: Vec<String> = Vec::new();
            let entry = |index: usize, what: String| RedlineEntry {
                text: match new_units.get(index) {
                    Some(b) => format!("{slug} ({lang}), line {}: {what}", b.line),
                    None => format!("{slug} ({lang}), at the end: {what}"),
                },
                label: markdown::redline_label(slug, lang, index),
            };
            let pairs = review::match_blocks(&old_units, &new_units, budget);
            let moves = review::moves(&old_units, &new_units, &pairs);
            let moved_from: std::collections::HashSet<usize> = moves.values().copied().collect();
            for p in pairs {
                let at = match p {
                    // A moved block is shown where it is now.
                    Pair::Removed(a) if moved_from.contains(&a) => continue,
                    Pair::Removed(a) => {
                        removed.push(old_units[a].text.clone());
                        continue;
                    }
                    Pair::Same(_, b) | Pair::Changed(_, b) | Pair::Added(b) => b,
                };
                if !removed.is_empty() {
                    let n = removed.len();
                    redline
                        .removed_before
                        .insert(at, std::mem::take(&mut removed));
                    input
                        .summary
                        .push(entry(at, format!("{n} block(s) removed before this")));
                }
                match p {
                    Pair::Added(b) if moves.contains_key(&b) => {
                        redline.noted.insert(b);
                        let was = old_units[moves[&b]].line;
                        input.summary.push(entry(
                            b,
                            format!("{} moved here from old line {was}", new_units[b].kind),
                        ));
                    }
                    // Set as it is, formatting and all, with a bar beside it.
                    Pair::Changed(a, b) if old_units[a].text == new_units[b].text => {
                        redline.noted.insert(b);
                        input.summary.push(entry(
                            b,
                            format!("{} formatting changed", new_units[b].kind),
                        ));
                    }
                    Pair::Changed(a, b) => {
                        let words = review::word_diff_within(
                            &old_units[a].text,
                            &new_units[b].text,
                            budget,
                        );
                        redline.changed.insert(b, tokens(&words));
                        input
                            .summary
                            .push(entry(b, format!("{} changed", new_units[b].kind)));
                    }
                    Pair::Added(b) => {
                        redline.inserted.insert(b);
                        input
                            .summary
                            .push(entry(b, format!("{} added", new_units[b].kind)));
                    }
                    _ => {}
                }
            }
            if !removed.is_empty() {
                let at = new_units.len();
                let n = removed.len();
                redline.removed_before.insert(at, removed);
                input
                    .summary
                    .push(entry(at, format!("{n} block(s) removed")));
            }
            if !redline.changed.is_empty()
                || !redline.inserted.is_empty()
                || !redline.noted.is_empty()
                || !redline.removed_before.is_empty()
            {
                input.chapters.insert((slug.clone(), lang), redline);
            }
        }
    }
    for s in &report.settings {
        input.summary.push(RedlineEntry {
            text: format!("Setting {}", setting_line(s)),
            label: String::new(),
        });
    }
    for f in &report.files {
        input.summary.push(RedlineEntry {
            text: format!("{}: {}", f.file, file_line(f)),
            label: String::new(),
        });
    }
    for m in &report.metrics {
        input.summary.push(RedlineEntry {
            text: format!(
                "Metric {} ({}): {}",
                m.key,
                m.label.en,
                metric_line(m, Lang::En)
            ),
            label: String::new(),
        });
    }
    input
}

/// Typesets the bilingual redline edition of `to`, or `None` with the
/// reasons in `problems`. A version that `renga check` refuses gets no
/// redline: a changed block is set as its words, which would hide an error
/// in it (an unknown metric printed as inserted text), so `to` is checked
/// as `check` checks it first.
pub(super) fn typeset_redline(
    to: &Version,
    input: &RedlineInput,
    problems: &mut Problems,
) -> Option<Vec<u8>> {
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    if let Some(prepared) = pipeline::prepare(&to.root, &Edition::ALL, &mut diags, &mut timings) {
        prepared.typeset(&mut diags, &mut timings);
    }
    let pdf = if diags.has_errors() {
        None
    } else {
        pipeline::prepare_redline(
            &to.root,
            &[Edition::Bilingual],
            input,
            &mut diags,
            &mut timings,
        )
        .map(|prepared| prepared.typeset(&mut diags, &mut timings))
        .into_iter()
        .flatten()
        .find(|o| o.edition == Edition::Bilingual)
        .and_then(|o| o.pdf)
    };
    diags.dedup();
    let mut errors: Vec<Diagnostic> = diags.items.into_iter().filter(|d| d.is_error()).collect();
    match pdf {
        Some(pdf) if errors.is_empty() => Some(pdf),
        _ => {
            errors.push(
                Diagnostic::error(
                    "redline",
                    format!(
                        "the redline edition of {} was not written: {} cannot be typeset as it is",
                        to.label, to.label
                    ),
                )
                .hint("`renga check` shows the same errors"),
            );
            problems.push(&to.root, Some(&to.label), errors);
            None
        }
    }
}
