//! Stage 1: load a report project (report.toml, chapters, metrics) into a
//! plain model. Every problem becomes a diagnostic at the author's file and line.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::load::confine;
use crate::model::format::Decimal;
use crate::model::lang::{Lang, Localized};

pub const MANIFEST: &str = "report.toml";

/// A calendar date (no time of day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The units a metric may have. Each is written per language by `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    People,
    Percent,
    Services,
    Transactions,
    Organisations,
    Courses,
    Hours,
    Sgd,
    Jpy,
    Usd,
}

impl Unit {
    pub fn japanese(self) -> &'static str {
        match self {
            Unit::Count => "",
            Unit::People => "人",
            Unit::Percent => "%",
            Unit::Services => "件",
            Unit::Transactions => "件",
            Unit::Organisations => "団体",
            Unit::Courses => "講座",
            Unit::Hours => "時間",
            Unit::Sgd => "シンガポールドル",
            Unit::Jpy => "円",
            Unit::Usd => "米ドル",
        }
    }

    /// Whether two agencies' figures in these units may share a row of a
    /// comparison table: the same unit, or money in any currency (a budget
    /// in S$ beside one in yen). Charts need the very same unit.
    pub fn comparable(self, other: Unit) -> bool {
        let money = |u| matches!(u, Unit::Sgd | Unit::Jpy | Unit::Usd);
        self == other || (money(self) && money(other))
    }

    /// The name authors write in the data, e.g. `people`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::People => "people",
            Unit::Percent => "percent",
            Unit::Services => "services",
            Unit::Transactions => "transactions",
            Unit::Organisations => "organisations",
            Unit::Courses => "courses",
            Unit::Hours => "hours",
            Unit::Sgd => "sgd",
            Unit::Jpy => "jpy",
            Unit::Usd => "usd",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: Spanned<String>,
    title: Localized,
    subtitle: Option<Localized>,
    edition: Localized,
    version: String,
    date: Spanned<toml::value::Datetime>,
    agencies: Vec<Spanned<Agency>>,
    description: Option<Localized>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    layout: Layout,
    #[serde(default)]
    output: Output,
}

/// `report.toml`: what the report is and who publishes it.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The stem of the output files, e.g. `sg-jp-digital-government-report`.
    pub name: String,
    pub title: Localized,
    pub subtitle: Option<Localized>,
    pub edition: Localized,
    pub version: String,
    pub date: Date,
    pub agencies: Vec<Agency>,
    pub description: Option<Localized>,
    pub keywords: Vec<String>,
    pub layout: Layout,
    pub output: Output,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub id: String,
    pub name: Localized,
    /// A short name for table headings, e.g. "GovTech".
    pub short: Localized,
    pub country: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Layout {
    /// A typst paper name.
    pub paper: String,
    /// Draft builds say so on every page.
    pub draft: bool,
}

/// `[output]`: which formats every build writes besides the PDFs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Output {
    /// Also write the web editions (as `renga compile --html` does).
    pub html: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            paper: "a4".into(),
            draft: false,
        }
    }
}

/// Optional `+++` front matter of a chapter file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    /// The id of the agency that leads the chapter.
    pub lead: Option<String>,
}

/// One language's markdown of a chapter.
#[derive(Debug, Clone)]
pub struct ChapterText {
    pub lang: Lang,
    /// Relative to the project root, `/`-separated.
    pub path: String,
    /// The whole file, front matter included (so that lines match the file).
    pub text: String,
    pub front: FrontMatter,
}

#[derive(Debug, Clone)]
pub struct Chapter {
    pub number: u32,
    /// The folder name, e.g. `02-digital-identity`.
    pub slug: String,
    pub texts: BTreeMap<Lang, ChapterText>,
}

impl Chapter {
    pub fn dir(&self) -> String {
        format!("chapters/{}", self.slug)
    }

