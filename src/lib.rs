//! renga compiles the joint Singapore–Japan Digital Government Report:
//! chapters in English and Japanese markdown, each agency's metrics in TOML
//! and minijinja templates, typeset in-process by typst into PDF editions.
//!
//! The folders read as the data's path, top to bottom:
//! [`cli`] (one driver per command) → [`review`] (diff, status, records) and
//! [`pipeline`] (the stages wired for an edition) → [`typeset`] (typst: the
//! world, fonts, layout iterations) and [`render`] (the Typst, HTML and XLIFF
//! writers, templates) → [`markdown`] (chapters parsed once) → [`load`]
//! (the project read from disk, confined to it) → [`model`] (plain types).
//! [`diag`] renders diagnostics; [`publish`] writes outputs all or nothing.

pub mod cli;
pub mod diag;
pub mod load;
pub mod markdown;
pub mod model;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod review;
pub mod typeset;
