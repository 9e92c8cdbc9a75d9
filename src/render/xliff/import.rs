//! `renga xliff import`: translations back into the chapters and their
//! records, all files or none.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::segment::{self, Inline, Segment};
use super::{NO_TARGET, load, parse_id, xml};
use crate::cli::args::XliffImportArgs;
use crate::diag::{self, Diagnostic, Location};
use crate::load::project::{Chapter, Project};
use crate::model::lang::Lang;
use crate::review::Block;
use crate::review::records::{self, Aligned, Carried, Record, RecordBlock, hash, language_name};

/// Inline content as read, or why it cannot be.
type Content = Result<Vec<Inline>, String>;

/// A unit read from the file, with where it is.
struct ReadUnit {
    id: String,
    offset: usize,
    source_language: String,
    target_language: String,
    source: Result<Vec<Inline>, String>,
    /// The target's content and its `state`.
    target: Option<(Content, Option<String>)>,
    /// The first character in the target that has no place in a chapter.
    forbidden: Option<char>,
    extradata: Option<String>,
}

fn read_units(root: &xml::Element) -> Result<Vec<ReadUnit>, (String, usize)> {
    if root.name != "xliff" || root.attr("version") != Some("1.2") {
        return Err((
            "not an XLIFF 1.2 document (<xliff version=\"1.2\">)".into(),
            root.offset,
        ));
    }
    let mut out = Vec::new();
    for file in root.elements("file") {
        let source_language = file.attr("source-language").unwrap_or_default().to_string();
        let target_language = file.attr("target-language").unwrap_or_default().to_string();
        let mut units = Vec::new();
        for body in file.elements("body") {
            collect_units(body, &mut units);
        }
        for unit in units {
            let source = unit
                .elements("source")
                .next()
                .map_or(Err("the unit has no <source>".to_string()), xml::inlines);
            let target_element = unit.elements("target").next();
            let forbidden = target_element.and_then(|t| t.text().chars().find(|&c| forbidden(c)));
            let target =
                target_element.map(|t| (xml::inlines(t), t.attr("state").map(str::to_string)));
            out.push(ReadUnit {
                id: unit.attr("id").unwrap_or_default().to_string(),
                offset: unit.offset,
                source_language: source_language.clone(),
                target_language: target_language.clone(),
                source,
                target,
                forbidden,
                extradata: unit.attr("extradata").map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// A character a translation must not bring into a chapter: one that XML
/// 1.0 does not allow at all (`NUL`, most C0 controls, `U+FFFE`, `U+FFFF`;
/// a parser may let it through, or a `&#x1b;` reference produce it), or
/// any other control character (`DEL`, C1), which is invisible on the page
/// and can drive a terminal. Tab and line ends are text.
fn forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// Units, also those a tool put into `<group>`s.
fn collect_units<'a>(el: &'a xml::Element, out: &mut Vec<&'a xml::Element>) {
    for c in &el.children {
        if let xml::Node::Element(e) = c {
            match e.name.as_str() {
                "trans-unit" => out.push(e),
                "group" => collect_units(e, out),
                _ => {}
            }
        }
    }
}

/// Target states that say the translator has not finished the unit.
const UNFINISHED: &[&str] = &[
    "new",
    "needs-translation",
    "needs-adaptation",
    "needs-l10n",
    "needs-review-translation",
    "needs-review-adaptation",
    "needs-review-l10n",
];

/// One translated block ready to go into its chapter.
#[derive(Debug, Clone)]
struct Accepted {
    unit: usize,
    slug: String,
    source: Lang,
    /// Where the source block starts in its file.
    source_start: usize,
    /// The slot of the chapter's alignment the pair fills.
    slot: usize,
    /// The target block it replaces, or the byte offset it goes in at.
    place: Place,
    markdown: String,
    /// The codes the restored block must have, in order.
    codes: Vec<(segment::Kind, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Replace(usize, usize),
    /// Before this byte offset, with a blank line after it (`true`) or
    /// before it.
    Insert(usize, bool),
}

pub fn import(args: &XliffImportArgs, quiet: bool) -> i32 {
    let file_name = args.file.display().to_string();
    let text = match std::fs::read(&args.file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                let d = Diagnostic::error("xliff-read", "the file is not UTF-8 text")
                    .at(Location::file(&file_name));
                let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
                return 1;
            }
        },
        Err(err) => {
            let d = Diagnostic::error("xliff-read", format!("cannot read {file_name}: {err}"));
            let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
            return 1;
        }
    };
    // One index of the file's lines: a unit's line is a binary search, not
    // a count from the start of the file (quadratic in the units).
    let lines = crate::markdown::LineIndex::new(&text);
    let at = |offset: usize| lines.at(&file_name, &text, offset);
    let units = xml::read(&text)
        .map_err(|e| (e.message, e.offset))
        .and_then(|root| read_units(&root));
    let units = match units {
        Ok(u) => u,
        Err((message, offset)) => {
            let d = Diagnostic::error("xliff-syntax", message).at(at(offset));
            let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
            return 1;
        }
    };
    // An import killed while writing is finished first (or undone), and its
    // staged files removed, before the chapters are read.
    match crate::publish::recover(&args.project) {
        Ok(r) if r.finished + r.undone > 0 => eprintln!(
            "note: an interrupted import was {} before this one",
            if r.undone > 0 { "undone" } else { "finished" }
        ),
        Ok(_) => {}
        Err(err) => {
            let d = Diagnostic::error("io", format!("cannot recover an interrupted import: {err}"));
            let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
            return 1;
        }
    }
    let Some(project) = load(&args.project, args.diagnostics.format) else {
        return 1;
    };
    let mut refused: Vec<Diagnostic> = Vec::new();
    let mut accepted: Vec<Accepted> = Vec::new();
    // The unit that fills each slot of a chapter, by (chapter, slot).
    let mut filled: HashMap<(String, usize), usize> = HashMap::new();
    // Each chapter the units name, as it is now, computed once.
    let mut records: HashMap<String, Result<Record, Refusal>> = HashMap::new();
    for unit in &units {
        if let Some(id) = parse_id(&unit.id) {
            records
                .entry(id.slug.clone())
                .or_insert_with(|| load_record(&project, &id.slug));
        }
    }
    let chapters: HashMap<&str, Result<Now, Refusal>> = records
        .iter()
        .map(|(slug, record)| (slug.as_str(), now(&project, slug, record)))
        .collect();
    for (k, unit) in units.iter().enumerate() {
        let refuse = |code: &'static str, message: String| {
            Diagnostic::error(code, format!("unit {}: {message}", unit.id)).at(at(unit.offset))
        };
        match accept(unit, k, &chapters) {
            Ok(a) => {
                if let Some(&prev) = filled.get(&(a.slug.clone(), a.slot)) {
                    refused.push(refuse(
                        "xliff-duplicate",
                        format!("translates the same block as unit {}", units[prev].id),
                    ));
                    continue;
                }
                filled.insert((a.slug.clone(), a.slot), a.unit);
                accepted.push(a);
            }
            Err((code, message, hint)) => {
                let mut d = refuse(code, message);
                if let Some(h) = hint {
                    d = d.hint(h);
                }
                refused.push(d);
            }
        }
    }
    if !refused.is_empty() && !args.partial {
        let _ = diag::emit(Path::new(""), &refused, args.diagnostics.format);
        eprintln!(
            "error: nothing was imported: {} of {} unit(s) refused (with --partial, the others are imported)",
            refused.len(),
            units.len()
        );
        return 1;
    }
    // Apply per chapter; a unit whose block comes out different from what
    // it says is refused, and the chapter is put together again without it.
    let mut writes: Vec<(String, String)> = Vec::new();
    let mut notes: Vec<Diagnostic> = Vec::new();
    let mut imported: BTreeMap<String, usize> = BTreeMap::new();
    let mut slugs: Vec<String> = accepted.iter().map(|a| a.slug.clone()).collect();
    slugs.dedup();
    slugs.sort();
    slugs.dedup();
    for slug in slugs {
        let Some(Ok(now)) = chapters.get(slug.as_str()) else {
            continue;
        };
        let mut mine: Vec<Accepted> = accepted
            .iter()
            .filter(|a| a.slug == slug)
            .cloned()
            .collect();
        loop {
            match apply(now, &mine) {
                Ok((files, held)) => {
                    for (unit, message) in held {
                        notes.push(
                            Diagnostic::warning(
                                "xliff-footnote",
                                format!("unit {}: {message}", units[unit].id),
                            )
                            .at(at(units[unit].offset))
                            .hint(format!(
                                "translate it in the markdown, then record the pair with `renga translated {slug}`"
                            )),
                        );
                    }
                    imported.insert(slug.clone(), mine.len());
                    for (rel, text) in files {
                        writes.push((rel, text));
                    }
                    break;
                }
                Err(bad) => {
                    for (unit, message) in &bad {
                        refused.push(
                            Diagnostic::error(
                                "xliff-markdown",
                                format!("unit {}: {message}", units[*unit].id),
                            )
                            .at(at(units[*unit].offset))
                            .hint("text is markdown as the author writes it: a `*`, `_`, `[` or `<` may need a backslash before it"),
                        );
                    }
                    if !args.partial {
                        let _ = diag::emit(Path::new(""), &refused, args.diagnostics.format);
                        eprintln!("error: nothing was imported");
                        return 1;
                    }
                    mine.retain(|a| !bad.iter().any(|(u, _)| *u == a.unit));
                    if mine.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    refused.extend(notes);
    let _ = diag::emit(Path::new(""), &refused, args.diagnostics.format);
    // All files or none: everything is staged beside its destination, then
    // renamed into place as one change (a failed rename puts back the files
    // already replaced).
    let cannot_write = |err: std::io::Error| {
        let d = Diagnostic::error("io", format!("cannot write {err}"))
            .hint("nothing was imported: every chapter file and record is as it was");
        let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
        1
    };
    // A chapter file that is a link to another file in the project is
    // written through the link, as the chapter was read through it; a link
    // that leads outside the project is never written through.
    let files = crate::load::confine::Root::new(&project.root);
    let mut staged = Vec::new();
    for (rel, text) in writes {
        let path = match files.write_target(&rel) {
            Ok(path) => path,
            Err(err) => {
                let d = err
                    .diagnostic(&rel)
                    .hint("nothing was imported: every chapter file and record is as it was");
                let _ = diag::emit(Path::new(""), &[d], args.diagnostics.format);
                return 1;
            }
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        match crate::publish::stage(dir, text.as_bytes()) {
            Ok(tmp) => staged.push((tmp, path)),
            Err(err) => {
                let err = std::io::Error::new(err.kind(), format!("{}: {err}", path.display()));
                return cannot_write(err);
            }
        }
    }
    if let Err(err) = crate::publish::publish(&project.root, staged) {
        return cannot_write(err);
    }
    if !quiet {
        let total: usize = imported.values().sum();
        let chapters: Vec<String> = imported.iter().map(|(s, n)| format!("{s} ({n})")).collect();
        eprintln!(
            "imported {total} of {} unit(s){}{}",
            units.len(),
            if chapters.is_empty() { "" } else { ": " },
            chapters.join(", ")
        );
    }
    if refused.iter().any(Diagnostic::is_error) {
        1
    } else {
        0
    }
}

type Refusal = (&'static str, String, Option<String>);

/// A chapter as it is now: its record, alignment and blocks cut into
/// segments.
struct Now<'a> {
    chapter: &'a Chapter,
    record: &'a Record,
    aligned: Aligned<'a>,
    cuts: HashMap<Lang, Vec<segment::Cut>>,
}

fn load_record(project: &Project, slug: &str) -> Result<Record, Refusal> {
    match Record::load(&project.root, slug) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err((
            "xliff-source-changed",
            format!("chapters/{slug} has no translation record now"),
            None,
        )),
        Err(d) => Err(("translation-record", d.message, d.hints.first().cloned())),
    }
}

fn now<'a>(
    project: &'a Project,
    slug: &str,
    record: &'a Result<Record, Refusal>,
) -> Result<Now<'a>, Refusal> {
    let record = record.as_ref().map_err(Clone::clone)?;
    let Some(chapter) = project.chapters.iter().find(|c| c.slug == slug) else {
        return Err((
            "xliff-source-changed",
            format!("the report has no chapter {slug} now"),
            None,
        ));
    };
    let aligned = Aligned::new(chapter, Some(record)).map_err(|missing| {
        let files: Vec<String> = missing.iter().map(|l| format!("{l}.md")).collect();
        (
            "xliff-source-changed",
            format!("chapters/{slug} has no {} now", files.join(" or ")),
            None,
        )
    })?;
    let cuts = Lang::ALL
        .into_iter()
        .map(|lang| {
            let text = chapter.text(lang).map_or("", |t| t.text.as_str());
            (lang, segment::blocks(text))
        })
        .collect();
    Ok(Now {
        chapter,
        record,
        aligned,
        cuts,
    })
}

/// Checks a unit against the project now and restores its markdown.
fn accept(
    unit: &ReadUnit,
    index: usize,
    chapters: &HashMap<&str, Result<Now, Refusal>>,
) -> Result<Accepted, Refusal> {
    let Some(id) = parse_id(&unit.id) else {
        return Err((
            "xliff-unit",
            "is not a unit renga exported (its id is not chapter/language/block/hash)".into(),
            None,
        ));
    };
    let (source, target) = (id.source, id.source.other());
    // CAT tools write tags with regions (`en-US`, `ja-JP`): the language is
    // what counts.
    if Lang::from_tag(&unit.source_language) != Some(source)
        || Lang::from_tag(&unit.target_language) != Some(target)
    {
        return Err((
            "xliff-unit",
            format!(
                "its file says {} to {}, its id {source} to {target}",
                unit.source_language, unit.target_language
            ),
            None,
        ));
    }
    let slug = &id.slug;
    let now = match chapters.get(slug.as_str()) {
        Some(Ok(now)) => now,
        Some(Err(refusal)) => return Err(refusal.clone()),
        None => return Err(("xliff-unit", format!("no chapter {slug}"), None)),
    };
    let aligned = &now.aligned;
    let changed = |what: String| {
        (
            "xliff-source-changed",
            what,
            Some("export the chapter again and translate the new text".to_string()),
        )
    };
    // The block with the unit's hash nearest to where it was.
    let blocks: &[Block] = aligned.blocks(source);
    let Some(s) = (0..blocks.len())
        .filter(|&i| hash(&blocks[i].text) == id.hash)
        .min_by_key(|&i| i.abs_diff(id.block))
    else {
        return Err(changed(format!(
            "its {} source no longer matches chapters/{slug}/{source}.md: the block was changed or removed after the export",
            language_name(source)
        )));
    };
    let Some((source_range, Some(source_segment))) = now.cuts[&source].get(s) else {
        return Err(changed(format!(
            "chapters/{slug}/{source}.md block {} cannot be cut into text and markdown",
            s + 1
        )));
    };
    match &unit.source {
        Ok(content) if *content == source_segment.content => {}
        Ok(_) => {
            return Err(changed(format!(
                "its source differs from chapters/{slug}/{source}.md block {} (its markdown changed after the export)",
                s + 1
            )));
        }
        Err(e) => return Err(("xliff-unit", format!("its <source>: {e}"), None)),
    }
    let Some(slot_index) = aligned
        .slots
        .iter()
        .position(|sl| sl.side(source).index() == Some(s))
    else {
        return Err(changed(format!(
            "chapters/{slug}/{source}.md block {} is not in the chapter's alignment",
            s + 1
        )));
    };
    let slot = aligned.slots[slot_index];
    let t = slot.side(target).index();
    let exported = unit
        .extradata
        .as_deref()
        .and_then(|e| e.strip_prefix("target="))
        .unwrap_or(NO_TARGET);
    let current = t.map_or(NO_TARGET.to_string(), |t| {
        hash(&aligned.blocks(target)[t].text)
    });
    if current != exported {
        return Err((
            "xliff-target-changed",
            format!(
                "the {} block it replaces changed after the export (chapters/{slug}/{target}.md)",
                language_name(target)
            ),
            Some("export the chapter again, so that no one's edit is overwritten".into()),
        ));
    }
    let Some((content, state)) = &unit.target else {
        return Err((
            "xliff-untranslated",
            "has no translation (<target>)".into(),
            None,
        ));
    };
    if let Some(c) = unit.forbidden {
        let what = if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' {
            "which XML 1.0 does not allow"
        } else {
            "a control character"
        };
        return Err((
            "xliff-character",
            format!(
                "its translation holds the character U+{:04X}, {what}",
                c as u32
            ),
            Some("remove it in the translation tool, then export the file again".into()),
        ));
    }
    let content = match content {
        Ok(c) => c,
        Err(e) => return Err(("xliff-unit", format!("its <target>: {e}"), None)),
    };
    if let Some(state) = state.as_deref().filter(|s| UNFINISHED.contains(s)) {
        return Err((
            "xliff-untranslated",
            format!("is not translated yet (state `{state}`)"),
            Some("mark it translated in the translation tool once it is done".into()),
        ));
    }
    if !has_text(content) && source_segment.has_text() {
        return Err((
            "xliff-untranslated",
            "its translation is empty".into(),
            None,
        ));
    }
    check_codes(source_segment, content)?;
    let mut markdown = String::new();
    let mut codes = Vec::new();
    restore(
        source_segment,
        content,
        source,
        target,
        &mut markdown,
        &mut codes,
    );
    let target_len = now.chapter.text(target).map_or(0, |t| t.text.len());
    let ranges: Vec<&std::ops::Range<usize>> = now.cuts[&target].iter().map(|b| &b.0).collect();
    let place = match t {
        Some(t) => Place::Replace(ranges[t].start, ranges[t].end),
        None => {
            // After the target block paired with the nearest source block
            // before this one, else before the first block.
            let before = aligned.slots[..slot_index]
                .iter()
                .rev()
                .find_map(|sl| sl.side(target).index());
            match before {
                Some(b) => Place::Insert(ranges[b].end, false),
                None => match ranges.first() {
                    Some(r) => Place::Insert(r.start, true),
                    None => Place::Insert(target_len, false),
                },
            }
        }
    };
    let source_start = source_range.start;
    Ok(Accepted {
        unit: index,
        slug: slug.clone(),
        source,
        source_start,
        slot: slot_index,
        place,
        markdown,
        codes,
    })
}

fn has_text(content: &[Inline]) -> bool {
    content.iter().any(|p| match p {
        Inline::Text(t) => !t.trim().is_empty(),
        Inline::Ph(_) => false,
        Inline::G(_, inner) => has_text(inner),
    })
}

/// Every code of the source exactly once, as the same kind of code.
fn check_codes(source: &Segment, content: &[Inline]) -> Result<(), Refusal> {
    fn count(content: &[Inline], seen: &mut BTreeMap<String, (usize, bool)>) {
        for p in content {
            match p {
                Inline::Text(_) => {}
                Inline::Ph(id) => seen.entry(id.clone()).or_insert((0, false)).0 += 1,
                Inline::G(id, inner) => {
                    let e = seen.entry(id.clone()).or_insert((0, true));
                    e.0 += 1;
                    e.1 = true;
                    count(inner, seen);
                }
            }
        }
    }
    let mut seen = BTreeMap::new();
    count(content, &mut seen);
    let describe = |id: &str| -> String {
        match source.codes.get(id) {
            Some(c) => format!("{id} ({})", c.open.trim()),
            None => id.to_string(),
        }
    };
    let unknown: Vec<String> = seen
        .keys()
        .filter(|id| !source.codes.contains_key(*id))
        .cloned()
        .collect();
    let lost: Vec<String> = source
        .codes
        .keys()
        .filter(|id| !seen.contains_key(*id))
        .map(|id| describe(id))
        .collect();
    let twice: Vec<String> = seen
        .iter()
        .filter(|(_, (n, _))| *n > 1)
        .map(|(id, _)| describe(id))
        .collect();
    let wrong: Vec<String> = seen
        .iter()
        .filter(|(id, (_, g))| source.codes.get(*id).is_some_and(|c| c.kind.paired() != *g))
        .map(|(id, _)| describe(id))
        .collect();
    let problems = [
        ("placeholder(s) lost", lost),
        ("placeholder(s) duplicated", twice),
        ("placeholder(s) not in the source", unknown),
        ("code(s) changed between placeholder and paired", wrong),
    ];
    if let Some((what, ids)) = problems.into_iter().find(|(_, ids)| !ids.is_empty()) {
        return Err((
            "xliff-placeholder",
            format!("{what}: {}", ids.join(", ")),
            Some(
                "each placeholder and paired code of the source must be in the translation exactly once"
                    .to_string(),
            ),
        ));
    }
    // A destination belongs right after its text: `[text](url)`, not
    // `[text] … (url)`.
    let pairs = destinations(source, content);
    let apart: Vec<String> = destinations(source, &source.content)
        .into_iter()
        .filter(|pair| !pairs.contains(pair))
        .map(|(_, dest)| describe(&dest))
        .collect();
    if !apart.is_empty() {
        return Err((
            "xliff-placeholder",
            format!(
                "link destination(s) moved away from their text: {}",
                apart.join(", ")
            ),
            Some(
                "a link's or image's destination placeholder must follow its text's paired code at once"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}

/// (paired code, destination placeholder) wherever the one directly
/// follows the other.
fn destinations(source: &Segment, content: &[Inline]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, piece) in content.iter().enumerate() {
        let Inline::G(g, inner) = piece else {
            continue;
        };
        if let Some(Inline::Ph(ph)) = content.get(k + 1)
            && source.codes.get(ph).is_some_and(|c| {
                matches!(
                    c.kind,
                    segment::Kind::LinkTarget | segment::Kind::ImageSource
                )
            })
        {
            out.push((g.clone(), ph.clone()));
        }
        out.extend(destinations(source, inner));
    }
    out
}

/// The translation as markdown: text as written, each code as the source's
/// markdown (link destinations pointed at the target language's chapters).
fn restore(
    source: &Segment,
    content: &[Inline],
    from: Lang,
    to: Lang,
    out: &mut String,
    codes: &mut Vec<(segment::Kind, String, String)>,
) {
    for p in content {
        match p {
            Inline::Text(t) => out.push_str(t),
            Inline::Ph(id) => {
                let c = source.codes[id].in_language(from, to);
                out.push_str(&c.open);
                codes.push((c.kind, c.open, String::new()));
            }
            Inline::G(id, inner) => {
                let c = source.codes[id].in_language(from, to);
                out.push_str(&c.open);
                codes.push((c.kind, c.open, c.close.clone()));
                restore(source, inner, from, to, out, codes);
                out.push_str(&c.close);
            }
        }
    }
}

/// Units refused by index in the file, with the reason.
type Refused = Vec<(usize, String)>;
/// Units whose translation is written but whose pair is not recorded.
type Held = Vec<(usize, String)>;

/// A chapter with its accepted units: the new target files and record, and
/// the units written but not recorded as in sync (with why); or the units
/// whose block does not come out as its codes say.
fn apply(now: &Now, accepted: &[Accepted]) -> Result<(Vec<(String, String)>, Held), Refused> {
    let (chapter, record) = (now.chapter, now.record);
    let mut files = Vec::new();
    let mut new_text: HashMap<Lang, String> = HashMap::new();
    // Where each unit's block starts in its new file, and each edit as
    // (old end, change in length), to find unedited blocks again.
    let mut starts: HashMap<usize, usize> = HashMap::new();
    let mut shifts: HashMap<Lang, Vec<(usize, isize)>> = HashMap::new();
    for lang in Lang::ALL {
        let target = lang;
        let mine: Vec<&Accepted> = accepted
            .iter()
            .filter(|a| a.source.other() == target)
            .collect();
        let old = chapter
            .text(target)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        if mine.is_empty() {
            new_text.insert(target, old);
            continue;
        }
        // Edits in file order; insertions at one place keep reading order.
        let mut edits: Vec<(usize, usize, usize, String, usize)> = mine
            .iter()
            .map(|a| match a.place {
                Place::Replace(s, e) => (s, e, a.slot, a.markdown.clone(), a.unit),
                Place::Insert(at, before) => {
                    let text = if before {
                        format!("{}\n\n", a.markdown)
                    } else {
                        format!("\n\n{}", a.markdown)
                    };
                    (at, at, a.slot, text, a.unit)
                }
            })
            .collect();
        edits.sort_by_key(|e| (e.0, e.2));
        let mut text = String::with_capacity(old.len() + 1024);
        let mut cursor = 0;
        for (s, e, _, replacement, unit) in edits {
            text.push_str(&old[cursor..s]);
            let lead = replacement.len() - replacement.trim_start_matches('\n').len();
            starts.insert(unit, text.len() + lead);
            text.push_str(&replacement);
            let delta = replacement.len() as isize - (e - s) as isize;
            shifts.entry(target).or_default().push((e, delta));
            cursor = e;
        }
        text.push_str(&old[cursor..]);
        new_text.insert(target, text);
    }
    // Each new block must come out as one block with the unit's codes.
    let mut bad = Vec::new();
    let mut new_blocks: HashMap<Lang, Vec<segment::Cut>> = HashMap::new();
    for lang in Lang::ALL {
        new_blocks.insert(lang, segment::blocks(&new_text[&lang]));
    }
    let moved = |lang: Lang, at: usize| -> usize {
        let shift: isize = shifts.get(&lang).map_or(0, |v| {
            v.iter().filter(|(end, _)| *end <= at).map(|(_, d)| d).sum()
        });
        at.saturating_add_signed(shift)
    };
    // The unit's (source block, target block) in the new files.
    let mut block_of: HashMap<usize, (usize, usize)> = HashMap::new();
    for a in accepted {
        let target = a.source.other();
        let start = starts[&a.unit];
        let found = new_blocks[&target]
            .iter()
            .position(|(r, _)| r.start == start);
        let expected_end = start + a.markdown.len();
        match found {
            Some(i) if new_blocks[&target][i].0.end == expected_end => {
                let seg = &new_blocks[&target][i].1;
                let codes: Vec<(segment::Kind, String, String)> = seg
                    .as_ref()
                    .map(|s| s.code_sequence())
                    .unwrap_or_default();
                let source_at = moved(a.source, a.source_start);
                let source_block = new_blocks[&a.source].iter().position(|(r, _)| r.start == source_at);
                match source_block {
                    Some(sb) if seg.is_some() && codes == a.codes => {
                        block_of.insert(a.unit, (sb, i));
                    }
                    Some(_) => bad.push((
                        a.unit,
                        "its text turns into markdown: the block would not keep exactly its codes"
                            .to_string(),
                    )),
                    None => bad.push((a.unit, "its source block cannot be found again".to_string())),
                }
            }
            _ => bad.push((
                a.unit,
                "its translation does not stay one block of the same kind (a blank line or a line starting with markdown?)"
                    .to_string(),
            )),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    // The record: every slot as it was, the imported pairs confirmed.
    let units = |lang: Lang| records::units_carrying(&new_text[&lang]);
    let (en, ja) = (units(Lang::En), units(Lang::Ja));
    let (aligned_record, held) = new_record(now, accepted, &block_of, &en, &ja);
    for lang in Lang::ALL {
        if accepted.iter().any(|a| a.source.other() == lang)
            && let Some(t) = chapter.text(lang)
        {
            files.push((t.path.clone(), new_text[&lang].clone()));
        }
    }
    // A record that says what it said is left as it is.
    if aligned_record != *record {
        files.push((
            records::record_path(&chapter.slug),
            aligned_record.to_toml(),
        ));
    }
    Ok((files, held))
}

/// The record after the import: every slot of the chapter's alignment as
/// it was, the imported pairs confirmed with their new text.
///
/// XLIFF carries a block, not the footnotes or the chapter title its unit
/// carries: a pair whose source's changed since the record, while its
/// translation's did not, is not recorded (its old entry stays, so
/// `status` still asks for it), and is returned as held.
fn new_record(
    now: &Now,
    accepted: &[Accepted],
    block_of: &HashMap<usize, (usize, usize)>,
    en: &[(Block, Carried)],
    ja: &[(Block, Carried)],
) -> (Record, Held) {
    let record = now.record;
    let mut out = Record::default();
    let mut held = Vec::new();
    for (k, slot) in now.aligned.slots.iter().enumerate() {
        if let Some(a) = accepted.iter().find(|a| a.slot == k) {
            let (s, t) = block_of[&a.unit];
            let (e, j) = match a.source {
                Lang::En => (s, t),
                Lang::Ja => (t, s),
            };
            let carried = |lang: Lang, block: usize| match lang {
                Lang::En => &en[block].1,
                Lang::Ja => &ja[block].1,
            };
            let recorded = |lang: Lang| slot.entry.map(|r| record.block[r].text(lang));
            let target = a.source.other();
            let (source, translation) = (carried(a.source, s), carried(target, t));
            // Recorded when what it carries did not change since the
            // record, or when its translation was changed by hand beside
            // the import.
            let settled = source.text.is_empty()
                || recorded(a.source).is_some_and(|r| r.ends_with(&source.text))
                || (!translation.text.is_empty()
                    && recorded(target).is_none_or(|r| !r.ends_with(&translation.text)));
            if settled {
                out.block.push(RecordBlock::new(&en[e].0, &ja[j].0));
                continue;
            }
            let mut what: Vec<String> = source
                .notes
                .iter()
                .map(|n| format!("the footnote [^{n}]"))
                .collect();
            if source.title {
                what.push("the chapter title".into());
            }
            held.push((
                a.unit,
                format!(
                    "its translation is written to {target}.md but not recorded as in sync: {} it carries changed, and XLIFF does not carry them",
                    what.join(" or ")
                ),
            ));
        }
        if let Some(r) = slot.entry {
            out.block.push(record.block[r].clone());
        }
    }
    (out, held)
}
