//! `renga init`: a new report project that compiles at once, with an
//! example chapter in both languages that shows every feature.

use std::path::Path;

use crate::args::InitArgs;
use crate::template;

/// The files of a new project, relative to its folder.
const FILES: &[(&str, &str)] = &[
    ("report.toml", include_str!("init/report.toml")),
    (
        "chapters/01-getting-started/en.md",
        include_str!("init/en.md"),
    ),
    (
        "chapters/01-getting-started/ja.md",
        include_str!("init/ja.md"),
    ),
    (
        "chapters/01-getting-started/example.svg",
        include_str!("init/example.svg"),
    ),
    ("data/sg/example.toml", include_str!("init/sg.toml")),
    ("data/jp/example.toml", include_str!("init/jp.toml")),
    (".gitignore", "/out\n"),
];

pub fn run(args: &InitArgs, quiet: bool) -> i32 {
    match create(&args.dir, !args.bare) {
        Ok(count) => {
            if !quiet {
                eprintln!(
                    "created a report project in {} ({count} files)",
                    args.dir.display()
                );
                eprintln!("next: renga compile {}", args.dir.display());
            }
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

/// Writes the project; refuses, writing nothing, if any file exists.
pub fn create(dir: &Path, templates: bool) -> Result<usize, String> {
    let mut files: Vec<(String, &str)> = FILES.iter().map(|(p, t)| (p.to_string(), *t)).collect();
    if templates {
        files.extend(
            template::DEFAULTS
                .iter()
                .map(|(name, text)| (format!("templates/{name}"), *text)),
        );
    }
    if dir.join("report.toml").exists() {
        return Err(format!(
            "{} is already a report project (it has report.toml); nothing was written",
            dir.display()
        ));
    }
    if let Some((path, _)) = files.iter().find(|(p, _)| dir.join(p).exists()) {
        return Err(format!(
            "{} already exists; nothing was written",
            dir.join(path).display()
        ));
    }
    for (path, text) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&target, text)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(files.len())
}
