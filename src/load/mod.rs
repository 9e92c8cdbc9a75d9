//! Reading the project from disk: `report.toml`, chapters and metrics
//! ([`project`]), every read confined to the project ([`confine`]), and
//! earlier revisions from git ([`git`]).

pub mod confine;
pub mod git;
pub mod glossary;
pub mod limits;
pub mod project;
