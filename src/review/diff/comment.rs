//! `renga diff --format markdown`: a pull-request comment that renders on
//! GitHub for every script.

use super::*;

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
pub(super) fn md_mark(tag: &str, text: &str) -> String {
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
