//! The Typst writer: each chapter file becomes one generated Typst module
//! that defines `chapter-heading` (the level-1 heading) and `sections` (an
//! array of content, one per section, the text before the first heading
//! first), so that templates can lay a chapter out alone or beside its
//! translation. Author text only ever reaches the output through
//! [`crate::render::escape`].

use std::collections::{HashMap, HashSet};
use std::path::Path;

use comrak::nodes::{ListType, NodeValue, TableAlignment};
use comrak::{Anchorizer, Arena};

use crate::diag::{Diagnostic, Location};
use crate::load::project::{Chapter, ChapterText, Metrics, Project};
use crate::markdown::{
    Anchors, Converted, HtmlPiece, LineIndex, LinkTarget, MAX_NESTING, Node, PRELUDE, Piece,
    Redline, RedlineToken, Resolve, SectionInfo, SourceMap, Tag, edge_char, has_scheme,
    html_inline_open, html_pieces, is_invisible, label, location_of, options_for, plain_text,
    redline_label, section_level, shortcodes, slug_title, title_node, top_nodes,
    undo_smart_punctuation,
};
use crate::model::lang::{Lang, joins_tight};
use crate::render::escape;

pub fn convert(
    project: &Project,
    anchors: &Anchors,
    chapter: &Chapter,
    text: &ChapterText,
) -> Converted {
    convert_redline(project, anchors, chapter, text, None, None)
}

/// Converts a chapter, marking the changes of `redline` when given, and
/// the top-level blocks (numbered as [`top_blocks`] does) in `stale` as
/// waiting for their translation.
pub fn convert_redline(
    project: &Project,
    anchors: &Anchors,
    chapter: &Chapter,
    text: &ChapterText,
    redline: Option<&Redline>,
    stale: Option<&HashSet<usize>>,
) -> Converted {
    let mut options = options_for(&text.text);
    // Definitions stay where they are written, used or not, so that an
    // unused one can be reported at its line (comrak drops those).
    options.parse.leave_footnote_definitions = true;
    let arena = Arena::new();
    let root = crate::markdown::parse(&arena, &text.text, &options);
    let module = format!("/chapters/{}/{}.md.typ", chapter.slug, text.lang);
    let mut w = Writer {
        out: String::with_capacity(text.text.len() * 2),
        map: SourceMap::default(),
        diagnostics: Vec::new(),
        root: &project.root,
        fonts: &project.fonts,
        draft: project.manifest.layout.draft,
        skipped: &project.skipped,
        metrics: &project.metrics,
        anchors,
        chapter,
        text,
        footnotes: HashMap::new(),
        footnotes_used: HashSet::new(),
        warned_tags: HashSet::new(),
        redline,
        stale,
        stale_due: false,
        warned_chars: HashSet::new(),
        code_depth: 0,
        warned_depth: false,
        nest_base: 0,
        lines: LineIndex::new(&text.text),
        hidden: 0,
        in_heading: false,
    };
    for node in root.descendants() {
        if let NodeValue::FootnoteDefinition(def) = &node.data().value {
            w.footnotes.entry(def.name.clone()).or_insert(node);
        }
    }
    let (title, sections) = w.chapter(root);
    w.unused_footnotes();
    Converted {
        slug: chapter.slug.clone(),
        lang: text.lang,
        path: text.path.clone(),
        module,
        source: w.out,
        map: w.map,
        title,
        sections,
        diagnostics: w.diagnostics,
    }
}

struct Writer<'a, 'n> {
    out: String,
    map: SourceMap,
    diagnostics: Vec<Diagnostic>,
    root: &'a Path,
    fonts: &'a crate::typeset::fonts::Fonts,
    /// Draft builds show a placeholder for a missing image.
    draft: bool,
    skipped: &'a [String],
    metrics: &'a Metrics,
    anchors: &'a Anchors<'a>,
    chapter: &'a Chapter,
    text: &'a ChapterText,
    footnotes: HashMap<String, Node<'n>>,
    footnotes_used: HashSet<String>,
    warned_tags: HashSet<String>,
    redline: Option<&'a Redline>,
    /// Top-level blocks whose translation is pending (draft builds).
    stale: Option<&'a HashSet<usize>>,
    /// A pending mark not yet written: it goes into the block's first line
    /// (see [`Writer::stale_mark`]).
    stale_due: bool,
    warned_chars: HashSet<char>,
    /// Depth of open HTML code-like tags (`<code>`, `<kbd>`…), whose text
    /// is kept as typed.
    code_depth: usize,
    warned_depth: bool,
    /// The depth of the footnote references whose notes are being written
    /// (a note's text sits as deep as its reference, for [`Self::too_deep`]).
    nest_base: usize,
    /// Where each line of the markdown starts: locations are found without
    /// scanning the file from its start each time (quadratic in a long
    /// chapter, which places every metric reference).
    lines: LineIndex,
    /// Depth of open `<rp>` tags, whose text ruby set above the base replaces.
    hidden: usize,
    /// Whether the text being written is a heading's.
    in_heading: bool,
}

impl<'a, 'n> Writer<'a, 'n> {
    fn lang(&self) -> Lang {
        self.text.lang
    }

