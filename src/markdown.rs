//! Stage 2: markdown chapters to Typst modules.
//!
//! Each chapter file becomes one generated Typst module that defines
//! `chapter-heading` (the level-1 heading) and `sections` (an array of
//! content, one per section, the text before the first heading first), so
//! that templates can lay a chapter out alone or beside its translation.
//! Author text only ever reaches the output through [`crate::escape`].

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};

use comrak::nodes::{AstNode, ListType, NodeValue, TableAlignment};
use comrak::{Anchorizer, Arena, Options, parse_document};

use crate::diag::{Diagnostic, Location};
use crate::escape;
use crate::format;
use crate::lang::{Lang, is_cjk};
use crate::project::{Chapter, ChapterText, Metric, Metrics, Project};

pub mod html;

/// How deeply markdown may nest (quotes, lists, emphasis…) before its
/// structure is flattened. Typst's parser allows 256 levels, and one level
/// of markdown takes up to about four in the generated Typst.
const MAX_NESTING: usize = 40;

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
    if crate::project::split_yaml_front_matter(text).is_some() {
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

/// The anchors of a markdown text's top-level headings, as links name them.
fn heading_anchors(markdown: &str) -> Vec<String> {
    let options = options_for(markdown);
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &options);
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
    fn mark(&mut self, offset: usize, line: usize, column: usize) {
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
    pub tokens: crate::pairing::Tokens,
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
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// [`location_of`], in the time of a binary search and one line.
    fn location(&self, path: &str, text: &str, line: usize, col: usize, extra: usize) -> Location {
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
fn location_of(path: &str, text: &str, line: usize, col: usize, extra: usize) -> Location {
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
    use crate::lang::Localized;
    use crate::project::{ChapterText, Date, FrontMatter, Layout, Manifest};
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
        fonts: crate::fonts::Fonts::bundled(),
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
    let root = parse_document(&arena, markdown, &options_for(markdown));
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
    let root = parse_document(&arena, &text.text, &options);
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

type Node<'a> = &'a AstNode<'a>;

/// The level of a top-level heading that opens a section. A heading with
/// no text (`#` alone) has no title to show or to list in the outline, and
/// PDF/UA refuses an empty heading: it opens no section and is left out.
pub(crate) fn section_level(node: Node<'_>) -> Option<u8> {
    match node.data().value {
        NodeValue::Heading(h) if !plain_text(node).trim().is_empty() => Some(h.level),
        _ => None,
    }
}

/// The heading that is the chapter's title and leaves its body, if any.
/// Without a front matter title, the first heading names the chapter.
fn title_node<'n>(text: &ChapterText, top: &[Node<'n>]) -> Option<Node<'n>> {
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

struct Writer<'a, 'n> {
    out: String,
    map: SourceMap,
    diagnostics: Vec<Diagnostic>,
    root: &'a Path,
    fonts: &'a crate::fonts::Fonts,
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
    /// Where each line of the markdown starts: locations are found without
    /// scanning the file from its start each time (quadratic in a long
    /// chapter, which places every metric reference).
    lines: LineIndex,
    /// Depth of open `<rp>` tags, whose text ruby set above the base replaces.
    hidden: usize,
    /// Whether the text being written is a heading's.
    in_heading: bool,
}

/// The resolving half of the conversion: what a metric reference, a link or
/// an image path in a chapter means, decided once for every writer (Typst
/// and any other writer), so that the editions cannot drift apart.
/// Problems come back as diagnostics without a place: the writer knows the node.
#[derive(Clone, Copy)]
pub(crate) struct Resolve<'a> {
    pub root: &'a Path,
    /// Chapter folders refused for an error of their own (see [`Project::skipped`]).
    pub skipped: &'a [String],
    pub metrics: &'a Metrics,
    pub anchors: &'a Anchors<'a>,
    pub chapter: &'a Chapter,
    pub lang: Lang,
    /// Draft builds: a missing image is a warning (and a placeholder).
    pub draft: bool,
}

/// A `{{metric …}}` reference, resolved.
pub(crate) struct MetricRef<'a> {
    pub metric: &'a Metric,
    /// What the reader sees, in the chapter's language.
    pub text: String,
}

