//! Stage 2: markdown chapters, parsed once with comrak, then written out.
//!
//! - this module: parsing options, the chapter's top-level blocks, title
//!   and sections, labels and locations, and the raw HTML policy, shared by
//!   every writer;
//! - [`resolve`]: what a metric reference, a link or an image path means,
//!   decided once for every writer;
//! - [`typst`]: the Typst writer (the PDF editions);
//! - [`html`]: the HTML writer (the web editions).

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Anchorizer, Arena, Options, parse_document};

use crate::diag::{Diagnostic, Location};
use crate::load::project::{Chapter, ChapterText, Metrics, Project};
use crate::model::lang::Lang;

pub mod pairing;
mod resolve;

pub use crate::render::typst::{convert, convert_redline};
pub use resolve::{LINK_SCHEMES, link_allowed, url_scheme};
pub(crate) use resolve::{LinkTarget, Piece, Resolve, metric_named, metric_text, shortcodes};

/// How deeply markdown may nest (quotes, lists, emphasis…) before its
/// structure is flattened. Typst's parser allows 256 levels, and one level
/// of markdown takes up to about four in the generated Typst.
pub(crate) const MAX_NESTING: usize = 40;

/// The virtual path of the prelude every chapter module imports.
pub const PRELUDE: &str = "/.renga/prelude.typ";

/// The markdown dialect authors write: CommonMark with the GitHub extensions.
pub fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.table = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    o.extension.tasklist = true;
    o.extension.footnotes = true;
    o.extension.alerts = true;
    o.extension.front_matter_delimiter = Some("+++".into());
    o.extension.cjk_friendly_emphasis = true;
    o.parse.smart = true;
    o
}

/// [`options`] for one chapter text: YAML front matter (`---` at the very
/// start, as static site generators write it) is front matter, not a rule
/// and a heading.
pub fn options_for(text: &str) -> Options<'static> {
    let mut o = options();
    if crate::load::project::split_yaml_front_matter(text).is_some() {
        o.extension.front_matter_delimiter = Some("---".into());
    }
    o
}

/// Heading anchors of the chapter texts, so links between chapters can be
/// checked. A text's headings are found the first time a link points into
/// it: parsing every chapter a second time up front took a sixth of the
/// conversion of a book whose links rarely name another chapter's heading.
pub struct Anchors<'p> {
    texts: HashMap<(&'p str, Lang), &'p ChapterText>,
    found: Mutex<Found>,
}

/// Anchor sets found so far, by `(slug, lang)`.
type Found = HashMap<(String, Lang), Arc<Vec<String>>>;

impl<'p> Anchors<'p> {
    /// Whether the report has this chapter text.
    fn has(&self, slug: &str, lang: Lang) -> bool {
        self.texts.contains_key(&(slug, lang))
    }

    /// Whether the chapter text has a heading with this anchor.
    fn contains(&self, slug: &str, lang: Lang, anchor: &str) -> bool {
        self.list(slug, lang)
            .is_some_and(|list| list.iter().any(|a| a == anchor))
    }

