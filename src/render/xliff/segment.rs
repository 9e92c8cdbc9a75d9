//! A top-level block of a chapter as a translator's segment: the text the
//! author wrote, with every piece of markdown around it turned into a
//! protected code, and back.
//!
//! The segment is cut out of the block's own bytes, so that putting its text
//! and codes back together gives the block exactly as written: the bytes of
//! every text node of comrak's tree are text (except the metric references
//! inside them), and every byte between them is markdown. Emphasis, strong,
//! strikethrough, link text and image descriptions keep their content and
//! become paired codes; a link's or image's destination, metric references,
//! code spans, footnote references, inline HTML, autolinks, line breaks and
//! the block's own syntax (heading marks, list markers, table pipes) become
//! placeholders.

use std::collections::BTreeMap;

use comrak::Arena;
use comrak::nodes::{AstNode, NodeValue};

use crate::markdown;
use crate::model::lang::Lang;

/// A piece of a segment's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// A placeholder: the code with this id stands here.
    Ph(String),
    /// A paired code around translatable content.
    G(String, Vec<Inline>),
}

/// What a code stands for. The markdown of a placeholder is `open`; a
/// paired code is `open`, its content, `close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub kind: Kind,
    pub open: String,
    pub close: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Metric,
    CodeSpan,
    Footnote,
    Html,
    Autolink,
    LineBreak,
    /// The block's own markdown: heading marks, list markers, table pipes.
    Markup,
    Emphasis,
    Strong,
    Strike,
    Link,
    Image,
    /// A link's destination, `(url "title")` or `[label]`, after its text.
    LinkTarget,
    /// An image's source, after its description.
    ImageSource,
}

impl Kind {
    /// The XLIFF 1.2 `ctype` (the strict schema's values, or `x-` ones).
    pub fn ctype(self) -> &'static str {
        match self {
            Kind::Metric => "x-metric",
            Kind::CodeSpan => "x-code",
            Kind::Footnote => "x-footnote",
            Kind::Html => "x-html",
            Kind::Autolink => "x-autolink",
            Kind::LineBreak => "lb",
            Kind::Markup => "x-markdown",
            Kind::Emphasis => "italic",
            Kind::Strong => "bold",
            Kind::Strike => "x-strikethrough",
            Kind::Link => "link",
            Kind::Image => "x-image",
            Kind::LinkTarget => "x-link-target",
            Kind::ImageSource => "x-image-source",
        }
    }

    /// The destination placeholder that follows a paired code of this kind.
    fn destination(self) -> Option<Kind> {
        match self {
            Kind::Link => Some(Kind::LinkTarget),
            Kind::Image => Some(Kind::ImageSource),
            _ => None,
        }
    }

    pub fn paired(self) -> bool {
        matches!(
            self,
            Kind::Emphasis | Kind::Strong | Kind::Strike | Kind::Link | Kind::Image
        )
    }
}

impl Code {
    /// The code as the other language writes it: a link to a chapter file
    /// points at the same chapter in that language.
    pub fn in_language(&self, from: Lang, to: Lang) -> Code {
        match self.kind {
            Kind::LinkTarget => Code {
                open: retarget_link(&self.open, from, to),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }
}

/// A block as a segment: its content and its codes by id (`1`, `2`, … in
/// reading order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
    pub content: Vec<Inline>,
    pub codes: BTreeMap<String, Code>,
}

impl Segment {
    /// The markdown the segment stands for.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.write(&self.content, &mut out);
        out
    }

    fn write(&self, content: &[Inline], out: &mut String) {
        for piece in content {
            match piece {
                Inline::Text(t) => out.push_str(t),
                Inline::Ph(id) => out.push_str(&self.codes[id].open),
                Inline::G(id, inner) => {
                    out.push_str(&self.codes[id].open);
                    self.write(inner, out);
                    out.push_str(&self.codes[id].close);
                }
            }
        }
    }

