//! `renga status`: every chapter's translation status (in sync, stale,
//! missing, not recorded); and `renga translated`: record that a chapter's
//! translation, or one block of it, is up to date. The records and how they
//! are compared are [`crate::translation`]'s.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::args::{StatusArgs, StatusFormat, TranslatedArgs};
use crate::diag::{self, Diagnostic, Diagnostics};
use crate::diff::{Paint, elide};
use crate::lang::Lang;
use crate::project::{self, Chapter, Project};
use crate::review::{Block, Change};
use crate::translation::{self, Finding, Reason, Record, RecordBlock, State, language_name, units};

#[derive(Debug, Serialize)]
struct Report {
    chapters: Vec<ChapterReport>,
    /// How many chapters are in each state.
    summary: Summary,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    in_sync: usize,
    stale: usize,
    unconfirmed: usize,
    missing: usize,
    not_recorded: usize,
}

#[derive(Debug, Serialize)]
struct ChapterReport {
    chapter: String,
    /// `in-sync`, `stale`, `unconfirmed` (changed in both languages since
    /// the record), `missing` or `not-recorded`.
    state: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<Lang>,
    /// Top-level blocks in each language (when both exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    en_blocks: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja_blocks: Option<usize>,
    blocks: Vec<BlockReport>,
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
}

fn load(root: &Path) -> Option<Project> {
    let mut diags = Diagnostics::default();
    let project = project::load(root, &mut diags);
    let errors: Vec<_> = diags.items.into_iter().filter(|d| d.is_error()).collect();
    let _ = diag::emit(root, &errors, diag::Format::Human);
    project
}

fn chapter_report(chapter: &Chapter, state: State) -> ChapterReport {
    let lines =
        |lang: Lang| -> Vec<Block> { chapter.text(lang).map_or(vec![], |t| units(&t.text)) };
    let (en, ja) = (lines(Lang::En), lines(Lang::Ja));
    let line = |lang: Option<Lang>, i: Option<usize>| {
        let blocks = match lang? {
            Lang::En => &en,
            Lang::Ja => &ja,
        };
        blocks.get(i?).map(|b| b.line)
    };
    let mut report = ChapterReport {
        chapter: chapter.slug.clone(),
        state: "in-sync",
        missing: vec![],
        en_blocks: None,
        ja_blocks: None,
        blocks: vec![],
    };
    match state {
        State::Missing(langs) => {
            report.state = "missing";
            report.missing = langs;
        }
        State::NotRecorded { en, ja } => {
            report.state = "not-recorded";
            report.en_blocks = Some(en);
            report.ja_blocks = Some(ja);
        }
        State::Recorded(findings) => {
            report.en_blocks = Some(en.len());
            report.ja_blocks = Some(ja.len());
            if findings.iter().any(Finding::is_stale) {
                report.state = "stale";
            } else if !findings.is_empty() {
                report.state = "unconfirmed";
            }
            report.blocks = findings
                .into_iter()
                .map(|f| BlockReport {
                    reason: f.reason,
                    lang: f.lang,
                    block: f.block.map(|b| b + 1),
                    line: line(f.lang, f.block),
                    en_block: f.en_block.map(|b| b + 1),
                    ja_block: f.ja_block.map(|b| b + 1),
                    source: f.source,
                    source_line: line(f.source, f.source.and_then(|s| f.index(s))),
                    changes: f.changes,
                })
                .collect();
        }
    }
    report
}

pub fn run(args: &StatusArgs, _quiet: bool) -> i32 {
    let Some(project) = load(&args.project) else {
        return 1;
    };
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut chapters = Vec::new();
    let mut summary = Summary::default();
    for chapter in &project.chapters {
        let record = match Record::load(&project.root, &chapter.slug) {
            Ok(record) => record,
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        let report = chapter_report(
            chapter,
            translation::chapter_state(chapter, record.as_ref()),
        );
        match report.state {
            "in-sync" => summary.in_sync += 1,
            "stale" => summary.stale += 1,
            "unconfirmed" => summary.unconfirmed += 1,
            "missing" => summary.missing += 1,
            _ => summary.not_recorded += 1,
        }
        chapters.push(report);
    }
    let _ = diag::emit(&project.root, &errors, diag::Format::Human);
    let report = Report { chapters, summary };
    let text = match args.format {
        StatusFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        StatusFormat::Human => human(&report, use_colour()),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    let s = &report.summary;
    let attention = s.stale + s.unconfirmed + s.missing > 0;
    if !errors.is_empty() || (args.strict && attention) {
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
            "not-recorded" => {
                let mut s = format!("not recorded (run `renga translated {slug}`)");
                if c.en_blocks != c.ja_blocks {
                    s = format!(
                        "not recorded; en.md has {} blocks and ja.md {}: a record pairs them one for one",
                        c.en_blocks.unwrap_or(0),
                        c.ja_blocks.unwrap_or(0)
                    );
                }
                s
            }
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
        out.push_str(&format!("{slug:width$}  {line}\n"));
        for b in &c.blocks {
            out.push_str(&format!("  {}\n", explain(slug, b)));
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
        "\n{} in sync, {} stale, {} changed in both, {} missing, {} not recorded\n",
        s.in_sync, s.stale, s.unconfirmed, s.missing, s.not_recorded
    ));
    out
}

fn explain(slug: &str, b: &BlockReport) -> String {
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
            if let Some(n) = b.en_block.filter(|n| Some(*n) == b.ja_block) {
                s.push_str(&format!(
                    " (if they agree: renga translated {slug} --block {n})"
                ));
            }
            s.push(':');
            s
        }
    }
}