    /// The chapter text's heading anchors, in order (a heading of one
    /// language is found in its translation by its place).
    fn list(&self, slug: &str, lang: Lang) -> Option<Arc<Vec<String>>> {
        let text = self.texts.get(&(slug, lang))?;
        let key = (slug.to_string(), lang);
        let known = self.lock().get(&key).cloned();
        Some(known.unwrap_or_else(|| {
            let list = Arc::new(heading_anchors(&text.text));
            self.lock().insert(key, list.clone());
            list
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Found> {
        self.found.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn collect_anchors(project: &Project) -> Anchors<'_> {
    Anchors {
        texts: project
            .chapters
            .iter()
            .flat_map(|c| c.texts.values().map(|t| ((c.slug.as_str(), t.lang), t)))
            .collect(),
        found: Mutex::new(HashMap::new()),
    }
}

/// A chapter text parsed with comrak, as every reader of it (the writers,
/// the review, XLIFF) must see it: smart punctuation makes `--` an en dash,
/// but `--` directly before a letter, at the start of a word, is a
/// command-line option (`--format`), written as the author typed it.
pub fn parse<'a>(arena: &'a Arena<'a>, text: &str, options: &Options) -> Node<'a> {
    let root = parse_document(arena, text, options);
    if options.parse.smart && text.contains("--") {
        keep_option_dashes(root, text);
    }
    root
}

/// Puts back `--` where smart punctuation made an en dash of an option's
/// prefix: an en dash at the start of a word, directly before an ASCII
/// letter, where the source lines of its text have `--` before that word.
fn keep_option_dashes<'a>(root: Node<'a>, source: &str) {
    let lines: Vec<&str> = source.lines().collect();
    for node in root.descendants() {
        let mut data = node.data_mut();
        let (start, end) = (data.sourcepos.start.line, data.sourcepos.end.line);
        let NodeValue::Text(text) = &mut data.value else {
            continue;
        };
        if !text.contains('–') {
            continue;
        }
        let written = lines
            .get(start.saturating_sub(1)..end.min(lines.len()))
            .map(|l| l.join("\n"))
            .unwrap_or_default();
        let mut out = String::with_capacity(text.len() + 4);
        let mut prev: Option<char> = None;
        let mut rest = text.as_ref();
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            if c == '–'
                && prev.is_none_or(|p| {
                    p.is_whitespace() || matches!(p, '(' | '[' | '"' | '\'' | '`' | '“' | '‘')
                })
                && word.starts_with(|w: char| w.is_ascii_alphabetic())
                && written.contains(&format!("--{word}"))
            {
                out.push_str("--");
            } else {
                out.push(c);
            }
            prev = Some(c);
        }
        if out != *text {
            *text = out.into();
        }
    }
}

/// The anchors of a markdown text's top-level headings, as links name them.
fn heading_anchors(markdown: &str) -> Vec<String> {
    let options = options_for(markdown);
    let arena = Arena::new();
    let root = parse(&arena, markdown, &options);
    let mut anchorizer = Anchorizer::new();
    root.children()
        .filter(|n| matches!(n.data().value, NodeValue::Heading(_)))
        .map(|n| anchorizer.anchorize(&plain_text(n)))
        .collect()
}

/// Maps byte offsets in a generated module back to the markdown file.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// (offset in the Typst source, markdown line, markdown byte column), both 1-based.
    entries: Vec<(usize, u32, u32)>,
}

impl SourceMap {
    pub(crate) fn mark(&mut self, offset: usize, line: usize, column: usize) {
        if line == 0 {
            return;
        }
        if let Some(last) = self.entries.last_mut()
            && last.0 == offset
        {
            *last = (offset, line as u32, column as u32);
            return;
        }
        self.entries
            .push((offset, line as u32, column.max(1) as u32));
    }

    /// The markdown line and byte column of the construct that produced
    /// the Typst text at `offset`.
    pub fn lookup(&self, offset: usize) -> Option<(usize, usize)> {
        let i = self.entries.partition_point(|e| e.0 <= offset);
        let e = self.entries.get(i.checked_sub(1)?)?;
        Some((e.1 as usize, e.2 as usize))
    }
}

/// One headed section of a chapter, for the bilingual edition's pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// Its heading level in the chapter's own edition (2 or deeper).
    pub level: u8,
    pub title: String,
    /// The heading's line in the markdown file.
    pub line: usize,
    /// What it holds that reads the same in both languages.
    pub tokens: crate::markdown::pairing::Tokens,
}

#[derive(Debug, Clone)]
pub struct Converted {
    pub slug: String,
    pub lang: Lang,
    /// The markdown file, relative to the project root.
    pub path: String,
    /// The virtual path of the generated module, e.g. `/chapters/02-x/en.md.typ`.
    pub module: String,
    pub source: String,
    pub map: SourceMap,
    pub title: String,
    pub sections: Vec<SectionInfo>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Converted {
    /// The location in the markdown file for a byte offset in the module.
    pub fn locate(&self, markdown: &str, offset: usize) -> Location {
        match self.map.lookup(offset) {
            Some((line, col)) => location_of(&self.path, markdown, line, col, 0),
            None => Location::new(&self.path, 1, 1),
        }
    }
}

/// The label of a chapter (and, with an anchor, of one of its headings).
pub fn label(slug: &str, lang: Lang, anchor: Option<&str>) -> String {
    match anchor {
        Some(a) => format!("ch-{slug}-{lang}--{a}"),
        None => format!("ch-{slug}-{lang}"),
    }
}

/// Where each line of a text starts, to find locations without scanning
/// the text from its start each time.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// The location of byte `offset` in `text` (which this indexes), in the
    /// time of a binary search and one line: [`Location::from_offset`]
    /// without counting the lines before it each time.
    pub(crate) fn at(&self, path: &str, text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.0.partition_point(|&s| s <= offset);
        let column = text[self.0[line - 1]..offset].chars().count() + 1;
        Location::new(path, line, column)
    }

