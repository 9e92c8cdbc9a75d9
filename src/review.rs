//! Reviewing a change in the units a reader sees: the blocks of a chapter
//! text (headings, paragraphs, list items, table rows, code blocks) matched
//! between two versions, and the words that changed inside a changed block.
//! `renga diff` compares two versions of the report with it; translation
//! records ([`crate::translation`]) compare a source text with the text a
//! translation was made from.

use std::hash::Hash;
use std::ops::Range;
use std::time::{Duration, Instant};

use comrak::nodes::{AstNode, ListType, NodeValue};
use comrak::{Arena, parse_document};
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline, get_diff_ratio};

use crate::format;
use crate::lang::{Lang, is_cjk};
use crate::markdown;
use crate::project::{Metrics, split_front_matter};

/// A block of a chapter text, the unit matched between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `heading`, `paragraph`, `list`, `table`, `code`, `quote`, `html`,
    /// `rule`, `other` (as [`markdown::top_blocks`] names them), and for the
    /// finer blocks of [`blocks`]: `item`, `row`, `footnote`, `front-matter`.
    pub kind: &'static str,
    /// Heading level for headings, nesting depth (from 1) for list items.
    pub level: u8,
    /// The text a reader sees, whitespace collapsed.
    pub text: String,
    /// 1-based line in the markdown file.
    pub line: usize,
    /// The index of the top-level block it is part of, as
    /// [`markdown::top_blocks`] numbers them; `None` for front matter and
    /// footnotes, which are not top-level blocks.
    pub top: Option<usize>,
}

/// With metric references written out as the reader sees them: the
/// metrics of the version and the language of the text.
pub type Expand<'a> = Option<(&'a Metrics, Lang)>;

/// One block per top-level block of the chapter, index for index with
/// [`markdown::top_blocks`]: the units a redline marks and translation
/// records pair. A list or table is one block, its items and rows in a line.
pub fn top_units(markdown_text: &str, expand: Expand) -> Vec<Block> {
    let arena = Arena::new();
    let root = parse_document(&arena, markdown_text, &markdown::options_for(markdown_text));
    let infos = markdown::top_blocks(markdown_text);
    markdown::top_nodes(root)
        .into_iter()
        .zip(infos)
        .enumerate()
        .map(|(index, (node, info))| Block {
            kind: info.kind,
            level: info.level,
            text: node_text(node, expand),
            line: info.line,
            top: Some(index),
        })
        .collect()
}

/// The blocks of a chapter text in the finest units a reviewer reads:
/// list items and table rows on their own, footnotes and the front matter
/// included.
pub fn blocks(markdown_text: &str, expand: Expand) -> Vec<Block> {
    let mut out = Vec::new();
    if let Some((toml, _)) = split_front_matter(markdown_text) {
        out.push(Block {
            kind: "front-matter",
            level: 0,
            text: normalize(toml),
            line: 1,
            top: None,
        });
    }
    let arena = Arena::new();
    let root = parse_document(&arena, markdown_text, &markdown::options_for(markdown_text));
    let tops = top_units(markdown_text, expand);
    let mut index = 0;
    for node in root.children() {
        let line = node.data().sourcepos.start.line;
        match &node.data().value {
            NodeValue::FrontMatter(_) => {}
            NodeValue::FootnoteDefinition(def) => {
                let mut c = Collector::new(expand);
                c.walk(node, false);
                out.push(Block {
                    kind: "footnote",
                    level: 0,
                    text: format!("[^{}] {}", def.name, c.finish()),
                    line,
                    top: None,
                });
            }
            NodeValue::List(_) => {
                items(node, 1, index, expand, &mut out);
                index += 1;
            }
            NodeValue::Table(_) => {
                for row in node.children() {
                    out.push(Block {
                        kind: "row",
                        level: 0,
                        text: row_text(row, expand),
                        line: row.data().sourcepos.start.line,
                        top: Some(index),
                    });
                }
                index += 1;
            }
            _ => {
                if let Some(top) = tops.get(index) {
                    out.push(top.clone());
                }
                index += 1;
            }
        }
    }
    out
}

