//! `renga xliff export`: a unit for each block that needs translation.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use super::segment::{self, Inline, Segment};
use super::{NO_TARGET, load, unit_id, xml};
use crate::cli::args::{Direction, XliffExportArgs};
use crate::diag::{self, Diagnostic, Location};
use crate::load::project::{Chapter, Project};
use crate::model::lang::Lang;
use crate::review::diff::elide;
use crate::review::records::{self, Aligned, Finding, Reason, Record, State, hash, language_name};
use crate::review::word_diff;

/// Why a block is offered: the finding `renga status` shows for it, or
/// none for a block in sync (exported with `--all`).
fn finding_for(findings: &[Finding], en: Option<usize>, ja: Option<usize>) -> Option<&Finding> {
    findings
        .iter()
        .find(|f| f.en_block == en && f.ja_block == ja)
}

pub fn export(args: &XliffExportArgs, quiet: bool) -> i32 {
    let Some(project) = load(&args.project, args.diagnostics.format) else {
        return 1;
    };
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut chosen: Vec<&str> = Vec::new();
    for name in &args.chapters {
        match crate::cli::status::find_chapter(&project, name) {
            Ok(chapter) => chosen.push(&chapter.slug),
            Err(d) => problems.push(d),
        }
    }
    if !problems.is_empty() {
        let _ = diag::emit(&project.root, &problems, args.diagnostics.format);
        return 1;
    }
    let mut files: Vec<xml::File> = Vec::new();
    for chapter in &project.chapters {
        if !chosen.is_empty() && !chosen.contains(&chapter.slug.as_str()) {
            continue;
        }
        match chapter_units(&project, chapter, args) {
            Ok((units, notes)) => {
                problems.extend(notes);
                for (source, units) in units {
                    if units.is_empty() {
                        continue;
                    }
                    let text = chapter
                        .text(source)
                        .map(|t| t.path.clone())
                        .unwrap_or_default();
                    files.push(xml::File {
                        original: text,
                        source_language: source.code().into(),
                        target_language: source.other().code().into(),
                        units,
                    });
                }
            }
            Err(d) => problems.push(d),
        }
    }
    let errors = problems.iter().any(Diagnostic::is_error);
    let _ = diag::emit(&project.root, &problems, args.diagnostics.format);
    if errors {
        return 1;
    }
    // XLIFF needs at least one <file>: with nothing to translate, there is
    // no document to hand over.
    if files.is_empty() {
        if !quiet {
            eprintln!("nothing needs translation: no document written");
        }
        return 0;
    }
    let bytes = match xml::write(&files, env!("CARGO_PKG_VERSION")) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("error: cannot write the XLIFF document: {err}");
            return 1;
        }
    };
    let written = match &args.out {
        Some(path) => crate::publish::write(path, &bytes),
        None => std::io::stdout().lock().write_all(&bytes),
    };
    if let Err(err) = written {
        eprintln!("error: cannot write the XLIFF document: {err}");
        return 1;
    }
    if !quiet {
        let count = |s: Lang| -> usize {
            files
                .iter()
                .filter(|f| f.source_language == s.code())
                .map(|f| f.units.len())
                .sum()
        };
        eprintln!(
            "{} unit(s) to translate: {} English to Japanese, {} Japanese to English",
            count(Lang::En) + count(Lang::Ja),
            count(Lang::En),
            count(Lang::Ja)
        );
    }
    0
}

type ChapterUnits = (BTreeMap<Lang, Vec<xml::Unit>>, Vec<Diagnostic>);

