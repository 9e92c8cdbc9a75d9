//! `renga diff`: what changed between two versions of the report, in the
//! report's own terms (chapters, blocks, words, metrics), for a terminal,
//! a pull request comment or a tool, and as a redline edition in PDF.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::args::{DiffArgs, DiffFormat};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::diff_files::{self, FileDiff, SettingDiff};
use crate::git::Version;
use crate::lang::{Lang, Localized, is_cjk};
use crate::markdown::{self, Redline, RedlineToken};
use crate::pipeline::{self, Edition, RedlineEntry, RedlineInput, Timings};
use crate::project::{self, Chapter, Metric, Project, Unit};
use crate::review::{self, Block, Change, Op, Pair};
use crate::{format, translation};

pub fn run(args: &DiffArgs, quiet: bool) -> i32 {
    let mut problems = Problems::default();
    // The versions outlive the comparison: problems are shown with the
    // lines of their files, which a revision has in its temporary folder.
    let mut versions = Vec::new();
    let outcome = diff(args, &mut problems, &mut versions);
    if let (Some(path), Some((_, Some(pdf)))) = (&args.pdf, &outcome) {
        match crate::atomic::write(path, pdf) {
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
    let from = match &args.from {
        Some(spec) => Version::open(spec, &args.project),
        None => crate::git::revision(&args.project, "HEAD").map_err(|d| {
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
    let text = match args.format {
        DiffFormat::Terminal => terminal(&report, use_colour()),
        DiffFormat::Github => terminal(&report, false),
        DiffFormat::Markdown => markdown_comment(&report),
        DiffFormat::Json => serde_json::to_string(&report).unwrap_or_default() + "\n",
    };
    let pdf = args
        .pdf
        .as_ref()
        .and_then(|_| typeset_redline(to, &redline(&old, &new, &report, &budget), problems));
    Some((text, pdf))
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
    /// The block's words with their markup (`*emphasis*`, `[link](url)`,
    /// `![alt](image.png)`): equal, deleted and inserted runs.
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
    pub value: f64,
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
            value: m.value,
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
    let (files, errors) = diff_files::file_diffs(old, new, &renamed);
    let report = Report {
        from: from.to_string(),
        to: to.to_string(),
        chapters,
        metrics: metric_diffs(old, new),
        settings: diff_files::settings(&old.root, &new.root),
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
                formatting: old[a].text == new[b].text,
                words: review::word_diff_within(&old[a].markup, &new[b].markup, budget),
            },
            Pair::Added(b) => BlockDiff {
                status: Status::Added,
                kind: new[b].kind,
                section: new_sections[b].clone(),
                old: None,
                new: Some(BlockAt::new(&new[b])),
                formatting: false,
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

    fn block_status(&self, b: &BlockDiff) -> String {
        let style = match b.status {
            Status::Added => GREEN,
            Status::Removed => RED,
            _ => YELLOW,
        };
        self.paint(style, &block_status(b))
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

/// What happened to a block: `changed`, `changed (formatting only)`,
/// `moved from line 8`, `added`, `removed`.
fn block_status(b: &BlockDiff) -> String {
    match (b.status, &b.old) {
        (Status::Moved, Some(old)) => format!("moved from line {}", old.line),
        (Status::Changed, _) if b.formatting => "changed (formatting only)".into(),
        (status, _) => status.word().into(),
    }
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
                .any(|c| matches!(*c, "value" | "decimals" | "unit" | "illustrative"))
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
                .filter(|c| !matches!(*c, "value" | "decimals" | "unit" | "illustrative" | "as_of"))
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
    if report.is_empty() {
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
                    p.block_status(b),
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
    if !report.settings.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Settings (report.toml)")));
        for s in &report.settings {
            out.push_str(&format!("  {}\n", setting_line(s)));
        }
    }
    if !report.files.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Files")));
        for f in &report.files {
            out.push_str(&format!("  {}: {}\n", f.file, file_line(f)));
            for l in &f.lines {
                let (sign, style) = match l.op {
                    Op::Delete => ('-', RED),
                    _ => ('+', GREEN),
                };
                let which = if l.op == Op::Delete {
                    "old line"
                } else {
                    "line"
                };
                out.push_str(&format!(
                    "    {}: {}\n",
                    p.paint(DIM, &format!("{which} {}", l.line)),
                    p.paint(style, &format!("{sign} {}", l.text))
                ));
            }
        }
    }
    let blocks: usize = report
        .chapters
        .iter()
        .flat_map(|c| &c.texts)
        .map(|t| t.blocks.len())
        .sum();
    out.push_str(&format!(
        "\n{} chapter(s), {} block(s), {} metric(s), {} setting(s), {} file(s) changed\n",
        report.chapters.len(),
        blocks,
        report.metrics.len(),
        report.settings.len(),
        report.files.len()
    ));
    out
}

/// `title.en: "Old" → "New"`, `layout.draft: added, true`.
fn setting_line(s: &SettingDiff) -> String {
    match (&s.old, &s.new) {
        (Some(old), Some(new)) => format!("{}: {old} → {new}", s.key),
        (None, Some(new)) => format!("{}: added, {new}", s.key),
        (Some(old), None) => format!("{}: removed, was {old}", s.key),
        (None, None) => s.key.clone(),
    }
}

/// `image changed: 1,234 → 1,240 bytes, sha256 1a2b3c4d5e6f → 4d5e6f7a8b9c`.
fn file_line(f: &FileDiff) -> String {
    let size = |i: &diff_files::FileInfo| {
        format::group_thousands(&format::Decimal::from_f64(i.size as f64))
    };
    match (&f.old, &f.new) {
        (Some(old), Some(new)) => format!(
            "{} changed: {} → {} bytes, sha256 {} → {}",
            f.kind,
            size(old),
            size(new),
            old.sha256,
            new.sha256
        ),
        (None, Some(new)) => format!(
            "{} added: {} bytes, sha256 {}",
            f.kind,
            size(new),
            new.sha256
        ),
        (Some(old), None) => format!(
            "{} removed: was {} bytes, sha256 {}",
            f.kind,
            size(old),
            old.sha256
        ),
        (None, None) => f.kind.to_string(),
    }
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

/// Text between an HTML tag pair (`<del>`, `<ins>`), the whitespace at its
/// ends left outside. Tags, unlike `~~` and `**`, do not depend on
/// CommonMark's flanking rules, which leave `~~（PKI）~~` next to Japanese
/// punctuation unrendered; GitHub renders both tags.
fn md_mark(tag: &str, text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return text.to_string();
    }
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    format!(
        "{}<{tag}>{}</{tag}>{}",
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
            Op::Delete => md_mark("del", &c.text),
            Op::Insert => md_mark("ins", &c.text),
        })
        .collect()
}

/// A pull request comment: a section per chapter, words marked as deleted
/// or inserted, and a table of metrics in both languages.
pub fn markdown_comment(report: &Report) -> String {
    let mut out = format!(
        "### Report changes: {} → {}\n",
        md_escape(&report.from),
        md_escape(&report.to)
    );
    if report.is_empty() {
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
                    block_status(b),
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
    if !report.settings.is_empty() {
        out.push_str("\n#### Settings (`report.toml`)\n\n| Setting | Old | New |\n|---|---|---|\n");
        for s in &report.settings {
            let value = |v: &Option<String>| v.as_ref().map_or("—".to_string(), |v| md_escape(v));
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                s.key,
                value(&s.old),
                value(&s.new)
            ));
        }
    }
    if !report.files.is_empty() {
        out.push_str("\n#### Files\n\n");
        for f in &report.files {
            out.push_str(&format!("- `{}`: {}\n", f.file, md_escape(&file_line(f))));
            if f.lines.is_empty() {
                continue;
            }
            let body: String = f
                .lines
                .iter()
                .map(|l| {
                    let sign = if l.op == Op::Delete { '-' } else { '+' };
                    format!("{sign} {:>4} | {}\n", l.line, l.text)
                })
                .collect();
            // A fence longer than any run of backticks in the lines.
            let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            out.push_str(&format!("\n  {fence}diff\n"));
            for line in body.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str(&format!("  {fence}\n\n"));
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
pub fn redline(
    old: &Project,
    new: &Project,
    report: &Report,
    budget: &review::Budget,
) -> RedlineInput {
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
            let pairs = review::match_blocks(&old_units, &new_units, budget);
            let moves = review::moves(&old_units, &new_units, &pairs);
            let moved_from: std::collections::HashSet<usize> = moves.values().copied().collect();
            for p in pairs {
                let at = match p {
                    // A moved block is shown where it is now.
                    Pair::Removed(a) if moved_from.contains(&a) => continue,
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
                    Pair::Added(b) if moves.contains_key(&b) => {
                        redline.noted.insert(b);
                        let was = old_units[moves[&b]].line;
                        input.summary.push(entry(
                            b,
                            format!("{} moved here from old line {was}", new_units[b].kind),
                        ));
                    }
                    // Set as it is, formatting and all, with a bar beside it.
                    Pair::Changed(a, b) if old_units[a].text == new_units[b].text => {
                        redline.noted.insert(b);
                        input.summary.push(entry(
                            b,
                            format!("{} formatting changed", new_units[b].kind),
                        ));
                    }
                    Pair::Changed(a, b) => {
                        let words = review::word_diff_within(
                            &old_units[a].text,
                            &new_units[b].text,
                            budget,
                        );
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
                || !redline.noted.is_empty()
                || !redline.removed_before.is_empty()
            {
                input.chapters.insert((slug.clone(), lang), redline);
            }
        }
    }
    for s in &report.settings {
        input.summary.push(RedlineEntry {
            text: format!("Setting {}", setting_line(s)),
            label: String::new(),
        });
    }
    for f in &report.files {
        input.summary.push(RedlineEntry {
            text: format!("{}: {}", f.file, file_line(f)),
            label: String::new(),
        });
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

/// Typesets the bilingual redline edition of `to`, or `None` with the
/// reasons in `problems`. A version that `renga check` refuses gets no
/// redline: a changed block is set as its words, which would hide an error
/// in it (an unknown metric printed as inserted text), so `to` is checked
/// as `check` checks it first.
fn typeset_redline(to: &Version, input: &RedlineInput, problems: &mut Problems) -> Option<Vec<u8>> {
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    if let Some(prepared) = pipeline::prepare(&to.root, &Edition::ALL, &mut diags, &mut timings) {
        prepared.typeset(&mut diags, &mut timings);
    }
    let pdf = if diags.has_errors() {
        None
    } else {
        pipeline::prepare_redline(
            &to.root,
            &[Edition::Bilingual],
            input,
            &mut diags,
            &mut timings,
        )
        .map(|prepared| prepared.typeset(&mut diags, &mut timings))
        .into_iter()
        .flatten()
        .find(|o| o.edition == Edition::Bilingual)
        .and_then(|o| o.pdf)
    };
    diags.dedup();
    let mut errors: Vec<Diagnostic> = diags.items.into_iter().filter(|d| d.is_error()).collect();
    match pdf {
        Some(pdf) if errors.is_empty() => Some(pdf),
        _ => {
            errors.push(
                Diagnostic::error(
                    "redline",
                    format!(
                        "the redline edition of {} was not written: {} cannot be typeset as it is",
                        to.label, to.label
                    ),
                )
                .hint("`renga check` shows the same errors"),
            );
            problems.push(&to.root, Some(&to.label), errors);
            None
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
}
