//! The `tradelane` command line.

mod mock;
mod serve;
mod x12;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tradelane: carrier and EDI integration gateway.
#[derive(Debug, Parser)]
#[command(name = "tradelane", version, about)]
pub struct Cli {
    /// Folder holding `x12/` schemas and `partners/` profiles.
    #[arg(long, global = true, env = "TRADELANE_MAPPINGS")]
    mappings: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check, translate and render X12.
    #[command(subcommand)]
    X12(x12::X12Command),
    /// Run the gateway.
    Serve(serve::ServeArgs),
    /// Run local mock carriers (UPS, FedEx, USPS, DHL Express, Canada Post).
    MockCarriers(mock::MockArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(serve::KeysCommand),
}

/// Runs the command line; the exit code is 1 for rejected input, 2 for usage or I/O errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mappings = cli.mappings.clone().unwrap_or_else(default_mappings);
    let result = match cli.command {
        Command::X12(cmd) => x12::run(cmd, &mappings),
        Command::Serve(args) => serve::serve(args, cli.mappings.clone()),
        Command::Keys(cmd) => serve::keys(cmd),
        Command::MockCarriers(args) => mock::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

use crate::app::default_mappings;

pub use crate::x12::writer::now_utc;
