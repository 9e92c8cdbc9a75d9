//! `renga diff`: what changed between two versions of the report, in the
//! report's own terms (chapters, blocks, words, metrics), for a terminal,
//! a pull request comment or a tool, and as a redline edition in PDF.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::cli::args::{DiffArgs, DiffFormat};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::load::git::Version;
use crate::load::project::{self, Chapter, Metric, Project, Unit};
use crate::markdown::{self, Redline, RedlineToken};
use crate::model::format;
use crate::model::lang::{Lang, Localized, is_cjk};
use crate::pipeline::{self, Edition, RedlineEntry, RedlineInput, Timings};
use crate::review::records;
use crate::review::{self, Block, Change, Op, Pair};
use files::{FileDiff, SettingDiff};
mod comment;
pub mod files;
mod redline;
mod terminal;

pub use comment::{GITHUB_LIMIT, comment_len, markdown_comment};
pub use redline::redline;
use redline::typeset_redline;
pub(crate) use terminal::*;

pub fn run(args: &DiffArgs, quiet: bool) -> i32 {
    let mut problems = Problems::default();
    // The versions outlive the comparison: problems are shown with the
    // lines of their files, which a revision has in its temporary folder.
    let mut versions = Vec::new();
    let outcome = diff(args, &mut problems, &mut versions);
    if let (Some(path), Some((_, Some(pdf)))) = (&args.pdf, &outcome) {
        match crate::publish::write(path, pdf) {
            Ok(_) if !quiet => eprintln!("wrote {}", path.display()),
            Ok(_) => {}
            Err(err) => problems.push(
                Path::new("."),
                None,
                [Diagnostic::error(
                    "io",
                    format!("cannot write {}: {err}", path.display()),
                )],
            ),
        }
    }
    problems.emit(args.format.diagnostics());
    let Some((text, _)) = outcome else {
        return 1;
    };
    let mut stdout = std::io::stdout().lock();
    // A reader that stops early (`| head`) is no error.
    if let Err(err) = stdout.write_all(text.as_bytes())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the diff: {err}");
        return 1;
    }
    i32::from(problems.has_errors())
}

/// The comparison as text for `args.format`, and the redline PDF when
/// `--pdf` asked for one and it could be made; `None` when a version could
/// not be read. Problems go to `problems`.
fn diff(
    args: &DiffArgs,
    problems: &mut Problems,
    versions: &mut Vec<Version>,
) -> Option<(String, Option<Vec<u8>>)> {
    if args.out.is_some() && args.format != DiffFormat::Markdown {
        problems.push(
            Path::new("."),
            None,
            [Diagnostic::error(
                "usage",
                "--out writes the parts of a pull request comment: it needs --format markdown",
            )],
        );
        return None;
    }
    let from = match &args.from {
        Some(spec) => Version::open(spec, &args.project),
        None => crate::load::git::revision(&args.project, "HEAD").map_err(|d| {
            d.hint("without FROM, renga diff compares with HEAD; to compare two folders, give both: renga diff OLD NEW")
        }),
    };
    let to = match &args.to {
        Some(spec) => Version::open(spec, &args.project),
        None => Ok(Version::folder(&args.project, "working tree")),
    };
    match (from, to) {
        (Ok(from), Ok(to)) => versions.extend([from, to]),
        (from, to) => {
            for err in [from.err(), to.err()].into_iter().flatten() {
                problems.push(&args.project, None, [err]);
            }
            return None;
        }
    }
    let (from, to) = (&versions[0], &versions[1]);
    let old = load(from, problems);
    let new = load(to, problems);
    // A version with errors is not compared: what it could not load would
    // show as removed.
    let (Some(old), Some(new)) = (old, new) else {
        return None;
    };
    if problems.has_errors() {
        return None;
    }
    let budget = review::Budget::default();
    let (report, [old_errors, new_errors]) = compare(&from.label, &to.label, &old, &new, &budget);
    problems.push(&from.root, Some(&from.label), old_errors);
    problems.push(&to.root, Some(&to.label), new_errors);
    // A file that could not be read is not compared: the diff would be false.
    if problems.has_errors() {
        return None;
    }
    let max = usize::try_from(args.max_size).unwrap_or(usize::MAX);
    let text = match args.format {
        DiffFormat::Terminal => terminal(&report, use_colour()),
        DiffFormat::Github => terminal(&report, false),
        DiffFormat::Markdown if args.out.is_some() => {
            let parts = comment::markdown_parts(&report, max, true);
            let dir = args.out.as_deref().expect("checked");
            write_parts(dir, &parts, problems)?;
            String::new()
        }
        DiffFormat::Markdown => comment::markdown_parts(&report, max, false).remove(0),
        DiffFormat::Json => serde_json::to_string(&report).unwrap_or_default() + "\n",
    };
    let pdf = args
        .pdf
        .as_ref()
        .and_then(|_| typeset_redline(to, &redline(&old, &new, &report, &budget), problems));
    Some((text, pdf))
}