    /// [`location_of`], in the time of a binary search and one line.
    pub(crate) fn location(
        &self,
        path: &str,
        text: &str,
        line: usize,
        col: usize,
        extra: usize,
    ) -> Location {
        let starts = &self.0;
        let line_start = starts
            .get(line.saturating_sub(1))
            .or(starts.last())
            .copied()
            .unwrap_or(0);
        let mut offset = (line_start + col.saturating_sub(1) + extra).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = starts.partition_point(|&s| s <= offset);
        let column = text[starts[line - 1]..offset].chars().count() + 1;
        Location::new(path, line, column)
    }
}

/// Location of a markdown (line, byte column) plus `extra` bytes.
pub(crate) fn location_of(
    path: &str,
    text: &str,
    line: usize,
    col: usize,
    extra: usize,
) -> Location {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    Location::from_offset(path, text, start + col.saturating_sub(1) + extra)
}

/// Converts one markdown text as the only chapter (`01-chapter`) of an
/// otherwise empty project rooted at `root`: for tests, fuzzing and
/// benchmarks of the conversion alone.
pub fn convert_text(root: &Path, markdown: &str, lang: Lang) -> Converted {
    use crate::load::project::{ChapterText, Date, FrontMatter, Layout, Manifest};
    use crate::model::lang::Localized;
    let both = |s: &str| Localized {
        en: s.into(),
        ja: s.into(),
    };
    let text = ChapterText {
        lang,
        path: format!("chapters/01-chapter/{lang}.md"),
        text: markdown.to_string(),
        front: FrontMatter::default(),
    };
    let chapter = Chapter {
        number: 1,
        slug: "01-chapter".into(),
        texts: [(lang, text.clone())].into(),
    };
    let project = Project {
        root: root.to_path_buf(),
        manifest: Manifest {
            name: "report".into(),
            title: both("Report"),
            subtitle: None,
            edition: both("Draft"),
            version: "0".into(),
            date: Date {
                year: 2026,
                month: 1,
                day: 1,
            },
            agencies: vec![],
            description: None,
            keywords: vec![],
            layout: Layout::default(),
            output: Default::default(),
        },
        chapters: vec![chapter.clone()],
        skipped: vec![],
        metrics: Metrics::default(),
        fonts: crate::typeset::fonts::Fonts::bundled(),
    };
    let anchors = collect_anchors(&project);
    convert(&project, &anchors, &chapter, &text)
}

/// A piece of a changed block in a redline edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedlineToken {
    Same(String),
    Inserted(String),
    Deleted(String),
}

