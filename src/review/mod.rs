//! Reviewing a change in the units a reader sees: the blocks of a chapter
//! text (headings, paragraphs, list items, table rows, code blocks) matched
//! between two versions, and the words that changed inside a changed block.
//! `renga diff` compares two versions of the report with it; translation
//! records ([`crate::review::records`]) compare a source text with the text a
//! translation was made from.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;
use std::time::{Duration, Instant};

use comrak::Arena;
use comrak::nodes::{AstNode, ListType, NodeValue};
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline};

use crate::load::project::{Metrics, split_front_matter};
use crate::markdown::{self, Piece};
use crate::model::lang::{Lang, is_cjk};
pub mod diff;
mod matching;
pub mod records;
pub mod terms;
mod words;

pub use matching::*;
pub use words::*;

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
    /// What changes a page beyond the words, by name: a code block's
    /// `code language`, a table's `column N alignment` (those not left to
    /// the default). Part of what makes two blocks the same block.
    pub attrs: Vec<(String, String)>,
    /// A code block's code as written, its lines and their indentation
    /// kept, and the file line of its first line: code is compared line by
    /// line.
    pub code: Option<(usize, String)>,
}

/// The name a line break is shown by in a block's markup: a hard line
/// break (two trailing spaces or a backslash) changes the page.
pub const LINE_BREAK: &str = "↵";

/// A code block's language and code, a table's column alignments: what a
/// block shows beyond its words.
fn attrs<'a>(node: &'a AstNode<'a>) -> (Vec<(String, String)>, Option<(usize, String)>) {
    match &node.data().value {
        NodeValue::CodeBlock(code) => {
            let lang = code.info.split_whitespace().next().unwrap_or("");
            // `rust,ignore` is the language `rust`, as the editions read it.
            let lang = lang.split(',').next().unwrap_or("");
            let lang = if lang.is_empty() { "none" } else { lang };
            (
                vec![("code language".to_string(), lang.to_string())],
                Some((
                    node.data().sourcepos.start.line + usize::from(code.fenced),
                    code.literal.clone(),
                )),
            )
        }
        NodeValue::Table(table) => (table_attrs(&table.alignments), None),
        _ => (Vec::new(), None),
    }
}

fn table_attrs(alignments: &[comrak::nodes::TableAlignment]) -> Vec<(String, String)> {
    use comrak::nodes::TableAlignment as A;
    alignments
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let name = match a {
                A::None => return None,
                A::Left => "left",
                A::Center => "center",
                A::Right => "right",
            };
            Some((format!("column {} alignment", i + 1), name.to_string()))
        })
        .collect()
}

/// What changed in how a block is set, beyond its words, named for what
/// it is: `level 2 → 3`, `code language: rust → text`, `column 2
/// alignment: left → right`, `line break removed`.
pub fn formatting_changes(old: &Block, new: &Block) -> Vec<String> {
    let mut out = Vec::new();
    if old.level != new.level && old.kind == new.kind {
        let what = if new.kind == "item" {
            "nesting level"
        } else {
            "level"
        };
        out.push(format!("{what} {} → {}", old.level, new.level));
    }
    let value = |attrs: &[(String, String)], name: &str| -> String {
        attrs
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| "none".to_string(), |(_, v)| v.clone())
    };
    let mut names: Vec<&str> = new.attrs.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in &old.attrs {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    names.sort_by_key(|n| {
        // Columns in their order, not as strings sort.
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        (digits.parse::<usize>().unwrap_or(0), n.to_string())
    });
    for name in names {
        let (a, b) = (value(&old.attrs, name), value(&new.attrs, name));
        if a != b {
            out.push(format!("{name}: {a} → {b}"));
        }
    }
    let breaks = |b: &Block| b.markup.matches(LINE_BREAK).count();
    let (a, b) = (breaks(old), breaks(new));
    let plural = |n: usize| {
        if n == 1 {
            "line break".to_string()
        } else {
            format!("{n} line breaks")
        }
    };
    if b < a {
        out.push(format!("{} removed", plural(a - b)));
    } else if b > a {
        out.push(format!("{} added", plural(b - a)));
    }
    out
}

/// With metric references written out as the reader sees them: the
/// metrics of the version and the language of the text.
pub type Expand<'a> = Option<(&'a Metrics, Lang)>;

/// One block per top-level block of the chapter, index for index with
/// [`markdown::top_blocks`]: the units a redline marks and translation
/// records pair. A list or table is one block, its items and rows in a line.
pub fn top_units(markdown_text: &str, expand: Expand) -> Vec<Block> {
    let arena = Arena::new();
    let root = markdown::parse(&arena, markdown_text, &markdown::options_for(markdown_text));
    let infos = markdown::top_blocks(markdown_text);
    markdown::top_nodes(root)
        .into_iter()
        .zip(infos)
        .enumerate()
        .map(|(index, (node, info))| {
            let (text, markup) = node_text(node, expand);
            let (attrs, code) = attrs(node);
            Block {
                kind: info.kind,
                level: info.level,
                text,
                markup,
                line: info.line,
                top: Some(index),
                attrs,
                code,
            }
        })
        .collect()
}

/// Each footnote definition of a chapter text: its name and its text, in
/// the order they are defined.
pub fn footnotes(markdown_text: &str) -> Vec<(String, String)> {
    if !markdown_text.contains("[^") {
        return Vec::new();
    }
    let arena = Arena::new();
    let root = markdown::parse(&arena, markdown_text, &markdown::options_for(markdown_text));
    root.children()
        .filter_map(|node| match &node.data().value {
            NodeValue::FootnoteDefinition(def) => {
                let mut c = Collector::new(None);
                c.walk(node, false);
                Some((def.name.clone(), c.finish().0))
            }
            _ => None,
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
            attrs: Vec::new(),
            code: None,
        });
    }
    let arena = Arena::new();
    let root = markdown::parse(&arena, markdown_text, &markdown::options_for(markdown_text));
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
                    attrs: Vec::new(),
                    code: None,
                });
            }
            NodeValue::List(_) => {
                items(node, 1, index, expand, &mut out);
                index += 1;
            }
            NodeValue::Table(table) => {
                for (r, row) in node.children().enumerate() {
                    let (text, markup) = row_text(row, expand);
                    out.push(Block {
                        kind: "row",
                        level: 0,
                        text,
                        markup,
                        line: row.data().sourcepos.start.line,
                        top: Some(index),
                        // The columns' alignment goes with the header row.
                        attrs: if r == 0 {
                            table_attrs(&table.alignments)
                        } else {
                            Vec::new()
                        },
                        code: None,
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
            attrs: Vec::new(),
            code: None,
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
            NodeValue::LineBreak => {
                self.other(" ");
                self.mark(LINE_BREAK);
                self.mark(" ");
            }
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
                typo,
                offset,
                len,
            } => {
                let written = markdown::metric_named(metrics, key)
                    .filter(|_| typo.is_none())
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
            attrs: Vec::new(),
            code: None,
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
