use clap::Parser;
use gaugan::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => run(command),
        #[cfg(feature = "app")]
        None => gaugan::app::run_native(cli.app.options()).map_err(anyhow::Error::msg),
        #[cfg(not(feature = "app"))]
        None => Err(anyhow::anyhow!(
            "this build has no painting app (built without the `app` feature): give a subcommand, see --help"
        )),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
