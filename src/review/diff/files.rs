//! What `renga diff` shows besides chapters and metrics: every other input
//! that changes a PDF edition. `report.toml` by setting (key, old and new
//! value), templates by file and line, and the project's fonts, images and
//! other files beside the chapters by name, size and hash.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use similar::{ChangeTag, TextDiff};

use comrak::Arena;
use comrak::nodes::NodeValue;

use crate::diag::Diagnostic;
use crate::load::confine::Root;
use crate::load::project::{MANIFEST, Project};
use crate::markdown;
use crate::model::lang::Lang;
use crate::review::diff::Status;

/// One setting of `report.toml` that was added, removed or changed.
#[derive(Debug, Serialize)]
pub struct SettingDiff {
    /// Dotted, as the file nests it: `title.en`, `layout.draft`,
    /// `agencies.sg.name.ja` (agencies by id).
    pub key: String,
    /// The value as TOML writes it; absent when the setting is new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// A file other than chapter text, metrics and `report.toml` that changed.
#[derive(Debug, Serialize)]
pub struct FileDiff {
    /// Relative to the project root, in the new version (old, if removed).
    pub file: String,
    /// `image`, `template`, `font` or `file`.
    pub kind: &'static str,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<FileInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<FileInfo>,
    /// For a changed template: its changed lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineDiff>,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    pub size: u64,
    /// The first 12 hex digits of the SHA-256 of the file's bytes.
    pub sha256: String,
}

/// A line of a template that was deleted or inserted.
#[derive(Debug, Serialize)]
pub struct LineDiff {
    /// `delete` or `insert`.
    pub op: crate::review::Op,
    /// The line's number in the old file (deleted) or the new one (inserted).
    pub line: usize,
    pub text: String,
}

/// `report.toml`'s settings that differ between two project folders.
pub fn settings(old_root: &Path, new_root: &Path) -> Vec<SettingDiff> {
    let (old, new) = (flat_settings(old_root), flat_settings(new_root));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| SettingDiff {
            key: k.clone(),
            old: old.get(k).cloned(),
            new: new.get(k).cloned(),
        })
        .collect()
}

/// Every value of `report.toml` by its dotted key. The file was loaded
/// before, so it is known to be readable TOML.
fn flat_settings(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Read as every project file is: confined, never through a link out
    // of the project or into `.git`.
    let table = Root::new(root)
        .read(MANIFEST)
        .ok()
        .and_then(|bytes| crate::load::project::decode(MANIFEST, bytes).ok())
        .and_then(|text| text.parse::<toml::Table>().ok())
        .unwrap_or_default();
    for (key, value) in &table {
        flatten(key, value, &mut out);
    }
    out
}

fn flatten(key: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                flatten(&format!("{key}.{k}"), v, out);
            }
        }
        // Tables in a list by their `id` where each has one (agencies), so
        // that reordering them is no change of every setting.
        toml::Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|v| v.get("id").is_some_and(|id| id.is_str())) =>
        {
            for item in items {
                let id = item
                    .get("id")
                    .and_then(|id| id.as_str())
                    .unwrap_or_default();
                flatten(&format!("{key}.{id}"), item, out);
            }
        }
        toml::Value::Array(items) if items.iter().any(|v| v.is_table()) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{key}[{i}]"), item, out);
            }
        }
        other => {
            out.insert(key.to_string(), other.to_string());
        }
    }
}

/// The files of a project that `diff` compares by name: templates, the
/// project's fonts (they set text in every edition), every file beside the
/// chapters that is not a chapter's text or translation record (images,
/// mostly), and every image a chapter references wherever it is in the
/// project (a site-rooted `/images/x.png`). Hidden files are left out.
fn files(project: &Project) -> Vec<String> {
    let root = &project.root;
    let mut out = Vec::new();
    for top in ["chapters", "templates", crate::typeset::fonts::FOLDER] {
        walk(root, top, &mut out);
    }
    out.retain(|rel| {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let chapter_file = rel.starts_with("chapters/")
            && rel.matches('/').count() == 2
            && matches!(name, "en.md" | "ja.md" | "translation.toml");
        !chapter_file
    });
    // Only the images the chapters use, not the whole project folder; one
    // that is not there is no file of this version (the build says so),
    // but a link or folder by its name is, and reading it will say why it
    // cannot be compared.
    let confined = Root::new(root);
    out.extend(
        referenced_images(project)
            .into_iter()
            .filter(|rel| confined.has_entry(rel)),
    );
    out.sort();
    out.dedup();
    out
}

/// The project paths of the images the chapters reference, in either
/// language, as markdown images or raw HTML `<img>`, resolved as the build
/// resolves them.
fn referenced_images(project: &Project) -> Vec<String> {
    let mut out = Vec::new();
    for chapter in &project.chapters {
        for lang in Lang::ALL {
            let Some(text) = chapter.text(lang) else {
                continue;
            };
            let arena = Arena::new();
            let doc = markdown::parse(&arena, &text.text, &markdown::options_for(&text.text));
            for node in doc.descendants() {
                let sources = match &node.data().value {
                    NodeValue::Image(link) => vec![link.url.clone()],
                    // `<img>` in raw HTML shows in every edition too.
                    NodeValue::HtmlInline(html) => markdown::html_image_sources(html),
                    NodeValue::HtmlBlock(block) => markdown::html_image_sources(&block.literal),
                    _ => continue,
                };
                out.extend(
                    sources
                        .iter()
                        .filter_map(|src| markdown::image_rel(&chapter.dir(), src)),
                );
            }
        }
    }
    out
}

fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = format!("{rel}/{name}");
        // Links are not followed: they are no file of the project.
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(root, &path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn kind(rel: &str) -> &'static str {
    let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if rel.starts_with("templates/") {
        "template"
    } else if rel.starts_with(&format!("{}/", crate::typeset::fonts::FOLDER)) {
        "font"
    } else if matches!(
        ext.as_deref(),
        Some("svg" | "png" | "jpg" | "jpeg" | "gif" | "webp")
    ) {
        "image"
    } else {
        "file"
    }
}

fn info(bytes: &[u8]) -> FileInfo {
    let hash = Sha256::digest(bytes);
    FileInfo {
        size: bytes.len() as u64,
        sha256: hash.iter().take(6).map(|b| format!("{b:02x}")).collect(),
    }
}

/// The files that were added, removed or changed, and the problems of
/// the old and the new version: a file that cannot be read is an error at
/// that file and is left out, never compared as if it were empty.
/// `renamed` maps an old chapter folder to its new name, so that an image
/// beside a renamed chapter is compared with itself.
pub fn file_diffs(
    old_project: &Project,
    new_project: &Project,
    renamed: &HashMap<String, String>,
) -> (Vec<FileDiff>, [Vec<Diagnostic>; 2]) {
    let rename = |rel: &str| -> String {
        let mut parts = rel.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("chapters"), Some(slug), Some(rest)) if renamed.contains_key(slug) => {
                format!("chapters/{}/{rest}", renamed[slug])
            }
            _ => rel.to_string(),
        }
    };
    let old: BTreeMap<String, String> = files(old_project)
        .into_iter()
        .map(|f| (rename(&f), f))
        .collect();
    let new = files(new_project);
    let (old_root, new_root) = (Root::new(&old_project.root), Root::new(&new_project.root));
    let (mut old_errors, mut new_errors) = (Vec::new(), Vec::new());
    let read = |root: &Root, rel: &str, errors: &mut Vec<Diagnostic>| match root.read(rel) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            errors.push(err.diagnostic(rel));
            None
        }
    };
    let mut out = Vec::new();
    for rel in &new {
        let now = read(&new_root, rel, &mut new_errors);
        let Some(was_at) = old.get(rel) else {
            if let Some(now) = now {
                out.push(FileDiff {
                    file: rel.clone(),
                    kind: kind(rel),
                    status: Status::Added,
                    old: None,
                    new: Some(info(&now)),
                    lines: vec![],
                });
            }
            continue;
        };
        let was = read(&old_root, was_at, &mut old_errors);
        let (Some(was), Some(now)) = (was, now) else {
            continue;
        };
        if was == now {
            continue;
        }
        let lines = if kind(rel) == "template" {
            line_diffs(
                &String::from_utf8_lossy(&was),
                &String::from_utf8_lossy(&now),
            )
        } else {
            vec![]
        };
        out.push(FileDiff {
            file: rel.clone(),
            kind: kind(rel),
            status: Status::Changed,
            old: Some(info(&was)),
            new: Some(info(&now)),
            lines,
        });
    }
    for (renamed, rel) in &old {
        if !new.contains(renamed)
            && let Some(was) = read(&old_root, rel, &mut old_errors)
        {
            out.push(FileDiff {
                file: rel.clone(),
                kind: kind(rel),
                status: Status::Removed,
                old: Some(info(&was)),
                new: None,
                lines: vec![],
            });
        }
    }
    (out, [old_errors, new_errors])
}

/// The lines deleted and inserted between two texts, each with its line
/// number in its own version.
fn line_diffs(old: &str, new: &str) -> Vec<LineDiff> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter_map(|c| {
            let (op, line) = match c.tag() {
                ChangeTag::Equal => return None,
                ChangeTag::Delete => (crate::review::Op::Delete, c.old_index()?),
                ChangeTag::Insert => (crate::review::Op::Insert, c.new_index()?),
            };
            Some(LineDiff {
                op,
                line: line + 1,
                text: c.value().trim_end_matches(['\n', '\r']).to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_flattened_by_key_and_agencies_by_id() {
        let table: toml::Table = "title = { en = \"A\" }\n[[agencies]]\nid = \"sg\"\nname = { en = \"GovTech\" }\n[layout]\ndraft = true\n"
            .parse()
            .unwrap();
        let mut out = BTreeMap::new();
        for (k, v) in &table {
            flatten(k, v, &mut out);
        }
        let keys: Vec<(&str, &str)> = out.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("agencies.sg.id", "\"sg\""),
                ("agencies.sg.name.en", "\"GovTech\""),
                ("layout.draft", "true"),
                ("title.en", "\"A\""),
            ]
        );
    }

    #[test]
    fn template_lines_carry_their_own_numbers() {
        let d = line_diffs("a\nb\nc\n", "a\nB\nc\nd\n");
        let got: Vec<(crate::review::Op, usize, &str)> =
            d.iter().map(|l| (l.op, l.line, l.text.as_str())).collect();
        use crate::review::Op::*;
        assert_eq!(got, [(Delete, 2, "b"), (Insert, 2, "B"), (Insert, 4, "d")]);
    }
}
