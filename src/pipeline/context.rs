//! The template context: what the minijinja templates see of a project and
//! an edition (chapters, dates, metrics tables and charts, agencies), built
//! once per edition.

use super::*;

#[derive(Serialize)]
pub(super) struct DateCtx {
    year: u16,
    month: u8,
    day: u8,
    iso: String,
    en: String,
    ja: String,
}

impl DateCtx {
    fn new(d: Date) -> Self {
        Self {
            year: d.year,
            month: d.month,
            day: d.day,
            iso: d.to_string(),
            en: format::date(d, Lang::En),
            ja: format::date(d, Lang::Ja),
        }
    }
}

#[derive(Serialize)]
pub(super) struct ChapterCtx<'a> {
    number: u32,
    slug: &'a str,
    authors: Vec<String>,
    lead: Option<&'a project::Agency>,
    /// By language code: the module to import and the chapter's title.
    texts: HashMap<&'static str, TextCtx>,
    /// The bilingual edition's rows and heading levels (see `pairing`).
    pairing: Option<&'a Pairing>,
}

#[derive(Serialize)]
pub(super) struct TextCtx {
    module: String,
    title: String,
    path: String,
}

#[derive(Serialize)]
pub(super) struct CellCtx {
    key: String,
    agency: String,
    /// The value, an integer exactly (see [`format::Number`]).
    value: format::Number,
    /// Formatted value with unit (and the illustrative marker).
    text: Localized,
    as_of: Localized,
    /// The as-of date as `YYYY-MM-DD`, for machine-readable markup.
    as_of_iso: String,
    illustrative: bool,
    source: String,
}

#[derive(Serialize)]
pub(super) struct RowCtx {
    id: String,
    label: Localized,
    /// One cell per agency, in report.toml order; `none` where an agency has no figure.
    cells: Vec<Option<CellCtx>>,
}

#[derive(Serialize)]
pub(super) struct BarCtx {
    agency: String,
    /// Value as a share of the row's largest, 0–1.
    share: f64,
    text: Localized,
}

#[derive(Serialize)]
pub(super) struct ChartRowCtx {
    label: Localized,
    bars: Vec<BarCtx>,
}

#[derive(Serialize)]
pub(super) struct TopicCtx {
    id: String,
    title: Localized,
    rows: Vec<RowCtx>,
    chart: Vec<ChartRowCtx>,
    /// Alt text of the chart, generated from its data.
    chart_alt: Localized,
}

#[derive(Serialize)]
pub(super) struct MetricCtx<'a> {
    key: &'a str,
    agency: &'a str,
    label: &'a Localized,
    text: Localized,
    as_of: Localized,
    as_of_iso: String,
    value: format::Number,
    source: &'a str,
    url: Option<&'a str>,
    illustrative: bool,
    note: Option<&'a Localized>,
}

#[derive(Serialize)]
pub(super) struct EditionCtx {
    code: &'static str,
    langs: Vec<&'static str>,
    bilingual: bool,
    /// The language of the edition's own text (English for the bilingual).
    lang: &'static str,
    region: &'static str,
}

#[derive(Serialize)]
pub(crate) struct Context<'a> {
    edition: EditionCtx,
    report: &'a project::Manifest,
    date: DateCtx,
    chapters: Vec<ChapterCtx<'a>>,
    topics: Vec<TopicCtx>,
    metrics: Vec<MetricCtx<'a>>,
    renga_version: &'static str,
    illustrative_marker: Localized,
    /// The summary of changes of a redline edition; empty otherwise.
    redline: &'a [RedlineEntry],
}

pub(super) fn both(f: impl Fn(Lang) -> String) -> Localized {
    Localized {
        en: f(Lang::En),
        ja: f(Lang::Ja),
    }
}

