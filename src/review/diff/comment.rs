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

/// GitHub refuses issue and pull-request comments longer than this.
pub const GITHUB_LIMIT: usize = 65_536;

/// The first line of every part: what a workflow finds its earlier
/// comments by, to replace them.
pub const MARKER: &str = "<!-- renga diff -->";

/// Length as GitHub counts it, conservatively: UTF-16 code units (a
/// character outside the Basic Multilingual Plane counts twice), never
/// fewer than characters.
pub fn comment_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Text as HTML, for inside `<summary>` (markdown escapes do not apply
/// there).
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Lines that belong together: a list, a table (its head repeated when it
/// is continued in the next part) or a chapter's folded details.
struct Group {
    /// Written before the first item, and before the first item of a part
    /// the group continues in.
    open: String,
    cont: String,
    close: String,
    items: Vec<String>,
    /// The chapter or file the group details, for a cut note.
    name: Option<String>,
}

impl Group {
    fn plain(items: Vec<String>) -> Self {
        Group {
            open: String::new(),
            cont: String::new(),
            close: String::new(),
            items,
            name: None,
        }
    }
}

/// A changed block as a list item: where it is, what happened, its words.
fn md_block(b: &BlockDiff) -> String {
    let mut out = format!(
        "- {}, {}:  \n",
        capitalise(&md_escape(&place(b))),
        md_escape(&block_status(b))
    );
    if b.lines.is_empty() {
        out.push_str(&format!("  {}\n", md_words(&elide(&b.words))));
        return out;
    }
    // Code, line by line as `git diff` shows it, words marked: `<pre>`
    // keeps the lines and renders `<del>` and `<ins>` inside.
    out.push_str("\n  <pre>\n");
    for l in &b.lines {
        let words: String = l
            .words
            .iter()
            .map(|c| match c.op {
                Op::Equal => html_escape(&c.text),
                Op::Delete => format!("<del>{}</del>", html_escape(&c.text)),
                Op::Insert => format!("<ins>{}</ins>", html_escape(&c.text)),
            })
            .collect();
        out.push_str(&format!("  {}\n", code_line_text(l, &words)));
    }
    out.push_str("  </pre>\n");
    out
}

/// A fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Everything the comment says, in groups: the summary first (counts,
/// chapters, metrics, settings, files), then each chapter's changes folded,
/// then each template's changed lines folded.
fn groups(report: &Report) -> (Vec<Group>, Vec<Group>) {
    let mut summary = Vec::new();
    let blocks: usize = report
        .chapters
        .iter()
        .flat_map(|c| &c.texts)
        .map(|t| t.blocks.len())
        .sum();
    summary.push(Group::plain(vec![format!(
        "\n**{} chapter(s), {} block(s), {} metric(s), {} setting(s), {} file(s) changed**\n",
        report.chapters.len(),
        blocks,
        report.metrics.len(),
        report.settings.len(),
        report.files.len()
    )]));
    if !report.chapters.is_empty() {
        let items = report
            .chapters
            .iter()
            .map(|c| {
                let texts: Vec<String> = c
                    .texts
                    .iter()
                    .map(|t| format!("{} {}", t.lang, text_counts(t)))
                    .collect();
                let mut line = format!(
                    "- **{}** · {} — {}",
                    md_escape(&c.chapter),
                    md_escape(&c.title),
                    chapter_line(c)
                );
                if !texts.is_empty() {
                    line.push_str(&format!(": {}", texts.join("; ")));
                }
                line.push('\n');
                line
            })
            .collect();
        summary.push(Group {
            open: "\n#### Chapters\n\n".into(),
            cont: "\n#### Chapters (continued)\n\n".into(),
            close: String::new(),
            items,
            name: None,
        });
    }
    if !report.metrics.is_empty() {
        let head = "| Metric | Agency | Change | Old | New |\n|---|---|---|---|---|\n";
        let items = report
            .metrics
            .iter()
            .map(|m| {
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
                format!(
                    "| {}<br>{}<br>`{}` | {} | {} | {} | {} |\n",
                    md_escape(&m.label.en),
                    md_escape(&m.label.ja),
                    m.key,
                    md_escape(&m.agency_name.en),
                    change,
                    value(&m.old),
                    value(&m.new)
                )
            })
            .collect();
        summary.push(Group {
            open: format!("\n#### Metrics\n\n{head}"),
            cont: format!("\n#### Metrics (continued)\n\n{head}"),
            close: String::new(),
            items,
            name: None,
        });
    }
    if !report.settings.is_empty() {
        let head = "| Setting | Old | New |\n|---|---|---|\n";
        let items = report
            .settings
            .iter()
            .map(|s| {
                let value =
                    |v: &Option<String>| v.as_ref().map_or("—".to_string(), |v| md_escape(v));
                format!("| `{}` | {} | {} |\n", s.key, value(&s.old), value(&s.new))
            })
            .collect();
        summary.push(Group {
            open: format!("\n#### Settings (`report.toml`)\n\n{head}"),
            cont: format!("\n#### Settings (`report.toml`, continued)\n\n{head}"),
            close: String::new(),
            items,
            name: None,
        });
    }
    if !report.files.is_empty() {
        let items = report
            .files
            .iter()
            .map(|f| format!("- `{}`: {}\n", f.file, md_escape(&file_line(f))))
            .collect();
        summary.push(Group {
            open: "\n#### Files\n\n".into(),
            cont: "\n#### Files (continued)\n\n".into(),
            close: String::new(),
            items,
            name: None,
        });
    }

    let mut details = Vec::new();
    for c in &report.chapters {
        let title = format!(
            "{} · {} — {}",
            html_escape(&c.chapter),
            html_escape(&c.title),
            chapter_line(c)
        );
        let mut items = Vec::new();
        for t in &c.texts {
            if matches!(c.status, Status::Added | Status::Removed) {
                items.push(format!(
                    "`{}`: {} blocks {}\n\n",
                    t.file,
                    t.blocks.len(),
                    t.status.word()
                ));
                continue;
            }
            items.push(format!("`{}` {}\n\n", t.file, t.status.word()));
            items.extend(t.blocks.iter().map(md_block));
        }
        if items.is_empty() {
            continue;
        }
        details.push(Group {
            open: format!("\n<details open><summary><b>{title}</b></summary>\n\n"),
            cont: format!("\n<details open><summary><b>{title}</b> (continued)</summary>\n\n"),
            close: "\n</details>\n".into(),
            items,
            name: Some(format!("chapter `{}`", c.chapter)),
        });
    }
    for f in report.files.iter().filter(|f| !f.lines.is_empty()) {
        let body: String = f
            .lines
            .iter()
            .map(|l| {
                let sign = if l.op == Op::Delete { '-' } else { '+' };
                format!("{sign} {:>4} | {}\n", l.line, l.text)
            })
            .collect();
        let fence = fence_for(&body);
        let file = html_escape(&f.file);
        details.push(Group {
            open: format!("\n<details><summary><code>{file}</code></summary>\n\n{fence}diff\n"),
            cont: format!(
                "\n<details><summary><code>{file}</code> (continued)</summary>\n\n{fence}diff\n"
            ),
            close: format!("{fence}\n\n</details>\n"),
            items: body.lines().map(|l| format!("{l}\n")).collect(),
            name: Some(format!("the lines of `{}`", f.file)),
        });
    }
    // Control characters of the project's text shown, never sent raw.
    let shown = |g: &mut Group| {
        for s in [&mut g.open, &mut g.cont, &mut g.close]
            .into_iter()
            .chain(g.items.iter_mut())
        {
            if let std::borrow::Cow::Owned(v) = crate::diag::visible(s) {
                *s = v;
            }
        }
    };
    summary.iter_mut().for_each(shown);
    details.iter_mut().for_each(shown);
    (summary, details)
}

/// `3 blocks (2 changed, 1 added)`.
fn text_counts(t: &TextDiff) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for b in &t.blocks {
        let word = block_status(b)
            .split([' ', '('])
            .next()
            .unwrap_or("")
            .to_string();
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counts.push((word, 1)),
        }
    }
    let n = t.blocks.len();
    let detail: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
    let plural = if n == 1 { "block" } else { "blocks" };
    if matches!(t.status, Status::Added | Status::Removed) {
        return format!("{} ({n} {plural})", t.status.word());
    }
    format!("{n} {plural} ({})", detail.join(", "))
}