    /// The codes in the order they appear, each with its markdown.
    pub fn code_sequence(&self) -> Vec<(Kind, String, String)> {
        fn walk(seg: &Segment, content: &[Inline], out: &mut Vec<(Kind, String, String)>) {
            for piece in content {
                match piece {
                    Inline::Text(_) => {}
                    Inline::Ph(id) | Inline::G(id, _) => {
                        let c = &seg.codes[id];
                        out.push((c.kind, c.open.clone(), c.close.clone()));
                        if let Inline::G(_, inner) = piece {
                            walk(seg, inner, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &self.content, &mut out);
        out
    }

    /// Whether anything in it is text to translate.
    pub fn has_text(&self) -> bool {
        fn any(content: &[Inline]) -> bool {
            content.iter().any(|p| match p {
                Inline::Text(t) => !t.trim().is_empty(),
                Inline::Ph(_) => false,
                Inline::G(_, inner) => any(inner),
            })
        }
        any(&self.content)
    }
}

/// Byte offsets of the lines of a text, for comrak's 1-based line/column
/// positions (columns count bytes).
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
    len: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            text,
            starts,
            len: text.len(),
        }
    }

    fn start(&self, line: usize, column: usize) -> usize {
        let base = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.len);
        (base + column.saturating_sub(1)).min(self.len)
    }

    /// One past the last byte of a node ending at (line, column).
    fn end(&self, line: usize, column: usize) -> usize {
        let base = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.len);
        (base + column).min(self.len)
    }
}

fn range<'a>(node: &'a AstNode<'a>, lines: &Lines<'_>) -> (usize, usize) {
    let pos = node.data().sourcepos;
    let start = lines.start(pos.start.line, pos.start.column);
    let end = lines.end(pos.end.line, pos.end.column).max(start);
    // Some blocks (a list before a blank line) end on the line after their
    // text; nothing of a node's own ends in a line break.
    (start, trim_block_end(lines.text, start, end))
}

/// A block's byte range in its text, and the block as a segment.
pub type Cut = (std::ops::Range<usize>, Option<Segment>);

/// The top-level blocks of a chapter text (as [`markdown::top_blocks`]
/// numbers them) as segments, with each block's byte range in the text.
/// `None` for a block whose bytes do not add up to its segment (which
/// would lose what the author wrote, so it is not offered for translation).
pub fn blocks(text: &str) -> Vec<Cut> {
    let arena = Arena::new();
    let root = markdown::parse(&arena, text, &markdown::options_for(text));
    let lines = Lines::new(text);
    markdown::top_nodes(root)
        .into_iter()
        .map(|node| {
            let (start, end) = range(node, &lines);
            // Cutting recurses through the block: one nested deeper than
            // the editions keep (a hostile 50,000 quotes) is not cut, and
            // stays out of the document like any block that cannot be.
            if node
                .descendants()
                .any(|d| markdown::depth_at_most(d, markdown::MAX_NESTING) > markdown::MAX_NESTING)
            {
                return (start..end, None);
            }
            let mut cutter = Cutter {
                text,
                lines: &lines,
                codes: BTreeMap::new(),
                ok: true,
            };
            let content = cutter.block(node, start, end);
            let segment = Segment {
                content: merge(content),
                codes: cutter.codes,
            };
            let whole = cutter.ok && segment.markdown() == text[start..end];
            (start..end, whole.then_some(segment))
        })
        .collect()
}

