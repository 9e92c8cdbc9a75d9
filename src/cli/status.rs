//! `renga status`: every chapter's translation status (in sync, stale,
//! missing, not recorded); and `renga translated`: record that a chapter's
//! translation, or one block of it, is up to date. The records and how they
//! are compared are [`crate::review::records`]'s.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path};

use serde::Serialize;

use crate::cli::args::{StatusArgs, TranslatedArgs};
use crate::diag::{self, Diagnostic, Diagnostics, Format, Location, visible};
use crate::load::project::{self, Chapter, Project};
use crate::model::lang::Lang;
use crate::review::Change;
use crate::review::diff::{Paint, elide};
use crate::review::records::{self, Aligned, Finding, Reason, Record, State, language_name};

#[derive(Debug, Serialize)]
struct Report {
    chapters: Vec<ChapterReport>,
    /// How many chapters are in each state.
    summary: Summary,
    /// Problems found reading the project and the records: each chapter
    /// they concern is listed with the state `error`.
    diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    in_sync: usize,
    stale: usize,
    unconfirmed: usize,
    missing: usize,
    not_recorded: usize,
    error: usize,
}

#[derive(Debug, Serialize)]
struct ChapterReport {
    chapter: String,
    /// `in-sync`, `stale`, `unconfirmed` (changed in both languages since
    /// the record), `missing`, `not-recorded`, or `error` (a chapter file or
    /// the record cannot be read: see `diagnostics`).
    state: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<Lang>,
    /// Top-level blocks in each language (when both exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    en_blocks: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja_blocks: Option<usize>,
    /// The command that records the chapter's first translation, when it
    /// would succeed; otherwise why it would refuse.
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unrecordable: Option<String>,
    blocks: Vec<BlockReport>,
}

impl ChapterReport {
    fn new(slug: &str, state: &'static str) -> Self {
        Self {
            chapter: slug.to_string(),
            state,
            missing: vec![],
            en_blocks: None,
            ja_blocks: None,
            record: None,
            unrecordable: None,
            blocks: vec![],
        }
    }
}

/// A block that needs attention. Blocks are numbered from 1, in the order
/// of the chapter's top-level blocks, as `renga translated --block` takes them.
#[derive(Debug, Serialize)]
struct BlockReport {
    reason: Reason,
    /// The language to bring up to date (none when both changed).
    lang: Option<Lang>,
    /// The stale block in `lang`'s file (none when it does not exist yet).
    block: Option<usize>,
    line: Option<usize>,
    en_block: Option<usize>,
    ja_block: Option<usize>,
    /// The language whose change made the block stale and the source
    /// block's line.
    source: Option<Lang>,
    source_line: Option<usize>,
    /// How each language that changed the block changed it since the record.
    changes: BTreeMap<Lang, Vec<Change>>,
    /// The command that records this pair alone, when it would succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
}

/// The project, with the errors found loading it (warnings are for the
/// commands that build).
fn load(root: &Path) -> (Option<Project>, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let project = project::load(root, &mut diags);
    let errors = diags.items.into_iter().filter(|d| d.is_error()).collect();
    (project, errors)
}

fn chapter_report(aligned: &Aligned) -> ChapterReport {
    let slug = &aligned.chapter.slug;
    let line = |lang: Option<Lang>, i: Option<usize>| aligned.blocks(lang?).get(i?).map(|b| b.line);
    let mut report = ChapterReport::new(slug, "in-sync");
    match aligned.state() {
        State::Missing(langs) => {
            report.state = "missing";
            report.missing = langs;
        }
        State::NotRecorded { en, ja } => {
            report.state = "not-recorded";
            report.en_blocks = Some(en);
            report.ja_blocks = Some(ja);
            match aligned.plan(None) {
                Ok(_) => report.record = Some(format!("renga translated {slug}")),
                Err(refusal) => report.unrecordable = Some(refusal.message),
            }
        }
        State::Recorded(findings) => {
            report.en_blocks = Some(aligned.en.len());
            report.ja_blocks = Some(aligned.ja.len());
            if findings.iter().any(Finding::is_stale) {
                report.state = "stale";
            } else if !findings.is_empty() {
                report.state = "unconfirmed";
            }
            report.blocks = findings
                .into_iter()
                .map(|f| {
                    // Suggested only where that exact command succeeds.
                    let record = match (f.reason, f.en_block) {
                        (Reason::BothChanged, Some(n)) if f.ja_block == Some(n) => aligned
                            .check_block(n + 1)
                            .ok()
                            .map(|_| format!("renga translated {slug} --block {}", n + 1)),
                        _ => None,
                    };
                    BlockReport {
                        reason: f.reason,
                        lang: f.lang,
                        block: f.block.map(|b| b + 1),
                        line: line(f.lang, f.block),
                        en_block: f.en_block.map(|b| b + 1),
                        ja_block: f.ja_block.map(|b| b + 1),
                        source: f.source,
                        source_line: line(f.source, f.source.and_then(|s| f.index(s))),
                        changes: f.changes,
                        record,
                    }
                })
                .collect();
        }
    }
    report
}