/// A chapter's units, by source language, and warnings for the blocks that
/// need a person rather than a translator.
fn chapter_units(
    project: &Project,
    chapter: &Chapter,
    args: &XliffExportArgs,
) -> Result<ChapterUnits, Diagnostic> {
    let slug = &chapter.slug;
    let mut notes = Vec::new();
    let mut units: BTreeMap<Lang, Vec<xml::Unit>> = BTreeMap::new();
    let record = Record::load(&project.root, slug)?;
    let Some(record) = record else {
        notes.push(
            Diagnostic::warning(
                "xliff-not-recorded",
                format!("chapters/{slug} has no translation record: nothing is known to need translation"),
            )
            .at(Location::file(records::record_path(slug)))
            .hint(format!("once its two languages agree, run `renga translated {slug}`")),
        );
        return Ok((units, notes));
    };
    let aligned = match Aligned::new(chapter, Some(&record)) {
        Ok(a) => a,
        Err(missing) => {
            let files: Vec<String> = missing.iter().map(|l| format!("{l}.md")).collect();
            notes.push(Diagnostic::warning(
                "xliff-missing",
                format!(
                    "chapters/{slug} has no {}: not exported",
                    files.join(" or ")
                ),
            ));
            return Ok((units, notes));
        }
    };
    let State::Recorded(findings) = aligned.state() else {
        return Ok((units, notes));
    };
    let wanted = args.direction.map(|d| match d {
        Direction::EnJa => Lang::En,
        Direction::JaEn => Lang::Ja,
    });
    let mut segments: HashMap<Lang, Vec<Option<Segment>>> = HashMap::new();
    for lang in Lang::ALL {
        let text = chapter.text(lang).map_or("", |t| t.text.as_str());
        segments.insert(
            lang,
            segment::blocks(text).into_iter().map(|b| b.1).collect(),
        );
    }
    for slot in &aligned.slots {
        let (en, ja) = (slot.en.index(), slot.ja.index());
        let finding = finding_for(&findings, en, ja);
        let source = match finding {
            Some(f) if f.reason == Reason::SourceRemoved => {
                let lang = f.lang.unwrap_or(Lang::En);
                let block = f.block.unwrap_or_default();
                notes.push(
                    Diagnostic::warning(
                        "xliff-removed",
                        format!(
                            "{lang}.md block {} is not exported: its {} counterpart was removed; remove it by hand",
                            block + 1,
                            language_name(lang.other())
                        ),
                    )
                    .at(block_location(&aligned, lang, block)),
                );
                continue;
            }
            Some(f) => match f.source {
                Some(s) => s,
                // Changed in both: the direction asked for, else English.
                None => wanted.unwrap_or(Lang::En),
            },
            None if args.all => wanted.unwrap_or(Lang::En),
            None => continue,
        };
        if wanted.is_some_and(|w| w != source) {
            continue;
        }
        let target = source.other();
        let Some(s) = slot.side(source).index() else {
            continue;
        };
        let source_block = &aligned.blocks(source)[s];
        let Some(Some(source_segment)) = segments[&source].get(s).cloned() else {
            notes.push(
                Diagnostic::warning(
                    "xliff-block",
                    format!(
                        "{source}.md block {} is not exported: renga cannot cut it into text and markdown without changing it",
                        s + 1
                    ),
                )
                .at(block_location(&aligned, source, s)),
            );
            continue;
        };
        let t = slot.side(target).index();
        let current = t.map(|t| &aligned.blocks(target)[t]);
        let state = match finding.map(|f| f.reason) {
            Some(Reason::BothChanged) => "needs-review-translation",
            Some(_) => "needs-translation",
            None => "translated",
        };
        let target_content = t
            .and_then(|t| segments[&target].get(t).cloned().flatten())
            .map(|seg| {
                let content = with_source_ids(&source_segment, &seg, source, target);
                (
                    content,
                    shown_codes(&source_segment, &seg, source, target),
                    state,
                )
            });
        let mut unit_notes = Vec::new();
        let previous = slot.entry.map(|r| {
            let entry = &record.block[r];
            let text = |l: Lang| match l {
                Lang::En => entry.en_text.clone(),
                Lang::Ja => entry.ja_text.clone(),
            };
            (text(source), text(target))
        });
        if let Some((old, _)) = &previous
            && finding.is_some()
            && *old != source_block.text
        {
            unit_notes.push(format!(
                "Changed since the last translation: {}",
                crate::review::diff::Paint(false)
                    .words(&elide(&word_diff(old, &source_block.text)))
            ));
        }
        if current.is_none() {
            unit_notes.push(format!(
                "New {} text: there is no {} translation yet.",
                language_name(source),
                language_name(target)
            ));
        }
        let line = aligned.blocks(source)[s].line;
        units.entry(source).or_default().push(xml::Unit {
            id: unit_id(slug, source, s, &hash(&source_block.text)),
            resname: format!("chapters/{slug}/{source}.md block {} (line {line})", s + 1),
            extradata: format!(
                "target={}",
                current.map_or(NO_TARGET.to_string(), |b| hash(&b.text))
            ),
            source: source_segment,
            target: target_content,
            notes: unit_notes,
            previous: previous.filter(|_| finding.is_some()),
        });
    }
    Ok((units, notes))
}