/// The items of a list, each without its nested lists, which follow it.
fn items<'a>(list: &'a AstNode<'a>, depth: u8, top: usize, expand: Expand, out: &mut Vec<Block>) {
    for (k, item) in list.children().enumerate() {
        let mut c = Collector::new(expand);
        c.other(&item_marker(list, item, k));
        c.walk(item, true);
        out.push(Block {
            kind: "item",
            level: depth,
            text: c.finish(),
            line: item.data().sourcepos.start.line,
            top: Some(top),
        });
        for child in item.children() {
            if matches!(child.data().value, NodeValue::List(_)) {
                items(child, depth + 1, top, expand, out);
            }
        }
    }
}

/// `• `, `3. `, `[x] `: how a reader tells list items apart.
fn item_marker<'a>(list: &'a AstNode<'a>, item: &'a AstNode<'a>, k: usize) -> String {
    let mut marker = match &list.data().value {
        NodeValue::List(l) if l.list_type == ListType::Ordered => format!("{}. ", l.start + k),
        _ => "• ".to_string(),
    };
    if let NodeValue::TaskItem(task) = &item.data().value {
        marker.push_str(if task.symbol.is_some() {
            "[x] "
        } else {
            "[ ] "
        });
    }
    marker
}

fn row_text<'a>(row: &'a AstNode<'a>, expand: Expand) -> String {
    let mut c = Collector::new(expand);
    for (i, cell) in row.children().enumerate() {
        if i > 0 {
            c.other(" | ");
        }
        c.walk(cell, false);
    }
    c.finish()
}

fn node_text<'a>(node: &'a AstNode<'a>, expand: Expand) -> String {
    let mut c = Collector::new(expand);
    c.node(node, false);
    c.finish()
}

/// Gathers the text of nodes; metric references are written out over
/// runs of adjacent text, as the converter does.
struct Collector<'m> {
    out: String,
    run: String,
    expand: Expand<'m>,
}

impl<'m> Collector<'m> {
    fn new(expand: Expand<'m>) -> Self {
        Self {
            out: String::new(),
            run: String::new(),
            expand,
        }
    }

    fn flush(&mut self) {
        if self.run.is_empty() {
            return;
        }
        match self.expand {
            Some((metrics, lang)) => self.out.push_str(&expand_metrics(&self.run, metrics, lang)),
            None => self.out.push_str(&self.run),
        }
        self.run.clear();
    }

    fn other(&mut self, text: &str) {
        self.flush();
        self.out.push_str(text);
    }

    /// A node and what it contains.
    fn node<'a>(&mut self, node: &'a AstNode<'a>, shallow: bool) {
        match &node.data().value {
            NodeValue::Text(t) => self.run.push_str(t),
            NodeValue::Code(code) => self.other(&code.literal),
            NodeValue::Math(math) => self.other(&math.literal),
            // Kept as a marker, resolved by `finish` as the converter does.
            NodeValue::SoftBreak => self.other("\n"),
            NodeValue::LineBreak => self.other(" "),
            NodeValue::HtmlInline(_) | NodeValue::FootnoteReference(_) => self.flush(),
            NodeValue::CodeBlock(code) => self.other(&format!(" {} ", code.literal)),
            NodeValue::HtmlBlock(html) => self.other(&format!(" {} ", html.literal)),
            NodeValue::List(_) if shallow => {}
            NodeValue::List(_) => {
                for (k, item) in node.children().enumerate() {
                    self.other(" ");
                    self.other(&item_marker(node, item, k));
                    self.walk(item, false);
                }
                self.other(" ");
            }
            NodeValue::Table(_) => {
                let rows: Vec<_> = node.children().collect();
                for (i, row) in rows.into_iter().enumerate() {
                    if i > 0 {
                        self.other(" / ");
                    }
                    for (j, cell) in row.children().enumerate() {
                        if j > 0 {
                            self.other(" | ");
                        }
                        self.walk(cell, false);
                    }
                }
            }
            value if value.block() => {
                self.other(" ");
                self.walk(node, false);
                self.other(" ");
            }
            _ => self.walk(node, false),
        }
    }

    /// The children of a node; `shallow` leaves out nested lists.
    fn walk<'a>(&mut self, node: &'a AstNode<'a>, shallow: bool) {
        for child in node.children() {
            self.node(child, shallow);
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        normalize(&resolve_soft_breaks(&self.out))
    }
}

