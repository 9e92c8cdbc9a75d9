//! The commands: one driver per command, over the stages below.

pub mod args;
pub mod check;
pub mod compile;
pub mod init;
pub mod serve;
pub mod status;
pub mod terms;
pub mod watch;
