//! Diagnostics: errors and warnings as values with a source location, rendered
//! in one place for the terminal, JSON and GitHub workflow annotations.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in one of the author's files. `line` and `column` are 1-based;
/// the column counts characters, as editors do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Path relative to the project root, with `/` separators.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Length of the offending text in characters (0 when unknown).
    #[serde(skip)]
    pub len: usize,
}

impl Location {
    pub fn new(file: impl Into<String>, line: usize, column: usize) -> Self {
        Self {
            file: file.into(),
            line,
            column,
            len: 0,
        }
    }

    pub fn file(file: impl Into<String>) -> Self {
        Self::new(file, 0, 0)
    }

    pub fn with_len(mut self, len: usize) -> Self {
        self.len = len;
        self
    }

    /// The location of byte `offset` in `text`, which is the content of `file`.
    pub fn from_offset(file: impl Into<String>, text: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Self::new(file, line, column)
    }

    /// Like [`Location::from_offset`] with the length of a byte range.
    pub fn from_range(file: impl Into<String>, text: &str, range: std::ops::Range<usize>) -> Self {
        let end = floor_char_boundary(text, range.end.min(text.len()));
        let start = floor_char_boundary(text, range.start.min(end));
        let len = text[start..end].chars().count();
        Self::from_offset(file, text, start).with_len(len)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable short code, e.g. `metric-unknown`, for tools and documentation.
    pub code: &'static str,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            hints: vec![],
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics gathered by a run, in the order they were found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Under `--strict`, every warning counts as an error.
    pub fn make_strict(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }

    /// Removes exact repeats (the same typst warning reached from two
    /// editions), and merges a problem found in several editions' templates
    /// into one that names them all.
    pub fn dedup(&mut self) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut kept: Vec<(Diagnostic, Vec<String>)> = Vec::new();
        for mut d in self.items.drain(..) {
            let mut editions = Vec::new();
            d.hints.retain(|h| match parse_editions_hint(h) {
                Some(codes) => {
                    editions.extend(codes);
                    false
                }
                None => true,
            });
            match seen.get(&format!("{d:?}")) {
                Some(&i) => {
                    let merged = &mut kept[i].1;
                    for e in editions {
                        if !merged.contains(&e) {
                            merged.push(e);
                        }
                    }
                }
                None => {
                    seen.insert(format!("{d:?}"), kept.len());
                    kept.push((d, editions));
                }
            }
        }
        for (mut d, editions) in kept {
            if !editions.is_empty() {
                let codes: Vec<&str> = editions.iter().map(String::as_str).collect();
                d.hints.push(editions_hint(&codes));
            }
            self.items.push(d);
        }
    }
}

/// The hint naming the editions a template problem was found in:
/// `in the en edition`, `in the en, ja and en-ja editions`.
pub fn editions_hint(codes: &[&str]) -> String {
    match codes {
        [] => String::new(),
        [one] => format!("in the {one} edition"),
        [rest @ .., last] => format!("in the {} and {last} editions", rest.join(", ")),
    }
}

fn parse_editions_hint(hint: &str) -> Option<Vec<String>> {
    let list = hint
        .strip_prefix("in the ")?
        .strip_suffix(" editions")
        .or_else(|| hint.strip_prefix("in the ")?.strip_suffix(" edition"))?;
    let codes: Vec<String> = list
        .split(" and ")
        .flat_map(|part| part.split(", "))
        .map(str::to_string)
        .collect();
    codes
        .iter()
        .all(|c| matches!(c.as_str(), "en" | "ja" | "en-ja"))
        .then_some(codes)
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The message and place of the last panic, kept by [`catch_panics`]'s hook
/// so that it can be reported as a diagnostic instead of a backtrace.
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Makes a panic (a bug in renga or typst, never the author's) quiet, so
/// that it is reported once as an [`internal_error`]. With `RENGA_BACKTRACE`
/// set, the usual message and backtrace are printed too (not with
/// `RUST_BACKTRACE`, which CI machines often set for every program).
pub fn catch_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let place = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{message}{place}"));
        if std::env::var_os("RENGA_BACKTRACE").is_some() {
            default(info);
        }
    }));
}