    fn resolver(&self) -> Resolve<'a> {
        Resolve {
            root: self.root,
            skipped: self.skipped,
            metrics: self.metrics,
            anchors: self.anchors,
            chapter: self.chapter,
            lang: self.text.lang,
            draft: self.draft,
        }
    }

    /// Author text, escaped, with runs in the other language tagged as
    /// such: Japanese inside English text, Latin words inside Japanese.
    fn plain(&mut self, text: &str) {
        if self.hidden > 0 {
            return;
        }
        let text = self.shown(text);
        let text = if self.code_depth > 0 {
            undo_smart_punctuation(&text).into()
        } else {
            text
        };
        let wrap = match self.lang() {
            Lang::En => "#text(lang: \"ja\", region: \"JP\")[",
            Lang::Ja => "#text(lang: \"en\", region: \"GB\", hyphenate: false)[",
        };
        for (piece, foreign) in crate::model::lang::script_runs(&text, self.lang()) {
            if foreign {
                self.out.push_str(wrap);
                escape::markup_into(&mut self.out, piece);
                self.out.push(']');
            } else {
                escape::markup_into(&mut self.out, piece);
            }
        }
    }

    /// `text` with every character no bundled font can show replaced by its
    /// code point, each reported once: a PDF/A file cannot hold it.
    fn shown<'t>(&mut self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let fonts = self.fonts;
        let settable = |prev: Option<char>, c: char| {
            c.is_ascii() || (fonts.covers(c) && !stranded_mark(prev, c))
        };
        let mut prev = None;
        if text.chars().all(|c| {
            let ok = settable(prev, c);
            prev = Some(c);
            ok
        }) {
            return text.into();
        }
        let mut out = String::with_capacity(text.len());
        let mut prev = None;
        for c in text.chars() {
            let covered = settable(prev, c);
            prev = Some(c);
            if covered {
                out.push(c);
                continue;
            }
            out.push_str(&format!("[U+{:04X}]", c as u32));
            if self.warned_chars.insert(c) {
                let at = match self.map.lookup(self.out.len()) {
                    Some((line, col)) => self.location(line, col, 0),
                    None => Location::new(&self.text.path, 1, 1),
                };
                self.diagnostics.push(
                    Diagnostic::warning(
                        "glyph-missing",
                        if fonts.covers(c) {
                            format!("the combining mark U+{:04X} follows no character of its script, so no font can set the two together; it is shown as [U+{:04X}]", c as u32, c as u32)
                        } else {
                            format!("no bundled font has the character {c} (U+{:04X}); it is shown as [U+{:04X}]", c as u32, c as u32)
                        },
                    )
                    .at(at)
                    .hint(if fonts.covers(c) {
                        "a mark is set on the letter before it: write it after a letter of its script (in code, as an escape such as \\u{094D})".to_string()
                    } else {
                        format!("put a font that has it (for example an OFL-licensed Noto font for its script, .ttf or .otf) in the project's {}/ folder; renga embeds it after its own fonts", crate::typeset::fonts::FOLDER)
                    }),
                );
            }
        }
        out.into()
    }

    fn mark(&mut self, node: Node<'n>) {
        let pos = node.data().sourcepos;
        let offset = self.out.len();
        self.map.mark(offset, pos.start.line, pos.start.column);
    }

    fn here(&self, node: Node<'n>) -> Location {
        let pos = node.data().sourcepos;
        self.location(pos.start.line, pos.start.column, 0)
    }

    fn location(&self, line: usize, col: usize, extra: usize) -> Location {
        self.lines
            .location(&self.text.path, &self.text.text, line, col, extra)
    }

    fn error(&mut self, node: Node<'n>, code: &'static str, message: String) -> &mut Diagnostic {
        let at = self.here(node);
        self.diagnostics
            .push(Diagnostic::error(code, message).at(at));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn warn(&mut self, node: Node<'n>, code: &'static str, message: String) -> &mut Diagnostic {
        let at = self.here(node);
        self.diagnostics
            .push(Diagnostic::warning(code, message).at(at));
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Writes the whole module; returns the chapter title and its outline.
    fn chapter(&mut self, root: Node<'n>) -> (String, Vec<SectionInfo>) {
        let lang = self.lang();
        let slug = self.chapter.slug.clone();
        let top: Vec<Node<'n>> = top_nodes(root);
        let first_heading = top.iter().copied().find(|n| section_level(n).is_some());
        let title_node = title_node(self.text, &top);
        if top.is_empty() {
            self.diagnostics.push(
                Diagnostic::warning(
                    "chapter-empty",
                    format!(
                        "{} has no text: its chapter is published empty",
                        self.text.path
                    ),
                )
                .at(Location::new(&self.text.path, 1, 1))
                .hint("write the chapter, or remove the file"),
            );
        }

        self.out.push_str("// Generated by renga from ");
        self.out.push_str(&self.text.path);
        self.out.push_str(". Edit the markdown, not this file.\n");
        self.out.push_str("#import ");
        escape::string_into(&mut self.out, PRELUDE);
        self.out
            .push_str(": *\n#let chapter-heading = [#heading(level: 1)[");
        let title = match (&self.text.front.title, title_node) {
            (Some(title), _) => {
                let offset = self.text.text.find("title").unwrap_or(0);
                let at = Location::from_offset(&self.text.path, &self.text.text, offset);
                let len = self.out.len();
                self.map.mark(len, at.line, at.column);
                self.plain(title);
                title.clone()
            }
            (None, Some(node)) => {
                self.mark(node);
                self.heading_inlines(node);
                plain_text(node)
            }
            (None, None) => match first_heading {
                Some(node) => {
                    self.mark(node);
                    self.heading_inlines(node);
                    plain_text(node)
                }
                None => {
                    let title = slug_title(&slug);
                    escape::markup_into(&mut self.out, &title);
                    title
                }
            },
        };
        self.out.push_str("]#label(");
        escape::string_into(&mut self.out, &label(&slug, lang, None));
        // `sections-with(levels)` sets each heading at the level given, so
        // the bilingual edition can give a pair of headings one level;
        // `sections` uses the chapter's own levels.
        self.out.push_str(")]\n#let sections-with(levels) = (\n[");

        let base = top
            .iter()
            .filter(|n| !title_node.is_some_and(|t| std::ptr::eq(t, **n)))
            .filter_map(|n| section_level(n))
            .min()
            .unwrap_or(2);
        let mut previous = 1u8;
        let mut anchorizer = Anchorizer::new();
        let mut sections: Vec<SectionInfo> = Vec::new();
        let mut first_in_section = true;
        let count = top.len();
        for (index, node) in top.into_iter().enumerate() {
            self.removed_blocks(index, &mut first_in_section);
            if matches!(node.data().value, NodeValue::Heading(_)) && section_level(node).is_none() {
                self.warn(
                    node,
                    "heading-empty",
                    "this heading has no text: it is left out".into(),
                )
                .hints
                .push("write the heading's title after the `#`, or remove the line".into());
                continue;
            }
            let Some(level) = section_level(node) else {
                let before_heading = is_invisible(node)
                    && node
                        .next_sibling()
                        .is_some_and(|n| section_level(n).is_some());
                if let Some(section) = sections.last_mut()
                    && !before_heading
                {
                    crate::markdown::pairing::collect_tokens(node, &mut section.tokens);
                }
                if !first_in_section {
                    self.out.push_str("\n\n");
                }
                first_in_section = false;
                self.stale_mark(index);
                self.redline_block(index, node);
                continue;
            };
            let anchor = anchorizer.anchorize(&plain_text(node));
            if title_node.is_some_and(|t| std::ptr::eq(t, node)) {
                continue;
            }
            // Never skip a level: `#` then `###` becomes levels 2 then 3.
            let out_level = (level + 2).saturating_sub(base).clamp(2, previous + 1);
            previous = out_level;
            let mut tokens = crate::markdown::pairing::Tokens::new();
            crate::markdown::pairing::collect_tokens(node, &mut tokens);
            // The comment a translator keeps the original heading in, just
            // above it, belongs to this section.
            if let Some(previous) = node.previous_sibling()
                && is_invisible(previous)
            {
                crate::markdown::pairing::collect_tokens(previous, &mut tokens);
            }
            self.out.push_str("],\n[");
            self.stale_mark(index);
            self.mark(node);
            self.out
                .push_str(&format!("#heading(level: levels.at({}))[", sections.len()));
            // In the heading, so that it moves with it (a heading is kept
            // with the paragraph after it); not in the contents.
            if self.stale_due {
                self.out.push_str("#renga-heading-note[");
                self.stale_here();
                self.out.push(']');
            }
            sections.push(SectionInfo {
                level: out_level,
                title: plain_text(node),
                line: node.data().sourcepos.start.line,
                tokens,
            });
            match self.redline.and_then(|r| r.changed.get(&index)) {
                Some(tokens) => self.redline_tokens(tokens),
                None if self.redline.is_some_and(|r| r.inserted.contains(&index)) => {
                    self.out.push_str("#renga-ins[");
                    self.heading_inlines(node);
                    self.out.push(']');
                }
                None => self.heading_inlines(node),
            }
            self.out.push_str("]#label(");
            escape::string_into(&mut self.out, &label(&slug, lang, Some(&anchor)));
            self.out.push(')');
            first_in_section = false;
        }
        self.removed_blocks(count, &mut first_in_section);
        self.out.push_str("],\n)\n#let sections = sections-with((");
        for s in &sections {
            self.out.push_str(&format!("{}, ", s.level));
        }
        self.out.push_str("))\n");
        (title, sections)
    }

    /// A margin note beside a top-level block whose translation is pending.
    /// The note is placed where it is written, so it is written inside the
    /// block's first line (or first cell, or figure), not before the block:
    /// a block that moves to the next page (a heading kept with its
    /// paragraph, a paragraph that would leave one line behind, a figure)
    /// takes its note along. [`Writer::stale_here`] writes it.
    fn stale_mark(&mut self, index: usize) {
        self.stale_due = self.stale.is_some_and(|s| s.contains(&index));
    }

    /// The due pending mark, at the start of a line being written. In a
    /// box, which is inline (the note itself is placed, a block), so that it
    /// stays in the line rather than break it; the box has no size, so the
    /// line keeps its height, and the note is moved up from the baseline to
    /// the top of the letters.
    fn stale_here(&mut self) {
        if std::mem::take(&mut self.stale_due) {
            self.out.push_str("#box(move(dy: -0.7em, renga-stale()))");
        }
    }

    /// The due pending mark, before a block that has no line of text to
    /// hold it (a code block, a rule, a placeholder): placed where the block
    /// starts, as a box there would add an empty line.
    fn stale_before(&mut self) {
        if std::mem::take(&mut self.stale_due) {
            self.out.push_str("#renga-stale()");
        }
    }

    /// A top-level block, with its changes marked in a redline edition.
    fn redline_block(&mut self, index: usize, node: Node<'n>) {
        let Some(redline) = self.redline else {
            return self.block(node);
        };
        if let Some(tokens) = redline.changed.get(&index) {
            self.mark(node);
            self.redline_tokens(tokens);
        } else if redline.inserted.contains(&index) {
            self.out.push_str("#renga-ins-block[");
            self.block(node);
            self.out.push(']');
        } else if redline.noted.contains(&index) {
            // Styled here rather than in the prelude, so that a project's
            // own prelude written before this mark existed still works.
            self.out
                .push_str("#block(stroke: (left: 2pt + rgb(\"#0969da\")), inset: (left: 6pt))[");
            self.block(node);
            self.out.push(']');
        } else {
            self.block(node);
        }
    }

    fn redline_tokens(&mut self, tokens: &[RedlineToken]) {
        self.stale_here();
        for token in tokens {
            match token {
                RedlineToken::Same(t) => self.plain(t),
                RedlineToken::Inserted(t) => {
                    self.out.push_str("#renga-ins[");
                    self.plain(t);
                    self.out.push(']');
                }
                RedlineToken::Deleted(t) => {
                    self.out.push_str("#renga-del[");
                    self.plain(t);
                    self.out.push(']');
                }
            }
        }
    }

    /// Blocks of the old version removed before top-level block `index`.
    fn removed_blocks(&mut self, index: usize, first_in_section: &mut bool) {
        if let Some(r) = self.redline
            && (r.changed.contains_key(&index)
                || r.inserted.contains(&index)
                || r.noted.contains(&index)
                || r.removed_before.contains_key(&index))
        {
            // An anchor for the summary of changes to link to.
            self.out.push_str("#metadata(\"redline\")#label(");
            let label = redline_label(&self.chapter.slug, self.lang(), index);
            escape::string_into(&mut self.out, &label);
            self.out.push(')');
        }
        let Some(removed) = self.redline.and_then(|r| r.removed_before.get(&index)) else {
            return;
        };
        for text in removed {
            if !*first_in_section {
                self.out.push_str("\n\n");
            }
            *first_in_section = false;
            self.out.push_str("#renga-del-block[");
            self.plain(text);
            self.out.push(']');
        }
    }

    /// The text of a container, without its structure, written without
    /// recursion however deep it nests: paragraphs apart, and the notes it
    /// cites after it in brackets (a note citing the next, thousands deep,
    /// is a list, not a stack).
    fn flat(&mut self, node: Node<'n>) {
        use comrak::arena_tree::NodeEdge;
        let mut notes: Vec<Node<'n>> = Vec::new();
        let mut next = Some(node);
        let mut bracket = false;
        while let Some(top) = next {
            let mut wrote_block = false;
            for edge in top.traverse() {
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
                        let cell = matches!(value, NodeValue::TableCell);
                        self.out
                            .push_str(if bracket || cell { " " } else { "\n\n" });
                    }
                    wrote_block = true;
                }
                match value {
                    NodeValue::Text(t) => {
                        self.mark(n);
                        self.text_run(n, &t);
                    }
                    NodeValue::Code(code) => {
                        let literal = self.shown(&code.literal);
                        self.out.push_str("#raw(");
                        escape::string_into(&mut self.out, &literal);
                        self.out.push(')');
                    }
                    NodeValue::CodeBlock(code) => {
                        let literal = self.shown(&code.literal);
                        self.out.push_str("#raw(");
                        escape::string_into(&mut self.out, literal.trim_end());
                        self.out.push(')');
                    }
                    NodeValue::SoftBreak | NodeValue::LineBreak => self.out.push(' '),
                    NodeValue::Math(math) => escape::markup_into(&mut self.out, &math.literal),
                    NodeValue::FootnoteReference(r) => {
                        if let Some(def) = self.footnotes.get(&r.name).copied() {
                            if self.footnotes_used.insert(r.name.clone()) {
                                notes.push(def);
                            }
                        }
                    }
                    _ => {}
                }
            }
            if bracket {
                self.out.push_str("\\)");
            }
            next = notes.pop();
            bracket = next.is_some();
            if bracket {
                // Too deep for another level: the note's text, in brackets, here.
                self.out.push_str(" \\(");
            }
        }
    }

    fn blocks(&mut self, parent: Node<'n>) {
        for (i, node) in parent.children().enumerate() {
            if i > 0 {
                self.out.push_str("\n\n");
            }
            self.block(node);
        }
    }

    fn block(&mut self, node: Node<'n>) {
        self.mark(node);
        let value = node.data().value.clone();
        // A pending mark goes into the first line of text (paragraphs,
        // containers, tables: see `inlines`), the first code line or the
        // figure (see `image`); any other block has it just before.
        if !matches!(
            value,
            NodeValue::Paragraph
                | NodeValue::BlockQuote
                | NodeValue::MultilineBlockQuote(_)
                | NodeValue::Alert(_)
                | NodeValue::List(_)
                | NodeValue::Item(_)
                | NodeValue::TaskItem(_)
                | NodeValue::Table(_)
                | NodeValue::CodeBlock(_)
        ) {
            self.stale_before();
        }
        match value {
            NodeValue::Paragraph => {
                let only_image = node.first_child().is_some_and(|c| {
                    matches!(c.data().value, NodeValue::Image(_)) && c.next_sibling().is_none()
                });
                if let (true, Some(child)) = (only_image, node.first_child()) {
                    self.image_node(child, true);
                } else {
                    self.inlines(node);
                }
            }
            NodeValue::Heading(_) => {
                // A heading inside a quote or list item: kept as bold text,
                // since the report's outline only has chapter sections.
                self.out.push_str("#strong[");
                self.inlines(node);
                self.out.push(']');
            }
            NodeValue::BlockQuote
            | NodeValue::MultilineBlockQuote(_)
            | NodeValue::Alert(_)
            | NodeValue::List(_)
            | NodeValue::Table(_)
                if self.too_deep(node) =>
            {
                self.flat(node);
            }
            NodeValue::BlockQuote | NodeValue::MultilineBlockQuote(_) => {
                self.out.push_str("#quote(block: true)[");
                self.blocks(node);
                self.out.push(']');
            }
            NodeValue::Alert(alert) => {
                let kind = format!("{:?}", alert.alert_type).to_lowercase();
                self.out.push_str("#renga-alert(");
                escape::string_into(&mut self.out, &kind);
                if let Some(title) = &alert.title {
                    self.out.push_str(", title: [");
                    self.plain(title);
                    self.out.push(']');
                }
                self.out.push_str(")[");
                self.blocks(node);
                self.out.push(']');
            }
            NodeValue::List(list) => {
                match list.list_type {
                    ListType::Bullet => self.out.push_str("#list("),
                    ListType::Ordered => {
                        self.out.push_str(&format!("#enum(start: {}, ", list.start))
                    }
                }
                self.out.push_str(if list.tight {
                    "tight: true"
                } else {
                    "tight: false"
                });
                for item in node.children() {
                    self.out.push_str(", [");
                    self.mark(item);
                    if let NodeValue::TaskItem(task) = &item.data().value {
                        let done = task.symbol.is_some();
                        self.out.push_str(if done {
                            "#renga-task(true) "
                        } else {
                            "#renga-task(false) "
                        });
                    }
                    self.blocks(item);
                    self.out.push(']');
                }
                self.out.push(')');
            }
            NodeValue::Item(_) | NodeValue::TaskItem(_) => self.blocks(node),
            NodeValue::CodeBlock(code) => {
                let lang = code
                    .info
                    .split(|c: char| c == ',' || c == '{' || c.is_whitespace())
                    .next()
                    .unwrap_or("");
                let literal = self.shown(code.literal.strip_suffix('\n').unwrap_or(&code.literal));
                // The markdown line of the first code line, so that a line the
                // prelude has to wrap is reported where the author wrote it.
                let first_line = node.data().sourcepos.start.line + usize::from(code.fenced);
                // A pending mark in the first code line, which a code block
                // that moves to the next page takes along.
                let marked = std::mem::take(&mut self.stale_due);
                if marked {
                    // Raw text has no language of its own: the note's is the
                    // chapter's.
                    self.out.push_str(&format!(
                        "#[#show raw.line.where(number: 1): it => {{ box(move(dy: -0.7em, text(lang: \"{}\", renga-stale()))); it }}\n",
                        self.lang().code()
                    ));
                }
                self.out.push_str("#renga-code-block(");
                if !lang.is_empty() {
                    self.out.push_str("lang: ");
                    escape::string_into(&mut self.out, lang);
                    self.out.push_str(", ");
                }
                self.out.push_str("at: (");
                escape::string_into(&mut self.out, &self.text.path);
                self.out.push_str(&format!(", {first_line}), "));
                escape::string_into(&mut self.out, &literal);
                self.out.push_str(if marked { ")]" } else { ")" });
            }
            NodeValue::HtmlBlock(html) => self.html(node, &html.literal),
            NodeValue::ThematicBreak => self.out.push_str("#renga-rule()"),
            NodeValue::Table(table) => self.table(node, &table.alignments),
            NodeValue::FootnoteDefinition(_) | NodeValue::FrontMatter(_) => {}
            NodeValue::Math(math) => escape::markup_into(&mut self.out, &math.literal),
            _ if self.too_deep(node) => self.flat(node),
            _ => {
                // Anything else that holds blocks: keep its content.
                if node.first_child().is_some_and(|c| c.data().value.block()) {
                    self.blocks(node);
                } else {
                    self.inlines(node);
                }
            }
        }
    }

    fn table(&mut self, node: Node<'n>, alignments: &[TableAlignment]) {
        self.out.push_str(&format!(
            "#table(columns: {}, align: (",
            alignments.len().max(1)
        ));
        for a in alignments {
            self.out.push_str(match a {
                TableAlignment::Left | TableAlignment::None => "left, ",
                TableAlignment::Center => "center, ",
                TableAlignment::Right => "right, ",
            });
        }
        self.out.push_str("),\n");
        for row in node.children() {
            let header = matches!(row.data().value, NodeValue::TableRow(true));
            if header {
                self.out.push_str("table.header(");
            }
            for cell in row.children() {
                self.mark(cell);
                self.out.push('[');
                self.inlines(cell);
                self.out.push_str("], ");
            }
            if header {
                self.out.push_str("),");
            }
            self.out.push('\n');
        }
        self.out.push(')');
    }

    fn inlines(&mut self, parent: Node<'n>) {
        self.stale_here();
        let mut open_tags: Vec<String> = Vec::new();
        let children: Vec<Node<'n>> = parent.children().collect();
        let mut i = 0;
        while i < children.len() {
            let node = children[i];
            // Adjacent text nodes are one run of text (shortcodes may span them).
            if matches!(node.data().value, NodeValue::Text(_)) {
                let mut run = String::new();
                let start = i;
                while let Some(NodeValue::Text(t)) = children.get(i).map(|n| n.data().value.clone())
                {
                    run.push_str(&t);
                    i += 1;
                }
                self.mark(node);
                self.text_run(children[start], &run);
                continue;
            }
            self.mark(node);
            let value = node.data().value.clone();
            match value {
                NodeValue::SoftBreak => {
                    let before = i.checked_sub(1).and_then(|j| edge_char(children[j], false));
                    let after = children.get(i + 1).and_then(|n| edge_char(n, true));
                    if !joins_tight(before, after) {
                        self.out.push(' ');
                    }
                }
                NodeValue::LineBreak => self.out.push_str("#linebreak() "),
                NodeValue::Code(code) => {
                    let literal = self.shown(&code.literal);
                    self.out.push_str("#raw(");
                    escape::string_into(&mut self.out, &literal);
                    self.out.push(')');
                }
                NodeValue::Emph => self.wrap(node, "#emph["),
                NodeValue::Strong => self.wrap(node, "#strong["),
                NodeValue::Strikethrough => self.wrap(node, "#strike["),
                NodeValue::Superscript => self.wrap(node, "#super["),
                NodeValue::Subscript => self.wrap(node, "#sub["),
                NodeValue::Underline | NodeValue::Insert => self.wrap(node, "#underline["),
                NodeValue::Highlight => self.wrap(node, "#highlight["),
                NodeValue::Link(link) => self.link(node, &link.url),
                NodeValue::Image(_) => self.image_node(node, false),
                NodeValue::FootnoteReference(r) => self.footnote(node, &r.name),
                NodeValue::HtmlInline(html) => self.html_inline(node, &html, &mut open_tags),
                NodeValue::Math(math) => escape::markup_into(&mut self.out, &math.literal),
                _ if self.too_deep(node) => self.flat(node),
                _ => self.inlines(node),
            }
            i += 1;
        }
        for tag in open_tags.drain(..).rev() {
            if matches!(tag.as_str(), "code" | "tt" | "samp" | "kbd") {
                self.code_depth = self.code_depth.saturating_sub(1);
            }
            self.close_tag(&tag);
        }
    }

    fn wrap(&mut self, node: Node<'n>, open: &str) {
        if self.too_deep(node) {
            return self.flat(node);
        }
        self.out.push_str(open);
        self.inlines(node);
        self.out.push(']');
    }

    /// Whether `node` is nested so deeply that its structure must be dropped
    /// (its text is kept): typst's parser refuses sources nested beyond a
    /// fixed depth, and each level of markdown nesting costs several.
    /// A footnote's text counts the depth of its reference too, so that a
    /// chain of notes each citing the next is flattened like a deep quote.
    fn too_deep(&mut self, node: Node<'n>) -> bool {
        let depth = self.nest_base + crate::markdown::depth_at_most(node, MAX_NESTING);
        if depth <= MAX_NESTING {
            return false;
        }
        if !self.warned_depth {
            self.warned_depth = true;
            self.warn(node, "nesting", format!("markdown nested more than {MAX_NESTING} levels deep is set flat from here; its text is kept"));
        }
        true
    }

    /// Text with `{{metric id}}` shortcodes replaced by formatted values.
    fn text_run(&mut self, node: Node<'n>, text: &str) {
        if text.contains("[^") {
            self.missing_footnotes(node, text);
        }
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
                } => {
                    let pos = node.data().sourcepos.start;
                    let at = self.location(pos.line, pos.column, offset).with_len(len);
                    self.metric(key, field, extra, typo, at);
                }
            }
        }
    }

    fn metric(
        &mut self,
        key: &str,
        field: Option<&str>,
        extra: bool,
        typo: Option<&str>,
        at: Location,
    ) {
        match self.resolver().metric(key, field, extra, typo) {
            Ok(m) => {
                self.out.push_str("#renga-metric(");
                escape::string_into(&mut self.out, &m.metric.key);
                self.out.push_str(")[");
                self.plain(&m.text);
                self.out.push(']');
            }
            Err(e) => {
                let (d, text) = *e;
                self.diagnostics.extend(d.map(|d| d.at(at)));
                escape::markup_into(&mut self.out, &text);
            }
        }
    }

    fn link(&mut self, node: Node<'n>, url: &str) {
        if self.too_deep(node) {
            return self.flat(node);
        }
        match self.resolve_link(node, url) {
            LinkTarget::External(url) => {
                self.out.push_str("#link(");
                escape::string_into(&mut self.out, &url);
                self.out.push_str(")[");
                self.inlines(node);
                self.out.push(']');
            }
            LinkTarget::Label(label) => {
                self.out.push_str("#renga-xref(label(");
                escape::string_into(&mut self.out, &label);
                self.out.push_str("))[");
                self.inlines(node);
                self.out.push(']');
            }
            LinkTarget::None => {
                self.out.push_str("#[");
                self.inlines(node);
                self.out.push(']');
            }
        }
    }

    fn resolve_link(&mut self, node: Node<'n>, url: &str) -> LinkTarget {
        let (target, warning) = self.resolver().link(url);
        if let Some(d) = warning {
            let at = self.here(node);
            self.diagnostics.push(d.at(at));
        }
        target
    }
}