pub(crate) fn context<'a>(
    project: &'a Project,
    converted: &[Converted],
    pairings: &'a HashMap<String, Pairing>,
    edition: Edition,
    date: Date,
    redline: &'a [RedlineEntry],
) -> Context<'a> {
    let manifest = &project.manifest;
    let primary = edition.langs()[0];
    let mut by_chapter: HashMap<&str, Vec<&Converted>> = HashMap::new();
    for c in converted {
        by_chapter.entry(c.slug.as_str()).or_default().push(c);
    }
    let chapters = project
        .chapters
        .iter()
        .map(|ch| {
            let front = ch
                .text(primary)
                .or_else(|| ch.texts.values().next())
                .map(|t| &t.front);
            let texts = by_chapter
                .get(ch.slug.as_str())
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c.lang.code(),
                        TextCtx {
                            module: c.module.clone(),
                            title: c.title.clone(),
                            path: c.path.clone(),
                        },
                    )
                })
                .collect();
            ChapterCtx {
                number: ch.number,
                slug: &ch.slug,
                authors: front.map(|f| f.authors.clone()).unwrap_or_default(),
                lead: front
                    .and_then(|f| f.lead.as_deref())
                    .and_then(|id| project.agency(id)),
                texts,
                pairing: pairings.get(&ch.slug),
            }
        })
        .collect();

    let metrics = &project.metrics;
    let topics = metrics
        .topics
        .iter()
        .map(|topic| {
            let mut ids: Vec<&str> = Vec::new();
            for m in metrics.list.iter().filter(|m| m.topic == topic.id) {
                if !ids.contains(&m.id.as_str()) {
                    ids.push(&m.id);
                }
            }
            let mut rows = Vec::new();
            let mut chart = Vec::new();
            for id in ids {
                // One cell per agency, in report.toml order.
                let found: Vec<Option<&Metric>> = manifest
                    .agencies
                    .iter()
                    .map(|a| metrics.get(&format!("{}.{}.{}", a.id, topic.id, id)))
                    .collect();
                // Figures in units that cannot be compared (people against
                // S$; warned at load) get a row each, never one row.
                let mut groups: Vec<Vec<Option<&Metric>>> = Vec::new();
                for (i, m) in found.iter().enumerate() {
                    let Some(m) = *m else { continue };
                    let group = groups.iter_mut().find(|g| {
                        g.iter()
                            .flatten()
                            .next()
                            .is_some_and(|o| o.unit.comparable(m.unit))
                    });
                    match group {
                        Some(g) => g[i] = Some(m),
                        None => {
                            let mut g = vec![None; found.len()];
                            g[i] = Some(m);
                            groups.push(g);
                        }
                    }
                }
                for found in groups {
                    let (row, bars) = metric_row(id, &found);
                    if let Some(bars) = bars {
                        chart.push(bars);
                    }
                    rows.push(row);
                }
            }
            let chart_alt = both(|l| chart_alt(project, &topic.title, &chart, l));
            TopicCtx {
                id: topic.id.clone(),
                title: topic.title.clone(),
                rows,
                chart,
                chart_alt,
            }
        })
        .collect();

    let metric_list = metrics
        .list
        .iter()
        .map(|m| MetricCtx {
            key: &m.key,
            agency: &m.agency,
            label: &m.label,
            text: both(|l| format::metric(m, l)),
            as_of: both(|l| format::date(m.as_of, l)),
            as_of_iso: m.as_of.to_string(),
            value: m.exact.number(),
            source: &m.source,
            url: m.url.as_deref(),
            illustrative: m.illustrative,
            note: m.note.as_ref(),
        })
        .collect();

    Context {
        edition: EditionCtx {
            code: edition.code(),
            langs: edition.langs().iter().map(|l| l.code()).collect(),
            bilingual: edition == Edition::Bilingual,
            lang: primary.code(),
            region: primary.region(),
        },
        report: manifest,
        date: DateCtx::new(date),
        chapters,
        topics,
        metrics: metric_list,
        renga_version: env!("CARGO_PKG_VERSION"),
        illustrative_marker: both(|l| format::illustrative_marker(l).to_string()),
        redline,
    }
}

/// A row of the comparison table (one cell per agency, `None` where an
/// agency has no figure) and, when its figures share a unit and can be
/// compared, its bars for the chart.
pub(super) fn metric_row(id: &str, found: &[Option<&Metric>]) -> (RowCtx, Option<ChartRowCtx>) {
    let present: Vec<&Metric> = found.iter().flatten().copied().collect();
    let label = row_label(&present);
    let cells = found
        .iter()
        .map(|m| {
            m.map(|m| CellCtx {
                key: m.key.clone(),
                agency: m.agency.clone(),
                value: m.exact.number(),
                text: both(|l| format::metric(m, l)),
                as_of: both(|l| format::date(m.as_of, l)),
                as_of_iso: m.as_of.to_string(),
                illustrative: m.illustrative,
                source: m.source.clone(),
            })
        })
        .collect();
    let unit = present[0].unit;
    let chart = (present.len() >= 2 && present.iter().all(|m| m.unit == unit && m.value >= 0.0))
        .then(|| {
            let max = present.iter().map(|m| m.value).fold(0.0, f64::max);
            let bars = present
                .iter()
                .map(|m| BarCtx {
                    agency: m.agency.clone(),
                    share: if max > 0.0 { m.value / max } else { 0.0 },
                    text: both(|l| format::metric(m, l)),
                })
                .collect();
            ChartRowCtx {
                label: label.clone(),
                bars,
            }
        });
    let row = RowCtx {
        id: id.to_string(),
        label,
        cells,
    };
    (row, chart)
}

/// The label of a row of compared metrics: theirs when they agree, else
/// each agency's in turn ("Singpass users / My Number Card holders").
pub(super) fn row_label(metrics: &[&Metric]) -> Localized {
    if metrics.iter().all(|m| m.label == metrics[0].label) {
        metrics[0].label.clone()
    } else {
        both(|l| {
            metrics
                .iter()
                .map(|m| m.label.get(l))
                .collect::<Vec<_>>()
                .join(" / ")
        })
    }
}

/// "Bar chart comparing Digital identity: Singpass users: GovTech 4,500,000 people, …"
pub(super) fn chart_alt(
    project: &Project,
    title: &Localized,
    rows: &[ChartRowCtx],
    lang: Lang,
) -> String {
    let name = |id: &str| {
        project
            .agency(id)
            .map_or(id.to_string(), |a| a.short.get(lang).to_string())
    };
    let rows: Vec<String> = rows
        .iter()
        .map(|r| {
            let bars: Vec<String> = r
                .bars
                .iter()
                .map(|b| format!("{} {}", name(&b.agency), b.text.get(lang)))
                .collect();
            match lang {
                Lang::En => format!("{}: {}", r.label.get(lang), bars.join(", ")),
                Lang::Ja => format!("{}：{}", r.label.get(lang), bars.join("、")),
            }
        })
        .collect();
    match lang {
        Lang::En => format!(
            "Bar chart comparing {}. {}.",
            title.get(lang),
            rows.join("; ")
        ),
        Lang::Ja => format!(
            "{}を比較する棒グラフ。{}。",
            title.get(lang),
            rows.join("。")
        ),
    }
}
