//! The bilingual edition's rows: the sections of a chapter's two languages
//! paired by structure and content, never by assuming the same headings.
//!
//! A translation made elsewhere rarely mirrors its original exactly: a
//! section is added or left out, a heading sits one level deeper, the
//! translator keeps the original in HTML comments. Each section is compared
//! with the other language's by what survives translation (code, numbers,
//! addresses, metric references, image paths, Latin words, the text of
//! comments), by its heading level and by its place in the chapter, and the
//! best order-preserving pairing is chosen. Sections left over are set on
//! their own side. Every row gets one heading level, so the edition's
//! headings never skip a level whatever the two languages do.

use std::collections::BTreeMap;

use comrak::nodes::{AstNode, NodeValue};

use crate::diag::{Diagnostic, Location};
use crate::markdown::SectionInfo;

/// What a section holds that reads the same in both languages, with counts.
pub type Tokens = BTreeMap<String, u32>;

/// Adds the language-neutral content of `node` and its descendants to `tokens`.
pub fn collect_tokens<'a>(node: &'a AstNode<'a>, tokens: &mut Tokens) {
    let mut add = |t: String| *tokens.entry(t).or_insert(0) += 1;
    for d in node.descendants() {
        match &d.data().value {
            NodeValue::Text(t) => words(t, &mut add),
            NodeValue::Code(c) => add(format!("`{}", squash(&c.literal))),
            NodeValue::CodeBlock(c) => add(format!("```{}", squash(&c.literal))),
            NodeValue::Link(l) | NodeValue::Image(l) => add(format!("->{}", l.url)),
            // Comments are where translators keep the original.
            NodeValue::HtmlBlock(h) => words(&h.literal, &mut add),
            NodeValue::HtmlInline(h) => words(h, &mut add),
            _ => {}
        }
    }
}

/// Words of Latin script (lowercased, three letters or more), numbers of two
/// digits or more (full-width digits read as ASCII) and metric references.
fn words(text: &str, add: &mut impl FnMut(String)) {
    // Recognised as the editions recognise them: `{{METRIC SG.A.B}}` in one
    // language and `{{metric sg.a.b}}` in the other cite the same metric.
    for piece in crate::markdown::shortcodes(text) {
        if let crate::markdown::Piece::Metric { key, .. } = piece
            && !key.is_empty()
        {
            add(format!("{{{}", key.to_ascii_lowercase()));
        }
    }
    let mut word = String::new();
    let mut number = String::new();
    for c in text.chars().chain([' ']) {
        let digit = match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            '0'..='9' => Some(c),
            _ => None,
        };
        if let Some(d) = digit {
            number.push(d);
        } else if number.len() >= 2 {
            add(std::mem::take(&mut number));
        } else {
            number.clear();
        }
        if c.is_ascii_alphabetic() {
            word.push(c.to_ascii_lowercase());
        } else if word.len() >= 3 {
            add(std::mem::take(&mut word));
        } else {
            word.clear();
        }
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How alike two sections' contents are: the cosine of their token counts,
/// 0 (nothing shared, or nothing to compare) to 1.
pub fn similarity(a: &Tokens, b: &Tokens) -> f64 {
    let dot: f64 = a
        .iter()
        .filter_map(|(t, &n)| b.get(t).map(|&m| f64::from(n.min(m))))
        .sum();
    let norm = |t: &Tokens| t.values().map(|&n| f64::from(n)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).min(1.0)
    }
}

// What a pair is worth: shared content counts most, then an equal heading
// level, then a similar place in the chapter. A section left unpaired costs
// GAP, so two sections with nothing in common are still paired when they
// stand at the same place (the usual case of a faithful translation without
// code or figures), but a section present in one language only is not
// forced onto a neighbour that has its own counterpart.
const CONTENT: f64 = 0.6;
const LEVEL: f64 = 0.2;
const PLACE: f64 = 0.2;
const GAP: f64 = 0.1;
/// Below this content similarity a pairing rests on structure alone.
const SURE: f64 = 0.25;

fn pair_score(a: &SectionInfo, ia: usize, na: usize, b: &SectionInfo, ib: usize, nb: usize) -> f64 {
    let place = |i: usize, n: usize| (i as f64 + 0.5) / n as f64;
    CONTENT * similarity(&a.tokens, &b.tokens)
        + LEVEL * f64::from(u8::from(a.level == b.level))
        + PLACE * (1.0 - (place(ia, na) - place(ib, nb)).abs())
}

/// One row of a chapter in the bilingual edition: the section of each
/// language set in it (an index into `sections`, whose first entry, the
/// text before the first heading, is always row 0), and its heading level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub en: Option<usize>,
    pub ja: Option<usize>,
    /// 0 for the text before the first heading, else 2 or deeper.
    pub level: u8,
}