pub fn run(args: &StatusArgs, _quiet: bool) -> i32 {
    let (project, mut errors) = load(&args.project);
    let Some(project) = project else {
        let _ = diag::emit(&args.project, &errors, args.format);
        return 1;
    };
    let mut chapters = Vec::new();
    let mut summary = Summary::default();
    for chapter in &project.chapters {
        // A chapter file that is there but cannot be read is an error, not
        // a missing translation.
        let unreadable = Lang::ALL.into_iter().any(|lang| {
            let path = format!("chapters/{}/{lang}.md", chapter.slug);
            chapter.text(lang).is_none()
                && errors
                    .iter()
                    .any(|d| d.location.as_ref().is_some_and(|l| l.file == path))
        });
        let report = match (Record::load(&project.root, &chapter.slug), unreadable) {
            (Err(d), _) => {
                errors.push(d);
                ChapterReport::new(&chapter.slug, "error")
            }
            (Ok(_), true) => ChapterReport::new(&chapter.slug, "error"),
            (Ok(record), false) => match Aligned::new(chapter, record.as_ref()) {
                Ok(aligned) => chapter_report(&aligned),
                Err(missing) => ChapterReport {
                    missing,
                    ..ChapterReport::new(&chapter.slug, "missing")
                },
            },
        };
        match report.state {
            "in-sync" => summary.in_sync += 1,
            "stale" => summary.stale += 1,
            "unconfirmed" => summary.unconfirmed += 1,
            "missing" => summary.missing += 1,
            "error" => summary.error += 1,
            _ => summary.not_recorded += 1,
        }
        chapters.push(report);
    }
    let report = Report {
        chapters,
        summary,
        diagnostics: errors,
    };
    let mut text = String::new();
    match args.format {
        // One line, diagnostics inside: valid JSON lines like every command's.
        Format::Json => {
            text = serde_json::to_string(&report).unwrap_or_default() + "\n";
        }
        Format::Human => {
            let _ = diag::emit(&project.root, &report.diagnostics, Format::Human);
            text = human(&report, use_colour());
        }
        Format::Github => {
            for d in &report.diagnostics {
                text.push_str(&diag::github_annotation(d));
                text.push('\n');
            }
            text.push_str(&human(&report, false));
        }
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    let s = &report.summary;
    let attention = s.stale + s.unconfirmed + s.missing > 0;
    if !report.diagnostics.is_empty() || (args.strict && attention) {
        1
    } else {
        0
    }
}

fn use_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout())
}

fn numbers(blocks: &[&BlockReport], f: impl Fn(&BlockReport) -> Option<usize>) -> String {
    let n: Vec<String> = blocks
        .iter()
        .filter_map(|b| f(b))
        .map(|n| n.to_string())
        .collect();
    let word = if n.len() == 1 { "block" } else { "blocks" };
    format!("{word} {}", n.join(", "))
}

