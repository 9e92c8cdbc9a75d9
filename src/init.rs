//! `renga init`: being written.

use crate::args::InitArgs;

pub fn run(_args: &InitArgs, _quiet: bool) -> i32 {
    1
}