/// A soft line break between two Japanese characters is no space, as in
/// the typeset text; anywhere else it is one.
fn resolve_soft_breaks(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != '\n' {
            out.push(c);
            continue;
        }
        let before = chars[..i].iter().rev().find(|c| **c != '\n');
        let after = chars[i + 1..].iter().find(|c| **c != '\n');
        if !(before.is_some_and(|c| is_cjk(*c)) && after.is_some_and(|c| is_cjk(*c))) {
            out.push(' ');
        }
    }
    out
}

/// `{{metric ID}}` and `{{metric ID date}}` written out as the report
/// prints them; references to unknown metrics stay as written.
pub fn expand_metrics(text: &str, metrics: &Metrics, lang: Lang) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        let words: Vec<&str> = inner.split_whitespace().collect();
        let written = match words.as_slice() {
            ["metric", key] => metrics.get(key).map(|m| format::metric(m, lang)),
            ["metric", key, "date"] => metrics.get(key).map(|m| format::date(m.as_of, lang)),
            _ => None,
        };
        out.push_str(&rest[..start]);
        match written {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Whitespace collapsed to single spaces, trimmed.
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- Words -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    /// Latin letters and digits with the punctuation written against them.
    Word,
    Kanji,
    Hiragana,
    Katakana,
    /// Japanese punctuation and symbols, one token each.
    Mark,
}

fn class(c: char) -> Class {
    if c.is_whitespace() {
        return Class::Space;
    }
    match c as u32 {
        // 々 〆 〇 ヶ count as kanji.
        0x3005..=0x3007
        | 0x30F6
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x3FFFF => Class::Kanji,
        0x3041..=0x309F => Class::Hiragana,
        // Katakana with the long vowel mark ー, but not the middle dot ・.
        0x30A0..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Class::Katakana,
        // Full-width letters and digits are words like their ASCII forms.
        0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => Class::Word,
        _ if is_cjk(c) => Class::Mark,
        _ => Class::Word,
    }
}

/// Hiragana sequences that continue the word before them (okurigana,
/// auxiliary verbs, nouns written in kana) even though they start like a
/// particle. Checked before [`PARTICLES`].
const CONTINUATIONS: &[&str] = &[
    "でしょう",
    "でした",
    "です",
    "でき",
    "または",
    "すでに",
    "ともに",
    "んで",
    "いで",
    "して",
    "した",
    "する",
    "され",
    "させ",
    "いる",
    "いた",
    "ある",
    "あり",
    "なる",
    "なっ",
    "おり",
    "れる",
    "られ",
    "ます",
    "ませ",
];

/// Nouns written in kana that start like a particle: words of their own.
const KANA_NOUNS: &[&str] = &["ところ", "こと", "もの", "とき", "はず"];

/// Particles end the word before them and are words of their own, so that
/// a sentence written in kana is never one token. Longest first.
const PARTICLES: &[&str] = &[
    "について",
    "によって",
    "における",
    "において",
    "として",
    "ながら",
    "により",
    "による",
    "からの",
    "までの",
    "くらい",
    "ばかり",
    "だけ",
    "から",
    "まで",
    "より",
    "では",
    "には",
    "とは",
    "でも",
    "にも",
    "とも",
    "への",
    "での",
    "との",
    "ので",
    "のに",
    "など",
    "ほど",
    "しか",
    "は",
    "が",
    "を",
    "に",
    "で",
    "と",
    "も",
    "へ",
    "の",
    "や",
    "か",
];

