//! `renga watch`: being written.

use crate::args::WatchArgs;

pub fn run(_args: &WatchArgs, _quiet: bool) -> i32 {
    1
}
