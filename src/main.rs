//! The `tradelane` binary: parses the command line and hands over to the library.

// Documents are many small, short-lived strings; mimalloc serves them far
// faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tradelane::cli::main()
}