/// Splits text into the units a reader sees as words, whitespace kept as
/// tokens of its own so that the tokens put together are the text again.
///
/// English (and any text with spaces): words with their punctuation.
/// Japanese: runs of one script (kanji, katakana, Latin letters and digits),
/// each punctuation mark alone, and hiragana split after particles; a kanji
/// or katakana run keeps the kana that inflect it (`利用している`).
pub fn tokens(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let cls = class(chars[i].1);
        match cls {
            Class::Mark => {
                i += 1;
                out.push(&text[at(start)..at(i)]);
            }
            Class::Space | Class::Word => {
                while i < chars.len() && class(chars[i].1) == cls {
                    i += 1;
                }
                out.push(&text[at(start)..at(i)]);
            }
            Class::Kanji | Class::Katakana => {
                while i < chars.len() && class(chars[i].1) == cls {
                    i += 1;
                }
                i = kana(text, &chars, start, i, &mut out);
            }
            Class::Hiragana => i = kana(text, &chars, start, i, &mut out),
        }
    }
    out
}

/// The hiragana from char `from`, continuing the unit that starts at
/// `unit` (the kanji or katakana before it, if any). Returns the index
/// after the hiragana.
fn kana<'t>(
    text: &'t str,
    chars: &[(usize, char)],
    mut unit: usize,
    from: usize,
    out: &mut Vec<&'t str>,
) -> usize {
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut k = from;
    while k < chars.len() && class(chars[k].1) == Class::Hiragana {
        let rest = &text[at(k)..];
        if let Some(c) = CONTINUATIONS.iter().find(|c| rest.starts_with(*c)) {
            k += c.chars().count();
            continue;
        }
        if let Some(p) = KANA_NOUNS
            .iter()
            .chain(PARTICLES)
            .find(|p| rest.starts_with(*p))
        {
            if unit < k {
                out.push(&text[at(unit)..at(k)]);
            }
            let end = k + p.chars().count();
            out.push(&text[at(k)..at(end)]);
            k = end;
            unit = k;
            continue;
        }
        k += 1;
    }
    if unit < k {
        out.push(&text[at(unit)..at(k)]);
    }
    k
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Equal,
    Insert,
    Delete,
}

/// A run of words that stayed, was inserted or was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub op: Op,
    pub text: String,
}

impl Change {
    fn new(op: Op, text: impl Into<String>) -> Self {
        Self {
            op,
            text: text.into(),
        }
    }
}

/// No diff of one block may take longer than this; past it the diff is
/// coarser but still correct.
const DEADLINE: Duration = Duration::from_millis(500);

/// The words of `new` against those of `old`: equal runs, deletions and
/// insertions, in reading order (a deletion before the insertion that
/// replaces it).
pub fn word_diff(old: &str, new: &str) -> Vec<Change> {
    let a = tokens(old);
    let b = tokens(new);
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(Instant::now() + DEADLINE));
    let mut raw: Vec<Change> = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(&mut raw, Op::Equal, &b[n].concat()),
            DiffTag::Delete => push(&mut raw, Op::Delete, &a[o].concat()),
            DiffTag::Insert => push(&mut raw, Op::Insert, &b[n].concat()),
            DiffTag::Replace => {
                push(&mut raw, Op::Delete, &a[o].concat());
                push(&mut raw, Op::Insert, &b[n].concat());
            }
        }
    }
    absorb_spaces(raw)
}

fn push(out: &mut Vec<Change>, op: Op, text: &str) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.op == op => last.text.push_str(text),
        _ => out.push(Change::new(op, text)),
    }
}