    pub fn text(&self, lang: Lang) -> Option<&ChapterText> {
        self.texts.get(&lang)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// `<agency>.<topic>.<id>`
    pub key: String,
    pub agency: String,
    pub topic: String,
    pub id: String,
    pub label: Localized,
    /// The value as a float, for comparisons and the chart's bar lengths;
    /// never printed (see `exact` and `figure`).
    pub value: f64,
    /// The value exactly as the data file writes it, unrounded.
    pub exact: Decimal,
    /// The value as printed: the digits the data file gives, rounded only
    /// when the metric sets `decimals`.
    pub figure: Decimal,
    /// Fraction digits to round to, when the data asks for rounding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    pub unit: Unit,
    pub as_of: Date,
    pub source: String,
    pub url: Option<String>,
    pub illustrative: bool,
    pub note: Option<Localized>,
    #[serde(skip)]
    pub location: Location,
}

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub id: String,
    pub title: Localized,
}

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub topics: Vec<Topic>,
    pub list: Vec<Metric>,
    by_key: HashMap<String, usize>,
    /// Metrics files that could not be read, by `<agency>.<topic>`, and
    /// metrics that were refused, by key: each mapped to its file, so that a
    /// reference to them names the file that failed instead of guessing.
    failed: HashMap<String, String>,
}

impl Metrics {
    pub fn get(&self, key: &str) -> Option<&Metric> {
        self.by_key.get(key).map(|&i| &self.list[i])
    }

    /// The metrics file whose error left `key` undefined, if one did.
    pub fn failed_file(&self, key: &str) -> Option<&str> {
        let file_key = key.rsplit_once('.').map_or(key, |(file, _)| file);
        self.failed
            .get(key)
            .or_else(|| self.failed.get(file_key))
            .map(String::as_str)
    }

    /// Whether the entry of `key` itself was refused (its error says why).
    pub fn refused(&self, key: &str) -> bool {
        self.failed.contains_key(key)
    }

    /// The known metric key closest to `key`, for "did you mean" hints.
    pub fn closest(&self, key: &str) -> Option<&str> {
        self.list
            .iter()
            .map(|m| (strsim_distance(key, &m.key), m.key.as_str()))
            .filter(|(d, _)| *d <= key.len().max(3) / 3 + 1)
            .min()
            .map(|(_, k)| k)
    }
}

/// Levenshtein distance over characters.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub chapters: Vec<Chapter>,
    /// Chapter folders refused with an error (a number used twice), so that
    /// links to them do not repeat that error as broken links.
    pub skipped: Vec<String>,
    pub metrics: Metrics,
    /// The bundled fonts, then the project's own from `fonts/`.
    pub fonts: std::sync::Arc<crate::typeset::fonts::Fonts>,
}

impl Project {
    pub fn agency(&self, id: &str) -> Option<&Agency> {
        self.manifest.agencies.iter().find(|a| a.id == id)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsFile {
    topic: Localized,
    #[serde(default)]
    metric: Vec<Spanned<MetricEntry>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricEntry {
    id: String,
    label: Localized,
    value: Spanned<f64>,
    /// Round the printed value to this many fraction digits.
    decimals: Option<Spanned<u8>>,
    unit: Unit,
    as_of: Spanned<toml::value::Datetime>,
    source: String,
    url: Option<String>,
    #[serde(default)]
    illustrative: bool,
    note: Option<Localized>,
}

/// Loads the project at `root`. Returns `None` when errors make the project
/// unusable; every problem found is pushed to `diags`.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Option<Project> {
    let manifest = load_manifest(root, diags)?;
    let mut skipped = Vec::new();
    let chapters = load_chapters(root, &manifest, &mut skipped, diags);
    let metrics = load_metrics(root, &manifest, diags);
    let fonts = crate::typeset::fonts::Fonts::load(root, diags);
    Some(Project {
        root: root.to_path_buf(),
        manifest,
        chapters,
        skipped,
        metrics,
        fonts,
    })
}

/// Reads a project file as text, confined to the project (see [`confine`]).
fn read(root: &Path, rel: &str, diags: &mut Diagnostics) -> Option<String> {
    match confine::Root::new(root).read_text(rel) {
        // A UTF-8 byte-order mark is no character of the text.
        Ok(text) => Some(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        }),
        Err(err) => {
            diags.push(err.diagnostic(rel));
            None
        }
    }
}

/// A file's bytes as text: UTF-8, without the byte-order mark some editors
/// write first (it is no character of the text). Anything else is an error
/// at the first byte that is not UTF-8.
pub fn decode(rel: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        }),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            // Everything before the bad byte is text: count lines and
            // columns in it.
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let location = Location::from_offset(rel, &before, valid);
            Err(Diagnostic::error(
                "utf8",
                format!(
                    "{rel} is not valid UTF-8 from byte {valid} (0x{:02x}, counting from 0; line {}, column {})",
                    bytes[valid], location.line, location.column
                ),
            )
            .at(location)
            .hint("save the file as UTF-8"))
        }
    }
}

