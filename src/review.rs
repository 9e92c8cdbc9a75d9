//! Reviewing a change in the units a reader sees: the blocks of a chapter
//! text (headings, paragraphs, list items, table rows, code blocks) matched
//! between two versions, and the words that changed inside a changed block.
//! `renga diff` compares two versions of the report with it; translation
//! records ([`crate::translation`]) compare a source text with the text a
//! translation was made from.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;
use std::time::{Duration, Instant};

use comrak::nodes::{AstNode, ListType, NodeValue};
use comrak::{Arena, parse_document};
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline};

use crate::lang::{Lang, is_cjk};
use crate::markdown::{self, Piece};
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
    /// The text with its inline markup written as markdown writes it
    /// (`*emphasis*`, `[link](url)`, `![alt](image.png)`, `[^note]`), so
    /// that a change of formatting, link target or image shows.
    pub markup: String,
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
        .map(|(index, (node, info))| {
            let (text, markup) = node_text(node, expand);
            Block {
                kind: info.kind,
                level: info.level,
                text,
                markup,
                line: info.line,
                top: Some(index),
            }
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
            markup: normalize(toml),
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
                let (text, markup) = c.finish();
                out.push(Block {
                    kind: "footnote",
                    level: 0,
                    text: format!("[^{}] {text}", def.name),
                    markup: format!("[^{}]: {markup}", def.name),
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
                    let (text, markup) = row_text(row, expand);
                    out.push(Block {
                        kind: "row",
                        level: 0,
                        text,
                        markup,
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
        let (text, markup) = c.finish();
        out.push(Block {
            kind: "item",
            level: depth,
            text,
            markup,
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

/// A table row's cells between ` | `; a `|` inside a cell stays escaped
/// as the author wrote it (`\|`), so that cells never seem to split.
fn row_text<'a>(row: &'a AstNode<'a>, expand: Expand) -> (String, String) {
    let (mut text, mut markup) = (Vec::new(), Vec::new());
    for cell in row.children() {
        let mut c = Collector::new(expand);
        c.walk(cell, false);
        let (t, m) = c.finish();
        text.push(t.replace('|', "\\|"));
        markup.push(m.replace('|', "\\|"));
    }
    (normalize(&text.join(" | ")), normalize(&markup.join(" | ")))
}

fn node_text<'a>(node: &'a AstNode<'a>, expand: Expand) -> (String, String) {
    let mut c = Collector::new(expand);
    c.node(node, false);
    c.finish()
}

/// Gathers the text of nodes, and beside it the same text with its inline
/// markup; metric references are written out over runs of adjacent text,
/// as the converter does.
struct Collector<'m> {
    out: String,
    markup: String,
    run: String,
    expand: Expand<'m>,
}

impl<'m> Collector<'m> {
    fn new(expand: Expand<'m>) -> Self {
        Self {
            out: String::new(),
            markup: String::new(),
            run: String::new(),
            expand,
        }
    }

    fn flush(&mut self) {
        if self.run.is_empty() {
            return;
        }
        let text = match self.expand {
            Some((metrics, lang)) => expand_metrics(&self.run, metrics, lang),
            None => std::mem::take(&mut self.run),
        };
        self.out.push_str(&text);
        self.markup.push_str(&text);
        self.run.clear();
    }

    fn other(&mut self, text: &str) {
        self.flush();
        self.out.push_str(text);
        self.markup.push_str(text);
    }

    /// Markup a reader sees as formatting, not as text.
    fn mark(&mut self, markup: &str) {
        self.flush();
        self.markup.push_str(markup);
    }

    /// Formatting around a node's children.
    fn around<'a>(&mut self, node: &'a AstNode<'a>, open: &str, close: &str) {
        self.mark(open);
        self.walk(node, false);
        self.mark(close);
    }

    /// A node and what it contains.
    fn node<'a>(&mut self, node: &'a AstNode<'a>, shallow: bool) {
        match &node.data().value {
            NodeValue::Text(t) => self.run.push_str(t),
            NodeValue::Code(code) => {
                self.mark("`");
                self.other(&code.literal);
                self.mark("`");
            }
            NodeValue::Math(math) => self.other(&math.literal),
            // Kept as a marker, resolved by `finish` as the converter does.
            NodeValue::SoftBreak => self.other("\n"),
            NodeValue::LineBreak => self.other(" "),
            NodeValue::HtmlInline(html) => self.mark(html),
            NodeValue::FootnoteReference(r) => self.mark(&format!("[^{}]", r.name)),
            NodeValue::Emph => self.around(node, "*", "*"),
            NodeValue::Strong => self.around(node, "**", "**"),
            NodeValue::Strikethrough => self.around(node, "~~", "~~"),
            NodeValue::Superscript => self.around(node, "<sup>", "</sup>"),
            NodeValue::Subscript => self.around(node, "<sub>", "</sub>"),
            NodeValue::Underline => self.around(node, "<u>", "</u>"),
            NodeValue::Link(link) => self.around(node, "[", &format!("]({})", link.url)),
            NodeValue::Image(link) => self.around(node, "![", &format!("]({})", link.url)),
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

    /// The text and the markup, whitespace collapsed.
    fn finish(mut self) -> (String, String) {
        self.flush();
        (
            normalize(&resolve_soft_breaks(&self.out)),
            normalize(&resolve_soft_breaks(&self.markup)),
        )
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
/// prints them (recognised and resolved as the editions do, in any case);
/// references to unknown metrics stay as written.
pub fn expand_metrics(text: &str, metrics: &Metrics, lang: Lang) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in markdown::shortcodes(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Metric {
                key,
                field,
                extra,
                offset,
                len,
            } => {
                let written = markdown::metric_named(metrics, key)
                    .and_then(|m| markdown::metric_text(m, field, extra, lang));
                out.push_str(written.as_deref().unwrap_or(&text[offset..offset + len]));
            }
        }
    }
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

/// The work one command may spend matching blocks and words in all,
/// counted in steps (a pair of blocks compared, a word merged or diffed)
/// rather than in seconds, so that the same versions always give the same
/// diff however busy the machine is. Once it is spent, changed regions are
/// no longer paired block by block and changed blocks are no longer diffed
/// word by word: a pathological pair of versions ends with a coarser diff
/// (whole blocks removed and added) that still shows every change.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
}

/// About a second of matching: a chapter of 2,000 near-identical
/// paragraphs in sections of 150–250 takes a tenth of it.
const WORK: u64 = 400_000_000;

impl Budget {
    pub fn new(steps: u64) -> Self {
        Self {
            left: Cell::new(steps),
        }
    }

    pub fn expired(&self) -> bool {
        self.left.get() == 0
    }

    /// Takes `steps` from the budget; false (and the budget spent) if
    /// there are not that many left.
    pub fn spend(&self, steps: u64) -> bool {
        let left = self.left.get();
        self.left.set(left.saturating_sub(steps));
        left >= steps
    }
}

impl Default for Budget {
    /// The budget of one command's matching.
    fn default() -> Self {
        Self::new(WORK)
    }
}

impl Budget {
    /// Pays for a Myers diff of `n` items in all, as if all of them
    /// differed (`n²` steps, its worst case): the diff then runs to the
    /// end, the same on any machine. One the budget cannot pay for gets
    /// [`DEADLINE`] of time and may end coarser.
    fn myers(&self, n: u64) -> Option<Instant> {
        if self.spend(n.saturating_mul(n)) {
            None
        } else {
            Some(Instant::now() + DEADLINE)
        }
    }
}

/// The words of `new` against those of `old`: equal runs, deletions and
/// insertions, in reading order (a deletion before the insertion that
/// replaces it).
pub fn word_diff(old: &str, new: &str) -> Vec<Change> {
    word_diff_within(old, new, &Budget::default())
}

/// [`word_diff`] within `budget`: once it is spent, the old text is
/// deleted and the new one inserted whole (coarser, still correct).
pub fn word_diff_within(old: &str, new: &str, budget: &Budget) -> Vec<Change> {
    let a = tokens(old);
    let b = tokens(new);
    if old != new && budget.expired() {
        let mut whole = Vec::new();
        push(&mut whole, Op::Delete, old);
        push(&mut whole, Op::Insert, new);
        return whole;
    }
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &a,
        &b,
        budget.myers((a.len() + b.len()) as u64),
    );
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

/// The words of texts as numbers, each text's sorted, so that the share of
/// words two texts have in common is one merge. Pairing blocks compares
/// every old block of a changed region with every new one: the words are
/// split once per block, not once per comparison.
#[derive(Debug, Default)]
pub struct WordBags {
    old: Vec<Vec<u32>>,
    new: Vec<Vec<u32>>,
}

impl WordBags {
    pub fn new<'t>(
        old: impl IntoIterator<Item = &'t str>,
        new: impl IntoIterator<Item = &'t str>,
    ) -> Self {
        let mut ids: HashMap<&'t str, u32> = HashMap::new();
        let old = old.into_iter().map(|t| bag(t, &mut ids)).collect();
        let new = new.into_iter().map(|t| bag(t, &mut ids)).collect();
        Self { old, new }
    }

    /// How much of old text `a`'s and new text `b`'s words are the same.
    pub fn similarity(&self, a: usize, b: usize) -> f32 {
        dice(&self.old[a], &self.new[b])
    }

    /// [`WordBags::similarity`], paid for from `budget` (nothing in
    /// common once it is spent).
    pub fn similarity_within(&self, a: usize, b: usize, budget: &Budget) -> f32 {
        let (a, b) = (&self.old[a], &self.new[b]);
        if budget.spend((a.len() + b.len()) as u64) {
            dice(a, b)
        } else {
            0.0
        }
    }
}

fn bag<'t>(text: &'t str, ids: &mut HashMap<&'t str, u32>) -> Vec<u32> {
    let mut words: Vec<u32> = tokens(text)
        .into_iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            let next = ids.len() as u32;
            *ids.entry(w).or_insert(next)
        })
        .collect();
    words.sort_unstable();
    words
}

/// Twice the words in common over all words (the Dice coefficient of the
/// two word multisets): 1 for the same words, 0 for none in common.
fn dice(a: &[u32], b: &[u32]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

/// How much of two texts' words are the same, from 0 to 1, in any order.
pub fn similarity(old: &str, new: &str) -> f32 {
    WordBags::new([old], [new]).similarity(0, 0)
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
/// a run of blocks that changed one for one. Once `budget` is spent, the
/// regions left are whole blocks removed and added.
pub fn match_units<K: Hash + Eq>(
    old: &[K],
    new: &[K],
    pairable: impl Fn(usize, usize) -> bool,
    similarity: impl Fn(usize, usize) -> f32,
    budget: &Budget,
) -> Vec<Pair> {
    // Keys as numbers: the diff compares them many times over.
    let mut ids: HashMap<&K, u32> = HashMap::new();
    let mut id = |k| {
        let next = ids.len() as u32;
        *ids.entry(k).or_insert(next)
    };
    let old_ids: Vec<u32> = old.iter().map(&mut id).collect();
    let new_ids: Vec<u32> = new.iter().map(&mut id).collect();
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_ids,
        &new_ids,
        budget.myers((old.len() + new.len()) as u64 / 2),
    );
    let mut out = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => out.extend(o.zip(n).map(|(a, b)| Pair::Same(a, b))),
            DiffTag::Delete => out.extend(o.map(Pair::Removed)),
            DiffTag::Insert => out.extend(n.map(Pair::Added)),
            DiffTag::Replace => pair_region(o, n, &pairable, &similarity, budget, &mut out),
        }
    }
    out
}