impl<'a> Resolve<'a> {
    /// A metric reference (`key`, then an optional field; `extra` if more
    /// words followed). On error: the diagnostic and the text to show instead.
    pub fn metric(
        &self,
        key: &str,
        field: Option<&str>,
        extra: bool,
    ) -> Result<MetricRef<'a>, Box<(Diagnostic, String)>> {
        let written = format!("{{{{metric {key}}}}}");
        let Some(metric) = metric_named(self.metrics, key) else {
            let mut d = Diagnostic::error("metric-unknown", format!("unknown metric `{key}`"));
            if let Some(file) = self.metrics.failed_file(key) {
                // The file's own error says what is wrong; a guess at another
                // metric would invite a wrong fix.
                // A warning: the file's error is the one problem (and already
                // fails the build); this only says why the figure is missing.
                d = Diagnostic::warning(
                    "metric-unresolved",
                    format!("metric `{key}` is unresolved because {file} failed to load"),
                )
                .hint(format!("fix the error reported in {file}"));
            } else if let Some(close) = self.metrics.closest(key) {
                d = d.hint(format!("did you mean `{close}`?"));
            } else {
                d = d.hint("metric ids are `<agency>.<file>.<id>`, from data/<agency>/<file>.toml");
            }
            return Err(Box::new((d, written)));
        };
        match metric_text(metric, field, extra, self.lang) {
            Some(text) => Ok(MetricRef { metric, text }),
            None => Err(Box::new((
                Diagnostic::error("metric-syntax", format!("cannot read this metric reference to `{key}`"))
                    .hint("write `{{metric ID}}` for the value or `{{metric ID date}}` for its as-of date"),
                written,
            ))),
        }
    }
}

/// The metric a reference names: keys are lowercase, and
/// `{{metric SG.Identity.Users}}` means the same as `sg.identity.users`.
pub(crate) fn metric_named<'m>(metrics: &'m Metrics, key: &str) -> Option<&'m Metric> {
    metrics.get(&key.to_ascii_lowercase())
}

/// What a reference to `metric` prints: its value (no field) or its as-of
/// date (`date`, in any case); `None` for any other field or more words.
pub(crate) fn metric_text(
    metric: &Metric,
    field: Option<&str>,
    extra: bool,
    lang: Lang,
) -> Option<String> {
    match (field, extra) {
        (None, false) => Some(format::metric(metric, lang)),
        (Some(f), false) if f.eq_ignore_ascii_case("date") => {
            Some(format::date(metric.as_of, lang))
        }
        _ => None,
    }
}

/// A run of chapter text cut at its `{{metric …}}` shortcodes: the one
/// recogniser of metric references, for the editions and for `renga diff`.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'t> {
    Text(&'t str),
    Metric {
        key: &'t str,
        field: Option<&'t str>,
        /// More words followed the field: a malformed reference.
        extra: bool,
        /// Byte offset and length of the whole shortcode in the run.
        offset: usize,
        len: usize,
    },
}