fn human(report: &Report, colour: bool) -> String {
    let p = Paint(colour);
    let width = report
        .chapters
        .iter()
        .map(|c| c.chapter.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &report.chapters {
        let slug = &c.chapter;
        let line = match c.state {
            "in-sync" => "in sync".to_string(),
            "missing" => {
                let files: Vec<String> = c.missing.iter().map(|l| format!("{l}.md")).collect();
                format!("missing {}", files.join(" and "))
            }
            "not-recorded" => match (&c.record, &c.unrecordable) {
                (Some(command), _) => format!("not recorded (run `{command}`)"),
                (None, Some(why)) => format!("not recorded; {why}"),
                (None, None) => "not recorded".to_string(),
            },
            "error" => "cannot be compared: see the errors".to_string(),
            _ => {
                let mut parts = Vec::new();
                for lang in Lang::ALL {
                    let stale: Vec<&BlockReport> = c
                        .blocks
                        .iter()
                        .filter(|b| b.lang == Some(lang) && b.block.is_some())
                        .collect();
                    if !stale.is_empty() {
                        parts.push(format!("stale: {} ({lang})", numbers(&stale, |b| b.block)));
                    }
                    let new: Vec<&BlockReport> = c
                        .blocks
                        .iter()
                        .filter(|b| b.lang == Some(lang) && b.block.is_none())
                        .collect();
                    if !new.is_empty() {
                        let source = lang.other();
                        parts.push(format!(
                            "untranslated: {} of {source}.md ({lang})",
                            numbers(&new, |b| match source {
                                Lang::En => b.en_block,
                                Lang::Ja => b.ja_block,
                            })
                        ));
                    }
                }
                let both: Vec<&BlockReport> =
                    c.blocks.iter().filter(|b| b.lang.is_none()).collect();
                if !both.is_empty() {
                    parts.push(format!(
                        "changed in both languages, to confirm: en {}",
                        numbers(&both, |b| b.en_block.or(b.ja_block))
                    ));
                }
                parts.join("; ")
            }
        };
        // Names and words from the project are shown, never sent raw.
        let (slug, line) = (visible(slug), visible(&line));
        out.push_str(&format!("{slug:width$}  {line}\n"));
        for b in &c.blocks {
            out.push_str(&format!("  {}\n", visible(&explain(b))));
            let both = b.changes.len() > 1;
            for (lang, changes) in &b.changes {
                let tag = if both {
                    format!("{lang}: ")
                } else {
                    String::new()
                };
                out.push_str(&format!("    {tag}{}\n", p.words(&elide(changes))));
            }
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} in sync, {} stale, {} changed in both, {} missing, {} not recorded",
        s.in_sync, s.stale, s.unconfirmed, s.missing, s.not_recorded
    ));
    if s.error > 0 {
        out.push_str(&format!(", {} with errors", s.error));
    }
    out.push('\n');
    out
}

fn explain(b: &BlockReport) -> String {
    let at = |lang: Option<Lang>, block: Option<usize>, line: Option<usize>| -> String {
        match (lang, block, line) {
            (Some(l), Some(n), Some(line)) => format!("{l}.md block {n} (line {line})"),
            (Some(l), Some(n), None) => format!("{l}.md block {n}"),
            _ => String::new(),
        }
    };
    let source_block = |b: &BlockReport| match b.source? {
        Lang::En => b.en_block,
        Lang::Ja => b.ja_block,
    };
    let source_name = b.source.map_or("", language_name);
    match b.reason {
        Reason::SourceChanged => format!(
            "{}: its {source_name} source changed since it was translated:",
            at(b.lang, b.block, b.line)
        ),
        Reason::SourceRemoved => format!(
            "{}: its {source_name} counterpart was removed:",
            at(b.lang, b.block, b.line)
        ),
        Reason::SourceAdded => format!(
            "{} is new and has no {} translation:",
            at(b.source, source_block(b), b.source_line),
            b.lang.map_or("", language_name)
        ),
        Reason::BothChanged => {
            let mut s = format!(
                "en.md block {} and ja.md block {} both changed since the last record",
                b.en_block.map_or("–".into(), |n| n.to_string()),
                b.ja_block.map_or("–".into(), |n| n.to_string())
            );
            if let Some(command) = &b.record {
                s.push_str(&format!(" (if they agree: {command})"));
            }
            s.push(':');
            s
        }
    }
}

// ---- renga translated -----------------------------------------------------------

