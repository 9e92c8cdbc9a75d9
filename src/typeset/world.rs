//! The typst `World` renga compiles in: generated sources served from memory,
//! the project's files (images) read from disk but never from outside the
//! project, the bundled fonts and the project's own (never the machine's),
//! and the report's own date as "today".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};

use crate::typeset::fonts::Fonts;
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::load::confine;
use crate::load::project::Date;
use crate::typeset::svg;

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
    fonts: Arc<Fonts>,
}

impl Sources {
    pub fn new(root: &Path, date: Date, fonts: Arc<Fonts>) -> Self {
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
            fonts,
        }
    }

    /// The fonts to typeset with, when the project's own may have changed.
    pub fn set_fonts(&mut self, fonts: Arc<Fonts>) {
        if fonts.digest != self.fonts.digest {
            self.fonts = fonts;
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
        let parsed = crate::typeset::parallel::map(&new, |(path, text)| {
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
            // Each SVG drawing once per PDF, however often it is shown.
            Ok(bytes) if svg::is_svg(rel) => match svg::too_much_text(&bytes) {
                Some(reason) => Err(FileError::Other(Some(format!("{rel} is {reason}").into()))),
                None => Ok(Bytes::new(svg::isolated(&bytes).unwrap_or(bytes))),
            },
            // A raster image typst would decode (one a template shows):
            // refused by its header when it would not fit the budget.
            Ok(bytes) => match crate::load::limits::raster_too_large(&bytes) {
                Some(reason) => Err(FileError::Other(Some(format!("{rel} is {reason}").into()))),
                None => Ok(Bytes::new(bytes)),
            },
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
        self.sources.fonts.book()
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
        self.sources.fonts.font(index)
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.sources.today)
    }
}