/// What a redline edition marks in one chapter text, by the index of the
/// chapter's top-level blocks as [`top_blocks`] numbers them.
#[derive(Debug, Clone, Default)]
pub struct Redline {
    /// Blocks whose words changed: their text, word by word.
    pub changed: HashMap<usize, Vec<RedlineToken>>,
    /// Whole blocks of the old version that were removed, shown before the
    /// block of this index (or at the end, for an index past the last).
    pub removed_before: HashMap<usize, Vec<String>>,
    /// Blocks that are new.
    pub inserted: HashSet<usize>,
    /// Blocks set as they are with a bar beside them: moved here, or only
    /// their formatting changed (the summary says which).
    pub noted: HashSet<usize>,
}

/// The label of the place of a change in a redline edition.
pub fn redline_label(slug: &str, lang: Lang, index: usize) -> String {
    format!("redline-{slug}-{lang}-{index}")
}

/// A top-level block of a chapter (heading, paragraph, list, table, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// `heading`, `paragraph`, `list`, `table`, `code`, `quote`, `html`, `rule`, `other`.
    pub kind: &'static str,
    /// Heading level for headings, 0 otherwise.
    pub level: u8,
    /// The text a reader sees.
    pub text: String,
    /// 1-based line in the markdown file.
    pub line: usize,
}

/// The top-level blocks of a parsed chapter, as [`top_blocks`] numbers them.
pub fn top_nodes<'a>(root: &'a AstNode<'a>) -> Vec<&'a AstNode<'a>> {
    root.children()
        .filter(|n| {
            !matches!(
                n.data().value,
                NodeValue::FootnoteDefinition(_) | NodeValue::FrontMatter(_)
            )
        })
        .collect()
}

/// The top-level blocks of a chapter text, in order: the units a redline
/// marks and that translation records pair up.
pub fn top_blocks(markdown: &str) -> Vec<BlockInfo> {
    let arena = Arena::new();
    let root = parse(&arena, markdown, &options_for(markdown));
    top_nodes(root)
        .into_iter()
        .map(|n| {
            let value = n.data().value.clone();
            let (kind, level) = match value {
                NodeValue::Heading(h) => ("heading", h.level),
                NodeValue::Paragraph => ("paragraph", 0),
                NodeValue::List(_) => ("list", 0),
                NodeValue::Table(_) => ("table", 0),
                NodeValue::CodeBlock(_) => ("code", 0),
                NodeValue::BlockQuote | NodeValue::Alert(_) | NodeValue::MultilineBlockQuote(_) => {
                    ("quote", 0)
                }
                NodeValue::HtmlBlock(_) => ("html", 0),
                NodeValue::ThematicBreak => ("rule", 0),
                _ => ("other", 0),
            };
            let text = match &n.data().value {
                NodeValue::CodeBlock(c) => c.literal.clone(),
                NodeValue::HtmlBlock(h) => h.literal.clone(),
                _ => plain_text(n),
            };
            BlockInfo {
                kind,
                level,
                text,
                line: n.data().sourcepos.start.line,
            }
        })
        .collect()
}

pub(crate) type Node<'a> = &'a AstNode<'a>;

/// The level of a top-level heading that opens a section. A heading with
/// no text (`#` alone) has no title to show or to list in the outline, and
/// PDF/UA refuses an empty heading: it opens no section and is left out.
pub(crate) fn section_level(node: Node<'_>) -> Option<u8> {
    match node.data().value {
        NodeValue::Heading(h) if !plain_text(node).trim().is_empty() => Some(h.level),
        _ => None,
    }
}

/// A chapter text's title as the reader sees it: its front matter's, else
/// its first heading's, else the folder's slug made a title.
pub fn chapter_title(text: &ChapterText, slug: &str) -> String {
    if let Some(title) = &text.front.title {
        return title.clone();
    }
    let arena = Arena::new();
    let root = parse(&arena, &text.text, &options_for(&text.text));
    let top = top_nodes(root);
    title_node(text, &top)
        .map(plain_text)
        .unwrap_or_else(|| slug_title(slug))
}

