//! The fonts a report is typeset with: those bundled in renga (typst's own
//! Libertinus Serif, New Computer Modern and DejaVu Sans Mono; Noto Serif JP,
//! Noto Sans JP and Noto Emoji), then the project's own from its `fonts/`
//! folder, for scripts the bundled fonts lack. Fonts installed on the
//! machine are never used, so the same sources give the same PDF anywhere.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst_kit::fonts::FontStore;

use crate::diag::{Diagnostic, Diagnostics, Location};

/// The project folder that holds its own fonts.
pub const FOLDER: &str = "fonts";

const BUNDLED_FONTS: &[&[u8]] = &[
    include_bytes!("../../assets/fonts/NotoSerifJP-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSerifJP-Bold.ttf"),
    include_bytes!("../../assets/fonts/NotoSansJP-Regular.ttf"),
    include_bytes!("../../assets/fonts/NotoSansJP-Bold.ttf"),
    include_bytes!("../../assets/fonts/NotoEmoji-Regular.ttf"),
];

/// The bundled fonts, parsed once per process.
fn bundled() -> &'static [(Font, FontInfo)] {
    static BUNDLED: OnceLock<Vec<(Font, FontInfo)>> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        let mut fonts: Vec<(Font, FontInfo)> = typst_kit::fonts::embedded().collect();
        for data in BUNDLED_FONTS {
            for font in Font::iter(Bytes::new(*data)) {
                let info = font.info().clone();
                fonts.push((font, info));
            }
        }
        fonts
    })
}

/// A project's fonts: the bundled ones first, then its own.
pub struct Fonts {
    store: FontStore,
    /// Every character some font has a glyph for, one bit each: typst's own
    /// coverage test walks a font's runs one by one, thousands for a
    /// Japanese font, too slow to ask for every character of a book.
    coverage: Vec<u64>,
    /// The project's own font files, relative to the project root.
    pub files: Vec<String>,
    /// A digest of the project's own fonts, for the PDF identifier.
    pub digest: [u8; 32],
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").field("files", &self.files).finish()
    }
}

impl Fonts {
    /// The bundled fonts alone.
    pub fn bundled() -> Arc<Fonts> {
        static ONLY: OnceLock<Arc<Fonts>> = OnceLock::new();
        ONLY.get_or_init(|| Arc::new(Self::with(Vec::new(), Vec::new())))
            .clone()
    }

    fn with(own: Vec<(String, Vec<u8>)>, files: Vec<String>) -> Fonts {
        let mut store = FontStore::new();
        store.extend(bundled().iter().cloned());
        let mut hasher = Sha256::new();
        for (name, data) in own {
            hasher.update(name.as_bytes());
            hasher.update(&data);
            for font in Font::iter(Bytes::new(data)) {
                let info = font.info().clone();
                store.push((font, info));
            }
        }
        let mut coverage = vec![0u64; (char::MAX as usize + 1).div_ceil(64)];
        let book = store.book();
        for info in (0..).map_while(|i| book.info(i)) {
            for c in info.coverage.iter() {
                if let Some(word) = coverage.get_mut(c as usize / 64) {
                    *word |= 1 << (c % 64);
                }
            }
        }
        Fonts {
            store,
            coverage,
            files,
            digest: hasher.finalize().into(),
        }
    }

    /// The bundled fonts and those in the project's `fonts/` folder (`.ttf`,
    /// `.otf`, `.ttc`, `.otc`, in name order; other files, such as licence
    /// texts, are left alone). A file that is no font typst can read is an
    /// error; a link leading out of the project is refused.
    pub fn load(root: &Path, diags: &mut Diagnostics) -> Arc<Fonts> {
        let dir = root.join(FOLDER);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Self::bundled();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                let lower = n.to_ascii_lowercase();
                [".ttf", ".otf", ".ttc", ".otc"]
                    .iter()
                    .any(|ext| lower.ends_with(ext))
            })
            .collect();
        if names.is_empty() {
            return Self::bundled();
        }
        names.sort();
        // Read as every project file is: confined to the project, and
        // never under `.git`.
        let files = crate::load::confine::Root::new(root);
        let mut own = Vec::new();
        let mut loaded = Vec::new();
        for name in names {
            let rel = format!("{FOLDER}/{name}");
            let data = match files.read(&rel) {
                Ok(data) => data,
                Err(err) => {
                    diags.push(err.diagnostic(&rel));
                    continue;
                }
            };
            if Font::iter(Bytes::new(data.clone())).next().is_none() {
                diags.push(
                    Diagnostic::error("font", format!("{rel} is not a font renga can read"))
                        .at(Location::file(&rel))
                        .hint("use TrueType or OpenType fonts (.ttf, .otf, .ttc, .otc)"),
                );
                continue;
            }
            loaded.push(rel);
            own.push((name, data));
        }
        Arc::new(Self::with(own, loaded))
    }

    pub fn book(&self) -> &LazyHash<FontBook> {
        self.store.book()
    }

    pub fn font(&self, index: usize) -> Option<Font> {
        self.store.font(index)
    }

    /// Whether some font can show `c` (typst falls back to any font in the
    /// book that covers a character).
    pub fn covers(&self, c: char) -> bool {
        let covered = self
            .coverage
            .get(c as usize / 64)
            .is_some_and(|bits| bits & (1 << (c as usize % 64)) != 0);
        covered || c.is_whitespace() || c.is_control() || is_default_ignorable(c)
    }
}

/// Characters that are never drawn (joiners, variation selectors, …).
fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}