/// Finds the metric shortcodes of a text run; every other `{{` is text.
pub(crate) fn shortcodes(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    let mut plain_from = 0;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        let mut words = inner.split_whitespace();
        // `{{METRIC id}}` and `{{Metric id}}` are what the author meant.
        if !words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("metric"))
        {
            consumed += start + 2;
            rest = &rest[start + 2..];
            continue;
        }
        if plain_from < consumed + start {
            out.push(Piece::Text(&text[plain_from..consumed + start]));
        }
        out.push(Piece::Metric {
            key: words.next().unwrap_or(""),
            field: words.next(),
            extra: words.next().is_some(),
            offset: consumed + start,
            len: len + 2,
        });
        consumed += start + len + 2;
        plain_from = consumed;
        rest = &rest[start + len + 2..];
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// Typst for HTML tags that have a faithful rendering: the opening of a
/// content call that the matching closing tag ends with `]`.
fn html_inline_open(name: &str) -> Option<&'static str> {
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
        for (piece, foreign) in crate::lang::script_runs(&text, self.lang()) {
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
        if text.chars().all(|c| c.is_ascii() || self.fonts.covers(c)) {
            return text.into();
        }
        let mut out = String::with_capacity(text.len());
        let fonts = self.fonts;
        for c in text.chars() {
            let covered = c.is_ascii() || fonts.covers(c);
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
                        format!("no bundled font has the character {c} (U+{:04X}); it is shown as [U+{:04X}]", c as u32, c as u32),
                    )
                    .at(at)
                    .hint(format!("put a font that has it (for example an OFL-licensed Noto font for its script, .ttf or .otf) in the project's {}/ folder; renga embeds it after its own fonts", crate::fonts::FOLDER)),
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
                    crate::pairing::collect_tokens(node, &mut section.tokens);
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
            let mut tokens = crate::pairing::Tokens::new();
            crate::pairing::collect_tokens(node, &mut tokens);
            // The comment a translator keeps the original heading in, just
            // above it, belongs to this section.
            if let Some(previous) = node.previous_sibling()
                && is_invisible(previous)
            {
                crate::pairing::collect_tokens(previous, &mut tokens);
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

    /// The text of a container, without its structure.
    fn flat(&mut self, node: Node<'n>) {
        let mut first = true;
        for child in node.children() {
            if !first {
                self.out.push_str("\n\n");
            }
            first = false;
            if child.first_child().is_some_and(|c| c.data().value.block())
                || matches!(child.data().value, NodeValue::TableRow(_))
            {
                self.flat(child);
            } else if matches!(child.data().value, NodeValue::TableCell) {
                self.inlines(child);
            } else {
                self.block(child);
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
                    if !(before.is_some_and(is_cjk) && after.is_some_and(is_cjk)) {
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
            return self.inlines(node);
        }
        self.out.push_str(open);
        self.inlines(node);
        self.out.push(']');
    }

    /// Whether `node` is nested so deeply that its structure must be dropped
    /// (its text is kept): typst's parser refuses sources nested beyond a
    /// fixed depth, and each level of markdown nesting costs several.
    fn too_deep(&mut self, node: Node<'n>) -> bool {
        let mut depth = 0;
        let mut parent = node.parent();
        while let Some(p) = parent {
            depth += 1;
            parent = p.parent();
        }
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
                    offset,
                    len,
                } => {
                    let pos = node.data().sourcepos.start;
                    let at = self.location(pos.line, pos.column, offset).with_len(len);
                    self.metric(key, field, extra, at);
                }
            }
        }
    }

    fn metric(&mut self, key: &str, field: Option<&str>, extra: bool, at: Location) {
        match self.resolver().metric(key, field, extra) {
            Ok(m) => {
                self.out.push_str("#renga-metric(");
                escape::string_into(&mut self.out, &m.metric.key);
                self.out.push_str(")[");
                self.plain(&m.text);
                self.out.push(']');
            }
            Err(e) => {
                let (d, text) = *e;
                self.diagnostics.push(d.at(at));
                escape::markup_into(&mut self.out, &text);
            }
        }
    }

    fn link(&mut self, node: Node<'n>, url: &str) {
        if self.too_deep(node) {
            return self.inlines(node);
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

// The resolving halves stay beside the writing halves that call them.
impl Resolve<'_> {
    /// What a link points to, and a warning when it cannot link as written.
    pub fn link(&self, url: &str) -> (LinkTarget, Option<Diagnostic>) {
        if url.is_empty() {
            return (LinkTarget::None, None);
        }
        if has_scheme(url) {
            return (LinkTarget::External(url.to_string()), None);
        }
        let (path, fragment) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let (slug, lang) = if path.is_empty() {
            (self.chapter.slug.clone(), self.lang)
        } else {
            let Some(target) = normalize(&self.chapter.dir(), path) else {
                let d = Diagnostic::warning(
                    "link-outside",
                    format!("link `{url}` leaves the project; it is set as text"),
                );
                return (LinkTarget::None, Some(d));
            };
            let parts: Vec<&str> = target.split('/').collect();
            match parts.as_slice() {
                ["chapters", slug, file] if file.ends_with(".md") => {
                    let lang = Lang::from_code(file.trim_end_matches(".md"));
                    match lang {
                        // The other language's file: an edition holds this
                        // text's language, so link to the chapter (and the
                        // heading in the same place) in this language.
                        Some(lang) if lang != self.lang && self.anchors.has(slug, self.lang) => {
                            return self.translated_target(url, slug, lang, fragment);
                        }
                        Some(lang) if self.anchors.has(slug, lang) => (slug.to_string(), lang),
                        // Its folder's own error says why it is not typeset.
                        _ if self.skipped.iter().any(|s| s == slug) => {
                            return (LinkTarget::None, None);
                        }
                        _ => {
                            let d = Diagnostic::warning(
                                "link-broken",
                                format!(
                                    "link `{url}` points to no chapter of this report; it is set as text"
                                ),
                            );
                            return (LinkTarget::None, Some(d));
                        }
                    }
                }
                ["chapters", slug] | ["chapters", slug, ""]
                    if self.anchors.has(slug, self.lang) =>
                {
                    (slug.to_string(), self.lang)
                }
                ["chapters", slug, ..] if self.skipped.iter().any(|s| s == slug) => {
                    return (LinkTarget::None, None);
                }
                _ => {
                    let d = Diagnostic::warning("link-file", format!("link `{url}` points to a file, not a chapter; it is set as text"))
                        .hint("link to a chapter as `../NN-slug/en.md`, or to a web page with a full https:// address");
                    return (LinkTarget::None, Some(d));
                }
            }
        };
        match fragment {
            None | Some("") => (LinkTarget::Label(label(&slug, lang, None)), None),
            Some(anchor) => {
                let known = self.anchors.contains(&slug, lang, anchor);
                if known {
                    (LinkTarget::Label(label(&slug, lang, Some(anchor))), None)
                } else {
                    let d = Diagnostic::warning(
                        "link-anchor",
                        format!(
                            "link `{url}`: chapters/{slug}/{lang}.md has no heading `#{anchor}`; it links to the chapter"
                        ),
                    );
                    (LinkTarget::Label(label(&slug, lang, None)), Some(d))
                }
            }
        }
    }

    /// A link to `slug`'s text in `lang`, the other language, resolved to the
    /// same chapter in this text's language: a heading by its place among
    /// the chapter's headings, as the bilingual edition pairs them.
    fn translated_target(
        &self,
        url: &str,
        slug: &str,
        lang: Lang,
        fragment: Option<&str>,
    ) -> (LinkTarget, Option<Diagnostic>) {
        let own = self.lang;
        let Some(anchor) = fragment.filter(|f| !f.is_empty()) else {
            return (LinkTarget::Label(label(slug, own, None)), None);
        };
        let place = self
            .anchors
            .list(slug, lang)
            .and_then(|list| list.iter().position(|a| a == anchor));
        let mine = self.anchors.list(slug, own);
        let mapped = place.and_then(|i| mine.as_ref()?.get(i).cloned());
        match mapped {
            Some(mine) => (LinkTarget::Label(label(slug, own, Some(&mine))), None),
            None => {
                let d = Diagnostic::warning("link-anchor", format!("link `{url}` points to the {lang} text, which the {own} chapter stands for here; chapters/{slug}/{own}.md has no heading in the place of `#{anchor}`, so it links to the chapter"))
                    .hint(format!("link to chapters/{slug}/{own}.md and one of its headings"));
                (LinkTarget::Label(label(slug, own, None)), Some(d))
            }
        }
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
                if alt.trim().is_empty() {
                    self.error(node, "image-alt", format!("image `{url}` has no alt text"))
                        .hints
                        .push("describe the image for readers who cannot see it: ![what it shows](file.svg)".into());
                    // Reported once, here: the image is left out so that the
                    // PDF/UA check of the export does not report it again.
                    return;
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
                if block && !title.is_empty() {
                    self.out.push_str(", caption: [");
                    self.plain(title);
                    self.out.push(']');
                }
                self.out.push(')');
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

impl Resolve<'_> {
    /// The virtual path of an image referenced from this chapter, checked to
    /// stay inside the project and to exist. A path starting with `/` starts
    /// at the project root, as static site generators read it.
    pub fn image_path(&self, url: &str) -> Result<String, Diagnostic> {
        let decoded = percent_decode(url);
        let (base, relative) = match decoded.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => (String::new(), rest),
            _ => (self.chapter.dir(), decoded.as_str()),
        };
        if relative.starts_with(['/', '\\']) || Path::new(relative).is_absolute() {
            return Err(
                Diagnostic::error("image-path", format!("image path `{url}` is absolute"))
                    .hint("reference images relative to the chapter file (`figure.svg`) or to the project folder (`/images/figure.svg`)"),
            );
        }
        let Some(rel) = normalize(&base, relative) else {
            return Err(Diagnostic::error(
                "image-outside",
                format!("image path `{url}` leaves the project folder"),
            ));
        };
        let real = match crate::confine::Root::new(self.root).resolve(&rel) {
            Ok(real) => real,
            Err(crate::confine::ReadError::Missing { dangling: None }) => {
                let d = if self.draft {
                    Diagnostic::warning(
                        "image-missing",
                        format!(
                            "image `{url}` not found (looked for {rel}); this draft shows a placeholder"
                        ),
                    )
                } else {
                    Diagnostic::error("image-missing", format!("image `{url}` not found (looked for {rel})"))
                        .hint("add the image, or build a draft (`draft = true` in [layout]) to see a placeholder in its place")
                };
                return Err(d);
            }
            Err(err) => {
                // Placed at the image in the chapter, naming the link.
                let d = err.diagnostic(&rel);
                return Err(Diagnostic {
                    location: None,
                    ..d
                });
            }
        };
        let ext = rel.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if !matches!(
            ext.as_str(),
            "svg" | "png" | "jpg" | "jpeg" | "gif" | "webp"
        ) {
            return Err(Diagnostic::error(
                "image-format",
                format!("image `{url}` is not SVG, PNG, JPEG, GIF or WebP"),
            ));
        }
        if matches!(ext.as_str(), "jpg" | "jpeg") && is_cmyk_jpeg(&real) {
            return Err(Diagnostic::error(
                "image-cmyk",
                format!("image `{url}` is a CMYK JPEG, which a PDF/A file cannot hold without a print profile"),
            )
            .hint(format!("convert it to RGB, e.g. `magick {rel} -colorspace sRGB {rel}`")));
        }
        Ok(format!("/{rel}"))
    }
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
        self.footnotes_used.insert(name.to_string());
        // A note in a heading is the chapter's, not the contents' (the
        // prelude leaves it out of the outline).
        let in_heading = std::mem::take(&mut self.in_heading);
        if in_heading {
            self.out.push_str("#renga-heading-note[");
        }
        self.out.push_str("#footnote[");
        self.blocks(def);
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
                self.tag(node, &tag, &mut open);
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
                if text.starts_with(char::is_whitespace) && !self.out.ends_with(['[', ' ', '\n']) {
                    self.out.push(' ');
                }
                self.plain(&collapsed.join(" "));
                if text.ends_with(char::is_whitespace) {
                    self.out.push(' ');
                }
            }
            rest = &rest[next..];
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
fn undo_smart_punctuation(text: &str) -> String {
    text.replace(['‘', '’'], "'")
        .replace(['“', '”'], "\"")
        .replace('—', "---")
        .replace('–', "--")
        .replace('…', "...")
}

pub(crate) enum LinkTarget {
    External(String),
    Label(String),
    None,
}

/// A parsed HTML tag.
#[derive(Debug, PartialEq)]
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn parse(html: &str) -> Option<Tag> {
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

    fn attr(&self, key: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
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

/// Whether a JPEG stores CMYK (or YCCK) colour: typst embeds JPEGs as they
/// are, and PDF/A refuses CMYK images without an output profile.
fn is_cmyk_jpeg(path: &Path) -> bool {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes));
    decoder.decode_headers().is_ok()
        && matches!(
            decoder.input_colorspace(),
            Some(ColorSpace::CMYK | ColorSpace::YCCK)
        )
}

fn has_scheme(url: &str) -> bool {
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
fn is_invisible<'a>(node: &'a AstNode<'a>) -> bool {
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
fn edge_char<'a>(node: &'a AstNode<'a>, first: bool) -> Option<char> {
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
            let child = if first {
                node.first_child()
            } else {
                node.last_child()
            };
            child.and_then(|c| edge_char(c, first))
        }
    }
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
        let (errors, _) = typst::syntax::parse(&converted.source).errors_and_warnings();
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
            let (errors, _) = typst::syntax::parse(&converted.source).errors_and_warnings();
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
                    offset: 8,
                    len: 17
                },
                Piece::Text(" b "),
                Piece::Metric {
                    key: "k",
                    field: Some("date"),
                    extra: false,
                    offset: 28,
                    len: 19
                },
            ]
        );
        assert_eq!(shortcodes("{{metric"), vec![Piece::Text("{{metric")]);
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