/// The comment's parts as `DIR/comment-1.md`, `DIR/comment-2.md`, …; the
/// folder is made if need be. `None`, with the problem, if one cannot be
/// written.
fn write_parts(dir: &Path, parts: &[String], problems: &mut Problems) -> Option<()> {
    let fail = |problems: &mut Problems, what: String| {
        problems.push(Path::new("."), None, [Diagnostic::error("io", what)]);
    };
    if let Err(err) = std::fs::create_dir_all(dir) {
        fail(problems, format!("cannot make {}: {err}", dir.display()));
        return None;
    }
    for (k, part) in parts.iter().enumerate() {
        let path = dir.join(format!("comment-{}.md", k + 1));
        if let Err(err) = crate::publish::write(&path, part.as_bytes()) {
            fail(problems, format!("cannot write {}: {err}", path.display()));
            return None;
        }
    }
    eprintln!("wrote {} comment part(s) to {}", parts.len(), dir.display());
    Some(())
}

/// Problems found in the versions compared, each with the folder its files
/// are in (a revision's temporary checkout) and which version it is.
#[derive(Default)]
struct Problems {
    groups: Vec<(std::path::PathBuf, Option<String>, Vec<Diagnostic>)>,
}

impl Problems {
    fn push(
        &mut self,
        root: &Path,
        version: Option<&str>,
        diags: impl IntoIterator<Item = Diagnostic>,
    ) {
        let diags: Vec<Diagnostic> = diags.into_iter().collect();
        if !diags.is_empty() {
            self.groups
                .push((root.to_path_buf(), version.map(str::to_string), diags));
        }
    }

    fn has_errors(&self) -> bool {
        self.groups
            .iter()
            .flat_map(|g| &g.2)
            .any(Diagnostic::is_error)
    }

    /// Prints every problem as `compile` does in `format`; the version a
    /// file belongs to is said first (human) or as a hint (JSON, GitHub).
    fn emit(&self, format: diag::Format) {
        for (root, version, diags) in &self.groups {
            let mut diags = diags.clone();
            if let Some(version) = version {
                if format == diag::Format::Human {
                    eprintln!("in {version}:");
                } else {
                    for d in &mut diags {
                        d.hints.push(format!("in {version}"));
                    }
                }
            }
            if let Err(err) = diag::emit(root, &diags, format) {
                eprintln!("error: cannot print diagnostics: {err}");
            }
        }
    }
}

/// Loads a version; its errors, which leave it unreadable or hide part of
/// it from the comparison, go to `problems`.
fn load(version: &Version, problems: &mut Problems) -> Option<Project> {
    let mut diags = Diagnostics::default();
    let project = project::load(&version.root, &mut diags);
    let errors = diags.items.into_iter().filter(|d| d.is_error());
    problems.push(&version.root, Some(&version.label), errors);
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
    /// A block found unchanged in another place.
    Moved,
    Unchanged,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Moved => "moved",
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
    /// `report.toml`'s settings that changed.
    pub settings: Vec<SettingDiff>,
    /// Templates, images and other files that changed.
    pub files: Vec<FileDiff>,
}

impl Report {
    fn is_empty(&self) -> bool {
        self.chapters.is_empty()
            && self.metrics.is_empty()
            && self.settings.is_empty()
            && self.files.is_empty()
    }
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
    /// Only the formatting changed (emphasis, a link target, an image):
    /// the text a reader sees is the same.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub formatting: bool,
    /// What changed in how the block is set, named: `level 2 → 3`, `code
    /// language: rust → text`, `column 2 alignment: left → right`, `line
    /// break removed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub format_changes: Vec<String>,
    /// The block's words with their markup (`*emphasis*`, `[link](url)`,
    /// `![alt](image.png)`): equal, deleted and inserted runs.
    pub words: Vec<Change>,
    /// For a changed code block, its lines as `git diff` shows them: the
    /// changed ones, with their words marked, and a line of context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<CodeLine>,
}

/// A line of a changed code block.
#[derive(Debug, Clone, Serialize)]
pub struct CodeLine {
    /// `context` (unchanged, shown around a change), `deleted`, `inserted`,
    /// `changed` (its words marked) or `skipped` (unchanged lines left out).
    pub kind: &'static str,
    /// The line's number in the new file (in the old one when deleted);
    /// for `skipped`, how many lines were left out.
    pub line: usize,
    pub words: Vec<Change>,
}

