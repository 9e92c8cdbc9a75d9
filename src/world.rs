//! The typst `World` renga compiles in: generated sources served from memory,
//! the project's files (images) read from disk but never from outside the
//! project, only bundled fonts, and the report's own date as "today".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::FontStore;

use crate::confine;
use crate::project::Date;

/// The fonts renga typesets with: typst's own (Libertinus Serif, New
/// Computer Modern, DejaVu Sans Mono) and the bundled Noto JP families.
/// Fonts installed on the machine are never used, so output is the same
/// everywhere.
pub fn fonts() -> &'static FontStore {
    static FONTS: OnceLock<FontStore> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut store = FontStore::new();
        store.extend(typst_kit::fonts::embedded());
        for data in BUNDLED_FONTS {
            for font in Font::iter(Bytes::new(*data)) {
                let info = font.info().clone();
                store.push((font, info));
            }
        }
        store
    })
}

const BUNDLED_FONTS: &[&[u8]] = &[
    include_bytes!("../fonts/NotoSerifJP-Regular.ttf"),
    include_bytes!("../fonts/NotoSerifJP-Bold.ttf"),
    include_bytes!("../fonts/NotoSansJP-Regular.ttf"),
    include_bytes!("../fonts/NotoSansJP-Bold.ttf"),
    include_bytes!("../fonts/NotoEmoji-Regular.ttf"),
];

/// Whether some bundled font can show `c` (typst falls back to any font
/// in the book that covers a character).
pub fn covers(c: char) -> bool {
    let covered = coverage()
        .get(c as usize / 64)
        .is_some_and(|bits| bits & (1 << (c as usize % 64)) != 0);
    covered || c.is_whitespace() || c.is_control() || is_default_ignorable(c)
}

/// Every character some bundled font has a glyph for, one bit each, built
/// once. typst's own test (`Coverage::contains`) walks a font's coverage
/// runs one by one, thousands for a Japanese font: asked for every distinct
/// character of every chapter, it took most of the conversion of a book.
fn coverage() -> &'static [u64] {
    static COVERAGE: OnceLock<Vec<u64>> = OnceLock::new();
    COVERAGE.get_or_init(|| {
        let mut bits = vec![0u64; (char::MAX as usize + 1).div_ceil(64)];
        let book = fonts().book();
        for info in (0..).map_while(|i| book.info(i)) {
            for c in info.coverage.iter() {
                if let Some(word) = bits.get_mut(c as usize / 64) {
                    *word |= 1 << (c % 64);
                }
            }
        }
        bits
    })
}

/// Characters that are never drawn (joiners, variation selectors, …).
fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// The file id of a virtual path in the project, e.g. `/chapters/a/en.md.typ`.
pub fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path)
        .unwrap_or_else(|_| VirtualPath::new("/invalid").expect("valid path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// Everything a compile reads, shared by the editions.
pub struct Sources {
    root: PathBuf,
    library: LazyHash<Library>,
    /// Generated Typst, by file id; kept between compiles so typst's caches
    /// see unchanged sources as unchanged.
    sources: HashMap<FileId, Source>,
    /// Generated non-Typst files (the metrics attachment).
    data: HashMap<FileId, Bytes>,
    /// Files read from the project folder during this compile.
    files: Mutex<HashMap<FileId, FileResult<Bytes>>>,
    today: Datetime,
}

impl Sources {
    pub fn new(root: &Path, date: Date) -> Self {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let today = Datetime::from_ymd(i32::from(date.year), date.month, date.day)
            .unwrap_or_else(|| Datetime::from_ymd(1970, 1, 1).expect("valid date"));
        Self {
            root,
            library: LazyHash::new(Library::builder().build()),
            sources: HashMap::new(),
            data: HashMap::new(),
            files: Mutex::new(HashMap::new()),
            today,
        }
    }

    /// Sets a generated source, editing it in place when it already exists
    /// so that typst only re-lays out what changed.
    pub fn set_source(&mut self, path: &str, text: &str) -> FileId {
        let id = file_id(path);
        match self.sources.get_mut(&id) {
            Some(source) => {
                if source.text() != text {
                    source.replace(text);
                }
            }
            None => {
                self.sources.insert(id, Source::new(id, text.to_string()));
            }
        }
        id
    }

    /// [`Self::set_source`] for many sources: the new ones are parsed on
    /// every core (parsing a book's chapters is most of the time renga
    /// spends before typst lays them out).
    pub fn set_sources(&mut self, sources: &[(&str, &str)]) {
        let (known, new): (Vec<_>, Vec<_>) = sources
            .iter()
            .partition(|(path, _)| self.sources.contains_key(&file_id(path)));
        for (path, text) in known {
            self.set_source(path, text);
        }
        let parsed = crate::parallel::map(&new, |(path, text)| {
            Source::new(file_id(path), text.to_string())
        });
        for source in parsed {
            self.sources.insert(source.id(), source);
        }
    }

    pub fn set_today(&mut self, date: Date) {
        if let Some(today) = Datetime::from_ymd(i32::from(date.year), date.month, date.day) {
            self.today = today;
        }
    }

    pub fn set_data(&mut self, path: &str, data: Vec<u8>) {
        self.data.insert(file_id(path), Bytes::new(data));
    }

    pub fn source_text(&self, id: FileId) -> Option<&str> {
        self.sources.get(&id).map(Source::text)
    }

    /// Forgets files read from disk, so the next compile sees edits.
    pub fn reset_files(&mut self) {
        self.files.get_mut().map(HashMap::clear).unwrap_or_default();
    }

    /// The world for one edition, whose main file is `main`.
    pub fn world(&self, main: FileId) -> EditionWorld<'_> {
        EditionWorld {
            sources: self,
            main,
        }
    }

    /// The project files typst read (or tried to) in the last compile,
    /// relative to the project root: what a rebuild has to watch.
    pub fn read_paths(&self) -> Vec<String> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .keys()
            .filter(|id| matches!(id.root(), VirtualRoot::Project))
            .map(|id| id.vpath().get_without_slash().to_string())
            .collect()
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        let rel = id.vpath().get_without_slash();
        // Symlinks must not lead out of the project either.
        match confine::Root::new(&self.root).read(rel) {
            Ok(bytes) => Ok(Bytes::new(bytes)),
            Err(confine::ReadError::Missing { dangling: None }) => {
                Err(FileError::NotFound(self.root.join(rel)))
            }
            Err(confine::ReadError::NotAFile) if self.root.join(rel).is_dir() => {
                Err(FileError::IsDirectory)
            }
            Err(err) => Err(FileError::Other(Some(err.message(rel).into()))),
        }
    }
}

pub struct EditionWorld<'a> {
    sources: &'a Sources,
    main: FileId,
}

impl World for EditionWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.sources.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        fonts().book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if let Some(source) = self.sources.sources.get(&id) {
            return Ok(source.clone());
        }
        if matches!(id.root(), VirtualRoot::Package(_)) {
            return Err(FileError::Other(Some(
                "renga reports cannot import packages".into(),
            )));
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_string()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(source) = self.sources.sources.get(&id) {
            return Ok(Bytes::from_string(source.text().to_string()));
        }
        if let Some(data) = self.sources.data.get(&id) {
            return Ok(data.clone());
        }
        if matches!(id.root(), VirtualRoot::Package(_)) {
            return Err(FileError::Other(Some(
                "renga reports cannot import packages".into(),
            )));
        }
        let mut files = self.sources.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry(id)
            .or_insert_with(|| self.sources.read(id))
            .clone()
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().font(index)
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.sources.today)
    }
}