/// A chapter's rows, and the heading level each language's sections get in
/// them (for `sections-with`, one per heading).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pairing {
    pub rows: Vec<Row>,
    pub en_levels: Vec<u8>,
    pub ja_levels: Vec<u8>,
}

/// The places of the two texts, for diagnostics.
pub struct Side<'a> {
    pub path: &'a str,
    pub sections: &'a [SectionInfo],
}

/// The order-preserving pairing of `a` and `b` with the best total score
/// (Needleman–Wunsch): each step takes a pair or leaves one section alone.
fn best_pairing(a: &[SectionInfo], b: &[SectionInfo]) -> Vec<(Option<usize>, Option<usize>)> {
    let (na, nb) = (a.len(), b.len());
    let score = |i: usize, j: usize| pair_score(&a[i], i, na, &b[j], j, nb);
    let mut best = vec![vec![0.0f64; nb + 1]; na + 1];
    for i in 0..=na {
        for j in 0..=nb {
            if i == 0 && j == 0 {
                continue;
            }
            let mut v = f64::NEG_INFINITY;
            if i > 0 {
                v = v.max(best[i - 1][j] - GAP);
            }
            if j > 0 {
                v = v.max(best[i][j - 1] - GAP);
            }
            if i > 0 && j > 0 {
                v = v.max(best[i - 1][j - 1] + score(i - 1, j - 1));
            }
            best[i][j] = v;
        }
    }
    let mut steps = Vec::new();
    let (mut i, mut j) = (na, nb);
    while i > 0 || j > 0 {
        let here = best[i][j];
        let close = |x: f64| (x - here).abs() < 1e-9;
        if i > 0 && j > 0 && close(best[i - 1][j - 1] + score(i - 1, j - 1)) {
            steps.push((Some(i - 1), Some(j - 1)));
            i -= 1;
            j -= 1;
        } else if j > 0 && close(best[i][j - 1] - GAP) {
            steps.push((None, Some(j - 1)));
            j -= 1;
        } else {
            steps.push((Some(i - 1), None));
            i -= 1;
        }
    }
    steps.reverse();
    steps
}