/// A code block's lines, old against new: changed lines with one line of
/// context around them, a line whose words changed shown once with its
/// words marked, as `git diff --word-diff` shows it. `old_at` and
/// `new_at` are the file lines of the blocks' first code lines.
fn code_lines(
    old: &str,
    new: &str,
    old_at: usize,
    new_at: usize,
    budget: &review::Budget,
) -> Vec<CodeLine> {
    use similar::{Algorithm, DiffTag, capture_diff_slices_deadline};
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &a,
        &b,
        budget.myers((a.len() + b.len()) as u64),
    );
    // Every line first, then context trimmed to one line around changes.
    let mut all: Vec<CodeLine> = Vec::new();
    let line = |kind, line, words| CodeLine { kind, line, words };
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => all.extend(n.map(|j| {
                line(
                    "context",
                    new_at + j,
                    vec![Change {
                        op: Op::Equal,
                        text: b[j].to_string(),
                    }],
                )
            })),
            DiffTag::Delete => all.extend(o.map(|i| {
                line(
                    "deleted",
                    old_at + i,
                    vec![Change {
                        op: Op::Delete,
                        text: a[i].to_string(),
                    }],
                )
            })),
            DiffTag::Insert => all.extend(n.map(|j| {
                line(
                    "inserted",
                    new_at + j,
                    vec![Change {
                        op: Op::Insert,
                        text: b[j].to_string(),
                    }],
                )
            })),
            DiffTag::Replace => {
                let (o, n): (Vec<usize>, Vec<usize>) = (o.collect(), n.collect());
                let paired = o.len().min(n.len());
                for k in 0..paired {
                    let words = review::word_diff_within(a[o[k]], b[n[k]], budget);
                    all.push(line("changed", new_at + n[k], words));
                }
                all.extend(o[paired..].iter().map(|&i| {
                    line(
                        "deleted",
                        old_at + i,
                        vec![Change {
                            op: Op::Delete,
                            text: a[i].to_string(),
                        }],
                    )
                }));
                all.extend(n[paired..].iter().map(|&j| {
                    line(
                        "inserted",
                        new_at + j,
                        vec![Change {
                            op: Op::Insert,
                            text: b[j].to_string(),
                        }],
                    )
                }));
            }
        }
    }
    let near = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 1).min(all.len().saturating_sub(1));
        (lo..=hi).any(|k| all[k].kind != "context")
    };
    let keep: Vec<bool> = (0..all.len()).map(near).collect();
    let mut out = Vec::new();
    let mut skipped = 0;
    for (l, keep) in all.into_iter().zip(keep) {
        if keep {
            if skipped > 0 {
                out.push(line("skipped", skipped, Vec::new()));
                skipped = 0;
            }
            out.push(l);
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        out.push(line("skipped", skipped, Vec::new()));
    }
    out
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
    /// Which fields changed: `value` (the number or the digits it is
    /// printed with), `decimals`, `unit`, `as_of`, `illustrative`, `label`,
    /// `source`, `url`, `note`.
    pub changed: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<MetricValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<MetricValue>,
}

