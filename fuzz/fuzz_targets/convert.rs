//! Any text, converted as an English and as a Japanese chapter, must give a
//! Typst module without a syntax error, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renga::lang::Lang;
use renga::markdown;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let root = std::env::temp_dir();
    for lang in [Lang::En, Lang::Ja] {
        let converted = markdown::convert_text(&root, text, lang);
        let (errors, _) = typst::syntax::parse(&converted.source).errors_and_warnings();
        assert!(errors.is_empty(), "{errors:?}\n{}", converted.source);
    }
});