/// `[-a-]{+x+} [-b-]{+y+}` reads better as `[-a b-]{+x y+}`: a space alone
/// between two replacements joins them.
fn absorb_spaces(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |out: &mut Vec<Change>, del: &mut String, ins: &mut String| {
        push(out, Op::Delete, del);
        push(out, Op::Insert, ins);
        del.clear();
        ins.clear();
    };
    for (i, c) in changes.iter().enumerate() {
        match c.op {
            Op::Delete => del.push_str(&c.text),
            Op::Insert => ins.push_str(&c.text),
            Op::Equal => {
                let next_changes = changes.get(i + 1).is_some_and(|n| n.op != Op::Equal);
                if c.text.trim().is_empty() && !del.is_empty() && !ins.is_empty() && next_changes {
                    del.push_str(&c.text);
                    ins.push_str(&c.text);
                } else {
                    flush(&mut out, &mut del, &mut ins);
                    push(&mut out, Op::Equal, &c.text);
                }
            }
        }
    }
    flush(&mut out, &mut del, &mut ins);
    out
}

/// How much of two texts' words are the same, from 0 to 1.
pub fn similarity(old: &str, new: &str) -> f32 {
    let words = |t: &str| -> Vec<String> {
        tokens(t)
            .into_iter()
            .filter(|w| !w.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (words(old), words(new));
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(Instant::now() + DEADLINE));
    get_diff_ratio(&ops, a.len(), b.len())
}

// ---- Blocks ------------------------------------------------------------------

/// How a block of one version corresponds to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Old index, new index: the same text.
    Same(usize, usize),
    /// Old index, new index: the same block, its words changed.
    Changed(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Below this share of common words, two blocks are a removal and an
/// addition rather than one block changed (unless they are the only
/// candidates at the same place).
const SIMILAR_ENOUGH: f32 = 0.5;

/// Matches blocks between two versions. `old` and `new` are keys that are
/// equal exactly when two blocks are the same. Blocks that differ are paired
/// as changed where `pairable` allows it (blocks of the same kind) and
/// either their words are similar enough or they stand at the same place in
/// a run of blocks that changed one for one.
pub fn match_units<K: Hash + Eq + Ord>(
    old: &[K],
    new: &[K],
    pairable: impl Fn(usize, usize) -> bool,
    similarity: impl Fn(usize, usize) -> f32,
) -> Vec<Pair> {
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(Instant::now() + DEADLINE));
    let mut out = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => out.extend(o.zip(n).map(|(a, b)| Pair::Same(a, b))),
            DiffTag::Delete => out.extend(o.map(Pair::Removed)),
            DiffTag::Insert => out.extend(n.map(Pair::Added)),
            DiffTag::Replace => pair_region(o, n, &pairable, &similarity, &mut out),
        }
    }
    out
}