fn trim_block_end(text: &str, start: usize, end: usize) -> usize {
    let mut end = end;
    while end > start && matches!(text.as_bytes()[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

struct Cutter<'t> {
    text: &'t str,
    lines: &'t Lines<'t>,
    codes: BTreeMap<String, Code>,
    ok: bool,
}

impl Cutter<'_> {
    fn code(&mut self, kind: Kind, open: &str, close: &str) -> String {
        let id = (self.codes.len() + 1).to_string();
        self.codes.insert(
            id.clone(),
            Code {
                kind,
                open: open.to_string(),
                close: close.to_string(),
            },
        );
        id
    }

    fn slice(&mut self, start: usize, end: usize) -> &str {
        if start > end || !self.text.is_char_boundary(start) || !self.text.is_char_boundary(end) {
            self.ok = false;
            return "";
        }
        &self.text[start..end]
    }

    /// Markdown between two pieces of content: a placeholder, or nothing.
    /// `line_break`: the gap holds a line break of the text (with the
    /// indentation or quote marks that continue the line).
    fn gap(&mut self, start: usize, end: usize, line_break: bool, out: &mut Vec<Inline>) {
        if start >= end {
            if start > end {
                self.ok = false;
            }
            return;
        }
        let bytes = self.slice(start, end).to_string();
        // A line that simply wraps is part of the text: the translator may
        // rewrap it.
        if line_break && bytes == "\n" {
            out.push(Inline::Text(bytes));
            return;
        }
        let kind = if line_break {
            Kind::LineBreak
        } else {
            Kind::Markup
        };
        // Markup that follows markup is one placeholder (`\n- ` between
        // two list items, not `\n` and `- `).
        if let Some(Inline::Ph(id)) = out.last()
            && let Some(code) = self.codes.get_mut(id)
            && code.kind == Kind::Markup
            && kind == Kind::Markup
        {
            code.open.push_str(&bytes);
            return;
        }
        let id = self.code(kind, &bytes, "");
        out.push(Inline::Ph(id));
    }

    /// A block-level node: its children, with the markdown between them.
    fn block<'a>(&mut self, node: &'a AstNode<'a>, start: usize, end: usize) -> Vec<Inline> {
        let mut out = Vec::new();
        match &node.data().value {
            // Code, HTML and rules are not prose: the whole block is kept.
            NodeValue::CodeBlock(_) | NodeValue::HtmlBlock(_) | NodeValue::ThematicBreak => {
                self.gap(start, end, false, &mut out);
                return out;
            }
            _ => {}
        }
        self.children(node, start, end, &mut out);
        out
    }

    fn children<'a>(
        &mut self,
        node: &'a AstNode<'a>,
        start: usize,
        end: usize,
        out: &mut Vec<Inline>,
    ) {
        let mut cursor = start;
        let mut line_break = false;
        for child in node.children() {
            if matches!(
                child.data().value,
                NodeValue::SoftBreak | NodeValue::LineBreak
            ) {
                // Their bytes are in the gap between their neighbours.
                line_break = true;
                continue;
            }
            let (s, e) = range(child, self.lines);
            if s < cursor || e > end {
                self.ok = false;
                return;
            }
            self.gap(cursor, s, line_break, out);
            line_break = false;
            self.node(child, s, e, out);
            cursor = e;
        }
        self.gap(cursor, end, line_break, out);
    }

    fn node<'a>(&mut self, node: &'a AstNode<'a>, start: usize, end: usize, out: &mut Vec<Inline>) {
        let value = &node.data().value;
        let leaf = |kind| Some(kind);
        let placeholder = match value {
            NodeValue::Text(_) => {
                let text = self.slice(start, end).to_string();
                self.text_with_metrics(&text, out);
                return;
            }
            NodeValue::Code(_) => leaf(Kind::CodeSpan),
            NodeValue::HtmlInline(_) | NodeValue::Raw(_) => leaf(Kind::Html),
            NodeValue::FootnoteReference(_) => leaf(Kind::Footnote),
            NodeValue::Math(_) => leaf(Kind::CodeSpan),
            NodeValue::Link(link) if is_autolink(node, &link.url) => leaf(Kind::Autolink),
            _ => None,
        };
        if let Some(kind) = placeholder {
            let bytes = self.slice(start, end).to_string();
            let id = self.code(kind, &bytes, "");
            out.push(Inline::Ph(id));
            return;
        }
        let paired = match value {
            NodeValue::Emph => Some(Kind::Emphasis),
            NodeValue::Strong => Some(Kind::Strong),
            NodeValue::Strikethrough => Some(Kind::Strike),
            NodeValue::Link(_) => Some(Kind::Link),
            NodeValue::Image(_) => Some(Kind::Image),
            _ => None,
        };
        match paired {
            Some(kind) => {
                let first = node.first_child().map(|c| range(c, self.lines).0);
                let last = node.last_child().map(|c| range(c, self.lines).1);
                let (inner_start, inner_end) = match (first, last) {
                    (Some(f), Some(l)) if start <= f && f <= l && l <= end => (f, l),
                    // Empty link text or emphasis: all of it is markup.
                    _ => {
                        self.gap(start, end, false, out);
                        return;
                    }
                };
                let open = self.slice(start, inner_start).to_string();
                let mut close = self.slice(inner_end, end).to_string();
                // A destination is not part of the text's code, where a CAT
                // tool would hide it: it is a placeholder of its own, after
                // the `]` that closes the text.
                let destination = match kind.destination() {
                    Some(d) if close.len() > 1 && close.starts_with(']') => {
                        Some((d, close.split_off(1)))
                    }
                    _ => None,
                };
                let id = self.code(kind, &open, &close);
                let mut inner = Vec::new();
                self.children(node, inner_start, inner_end, &mut inner);
                out.push(Inline::G(id, merge(inner)));
                if let Some((d, markup)) = destination {
                    let id = self.code(d, &markup, "");
                    out.push(Inline::Ph(id));
                }
            }
            // Paragraphs, list items, table cells, quotes: their children.
            None => self.children(node, start, end, out),
        }
    }

    /// Text, with `{{metric …}}` references as placeholders.
    fn text_with_metrics(&mut self, text: &str, out: &mut Vec<Inline>) {
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let Some(len) = rest[open..].find("}}") else {
                break;
            };
            if open > 0 {
                out.push(Inline::Text(rest[..open].to_string()));
            }
            let id = self.code(Kind::Metric, &rest[open..open + len + 2], "");
            out.push(Inline::Ph(id));
            rest = &rest[open + len + 2..];
        }
        if !rest.is_empty() {
            out.push(Inline::Text(rest.to_string()));
        }
    }
}

