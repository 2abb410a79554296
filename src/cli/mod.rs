//! The `tradelane` command line.

mod x12;

use std::path::{Path, PathBuf};
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
}

/// Runs the command line; the exit code is 1 for rejected input, 2 for usage or I/O errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mappings = cli.mappings.clone().unwrap_or_else(default_mappings);
    let result = match cli.command {
        Command::X12(cmd) => x12::run(cmd, &mappings),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `./mappings` when it exists, else the one in the source tree.
fn default_mappings() -> PathBuf {
    let local = Path::new("mappings");
    if local.join("x12").is_dir() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
    }
}

/// Current UTC date (CCYYMMDD) and time (HHMM).
pub fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (format!("{y:04}{m:02}{d:02}"), format!("{:02}{:02}", rem / 3600, (rem % 3600) / 60))
}
