use clap::Parser;

use renga::args::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Compile(args) => renga::compile::run(args, cli.quiet),
        Command::Check(args) => renga::check::run(args, cli.quiet),
    };
    std::process::exit(code);
}