/// The largest changed region (old blocks × new blocks) paired block by
/// block; a larger one is left as removals and additions.
const MAX_REGION: usize = 250_000;

/// Pairs the blocks of a region that changed so that the paired blocks keep
/// their order and are as similar as possible in total.
fn pair_region(
    o: Range<usize>,
    n: Range<usize>,
    pairable: &impl Fn(usize, usize) -> bool,
    similarity: &impl Fn(usize, usize) -> f32,
    budget: &Budget,
    out: &mut Vec<Pair>,
) {
    let (rows, cols) = (o.len(), n.len());
    let pairs = if rows * cols <= MAX_REGION && budget.spend((rows * cols) as u64) {
        best_pairs(o.clone(), n.clone(), pairable, similarity, budget).unwrap_or_default()
    } else {
        Vec::new()
    };
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

/// The order-keeping pairing of a region with the highest total similarity
/// (a longest-common-subsequence table), or `None` if the budget ran out.
fn best_pairs(
    o: Range<usize>,
    n: Range<usize>,
    pairable: &impl Fn(usize, usize) -> bool,
    similarity: &impl Fn(usize, usize) -> f32,
    budget: &Budget,
) -> Option<Vec<(usize, usize)>> {
    let (rows, cols) = (o.len(), n.len());
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
    let width = cols + 1;
    let mut best = vec![0f32; (rows + 1) * width];
    let mut take = vec![false; (rows + 1) * width];
    for i in 1..=rows {
        if budget.expired() {
            return None;
        }
        for j in 1..=cols {
            let mut v = best[(i - 1) * width + j].max(best[i * width + j - 1]);
            if let Some(s) = score(i - 1, j - 1)
                && best[(i - 1) * width + j - 1] + s > v
            {
                v = best[(i - 1) * width + j - 1] + s;
                take[i * width + j] = true;
            }
            best[i * width + j] = v;
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (rows, cols);
    while i > 0 && j > 0 {
        if take[i * width + j] {
            pairs.push((o.start + i - 1, n.start + j - 1));
            i -= 1;
            j -= 1;
        } else if best[(i - 1) * width + j] >= best[i * width + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    pairs.reverse();
    Some(pairs)
}

/// What makes two blocks the same block: kind, level and text with its markup.
fn block_key(b: &Block) -> String {
    format!("{}\u{0}{}\u{0}{}", b.kind, b.level, b.markup)
}

/// Matches two lists of blocks: the same kind and markup are the same block.
pub fn match_blocks(old: &[Block], new: &[Block], budget: &Budget) -> Vec<Pair> {
    let old_keys: Vec<String> = old.iter().map(block_key).collect();
    let new_keys: Vec<String> = new.iter().map(block_key).collect();
    let bags = WordBags::new(
        old.iter().map(|b| b.text.as_str()),
        new.iter().map(|b| b.text.as_str()),
    );
    match_units(
        &old_keys,
        &new_keys,
        |a, b| old[a].kind == new[b].kind,
        |a, b| bags.similarity_within(a, b, budget),
        budget,
    )
}

/// Blocks that [`match_blocks`] found removed in one place and added,
/// the same, in another: they moved (two paragraphs swapped, a section
/// reordered). Maps the new index of each moved block to its old index.
pub fn moves(old: &[Block], new: &[Block], pairs: &[Pair]) -> HashMap<usize, usize> {
    let mut removed: HashMap<String, Vec<usize>> = HashMap::new();
    for p in pairs.iter().rev() {
        if let Pair::Removed(a) = p {
            removed.entry(block_key(&old[*a])).or_default().push(*a);
        }
    }
    let mut out = HashMap::new();
    for p in pairs {
        if let Pair::Added(b) = p
            && let Some(a) = removed.get_mut(&block_key(&new[*b])).and_then(Vec::pop)
        {
            out.insert(*b, a);
        }
    }
    out
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
            markup: text.into(),
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
            match_blocks(&old, &new, &Budget::default()),
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
            match_blocks(&old, &new, &Budget::default()),
            vec![Pair::Same(0, 0), Pair::Changed(1, 1), Pair::Same(2, 2)]
        );
        let mut heading = para("Entirely old words here");
        heading.kind = "heading";
        let new = [para("Keep."), heading, para("End.")];
        assert_eq!(
            match_blocks(&old, &new, &Budget::default()),
            vec![
                Pair::Same(0, 0),
                Pair::Removed(1),
                Pair::Added(1),
                Pair::Same(2, 2)
            ]
        );
    }

    #[test]
    fn a_spent_budget_gives_a_coarser_match_that_still_accounts_for_every_block() {
        let old: Vec<Block> = (0..300)
            .map(|i| para(&format!("Paragraph {i} reads much like its neighbours.")))
            .collect();
        let new: Vec<Block> = (0..300)
            .map(|i| {
                para(&format!(
                    "Paragraph {i} reads much like its neighbours now."
                ))
            })
            .collect();
        for budget in [Budget::default(), Budget::new(0)] {
            let pairs = match_blocks(&old, &new, &budget);
            let (mut seen_old, mut seen_new) = (vec![0; 300], vec![0; 300]);
            for p in &pairs {
                match *p {
                    Pair::Same(a, b) | Pair::Changed(a, b) => {
                        seen_old[a] += 1;
                        seen_new[b] += 1;
                    }
                    Pair::Removed(a) => seen_old[a] += 1,
                    Pair::Added(b) => seen_new[b] += 1,
                }
            }
            assert!(
                seen_old.iter().chain(&seen_new).all(|n| *n == 1),
                "{pairs:?}"
            );
            if budget.expired() {
                assert!(
                    pairs
                        .iter()
                        .all(|p| matches!(p, Pair::Removed(_) | Pair::Added(_)))
                );
            } else {
                assert!((0..300).all(|i| pairs.contains(&Pair::Changed(i, i))));
            }
        }
    }

    #[test]
    fn moved_blocks_are_found_among_removals_and_additions() {
        let old = [para("A."), para("B is here."), para("C.")];
        let new = [para("A."), para("C."), para("B is here.")];
        let pairs = match_blocks(&old, &new, &Budget::default());
        // Either block may be the one that moved; one move, of the same text.
        let moved = moves(&old, &new, &pairs);
        assert_eq!(moved.len(), 1, "{pairs:?}");
        let (b, a) = moved.into_iter().next().unwrap();
        assert_eq!(old[a].text, new[b].text);
        assert_ne!(a, b);
    }

    #[test]
    fn markup_is_kept_beside_the_text() {
        let b = blocks(
            "Some *stress*, a [link](https://x.test), `code`, ![alt](f.svg) and a note.[^n]\n\n[^n]: N.\n",
            None,
        );
        assert_eq!(b[0].text, "Some stress, a link, code, alt and a note.");
        assert_eq!(
            b[0].markup,
            "Some *stress*, a [link](https://x.test), `code`, ![alt](f.svg) and a note.[^n]"
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
