//! `renga diff` for a terminal: coloured, and readable without colour.

use super::*;
use crate::diag::visible;

/// Author text for a person: control characters shown, never raw.
fn v(text: &str) -> std::borrow::Cow<'_, str> {
    visible(text)
}

// ---- Terminal ------------------------------------------------------------------

pub(super) const BOLD: &str = "\x1b[1m";
pub(super) const RED: &str = "\x1b[31m";
pub(super) const GREEN: &str = "\x1b[32m";
pub(super) const YELLOW: &str = "\x1b[33m";
pub(super) const DIM: &str = "\x1b[2m";
pub(super) const RESET: &str = "\x1b[0m";
/// Deletions struck through, insertions underlined: the difference
/// survives without colour too.
pub(super) const DELETED: &str = "\x1b[31;9m";
pub(super) const INSERTED: &str = "\x1b[32;4m";

/// Terminal styling, or none (`NO_COLOR`, a pipe).
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    /// `text` in `style`; its control characters are shown, never sent.
    fn paint(&self, style: &str, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("{style}{}{RESET}", v(text))
        } else {
            v(text).into_owned()
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
                (Op::Equal, _) => out.push_str(&v(&c.text)),
                (Op::Delete, true) => out.push_str(&self.paint(DELETED, &c.text)),
                (Op::Insert, true) => out.push_str(&self.paint(INSERTED, &c.text)),
                (Op::Delete, false) => out.push_str(&format!("[-{}-]", v(&c.text))),
                (Op::Insert, false) => out.push_str(&format!("{{+{}+}}", v(&c.text))),
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
            let (head, tail) = (head(&c.text, KEEP), tail(&c.text, KEEP));
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

/// A line of a changed code block as `git diff` shows it: its number, a
/// sign (` ` unchanged, `-` deleted, `+` inserted, `~` its words changed)
/// and its `words` as the output marks them.
pub(super) fn code_line_text(l: &CodeLine, words: &str) -> String {
    let sign = match l.kind {
        "deleted" => '-',
        "inserted" => '+',
        "changed" => '~',
        "skipped" => {
            let s = if l.line == 1 { "" } else { "s" };
            return format!("     ⋮ {} unchanged line{s}", l.line);
        }
        _ => ' ',
    };
    format!("{:>4} {sign} {words}", l.line)
}

/// The first words of `text` up to about `keep` characters, cut between
/// words (for Japanese, between the units the word diff uses), never inside
/// one; a single word longer than twice `keep` is cut at `keep`.
fn head(text: &str, keep: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for t in review::tokens(text) {
        let len = t.chars().count();
        if n + len > keep && n > 0 {
            break;
        }
        if len > 2 * keep {
            out.extend(t.chars().take(keep));
            break;
        }
        out.push_str(t);
        n += len;
    }
    out.trim_end().to_string()
}

/// The last words of `text`, as [`head`] takes the first.
fn tail(text: &str, keep: usize) -> String {
    let tokens = review::tokens(text);
    let mut from = tokens.len();
    let mut n = 0;
    while from > 0 {
        let len = tokens[from - 1].chars().count();
        if n + len > keep && n > 0 {
            break;
        }
        if len > 2 * keep {
            let t: Vec<char> = tokens[from - 1].chars().collect();
            let cut: String = t[t.len() - keep..].iter().collect();
            return cut + &tokens[from..].concat();
        }
        from -= 1;
        n += len;
    }
    tokens[from..].concat().trim_start().to_string()
}

pub(super) fn place(b: &BlockDiff) -> String {
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
pub(super) fn block_status(b: &BlockDiff) -> String {
    match (b.status, &b.old) {
        (Status::Moved, Some(old)) => format!("moved from line {}", old.line),
        (Status::Changed, _) if b.formatting && b.format_changes.is_empty() => {
            "changed (formatting only)".into()
        }
        (Status::Changed, _) if b.formatting => {
            format!("changed (formatting only: {})", b.format_changes.join("; "))
        }
        (Status::Changed, _) if !b.format_changes.is_empty() => {
            format!("changed ({})", b.format_changes.join("; "))
        }
        (status, _) => status.word().into(),
    }
}

pub(super) fn chapter_line(c: &ChapterDiff) -> String {
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

pub(super) fn metric_line(m: &MetricDiff, lang: Lang) -> String {
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
        v(&report.from),
        v(&report.to)
    );
    if report.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    for c in &report.chapters {
        out.push_str(&format!(
            "\n{} · {}: {}\n",
            p.paint(BOLD, &c.chapter),
            v(&c.title),
            v(&chapter_line(c))
        ));
        if matches!(c.status, Status::Added | Status::Removed) {
            for t in &c.texts {
                out.push_str(&format!("  {} ({} blocks)\n", v(&t.file), t.blocks.len()));
            }
            continue;
        }
        for t in &c.texts {
            out.push_str(&format!("  {}", v(&t.file)));
            if t.status != Status::Changed {
                out.push_str(&format!(": {}\n", p.status(t.status)));
                continue;
            }
            out.push('\n');
            for b in &t.blocks {
                out.push_str(&format!(
                    "    {}: {}\n",
                    p.paint(DIM, &place(b)),
                    p.block_status(b),
                ));
                if b.lines.is_empty() {
                    out.push_str(&format!("      {}\n", p.words(&elide(&b.words))));
                }
                for l in &b.lines {
                    let line = code_line_text(l, &p.words(&l.words));
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
    }
    if !report.metrics.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Metrics")));
        for m in &report.metrics {
            out.push_str(&format!(
                "  {} · {}: {}\n",
                v(&m.key),
                v(&m.label.en),
                v(&metric_line(m, Lang::En))
            ));
        }
    }
    if !report.settings.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Settings (report.toml)")));
        for s in &report.settings {
            out.push_str(&format!("  {}\n", v(&setting_line(s))));
        }
    }
    if !report.files.is_empty() {
        out.push_str(&format!("\n{}\n", p.paint(BOLD, "Files")));
        for f in &report.files {
            out.push_str(&format!("  {}: {}\n", v(&f.file), v(&file_line(f))));
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
pub(super) fn setting_line(s: &SettingDiff) -> String {
    match (&s.old, &s.new) {
        (Some(old), Some(new)) => format!("{}: {old} → {new}", s.key),
        (None, Some(new)) => format!("{}: added, {new}", s.key),
        (Some(old), None) => format!("{}: removed, was {old}", s.key),
        (None, None) => s.key.clone(),
    }
}

/// `image changed: 1,234 → 1,240 bytes, sha256 1a2b3c4d5e6f → 4d5e6f7a8b9c`.
pub(super) fn file_line(f: &FileDiff) -> String {
    let size =
        |i: &files::FileInfo| format::group_thousands(&format::Decimal::from_f64(i.size as f64));
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