#[derive(Debug, Serialize)]
pub struct MetricValue {
    /// The value, an integer exactly.
    pub value: format::Number,
    /// The value as printed, with the digits the data gives (`12.50`),
    /// rounded when the metric sets `decimals`.
    pub figure: format::Decimal,
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
            value: m.exact.number(),
            figure: m.figure.clone(),
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
            .flat_map(|t| records::units(&t.text))
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

/// Compares two versions of the report; with it, the errors of the old
/// and of the new version: files that could not be read and so are not
/// compared (a report with errors is no true diff).
pub fn compare(
    from: &str,
    to: &str,
    old: &Project,
    new: &Project,
    budget: &review::Budget,
) -> (Report, [Vec<Diagnostic>; 2]) {
    let mut chapters = Vec::new();
    let mut renamed = std::collections::HashMap::new();
    for pair in match_chapters(old, new) {
        if let (Some(a), Some(b)) = (pair.old, pair.new) {
            renamed.insert(a.slug.clone(), b.slug.clone());
        }
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
            let blocks = block_diffs(&old_blocks, &new_blocks, budget);
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
    let (files, errors) = files::file_diffs(old, new, &renamed);
    let report = Report {
        from: from.to_string(),
        to: to.to_string(),
        chapters,
        metrics: metric_diffs(old, new),
        settings: files::settings(&old.root, &new.root),
        files,
    };
    (report, errors)
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

fn block_diffs(old: &[Block], new: &[Block], budget: &review::Budget) -> Vec<BlockDiff> {
    let (old_sections, new_sections) = (sections(old), sections(new));
    let pairs = review::match_blocks(old, new, budget);
    let moves = review::moves(old, new, &pairs);
    let moved_from: std::collections::HashSet<usize> = moves.values().copied().collect();
    let mut out = Vec::new();
    for pair in pairs {
        out.push(match pair {
            Pair::Same(..) => continue,
            Pair::Removed(a) if moved_from.contains(&a) => continue,
            Pair::Added(b) if moves.contains_key(&b) => BlockDiff {
                status: Status::Moved,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: Some(BlockAt::new(&old[moves[&b]])),
                new: Some(BlockAt::new(&new[b])),
                formatting: false,
                format_changes: Vec::new(),
                lines: Vec::new(),
                words: vec![Change {
                    op: Op::Equal,
                    text: new[b].markup.clone(),
                }],
            },
            // Words with their markup, so that a changed link target,
            // image or emphasis shows as well as changed text.
            Pair::Changed(a, b) => BlockDiff {
                status: Status::Changed,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: Some(BlockAt::new(&old[a])),
                new: Some(BlockAt::new(&new[b])),
                formatting: old[a].text == new[b].text
                    && old[a].code.as_ref().map(|c| &c.1) == new[b].code.as_ref().map(|c| &c.1),
                format_changes: review::formatting_changes(&old[a], &new[b]),
                words: review::word_diff_within(&old[a].markup, &new[b].markup, budget),
                lines: match (&old[a].code, &new[b].code) {
                    (Some((at_x, x)), Some((at_y, y))) if x != y => {
                        code_lines(x, y, *at_x, *at_y, budget)
                    }
                    _ => Vec::new(),
                },
            },
            Pair::Added(b) => BlockDiff {
                status: Status::Added,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: None,
                new: Some(BlockAt::new(&new[b])),
                formatting: false,
                format_changes: Vec::new(),
                lines: Vec::new(),
                words: vec![Change {
                    op: Op::Insert,
                    text: new[b].markup.clone(),
                }],
            },
            Pair::Removed(a) => BlockDiff {
                status: Status::Removed,
                kind: old[a].kind,
                section: old_sections[a].clone(),
                old: Some(BlockAt::new(&old[a])),
                new: None,
                formatting: false,
                format_changes: Vec::new(),
                lines: Vec::new(),
                words: vec![Change {
                    op: Op::Delete,
                    text: old[a].markup.clone(),
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
        let checks: [(&'static str, bool); 9] = [
            // What is printed, not only the number: `12.50` and `12.5` are
            // equal as numbers but print differently.
            ("value", was.value != m.value || was.figure != m.figure),
            ("decimals", was.decimals != m.decimals),
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

#[cfg(test)]
mod tests {
    use super::comment::md_mark;
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
        assert_eq!(md_mark("ins", " new words "), " <ins>new words</ins> ");
        assert_eq!(md_mark("del", "a*b"), "<del>a\\*b</del>");
        assert_eq!(md_mark("del", "  "), "  ");
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

    #[test]
    fn elided_text_is_cut_between_words() {
        let long = "The service is still usable by everyone who wants to learn about it, \
                    and the agency keeps a record of every change it makes to the rules."
            .to_string();
        let changes = [
            Change::new(Op::Insert, "A"),
            Change::new(Op::Equal, format!(" {long} ")),
            Change::new(Op::Insert, "B"),
        ];
        let e = elide(&changes);
        let (head, tail) = e[1].text.split_once(" … ").expect("elided");
        for part in [head, tail] {
            for word in part.split_whitespace() {
                assert!(
                    long.split_whitespace().any(|w| w == word),
                    "{word:?} in {e:?}"
                );
            }
        }
        // Japanese: at the units the word diff uses.
        let ja = "シンガポールでは住民の多くがデジタル身分証明を利用しており、行政手続きの大部分をオンラインで完結できる環境が整備されている。さらに民間事業者も同じ仕組みを使って本人確認を行うことができるため、利用者の利便性は大きく向上した。";
        let changes = [
            Change::new(Op::Insert, "A"),
            Change::new(Op::Equal, ja.repeat(2)),
            Change::new(Op::Insert, "B"),
        ];
        let e = elide(&changes);
        let (head, tail) = e[1].text.split_once(" … ").expect("elided");
        let ja = ja.repeat(2);
        let units = review::tokens(&ja);
        assert!(
            units.concat().starts_with(head)
                && units
                    .iter()
                    .scan(String::new(), |s, t| {
                        s.push_str(t);
                        Some(s.clone())
                    })
                    .any(|s| s == head),
            "{head}"
        );
        assert!(
            units
                .iter()
                .rev()
                .scan(String::new(), |s, t| {
                    *s = format!("{t}{s}");
                    Some(s.clone())
                })
                .any(|s| s == tail),
            "{tail}"
        );
    }
}