/// A TOML error at the place the parser names, shifted by `offset` bytes
/// when the TOML is embedded in a larger file (front matter).
fn toml_error(err: &toml::de::Error, file: &str, text: &str, offset: usize) -> Diagnostic {
    let message = err.message().trim().to_string();
    let location = match err.span() {
        Some(span) => Location::from_range(file, text, span.start + offset..span.end + offset),
        None => Location::from_offset(file, text, offset),
    };
    Diagnostic::error("toml", message).at(location)
}

fn span_location(file: &str, text: &str, span: Range<usize>) -> Location {
    Location::from_range(file, text, span)
}

fn to_date(
    value: &Spanned<toml::value::Datetime>,
    file: &str,
    text: &str,
) -> Result<Date, Diagnostic> {
    let dt = value.get_ref();
    match (dt.date, dt.time) {
        (Some(d), None) => Ok(Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        _ => Err(Diagnostic::error(
            "date",
            format!("expected a date like 2026-11-27, found `{dt}`"),
        )
        .at(span_location(file, text, value.span()))),
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The project a command means by `given`, as git and cargo find theirs:
/// the folder itself when it has a `report.toml`; the folder of a
/// `report.toml` named directly; else the nearest folder above that has
/// one (an author runs `renga check` inside a chapter folder). `given`
/// unchanged when none has, so that loading says what is missing.
pub fn find_root(given: &Path) -> PathBuf {
    if given.is_file() && given.file_name().is_some_and(|n| n == MANIFEST) {
        return match given.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
    if !given.is_dir() || given.join(MANIFEST).is_file() {
        return given.to_path_buf();
    }
    let Ok(absolute) = std::path::absolute(given) else {
        return given.to_path_buf();
    };
    absolute
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(MANIFEST).is_file())
        .map_or_else(|| given.to_path_buf(), Path::to_path_buf)
}

fn load_manifest(root: &Path, diags: &mut Diagnostics) -> Option<Manifest> {
    if !root.exists() {
        diags.push(
            Diagnostic::error("no-project", format!("{} does not exist", root.display())).hint(
                "pass the project folder (the one with report.toml), or run `renga init` there",
            ),
        );
        return None;
    }
    if !confine::Root::new(root).has_entry(MANIFEST) {
        diags.push(
            Diagnostic::error(
                "no-project",
                format!("{} has no {MANIFEST}: not a report project", root.display()),
            )
            .hint("run `renga init` to create a project, or pass the project folder"),
        );
        return None;
    }
    let text = read(root, MANIFEST, diags)?;
    let file: ManifestFile = match toml::from_str(&text) {
        Ok(file) => file,
        Err(err) => {
            diags.push(toml_error(&err, MANIFEST, &text, 0));
            return None;
        }
    };
    let mut ok = true;
    let date = match to_date(&file.date, MANIFEST, &text) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            ok = false;
            Date {
                year: 1970,
                month: 1,
                day: 1,
            }
        }
    };
    let name = file.name.get_ref();
    if !is_identifier(name) {
        diags.push(
            Diagnostic::error(
                "manifest",
                format!("`name` must be lowercase letters, digits, `-` or `_`: `{name}`"),
            )
            .at(span_location(MANIFEST, &text, file.name.span())),
        );
        ok = false;
    }
    if file.agencies.is_empty() {
        diags.push(
            Diagnostic::error("manifest", "report.toml names no agencies")
                .at(Location::new(MANIFEST, 1, 1)),
        );
        ok = false;
    }
    let mut agencies: Vec<Agency> = Vec::new();
    for spanned in &file.agencies {
        let agency = spanned.get_ref();
        let at = span_location(MANIFEST, &text, spanned.span());
        if !is_identifier(&agency.id) {
            diags.push(
                Diagnostic::error(
                    "manifest",
                    format!(
                        "agency id `{}` must be lowercase letters, digits, `-` or `_`",
                        agency.id
                    ),
                )
                .at(at),
            );
            ok = false;
        } else if agencies.iter().any(|a| a.id == agency.id) {
            diags.push(
                Diagnostic::error(
                    "manifest",
                    format!("agency `{}` is listed twice", agency.id),
                )
                .at(at),
            );
            ok = false;
        }
        agencies.push(agency.clone());
    }
    ok.then(|| Manifest {
        name: name.clone(),
        title: file.title,
        subtitle: file.subtitle,
        edition: file.edition,
        version: file.version,
        date,
        agencies,
        description: file.description,
        keywords: file.keywords,
        layout: file.layout,
        output: file.output,
    })
}

/// Splits `---`-delimited YAML front matter (as Jekyll, Hugo and Zola write
/// it) off a chapter. Returns the YAML text and its byte offset in the file,
/// or `None` without it. Front matter is `key: value` lines: a document that
/// opens with a rule and a setext heading (`---`, `Foo`, `---`) is markdown.
pub fn split_yaml_front_matter(text: &str) -> Option<(&str, usize)> {
    let (yaml, start) = split_fenced(text, "---")?;
    let first = yaml
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let keyed = first.is_none_or(|l| {
        l.split_once(':').is_some_and(|(key, _)| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '"' | '\'' | ' '))
        })
    });
    keyed.then_some((yaml, start))
}