/// A pull request comment: the summary, then each chapter's changes and
/// each template's changed lines folded, words marked as deleted or
/// inserted. One part, however long (see [`markdown_parts`]).
pub fn markdown_comment(report: &Report) -> String {
    markdown_parts(report, usize::MAX, true).concat()
}

/// The comment in parts of at most `max` characters as GitHub counts them
/// ([`comment_len`]), each starting with [`MARKER`] and the heading. With
/// `all`, every part; without, the first part only, ending in a note that
/// says what was left out and how to see it.
pub fn markdown_parts(report: &Report, max: usize, all: bool) -> Vec<String> {
    let title = format!(
        "{MARKER}\n### Report changes: {} → {}",
        md_escape(&crate::diag::visible(&report.from)),
        md_escape(&crate::diag::visible(&report.to))
    );
    if report.is_empty() {
        return vec![format!("{title}\n\nNo changes.\n")];
    }
    let (summary, details) = groups(report);
    // Room for the heading's "(part 12345 of 12345)".
    let head_len = comment_len(&title) + 32;
    // Room for the note a cut first part ends with.
    let note_room = if all { 0 } else { 1200 };
    let budget = max.saturating_sub(head_len + note_room).max(200);
    let mut parts: Vec<String> = vec![String::new()];
    // The group the first part was full in.
    let mut cut: Option<usize> = None;
    let all_groups: Vec<&Group> = summary.iter().chain(&details).collect();
    'groups: for (g, group) in all_groups.iter().enumerate() {
        let mut open = false;
        for (i, item) in group.items.iter().enumerate() {
            let item = fit(item, budget / 2);
            loop {
                let part = parts.last_mut().expect("a part");
                let opener = match (open, i) {
                    (true, _) => "",
                    (false, 0) => group.open.as_str(),
                    (false, _) => group.cont.as_str(),
                };
                let need = comment_len(part)
                    + comment_len(opener)
                    + comment_len(&item)
                    + comment_len(&group.close);
                if need <= budget || part.is_empty() {
                    part.push_str(opener);
                    part.push_str(&item);
                    open = true;
                    break;
                }
                // The part is full: close the group and start another.
                if open {
                    part.push_str(&group.close);
                    open = false;
                }
                if !all {
                    cut = Some(g);
                    break 'groups;
                }
                parts.push(String::new());
            }
        }
        if open {
            parts.last_mut().expect("a part").push_str(&group.close);
        }
    }
    let n = parts.len();
    let mut out: Vec<String> = parts
        .into_iter()
        .enumerate()
        .map(|(k, body)| {
            let head = if n > 1 {
                format!("{title} (part {} of {n})\n", k + 1)
            } else {
                format!("{title}\n")
            };
            head + &body
        })
        .collect();
    if let Some(g) = cut {
        // The group cut, in part or whole, and every one after it.
        let left: Vec<&str> = all_groups[g..]
            .iter()
            .map(|group| group.name.as_deref().unwrap_or("the rest of the summary"))
            .collect();
        let mut names: Vec<&str> = Vec::new();
        for l in left {
            if !names.contains(&l) {
                names.push(l);
            }
        }
        let shown = names.len().min(12);
        let mut list = names[..shown].join(", ");
        if names.len() > shown {
            list.push_str(&format!(" and {} more", names.len() - shown));
        }
        let from = md_escape(&crate::diag::visible(&report.from));
        let to = md_escape(&crate::diag::visible(&report.to));
        out[0].push_str(&format!(
            "\n---\n**Cut to stay within {max} characters.** Left out: the details of {list}. \
             See every change with `renga diff {from} {to} --format terminal`, or write the \
             comment in parts of at most {max} characters each with `renga diff {from} {to} \
             --format markdown --out DIR`.\n"
        ));
    }
    out
}

/// An item shortened to `max` characters at most, saying so.
fn fit(item: &str, max: usize) -> String {
    if comment_len(item) <= max {
        return item.to_string();
    }
    let mut out = String::new();
    let mut len = 0;
    for c in item.chars() {
        len += c.len_utf16();
        if len > max.saturating_sub(120) {
            break;
        }
        out.push(c);
    }
    let left = comment_len(item) - comment_len(&out);
    // A line cut inside a fence or a tag must not leave it open: the rest
    // of this item is shown as plain text, and fences are closed.
    for tag in ["del", "ins"] {
        if out.matches(&format!("<{tag}>")).count() > out.matches(&format!("</{tag}>")).count() {
            out.push_str(&format!("</{tag}>"));
        }
    }
    if out.contains("<pre>") && !out.contains("</pre>") {
        out.push_str("\n  </pre>");
    }
    out.push_str(&format!(
        "\n  … ({left} more characters of this block: see `renga diff --format terminal`)\n"
    ));
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