/// The diagnostic for a panic caught by [`catch_panics`]'s hook.
pub fn internal_error() -> Diagnostic {
    let message = PANIC
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| "an unknown failure".into());
    Diagnostic::error("internal", format!("internal error: {message}")).hint(
        "this is a bug in renga, not in the project; please report it with the files that cause it",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with a caret under the problem, like rustc.
    Human,
    /// One JSON object per line and diagnostic.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Text from the project (chapter text, titles, file names, settings) as
/// it may be shown to a person: every control character but the newline
/// and the tab is shown as a visible sign instead of reaching the terminal
/// raw, where an escape sequence can hide text (`ESC[8m`), retitle the
/// window (`ESC]0;…`) or write the clipboard (OSC 52). C0 controls become
/// the Control Pictures `␛`, `␍`, `␀`, … (one character each, so columns
/// stay put), DEL becomes `␡`, and C1 controls `<U+009B>`. Every human
/// output of `renga diff` and `renga status` passes author text through it.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let shown = |c: char| c == '\n' || c == '\t' || !c.is_control();
    if text.chars().all(shown) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            _ if shown(c) => out.push(c),
            n @ 0..=0x1f => out.push(char::from_u32(0x2400 + n).unwrap_or('\u{fffd}')),
            0x7f => out.push('\u{2421}'),
            n => out.push_str(&format!("<U+{n:04X}>")),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes diagnostics in the chosen format. Human output goes to stderr with
/// colour when stderr is a terminal (and `NO_COLOR` is unset).
pub fn emit(root: &Path, diagnostics: &[Diagnostic], format: Format) -> io::Result<()> {
    match format {
        Format::Human => emit_human(root, diagnostics),
        Format::Json => {
            let mut out = io::stdout().lock();
            for d in diagnostics {
                serde_json::to_writer(&mut out, d)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Github => {
            let mut out = io::stdout().lock();
            for d in diagnostics {
                writeln!(out, "{}", github_annotation(d))?;
            }
            Ok(())
        }
    }
}

pub fn github_annotation(d: &Diagnostic) -> String {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(loc) = &d.location {
        props.push(format!("file={}", gh_escape_property(&loc.file)));
        if loc.line > 0 {
            props.push(format!("line={}", loc.line));
        }
        if loc.column > 0 {
            props.push(format!("col={}", loc.column));
        }
    }
    props.push(format!("title={}", gh_escape_property(d.code)));
    let mut message = d.message.clone();
    for h in &d.hints {
        message.push_str("\nhint: ");
        message.push_str(h);
    }
    format!("::{kind} {}::{}", props.join(","), gh_escape_data(&message))
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_escape_property(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn emit_human(root: &Path, diagnostics: &[Diagnostic]) -> io::Result<()> {
    let choice =
        if std::env::var_os("NO_COLOR").is_some() || !io::IsTerminal::is_terminal(&io::stderr()) {
            termcolor::ColorChoice::Never
        } else {
            termcolor::ColorChoice::Auto
        };
    let writer = termcolor::StandardStream::stderr(choice);
    write_human(root, diagnostics, &mut writer.lock())
}

/// Diagnostics as the terminal shows them, without colour (for a page that
/// shows a broken build's errors, as `renga serve` does).
pub fn human_text(root: &Path, diagnostics: &[Diagnostic]) -> String {
    let mut out = termcolor::NoColor::new(Vec::new());
    let _ = write_human(root, diagnostics, &mut out);
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

fn write_human<W: termcolor::WriteColor>(
    root: &Path,
    diagnostics: &[Diagnostic],
    writer: &mut W,
) -> io::Result<()> {
    let config = term::Config::default();
    let mut files = SimpleFiles::new();
    let mut ids: HashMap<String, Option<usize>> = HashMap::new();
    for d in diagnostics {
        let mut out = match d.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        }
        .with_code(d.code)
        .with_message(&d.message)
        .with_notes(d.hints.iter().map(|h| format!("hint: {h}")).collect());
        if let Some(loc) = &d.location {
            // The snippet comes from the project's own file, never from
            // where a link out of the project points.
            let id = *ids.entry(loc.file.clone()).or_insert_with(|| {
                crate::load::confine::Root::new(root)
                    .read_text(&loc.file)
                    .ok()
                    .map(|text| files.add(loc.file.clone(), text))
            });
            match (id, loc.line) {
                (Some(id), line) if line > 0 => {
                    let text = files
                        .get(id)
                        .map(|f| f.source().clone())
                        .unwrap_or_default();
                    let range = byte_range(&text, loc);
                    out = out.with_labels(vec![cs::Label::primary(id, range)]);
                }
                _ => {
                    let place = if loc.line > 0 {
                        format!("{}:{}:{}", loc.file, loc.line, loc.column)
                    } else {
                        loc.file.clone()
                    };
                    out.notes.insert(0, format!("in {place}"));
                }
            }
        }
        term::emit_to_write_style(writer, &config, &files, &out).map_err(io::Error::other)?;
    }
    Ok(())
}

/// The byte range of a location's text, clamped to the file.
fn byte_range(text: &str, loc: &Location) -> std::ops::Range<usize> {
    let mut start = 0;
    for _ in 1..loc.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[start..line_end];
    let col_byte = |col: usize| line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
    let begin = col_byte(loc.column.saturating_sub(1));
    let end = if loc.len == 0 {
        begin
    } else {
        col_byte(loc.column.saturating_sub(1) + loc.len)
    };
    start + begin..start + end.max(begin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_as_signs() {
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            visible("a\x1b[8mhidden\x1b]0;title\x07\r\x7f\u{9b}"),
            "a␛[8mhidden␛]0;title␇␍␡<U+009B>"
        );
    }

    #[test]
    fn location_from_offset_counts_lines_and_characters() {
        let text = "ab\nデジタル庁 x\n";
        let offset = text.find('x').unwrap();
        let loc = Location::from_offset("a.md", text, offset);
        assert_eq!((loc.line, loc.column), (2, 7));
    }

    #[test]
    fn byte_range_round_trips_a_location() {
        let text = "one\nデジタル two\n";
        let loc = Location::new("a.md", 2, 6).with_len(3);
        assert_eq!(&text[byte_range(text, &loc)], "two");
    }

    #[test]
    fn github_annotation_escapes_properties_and_newlines() {
        let d = Diagnostic::error("x", "bad\nthing")
            .at(Location::new("chapters/a,b/en.md", 3, 4))
            .hint("try 50%");
        assert_eq!(
            github_annotation(&d),
            "::error file=chapters/a%2Cb/en.md,line=3,col=4,title=x::bad%0Athing%0Ahint: try 50%25"
        );
    }

    #[test]
    fn a_panic_becomes_one_internal_error() {
        catch_panics();
        let caught = std::thread::spawn(|| panic!("boom in a thread")).join();
        assert!(caught.is_err());
        let d = internal_error();
        assert_eq!(d.code, "internal");
        assert!(d.message.contains("boom in a thread"), "{}", d.message);
        assert!(d.message.contains("diag.rs"), "{}", d.message);
    }

    #[test]
    fn repeats_from_several_editions_merge_into_one_naming_them() {
        let d = |edition: &str| {
            Diagnostic::error("template", "unknown filter")
                .at(Location::new("templates/main.typ", 3, 1))
                .hint(editions_hint(&[edition]))
        };
        let mut diags = Diagnostics::default();
        diags.extend([d("en"), d("ja"), d("en-ja"), d("ja")]);
        diags.push(Diagnostic::warning("x", "other"));
        diags.dedup();
        assert_eq!(diags.items.len(), 2);
        assert_eq!(diags.items[0].hints, ["in the en, ja and en-ja editions"]);
        assert!(diags.items[1].hints.is_empty());
    }

    #[test]
    fn json_has_file_line_column() {
        let d = Diagnostic::warning("w", "m").at(Location::new("f.md", 1, 2));
        let v: serde_json::Value = serde_json::to_value(&d).unwrap();
        assert_eq!(v["file"], "f.md");
        assert_eq!(v["line"], 1);
        assert_eq!(v["column"], 2);
        assert_eq!(v["severity"], "warning");
        assert_eq!(v["code"], "w");
    }
}
