//! The stages wired together: load → convert → template → typeset → export.
//! `compile`, `check` and `watch` are drivers over this one pipeline.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use typst::WorldExt;
use typst::diag::{Severity as TypstSeverity, SourceDiagnostic};
use typst::foundations::{Datetime, Smart};
use typst::syntax::{FileId, Span};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::diag::{self, Diagnostic, Diagnostics, Location};
use crate::load::project::{self, Date, Metric, Project};
use crate::markdown::pairing::{self, Pairing};
use crate::markdown::{self, Converted};
use crate::model::format;
use crate::model::lang::{Lang, Localized};
use crate::render::template::{Rendered, Templates};
use crate::review::records;
use crate::typeset::iterate;
use crate::typeset::world::{EditionWorld, Sources, file_id};

mod context;

pub(crate) use context::*;

/// One of the PDFs a report is published as.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    Deserialize,
)]
pub enum Edition {
    /// English.
    #[value(name = "en")]
    #[serde(rename = "en")]
    En,
    /// Japanese.
    #[value(name = "ja")]
    #[serde(rename = "ja")]
    Ja,
    /// English and Japanese side by side.
    #[value(name = "en-ja")]
    #[serde(rename = "en-ja")]
    Bilingual,
}

impl Edition {
    pub const ALL: [Edition; 3] = [Edition::En, Edition::Ja, Edition::Bilingual];

    pub fn code(self) -> &'static str {
        match self {
            Edition::En => "en",
            Edition::Ja => "ja",
            Edition::Bilingual => "en-ja",
        }
    }

    pub fn langs(self) -> &'static [Lang] {
        match self {
            Edition::En => &[Lang::En],
            Edition::Ja => &[Lang::Ja],
            Edition::Bilingual => &[Lang::En, Lang::Ja],
        }
    }

    pub(crate) fn main_path(self) -> String {
        format!("/.renga/main-{}.typ", self.code())
    }
}

#[derive(Debug, Default)]
pub struct Timings {
    pub stages: Vec<(String, Duration)>,
}

impl Timings {
    fn record<T>(&mut self, name: impl Into<String>, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.stages.push((name.into(), start.elapsed()));
        out
    }
}

pub struct EditionOutput {
    pub edition: Edition,
    pub pages: usize,
    pub pdf: Option<Vec<u8>>,
}

/// The document date: `SOURCE_DATE_EPOCH` when set (reproducible-builds
/// convention), otherwise the publication date in report.toml.
pub fn document_date(project_date: Date) -> Date {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(date_from_epoch)
        .unwrap_or(project_date)
}

