//! `renga diff`: what changed between two versions of the report, in the
//! report's own terms (chapters, blocks, words, metrics), for a terminal,
//! a pull request comment or a tool, and as a redline edition in PDF.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::args::{DiffArgs, DiffFormat};
use crate::diag::{self, Diagnostics};
use crate::git::Version;
use crate::lang::{Lang, Localized, is_cjk};
use crate::markdown::{self, Redline, RedlineToken};
use crate::pipeline::{self, Edition, RedlineEntry, RedlineInput, Timings};
use crate::project::{self, Chapter, Metric, Project, Unit};
use crate::review::{self, Block, Change, Op, Pair};
use crate::{format, translation};

pub fn run(args: &DiffArgs, quiet: bool) -> i32 {
    let from = match &args.from {
        Some(spec) => Version::open(spec, &args.project),
        None => crate::git::revision(&args.project, "HEAD").map_err(|err| {
            format!("{err}\nhint: without FROM, renga diff compares with HEAD; to compare two folders, give both: renga diff OLD NEW")
        }),
    };
    let to = match &args.to {
        Some(spec) => Version::open(spec, &args.project),
        None => Ok(Version::folder(&args.project, "working tree")),
    };
    let (from, to) = match (from, to) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("error: {err}");
            return 1;
        }
    };
    let (Some(old), Some(new)) = (load(&from), load(&to)) else {
        return 1;
    };
    let report = compare(&from.label, &to.label, &old, &new);
    let text = match args.format {
        DiffFormat::Terminal => terminal(&report, use_colour()),
        DiffFormat::Markdown => markdown_comment(&report),
        DiffFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    // A reader that stops early (`| head`) is no error.
    if let Err(err) = stdout.write_all(text.as_bytes())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the diff: {err}");
        return 1;
    }
    drop(stdout);
    match &args.pdf {
        Some(path) => write_redline(&to, &redline(&old, &new, &report), path, quiet),
        None => 0,
    }
}

/// Loads a version; errors that leave it unreadable, or that hide part of
/// it from the comparison, are printed.
fn load(version: &Version) -> Option<Project> {
    let mut diags = Diagnostics::default();
    let project = project::load(&version.root, &mut diags);
    let errors: Vec<_> = diags.items.into_iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        eprintln!("in {}:", version.label);
        let _ = diag::emit(&version.root, &errors, diag::Format::Human);
    }
    project
}

/// Colour only for a terminal, and never when `NO_COLOR` is set.
fn use_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout())
}

// ---- The comparison ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
    Unchanged,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// Everything that changed from one version to the other.
#[derive(Debug, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    /// The chapters that changed, in the order of the new version (removed
    /// ones where they were).
    pub chapters: Vec<ChapterDiff>,
    pub metrics: Vec<MetricDiff>,
}

#[derive(Debug, Serialize)]
pub struct ChapterDiff {
    /// The chapter's folder in the new version (in the old one if removed).
    pub chapter: String,
    pub title: String,
    pub status: Status,
    /// The folder's old name, when it was renamed or renumbered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Moved to another place in the order of chapters.
    pub moved: bool,
    /// Each language's changes; languages without changes are left out.
    pub texts: Vec<TextDiff>,
}

#[derive(Debug, Serialize)]
pub struct TextDiff {
    pub lang: Lang,
    /// The file, relative to the project root.
    pub file: String,
    pub status: Status,
    pub blocks: Vec<BlockDiff>,
}