/// A chapter text's front matter, TOML between `+++` lines or YAML between
/// `---` lines (the default when it has none); its problems are reported in
/// `diags` at `rel`. `None` when it is opened and never closed.
fn front_matter(text: &str, rel: &str, diags: &mut Diagnostics) -> Option<FrontMatter> {
    let yaml = split_yaml_front_matter(text);
    Some(match (split_front_matter(text), yaml) {
        (None, Some((yaml, offset))) => yaml_front_matter(yaml, offset, rel, text, diags),
        (None, None) if text.starts_with("+++") => {
            diags.push(
                Diagnostic::error(
                    "front-matter",
                    "front matter opened with `+++` is never closed",
                )
                .at(Location::new(rel, 1, 1).with_len(3)),
            );
            return None;
        }
        (None, None) => FrontMatter::default(),
        (Some((toml_text, offset)), _) => match toml::from_str::<FrontMatter>(toml_text) {
            Ok(front) => front,
            Err(err) => {
                // Reported; the chapter's text still counts as there.
                diags.push(toml_error(&err, rel, text, offset));
                FrontMatter::default()
            }
        },
    })
}

/// The chapter title a text's front matter gives, if any (a broken front
/// matter gives none: loading the project reports it).
pub fn front_matter_title(text: &str) -> Option<String> {
    front_matter(text, "", &mut Diagnostics::default())?.title
}