/// A link whose text is its own address (`<https://…>` or a bare URL):
/// nothing to translate.
fn is_autolink<'a>(node: &'a AstNode<'a>, url: &str) -> bool {
    let text = markdown::plain_text(node);
    !text.is_empty() && (text == url || url.strip_prefix("mailto:") == Some(text.as_str()))
}

/// Adjacent text pieces as one.
fn merge(content: Vec<Inline>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::with_capacity(content.len());
    for piece in content {
        match (out.last_mut(), piece) {
            (Some(Inline::Text(a)), Inline::Text(b)) => a.push_str(&b),
            (_, piece) => out.push(piece),
        }
    }
    out
}

/// A link's destination (`(../03-x/en.md#a "title")`) to a chapter file in
/// one language, pointed at the same chapter in the other:
/// `../03-x/en.md#a` → `../03-x/ja.md#a`, `en.md` → `ja.md`.
pub fn retarget_link(destination: &str, from: Lang, to: Lang) -> String {
    let (old, new) = (format!("{from}.md"), format!("{to}.md"));
    // Only the address, which opens the destination, is rewritten.
    let Some(dest) = destination.strip_prefix('(') else {
        return destination.to_string();
    };
    // A web address (`https://…/en.md`) names someone else's file.
    let address = dest.trim_start().trim_start_matches('<');
    let scheme = address
        .split(['/', '#', '?', ')', ' ', '>'])
        .next()
        .is_some_and(|first| first.contains(':'));
    if scheme || address.starts_with("//") {
        return destination.to_string();
    }
    let mut out = String::from("(");
    let mut rest = dest;
    if let Some(i) = rest.find(&old) {
        let before = &rest[..i];
        let boundary = before.ends_with('/') || before.is_empty() || before == "<";
        let after = &rest[i + old.len()..];
        let ends = after.starts_with([')', '#', ' ', '>']);
        if boundary && ends {
            out.push_str(before);
            out.push_str(&new);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Segment {
        let mut b = blocks(text);
        assert_eq!(b.len(), 1, "{text:?}");
        b.remove(0)
            .1
            .unwrap_or_else(|| panic!("not lossless: {text:?}"))
    }

    fn show(seg: &Segment) -> String {
        fn walk(seg: &Segment, content: &[Inline], out: &mut String) {
            for p in content {
                match p {
                    Inline::Text(t) => out.push_str(t),
                    Inline::Ph(id) => out.push_str(&format!("<{}:{}>", id, seg.codes[id].open)),
                    Inline::G(id, inner) => {
                        out.push_str(&format!("<g{id}>"));
                        walk(seg, inner, out);
                        out.push_str(&format!("</g{id}>"));
                    }
                }
            }
        }
        let mut out = String::new();
        walk(seg, &seg.content, &mut out);
        out
    }

    #[test]
    fn inline_markdown_becomes_codes_and_the_text_stays_as_written() {
        let md = "Singpass has {{metric sg.identity.users}} users, **the most** of _any_ [app](../02-x/en.md \"t\") with `code` and <br> a note.[^1] It's \"quoted\".\n\n[^1]: The note.\n";
        let seg = one(md);
        assert_eq!(
            show(&seg),
            "Singpass has <1:{{metric sg.identity.users}}> users, <g2>the most</g2> of <g3>any</g3> <g4>app</g4><5:(../02-x/en.md \"t\")> with <6:`code`> and <7:<br>> a note.<8:[^1]> It's \"quoted\"."
        );
        assert_eq!(seg.codes["4"].close, "]");
        assert_eq!(seg.codes["5"].kind, Kind::LinkTarget);
        assert_eq!(seg.markdown(), md.split("\n\n").next().unwrap());
    }

    #[test]
    fn block_markup_is_protected_and_every_block_is_lossless() {
        let md = "+++\ntitle = \"T\"\n+++\n\n## A *heading*\n\n- one\n- two\n  continued\n\n| a | b |\n|---|:-:|\n| **x** | y |\n\n> quoted\n> text\n\n```rust\nfn main() {}\n```\n\n1. first\n   - nested <https://example.org>\n\nline  \nbreak\\\nthere\n";
        let all = blocks(md);
        assert_eq!(all.len(), 7);
        for (range, seg) in &all {
            let seg = seg
                .as_ref()
                .unwrap_or_else(|| panic!("{:?}", &md[range.clone()]));
            assert_eq!(seg.markdown(), md[range.clone()]);
        }
        let heading = all[0].1.as_ref().unwrap();
        assert_eq!(show(heading), "<1:## >A <g2>heading</g2>");
        let list = all[1].1.as_ref().unwrap();
        assert_eq!(show(list), "<1:- >one<2:\n- >two<3:\n  >continued");
        let code = all[4].1.as_ref().unwrap();
        assert!(!code.has_text());
        let nested = all[5].1.as_ref().unwrap();
        assert_eq!(
            show(nested),
            "<1:1. >first<2:\n   - >nested <3:<https://example.org>>"
        );
        let breaks = all[6].1.as_ref().unwrap();
        assert_eq!(show(breaks), "line<1:  \n>break<2:\\\n>there");
    }

    #[test]
    fn destinations_of_links_and_images_are_placeholders_after_their_text() {
        let seg = one(
            "![A *chart*](chart.svg \"t\") and [text][ref], [shortcut].\n\n[ref]: https://x.org\n[shortcut]: https://y.org\n",
        );
        assert_eq!(
            show(&seg),
            "<g1>A <g2>chart</g2></g1><3:(chart.svg \"t\")> and <g4>text</g4><5:[ref]>, <g6>shortcut</g6>."
        );
        assert_eq!(seg.codes["3"].kind, Kind::ImageSource);
        assert_eq!(seg.codes["5"].kind, Kind::LinkTarget);
        assert_eq!(
            seg.codes["6"].close, "]",
            "a shortcut link has no destination to protect"
        );
    }

    #[test]
    fn japanese_text_is_cut_on_character_boundaries() {
        let seg = one("シンガポールでは**{{metric sg.a}}**が利用している。\n");
        assert_eq!(
            show(&seg),
            "シンガポールでは<g1><2:{{metric sg.a}}></g1>が利用している。"
        );
    }

    #[test]
    fn chapter_links_point_at_the_other_language() {
        assert_eq!(
            retarget_link("(../03-ai/en.md#governance)", Lang::En, Lang::Ja),
            "(../03-ai/ja.md#governance)"
        );
        assert_eq!(retarget_link("(ja.md)", Lang::Ja, Lang::En), "(en.md)");
        assert_eq!(
            retarget_link("(<ja.md> \"t\")", Lang::Ja, Lang::En),
            "(<en.md> \"t\")"
        );
        assert_eq!(
            retarget_link("(https://x.org/golden.md)", Lang::En, Lang::Ja),
            "(https://x.org/golden.md)"
        );
        assert_eq!(retarget_link("[en.md]", Lang::En, Lang::Ja), "[en.md]");
        for web in [
            "(https://github.com/x/y/blob/main/docs/en.md)",
            "(<https://x.org/en.md>)",
            "(//x.org/en.md)",
        ] {
            assert_eq!(retarget_link(web, Lang::En, Lang::Ja), web);
        }
    }
}
