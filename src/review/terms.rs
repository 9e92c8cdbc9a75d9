//! Terminology: each block whose counterpart in the other language uses a
//! glossary term must use the agreed rendering (`term-inconsistent`), and no
//! chapter uses a forbidden variant (`term-forbidden`).
//!
//! Counterparts are the translation record's block pairs where a chapter
//! has a record ([`records::Aligned`], as `renga status` shows them), else
//! the bilingual edition's section pairs. English terms match whole words,
//! ASCII case-insensitively, with a plural `-s`, across line breaks;
//! Japanese terms match the string, white space ignored.

use std::collections::HashMap;
use std::ops::Range;

use crate::diag::{Diagnostic, Location};
use crate::load::glossary::{GLOSSARY, Glossary, Term};
use crate::load::project::{Chapter, Project};
use crate::markdown::Converted;
use crate::markdown::pairing::Pairing;
use crate::model::lang::Lang;
use crate::review::records::{self, Aligned, Record};

/// A term prepared for matching once: English lowercased and split into
/// words, Japanese without white space.
struct Prepared<'a> {
    term: &'a Term,
    en: Vec<String>,
    ja: String,
}

fn prepare(glossary: &Glossary) -> Vec<Prepared<'_>> {
    glossary
        .terms
        .iter()
        .map(|term| Prepared {
            term,
            en: en_words(&term.en),
            ja: compact(&term.ja),
        })
        .collect()
}

fn en_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The first whole-word match of `words` in `hay` (ASCII-lowercased) from
/// byte `from`: any white space between the words, a plural `-s` included.
pub fn find_en(hay: &str, words: &[String], from: usize) -> Option<Range<usize>> {
    let first = words.first()?;
    if first.is_empty() {
        return None;
    }
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut pos = from;
    while let Some(i) = hay.get(pos..)?.find(first.as_str()) {
        let start = pos + i;
        pos = start + first.len();
        if is_word(hay[..start].chars().next_back()) {
            continue;
        }
        let mut end = start + first.len();
        let mut ok = true;
        for w in &words[1..] {
            let rest = &hay[end..];
            let ws = rest.len() - rest.trim_start().len();
            if ws == 0 || !rest[ws..].starts_with(w.as_str()) {
                ok = false;
                break;
            }
            end += ws + w.len();
        }
        if !ok {
            continue;
        }
        if hay[end..].starts_with('s') && !is_word(hay[end + 1..].chars().next()) {
            end += 1;
        }
        if is_word(hay[end..].chars().next()) {
            continue;
        }
        return Some(start..end);
    }
    None
}

/// A unit of text on one side of a pair: its words prepared once.
struct Unit<'a> {
    path: &'a str,
    line: usize,
    lower: String,
    compact: String,
}

impl<'a> Unit<'a> {
    fn new(path: &'a str, line: usize, text: &str, lang: Lang) -> Self {
        match lang {
            Lang::En => Self {
                path,
                line,
                lower: text.to_ascii_lowercase(),
                compact: String::new(),
            },
            Lang::Ja => Self {
                path,
                line,
                lower: String::new(),
                compact: compact(text),
            },
        }
    }

    fn uses(&self, term: &Prepared, lang: Lang) -> bool {
        match lang {
            Lang::En => find_en(&self.lower, &term.en, 0).is_some(),
            Lang::Ja => self.compact.contains(&term.ja),
        }
    }
}

/// The term warnings of the project: every chapter, for the languages built.
pub fn check(
    project: &Project,
    glossary: &Glossary,
    pairings: &HashMap<String, Pairing>,
    converted: &[Converted],
    langs: &[Lang],
) -> Vec<Diagnostic> {
    if glossary.terms.is_empty() {
        return vec![];
    }
    let terms = prepare(glossary);
    let mut out = Vec::new();
    for chapter in &project.chapters {
        for &lang in langs {
            if let Some(text) = chapter.text(lang) {
                forbidden(&terms, lang, &text.path, &text.text, &mut out);
            }
        }
        if langs.len() == 2 {
            for (en, ja) in counterparts(project, chapter, pairings, converted) {
                compare(&terms, &en, &ja, &mut out);
            }
        }
    }
    out
}

/// The forbidden variants of `lang` in one chapter text, at their place.
fn forbidden(terms: &[Prepared], lang: Lang, path: &str, text: &str, out: &mut Vec<Diagnostic>) {
    let lower = match lang {
        Lang::En => text.to_ascii_lowercase(),
        Lang::Ja => String::new(),
    };
    for t in terms {
        for variant in t.term.forbidden(lang) {
            let mut found = Vec::new();
            match lang {
                Lang::En => {
                    let words = en_words(variant);
                    let mut from = 0;
                    while let Some(r) = find_en(&lower, &words, from) {
                        from = r.end;
                        found.push(r);
                    }
                }
                Lang::Ja => found.extend(
                    text.match_indices(variant.as_str())
                        .map(|(i, s)| i..i + s.len()),
                ),
            }
            for r in found {
                out.push(
                    Diagnostic::warning(
                        "term-forbidden",
                        format!(
                            "`{}` is not used in this report: write `{}`",
                            &text[r.clone()],
                            t.term.term(lang)
                        ),
                    )
                    .at(Location::from_range(path, text, r))
                    .hint(hint(t.term)),
                );
            }
        }
    }
}

