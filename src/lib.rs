//! renga compiles the joint Singapore–Japan Digital Government Report:
//! chapters in English and Japanese markdown, each agency's metrics in TOML
//! and minijinja templates, typeset in-process by typst into PDF editions.
//!
//! The pipeline has plain stages, each in its own module:
//! [`project`] loads, [`markdown`] converts, [`template`] lays out,
//! [`pipeline`] typesets and exports; [`compile`] and [`check`] drive it.

pub mod args;
pub mod atomic;
pub mod check;
pub mod compile;
pub mod confine;
pub mod diag;
pub mod diff;
pub mod diff_files;
pub mod escape;
pub mod fonts;
pub mod format;
pub mod git;
pub mod init;
pub mod lang;
pub mod markdown;
pub mod pairing;
pub mod parallel;
pub mod pipeline;
pub mod project;
pub mod review;
pub mod status;
pub mod svg;
pub mod template;
pub mod translation;
pub mod watch;
pub mod web;
pub mod world;
pub mod xliff;
