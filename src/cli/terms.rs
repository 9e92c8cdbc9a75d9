//! `renga tbx export`: the glossary for translation tools.

use std::io::Write;

use crate::cli::args::TbxExportArgs;
use crate::diag::{self, Diagnostics, Format};

pub fn tbx_export(args: &TbxExportArgs, quiet: bool) -> i32 {
    let root = &args.project;
    let mut diags = Diagnostics::default();
    let Some(glossary) = crate::load::glossary::load(root, &mut diags) else {
        let _ = diag::emit(root, &diags.items, Format::Human);
        return 1;
    };
    let bytes = match crate::render::tbx::write(&glossary) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("error: cannot write the TBX document: {err}");
            return 1;
        }
    };
    let written = match &args.out {
        Some(path) => crate::publish::write(path, &bytes),
        None => std::io::stdout().lock().write_all(&bytes),
    };
    if let Err(err) = written {
        eprintln!("error: cannot write the TBX document: {err}");
        return 1;
    }
    if !quiet {
        eprintln!("{} term(s) exported", glossary.terms.len());
    }
    0
}

/// `renga tmx export`: every block pair the translation records show in
/// sync, as a TMX translation memory.
pub fn tmx_export(args: &TbxExportArgs, quiet: bool) -> i32 {
    use crate::model::lang::Lang;
    use crate::review::records::{self, Aligned, Record, Side};
    let root = &args.project;
    let mut diags = Diagnostics::default();
    let Some(project) = crate::load::project::load(root, &mut diags) else {
        let _ = diag::emit(root, &diags.items, Format::Human);
        return 1;
    };
    let mut pairs = Vec::new();
    for chapter in &project.chapters {
        let record = match Record::load(&project.root, &chapter.slug) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(d) => {
                let _ = diag::emit(root, &[d], Format::Human);
                return 1;
            }
        };
        let Ok(aligned) = Aligned::new(chapter, Some(&record)) else {
            continue;
        };
        // A block's own text, without the notes and title it carries.
        let own = |lang: Lang| -> Vec<String> {
            chapter.text(lang).map_or_else(Vec::new, |t| {
                records::units_carrying(&t.text)
                    .into_iter()
                    .map(|(b, c)| {
                        b.text
                            .strip_suffix(c.text.as_str())
                            .unwrap_or(&b.text)
                            .trim()
                            .to_string()
                    })
                    .collect()
            })
        };
        let (en, ja) = (own(Lang::En), own(Lang::Ja));
        for slot in &aligned.slots {
            if let (Side::Same(e), Side::Same(j)) = (slot.en, slot.ja)
                && let (Some(e), Some(j)) = (en.get(e), ja.get(j))
            {
                pairs.push((e.clone(), j.clone()));
            }
        }
    }
    let bytes = match crate::render::tmx::write(&pairs, env!("CARGO_PKG_VERSION")) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("error: cannot write the TMX document: {err}");
            return 1;
        }
    };
    let written = match &args.out {
        Some(path) => crate::publish::write(path, &bytes),
        None => std::io::stdout().lock().write_all(&bytes),
    };
    if let Err(err) = written {
        eprintln!("error: cannot write the TMX document: {err}");
        return 1;
    }
    if !quiet {
        eprintln!("{} pair(s) exported", pairs.len());
    }
    0
}
