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