/// Civil date of a Unix timestamp (UTC), after Howard Hinnant's algorithm.
fn date_from_epoch(secs: i64) -> Date {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

/// A project taken through conversion and templating, ready to typeset.
pub struct Prepared {
    pub project: Project,
    pub converted: Vec<Converted>,
    pub templates: Templates,
    pub rendered: HashMap<FileId, Rendered>,
    pub sources: Sources,
    pub editions: Vec<Edition>,
    pub date: Date,
    /// Each generated chapter module: its index in `converted` and the
    /// chapter's in `project.chapters` (placing typst's diagnostics).
    modules: HashMap<FileId, (usize, usize)>,
    /// Top-level blocks whose translation is pending, marked in draft builds.
    pub pending: HashMap<(String, Lang), HashSet<usize>>,
    /// Each chapter's sections paired for the bilingual edition, by slug:
    /// the one pairing both the PDF and the web edition lay out.
    pub pairings: HashMap<String, Pairing>,
}

/// Loads, converts and templates the project for `editions`. Returns `None`
/// if the project cannot be loaded or its templates cannot be rendered.
pub fn prepare(
    root: &Path,
    editions: &[Edition],
    diags: &mut Diagnostics,
    timings: &mut Timings,
) -> Option<Prepared> {
    prepare_redline(root, editions, &RedlineInput::default(), diags, timings)
}

/// A redline edition's changes: per chapter text, and the summary listed
/// at the front of the edition.
#[derive(Debug, Default, Clone)]
pub struct RedlineInput {
    pub chapters: HashMap<(String, Lang), markdown::Redline>,
    pub summary: Vec<RedlineEntry>,
}

/// One line of a redline edition's summary of changes.
#[derive(Debug, Clone, Serialize)]
pub struct RedlineEntry {
    /// What changed, in words, e.g. "02-digital-identity (en): paragraph changed".
    pub text: String,
    /// The label to link to (see [`markdown::redline_label`]); empty for none.
    pub label: String,
}

/// [`prepare`] for a redline edition that marks `redline`'s changes.
pub fn prepare_redline(
    root: &Path,
    editions: &[Edition],
    redline: &RedlineInput,
    diags: &mut Diagnostics,
    timings: &mut Timings,
) -> Option<Prepared> {
    prepare_impl(root, editions, redline, &mut None, diags, timings)
}

/// [`prepare`] that edits the sources of an earlier build in place, so that
/// typst's caches see what did not change as unchanged (`renga watch`).
/// `sources` is taken, and given back when preparing fails.
pub fn prepare_reusing(
    root: &Path,
    editions: &[Edition],
    sources: &mut Option<Sources>,
    diags: &mut Diagnostics,
    timings: &mut Timings,
) -> Option<Prepared> {
    prepare_impl(
        root,
        editions,
        &RedlineInput::default(),
        sources,
        diags,
        timings,
    )
}

fn prepare_impl(
    root: &Path,
    editions: &[Edition],
    redline: &RedlineInput,
    reuse: &mut Option<Sources>,
    diags: &mut Diagnostics,
    timings: &mut Timings,
) -> Option<Prepared> {
    let mut project = timings.record("load", || project::load(root, diags))?;
    let langs: Vec<Lang> = Lang::ALL
        .into_iter()
        .filter(|l| editions.iter().any(|e| e.langs().contains(l)))
        .collect();
    if !fill_missing_translations(&mut project, &langs, diags) {
        return None;
    }
    // Stale translations warn (so `--strict` refuses them) and, in draft
    // builds, are marked "translation pending" beside the block.
    let mut pending: HashMap<(String, Lang), HashSet<usize>> = HashMap::new();
    let (stale, problems) = records::stale_blocks(&project);
    diags.extend(problems);
    for s in stale.into_iter().filter(|s| langs.contains(&s.lang)) {
        if project.manifest.layout.draft {
            pending.entry((s.slug, s.lang)).or_default().insert(s.block);
        }
        diags.push(s.diagnostic);
    }
    let converted = timings.record("convert", || {
        let anchors = markdown::collect_anchors(&project);
        let texts: Vec<_> = project
            .chapters
            .iter()
            .flat_map(|chapter| {
                langs
                    .iter()
                    .filter_map(move |&lang| Some((chapter, chapter.text(lang)?)))
            })
            .collect();
        // Chapters convert independently: one per core at a time.
        crate::typeset::parallel::map(&texts, |&(chapter, text)| {
            let key = (chapter.slug.clone(), text.lang);
            markdown::convert_redline(
                &project,
                &anchors,
                chapter,
                text,
                redline.chapters.get(&key),
                pending.get(&key),
            )
        })
    });
    for c in &converted {
        diags.extend(c.diagnostics.iter().cloned());
    }
    let pairings = if editions.contains(&Edition::Bilingual) {
        pair_sections(&project, &converted, diags)
    } else {
        HashMap::new()
    };
    // Terms the glossary agrees on: a broken glossary is an error, each
    // inconsistent or forbidden rendering a warning.
    if let Some(glossary) = crate::load::glossary::load(&project.root, diags) {
        let terms = timings.record("terms", || {
            crate::review::terms::check(&project, &glossary, &pairings, &converted, &langs)
        });
        diags.extend(terms);
    }

    let templates = match timings.record("templates", || Templates::load(&project.root)) {
        Ok(t) => t,
        Err(errors) => {
            diags.extend(errors);
            return None;
        }
    };
    let date = document_date(project.manifest.date);
    let mut sources = match reuse.take() {
        Some(mut sources) => {
            sources.reset_files();
            sources.set_today(date);
            sources.set_fonts(project.fonts.clone());
            sources
        }
        None => Sources::new(&project.root, date, project.fonts.clone()),
    };
    let mut rendered = HashMap::new();
    let ok = timings.record("render", || {
        let mut ok = true;
        let prelude_ctx = minijinja::Value::from(minijinja::value::Serde(context(
            &project,
            &converted,
            &pairings,
            Edition::En,
            date,
            &redline.summary,
        )));
        match templates.render("prelude.typ", prelude_ctx) {
            Ok(r) => {
                let id = sources.set_source(markdown::PRELUDE, &r.text);
                rendered.insert(id, r);
            }
            Err(d) => {
                diags.push(d);
                ok = false;
            }
        }
        for &edition in editions {
            let ctx = minijinja::Value::from(minijinja::value::Serde(context(
                &project,
                &converted,
                &pairings,
                edition,
                date,
                &redline.summary,
            )));
            match templates.render("main.typ", ctx) {
                Ok(r) => {
                    let id = sources.set_source(&edition.main_path(), &r.text);
                    rendered.insert(id, r);
                }
                Err(d) => {
                    diags.push(d.hint(diag::editions_hint(&[edition.code()])));
                    ok = false;
                }
            }
        }
        ok
    });
    // One template error, however many editions met it.
    diags.dedup();
    timings.record("parse", || {
        let modules: Vec<(&str, &str)> = converted
            .iter()
            .map(|c| (c.module.as_str(), c.source.as_str()))
            .collect();
        sources.set_sources(&modules);
    });
    sources.set_data("/.renga/metrics.json", metrics_json(&project.metrics.list));
    // Errors in chapter text (an unknown metric, a missing image) leave
    // valid Typst behind, so typesetting goes on to find every other problem;
    // the drivers write nothing when any error was found.
    if !ok {
        *reuse = Some(sources);
        return None;
    }
    let chapter_index: HashMap<&str, usize> = project
        .chapters
        .iter()
        .enumerate()
        .map(|(i, ch)| (ch.slug.as_str(), i))
        .collect();
    let modules = converted
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            Some((
                file_id(&c.module),
                (i, chapter_index.get(c.slug.as_str()).copied()?),
            ))
        })
        .collect();
    Some(Prepared {
        modules,
        project,
        converted,
        templates,
        rendered,
        sources,
        editions: editions.to_vec(),
        date,
        pending,
        pairings,
    })
}

