//! `renga diff`: being written (issue 5).

use crate::args::DiffArgs;

pub fn run(_args: &DiffArgs, _quiet: bool) -> i32 {
    eprintln!("error: renga diff is not implemented yet");
    1
}
