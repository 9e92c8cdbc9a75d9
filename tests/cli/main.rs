//! renga's integration tests: one binary (typst is linked once), a module
//! per area, each test a session with the real `renga` binary on a
//! temporary project (`common`), read back as a reader would.

mod common;

mod authors;
mod bilingual;
mod bounds;
mod browser;
mod commonmark;
mod compile;
mod fixtures;
mod real_documents;
mod review;
mod safety;
mod serve;
mod status;
mod terms;
#[cfg(unix)]
mod trust;
mod watch;
mod web;
mod xliff;
