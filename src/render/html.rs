//! The HTML writer: a chapter's markdown as HTML, for the web editions.
//!
//! It walks the same comrak tree as the Typst writer and asks the same
//! [`Resolve`] what metric references, links and images mean, and takes the
//! chapter's title and heading levels from the Typst conversion
//! ([`Converted`]), so the two kinds of edition cannot drift apart. Author
//! text only ever reaches the output through [`escape_into`]: no markdown
//! text becomes markup or script. Raw HTML follows the PDF's policy: the tags
//! the Typst writer renders are written as a harmless equivalent element
//! without the author's attributes, any other tag keeps only its text.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use base64::Engine as _;
use comrak::nodes::{ListType, NodeValue, TableAlignment};
use comrak::{Anchorizer, Arena};

use crate::diag::{Diagnostic, Location};
use crate::load::project::{Chapter, ChapterText, Project};
use crate::markdown::{
    Anchors, Converted, HtmlPiece, LinkTarget, MAX_NESTING, Node, Piece, Resolve, Tag, edge_char,
    html_inline_open, html_pieces, label, location_of, options, plain_text, shortcodes, top_nodes,
    undo_smart_punctuation,
};
use crate::model::lang::{Lang, joins_tight, script_runs};

/// One chapter text as HTML, cut into sections like its Typst module.
#[derive(Debug, Clone)]
pub struct HtmlChapter {
    pub slug: String,
    pub lang: Lang,
    /// The `id` of the chapter heading (the same label the PDF links to).
    pub id: String,
    /// The chapter title as inline HTML.
    pub title: String,
    /// The chapter's sections, as its Typst module cuts them: the text
    /// before the first heading first, then one per heading. Their indexes
    /// are the ones the bilingual pairing ([`crate::markdown::pairing::Row`]) uses.
    pub sections: Vec<HtmlSection>,
    /// The chapter's notes (an `<ol>`), empty when it has none.
    pub footnotes: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// One section of a chapter text. The heading's element is the template's
/// to write, because its level depends on the edition: the chapter's own
/// level in a one-language edition, the pairing's row level in the
/// bilingual one (as the PDF's `sections-with`).
#[derive(Debug, Clone, Default)]
pub struct HtmlSection {
    /// The heading's level in the chapter's own edition (the PDF's: 2 for
    /// a chapter's top sections); 0 for the text before the first heading.
    pub level: u8,
    /// The heading's `id` (the PDF's label for it, so links work in both).
    pub id: String,
    /// The heading's content as inline HTML (empty before the first heading).
    pub heading: String,
    /// What stands before the heading: the "translation pending" mark.
    pub mark: String,
    /// The section's blocks.
    pub body: String,
}

/// Escapes text for HTML element content and attribute values, with the
/// same rule minijinja's HTML auto-escaping applies to template values.
pub fn escape_into(out: &mut String, text: &str) {
    let _ = write!(out, "{}", minijinja::HtmlEscape(text));
}

/// Text in `home`'s language with runs in the other script wrapped in
/// `<span lang>`: Japanese inside English text, Latin words inside Japanese.
pub fn tagged_into(out: &mut String, text: &str, home: Lang) {
    for (piece, foreign) in script_runs(text, home) {
        if foreign {
            out.push_str("<span lang=\"");
            out.push_str(home.other().code());
            out.push_str("\">");
            escape_into(out, piece);
            out.push_str("</span>");
        } else {
            escape_into(out, piece);
        }
    }
}

/// The element an allowed raw HTML tag is written as: phrasing content
/// only (it may stand inside a paragraph), nothing obsolete, no attributes.
/// Which tags are allowed at all is the Typst writer's decision
/// ([`html_inline_open`]); this only names their HTML form.
fn element(name: &str) -> &'static str {
    match name {
        "b" | "strong" | "summary" => "strong",
        "i" | "em" => "em",
        "cite" => "cite",
        "dfn" => "dfn",
        "var" => "var",
        "sub" => "sub",
        "sup" => "sup",
        "kbd" => "kbd",
        "u" => "u",
        "ins" => "ins",
        "s" | "strike" => "s",
        "del" => "del",
        "mark" => "mark",
        "code" | "tt" => "code",
        "samp" => "samp",
        "small" => "small",
        "ruby" => "ruby",
        "rt" => "rt",
        "rp" => "rp",
        _ => "span",
    }
}

