//! `onestop`: wiring only; see `cli.rs` for the commands.

fn main() -> std::process::ExitCode {
    onestop_server::cli::main()
}
