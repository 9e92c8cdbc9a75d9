//! Any text, as an English and a Japanese chapter, must convert to a Typst
//! module without a syntax error, lay out and export to PDF, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renga::model::lang::Lang;
use renga::markdown;
use renga::pipeline;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let root = std::env::temp_dir();
    for lang in [Lang::En, Lang::Ja] {
        let converted = markdown::convert_text(&root, text, lang);
        let (errors, _) = typst::syntax::parse(&converted.source).errors_and_warnings();
        assert!(errors.is_empty(), "{errors:?}\n{}", converted.source);
    }
    // Problems in the author's text are renga's diagnostics; the Typst it
    // leaves behind must still typeset and export.
    let (outputs, diags) = pipeline::typeset_text(text).expect("a temporary project");
    let typst_errors: Vec<_> = diags
        .items
        .iter()
        .filter(|d| d.is_error() && d.code == "typst")
        .collect();
    assert!(typst_errors.is_empty(), "{typst_errors:?}");
    // Only a text that opens front matter and breaks it is not a chapter.
    if outputs.is_empty() && diags.items.iter().any(|d| matches!(d.code, "front-matter" | "toml")) {
        return;
    }
    assert_eq!(outputs.len(), 2, "{:?}", diags.items);
    for output in outputs {
        assert!(output.pdf.is_some(), "{} did not export: {:?}", output.edition.code(), diags.items);
    }
});