/// Pairs each chapter's sections for the bilingual edition, warning where
/// a section stands alone or a pairing rests on structure only.
/// Chapters that exist in one language only. A final build refuses them,
/// at the file that exists; a draft builds them, the missing language's
/// text a "translation pending" page under the chapter's title, with a
/// warning. `false` when the build cannot go on.
fn fill_missing_translations(
    project: &mut Project,
    langs: &[Lang],
    diags: &mut Diagnostics,
) -> bool {
    let files = crate::load::confine::Root::new(&project.root);
    let draft = project.manifest.layout.draft;
    let mut missing = false;
    for chapter in &mut project.chapters {
        for &lang in langs {
            if chapter.text(lang).is_some() {
                continue;
            }
            let rel = format!("chapters/{}/{lang}.md", chapter.slug);
            // There but unreadable or broken: loading reported it.
            if files.has_entry(&rel) {
                missing = true;
                continue;
            }
            let Some(have) = chapter.texts.values().next().cloned() else {
                continue;
            };
            let hint = format!("add {rel}, or build only the editions that exist with --lang");
            if !draft {
                missing = true;
                diags.push(
                    Diagnostic::error(
                        "translation-missing",
                        format!("chapter {} has no {lang}.md", chapter.slug),
                    )
                    .at(Location::file(&have.path))
                    .hint(hint),
                );
                continue;
            }
            diags.push(
                Diagnostic::warning(
                    "translation-missing",
                    format!(
                        "chapter {} has no {lang}.md; this draft shows a translation-pending page (a final build refuses it)",
                        chapter.slug
                    ),
                )
                .at(Location::file(&have.path))
                .hint(hint),
            );
            let text = match lang {
                Lang::En => format!(
                    "**Translation pending.** This chapter has no English text yet (`{rel}`).\n"
                ),
                Lang::Ja => {
                    format!("**翻訳待ち。**この章の日本語版（`{rel}`）はまだありません。\n")
                }
            };
            let mut front = have.front.clone();
            front.title = Some(markdown::chapter_title(&have, &chapter.slug));
            chapter.texts.insert(
                lang,
                project::ChapterText {
                    lang,
                    path: rel,
                    text,
                    front,
                },
            );
        }
    }
    !missing
}

fn pair_sections(
    project: &Project,
    converted: &[Converted],
    diags: &mut Diagnostics,
) -> HashMap<String, Pairing> {
    let mut out = HashMap::new();
    let by_text: HashMap<(&str, Lang), &Converted> = converted
        .iter()
        .map(|c| ((c.slug.as_str(), c.lang), c))
        .collect();
    for chapter in &project.chapters {
        let find = |lang| by_text.get(&(chapter.slug.as_str(), lang)).copied();
        let (Some(en), Some(ja)) = (find(Lang::En), find(Lang::Ja)) else {
            continue;
        };
        let (pairing, d) = pairing::pair(
            pairing::Side {
                path: &en.path,
                sections: &en.sections,
            },
            pairing::Side {
                path: &ja.path,
                sections: &ja.sections,
            },
        );
        diags.extend(d);
        out.insert(chapter.slug.clone(), pairing);
    }
    out
}

fn metrics_json(metrics: &[Metric]) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({ "metrics": metrics })).unwrap_or_default()
}

/// What typesetting reports while it runs, edition by edition (for
/// progress lines; called from the typesetting threads).
#[derive(Debug, Clone, Copy)]
pub enum TypesetEvent {
    Started(Edition),
    LaidOut {
        edition: Edition,
        pages: usize,
        failed: bool,
        elapsed: Duration,
    },
}

/// Memory an edition takes beyond its source, and per byte of its Typst
/// source: single-language editions, and the bilingual one, whose two
/// narrow columns typst lays out as grid cells (measured on the generated
/// book of `benches/book.rs`, each edition alone: 530 MiB for the English
/// edition's 423 pages, 2.0 GiB for the bilingual edition's 761, peak
/// resident memory of the whole build).
const MEMORY_BASE: u64 = 64 << 20;
const MEMORY_PER_SOURCE_BYTE: u64 = 330;
const MEMORY_PER_BILINGUAL_SOURCE_BYTE: u64 = 660;

/// Whether typesetting keeps typst's caches for the next compile (a watch
/// session, which re-lays out only what an edit changed) or frees them as
/// soon as no edition needs them (one compile, where they are most of the
/// memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caches {
    /// Every layout stays for the next compile.
    Keep,
    /// Between layout iterations, what no edition used for a whole
    /// iteration goes; the rest is reused by the next iteration.
    Free,
    /// Every cached layout goes between iterations, so each iteration lays
    /// the edition out afresh: the least memory, for a machine without the
    /// memory to keep them (the three editions of the generated book: 1.4
    /// GB instead of 2.0 GB, in 1.4 to 1.7 times the time).
    Lean,
}

impl Caches {
    /// Whether the caches are emptied once a compile no longer needs them.
    fn freed(self) -> bool {
        self != Caches::Keep
    }
}

/// How a compile lays its editions out: how many at once, and what it keeps
/// of typst's caches between iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub jobs: usize,
    pub caches: Caches,
    /// Set when renga chose [`Caches::Lean`] itself: the memory available,
    /// and the estimate for the largest edition, in bytes.
    pub short_of_memory: Option<(u64, u64)>,
}

/// The plan for a compile of `editions`: one at a time with the least
/// memory when asked (`--low-memory`); `requested` editions at once
/// (`--jobs`); or else as many at once as the machine has cores and memory
/// for, and the least memory when even one at a time does not fit in what is
/// available.
pub fn plan(
    requested: Option<usize>,
    low_memory: bool,
    prepared: &Prepared,
    editions: &[Edition],
) -> Plan {
    plan_for(
        requested,
        low_memory,
        cores(),
        &needs(prepared, editions),
        available_memory(),
    )
}

fn plan_for(
    requested: Option<usize>,
    low_memory: bool,
    cores: usize,
    need: &[u64],
    available: Option<u64>,
) -> Plan {
    let plan = |jobs, caches| Plan {
        jobs,
        caches,
        short_of_memory: None,
    };
    if low_memory {
        return plan(1, Caches::Lean);
    }
    if let Some(n) = requested {
        return plan(n.max(1), Caches::Free);
    }
    let largest = need.iter().copied().max().unwrap_or(0);
    match available {
        Some(available) if largest > available => Plan {
            short_of_memory: Some((available, largest)),
            ..plan(1, Caches::Lean)
        },
        _ => plan(fit_jobs(cores, need, available), Caches::Free),
    }
}

