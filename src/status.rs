//! `renga status` and `renga translated`: being written (issue 5).

use crate::args::{StatusArgs, TranslatedArgs};

pub fn run(_args: &StatusArgs, _quiet: bool) -> i32 {
    eprintln!("error: renga status is not implemented yet");
    1
}

pub fn record(_args: &TranslatedArgs, _quiet: bool) -> i32 {
    eprintln!("error: renga translated is not implemented yet");
    1
}