/// Words the HTML writer adds, in the chapter's language.
fn words(lang: Lang, en: &'static str, ja: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// Converts one chapter text to HTML; `converted` is its Typst conversion,
/// whose title and heading levels it follows; `stale` are the top-level
/// blocks whose translation is pending (marked in draft builds).
pub fn convert(
    project: &Project,
    anchors: &Anchors,
    chapter: &Chapter,
    text: &ChapterText,
    converted: &Converted,
    stale: Option<&HashSet<usize>>,
) -> HtmlChapter {
    let arena = Arena::new();
    let root = crate::markdown::parse(&arena, &text.text, &options());
    let mut w = HtmlWriter {
        out: String::with_capacity(text.text.len() * 2),
        diagnostics: Vec::new(),
        resolve: Resolve {
            root: &project.root,
            skipped: &project.skipped,
            metrics: &project.metrics,
            anchors,
            chapter,
            lang: text.lang,
            draft: project.manifest.layout.draft,
        },
        text,
        footnotes: HashMap::new(),
        notes: Vec::new(),
        images: HashMap::new(),
        warned_tags: HashSet::new(),
        code_depth: 0,
        link_depth: 0,
        warned_depth: false,
    };
    for node in root.children() {
        if let NodeValue::FootnoteDefinition(def) = &node.data().value {
            w.footnotes.insert(def.name.clone(), node);
        }
    }
    let (title, sections) = w.chapter(root, converted, stale);
    let footnotes = w.notes_html();
    HtmlChapter {
        slug: chapter.slug.clone(),
        lang: text.lang,
        id: label(&chapter.slug, text.lang, None),
        title,
        sections,
        footnotes,
        diagnostics: w.diagnostics,
    }
}

struct HtmlWriter<'a, 'n> {
    out: String,
    diagnostics: Vec<Diagnostic>,
    resolve: Resolve<'a>,
    text: &'a ChapterText,
    footnotes: HashMap<String, Node<'n>>,
    /// Notes in the order of their first reference: name and references so far.
    notes: Vec<(String, usize)>,
    /// Images already read, by their project path: a data URL.
    images: HashMap<String, Option<String>>,
    /// Raw HTML tags without a rendering, warned about once each.
    warned_tags: HashSet<String>,
    code_depth: usize,
    /// Open links: a link never holds another.
    link_depth: usize,
    warned_depth: bool,
}

impl<'a, 'n> HtmlWriter<'a, 'n> {
    fn lang(&self) -> Lang {
        self.text.lang
    }

    fn here(&self, node: Node<'n>) -> Location {
        let pos = node.data().sourcepos;
        location_of(
            &self.text.path,
            &self.text.text,
            pos.start.line,
            pos.start.column,
            0,
        )
    }

    fn push(&mut self, node: Node<'n>, d: Diagnostic) {
        let at = self.here(node);
        self.diagnostics.push(d.at(at));
    }

    /// Author text: escaped, other-language runs tagged.
    fn plain(&mut self, text: &str) {
        if self.code_depth > 0 {
            let text = undo_smart_punctuation(text);
            tagged_into(&mut self.out, &text, self.text.lang);
        } else {
            tagged_into(&mut self.out, text, self.text.lang);
        }
    }

    /// The chapter title (inline HTML) and its sections.
    fn chapter(
        &mut self,
        root: Node<'n>,
        converted: &Converted,
        stale: Option<&HashSet<usize>>,
    ) -> (String, Vec<HtmlSection>) {
        let top = top_nodes(root);
        let title_node = crate::markdown::title_node(self.text, &top);
        let title = match (&self.text.front.title, title_node) {
            (Some(title), _) => {
                self.plain(title);
                std::mem::take(&mut self.out)
            }
            (None, Some(node)) => {
                self.inlines(node);
                std::mem::take(&mut self.out)
            }
            // As in the PDF: the first heading (which stays in the body),
            // else the folder's slug.
            (None, None) => match top
                .iter()
                .find(|n| crate::markdown::section_level(n).is_some())
            {
                Some(node) => {
                    self.inlines(node);
                    std::mem::take(&mut self.out)
                }
                None => {
                    let mut out = String::new();
                    tagged_into(&mut out, &converted.title, self.lang());
                    out
                }
            },
        };
        // The Typst writer decided each heading's level; the sections here
        // are its sections, one for one.
        let mut levels = converted.sections.iter().map(|s| s.level);
        let mut anchorizer = Anchorizer::new();
        let mut sections = vec![HtmlSection::default()];
        for (index, node) in top.into_iter().enumerate() {
            let heading = crate::markdown::section_level(node).is_some();
            if !heading && matches!(node.data().value, NodeValue::Heading(_)) {
                // Empty: left out, as in the PDF (which warned).
                continue;
            }
            let anchor = heading.then(|| anchorizer.anchorize(&plain_text(node)));
            if title_node.is_some_and(|t| std::ptr::eq(t, node)) {
                continue;
            }
            if let Some(anchor) = anchor {
                if let Some(last) = sections.last_mut() {
                    last.body = std::mem::take(&mut self.out);
                }
                self.stale_mark(stale, index);
                let mark = std::mem::take(&mut self.out);
                self.inlines(node);
                sections.push(HtmlSection {
                    level: levels.next().unwrap_or(2),
                    id: label(&self.resolve.chapter.slug, self.lang(), Some(&anchor)),
                    heading: std::mem::take(&mut self.out),
                    mark,
                    body: String::new(),
                });
                continue;
            }
            self.stale_mark(stale, index);
            self.block(node);
        }
        if let Some(last) = sections.last_mut() {
            last.body = std::mem::take(&mut self.out);
        }
        (title, sections)
    }

    /// A note before a top-level block whose translation is pending.
    fn stale_mark(&mut self, stale: Option<&HashSet<usize>>, index: usize) {
        if stale.is_some_and(|s| s.contains(&index)) {
            self.out.push_str("<p class=\"stale\">");
            self.out
                .push_str(words(self.lang(), "Translation pending", "翻訳待ち"));
            self.out.push_str("</p>\n");
        }
    }

    fn blocks(&mut self, parent: Node<'n>) {
        for node in parent.children() {
            self.block(node);
        }
    }

    fn block(&mut self, node: Node<'n>) {
        let value = node.data().value.clone();
        match value {
            NodeValue::Paragraph => {
                let only_image = node.first_child().is_some_and(|c| {
                    matches!(c.data().value, NodeValue::Image(_)) && c.next_sibling().is_none()
                });
                if let (true, Some(child)) = (only_image, node.first_child()) {
                    self.image_node(child, true);
                } else {
                    self.out.push_str("<p>");
                    self.inlines(node);
                    self.out.push_str("</p>\n");
                }
            }
            NodeValue::Heading(_) => {
                // A heading inside a quote or list item: bold text, as in the PDF.
                self.out.push_str("<p><strong>");
                self.inlines(node);
                self.out.push_str("</strong></p>\n");
            }
            NodeValue::BlockQuote
            | NodeValue::MultilineBlockQuote(_)
            | NodeValue::Alert(_)
            | NodeValue::List(_)
            | NodeValue::Table(_)
                if self.too_deep(node) =>
            {
                self.flat(node, true);
            }
            NodeValue::BlockQuote | NodeValue::MultilineBlockQuote(_) => {
                self.out.push_str("<blockquote>\n");
                self.blocks(node);
                self.out.push_str("</blockquote>\n");
            }
            NodeValue::Alert(alert) => {
                let kind = format!("{:?}", alert.alert_type).to_lowercase();
                let _ = write!(
                    self.out,
                    "<div class=\"alert alert-{kind}\">\n<p class=\"alert-title\">"
                );
                match &alert.title {
                    Some(title) => self.plain(title),
                    None => {
                        let lang = self.lang();
                        self.out.push_str(match kind.as_str() {
                            "tip" => words(lang, "Tip", "ヒント"),
                            "important" => words(lang, "Important", "重要"),
                            "warning" => words(lang, "Warning", "警告"),
                            "caution" => words(lang, "Caution", "注意"),
                            _ => words(lang, "Note", "注記"),
                        });
                    }
                }
                self.out.push_str("</p>\n");
                self.blocks(node);
                self.out.push_str("</div>\n");
            }
            NodeValue::List(list) => {
                let tag = match list.list_type {
                    ListType::Bullet => "ul",
                    ListType::Ordered => "ol",
                };
                let _ = write!(self.out, "<{tag}");
                if list.list_type == ListType::Ordered && list.start != 1 {
                    let _ = write!(self.out, " start=\"{}\"", list.start);
                }
                self.out.push_str(">\n");
                for item in node.children() {
                    self.out.push_str("<li>");
                    if let NodeValue::TaskItem(task) = &item.data().value {
                        let done = task.symbol.is_some();
                        let lang = self.lang();
                        let _ = write!(
                            self.out,
                            "<span class=\"task\" aria-hidden=\"true\">{}</span><span class=\"vh\">{}</span> ",
                            if done { "☑" } else { "☐" },
                            if done {
                                words(lang, "Done:", "完了：")
                            } else {
                                words(lang, "To do:", "未完了：")
                            }
                        );
                    }
                    // Tight lists: the items' paragraphs without <p>.
                    if list.tight {
                        for (i, child) in item.children().enumerate() {
                            if i > 0 {
                                self.out.push('\n');
                            }
                            if matches!(child.data().value, NodeValue::Paragraph) {
                                self.inlines(child);
                            } else {
                                self.block(child);
                            }
                        }
                    } else {
                        self.out.push('\n');
                        self.blocks(item);
                    }
                    self.out.push_str("</li>\n");
                }
                let _ = writeln!(self.out, "</{tag}>");
            }
            NodeValue::Item(_) | NodeValue::TaskItem(_) => self.blocks(node),
            NodeValue::CodeBlock(code) => {
                let lang = code
                    .info
                    .split(|c: char| c == ',' || c == '{' || c.is_whitespace())
                    .next()
                    .unwrap_or("");
                self.out.push_str("<pre><code");
                if !lang.is_empty() {
                    self.out.push_str(" class=\"language-");
                    escape_into(&mut self.out, lang);
                    self.out.push('"');
                }
                self.out.push('>');
                let literal = code.literal.strip_suffix('\n').unwrap_or(&code.literal);
                escape_into(&mut self.out, literal);
                self.out.push_str("</code></pre>\n");
            }
            NodeValue::HtmlBlock(html) => {
                let start = self.out.len();
                self.out.push_str("<div class=\"html\">");
                let inner = self.out.len();
                self.html(node, &html.literal);
                if self.out.len() == inner {
                    // Only comments: nothing a reader sees.
                    self.out.truncate(start);
                } else {
                    self.out.push_str("</div>\n");
                }
            }
            NodeValue::ThematicBreak => self.out.push_str("<hr>\n"),
            NodeValue::Table(table) => self.table(node, &table.alignments),
            NodeValue::FootnoteDefinition(_) | NodeValue::FrontMatter(_) => {}
            NodeValue::Math(math) => {
                self.out.push_str("<p>");
                self.plain(&math.literal);
                self.out.push_str("</p>\n");
            }
            _ if self.too_deep(node) => self.flat(node, true),
            _ => {
                if node.first_child().is_some_and(|c| c.data().value.block()) {
                    self.blocks(node);
                } else {
                    self.out.push_str("<p>");
                    self.inlines(node);
                    self.out.push_str("</p>\n");
                }
            }
        }
    }

    fn table(&mut self, node: Node<'n>, alignments: &[TableAlignment]) {
        // A table wider than a phone's screen scrolls inside its own box,
        // which the keyboard can reach, instead of widening the page.
        let _ = writeln!(
            self.out,
            "<div class=\"wide\" role=\"region\" tabindex=\"0\" aria-label=\"{}\">\n<table>",
            words(self.lang(), "Table", "表")
        );
        let mut body_open = false;
        for row in node.children() {
            let header = matches!(row.data().value, NodeValue::TableRow(true));
            if header {
                self.out.push_str("<thead>\n");
            } else if !body_open {
                self.out.push_str("<tbody>\n");
                body_open = true;
            }
            self.out.push_str("<tr>");
            for (i, cell) in row.children().enumerate() {
                let align = match alignments.get(i) {
                    Some(TableAlignment::Center) => " class=\"c\"",
                    Some(TableAlignment::Right) => " class=\"r\"",
                    _ => "",
                };
                if header {
                    let _ = write!(self.out, "<th scope=\"col\"{align}>");
                } else {
                    let _ = write!(self.out, "<td{align}>");
                }
                self.inlines(cell);
                self.out.push_str(if header { "</th>" } else { "</td>" });
            }
            self.out.push_str("</tr>\n");
            if header {
                self.out.push_str("</thead>\n");
            }
        }
        if body_open {
            self.out.push_str("</tbody>\n");
        }
        self.out.push_str("</table>\n</div>\n");
    }

    fn inlines(&mut self, parent: Node<'n>) {
        let mut open: Vec<(String, &'static str)> = Vec::new();
        let children: Vec<Node<'n>> = parent.children().collect();
        let mut i = 0;
        while i < children.len() {
            let node = children[i];
            if matches!(node.data().value, NodeValue::Text(_)) {
                let mut run = String::new();
                let start = i;
                while let Some(NodeValue::Text(t)) = children.get(i).map(|n| n.data().value.clone())
                {
                    run.push_str(&t);
                    i += 1;
                }
                self.text_run(children[start], &run);
                continue;
            }
            let value = node.data().value.clone();
            match value {
                NodeValue::SoftBreak => {
                    let before = i.checked_sub(1).and_then(|j| edge_char(children[j], false));
                    let after = children.get(i + 1).and_then(|n| edge_char(n, true));
                    // Japanese lines join without a space.
                    if !joins_tight(before, after) {
                        self.out.push('\n');
                    }
                }
                NodeValue::LineBreak => self.out.push_str("<br>\n"),
                NodeValue::Code(code) => {
                    self.out.push_str("<code>");
                    escape_into(&mut self.out, &code.literal);
                    self.out.push_str("</code>");
                }
                NodeValue::Emph => self.wrap(node, "em"),
                NodeValue::Strong => self.wrap(node, "strong"),
                NodeValue::Strikethrough => self.wrap(node, "s"),
                NodeValue::Superscript => self.wrap(node, "sup"),
                NodeValue::Subscript => self.wrap(node, "sub"),
                NodeValue::Underline | NodeValue::Insert => self.wrap(node, "u"),
                NodeValue::Highlight => self.wrap(node, "mark"),
                NodeValue::Link(link) => self.link(node, &link.url),
                NodeValue::Image(_) => self.image_node(node, false),
                NodeValue::FootnoteReference(r) => self.footnote(node, &r.name),
                NodeValue::HtmlInline(html) => self.html_inline(node, &html, &mut open),
                NodeValue::Math(math) => self.plain(&math.literal),
                _ if self.too_deep(node) => self.flat(node, false),
                _ => self.inlines(node),
            }
            i += 1;
        }
        self.close(&mut open, 0);
    }

    /// Whether `node` is nested so deeply that its structure is dropped
    /// (its text is kept), as the PDF editions do: a writer that followed
    /// 50,000 nested quotes would overflow the stack.
    fn too_deep(&mut self, node: Node<'n>) -> bool {
        if crate::markdown::depth_at_most(node, MAX_NESTING) <= MAX_NESTING {
            return false;
        }
        if !self.warned_depth {
            self.warned_depth = true;
            self.push(node, Diagnostic::warning("nesting", format!("markdown nested more than {MAX_NESTING} levels deep is set flat from here; its text is kept")));
        }
        true
    }

    /// The text of `node` without its structure, written without recursion:
    /// a paragraph (`block`) or a run of text.
    fn flat(&mut self, node: Node<'n>, block: bool) {
        use comrak::arena_tree::NodeEdge;
        if block {
            self.out.push_str("<p>");
        }
        let mut wrote_block = false;
        for edge in node.traverse() {
            let NodeEdge::Start(n) = edge else {
                continue;
            };
            let value = n.data().value.clone();
            if matches!(
                value,
                NodeValue::Paragraph
                    | NodeValue::Heading(_)
                    | NodeValue::CodeBlock(_)
                    | NodeValue::TableCell
            ) {
                if wrote_block {
                    self.out.push(' ');
                }
                wrote_block = true;
            }
            match value {
                NodeValue::Text(t) => self.text_run(n, &t),
                NodeValue::Code(code) => {
                    self.out.push_str("<code>");
                    escape_into(&mut self.out, &code.literal);
                    self.out.push_str("</code>");
                }
                NodeValue::CodeBlock(code) => {
                    self.out.push_str("<code>");
                    escape_into(&mut self.out, code.literal.trim_end());
                    self.out.push_str("</code>");
                }
                NodeValue::SoftBreak | NodeValue::LineBreak => self.out.push(' '),
                NodeValue::Math(math) => self.plain(&math.literal),
                NodeValue::FootnoteReference(r) => self.footnote(n, &r.name),
                _ => {}
            }
        }
        if block {
            self.out.push_str("</p>\n");
        }
    }

    fn wrap(&mut self, node: Node<'n>, tag: &str) {
        if self.too_deep(node) {
            return self.flat(node, false);
        }
        let _ = write!(self.out, "<{tag}>");
        self.inlines(node);
        let _ = write!(self.out, "</{tag}>");
    }

    /// Text with `{{metric id}}` references as machine-readable values.
    fn text_run(&mut self, node: Node<'n>, text: &str) {
        for piece in shortcodes(text) {
            match piece {
                Piece::Text(t) => self.plain(t),
                Piece::Metric {
                    key,
                    field,
                    extra,
                    typo,
                    offset,
                    len,
                } => match self.resolve.metric(key, field, extra, typo) {
                    Ok(m) => {
                        let metric = m.metric;
                        if field.is_some_and(|f| f.eq_ignore_ascii_case("date")) {
                            let _ = write!(self.out, "<time datetime=\"{}\">", metric.as_of);
                            self.plain(&m.text);
                            self.out.push_str("</time>");
                        } else {
                            let _ = write!(self.out, "<data value=\"{}\">", metric.exact.number());
                            self.plain(&m.text);
                            self.out.push_str("</data>");
                        }
                    }
                    Err(e) => {
                        let (d, shown) = *e;
                        let pos = node.data().sourcepos.start;
                        let at = location_of(
                            &self.text.path,
                            &self.text.text,
                            pos.line,
                            pos.column,
                            offset,
                        )
                        .with_len(len);
                        self.diagnostics.extend(d.map(|d| d.at(at)));
                        self.plain(&shown);
                    }
                },
            }
        }
    }

    fn link(&mut self, node: Node<'n>, url: &str) {
        if self.too_deep(node) {
            return self.flat(node, false);
        }
        let target = self.resolve_link(node, url);
        if self.link_depth > 0 {
            return self.inlines(node);
        }
        let Some(href) = href(target) else {
            return self.inlines(node);
        };
        self.out.push_str("<a href=\"");
        escape_into(&mut self.out, &href);
        self.out.push_str("\">");
        self.link_depth += 1;
        self.inlines(node);
        self.link_depth -= 1;
        self.out.push_str("</a>");
    }

    fn resolve_link(&mut self, node: Node<'n>, url: &str) -> LinkTarget {
        // A scheme other than http, https or mailto is refused (and warned
        // about) by the resolving both writers share.
        let (target, warning) = self.resolve.link(url);
        if let Some(d) = warning {
            self.push(node, d);
        }
        target
    }

    fn image_node(&mut self, node: Node<'n>, block: bool) {
        let NodeValue::Image(link) = node.data().value.clone() else {
            return;
        };
        let alt = plain_text(node);
        self.image(node, &link.url, &alt, &link.title, block);
    }

    fn image(&mut self, node: Node<'n>, url: &str, alt: &str, title: &str, block: bool) {
        let lang = self.lang();
        if crate::markdown::has_scheme(url) || url.starts_with("//") {
            // Never fetched: the placeholder the PDF shows, naming it.
            self.push(
                node,
                Diagnostic::warning(
                    "image-remote",
                    format!("remote image `{url}` is not fetched; a placeholder names it"),
                )
                .hint("save the image beside the chapter and reference it relatively"),
            );
            let label = words(
                lang,
                "Remote image, not included: ",
                "外部画像（取得していません）：",
            );
            self.placeholder("remote-image", label, url, alt, block);
            return;
        }
        let path = match self.resolve.image_path(url) {
            Ok(path) => path,
            Err(d) => {
                let placeholder = d.code == "image-missing" && !d.is_error();
                self.push(node, d);
                if placeholder {
                    // A draft: where the image goes and what it will show,
                    // as the PDF shows it.
                    let label = words(lang, "Image missing: ", "画像未配置：");
                    self.placeholder("missing-image", label, url, alt, block);
                } else {
                    // Keep the author's words visible even though the image is not.
                    self.plain(alt);
                }
                return;
            }
        };
        let hint = "describe the image for readers who cannot see it: ![what it shows](file.svg)";
        let mut alt = alt;
        let mut missing_alt = None;
        if alt.trim().is_empty() {
            if self.resolve.draft {
                // Marked as the PDF marks it; the PDF's warning is the one.
                let mark = crate::model::lang::alt_missing(self.resolve.lang);
                missing_alt = Some(mark);
                alt = mark;
            } else {
                self.push(
                    node,
                    Diagnostic::error("image-alt", format!("image `{url}` has no alt text"))
                        .hint(hint),
                );
            }
        }
        let Some(src) = self.data_url(node, &path) else {
            self.plain(alt);
            return;
        };
        if block {
            self.out.push_str("<figure>\n");
        }
        self.out.push_str("<img src=\"");
        self.out.push_str(&src);
        self.out.push_str("\" alt=\"");
        escape_into(&mut self.out, alt);
        self.out.push('"');
        if !block {
            self.out.push_str(" class=\"inline\"");
        }
        self.out.push('>');
        if let (false, Some(mark)) = (block, missing_alt) {
            self.out.push_str(" <span class=\"missing-alt\">");
            self.plain(mark);
            self.out.push_str("</span>");
        }
        if block {
            if !title.is_empty() || missing_alt.is_some() {
                self.out.push_str("\n<figcaption>");
                if let Some(mark) = missing_alt {
                    self.out.push_str("<span class=\"missing-alt\">");
                    self.plain(mark);
                    self.out.push_str("</span> ");
                }
                self.plain(title);
                self.out.push_str("</figcaption>");
            }
            self.out.push_str("\n</figure>\n");
        }
    }

    /// What stands where an image is not shown: `label`, the image's `url`
    /// as code and its alt text, as a paragraph or, inline, a span.
    fn placeholder(&mut self, class: &str, label: &str, url: &str, alt: &str, block: bool) {
        let tag = if block { "p" } else { "span" };
        let _ = write!(self.out, "<{tag} class=\"{class}\">{label}<code>");
        escape_into(&mut self.out, url);
        self.out.push_str("</code>");
        if !alt.is_empty() {
            self.out.push_str(" — ");
            self.plain(alt);
        }
        let _ = write!(self.out, "</{tag}>");
        if block {
            self.out.push('\n');
        }
    }

    /// The image at project path `path` as a `data:` URL, so that the page
    /// is one self-contained file.
    fn data_url(&mut self, node: Node<'n>, path: &str) -> Option<String> {
        if let Some(found) = self.images.get(path) {
            return found.clone();
        }
        let rel = path.trim_start_matches('/');
        let mime = match rel
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            _ => "image/webp",
        };
        // Read as every project file is: confined to the project.
        let found = match crate::load::confine::Root::new(self.resolve.root).read(rel) {
            Ok(bytes) => Some(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
            Err(err) => {
                let d = err.diagnostic(rel);
                self.push(
                    node,
                    Diagnostic {
                        location: None,
                        ..d
                    },
                );
                None
            }
        };
        self.images.insert(path.to_string(), found.clone());
        found
    }

    /// A footnote reference: a link to the note, which links back.
    fn footnote(&mut self, node: Node<'n>, name: &str) {
        if !self.footnotes.contains_key(name) {
            self.push(
                node,
                Diagnostic::warning(
                    "footnote-missing",
                    format!("footnote `[^{name}]` has no definition"),
                ),
            );
            self.plain(&format!("[^{name}]"));
            return;
        }
        let number = match self.notes.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.notes.push((name.to_string(), 0));
                self.notes.len() - 1
            }
        };
        self.notes[number].1 += 1;
        let refs = self.notes[number].1;
        let id = self.note_id(number + 1);
        let back = self.ref_id(number + 1, refs);
        let _ = write!(
            self.out,
            "<sup class=\"fnref\"><a href=\"#{id}\" id=\"{back}\" aria-label=\"{} {}\">{}</a></sup>",
            words(self.lang(), "Note", "注"),
            number + 1,
            number + 1
        );
    }

    fn note_id(&self, number: usize) -> String {
        format!("fn-{}-{}-{number}", self.resolve.chapter.slug, self.lang())
    }

    fn ref_id(&self, number: usize, nth: usize) -> String {
        match nth {
            1 => format!(
                "fnref-{}-{}-{number}",
                self.resolve.chapter.slug,
                self.lang()
            ),
            n => format!(
                "fnref-{}-{}-{number}-{n}",
                self.resolve.chapter.slug,
                self.lang()
            ),
        }
    }

    /// The notes referenced, in order, each with links back to its references.
    fn notes_html(&mut self) -> String {
        if self.notes.is_empty() {
            return String::new();
        }
        let body = std::mem::take(&mut self.out);
        self.out.push_str("<ol>\n");
        // A note may reference a later note: the list grows as it is written.
        let mut i = 0;
        while i < self.notes.len() {
            let name = self.notes[i].0.clone();
            let id = self.note_id(i + 1);
            let _ = writeln!(self.out, "<li id=\"{id}\">");
            if let Some(def) = self.footnotes.get(&name).copied() {
                self.blocks(def);
            }
            let lang = self.lang();
            for nth in 1..=self.notes[i].1 {
                let back = self.ref_id(i + 1, nth);
                let _ = writeln!(
                    self.out,
                    "<a href=\"#{back}\" class=\"back\" aria-label=\"{} {}\">↩</a>",
                    words(lang, "Back to reference", "参照元に戻る："),
                    i + 1
                );
            }
            self.out.push_str("</li>\n");
            i += 1;
        }
        self.out.push_str("</ol>\n");
        std::mem::replace(&mut self.out, body)
    }

    fn html_inline(&mut self, node: Node<'n>, html: &str, open: &mut Vec<(String, &'static str)>) {
        let Some(tag) = Tag::parse(html) else {
            if !html.starts_with("<!--") {
                self.push(
                    node,
                    Diagnostic::warning(
                        "html",
                        format!("raw HTML `{}` is not typeset", html.trim()),
                    ),
                );
            }
            return;
        };
        self.tag(node, &tag, open);
    }

    /// Closes the open tags from `from` on, innermost first.
    fn close(&mut self, open: &mut Vec<(String, &'static str)>, from: usize) {
        while open.len() > from {
            let Some((name, element)) = open.pop() else {
                break;
            };
            if matches!(name.as_str(), "code" | "tt" | "samp" | "kbd") {
                self.code_depth = self.code_depth.saturating_sub(1);
            }
            if name == "a" {
                self.link_depth = self.link_depth.saturating_sub(1);
            }
            let _ = write!(self.out, "</{element}>");
        }
    }

    /// One raw HTML tag, by the PDF's policy (see [`html_inline_open`]).
    fn tag(&mut self, node: Node<'n>, tag: &Tag, open: &mut Vec<(String, &'static str)>) {
        let name = tag.name.as_str();
        match name {
            "br" => self.out.push_str("<br>"),
            "wbr" => self.out.push_str("<wbr>"),
            "img" => {
                let src = tag.attr("src").unwrap_or_default();
                let alt = tag.attr("alt").unwrap_or_default();
                let title = tag.attr("title").unwrap_or_default();
                self.image(node, &src, &alt, &title, false);
            }
            _ if tag.closing => {
                if let Some(pos) = open.iter().rposition(|(n, _)| n == name) {
                    self.close(open, pos);
                }
            }
            "a" => {
                let href_attr = tag.attr("href").unwrap_or_default();
                let target = self.resolve_link(node, &href_attr);
                match href(target).filter(|_| self.link_depth == 0) {
                    Some(url) => {
                        self.out.push_str("<a href=\"");
                        escape_into(&mut self.out, &url);
                        self.out.push_str("\">");
                        self.link_depth += 1;
                        open.push(("a".into(), "a"));
                    }
                    None => {
                        self.out.push_str("<span>");
                        open.push(("a".into(), "span"));
                    }
                }
            }
            _ if html_inline_open(name).is_none() => {
                if self.warned_tags.insert(name.to_string()) {
                    self.push(
                        node,
                        Diagnostic::warning(
                            "html",
                            format!("HTML tag <{name}> has no rendering; its text is kept"),
                        ),
                    );
                }
            }
            _ if tag.self_closing => {}
            _ => {
                if matches!(name, "code" | "tt" | "samp" | "kbd") {
                    self.code_depth += 1;
                }
                let element = element(name);
                let _ = write!(self.out, "<{element}>");
                open.push((name.to_string(), element));
            }
        }
    }

    /// A raw HTML block: its allowed tags rendered, the text of the rest kept.
    fn html(&mut self, node: Node<'n>, html: &str) {
        let mut open = Vec::new();
        for piece in html_pieces(html) {
            match piece {
                HtmlPiece::Tag(tag) => self.tag(node, &tag, &mut open),
                HtmlPiece::Text {
                    text,
                    space_before,
                    space_after,
                } => {
                    if space_before && !self.out.ends_with(['>', ' ', '\n']) {
                        self.out.push(' ');
                    }
                    self.plain(&text);
                    if space_after {
                        self.out.push(' ');
                    }
                }
            }
        }
        self.close(&mut open, 0);
    }
}

/// Where a resolved link goes in a web edition: chapters and headings are
/// `#label` in the same page (their `id`s are the PDF's labels); outside
/// addresses only by the schemes [`crate::markdown::link_allowed`] allows.
fn href(target: LinkTarget) -> Option<String> {
    match target {
        LinkTarget::External(url) if crate::markdown::link_allowed(&url) => Some(url),
        LinkTarget::Label(label) => Some(format!("#{label}")),
        LinkTarget::External(_) | LinkTarget::None => None,
    }
}