// ---- renga translated -----------------------------------------------------------

fn find_chapter<'a>(project: &'a Project, name: &str) -> Option<&'a Chapter> {
    let name = name.trim_end_matches('/');
    let name = name.rsplit('/').next().unwrap_or(name);
    if let Some(c) = project.chapters.iter().find(|c| c.slug == name) {
        return Some(c);
    }
    // Without its number, if that names one chapter.
    let mut found = project
        .chapters
        .iter()
        .filter(|c| c.slug.split_once('-').is_some_and(|(_, rest)| rest == name));
    match (found.next(), found.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

pub fn record(args: &TranslatedArgs, quiet: bool) -> i32 {
    let Some(project) = load(&args.project) else {
        return 1;
    };
    let Some(chapter) = find_chapter(&project, &args.chapter) else {
        let list: Vec<&str> = project.chapters.iter().map(|c| c.slug.as_str()).collect();
        eprintln!(
            "error: the report has no chapter `{}`\nhint: chapters: {}",
            args.chapter,
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        );
        return 1;
    };
    let slug = &chapter.slug;
    let (Some(en), Some(ja)) = (chapter.text(Lang::En), chapter.text(Lang::Ja)) else {
        let missing = if chapter.text(Lang::En).is_none() {
            "en"
        } else {
            "ja"
        };
        eprintln!("error: chapters/{slug} has no {missing}.md: there is no translation to record");
        return 1;
    };
    let (en, ja) = (units(&en.text), units(&ja.text));
    let existing = match Record::load(&project.root, slug) {
        Ok(r) => r,
        Err(d) if args.block.is_none() => {
            // A broken record is replaced by a whole new one.
            let _ = d;
            None
        }
        Err(d) => {
            let _ = diag::emit(&project.root, &[d], diag::Format::Human);
            return 1;
        }
    };
    let unpaired = || {
        format!(
            "error: chapters/{slug}/en.md has {} top-level blocks and ja.md has {}: a record pairs them one for one\n\
             hint: give both languages the same headings, paragraphs, lists and tables in the same order; `renga status` lists the blocks that differ",
            en.len(),
            ja.len()
        )
    };
    let (record, done) = match args.block {
        None => {
            if en.len() != ja.len() {
                eprintln!("{}", unpaired());
                return 1;
            }
            let record = Record {
                block: en
                    .iter()
                    .zip(&ja)
                    .map(|(e, j)| RecordBlock::new(e, j))
                    .collect(),
            };
            let n = record.block.len();
            (
                record,
                format!("{n} block(s) of {slug} recorded as in sync"),
            )
        }
        Some(n) => {
            if en.len() != ja.len() {
                eprintln!("{}", unpaired());
                return 1;
            }
            if n == 0 || n > en.len() {
                eprintln!(
                    "error: chapters/{slug} has no block {n}: its blocks are numbered 1 to {}",
                    en.len()
                );
                return 1;
            }
            let Some(mut record) = existing else {
                eprintln!(
                    "error: chapters/{slug} has no translation record yet\nhint: record the whole chapter first: renga translated {slug}"
                );
                return 1;
            };
            if record.block.len() != en.len() {
                eprintln!(
                    "error: blocks were added to or removed from chapters/{slug} since its last record, so block {n} cannot be recorded alone\nhint: once the two languages agree, record the whole chapter: renga translated {slug}"
                );
                return 1;
            }
            record.block[n - 1] = RecordBlock::new(&en[n - 1], &ja[n - 1]);
            (record, format!("block {n} of {slug} recorded as in sync"))
        }
    };
    let rel = translation::record_path(slug);
    let path = project.root.join(&rel);
    let written = crate::atomic::write(&path, record.to_toml().as_bytes());
    if let Err(err) = written {
        eprintln!("error: cannot write {rel}: {err}");
        return 1;
    }
    if !quiet {
        eprintln!("{done} in {rel}");
    }
    0
}
