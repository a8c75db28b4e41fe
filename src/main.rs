use clap::Parser;
use gaugan::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => run(command),
        None => gaugan::app::run_native(cli.app.options()).map_err(anyhow::Error::msg),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