/// Pairs the blocks of a region that changed so that the paired blocks keep
/// their order and are as similar as possible in total.
fn pair_region(
    o: Range<usize>,
    n: Range<usize>,
    pairable: &impl Fn(usize, usize) -> bool,
    similarity: &impl Fn(usize, usize) -> f32,
    out: &mut Vec<Pair>,
) {
    let (rows, cols) = (o.len(), n.len());
    let mut pairs = Vec::new();
    // Regions too large to compare pairwise are left as removals and additions.
    if rows * cols <= 40_000 {
        let one_for_one = rows == cols;
        let score = |i: usize, j: usize| -> Option<f32> {
            let (a, b) = (o.start + i, n.start + j);
            if !pairable(a, b) {
                return None;
            }
            let s = similarity(a, b);
            // A small bonus so that blocks at the same place pair even
            // when rewritten, unless a better-matching pairing exists.
            (s >= SIMILAR_ENOUGH || (one_for_one && i == j)).then_some(s + 0.01)
        };
        // best[i][j]: the best total over old[..i] and new[..j].
        let mut best = vec![vec![0f32; cols + 1]; rows + 1];
        let mut take = vec![vec![false; cols + 1]; rows + 1];
        for i in 1..=rows {
            for j in 1..=cols {
                let mut v = best[i - 1][j].max(best[i][j - 1]);
                if let Some(s) = score(i - 1, j - 1)
                    && best[i - 1][j - 1] + s > v
                {
                    v = best[i - 1][j - 1] + s;
                    take[i][j] = true;
                }
                best[i][j] = v;
            }
        }
        let (mut i, mut j) = (rows, cols);
        while i > 0 && j > 0 {
            if take[i][j] {
                pairs.push((o.start + i - 1, n.start + j - 1));
                i -= 1;
                j -= 1;
            } else if best[i - 1][j] >= best[i][j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
        }
        pairs.reverse();
    }
    let (mut a, mut b) = (o.start, n.start);
    for (i, j) in pairs.into_iter().chain([(o.end, n.end)]) {
        out.extend((a..i).map(Pair::Removed));
        out.extend((b..j).map(Pair::Added));
        if i < o.end {
            out.push(Pair::Changed(i, j));
        }
        (a, b) = (i + 1, j + 1);
    }
}

/// Matches two lists of blocks: same kind and text are the same block.
pub fn match_blocks(old: &[Block], new: &[Block]) -> Vec<Pair> {
    let key = |b: &Block| format!("{}\u{0}{}\u{0}{}", b.kind, b.level, b.text);
    let old_keys: Vec<String> = old.iter().map(key).collect();
    let new_keys: Vec<String> = new.iter().map(key).collect();
    match_units(
        &old_keys,
        &new_keys,
        |a, b| old[a].kind == new[b].kind,
        |a, b| similarity(&old[a].text, &new[b].text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_put_together_are_the_text() {
        for text in [
            "Singpass serves 1,234,567 people (residents).",
            "シンガポールでは123万4,567人が利用している。",
            "GovTechとデジタル庁は、2022年に協力覚書を締結した。",
            "  mixed　全角スペース and ｱｲｳ half-width ",
            "",
        ] {
            assert_eq!(tokens(text).concat(), text);
        }
    }

    #[test]
    fn english_splits_into_words_with_their_punctuation() {
        assert_eq!(
            tokens("Singpass serves residents."),
            vec!["Singpass", " ", "serves", " ", "residents."]
        );
    }

    #[test]
    fn japanese_splits_into_words_a_reader_sees() {
        assert_eq!(
            tokens("シンガポールでは123万4,567人が利用している。"),
            vec![
                "シンガポール",
                "では",
                "123",
                "万",
                "4,567",
                "人",
                "が",
                "利用している",
                "。"
            ]
        );
        assert_eq!(
            tokens("GovTechとデジタル庁は、2022年に協力覚書を締結した。"),
            vec![
                "GovTech",
                "と",
                "デジタル",
                "庁",
                "は",
                "、",
                "2022",
                "年",
                "に",
                "協力覚書",
                "を",
                "締結した",
                "。"
            ]
        );
        // Katakana keeps its long vowel mark; the middle dot is punctuation.
        assert_eq!(tokens("データ・サービス"), vec!["データ", "・", "サービス"]);
        // A sentence in kana is split at its particles, never one token.
        assert_eq!(
            tokens("それはここにあります"),
            vec!["それ", "は", "ここ", "に", "あります"]
        );
        // Words of a continuation are not cut at what looks like a particle.
        assert_eq!(
            tokens("重要です。提供することができる"),
            vec!["重要です", "。", "提供する", "こと", "が", "できる"]
        );
    }

    #[test]
    fn japanese_word_diff_changes_only_the_changed_word() {
        let d = word_diff(
            "シンガポールでは住民が利用している。",
            "シンガポールでは市民が利用している。",
        );
        assert_eq!(
            d,
            vec![
                Change::new(Op::Equal, "シンガポールでは"),
                Change::new(Op::Delete, "住民"),
                Change::new(Op::Insert, "市民"),
                Change::new(Op::Equal, "が利用している。"),
            ]
        );
    }

    #[test]
    fn english_word_diff_marks_words() {
        let d = word_diff(
            "Singpass serves many residents.",
            "Singpass serves many citizens.",
        );
        assert_eq!(
            d,
            vec![
                Change::new(Op::Equal, "Singpass serves many "),
                Change::new(Op::Delete, "residents."),
                Change::new(Op::Insert, "citizens."),
            ]
        );
        // Neighbouring replacements read as one.
        let d = word_diff("a b c d", "a x y d");
        assert_eq!(
            d,
            vec![
                Change::new(Op::Equal, "a "),
                Change::new(Op::Delete, "b c"),
                Change::new(Op::Insert, "x y"),
                Change::new(Op::Equal, " d"),
            ]
        );
    }

    fn para(text: &str) -> Block {
        Block {
            kind: "paragraph",
            level: 0,
            text: text.into(),
            line: 0,
            top: None,
        }
    }

    #[test]
    fn blocks_are_matched_as_same_changed_added_and_removed() {
        let old = [
            para("The first paragraph stays."),
            para("The second paragraph is about identity and trust."),
            para("The third paragraph goes away entirely."),
            para("The last paragraph stays."),
        ];
        let new = [
            para("The first paragraph stays."),
            para("A new paragraph on something else altogether."),
            para("The second paragraph is about digital identity and trust."),
            para("The last paragraph stays."),
        ];
        assert_eq!(
            match_blocks(&old, &new),
            vec![
                Pair::Same(0, 0),
                Pair::Added(1),
                Pair::Changed(1, 2),
                Pair::Removed(2),
                Pair::Same(3, 3),
            ]
        );
    }

    #[test]
    fn a_block_rewritten_in_place_is_changed_but_kinds_never_pair() {
        let old = [
            para("Keep."),
            para("Entirely old words here."),
            para("End."),
        ];
        let new = [
            para("Keep."),
            para("Completely fresh text now."),
            para("End."),
        ];
        assert_eq!(
            match_blocks(&old, &new),
            vec![Pair::Same(0, 0), Pair::Changed(1, 1), Pair::Same(2, 2)]
        );
        let mut heading = para("Entirely old words here");
        heading.kind = "heading";
        let new = [para("Keep."), heading, para("End.")];
        assert_eq!(
            match_blocks(&old, &new),
            vec![
                Pair::Same(0, 0),
                Pair::Removed(1),
                Pair::Added(1),
                Pair::Same(2, 2)
            ]
        );
    }

    #[test]
    fn fine_blocks_split_lists_and_tables_and_keep_top_indices() {
        let md = "+++\ntitle = \"T\"\n+++\n\n## Head\n\nPara one\nwraps.\n\n- a\n- b\n  - nested\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nNote.[^n]\n\n[^n]: The note.\n";
        let b = blocks(md, None);
        let summary: Vec<(&str, &str, Option<usize>)> =
            b.iter().map(|b| (b.kind, b.text.as_str(), b.top)).collect();
        assert_eq!(
            summary,
            vec![
                ("front-matter", "title = \"T\"", None),
                ("heading", "Head", Some(0)),
                ("paragraph", "Para one wraps.", Some(1)),
                ("item", "• a", Some(2)),
                ("item", "• b", Some(2)),
                ("item", "• nested", Some(2)),
                ("row", "x | y", Some(3)),
                ("row", "1 | 2", Some(3)),
                ("paragraph", "Note.", Some(4)),
                ("footnote", "[^n] The note.", None),
            ]
        );
        let top = top_units(md, None);
        assert_eq!(top.len(), markdown::top_blocks(md).len());
        assert_eq!(top[2].text, "• a • b • nested");
        assert_eq!(top[3].text, "x | y / 1 | 2");
    }

    #[test]
    fn japanese_soft_breaks_are_no_space() {
        let top = top_units("日本語の文が\n改行される。\nThen English\nwraps.\n", None);
        assert_eq!(top[0].text, "日本語の文が改行される。 Then English wraps.");
    }
}
