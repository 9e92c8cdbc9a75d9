//! `renga xliff export` and `renga xliff import`: the blocks that need
//! translation handed to a translator's tool as XLIFF 1.2, and the
//! translations taken back into the chapters and their records.
//!
//! Which blocks need translation, and which block of the other language
//! each one pairs with, is what `renga status` shows: the chapter's
//! alignment through its record ([`translation::Aligned`]). A unit's id
//! names the chapter, the source language, the block's number and the hash
//! of its text, so an import finds the block again after edits elsewhere in
//! the chapter, and refuses it when the block itself changed.

mod export;
mod import;
pub mod segment;
pub mod xml;

use std::path::Path;

use crate::diag;
use crate::load::project::{self, Project};
use crate::model::lang::Lang;

pub use export::export;
pub use import::import;

/// What `extradata` says when the target language has no block yet.
const NO_TARGET: &str = "none";

fn load(root: &Path, format: diag::Format) -> Option<Project> {
    let mut diags = diag::Diagnostics::default();
    let project = project::load(root, &mut diags);
    let errors: Vec<_> = diags.items.into_iter().filter(|d| d.is_error()).collect();
    let _ = diag::emit(root, &errors, format);
    project.filter(|_| errors.is_empty())
}

/// The unit id: chapter, source language, block number (from 1) and hash.
fn unit_id(slug: &str, source: Lang, block: usize, hash: &str) -> String {
    format!("{slug}/{source}/{}/{hash}", block + 1)
}

struct UnitId {
    slug: String,
    source: Lang,
    block: usize,
    hash: String,
}

fn parse_id(id: &str) -> Option<UnitId> {
    let mut parts = id.split('/');
    let (slug, lang, block, hash) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(UnitId {
        slug: slug.to_string(),
        source: Lang::from_code(lang)?,
        block: block.parse::<usize>().ok()?.checked_sub(1)?,
        hash: hash.to_string(),
    })
}
