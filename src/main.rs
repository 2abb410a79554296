//! The `tradelane` binary: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    tradelane::cli::main()
}