/// Pairs the headed sections of `en` and `ja`; warns where a section has no
/// counterpart and where a pairing rests on structure alone.
pub fn pair(en: Side, ja: Side) -> (Pairing, Vec<Diagnostic>) {
    let (a, b) = (en.sections, ja.sections);
    let (na, nb) = (a.len(), b.len());
    let same_shape = na == nb && a.iter().zip(b).all(|(x, y)| x.level == y.level);
    let steps: Vec<(Option<usize>, Option<usize>)> = if same_shape {
        // The same headings in the same order: the author's own pairing.
        (0..na).map(|k| (Some(k), Some(k))).collect()
    } else {
        best_pairing(a, b)
    };
    let mut diags = Vec::new();
    let mut pairing = Pairing {
        rows: vec![Row {
            en: Some(0),
            ja: Some(0),
            level: 0,
        }],
        en_levels: vec![0; na],
        ja_levels: vec![0; nb],
    };
    let mut previous = 1u8;
    let mut last_en: Option<usize> = None;
    let mut last_ja: Option<usize> = None;
    let at = |side: &Side, k: usize| Location::new(side.path, side.sections[k].line, 1);
    // Where a section of one side stands in the other: after its last pair.
    let after = |side: &Side, k: Option<usize>| match k {
        Some(k) => format!(
            "{}:{} (after “{}”)",
            side.path, side.sections[k].line, side.sections[k].title
        ),
        None => format!("{} (before its first heading)", side.path),
    };
    for (x, y) in steps {
        // The English level leads: the edition's outline is the English one.
        let wanted = match (x, y) {
            (Some(x), _) => a[x].level,
            (None, Some(y)) => b[y].level,
            (None, None) => unreachable!("every step takes a section"),
        };
        let level = wanted.clamp(2, previous + 1);
        previous = level;
        if let Some(x) = x {
            pairing.en_levels[x] = level;
            last_en = Some(x);
        }
        if let Some(y) = y {
            pairing.ja_levels[y] = level;
            last_ja = Some(y);
        }
        pairing.rows.push(Row {
            en: x.map(|x| x + 1),
            ja: y.map(|y| y + 1),
            level,
        });
        match (x, y) {
            (Some(x), Some(y)) => {
                let content = similarity(&a[x].tokens, &b[y].tokens);
                if !same_shape && content < SURE {
                    diags.push(
                        Diagnostic::warning(
                            "section-pairing",
                            format!(
                                "the bilingual edition pairs “{}” ({}:{}) with “{}” ({}:{}) by their place alone: the two chapters' headings differ and these sections share little",
                                a[x].title, en.path, a[x].line, b[y].title, ja.path, b[y].line
                            ),
                        )
                        .at(at(&ja, y))
                        .hint(format!("check that {}:{} translates {}:{}; give both languages the same headings to pair them for certain", ja.path, b[y].line, en.path, a[x].line)),
                    );
                }
            }
            (Some(x), None) => diags.push(
                Diagnostic::warning(
                    "section-unpaired",
                    format!(
                        "section “{}” has no counterpart in {}: the bilingual edition sets it on the English side alone, beside {}",
                        a[x].title,
                        ja.path,
                        after(&ja, last_ja)
                    ),
                )
                .at(at(&en, x)),
            ),
            (None, Some(y)) => diags.push(
                Diagnostic::warning(
                    "section-unpaired",
                    format!(
                        "section “{}” has no counterpart in {}: the bilingual edition sets it on the Japanese side alone, beside {}",
                        b[y].title,
                        en.path,
                        after(&en, last_en)
                    ),
                )
                .at(at(&ja, y)),
            ),
            (None, None) => {}
        }
    }
    (pairing, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(level: u8, title: &str, tokens: &[&str]) -> SectionInfo {
        let mut t = Tokens::new();
        for token in tokens {
            *t.entry(token.to_string()).or_insert(0) += 1;
        }
        SectionInfo {
            level,
            title: title.into(),
            line: 1,
            tokens: t,
        }
    }

    fn side<'a>(path: &'a str, sections: &'a [SectionInfo]) -> Side<'a> {
        Side { path, sections }
    }

    fn pairs(p: &Pairing) -> Vec<(Option<usize>, Option<usize>)> {
        p.rows.iter().skip(1).map(|r| (r.en, r.ja)).collect()
    }

    #[test]
    fn same_headings_pair_in_order_without_warnings() {
        let en = [
            section(2, "A", &[]),
            section(3, "B", &[]),
            section(2, "C", &[]),
        ];
        let ja = [
            section(2, "あ", &[]),
            section(3, "い", &[]),
            section(2, "う", &[]),
        ];
        let (p, d) = pair(side("en.md", &en), side("ja.md", &ja));
        assert_eq!(
            pairs(&p),
            [(Some(1), Some(1)), (Some(2), Some(2)), (Some(3), Some(3))]
        );
        assert_eq!(p.en_levels, [2, 3, 2]);
        assert_eq!(p.ja_levels, [2, 3, 2]);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn a_section_in_one_language_only_is_set_alone() {
        let en = [
            section(2, "Setup", &["cargo", "```cargo new"]),
            section(2, "Usage", &["```fn main() {}", "println"]),
        ];
        let ja = [
            section(2, "準備", &["cargo", "```cargo new"]),
            section(2, "補足", &["2024", "tokyo"]),
            section(2, "使い方", &["```fn main() {}", "println"]),
        ];
        let (p, d) = pair(side("en.md", &en), side("ja.md", &ja));
        assert_eq!(
            pairs(&p),
            [(Some(1), Some(1)), (None, Some(2)), (Some(2), Some(3))]
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "section-unpaired");
        assert!(
            d[0].message.contains("補足") && d[0].message.contains("en.md"),
            "{d:?}"
        );
    }

    #[test]
    fn levels_never_skip_when_the_translation_is_deeper() {
        // The translation nests its sections one level deeper, and has one more.
        let en = [
            section(2, "A", &["alpha"]),
            section(3, "B", &["beta"]),
            section(3, "C", &["gamma"]),
        ];
        let ja = [
            section(3, "あ", &["alpha"]),
            section(4, "い", &["beta"]),
            section(5, "え", &["extra"]),
            section(4, "う", &["gamma"]),
        ];
        let (p, _) = pair(side("en.md", &en), side("ja.md", &ja));
        let mut previous = 1;
        for row in p.rows.iter().skip(1) {
            assert!(row.level >= 2 && row.level <= previous + 1, "{p:?}");
            previous = row.level;
        }
        assert_eq!(p.ja_levels, [2, 3, 4, 3]);
    }

    #[test]
    fn tokens_survive_translation() {
        let mut en = Tokens::new();
        let mut ja = Tokens::new();
        words(
            "Singpass serves 4,500,000 users {{metric sg.identity.users}}",
            &mut |t| *en.entry(t).or_insert(0) += 1,
        );
        words(
            "Singpassは４５０万人 {{metric sg.identity.users}}",
            &mut |t| *ja.entry(t).or_insert(0) += 1,
        );
        assert!(
            ja.contains_key("singpass") && ja.contains_key("450"),
            "{ja:?}"
        );
        assert!(en.contains_key("{sg.identity.users") && ja.contains_key("{sg.identity.users"));
        assert!(similarity(&en, &ja) > 0.3);
        assert_eq!(similarity(&en, &Tokens::new()), 0.0);
    }
}