/// The heading that is the chapter's title and leaves its body, if any.
/// Without a front matter title, the first heading names the chapter.
pub(crate) fn title_node<'n>(text: &ChapterText, top: &[Node<'n>]) -> Option<Node<'n>> {
    let first_heading = top.iter().copied().find(|n| section_level(n).is_some());
    // It leaves the body only when nothing a reader sees comes before it
    // (comments, as translators leave them, do not count): otherwise the text
    // before it would move after it.
    let opens = first_heading.is_some_and(|h| {
        top.iter()
            .take_while(|n| !std::ptr::eq(**n, h))
            .all(|n| is_invisible(n))
    });
    if text.front.title.is_some() || !opens {
        None
    } else {
        first_heading
    }
}

/// Typst for HTML tags that have a faithful rendering: the opening of a
/// content call that the matching closing tag ends with `]`.
pub(crate) fn html_inline_open(name: &str) -> Option<&'static str> {
    Some(match name {
        "sub" => "#sub[",
        "sup" => "#super[",
        "kbd" => "#renga-kbd[",
        "b" | "strong" => "#strong[",
        "i" | "em" | "cite" | "dfn" | "var" => "#emph[",
        "u" | "ins" => "#underline[",
        "s" | "del" | "strike" => "#strike[",
        "mark" => "#highlight[",
        "code" | "tt" | "samp" => "#renga-code[",
        "small" => "#text(size: 0.85em)[",
        "summary" => "#strong[",
        "span" | "abbr" | "q" | "p" | "div" | "details" | "center" | "section" | "article" => "#[",
        _ => return None,
    })
}

/// A chapter's title when it has neither a `title` nor a heading: its
/// folder's name without the number, as words (`09-open-data` → `Open data`).
pub fn slug_title(slug: &str) -> String {
    let name = slug.split_once('-').map_or(slug, |(_, rest)| rest);
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => slug.to_string(),
    }
}

/// Straight quotes, hyphens and dots back in place of the typographic ones
/// comrak's smart punctuation made, for text inside HTML code tags.
pub(crate) fn undo_smart_punctuation(text: &str) -> String {
    text.replace(['‘', '’'], "'")
        .replace(['“', '”'], "\"")
        .replace('—', "---")
        .replace('–', "--")
        .replace('…', "...")
}

/// A parsed HTML tag.
#[derive(Debug, PartialEq)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) closing: bool,
    pub(crate) self_closing: bool,
    pub(crate) attrs: Vec<(String, String)>,
}

impl Tag {
    pub(crate) fn parse(html: &str) -> Option<Tag> {
        let inner = html.trim().strip_prefix('<')?.strip_suffix('>')?;
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let (inner, self_closing) = match inner.trim_end().strip_suffix('/') {
            Some(rest) => (rest, true),
            None => (inner, false),
        };
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        if name.is_empty()
            || !name.chars().next()?.is_ascii_alphabetic()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return None;
        }
        let mut attrs = Vec::new();
        let mut rest = inner[name_end..].trim_start();
        while !rest.is_empty() {
            let key_end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            let key = rest[..key_end].to_ascii_lowercase();
            rest = rest[key_end..].trim_start();
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (v, r) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &after[1..];
                        let end = body.find(q).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after.find(char::is_whitespace).unwrap_or(after.len());
                        (&after[..end], &after[end..])
                    }
                };
                value = decode_entities(v);
                rest = r.trim_start();
            }
            if key.is_empty() {
                break;
            }
            attrs.push((key, value));
        }
        Some(Tag {
            name,
            closing,
            self_closing,
            attrs,
        })
    }

    pub(crate) fn attr(&self, key: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// A piece of an author's raw HTML, as both writers read it.
pub(crate) enum HtmlPiece {
    /// A tag the raw HTML policy parses.
    Tag(Tag),
    /// Text between tags: entities decoded, white space collapsed, with
    /// whether white space stood before and after it.
    Text {
        text: String,
        space_before: bool,
        space_after: bool,
    },
}

/// An author's raw HTML cut into tags and text, comments dropped: one
/// reading for the Typst and the HTML writer.
pub(crate) fn html_pieces(html: &str) -> Vec<HtmlPiece> {
    let mut pieces = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |i| &comment[i + 3..]);
            continue;
        }
        if rest.starts_with('<')
            && let Some(end) = rest.find('>')
            && let Some(tag) = Tag::parse(&rest[..=end])
        {
            pieces.push(HtmlPiece::Tag(tag));
            rest = &rest[end + 1..];
            continue;
        }
        // Text up to the next tag (past the first character, which may be a
        // `<` that starts no tag, or wider than one byte).
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first..].find('<').map_or(rest.len(), |i| i + first);
        let text = decode_entities(&rest[..next]);
        let collapsed: Vec<&str> = text.split_whitespace().collect();
        if !collapsed.is_empty() {
            pieces.push(HtmlPiece::Text {
                text: collapsed.join(" "),
                space_before: text.starts_with(char::is_whitespace),
                space_after: text.ends_with(char::is_whitespace),
            });
        }
        rest = &rest[next..];
    }
    pieces
}