#[derive(Debug, Serialize)]
pub struct BlockDiff {
    pub status: Status,
    /// `heading`, `paragraph`, `item`, `row`, `code`, `quote`, `footnote`, `front-matter`, …
    pub kind: &'static str,
    /// The heading of the section the block is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<BlockAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<BlockAt>,
    /// The block's words: equal, deleted and inserted runs.
    pub words: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub struct BlockAt {
    pub line: usize,
    /// The top-level block it is part of, numbered from 1 as `renga status`
    /// numbers them; absent for front matter and footnotes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<usize>,
    pub text: String,
}

impl BlockAt {
    fn new(b: &Block) -> Self {
        Self {
            line: b.line,
            block: b.top.map(|t| t + 1),
            text: b.text.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MetricDiff {
    pub key: String,
    pub agency: String,
    /// The agency's short name, as tables head its column.
    pub agency_name: Localized,
    pub status: Status,
    pub label: Localized,
    /// Which fields changed: `value`, `unit`, `as_of`, `illustrative`,
    /// `label`, `source`, `url`, `note`.
    pub changed: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<MetricValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<MetricValue>,
}

#[derive(Debug, Serialize)]
pub struct MetricValue {
    pub value: f64,
    pub unit: Unit,
    pub as_of: String,
    pub illustrative: bool,
    pub source: String,
    /// The value with its unit as each language prints it.
    pub text: Localized,
    pub as_of_text: Localized,
}

impl MetricValue {
    fn new(m: &Metric) -> Self {
        let text = |lang| format::metric(m, lang);
        Self {
            value: m.value,
            unit: m.unit,
            as_of: m.as_of.to_string(),
            illustrative: m.illustrative,
            source: m.source.clone(),
            text: Localized {
                en: text(Lang::En),
                ja: text(Lang::Ja),
            },
            as_of_text: Localized {
                en: format::date(m.as_of, Lang::En),
                ja: format::date(m.as_of, Lang::Ja),
            },
        }
    }
}

/// A chapter of the old version, of the new, or of both.
struct ChapterPair<'a> {
    old: Option<&'a Chapter>,
    new: Option<&'a Chapter>,
    moved: bool,
}

/// `02-digital-identity` → `digital-identity`.
fn name(slug: &str) -> &str {
    slug.split_once('-').map_or(slug, |(_, rest)| rest)
}

/// Chapters are the same chapter when their folder is the same, when only
/// its number changed, or when one disappeared and another appeared with
/// mostly the same text (renamed).
fn match_chapters<'a>(old: &'a Project, new: &'a Project) -> Vec<ChapterPair<'a>> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut old_free: Vec<bool> = vec![true; old.chapters.len()];
    let mut new_free: Vec<bool> = vec![true; new.chapters.len()];
    // The same folder first, then the same name under another number.
    let keys: [fn(&str) -> &str; 2] = [|slug| slug, name];
    for key in keys {
        // The free old chapters by key, each key's in order: a lookup per
        // new chapter rather than a scan (a book has hundreds).
        let mut by_key: HashMap<&str, VecDeque<usize>> = HashMap::new();
        for (i, a) in old
            .chapters
            .iter()
            .enumerate()
            .filter(|(i, _)| old_free[*i])
        {
            by_key.entry(key(&a.slug)).or_default().push_back(i);
        }
        for (j, b) in new.chapters.iter().enumerate() {
            if !new_free[j] {
                continue;
            }
            if let Some(i) = by_key.get_mut(key(&b.slug)).and_then(VecDeque::pop_front) {
                old_free[i] = false;
                new_free[j] = false;
                pairs.push((i, j));
            }
        }
    }
    let content = |c: &Chapter| -> String {
        c.texts
            .values()
            .flat_map(|t| translation::units(&t.text))
            .map(|b| b.text)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Renamed chapters: every unmatched old one against every unmatched new
    // one (few in practice), each chapter's text put together once.
    let free = |chapters: &'a [Chapter], free: &[bool]| -> Vec<(usize, String)> {
        chapters
            .iter()
            .enumerate()
            .filter(|(i, _)| free[*i])
            .map(|(i, c)| (i, content(c)))
            .collect()
    };
    let (old_texts, new_texts) = (
        free(&old.chapters, &old_free),
        free(&new.chapters, &new_free),
    );
    let mut candidates = Vec::new();
    for (i, text_a) in &old_texts {
        for (j, text_b) in &new_texts {
            let s = review::similarity(text_a, text_b);
            if s >= 0.5 {
                candidates.push((s, *i, *j));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, i, j) in candidates {
        if old_free[i] && new_free[j] {
            old_free[i] = false;
            new_free[j] = false;
            pairs.push((i, j));
        }
    }
    pairs.sort_by_key(|p| p.1);
    let moved = moved(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());

    let mut out: Vec<(usize, ChapterPair)> = pairs
        .iter()
        .zip(moved)
        .map(|(&(i, j), moved)| {
            let pair = ChapterPair {
                old: Some(&old.chapters[i]),
                new: Some(&new.chapters[j]),
                moved,
            };
            (2 * j + 1, pair)
        })
        .collect();
    for (j, free) in new_free.iter().enumerate() {
        if *free {
            let pair = ChapterPair {
                old: None,
                new: Some(&new.chapters[j]),
                moved: false,
            };
            out.push((2 * j + 1, pair));
        }
    }
    // A removed chapter goes before the chapter that followed it before.
    for (i, free) in old_free.iter().enumerate() {
        if *free {
            let next = pairs
                .iter()
                .filter(|p| p.0 > i)
                .map(|p| p.1)
                .min()
                .unwrap_or(new.chapters.len());
            let pair = ChapterPair {
                old: Some(&old.chapters[i]),
                new: None,
                moved: false,
            };
            out.push((2 * next, pair));
        }
    }
    out.sort_by_key(|o| o.0);
    out.into_iter().map(|o| o.1).collect()
}

/// Which of a sequence of old positions (in new order) moved: those outside
/// one longest increasing run, so that one chapter moved is one move.
/// (Patience sorting: n log n, for books of hundreds of chapters.)
fn moved(old_positions: &[usize]) -> Vec<bool> {
    let n = old_positions.len();
    // tails[k]: the index ending the increasing run of length k + 1 that
    // ends with the smallest position found so far.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; n];
    for (i, &p) in old_positions.iter().enumerate() {
        let k = tails.partition_point(|&t| old_positions[t] < p);
        if k > 0 {
            prev[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut moved = vec![true; n];
    let mut at = tails.last().copied();
    while let Some(i) = at {
        moved[i] = false;
        at = (prev[i] != usize::MAX).then_some(prev[i]);
    }
    moved
}

/// The chapter's title as a reader sees it (English first).
fn title(chapter: &Chapter) -> String {
    for lang in Lang::ALL {
        if let Some(text) = chapter.text(lang) {
            if let Some(title) = &text.front.title {
                return title.clone();
            }
            if let Some(h) = markdown::top_blocks(&text.text)
                .into_iter()
                .find(|b| b.kind == "heading")
            {
                return h.text;
            }
        }
    }
    chapter.slug.clone()
}

/// Compares two versions of the report.
pub fn compare(from: &str, to: &str, old: &Project, new: &Project) -> Report {
    let mut chapters = Vec::new();
    for pair in match_chapters(old, new) {
        let mut texts = Vec::new();
        for lang in Lang::ALL {
            let a = pair.old.and_then(|c| c.text(lang));
            let b = pair.new.and_then(|c| c.text(lang));
            let (file, old_blocks, new_blocks) = match (a, b) {
                (None, None) => continue,
                (a, b) => (
                    b.or(a).map(|t| t.path.clone()).unwrap_or_default(),
                    a.map_or(vec![], |t| {
                        review::blocks(&t.text, Some((&old.metrics, lang)))
                    }),
                    b.map_or(vec![], |t| {
                        review::blocks(&t.text, Some((&new.metrics, lang)))
                    }),
                ),
            };
            let blocks = block_diffs(&old_blocks, &new_blocks);
            let status = match (a, b) {
                (None, _) => Status::Added,
                (_, None) => Status::Removed,
                _ if blocks.is_empty() => continue,
                _ => Status::Changed,
            };
            texts.push(TextDiff {
                lang,
                file,
                status,
                blocks,
            });
        }
        let (old_ch, new_ch) = (pair.old, pair.new);
        let status = match (old_ch, new_ch) {
            (None, _) => Status::Added,
            (_, None) => Status::Removed,
            _ if texts.is_empty() => Status::Unchanged,
            _ => Status::Changed,
        };
        let renamed_from = match (old_ch, new_ch) {
            (Some(a), Some(b)) if a.slug != b.slug => Some(a.slug.clone()),
            _ => None,
        };
        if status == Status::Unchanged && renamed_from.is_none() && !pair.moved {
            continue;
        }
        let chapter = new_ch.or(old_ch).expect("a pair has a chapter");
        chapters.push(ChapterDiff {
            chapter: chapter.slug.clone(),
            title: title(chapter),
            status,
            renamed_from,
            moved: pair.moved,
            texts,
        });
    }
    Report {
        from: from.to_string(),
        to: to.to_string(),
        chapters,
        metrics: metric_diffs(old, new),
    }
}

/// The sections blocks are in: the text of the last heading before each.
fn sections(blocks: &[Block]) -> Vec<Option<String>> {
    let mut current = None;
    blocks
        .iter()
        .map(|b| {
            let section = current.clone();
            if b.kind == "heading" {
                current = Some(b.text.clone());
            }
            section
        })
        .collect()
}

fn block_diffs(old: &[Block], new: &[Block]) -> Vec<BlockDiff> {
    let (old_sections, new_sections) = (sections(old), sections(new));
    let mut out = Vec::new();
    for pair in review::match_blocks(old, new) {
        out.push(match pair {
            Pair::Same(..) => continue,
            Pair::Changed(a, b) => BlockDiff {
                status: Status::Changed,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: Some(BlockAt::new(&old[a])),
                new: Some(BlockAt::new(&new[b])),
                words: review::word_diff(&old[a].text, &new[b].text),
            },
            Pair::Added(b) => BlockDiff {
                status: Status::Added,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: None,
                new: Some(BlockAt::new(&new[b])),
                words: vec![Change {
                    op: Op::Insert,
                    text: new[b].text.clone(),
                }],
            },
            Pair::Removed(a) => BlockDiff {
                status: Status::Removed,
                kind: old[a].kind,
                section: old_sections[a].clone(),
                old: Some(BlockAt::new(&old[a])),
                new: None,
                words: vec![Change {
                    op: Op::Delete,
                    text: old[a].text.clone(),
                }],
            },
        });
    }
    out
}

fn agency_name(new: &Project, old: &Project, id: &str) -> Localized {
    new.agency(id).or_else(|| old.agency(id)).map_or_else(
        || Localized {
            en: id.to_string(),
            ja: id.to_string(),
        },
        |a| a.short.clone(),
    )
}

fn metric_diffs(old: &Project, new: &Project) -> Vec<MetricDiff> {
    let mut out = Vec::new();
    for m in &new.metrics.list {
        let Some(was) = old.metrics.get(&m.key) else {
            out.push(MetricDiff {
                key: m.key.clone(),
                agency: m.agency.clone(),
                agency_name: agency_name(new, old, &m.agency),
                status: Status::Added,
                label: m.label.clone(),
                changed: vec![],
                old: None,
                new: Some(MetricValue::new(m)),
            });
            continue;
        };
        let checks: [(&'static str, bool); 8] = [
            ("value", was.value != m.value),
            ("unit", was.unit != m.unit),
            ("as_of", was.as_of != m.as_of),
            ("illustrative", was.illustrative != m.illustrative),
            ("label", was.label != m.label),
            ("source", was.source != m.source),
            ("url", was.url != m.url),
            ("note", was.note != m.note),
        ];
        let changed: Vec<&'static str> = checks.iter().filter(|c| c.1).map(|c| c.0).collect();
        if !changed.is_empty() {
            out.push(MetricDiff {
                key: m.key.clone(),
                agency: m.agency.clone(),
                agency_name: agency_name(new, old, &m.agency),
                status: Status::Changed,
                label: m.label.clone(),
                changed,
                old: Some(MetricValue::new(was)),
                new: Some(MetricValue::new(m)),
            });
        }
    }
    for m in &old.metrics.list {
        if new.metrics.get(&m.key).is_none() {
            out.push(MetricDiff {
                key: m.key.clone(),
                agency: m.agency.clone(),
                agency_name: agency_name(new, old, &m.agency),
                status: Status::Removed,
                label: m.label.clone(),
                changed: vec![],
                old: Some(MetricValue::new(m)),
                new: None,
            });
        }
    }
    out
}

// ---- Terminal ------------------------------------------------------------------

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";
/// Deletions struck through, insertions underlined: the difference
/// survives without colour too.
const DELETED: &str = "\x1b[31;9m";
const INSERTED: &str = "\x1b[32;4m";

/// Terminal styling, or none (`NO_COLOR`, a pipe).
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn status(&self, status: Status) -> String {
        let style = match status {
            Status::Added => GREEN,
            Status::Removed => RED,
            _ => YELLOW,
        };
        self.paint(style, status.word())
    }

    /// Words with their changes: coloured, or between `[-…-]` and `{+…+}`.
    pub(crate) fn words(&self, changes: &[Change]) -> String {
        let mut out = String::new();
        for c in changes {
            match (c.op, self.0) {
                (Op::Equal, _) => out.push_str(&c.text),
                (Op::Delete, true) => out.push_str(&self.paint(DELETED, &c.text)),
                (Op::Insert, true) => out.push_str(&self.paint(INSERTED, &c.text)),
                (Op::Delete, false) => out.push_str(&format!("[-{}-]", c.text)),
                (Op::Insert, false) => out.push_str(&format!("{{+{}+}}", c.text)),
            }
        }
        out
    }
}

/// Long unchanged stretches shortened to their ends, so that a one-word
/// change in a long paragraph shows as a line.
pub(crate) fn elide(changes: &[Change]) -> Vec<Change> {
    // Characters of context kept at each end: about eight English words,
    // or a Japanese clause.
    const KEEP: usize = 50;
    let last = changes.len().saturating_sub(1);
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let chars: Vec<char> = c.text.chars().collect();
            if c.op != Op::Equal || chars.len() <= 2 * KEEP + 20 || changes.len() == 1 {
                return c.clone();
            }
            let head: String = chars[..KEEP].iter().collect();
            let tail: String = chars[chars.len() - KEEP..].iter().collect();
            let text = if i == 0 {
                format!("…{tail}")
            } else if i == last {
                format!("{head}…")
            } else {
                format!("{head} … {tail}")
            };
            Change {
                op: Op::Equal,
                text,
            }
        })
        .collect()
}

fn place(b: &BlockDiff) -> String {
    let kind = match b.kind {
        "item" => "list item",
        "row" => "table row",
        "code" => "code block",
        "front-matter" => "front matter",
        k => k,
    };
    // A removed block is found in the old file.
    let mut out = match (&b.new, &b.old) {
        (Some(at), _) => format!("line {}, {kind}", at.line),
        (None, Some(at)) => format!("old line {}, {kind}", at.line),
        (None, None) => kind.to_string(),
    };
    if let Some(section) = &b.section {
        out.push_str(&format!(" in “{section}”"));
    }
    out
}

fn chapter_line(c: &ChapterDiff) -> String {
    let mut notes = Vec::new();
    if c.status != Status::Unchanged {
        notes.push(c.status.word().to_string());
    }
    if let Some(old) = &c.renamed_from {
        let what = if name(old) == name(&c.chapter) {
            "renumbered"
        } else {
            "renamed"
        };
        notes.push(format!("{what} from {old}"));
    }
    if c.moved {
        notes.push("moved".into());
    }
    notes.join(", ")
}

fn metric_line(m: &MetricDiff, lang: Lang) -> String {
    let text = |v: &Option<MetricValue>| {
        v.as_ref()
            .map_or(String::new(), |v| v.text.get(lang).to_string())
    };
    let date = |v: &Option<MetricValue>| {
        v.as_ref()
            .map_or(String::new(), |v| v.as_of_text.get(lang).to_string())
    };
    match m.status {
        Status::Added => format!("added: {} as of {}", text(&m.new), date(&m.new)),
        Status::Removed => format!("removed: was {} as of {}", text(&m.old), date(&m.old)),
        _ => {
            let mut parts = Vec::new();
            if m.changed
                .iter()
                .any(|c| matches!(*c, "value" | "unit" | "illustrative"))
            {
                parts.push(format!("{} → {}", text(&m.old), text(&m.new)));
            }
            if m.changed.contains(&"as_of") {
                parts.push(format!("as of {} → {}", date(&m.old), date(&m.new)));
            }
            let others: Vec<&str> = m
                .changed
                .iter()
                .copied()
                .filter(|c| !matches!(*c, "value" | "unit" | "illustrative" | "as_of"))
                .collect();
            if !others.is_empty() {
                parts.push(format!("{} changed", others.join(", ")));
            }
            parts.join("; ")
        }
    }
}

pub fn terminal(report: &Report, colour: bool) -> String {
    let p = Paint(colour);
    let mut out = format!(
        "{} {} → {}\n",
        p.paint(BOLD, "renga diff"),
        report.from,
        report.to
    );
    if report.chapters.is_empty() && report.metrics.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    for c in &report.chapters {
        out.push_str(&format!(
            "\n{} · {}: {}\n",
            p.paint(BOLD, &c.chapter),
            c.title,
            chapter_line(c)
        ));
        if matches!(c.status, Status::Added | Status::Removed) {
            for t in &c.texts {
                out.push_str(&format!("  {} ({} blocks)\n", t.file, t.blocks.len()));
            }
            continue;
        }
        for t in &c.texts {
            out.push_str(&format!("  {}", t.file));
            if t.status != Status::Changed {
                out.push_str(&format!(": {}\n", p.status(t.status)));
                continue;
            }
            out.push('\n');
            for b in &t.blocks {
                out.push_str(&format!(
                    "    {}: {}\n      {}\n",
                    p.paint(DIM, &place(b)),
                    p.status(b.status),
                    p.words(&elide(&b.words))
                ));
            }
        }
    }
    if !report.metrics.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Metrics")));
        for m in &report.metrics {
            out.push_str(&format!(
                "  {} · {}: {}\n",
                m.key,
                m.label.en,
                metric_line(m, Lang::En)
            ));
        }
    }
    let blocks: usize = report
        .chapters
        .iter()
        .flat_map(|c| &c.texts)
        .map(|t| t.blocks.len())
        .sum();
    out.push_str(&format!(
        "\n{} chapter(s), {} block(s), {} metric(s) changed\n",
        report.chapters.len(),
        blocks,
        report.metrics.len()
    ));
    out
}

// ---- Markdown ------------------------------------------------------------------

/// Author text as literal markdown: every character that could start
/// formatting, a link, a table cell or an HTML tag is escaped.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `~~text~~` or `**text**` with the whitespace at its ends left outside,
/// where markdown needs it.
fn md_mark(marker: &str, text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return text.to_string();
    }
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    format!(
        "{}{marker}{}{marker}{}",
        &text[..start],
        md_escape(trimmed),
        &text[end..]
    )
}

fn md_words(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| match c.op {
            Op::Equal => md_escape(&c.text),
            Op::Delete => md_mark("~~", &c.text),
            Op::Insert => md_mark("**", &c.text),
        })
        .collect()
}

/// A pull request comment: a section per chapter, words struck through or
/// in bold, and a table of metrics in both languages.
pub fn markdown_comment(report: &Report) -> String {
    let mut out = format!(
        "### Report changes: {} → {}\n",
        md_escape(&report.from),
        md_escape(&report.to)
    );
    if report.chapters.is_empty() && report.metrics.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    for c in &report.chapters {
        out.push_str(&format!(
            "\n#### {} · {} — {}\n",
            md_escape(&c.chapter),
            md_escape(&c.title),
            chapter_line(c)
        ));
        if matches!(c.status, Status::Added | Status::Removed) {
            for t in &c.texts {
                out.push_str(&format!(
                    "\n`{}`: {} blocks {}\n",
                    t.file,
                    t.blocks.len(),
                    t.status.word()
                ));
            }
            continue;
        }
        for t in &c.texts {
            out.push_str(&format!("\n`{}` {}\n\n", t.file, t.status.word()));
            for b in &t.blocks {
                out.push_str(&format!(
                    "- {}, {}:  \n  {}\n",
                    capitalise(&md_escape(&place(b))),
                    b.status.word(),
                    md_words(&elide(&b.words))
                ));
            }
        }
    }
    if !report.metrics.is_empty() {
        out.push_str(
            "\n#### Metrics\n\n| Metric | Agency | Change | Old | New |\n|---|---|---|---|---|\n",
        );
        for m in &report.metrics {
            let value = |v: &Option<MetricValue>| {
                v.as_ref().map_or("—".to_string(), |v| {
                    format!(
                        "{}<br>{}<br>{}",
                        md_escape(&v.text.en),
                        md_escape(&v.text.ja),
                        md_escape(&v.as_of)
                    )
                })
            };
            let change = match m.status {
                Status::Changed => m.changed.join(", "),
                s => s.word().to_string(),
            };
            out.push_str(&format!(
                "| {}<br>{}<br>`{}` | {} | {} | {} | {} |\n",
                md_escape(&m.label.en),
                md_escape(&m.label.ja),
                m.key,
                md_escape(&m.agency_name.en),
                change,
                value(&m.old),
                value(&m.new)
            ));
        }
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---- Redline edition -------------------------------------------------------------

/// A changed block's words for the redline; a deletion and the insertion
/// that replaces it are kept a space apart in text written with spaces.
fn tokens(changes: &[Change]) -> Vec<RedlineToken> {
    let mut out = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        out.push(match c.op {
            Op::Equal => RedlineToken::Same(c.text.clone()),
            Op::Insert => RedlineToken::Inserted(c.text.clone()),
            Op::Delete => RedlineToken::Deleted(c.text.clone()),
        });
        let next = changes.get(i + 1);
        if c.op == Op::Delete
            && let Some(next) = next.filter(|n| n.op == Op::Insert)
            && let (Some(a), Some(b)) = (c.text.chars().next_back(), next.text.chars().next())
            && !is_cjk(a)
            && !is_cjk(b)
            && !a.is_whitespace()
            && !b.is_whitespace()
        {
            out.push(RedlineToken::Same(" ".into()));
        }
    }
    out
}

/// What the redline edition of the new version marks: each chapter text's
/// top-level blocks against the old version's, and a summary that links to
/// every change.
pub fn redline(old: &Project, new: &Project, report: &Report) -> RedlineInput {
    let mut input = RedlineInput::default();
    for pair in match_chapters(old, new) {
        let Some(chapter) = pair.new else {
            let slug = &pair.old.expect("a pair has a chapter").slug;
            input.summary.push(RedlineEntry {
                text: format!("Chapter {slug} removed"),
                label: String::new(),
            });
            continue;
        };
        let slug = &chapter.slug;
        if let Some(was) = pair.old.filter(|o| &o.slug != slug) {
            input.summary.push(RedlineEntry {
                text: format!("Chapter {} is now {slug}", was.slug),
                label: markdown::label(slug, Lang::En, None),
            });
        }
        for (&lang, text) in &chapter.texts {
            let new_units = review::top_units(&text.text, Some((&new.metrics, lang)));
            let old_units = pair.old.and_then(|c| c.text(lang)).map_or(vec![], |t| {
                review::top_units(&t.text, Some((&old.metrics, lang)))
            });
            let mut redline = Redline::default();
            let mut removed: Vec<String> = Vec::new();
            let entry = |index: usize, what: String| RedlineEntry {
                text: match new_units.get(index) {
                    Some(b) => format!("{slug} ({lang}), line {}: {what}", b.line),
                    None => format!("{slug} ({lang}), at the end: {what}"),
                },
                label: markdown::redline_label(slug, lang, index),
            };
            for p in review::match_blocks(&old_units, &new_units) {
                let at = match p {
                    Pair::Removed(a) => {
                        removed.push(old_units[a].text.clone());
                        continue;
                    }
                    Pair::Same(_, b) | Pair::Changed(_, b) | Pair::Added(b) => b,
                };
                if !removed.is_empty() {
                    let n = removed.len();
                    redline
                        .removed_before
                        .insert(at, std::mem::take(&mut removed));
                    input
                        .summary
                        .push(entry(at, format!("{n} block(s) removed before this")));
                }
                match p {
                    Pair::Changed(a, b) => {
                        let words = review::word_diff(&old_units[a].text, &new_units[b].text);
                        redline.changed.insert(b, tokens(&words));
                        input
                            .summary
                            .push(entry(b, format!("{} changed", new_units[b].kind)));
                    }
                    Pair::Added(b) => {
                        redline.inserted.insert(b);
                        input
                            .summary
                            .push(entry(b, format!("{} added", new_units[b].kind)));
                    }
                    _ => {}
                }
            }
            if !removed.is_empty() {
                let at = new_units.len();
                let n = removed.len();
                redline.removed_before.insert(at, removed);
                input
                    .summary
                    .push(entry(at, format!("{n} block(s) removed")));
            }
            if !redline.changed.is_empty()
                || !redline.inserted.is_empty()
                || !redline.removed_before.is_empty()
            {
                input.chapters.insert((slug.clone(), lang), redline);
            }
        }
    }
    for m in &report.metrics {
        input.summary.push(RedlineEntry {
            text: format!(
                "Metric {} ({}): {}",
                m.key,
                m.label.en,
                metric_line(m, Lang::En)
            ),
            label: String::new(),
        });
    }
    input
}

/// Typesets the bilingual redline edition of `to` and writes it to `path`
/// atomically: nothing is written if it fails.
fn write_redline(to: &Version, input: &RedlineInput, path: &Path, quiet: bool) -> i32 {
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let outputs = pipeline::prepare_redline(
        &to.root,
        &[Edition::Bilingual],
        input,
        &mut diags,
        &mut timings,
    )
    .map(|prepared| prepared.typeset(&mut diags, &mut timings));
    let pdf = outputs
        .into_iter()
        .flatten()
        .find(|o| o.edition == Edition::Bilingual)
        .and_then(|o| o.pdf);
    let pdf = match pdf {
        Some(pdf) if !diags.has_errors() => pdf,
        _ => {
            let errors: Vec<_> = diags.items.into_iter().filter(|d| d.is_error()).collect();
            let _ = diag::emit(&to.root, &errors, diag::Format::Human);
            eprintln!(
                "error: the redline edition of {} could not be typeset; nothing was written",
                to.label
            );
            return 1;
        }
    };
    let written = crate::atomic::write(path, &pdf);
    match written {
        Ok(_) => {
            if !quiet {
                eprintln!("wrote {}", path.display());
            }
            0
        }
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", path.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chapter_moved_is_one_move() {
        assert_eq!(moved(&[0, 1, 2, 3]), vec![false; 4]);
        assert_eq!(moved(&[0, 3, 1, 2]), vec![false, true, false, false]);
    }

    #[test]
    fn moves_are_the_fewest_in_long_reorderings() {
        // Deterministic shuffles of 300 chapters: what stays is increasing
        // and as long as the longest increasing run (found the slow way).
        for seed in 1..20u64 {
            let mut order: Vec<usize> = (0..300).collect();
            let mut x = seed;
            for i in (1..order.len()).rev() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (x >> 33) as usize % (i + 1));
            }
            let moved = moved(&order);
            let kept: Vec<usize> = order
                .iter()
                .zip(&moved)
                .filter(|(_, m)| !**m)
                .map(|(p, _)| *p)
                .collect();
            assert!(kept.windows(2).all(|w| w[0] < w[1]));
            let mut longest = vec![1; order.len()];
            for i in 0..order.len() {
                for j in 0..i {
                    if order[j] < order[i] {
                        longest[i] = longest[i].max(longest[j] + 1);
                    }
                }
            }
            assert_eq!(kept.len(), *longest.iter().max().unwrap());
        }
    }

    #[test]
    fn markdown_marks_keep_spaces_outside() {
        assert_eq!(md_mark("**", " new words "), " **new words** ");
        assert_eq!(md_mark("~~", "a*b"), "~~a\\*b~~");
        assert_eq!(md_mark("~~", "  "), "  ");
    }

    #[test]
    fn plain_terminal_output_marks_words() {
        let p = Paint(false);
        let words = review::word_diff("serves residents.", "serves citizens.");
        assert_eq!(p.words(&words), "serves [-residents.-]{+citizens.+}");
    }

    #[test]
    fn long_unchanged_text_is_elided() {
        let long = "word ".repeat(100);
        let changes = vec![
            Change {
                op: Op::Equal,
                text: long.clone(),
            },
            Change {
                op: Op::Insert,
                text: "new".into(),
            },
        ];
        let e = elide(&changes);
        assert!(e[0].text.starts_with('…') && e[0].text.chars().count() == 51);
        assert_eq!(e[1].text, "new");
    }
}