/// Reads YAML front matter: its `title`; every other key is reported once,
/// since renga has no use for it (and never prints it).
fn yaml_front_matter(
    yaml: &str,
    offset: usize,
    rel: &str,
    text: &str,
    diags: &mut Diagnostics,
) -> FrontMatter {
    use serde_norway::Value;
    let value: Value = match serde_norway::from_str(yaml) {
        Ok(v) => v,
        Err(err) => {
            let at = err.location().map_or(offset, |l| offset + l.index());
            diags.push(
                Diagnostic::error("front-matter", format!("YAML front matter: {err}"))
                    .at(Location::from_offset(rel, text, at)),
            );
            return FrontMatter::default();
        }
    };
    let mapping = match value {
        Value::Mapping(m) => m,
        Value::Null => return FrontMatter::default(),
        _ => {
            diags.push(
                Diagnostic::error(
                    "front-matter",
                    "YAML front matter must be `key: value` lines",
                )
                .at(Location::from_offset(rel, text, offset)),
            );
            return FrontMatter::default();
        }
    };
    // The place of a key, for diagnostics: the line that starts with it.
    let key_at = |key: &str| {
        let mut pos = offset;
        for line in yaml.split_inclusive('\n') {
            if line.trim_start().starts_with(key) {
                return Location::from_offset(
                    rel,
                    text,
                    pos + (line.len() - line.trim_start().len()),
                );
            }
            pos += line.len();
        }
        Location::from_offset(rel, text, offset)
    };
    let mut front = FrontMatter::default();
    let mut unused = Vec::new();
    for (key, value) in mapping {
        let key = match key {
            Value::String(k) => k,
            other => serde_norway::to_string(&other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        if key != "title" {
            unused.push(key);
            continue;
        }
        match value {
            Value::String(t) => front.title = Some(t),
            Value::Number(n) => front.title = Some(n.to_string()),
            Value::Bool(b) => front.title = Some(b.to_string()),
            _ => diags.push(
                Diagnostic::error(
                    "front-matter",
                    "`title` in the YAML front matter must be text",
                )
                .at(key_at("title")),
            ),
        }
    }
    if let Some(first) = unused.first() {
        let list = unused
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        diags.push(
            Diagnostic::warning(
                "front-matter-ignored",
                format!("YAML front matter keys renga does not use are ignored: {list}"),
            )
            .at(key_at(first))
            .hint("renga reads `title` from YAML front matter; authors and lead go in `+++` TOML front matter"),
        );
    }
    front
}

/// Splits `+++`-delimited front matter off a chapter. Returns the TOML text
/// and its byte offset in the file, or `None` without front matter.
pub fn split_front_matter(text: &str) -> Option<(&str, usize)> {
    split_fenced(text, "+++")
}

/// The text between a `fence` line opening the file and the next such line,
/// with its byte offset; `None` unless both are there.
/// Front matter whose opening or closing fence has white space after it
/// (`--- `, as some published pages have it; Jekyll accepts it) with the
/// fences written plainly, so that every reader of the chapter (comrak's
/// front matter, the records, the diff) sees front matter, not a rule and a
/// heading. Only those two lines change, so every line keeps its number.
fn tidy_fences(text: String) -> String {
    let first = text.split_inclusive('\n').next().unwrap_or_default();
    let Some(fence) = ["---", "+++"].into_iter().find(|f| first.trim_end() == *f) else {
        return text;
    };
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(close) = lines.iter().skip(1).position(|l| l.trim_end() == fence) else {
        return text;
    };
    let plain = |line: &str| -> String {
        let end = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        format!("{fence}{end}")
    };
    let (open_line, close_line) = (plain(lines[0]), plain(lines[close + 1]));
    if open_line == lines[0] && close_line == lines[close + 1] {
        return text;
    }
    lines[0] = &open_line;
    lines[close + 1] = &close_line;
    lines.concat()
}

fn split_fenced<'t>(text: &'t str, fence: &str) -> Option<(&'t str, usize)> {
    let rest = text.strip_prefix(fence)?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let start = text.len() - rest.len();
    let mut pos = start;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((&text[start..pos], start));
        }
        pos += line.len();
    }
    None
}