/// The chapter `name` names: its folder name, `chapters/NAME`, or its name
/// without the number when that names one chapter. A path that leaves
/// `chapters/` names no chapter.
pub fn find_chapter<'a>(project: &'a Project, name: &str) -> Result<&'a Chapter, Diagnostic> {
    let parts: Vec<Component> = Path::new(name)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let folder = match parts.as_slice() {
        [Component::Normal(n)] => n.to_str(),
        [Component::Normal(dir), Component::Normal(n)] if *dir == "chapters" => n.to_str(),
        _ => None,
    };
    let list = || {
        let list: Vec<&str> = project.chapters.iter().map(|c| c.slug.as_str()).collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    let Some(folder) = folder else {
        return Err(Diagnostic::error(
            "no-chapter",
            format!("`{name}` is not a chapter of the report: name a folder in chapters/"),
        )
        .at(Location::file("chapters"))
        .hint(format!("chapters: {}", list())));
    };
    if let Some(c) = project.chapters.iter().find(|c| c.slug == folder) {
        return Ok(c);
    }
    // Without its number, if that names one chapter.
    let mut found = project.chapters.iter().filter(|c| {
        c.slug
            .split_once('-')
            .is_some_and(|(_, rest)| rest == folder)
    });
    match (found.next(), found.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(
            Diagnostic::error("no-chapter", format!("the report has no chapter `{name}`"))
                .at(Location::file("chapters"))
                .hint(format!("chapters: {}", list())),
        ),
    }
}

pub fn record(args: &TranslatedArgs, quiet: bool) -> i32 {
    let (project, mut diags) = load(&args.project);
    let code = match &project {
        // Nothing is recorded from a project with errors.
        Some(project) if diags.is_empty() => match record_chapter(project, args, quiet) {
            Ok(mut found) => {
                diags.append(&mut found);
                0
            }
            Err(mut found) => {
                diags.append(&mut found);
                1
            }
        },
        _ => 1,
    };
    let root = project
        .as_ref()
        .map_or(args.project.as_path(), |p| p.root.as_path());
    let _ = diag::emit(root, &diags, args.diagnostics.format);
    code
}

/// Writes the chapter's record; the warnings found, or the errors that
/// stopped it.
fn record_chapter(
    project: &Project,
    args: &TranslatedArgs,
    quiet: bool,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let chapter = find_chapter(project, &args.chapter).map_err(|d| vec![d])?;
    let slug = &chapter.slug;
    let mut warnings = Vec::new();
    let existing = match Record::load(&project.root, slug) {
        Ok(record) => record,
        // A record that cannot be read is replaced by a whole new one.
        Err(mut d) if args.block.is_none() => {
            d.severity = diag::Severity::Warning;
            d.message = format!("{} (replaced by a new record)", d.message);
            warnings.push(d);
            None
        }
        Err(d) => return Err(vec![d]),
    };
    let aligned = Aligned::new(chapter, existing.as_ref()).map_err(|missing| {
        let files: Vec<String> = missing.iter().map(|l| format!("{l}.md")).collect();
        vec![
            Diagnostic::error(
                "translation-missing",
                format!(
                    "chapters/{slug} has no {}: there is no translation to record",
                    files.join(" and ")
                ),
            )
            .at(Location::file(chapter.dir())),
        ]
    })?;
    let plan = aligned.plan(args.block).map_err(|d| vec![d])?;
    let rel = records::record_path(slug);
    let written = crate::publish::write(&project.root.join(&rel), plan.record.to_toml().as_bytes());
    if let Err(err) = written {
        return Err(vec![
            Diagnostic::error("io", format!("cannot write {rel}: {err}")).at(Location::file(&rel)),
        ]);
    }
    if !quiet {
        let what = match args.block {
            Some(n) => format!("block {n} of {slug}"),
            None => format!("{} block pair(s) of {slug}", plan.recorded),
        };
        let left = match plan.left.len() {
            0 => String::new(),
            n => format!("; {n} block(s) without a counterpart left as they were"),
        };
        eprintln!("{what} recorded as in sync in {rel}{left}");
    }
    warnings.extend(plan.left);
    Ok(warnings)
}