fn block_location(aligned: &Aligned, lang: Lang, block: usize) -> Location {
    let path = aligned
        .chapter
        .text(lang)
        .map_or_else(String::new, |t| t.path.clone());
    let line = aligned.blocks(lang).get(block).map_or(0, |b| b.line);
    Location::new(path, line, 1)
}

/// The key a code of one language is known by in the other: a link's
/// destination points at the same chapter in the other language.
fn code_key(code: &segment::Code, from: Lang, to: Lang) -> (segment::Kind, String, String) {
    let code = code.in_language(from, to);
    (code.kind, code.open, code.close)
}

/// A translation's codes renamed to the ids of the matching codes of its
/// source (the k-th occurrence of the same markdown), so that a CAT tool
/// shows them as the same tags; codes the source lacks get ids of their own
/// (`t1`, …), which an import refuses until they are resolved.
fn id_map(source: &Segment, target: &Segment, from: Lang, to: Lang) -> HashMap<String, String> {
    let mut free: HashMap<(segment::Kind, String, String), Vec<String>> = HashMap::new();
    for (id, code) in source.codes.iter().rev() {
        free.entry(code_key(code, from, to))
            .or_default()
            .push(id.clone());
    }
    // Source ids are numbers: in reading order when sorted as numbers.
    for ids in free.values_mut() {
        ids.sort_by_key(|id| std::cmp::Reverse(id.parse::<usize>().unwrap_or(0)));
    }
    let mut map = HashMap::new();
    let mut order: Vec<(&String, &segment::Code)> = target.codes.iter().collect();
    order.sort_by_key(|(id, _)| id.parse::<usize>().unwrap_or(0));
    for (k, (id, code)) in order.into_iter().enumerate() {
        let key = (code.kind, code.open.clone(), code.close.clone());
        let new = free
            .get_mut(&key)
            .and_then(Vec::pop)
            .unwrap_or_else(|| format!("t{}", k + 1));
        map.insert(id.clone(), new);
    }
    map
}

fn with_source_ids(source: &Segment, target: &Segment, from: Lang, to: Lang) -> Vec<Inline> {
    let map = id_map(source, target, from, to);
    fn rename(content: &[Inline], map: &HashMap<String, String>) -> Vec<Inline> {
        content
            .iter()
            .map(|p| match p {
                Inline::Text(t) => Inline::Text(t.clone()),
                Inline::Ph(id) => Inline::Ph(map.get(id).cloned().unwrap_or_else(|| id.clone())),
                Inline::G(id, inner) => Inline::G(
                    map.get(id).cloned().unwrap_or_else(|| id.clone()),
                    rename(inner, map),
                ),
            })
            .collect()
    }
    rename(&target.content, &map)
}

/// The codes of a translation under their new ids, for writing its `<ph>`.
fn shown_codes(source: &Segment, target: &Segment, from: Lang, to: Lang) -> Segment {
    let map = id_map(source, target, from, to);
    Segment {
        content: vec![],
        codes: target
            .codes
            .iter()
            .map(|(id, c)| {
                (
                    map.get(id).cloned().unwrap_or_else(|| id.clone()),
                    c.clone(),
                )
            })
            .collect(),
    }
}
