//! The `lambent` binary: parse the command line, then hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // A sandbox's waiter is this binary re-executed; it never gets past this line.
    lambent_sandbox::waiter::main_hook();
    let cli = lambent::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lambent: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(lambent::cli::main(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lambent: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