impl<'a, 'n> Writer<'a, 'n> {
    fn image_node(&mut self, node: Node<'n>, block: bool) {
        let NodeValue::Image(link) = node.data().value.clone() else {
            return;
        };
        let alt = plain_text(node);
        self.image(node, &link.url, &alt, &link.title, block);
    }

    fn image(&mut self, node: Node<'n>, url: &str, alt: &str, title: &str, block: bool) {
        if has_scheme(url) || url.starts_with("//") {
            self.stale_before();
            self.warn(
                node,
                "image-remote",
                format!("remote image `{url}` is not fetched; a placeholder names it"),
            )
            .hints
            .push("save the image beside the chapter and reference it relatively".into());
            self.out.push_str("#renga-remote-image(");
            escape::string_into(&mut self.out, url);
            self.out.push_str(", ");
            escape::string_into(&mut self.out, alt);
            self.out.push(')');
            return;
        }
        let resolved = self.resolver().image_path(url);
        // A figure (a paragraph of one image) takes a pending mark inside,
        // as it moves to the next page whole when it does not fit; a
        // placeholder has it before.
        if !(block && resolved.is_ok() && !alt.trim().is_empty()) {
            self.stale_before();
        }
        match resolved {
            Ok(path) => {
                let hint =
                    "describe the image for readers who cannot see it: ![what it shows](file.svg)";
                let mut alt = alt;
                let mut missing_alt = None;
                if alt.trim().is_empty() {
                    if !self.draft {
                        self.error(node, "image-alt", format!("image `{url}` has no alt text"))
                            .hints
                            .push(hint.into());
                        // Reported once, here: the image is left out so that the
                        // PDF/UA check of the export does not report it again.
                        return;
                    }
                    // A draft is reviewed before every description is in:
                    // the image with a visible mark, and a warning.
                    self.warn(
                        node,
                        "image-alt",
                        format!("image `{url}` has no alt text; this draft marks it (a final build refuses it)"),
                    )
                    .hints
                    .push(hint.into());
                    let mark = crate::model::lang::alt_missing(self.lang());
                    missing_alt = Some(mark);
                    alt = mark;
                }
                let marked = block && self.stale_due;
                if marked {
                    // Placed in the figure's own flow, before the image:
                    // part of the figure, and no line of its own.
                    self.out.push_str("#figure([");
                    self.stale_before();
                    self.out.push_str("#image(");
                } else if block {
                    self.out.push_str("#figure(image(");
                } else {
                    self.out
                        .push_str("#box(height: 1.2em, image(height: 1.2em, ");
                }
                escape::string_into(&mut self.out, &path);
                self.out.push_str(", alt: ");
                escape::string_into(&mut self.out, alt);
                self.out.push_str(if marked { ")]" } else { ")" });
                if block && (!title.is_empty() || missing_alt.is_some()) {
                    self.out.push_str(", caption: [");
                    if let Some(mark) = missing_alt {
                        self.out
                            .push_str(r##"#text(size: 0.85em, fill: rgb("#9a6700"))["##);
                        self.plain(mark);
                        self.out.push_str("] ");
                    }
                    self.plain(title);
                    self.out.push(']');
                }
                self.out.push(')');
                if let (false, Some(mark)) = (block, missing_alt) {
                    self.out
                        .push_str(r##" #text(size: 0.85em, fill: rgb("#9a6700"))["##);
                    self.plain(mark);
                    self.out.push(']');
                }
            }
            Err(d) => {
                let at = self.here(node);
                let placeholder = d.code == "image-missing" && !d.is_error();
                self.diagnostics.push(d.at(at));
                if placeholder {
                    // A draft is reviewed before every figure is in: show
                    // where it goes and what it will show.
                    self.out.push_str(if block {
                        "#renga-missing-image(block: true, "
                    } else {
                        "#renga-missing-image(block: false, "
                    });
                    escape::string_into(&mut self.out, url);
                    self.out.push_str(", ");
                    escape::string_into(&mut self.out, alt);
                    self.out.push(')');
                } else {
                    // Keep the author's words visible even though the image is not.
                    self.plain(alt);
                }
            }
        }
    }
}

/// A combining mark of a script (a Devanagari virama, a vowel sign) that
/// does not follow a character of its script (`'्'` in a code sample): the
/// font that has the mark lacks its base, and typst cannot set the cluster
/// at all. Marks of no particular script (accents) combine with anything.
fn stranded_mark(prev: Option<char>, c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    use unicode_script::{Script, UnicodeScript};
    if c.general_category_group() != GeneralCategoryGroup::Mark {
        return false;
    }
    let script = c.script();
    if matches!(script, Script::Common | Script::Inherited | Script::Unknown) {
        return false;
    }
    // A base of no script (an apostrophe, a space) takes no script's mark:
    // its font is not the mark's.
    prev.is_none_or(|p| {
        matches!(
            p.script(),
            Script::Common | Script::Inherited | Script::Unknown
        ) || !p.script_extension().contains_script(script)
    })
}

impl<'a, 'n> Writer<'a, 'n> {
    fn footnote(&mut self, node: Node<'n>, name: &str) {
        let label = format!("fn-{}-{}-{}", self.chapter.slug, self.lang(), name);
        if self.footnotes_used.contains(name) {
            self.out.push_str("#footnote(label(");
            escape::string_into(&mut self.out, &label);
            self.out.push_str("))");
            return;
        }
        let Some(def) = self.footnotes.get(name).copied() else {
            self.warn(
                node,
                "footnote-missing",
                format!("footnote `[^{name}]` has no definition"),
            );
            escape::markup_into(&mut self.out, &format!("[^{name}]"));
            return;
        };
        if self.too_deep(node) {
            self.footnotes_used.insert(name.to_string());
            // Too deep for another level: the note's text, in brackets, here.
            self.out.push_str(" \\(");
            self.flat(def);
            self.out.push_str("\\)");
            return;
        }
        let base = self.nest_base;
        self.nest_base += crate::markdown::depth_at_most(node, MAX_NESTING);
        self.footnotes_used.insert(name.to_string());
        // A note in a heading is the chapter's, not the contents' (the
        // prelude leaves it out of the outline).
        let in_heading = std::mem::take(&mut self.in_heading);
        if in_heading {
            self.out.push_str("#renga-heading-note[");
        }
        self.out.push_str("#footnote[");
        self.blocks(def);
        self.nest_base = base;
        self.out.push_str("]#label(");
        escape::string_into(&mut self.out, &label);
        self.out.push(')');
        if in_heading {
            self.out.push(']');
        }
        self.in_heading = in_heading;
    }

    /// The text of a heading.
    fn heading_inlines(&mut self, node: Node<'n>) {
        self.in_heading = true;
        self.inlines(node);
        self.in_heading = false;
    }

    /// Warns at every footnote definition no reference used: its text is
    /// not printed.
    fn unused_footnotes(&mut self) {
        let mut unused: Vec<(String, Node<'n>)> = self
            .footnotes
            .iter()
            .filter(|(name, _)| !self.footnotes_used.contains(*name))
            .map(|(name, node)| (name.clone(), *node))
            .collect();
        unused.sort_by_key(|(_, node)| node.data().sourcepos.start.line);
        for (name, node) in unused {
            self.warn(
                node,
                "footnote-unused",
                format!("footnote `[^{name}]` is defined but never referenced, so its text is not printed"),
            )
            .hints
            .push(format!("cite it with `[^{name}]` in the text, or remove it"));
        }
    }

    /// Warns at `[^name]` left as text because no definition has that name.
    fn missing_footnotes(&mut self, node: Node<'n>, text: &str) {
        let mut rest = text;
        let mut consumed = 0;
        while let Some(start) = rest.find("[^") {
            let after = &rest[start + 2..];
            let end = after.find(']');
            if let Some(end) = end
                && end > 0
                && !after[..end].contains(char::is_whitespace)
            {
                let name = &after[..end];
                let pos = node.data().sourcepos.start;
                let at = location_of(
                    &self.text.path,
                    &self.text.text,
                    pos.line,
                    pos.column,
                    consumed + start,
                )
                .with_len(end + 3);
                self.diagnostics.push(
                    Diagnostic::warning(
                        "footnote-missing",
                        format!("footnote `[^{name}]` has no definition; it is printed as written"),
                    )
                    .at(at)
                    .hint(format!("define it on a line of its own: `[^{name}]: …`")),
                );
            }
            consumed += start + 2;
            rest = after;
        }
    }

    fn html_inline(&mut self, node: Node<'n>, html: &str, open: &mut Vec<String>) {
        let Some(tag) = Tag::parse(html) else {
            // Comments, declarations, processing instructions: not content.
            if !html.starts_with("<!--") {
                self.warn(
                    node,
                    "html",
                    format!("raw HTML `{}` is not typeset", html.trim()),
                );
            }
            return;
        };
        self.tag(node, &tag, open);
    }

    fn tag(&mut self, node: Node<'n>, tag: &Tag, open: &mut Vec<String>) {
        if matches!(tag.name.as_str(), "code" | "tt" | "samp" | "kbd") {
            if tag.closing {
                self.code_depth = self.code_depth.saturating_sub(1);
            } else if !tag.self_closing {
                self.code_depth += 1;
            }
        }
        if self.ruby_tag(node, tag, open) {
            return;
        }
        match tag.name.as_str() {
            "br" => self.out.push_str("#linebreak() "),
            "wbr" => {}
            "img" => {
                let src = tag.attr("src").unwrap_or_default();
                let alt = tag.attr("alt").unwrap_or_default();
                let title = tag.attr("title").unwrap_or_default();
                // An `<img>` standing in an HTML block, as documentation sets
                // its figures, is a figure, not a glyph-sized inline image.
                let block = open.is_empty() && matches!(node.data().value, NodeValue::HtmlBlock(_));
                self.image(node, &src, &alt, &title, block);
            }
            "a" if !tag.closing && open.len() < 8 && !self.too_deep(node) => {
                let href = tag.attr("href").unwrap_or_default();
                let target = self.resolve_link(node, &href);
                match target {
                    LinkTarget::External(url) => {
                        self.out.push_str("#link(");
                        escape::string_into(&mut self.out, &url);
                        self.out.push_str(")[");
                    }
                    LinkTarget::Label(l) => {
                        self.out.push_str("#renga-xref(label(");
                        escape::string_into(&mut self.out, &l);
                        self.out.push_str("))[");
                    }
                    LinkTarget::None => self.out.push_str("#["),
                }
                open.push("a".into());
            }
            name => {
                let known = name == "a" || html_inline_open(name).is_some();
                if !known {
                    if self.warned_tags.insert(name.to_string()) {
                        self.warn(
                            node,
                            "html",
                            format!("HTML tag <{name}> has no rendering; its text is kept"),
                        );
                    }
                    return;
                }
                if tag.closing {
                    if let Some(pos) = open.iter().rposition(|t| t == name) {
                        for tag in open.drain(pos..).rev() {
                            self.close_tag(&tag);
                        }
                        if name == "summary" {
                            // The summary is a line of its own above the details.
                            self.out.push_str("#linebreak() ");
                        }
                    }
                } else if !tag.self_closing
                    && open.len() < 8
                    && !self.too_deep(node)
                    && let Some(typst) = html_inline_open(name)
                {
                    self.out.push_str(typst);
                    open.push(name.to_string());
                }
            }
        }
    }

    /// A raw HTML block: tags with a rendering are rendered, the text of
    /// everything else is kept.
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
                    if space_before && !self.out.ends_with(['[', ' ', '\n']) {
                        self.out.push(' ');
                    }
                    self.plain(&text);
                    if space_after {
                        self.out.push(' ');
                    }
                }
            }
        }
        for tag in open.into_iter().rev() {
            self.close_tag(&tag);
        }
    }

    /// Closes what an open HTML tag (as [`Writer::tag`] keeps them) opened.
    fn close_tag(&mut self, name: &str) {
        match name {
            // A base without a reading: the base alone.
            "ruby" => self.out.push_str("][]"),
            "rp" => self.hidden = self.hidden.saturating_sub(1),
            _ => self.out.push(']'),
        }
    }

    /// Ruby (`<ruby>base<rp>(</rp><rt>reading</rt><rp>)</rp></ruby>`): each
    /// base and its reading become one `renga-ruby[base][reading]`; `<rp>`
    /// holds the parentheses for readers without ruby, which ruby set above
    /// the base does not need. Returns false for tags that are not ruby's.
    fn ruby_tag(&mut self, node: Node<'n>, tag: &Tag, open: &mut Vec<String>) -> bool {
        let name = tag.name.as_str();
        if !matches!(name, "ruby" | "rt" | "rp") {
            return false;
        }
        // An `<rp>` left open ends where the next ruby part starts.
        if (name != "rp" || tag.closing) && open.last().is_some_and(|t| t == "rp") {
            open.pop();
            self.close_tag("rp");
            if name == "rp" {
                return true;
            }
        }
        let top = open.last().cloned();
        match (name, tag.closing, top.as_deref()) {
            ("ruby", false, _) if open.len() < 8 && !self.too_deep(node) => {
                self.out.push_str("#renga-ruby[");
                open.push("ruby".into());
            }
            ("rt", false, Some("ruby")) => {
                self.out.push_str("][");
                *open.last_mut().expect("ruby is open") = "rt".into();
            }
            ("rt", true, Some("rt")) => {
                // Text after a reading is the next base.
                self.out.push_str("]#renga-ruby[");
                *open.last_mut().expect("rt is open") = "ruby".into();
            }
            ("rp", false, Some("ruby" | "rt")) => {
                self.hidden += 1;
                open.push("rp".into());
            }
            ("ruby", true, _) => {
                if let Some(pos) = open.iter().rposition(|t| t == "ruby" || t == "rt") {
                    for tag in open.drain(pos..).rev() {
                        self.close_tag(&tag);
                    }
                }
            }
            _ => {}
        }
        true
    }
}