/// The `src` of every `<img>` in an author's raw HTML, read as the writers
/// read it (the images it shows in every edition).
pub fn html_image_sources(html: &str) -> Vec<String> {
    html_pieces(html)
        .into_iter()
        .filter_map(|piece| match piece {
            HtmlPiece::Tag(tag) if tag.name == "img" && !tag.closing => tag.attr("src"),
            _ => None,
        })
        .collect()
}

/// Decodes the HTML entities authors actually write; others stay as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "copy" => Some('©'),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

pub(crate) fn has_scheme(url: &str) -> bool {
    match url.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Where a decoded image address in a chapter of folder `dir` points: the
/// one rule the resolver and `diff` share (`/`-rooted at the project root,
/// else beside the chapter).
pub enum ImageTarget {
    /// A path relative to the project root.
    Project(String),
    /// An absolute file-system path, which a chapter may not use.
    Absolute,
    /// A path that climbs out of the project folder.
    Outside,
}

/// The target of the (already percent-decoded) image address `decoded`.
pub fn image_target(dir: &str, decoded: &str) -> ImageTarget {
    let (base, relative) = match decoded.strip_prefix('/') {
        Some(rest) if !rest.starts_with('/') => ("", rest),
        _ => (dir, decoded),
    };
    if relative.starts_with(['/', '\\']) || Path::new(relative).is_absolute() {
        return ImageTarget::Absolute;
    }
    match normalize(base, relative) {
        Some(rel) => ImageTarget::Project(rel),
        None => ImageTarget::Outside,
    }
}

/// The project-relative path an image address in a chapter of folder
/// `dir` names, as the resolver reads it; `None` for a remote, absolute or
/// escaping one.
pub fn image_rel(dir: &str, url: &str) -> Option<String> {
    if has_scheme(url) {
        return None;
    }
    match image_target(dir, &percent_decode(url)) {
        ImageTarget::Project(rel) if !rel.is_empty() => Some(rel),
        _ => None,
    }
}

/// Joins `path` to the folder `base` (both relative to the project root)
/// lexically; `None` if the result would leave the root.
pub fn normalize(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<String> = base
        .split('/')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    for comp in Path::new(path).components() {
        match comp {
            Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// The text of a node and its descendants, as a reader would say it.
pub fn plain_text<'a>(node: &'a AstNode<'a>) -> String {
    let mut out = String::new();
    for d in node.descendants() {
        match &d.data().value {
            NodeValue::Text(t) => out.push_str(t),
            NodeValue::Code(c) => out.push_str(&c.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Whether a top-level block shows nothing to a reader: an HTML block of
/// comments and empty tags (`<!-- … -->`, `<a name="x"></a>`).
pub(crate) fn is_invisible<'a>(node: &'a AstNode<'a>) -> bool {
    let NodeValue::HtmlBlock(html) = &node.data().value else {
        return false;
    };
    let mut rest = html.literal.as_str();
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |i| &comment[i + 3..]);
        } else if rest.starts_with('<')
            && let Some(end) = rest.find('>')
            && let Some(tag) = Tag::parse(&rest[..=end])
            && !matches!(
                tag.name.as_str(),
                "img" | "hr" | "br" | "input" | "svg" | "video" | "audio" | "iframe" | "object"
            )
        {
            rest = &rest[end + 1..];
        } else {
            return false;
        }
    }
    true
}

/// The first (or last) character a node shows, looking into its children.
pub(crate) fn edge_char<'a>(node: &'a AstNode<'a>, first: bool) -> Option<char> {
    match &node.data().value {
        NodeValue::Text(t) => {
            if first {
                t.chars().next()
            } else {
                t.chars().next_back()
            }
        }
        NodeValue::Code(c) => {
            if first {
                c.literal.chars().next()
            } else {
                c.literal.chars().next_back()
            }
        }
        _ => {
            // Down a chain of first (last) children without recursion: a
            // hostile chapter nests emphasis thousands deep.
            let mut child = if first {
                node.first_child()
            } else {
                node.last_child()
            };
            while let Some(c) = child {
                if matches!(c.data().value, NodeValue::Text(_) | NodeValue::Code(_)) {
                    return edge_char(c, first);
                }
                child = if first {
                    c.first_child()
                } else {
                    c.last_child()
                };
            }
            None
        }
    }
}

/// How deeply `node` sits in its document (the document is 0), counting
/// at most `limit + 1` levels: what the writers compare with [`MAX_NESTING`].
pub(crate) fn depth_at_most<'a>(node: &'a AstNode<'a>, limit: usize) -> usize {
    let mut depth = 0;
    let mut parent = node.parent();
    while let Some(p) = parent {
        depth += 1;
        if depth > limit {
            break;
        }
        parent = p.parent();
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer: an HTML block whose text starts with a
    /// character wider than one byte.
    #[test]
    fn html_block_text_may_start_with_a_wide_character() {
        let dir = tempfile::tempdir().unwrap();
        let md = "-  notc foo\n\n<!--T -->\u{a0}*  c\u{0}ode\n";
        let converted = convert_text(dir.path(), md, Lang::En);
        assert!(converted.source.contains("c"));
        let (errors, _) = ::typst::syntax::parse(&converted.source).errors_and_warnings();
        assert!(errors.is_empty(), "{errors:?}");
    }

    /// Found by the fuzzer: nesting deeper than typst's parser allows.
    #[test]
    fn deep_nesting_is_flattened_not_a_typst_error() {
        let dir = tempfile::tempdir().unwrap();
        for md in [
            format!("{}deep quote\n", "> ".repeat(300)),
            format!("{}deep list\n", "- ".repeat(150)),
            format!("- {}deep emphasis{}\n", "*_".repeat(150), "_*".repeat(150)),
            format!(
                "{}text[^1]\n\n[^1]: {}note\n",
                "> ".repeat(100),
                "> ".repeat(100)
            ),
        ] {
            let converted = convert_text(dir.path(), &md, Lang::En);
            let (errors, _) = ::typst::syntax::parse(&converted.source).errors_and_warnings();
            assert!(errors.is_empty(), "{errors:?}");
            assert!(converted.source.contains("deep") || converted.source.contains("note"));
            let flattened = converted.diagnostics.iter().any(|d| d.code == "nesting");
            // comrak itself limits how deep emphasis can nest.
            assert!(
                flattened || md.starts_with("- *"),
                "not flattened: {}",
                &md[..20]
            );
        }
    }

    #[test]
    fn shortcodes_are_cut_out_of_text() {
        assert_eq!(
            shortcodes("a {{x}} {{metric sg.a.b}} b {{ metric k date }}"),
            vec![
                Piece::Text("a {{x}} "),
                Piece::Metric {
                    key: "sg.a.b",
                    field: None,
                    extra: false,
                    typo: None,
                    offset: 8,
                    len: 17
                },
                Piece::Text(" b "),
                Piece::Metric {
                    key: "k",
                    field: Some("date"),
                    extra: false,
                    typo: None,
                    offset: 28,
                    len: 19
                },
            ]
        );
        assert_eq!(shortcodes("{{metric"), vec![Piece::Text("{{metric")]);
        // Mistyped references are found (to be refused); other braces are text.
        for (text, typo) in [
            ("{{metrics sg.a.b}}", "metrics"),
            ("{{metric: sg.a.b}}", "metric:"),
            ("{{Metirc sg.a.b}}", "Metirc"),
        ] {
            assert!(
                matches!(shortcodes(text)[..], [Piece::Metric { typo: Some(t), key: "sg.a.b", .. }] if t == typo),
                "{text}"
            );
        }
        for text in [
            "{{#include x.rs}}",
            "{{ site.title }}",
            "{{x}}",
            "{{meter 3}}",
        ] {
            assert_eq!(shortcodes(text), vec![Piece::Text(text)], "{text}");
        }
        assert!(shortcodes("").is_empty());
    }

    #[test]
    fn tags_parse_with_attributes() {
        let t = Tag::parse(r#"<img src="a b.svg" alt='x &amp; y' />"#).unwrap();
        assert_eq!(t.name, "img");
        assert!(t.self_closing);
        assert_eq!(t.attr("src").as_deref(), Some("a b.svg"));
        assert_eq!(t.attr("alt").as_deref(), Some("x & y"));
        assert!(Tag::parse("</sub>").unwrap().closing);
        assert!(Tag::parse("<!-- c -->").is_none());
    }

    #[test]
    fn normalize_refuses_to_leave_the_root() {
        assert_eq!(
            normalize("chapters/01-a", "fig.svg").as_deref(),
            Some("chapters/01-a/fig.svg")
        );
        assert_eq!(
            normalize("chapters/01-a", "../02-b/en.md").as_deref(),
            Some("chapters/02-b/en.md")
        );
        assert_eq!(normalize("chapters/01-a", "../../../etc/passwd"), None);
        assert_eq!(normalize("chapters/01-a", "/etc/passwd"), None);
    }

    #[test]
    fn percent_decoding_never_splits_characters() {
        assert_eq!(percent_decode("a%20b.svg"), "a b.svg");
        assert_eq!(percent_decode("%aé%"), "%aé%");
        assert_eq!(percent_decode("%E3%83%87"), "デ");
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a &amp; b &#65;&#x42; &unknown; &"),
            "a & b AB &unknown; &"
        );
    }

    #[test]
    fn schemes_are_recognised() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("mailto:a@b"));
        assert!(!has_scheme("../a.md"));
        assert!(!has_scheme("c:")); // too short to be a scheme we honour; a drive letter
    }

    #[test]
    fn the_line_index_finds_the_same_locations_as_a_scan() {
        for text in ["", "a", "ab\ncd\n", "一二三\n\nxé\n四五", "\n\n\n"] {
            let index = LineIndex::new(text);
            for line in 1..6 {
                for col in 1..8 {
                    for extra in 0..4 {
                        assert_eq!(
                            index.location("f.md", text, line, col, extra),
                            location_of("f.md", text, line, col, extra),
                            "{text:?} {line}:{col}+{extra}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn source_map_finds_the_nearest_mark() {
        let mut m = SourceMap::default();
        m.mark(0, 1, 1);
        m.mark(10, 3, 5);
        m.mark(20, 4, 1);
        assert_eq!(m.lookup(15), Some((3, 5)));
        assert_eq!(m.lookup(25), Some((4, 1)));
        assert_eq!(m.lookup(0), Some((1, 1)));
    }
}