/// Warns where one side of a pair uses a term and the other lacks it.
fn compare(terms: &[Prepared], en: &Unit, ja: &Unit, out: &mut Vec<Diagnostic>) {
    for t in terms {
        let (en_has, ja_has) = (en.uses(t, Lang::En), ja.uses(t, Lang::Ja));
        let (missing, lang, other) = match (en_has, ja_has) {
            (true, false) => (ja, Lang::Ja, Lang::En),
            (false, true) => (en, Lang::En, Lang::Ja),
            _ => continue,
        };
        out.push(
            Diagnostic::warning(
                "term-inconsistent",
                format!(
                    "the {} counterpart says `{}`, but this {} lacks `{}`",
                    records::language_name(other),
                    t.term.term(other),
                    if missing.line == 0 { "text" } else { "block" },
                    t.term.term(lang)
                ),
            )
            .at(Location::new(missing.path, missing.line.max(1), 1))
            .hint(hint(t.term)),
        );
    }
}

fn hint(term: &Term) -> String {
    let mut h = format!(
        "{GLOSSARY} line {}: `{}` is `{}`",
        term.line, term.en, term.ja
    );
    if let Some(note) = &term.note {
        h.push_str(&format!(" ({note})"));
    }
    h
}

/// The chapter's pairs of text: the record's block pairs, else the
/// bilingual edition's section pairs.
fn counterparts<'a>(
    project: &Project,
    chapter: &'a Chapter,
    pairings: &HashMap<String, Pairing>,
    converted: &[Converted],
) -> Vec<(Unit<'a>, Unit<'a>)> {
    let (Some(en_text), Some(ja_text)) = (chapter.text(Lang::En), chapter.text(Lang::Ja)) else {
        return vec![];
    };
    let record = Record::load(&project.root, &chapter.slug).ok().flatten();
    if let Some(record) = &record
        && let Ok(aligned) = Aligned::new(chapter, Some(record))
    {
        return aligned
            .slots
            .iter()
            .filter_map(|slot| {
                let (e, j) = (slot.en.index()?, slot.ja.index()?);
                let (eb, jb) = (
                    aligned.blocks(Lang::En).get(e)?,
                    aligned.blocks(Lang::Ja).get(j)?,
                );
                Some((
                    Unit::new(&en_text.path, eb.line, &eb.text, Lang::En),
                    Unit::new(&ja_text.path, jb.line, &jb.text, Lang::Ja),
                ))
            })
            .collect();
    }
    let Some(pairing) = pairings.get(&chapter.slug) else {
        return vec![];
    };
    let find = |lang| {
        converted
            .iter()
            .find(|c| c.slug == chapter.slug && c.lang == lang)
    };
    let (Some(en_conv), Some(ja_conv)) = (find(Lang::En), find(Lang::Ja)) else {
        return vec![];
    };
    let en_units = records::units(&en_text.text);
    let ja_units = records::units(&ja_text.text);
    // A section's text: its blocks, from its heading to the next heading.
    let section = |units: &[crate::review::Block], c: &Converted, i: usize| -> (usize, String) {
        let start = c.sections.get(i).map_or(1, |s| s.line);
        let end = c.sections.get(i + 1).map_or(usize::MAX, |s| s.line);
        let text = units
            .iter()
            .filter(|b| b.line >= start && b.line < end)
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        (start, text)
    };
    pairing
        .rows
        .iter()
        .filter_map(|row| {
            let (e, j) = (row.en?, row.ja?);
            let (el, et) = section(&en_units, en_conv, e);
            let (jl, jt) = section(&ja_units, ja_conv, j);
            Some((
                Unit::new(&en_text.path, el, &et, Lang::En),
                Unit::new(&ja_text.path, jl, &jt, Lang::Ja),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        en_words(s)
    }

    #[test]
    fn english_matches_whole_words_and_plurals() {
        let w = words("My Number Card");
        assert_eq!(find_en("the my number cards were", &w, 0), Some(4..19));
        assert_eq!(find_en("a my number\n  card.", &w, 0), Some(2..18));
        assert_eq!(find_en("my number cardholder", &w, 0), None);
        assert_eq!(find_en("xmy number card", &w, 0), None);
        assert_eq!(find_en("my number", &w, 0), None);
    }
}