/// Drops from typst's caches every entry no layout used in the last
/// `max_age` evictions (0: all of them), and hands the memory back to the
/// system. glibc keeps what is freed in its arenas, so without that the
/// resident size only ever grew: a watch session crept up rebuild after
/// rebuild with caches of the same size, and a compile's peak held the
/// freed layouts of the iteration before (the figures are in the README).
pub fn evict(max_age: usize) {
    typst::comemo::evict(max_age);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only returns free pages of
    // glibc's heaps to the system, under glibc's own locks, from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One edition's output, diagnostics and stage times.
type Typeset = (EditionOutput, Vec<Diagnostic>, Vec<(String, Duration)>);

/// How many editions a watch session, which keeps its caches, lays out at
/// once: `requested` (`--jobs`), or else as many as the machine has cores
/// for and, by an estimate of each edition's memory, memory for.
pub fn jobs(requested: Option<usize>, prepared: &Prepared, editions: &[Edition]) -> usize {
    match requested {
        Some(n) => n.max(1),
        None => fit_jobs(cores(), &needs(prepared, editions), available_memory()),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The memory estimate of each of `editions`, in bytes.
fn needs(prepared: &Prepared, editions: &[Edition]) -> Vec<u64> {
    editions
        .iter()
        .map(|&e| prepared.memory_estimate(e))
        .collect()
}

/// The most editions at once, up to `cores`, whose rounds (see
/// [`Prepared::typeset_editions`]: `jobs` editions at a time, in order, the
/// caches freed between rounds) each fit in `available` bytes, by the
/// editions' estimates `need`. One when even one at a time does not fit.
fn fit_jobs(cores: usize, need: &[u64], available: Option<u64>) -> usize {
    let mut jobs = cores.min(need.len()).max(1);
    if let Some(available) = available {
        let peak = |jobs: usize| {
            need.chunks(jobs)
                .map(|round| round.iter().sum::<u64>())
                .max()
                .unwrap_or(0)
        };
        while jobs > 1 && peak(jobs) > available {
            jobs -= 1;
        }
    }
    jobs
}

/// Memory this process may still use, in bytes: the system's available
/// memory, or less under a cgroup (a container's, a CI job's) limit. `None`
/// where unknown.
pub(crate) fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?
        * 1024;
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    Some(match cgroup_room(Path::new("/sys/fs/cgroup"), &own) {
        Some(room) => available.min(room),
        None => available,
    })
}

/// What the memory cgroups of this process still allow, in bytes: the least
/// limit-minus-usage over its own cgroup and every cgroup above it, in
/// cgroup v2 (`memory.max`) and v1 (`memory/…/memory.limit_in_bytes`);
/// `None` without a limit. `own` is `/proc/self/cgroup`, `sys` where the
/// hierarchies are mounted.
fn cgroup_room(sys: &Path, own: &str) -> Option<u64> {
    let mut room: Option<u64> = None;
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (root, limit, usage) = if controllers.is_empty() {
            (sys.to_path_buf(), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                sys.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        let mut dir = root.join(path.trim_start_matches('/'));
        loop {
            let read = |name: &str| {
                std::fs::read_to_string(dir.join(name))
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            // No limit reads `max` in v2 (not a number) and a number near
            // 2^63 in v1.
            if let (Some(max), Some(used)) = (read(limit), read(usage))
                && max < 1 << 60
            {
                let left = max.saturating_sub(used);
                room = Some(room.map_or(left, |r| r.min(left)));
            }
            if dir == root || !dir.pop() {
                break;
            }
        }
    }
    room
}

/// Runs one edition's layout or export, turning a panic inside typst into
/// an error for that edition instead of ending renga (exit 101).
fn guarded<T>(edition: Edition, what: &str, f: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Diagnostic::error(
            "internal",
            format!(
                "typst failed while {what} the {} edition: {message}",
                edition.code()
            ),
        )
        .hint(
            "this is a bug in renga or typst, not in the report; please report it with the project",
        )
    })
}

impl Prepared {
    /// Lays out and exports every edition, as many at once as the machine
    /// has cores and memory for (see [`plan`]).
    pub fn typeset(&self, diags: &mut Diagnostics, timings: &mut Timings) -> Vec<EditionOutput> {
        let plan = plan(None, false, self, &self.editions);
        self.typeset_editions(
            &self.editions,
            plan.jobs,
            plan.caches,
            &|_| {},
            diags,
            timings,
        )
    }

    /// Lays out `editions`, up to `jobs` at a time, and exports each to PDF
    /// as soon as it is laid out, while the next ones are laid out.
    ///
    /// typst lays out the runs of pages between page breaks in parallel, so
    /// one edition keeps nearly two cores busy, and editions side by side
    /// gain little on two cores (the README's figures). They
    /// are laid out in rounds of `jobs` (in the order of `editions`), and
    /// unless [`Caches::Keep`] typst's caches (comemo), which keep every
    /// layout of a round until evicted, are emptied between rounds: an
    /// edition reuses next to nothing of another's layout (measured on the
    /// book of `benches/book.rs`: the three editions take the same CPU time
    /// laid out in one process or in three), and the bilingual edition alone
    /// holds over a gigabyte of them. The outputs, diagnostics and stage
    /// times come back in the order of `editions`, whatever the order the
    /// threads finished in, and the PDFs are the same bytes. A panic inside
    /// typst becomes an error for its edition.
    pub fn typeset_editions(
        &self,
        editions: &[Edition],
        jobs: usize,
        caches: Caches,
        progress: &(dyn Fn(TypesetEvent) + Sync),
        diags: &mut Diagnostics,
        timings: &mut Timings,
    ) -> Vec<EditionOutput> {
        let jobs = jobs.clamp(1, editions.len().max(1));
        let slots: Vec<Mutex<Option<Typeset>>> =
            editions.iter().map(|_| Mutex::new(None)).collect();
        // A watch session keeps every layout for the next rebuild.
        let evictions = match caches {
            Caches::Keep => None,
            Caches::Free => Some(iterate::Evictions::new(1)),
            Caches::Lean => Some(iterate::Evictions::new(0)),
        };
        let evictions = evictions.as_ref();
        std::thread::scope(|exports| {
            for (round, chunk) in editions.chunks(jobs).enumerate() {
                if round > 0 && caches.freed() {
                    // No edition is being laid out: drop every cached
                    // layout before the next round makes its own.
                    evict(0);
                }
                if let Some(evictions) = evictions {
                    chunk.iter().for_each(|&edition| evictions.begin(edition));
                }
                let laid_out: Vec<_> = std::thread::scope(|layouts| {
                    let threads: Vec<_> = chunk
                        .iter()
                        .map(|&edition| {
                            layouts.spawn(move || self.timed_layout(edition, evictions, progress))
                        })
                        .collect();
                    threads
                        .into_iter()
                        .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                        .collect()
                });
                for ((document, mut d, elapsed, passes), (&edition, slot)) in laid_out
                    .into_iter()
                    .zip(chunk.iter().zip(&slots[round * jobs..]))
                {
                    let pages = document.as_ref().map_or(0, |doc| doc.pages().len());
                    let mut times = vec![(format!("layout {}", edition.code()), elapsed)];
                    // typst's iterations of that layout, one by one.
                    times.extend(
                        passes
                            .into_iter()
                            .enumerate()
                            .map(|(i, d)| (format!("layout {} pass {}", edition.code(), i + 1), d)),
                    );
                    // The export runs in its own thread, so that the next
                    // round is laid out meanwhile; the laid-out document is
                    // dropped as soon as its PDF is made.
                    exports.spawn(move || {
                        let mut pdf = None;
                        if let Some(doc) = document {
                            let start = Instant::now();
                            match guarded(edition, "exporting", || self.export(edition, &doc)) {
                                Ok((bytes, e, time)) => {
                                    pdf = bytes;
                                    d.extend(e);
                                    times.push(time);
                                }
                                Err(failure) => {
                                    d.push(failure);
                                    times
                                        .push((format!("pdf {}", edition.code()), start.elapsed()));
                                }
                            }
                        }
                        let output = EditionOutput {
                            edition,
                            pages,
                            pdf,
                        };
                        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((output, d, times));
                    });
                }
            }
        });
        if caches.freed() {
            evict(0);
        }
        let mut outputs = Vec::new();
        for (slot, &edition) in slots.into_iter().zip(editions) {
            let (output, d, t) = slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    let failed = Diagnostic::error(
                        "internal",
                        format!("the {} edition was not typeset", edition.code()),
                    );
                    (
                        EditionOutput {
                            edition,
                            pages: 0,
                            pdf: None,
                        },
                        vec![failed],
                        Vec::new(),
                    )
                });
            diags.extend(d);
            timings.stages.extend(t);
            outputs.push(output);
        }
        diags.dedup();
        outputs
    }

    /// Lays out one edition, telling `progress`; a panic inside typst is an
    /// error for the edition.
    fn timed_layout(
        &self,
        edition: Edition,
        evictions: Option<&iterate::Evictions>,
        progress: &(dyn Fn(TypesetEvent) + Sync),
    ) -> (
        Option<PagedDocument>,
        Vec<Diagnostic>,
        Duration,
        Vec<Duration>,
    ) {
        progress(TypesetEvent::Started(edition));
        let start = Instant::now();
        let mut passes = Vec::new();
        let laid_out = guarded(edition, "laying out", || {
            self.layout_evicting(edition, evictions, &mut passes)
        });
        if let Some(evictions) = evictions {
            evictions.end(edition);
        }
        let (document, d) = laid_out.unwrap_or_else(|failure| (None, vec![failure]));
        let elapsed = start.elapsed();
        progress(TypesetEvent::LaidOut {
            edition,
            pages: document.as_ref().map_or(0, |doc| doc.pages().len()),
            failed: document.is_none() || d.iter().any(Diagnostic::is_error),
            elapsed,
        });
        (document, d, elapsed, passes)
    }

    /// The converted chapter texts of `edition`'s languages.
    pub fn converted_for(&self, edition: Edition) -> impl Iterator<Item = &Converted> {
        self.converted
            .iter()
            .filter(move |c| edition.langs().contains(&c.lang))
    }

    /// A generous estimate of the memory laying out and exporting `edition`
    /// takes, from the size of the Typst it is made of.
    pub fn memory_estimate(&self, edition: Edition) -> u64 {
        let source: usize = self.converted_for(edition).map(|c| c.source.len()).sum();
        let per_byte = if edition == Edition::Bilingual {
            MEMORY_PER_BILINGUAL_SOURCE_BYTE
        } else {
            MEMORY_PER_SOURCE_BYTE
        };
        MEMORY_BASE + per_byte * source as u64
    }

    /// Lays out one edition; diagnostics are placed in the author's files.
    pub fn layout(&self, edition: Edition) -> (Option<PagedDocument>, Vec<Diagnostic>) {
        self.layout_evicting(edition, None, &mut Vec::new())
    }

    /// Lays out one edition, freeing between its iterations what they no
    /// longer use when given `evictions` (see [`iterate`]); the time of
    /// each iteration is added to `passes`.
    fn layout_evicting(
        &self,
        edition: Edition,
        evictions: Option<&iterate::Evictions>,
        passes: &mut Vec<Duration>,
    ) -> (Option<PagedDocument>, Vec<Diagnostic>) {
        let world = self.sources.world(file_id(&edition.main_path()));
        let result = iterate::compile(&world, edition, evictions, passes);
        let mut diags: Vec<Diagnostic> = result
            .warnings
            .iter()
            .map(|w| self.diagnostic(&world, w))
            .collect();
        let doc = match result.output {
            Ok(doc) => {
                diags.extend(wrapped_code(&doc, edition));
                let refused = self.refused_links(&doc);
                if refused.is_empty() {
                    Some(doc)
                } else {
                    diags.extend(refused);
                    None
                }
            }
            Err(errors) => {
                diags.extend(errors.iter().map(|e| self.diagnostic(&world, e)));
                None
            }
        };
        (doc, name_edition(diags, edition))
    }

    /// Errors for the links of a laid-out edition that the PDF would keep as
    /// URI actions although [`markdown::link_allowed`] refuses their scheme
    /// (`javascript:`, `file:`, `smb:`, which sends a Windows reader's
    /// credentials): chapter links never get here (the resolving sets them
    /// as text), so each comes from a template, named where the address is
    /// written in it.
    fn refused_links(&self, doc: &PagedDocument) -> Vec<Diagnostic> {
        fn walk(frame: &typst::layout::Frame, out: &mut Vec<String>) {
            for (_, item) in frame.items() {
                match item {
                    typst::layout::FrameItem::Group(group) => walk(&group.frame, out),
                    typst::layout::FrameItem::Link(typst::model::Destination::Url(url), _)
                        if !markdown::link_allowed(url.as_str())
                            && !out.iter().any(|u| u == url.as_str()) =>
                    {
                        out.push(url.as_str().to_string());
                    }
                    _ => {}
                }
            }
        }
        let mut urls = Vec::new();
        for page in doc.pages() {
            walk(&page.frame, &mut urls);
        }
        let mut sources: Vec<&Rendered> = self.rendered.values().collect();
        sources.sort_by_key(|r| r.text.len());
        urls.into_iter()
            .map(|url| {
                let at = sources
                    .iter()
                    .find_map(|r| r.text.find(&url).and_then(|o| self.templates.locate(r, o)))
                    .unwrap_or_else(|| Location::file(self.templates.origin("main.typ")));
                Diagnostic::error(
                    "link-scheme",
                    format!(
                        "the template links to `{url}`, which is not a web or mail address (http, https, mailto); the PDF would keep it as an action a click runs"
                    ),
                )
                .at(at)
                .hint("a click on a `javascript:`, `file:` or `smb:` link can run code or send the reader's credentials: link to a web page instead")
            })
            .collect()
    }

    /// Exports a laid-out edition to PDF, enforcing PDF/A-3a and PDF/UA-1.
    pub fn export(
        &self,
        edition: Edition,
        document: &PagedDocument,
    ) -> (Option<Vec<u8>>, Vec<Diagnostic>, (String, Duration)) {
        let start = Instant::now();
        let world = self.sources.world(file_id(&edition.main_path()));
        let (pdf, diags) = match typst_pdf::pdf(document, &self.pdf_options(edition)) {
            Ok(bytes) => (Some(bytes), Vec::new()),
            Err(errors) => (
                None,
                name_edition(
                    errors.iter().map(|e| self.diagnostic(&world, e)).collect(),
                    edition,
                ),
            ),
        };
        (
            pdf,
            diags,
            (format!("pdf {}", edition.code()), start.elapsed()),
        )
    }

    pub(crate) fn pdf_options(&self, edition: Edition) -> PdfOptions {
        let date = self.date;
        let datetime = Datetime::from_ymd(i32::from(date.year), date.month, date.day);
        PdfOptions {
            ident: Smart::Custom(self.ident(edition)),
            creator: Smart::Custom(Some(format!(
                "renga {} (typst 0.15.1)",
                env!("CARGO_PKG_VERSION")
            ))),
            timestamp: datetime.map(Timestamp::new_utc),
            standards: PdfStandards::new(&[PdfStandard::A_3a, PdfStandard::Ua_1])
                .expect("PDF/A-3a and PDF/UA-1 combine"),
            tagged: true,
            ..PdfOptions::default()
        }
    }

    /// A PDF identifier derived from everything the edition is made of.
    fn ident(&self, edition: Edition) -> String {
        let mut hasher = Sha256::new();
        hasher.update(edition.code());
        hasher.update(
            self.sources
                .source_text(file_id(&edition.main_path()))
                .unwrap_or_default(),
        );
        // Only the edition's own languages: the same edition is the same
        // file whichever other editions are built in the same run.
        for c in self.converted_for(edition) {
            hasher.update(&c.source);
        }
        hasher.update(metrics_json(&self.project.metrics.list));
        hasher.update(self.project.fonts.digest);
        let digest = hasher.finalize();
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// A typst diagnostic, placed in the author's file.
    fn diagnostic(&self, world: &EditionWorld, d: &SourceDiagnostic) -> Diagnostic {
        let mut out = match d.severity {
            TypstSeverity::Error => Diagnostic::error("typst", d.message.to_string()),
            TypstSeverity::Warning => Diagnostic::warning("typst", d.message.to_string()),
        };
        let location = self.locate(world, d.span.id(), world.range(d.span));
        if let Some(missing) = self.missing_from_prelude(d, location.as_ref()) {
            return missing;
        }
        if let Some(loc) = location {
            out = out.at(loc);
        }
        for hint in &d.hints {
            out = out.hint(hint.v.to_string());
        }
        for point in &d.trace {
            let span: Span = point.span;
            if let Some(loc) = self.locate(world, span.id(), world.range(span)) {
                out = out.hint(format!("{} ({}:{})", point.v, loc.file, loc.line));
            }
        }
        out
    }

    /// A chapter calls a function of the prelude that the project's own
    /// `templates/prelude.typ` does not define: say so, rather than typst's
    /// "unknown variable" with its hint about subtraction.
    fn missing_from_prelude(
        &self,
        d: &SourceDiagnostic,
        location: Option<&Location>,
    ) -> Option<Diagnostic> {
        let name = d.message.strip_prefix("unknown variable: ")?;
        let origin = self.templates.origin("prelude.typ");
        let in_chapter = location.is_some_and(|l| l.file.ends_with(".md"));
        if !name.starts_with("renga-") || !in_chapter || origin.starts_with('<') {
            return None;
        }
        let mut out = Diagnostic::error(
            "prelude-missing",
            format!("{origin} does not define `{name}`, which the chapters use"),
        )
        .hint(format!(
            "the project's {origin} replaces the built-in prelude: add `#let {name}(..) = ..`, or copy it from the prelude `renga init` writes"
        ));
        if let Some(loc) = location {
            out = out.at(loc.clone());
        }
        Some(out)
    }

    fn locate(
        &self,
        world: &EditionWorld,
        id: Option<FileId>,
        range: Option<std::ops::Range<usize>>,
    ) -> Option<Location> {
        let id = id?;
        let start = range.as_ref().map_or(0, |r| r.start);
        if let Some(&(module, chapter)) = self.modules.get(&id) {
            let c = &self.converted[module];
            let text = self.project.chapters[chapter].text(c.lang)?;
            let mut loc = c.locate(&text.text, start);
            loc.len = 0;
            return Some(loc);
        }
        if let Some(r) = self.rendered.get(&id) {
            return self.templates.locate(r, start);
        }
        // A file of the project itself.
        let path = id.vpath().get_without_slash().to_string();
        let text = typst::World::file(world, id)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Some(Location::from_offset(path, &text, start))
    }
}

/// Warnings for the code lines the prelude had to wrap to keep them on the
/// page (it leaves `renga-code-wrapped` metadata for each).
fn wrapped_code(doc: &PagedDocument, edition: Edition) -> Vec<Diagnostic> {
    use typst::foundations::{Label, Selector, Value};
    use typst::introspection::{Introspector, MetadataElem};
    let Some(label) = Label::new(typst::utils::PicoStr::intern("renga-code-wrapped")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for content in doc.introspector().query(&Selector::Label(label)) {
        let Some(meta) = content.to_packed::<MetadataElem>() else {
            continue;
        };
        let Value::Dict(dict) = &meta.value else {
            continue;
        };
        let get = |key: &str| dict.get(key).ok().cloned();
        let (Some(Value::Str(file)), Some(Value::Int(line))) = (get("file"), get("line")) else {
            continue;
        };
        out.push(
            Diagnostic::warning(
                "code-wrapped",
                "this code line is wider than its column: it is wrapped, each continuation marked ↪",
            )
            .at(Location::new(file.as_str(), line.max(1) as usize, 1))
            .hint("break the line, or shorten it, to print it as written")
            .hint(diag::editions_hint(&[edition.code()])),
        );
    }
    out
}

/// Names the edition in diagnostics that point into a template, so that
/// [`Diagnostics::dedup`] can merge the same problem met in several
/// editions into one that names them.
fn name_edition(mut diags: Vec<Diagnostic>, edition: Edition) -> Vec<Diagnostic> {
    for d in &mut diags {
        let file = d.location.as_ref().map_or("", |l| l.file.as_str());
        if file.starts_with("templates/") || file.starts_with("<built-in>/") {
            d.hints.push(diag::editions_hint(&[edition.code()]));
        }
    }
    diags
}

/// A run of text as typst laid it out, with the language it is tagged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRun {
    pub lang: String,
    pub text: String,
}

/// Every run of text in a laid-out document, page by page, in reading order
/// of the frames.
pub fn text_runs(document: &PagedDocument) -> Vec<TextRun> {
    fn walk(frame: &typst::layout::Frame, out: &mut Vec<TextRun>) {
        for (_, item) in frame.items() {
            match item {
                typst::layout::FrameItem::Group(group) => walk(&group.frame, out),
                typst::layout::FrameItem::Text(text) => out.push(TextRun {
                    lang: text.lang.as_str().to_string(),
                    text: text.text.to_string(),
                }),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for page in document.pages() {
        walk(&page.frame, &mut out);
    }
    out
}

/// The document's text, runs joined by spaces.
pub fn plain_text(document: &PagedDocument) -> String {
    text_runs(document)
        .into_iter()
        .map(|r| r.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Typesets `markdown` as the one chapter of a small report, in English and
/// in Japanese, through every stage to PDF: for the property tests and the
/// fuzz target, which check that any text an author writes lays out and
/// exports, not only that it parses. Returns each edition's output (its PDF
/// is `None` when it failed) and every diagnostic.
pub fn typeset_text(markdown: &str) -> std::io::Result<(Vec<EditionOutput>, Diagnostics)> {
    let dir = tempfile::tempdir()?;
    let chapter = dir.path().join("chapters/01-chapter");
    std::fs::create_dir_all(&chapter)?;
    std::fs::write(
        dir.path().join(project::MANIFEST),
        include_str!("../../assets/init/report.toml"),
    )?;
    for lang in Lang::ALL {
        std::fs::write(chapter.join(format!("{lang}.md")), markdown)?;
    }
    let mut diags = Diagnostics::default();
    let mut timings = Timings::default();
    let editions = [Edition::En, Edition::Ja];
    let outputs = match prepare(dir.path(), &editions, &mut diags, &mut timings) {
        Some(prepared) => prepared.typeset(&mut diags, &mut timings),
        None => Vec::new(),
    };
    Ok((outputs, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_at_once_are_those_whose_rounds_fit_in_memory() {
        const G: u64 = 1 << 30;
        // English, Japanese, bilingual: rounds of two are [en, ja], [en-ja].
        let need = [G, G, 3 * G];
        assert_eq!(fit_jobs(2, &need, None), 2);
        assert_eq!(fit_jobs(2, &need, Some(3 * G)), 2);
        // All three at once need 5 GiB; two at a time, at most 3.
        assert_eq!(fit_jobs(4, &need, Some(4 * G)), 2);
        assert_eq!(fit_jobs(4, &need, Some(5 * G)), 3);
        // Not even one fits: one at a time, never none.
        assert_eq!(fit_jobs(2, &need, Some(G)), 1);
        // Bilingual first: [en-ja, en] needs 4 GiB.
        assert_eq!(fit_jobs(2, &[3 * G, G, G], Some(3 * G)), 1);
        assert_eq!(fit_jobs(1, &need, None), 1);
        assert_eq!(fit_jobs(8, &[], None), 1);
    }

    #[test]
    fn the_memory_a_cgroup_leaves_is_read_from_the_process_own_cgroup_and_those_above() {
        const M: u64 = 1 << 20;
        let sys = tempfile::tempdir().unwrap();
        let put = |rel: &str, value: &str| {
            let path = sys.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, format!("{value}\n")).unwrap();
        };
        // cgroup v2: the job's own limit, its parent's unlimited.
        put("ci/job/memory.max", &(2048 * M).to_string());
        put("ci/job/memory.current", &(512 * M).to_string());
        put("ci/memory.max", "max");
        put("ci/memory.current", &(600 * M).to_string());
        assert_eq!(cgroup_room(sys.path(), "0::/ci/job\n"), Some(1536 * M));
        // A parent with less room left than its child decides.
        put("ci/memory.max", &(1024 * M).to_string());
        assert_eq!(cgroup_room(sys.path(), "0::/ci/job\n"), Some(424 * M));
        // Inside a container's namespace the own cgroup is the root.
        put("memory.max", &(4096 * M).to_string());
        put("memory.current", &(96 * M).to_string());
        assert_eq!(cgroup_room(sys.path(), "0::/\n"), Some(4000 * M));
        // cgroup v1, as on this CI machine: the memory controller's line.
        put(
            "memory/runner/memory.limit_in_bytes",
            &(1536 * M).to_string(),
        );
        put("memory/runner/memory.usage_in_bytes", &(36 * M).to_string());
        put("memory/memory.limit_in_bytes", "9223372036854771712");
        put("memory/memory.usage_in_bytes", &(9000 * M).to_string());
        let v1 = "5:devices:/\n4:memory:/runner\n3:cpuset:/\n0::/\n";
        assert_eq!(cgroup_room(sys.path(), v1).map(|r| r / M), Some(1500));
        // No limit anywhere, or no memory controller: unknown.
        assert_eq!(cgroup_room(sys.path(), "4:memory:/\n"), None);
        assert_eq!(cgroup_room(sys.path(), "5:devices:/runner\n"), None);
        assert_eq!(cgroup_room(sys.path(), ""), None);
    }

    #[test]
    fn the_least_memory_when_asked_or_when_not_even_one_edition_fits() {
        const G: u64 = 1 << 30;
        let need = [G, G, 3 * G];
        let plan = |requested, low, available| plan_for(requested, low, 2, &need, available);
        let free = |jobs| Plan {
            jobs,
            caches: Caches::Free,
            short_of_memory: None,
        };
        assert_eq!(plan(None, false, Some(8 * G)), free(2));
        assert_eq!(plan(None, false, None), free(2));
        assert_eq!(plan(None, false, Some(3 * G)), free(2));
        // The bilingual edition alone is estimated at more than there is.
        assert_eq!(
            plan(None, false, Some(2 * G)),
            Plan {
                jobs: 1,
                caches: Caches::Lean,
                short_of_memory: Some((2 * G, 3 * G)),
            }
        );
        // Asked for: one at a time, lean, whatever the memory.
        let lean = Plan {
            jobs: 1,
            caches: Caches::Lean,
            short_of_memory: None,
        };
        assert_eq!(plan(None, true, Some(8 * G)), lean);
        // `--jobs` is the author's choice: the caches are kept.
        assert_eq!(plan(Some(1), false, Some(2 * G)), free(1));
        assert_eq!(plan(Some(3), false, Some(8 * G)), free(3));
    }

    #[test]
    fn a_panic_while_typesetting_is_an_error_for_its_edition() {
        let failed = guarded(Edition::Ja, "laying out", || -> usize {
            panic!("index out of bounds: the len is 3 but the index is 7")
        })
        .unwrap_err();
        assert!(failed.is_error());
        assert_eq!(failed.code, "internal");
        assert!(
            failed.message.contains("laying out the ja edition"),
            "{}",
            failed.message
        );
        assert!(
            failed.message.contains("the index is 7"),
            "{}",
            failed.message
        );
        let owned =
            guarded(Edition::En, "exporting", || -> usize { panic!("{}", 42) }).unwrap_err();
        assert!(owned.message.ends_with(": 42"), "{}", owned.message);
        assert_eq!(guarded(Edition::En, "exporting", || 7).unwrap(), 7);
    }

    #[test]
    fn epoch_dates_are_civil_dates() {
        assert_eq!(
            date_from_epoch(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            date_from_epoch(1_795_737_600),
            Date {
                year: 2026,
                month: 11,
                day: 27
            }
        );
        assert_eq!(
            date_from_epoch(951_782_400),
            Date {
                year: 2000,
                month: 2,
                day: 29
            }
        );
    }
}