fn load_chapters(
    root: &Path,
    manifest: &Manifest,
    skipped: &mut Vec<String>,
    diags: &mut Diagnostics,
) -> Vec<Chapter> {
    let mut chapters: Vec<Chapter> = Vec::new();
    let Some(names) = folders(root, "chapters", diags) else {
        diags.push(
            Diagnostic::warning("no-chapters", "the project has no chapters/ folder")
                .at(Location::file("chapters")),
        );
        return vec![];
    };
    for slug in names {
        let Some(number) = chapter_number(&slug) else {
            diags.push(
                Diagnostic::warning("chapter-folder", format!("chapters/{slug} is not a chapter folder and is not typeset"))
                    .at(Location::file(format!("chapters/{slug}")))
                    .hint("name chapter folders `NN-slug` with lowercase letters, digits and `-`, e.g. `02-digital-identity`"),
            );
            continue;
        };
        if let Some(twin) = chapters.iter().find(|c| c.number == number) {
            diags.push(
                Diagnostic::error(
                    "chapter-number",
                    format!(
                        "chapters/{slug} has the same number as chapters/{}",
                        twin.slug
                    ),
                )
                .at(Location::file(format!("chapters/{slug}"))),
            );
            skipped.push(slug);
            continue;
        }
        let mut texts = BTreeMap::new();
        // A file that is there but cannot be used was reported as such, and
        // is not reported again as missing.
        let mut broken = false;
        for lang in Lang::ALL {
            let rel = format!("chapters/{slug}/{lang}.md");
            if !confine::Root::new(root).has_entry(&rel) {
                continue;
            }
            let Some(text) = read(root, &rel, diags).map(tidy_fences) else {
                broken = true;
                continue;
            };
            let Some(front) = front_matter(&text, &rel, diags) else {
                broken = true;
                continue;
            };
            if let Some(lead) = &front.lead
                && !manifest.agencies.iter().any(|a| &a.id == lead)
            {
                let offset = text.find("lead").unwrap_or(0);
                diags.push(
                    Diagnostic::error(
                        "front-matter",
                        format!("`lead` names agency `{lead}`, which report.toml does not list"),
                    )
                    .at(Location::from_offset(&rel, &text, offset))
                    .hint(format!(
                        "agencies: {}",
                        manifest
                            .agencies
                            .iter()
                            .map(|a| a.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
            texts.insert(
                lang,
                ChapterText {
                    lang,
                    path: rel,
                    text,
                    front,
                },
            );
        }
        if texts.is_empty() && broken {
            continue;
        }
        if texts.is_empty() {
            diags.push(
                Diagnostic::warning(
                    "chapter-empty",
                    format!("chapters/{slug} has neither en.md nor ja.md and is not typeset"),
                )
                .at(Location::file(format!("chapters/{slug}"))),
            );
            continue;
        }
        chapters.push(Chapter {
            number,
            slug,
            texts,
        });
    }
    chapters.sort_by_key(|c| c.number);
    chapters
}

/// The folders in the project folder `rel`, sorted, or `None` when `rel` is
/// not there. Links to folders outside the project are reported and skipped.
fn folders(root: &Path, rel: &str, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let files = confine::Root::new(root);
    let names = match files.list(rel) {
        Ok(names) => names,
        Err(err) if err.is_refusal() => {
            diags.push(err.diagnostic(rel));
            return Some(vec![]);
        }
        Err(_) => return None,
    };
    let mut out = Vec::new();
    for name in names {
        let path = format!("{rel}/{name}");
        match files.is_dir(&path) {
            Ok(true) => out.push(name),
            Ok(false) => {}
            Err(err) => diags.push(err.diagnostic(&path)),
        }
    }
    Some(out)
}

/// `02-digital-identity` → 2.
fn chapter_number(slug: &str) -> Option<u32> {
    let (num, rest) = slug.split_once('-')?;
    if num.is_empty()
        || !num.bytes().all(|b| b.is_ascii_digit())
        || !is_identifier(rest)
        || rest.contains('_')
    {
        return None;
    }
    num.parse().ok()
}

fn load_metrics(root: &Path, manifest: &Manifest, diags: &mut Diagnostics) -> Metrics {
    let mut metrics = Metrics::default();
    let Some(mut dirs) = folders(root, "data", diags) else {
        return metrics;
    };
    // Agencies in report.toml order, so tables list them the same way.
    dirs.sort_by_key(|d| {
        manifest
            .agencies
            .iter()
            .position(|a| &a.id == d)
            .unwrap_or(usize::MAX)
    });
    let mut topics: BTreeMap<String, Localized> = BTreeMap::new();
    for agency in dirs {
        if !manifest.agencies.iter().any(|a| a.id == agency) {
            diags.push(
                Diagnostic::error(
                    "metrics-agency",
                    format!("data/{agency} is not the folder of an agency in report.toml"),
                )
                .at(Location::file(format!("data/{agency}"))),
            );
            continue;
        }
        let Ok(files) = confine::Root::new(root).list(&format!("data/{agency}")) else {
            continue;
        };
        for name in files {
            let rel = format!("data/{agency}/{name}");
            let Some(topic) = name.strip_suffix(".toml") else {
                diags.push(
                    Diagnostic::warning(
                        "metrics-file",
                        format!("{rel} is not a .toml metrics file and is ignored"),
                    )
                    .at(Location::file(&rel)),
                );
                continue;
            };
            if !is_identifier(topic) {
                diags.push(Diagnostic::error("metrics-file", format!("metrics file name `{topic}` must be lowercase letters, digits, `-` or `_`")).at(Location::file(&rel)));
                continue;
            }
            let failed_file = format!("{agency}.{topic}");
            let Some(text) = read(root, &rel, diags) else {
                metrics.failed.insert(failed_file, rel);
                continue;
            };
            let file: MetricsFile = match toml::from_str(&text) {
                Ok(file) => file,
                Err(err) => {
                    diags.push(toml_error(&err, &rel, &text, 0));
                    metrics.failed.insert(failed_file, rel);
                    continue;
                }
            };
            topics.entry(topic.to_string()).or_insert(file.topic);
            for spanned in file.metric {
                let at = span_location(&rel, &text, spanned.span());
                let entry = spanned.into_inner();
                let key = format!("{agency}.{topic}.{}", entry.id);
                if metrics.by_key.contains_key(&key) {
                    diags.push(
                        Diagnostic::error("metric-id", format!("metric `{key}` is defined twice"))
                            .at(at),
                    );
                    continue;
                }
                let place = MetricPlace {
                    key: &key,
                    file: &rel,
                    text: &text,
                    at: &at,
                    published: manifest.date,
                };
                let Some((exact, figure, as_of)) = check_metric(&entry, &place, diags) else {
                    // References to it name this file rather than guess.
                    metrics.failed.insert(key, rel.clone());
                    continue;
                };
                metrics.by_key.insert(key.clone(), metrics.list.len());
                metrics.list.push(Metric {
                    key,
                    agency: agency.clone(),
                    topic: topic.to_string(),
                    id: entry.id,
                    label: entry.label,
                    value: *entry.value.get_ref(),
                    exact,
                    figure,
                    decimals: entry.decimals.map(Spanned::into_inner),
                    unit: entry.unit,
                    as_of,
                    source: entry.source,
                    url: entry.url,
                    illustrative: entry.illustrative,
                    note: entry.note,
                    location: at,
                });
            }
        }
    }
    check_units(&metrics, diags);
    metrics.topics = topics
        .into_iter()
        .map(|(id, title)| Topic { id, title })
        .collect();
    metrics
}

/// Where a metric entry sits, for its diagnostics.
struct MetricPlace<'a> {
    key: &'a str,
    file: &'a str,
    text: &'a str,
    at: &'a Location,
    published: Date,
}

/// Checks one metric entry; returns the figure it prints and its as-of date,
/// or `None` (with an error pushed) when it cannot be used.
fn check_metric(
    entry: &MetricEntry,
    place: &MetricPlace,
    diags: &mut Diagnostics,
) -> Option<(Decimal, Decimal, Date)> {
    let MetricPlace {
        key, file, text, ..
    } = *place;
    let at = place.at.clone();
    let as_of = match to_date(&entry.as_of, file, text) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    if !is_identifier(&entry.id) {
        diags.push(
            Diagnostic::error(
                "metric-id",
                format!(
                    "metric id `{}` must be lowercase letters, digits, `-` or `_`",
                    entry.id
                ),
            )
            .at(at),
        );
        return None;
    }
    let value = *entry.value.get_ref();
    if !value.is_finite() {
        diags.push(
            Diagnostic::error(
                "metric-value",
                format!("metric `{key}` has no finite value"),
            )
            .at(span_location(file, text, entry.value.span())),
        );
        return None;
    }
    if entry.source.trim().is_empty() {
        diags.push(
            Diagnostic::error("metric-source", format!("metric `{key}` names no source")).at(at),
        );
        return None;
    }
    // The digits as the data file writes them; a float only for literals
    // such as `1.5e6`, which have no written digits to keep.
    let literal = text.get(entry.value.span()).unwrap_or_default();
    let exact = Decimal::parse_toml(literal).unwrap_or_else(|| Decimal::from_f64(value));
    let mut figure = exact.clone();
    if let Some(decimals) = &entry.decimals {
        if *decimals.get_ref() > 12 {
            diags.push(
                Diagnostic::error(
                    "metric-decimals",
                    format!("metric `{key}`: `decimals` is at most 12"),
                )
                .at(span_location(file, text, decimals.span())),
            );
            return None;
        }
        figure = figure.round(*decimals.get_ref());
    }
    if entry.unit == Unit::Percent && !(0.0..=100.0).contains(&value) {
        diags.push(
            Diagnostic::warning(
                "metric-value",
                format!("metric `{key}` is a percentage outside 0–100: {figure}"),
            )
            .at(at),
        );
    }
    if as_of > place.published {
        diags.push(
            Diagnostic::warning(
                "metric-date",
                format!(
                    "metric `{key}` is as of {as_of}, after the report's publication date {}",
                    place.published
                ),
            )
            .at(span_location(file, text, entry.as_of.span()))
            .hint("check the as-of date, or the `date` in report.toml"),
        );
    }
    Some((exact, figure, as_of))
}

/// The same metric id in two agencies' files is compared in one row; it
/// must measure the same thing. Warns where units cannot be compared (the
/// comparison table then gives each its own row).
fn check_units(metrics: &Metrics, diags: &mut Diagnostics) {
    for (i, m) in metrics.list.iter().enumerate() {
        let Some(first) = metrics.list[..i]
            .iter()
            .find(|o| o.topic == m.topic && o.id == m.id && !o.unit.comparable(m.unit))
        else {
            continue;
        };
        diags.push(
            Diagnostic::warning(
                "metric-unit",
                format!(
                    "metric `{}` is in `{}` but `{}` is in `{}`: they are not compared in one row",
                    m.key,
                    m.unit.name(),
                    first.key,
                    first.unit.name()
                ),
            )
            .at(m.location.clone())
            .hint(
                "give the metrics different ids if they measure different things, or the same unit",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_is_key_value_lines() {
        let (yaml, offset) = split_yaml_front_matter("---\ntitle: A\n---\n# Body\n").unwrap();
        assert_eq!((yaml, offset), ("title: A\n", 4));
        assert!(split_yaml_front_matter("---\n---\nText\n").is_some());
        // CommonMark's rule and setext heading, not front matter.
        assert!(split_yaml_front_matter("---\nFoo\n---\nBar\n").is_none());
        assert!(split_yaml_front_matter("---\ntitle: never closed\n").is_none());
    }

    #[test]
    fn front_matter_is_split_with_its_offset() {
        let text = "+++\ntitle = \"A\"\n+++\n# Body\n";
        let (toml, offset) = split_front_matter(text).unwrap();
        assert_eq!(toml, "title = \"A\"\n");
        assert_eq!(offset, 4);
        assert!(split_front_matter("# No front matter").is_none());
        assert!(split_front_matter("+++\nnever closed\n").is_none());
    }

    #[test]
    fn chapter_numbers_come_from_the_folder_name() {
        assert_eq!(chapter_number("02-digital-identity"), Some(2));
        assert_eq!(chapter_number("10-x"), Some(10));
        assert_eq!(chapter_number("intro"), None);
        assert_eq!(chapter_number("02-Bad_Name"), None);
    }

    #[test]
    fn closest_metric_is_suggested() {
        let mut m = Metrics::default();
        for key in ["sg.identity.users", "jp.identity.users", "sg.ai.projects"] {
            m.by_key.insert(key.into(), m.list.len());
            m.list.push(Metric {
                key: key.into(),
                agency: String::new(),
                topic: String::new(),
                id: String::new(),
                label: Localized {
                    en: String::new(),
                    ja: String::new(),
                },
                value: 1.0,
                exact: Decimal::parse("1").unwrap(),
                figure: Decimal::parse("1").unwrap(),
                decimals: None,
                unit: Unit::Count,
                as_of: Date {
                    year: 2024,
                    month: 1,
                    day: 1,
                },
                source: String::new(),
                url: None,
                illustrative: false,
                note: None,
                location: Location::file("x"),
            });
        }
        assert_eq!(m.closest("sg.identity.user"), Some("sg.identity.users"));
        assert_eq!(m.closest("totally.different.thing"), None);
    }
}
