//! `tradelane mock-carriers`: the five mock carriers and the mock Northstar OEM
//! on local ports, for demos and manual tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::connectors::mock;

/// Options of `mock-carriers`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// First port; the carriers take this one and the next four (ups, fedex, usps, dhl, canadapost), the OEM the one after.
    #[arg(long, default_value_t = 9101)]
    port: u16,
    /// Delay before every answer (ms).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Folder with one sub-folder of responses per carrier.
    #[arg(long, default_value = "fixtures/carriers")]
    fixtures: PathBuf,
}

/// Runs the mocks until Ctrl-C; prints the `[carriers.*]` configuration that points at them.
pub fn run(args: MockArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let fixtures = if args.fixtures.is_dir() {
            args.fixtures
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/carriers")
        };
        let fixtures_dir = fixtures.clone();
        let running = mock::start_all(fixtures, args.port, 2)?;
        for m in &running {
            m.state.set_latency(Duration::from_millis(args.latency_ms));
            println!(
                "[carriers.{}]\nbase_url = \"{}\"\n{}\n",
                m.carrier,
                m.base_url,
                mock::credentials(m.carrier)
            );
        }
        let oem_fixtures = fixtures_dir.join("../oem");
        let oem_port = if args.port == 0 { 0 } else { args.port + 5 };
        let oem = mock::start(mock::oem::mock(), oem_fixtures, &format!("127.0.0.1:{oem_port}"), 2)?;
        // The OEM is configured in mappings/oem/northstar.toml, not in tradelane.toml: say so on stderr.
        eprintln!(
            "mock OEM northstar on {}: set base_url to it in mappings/oem/northstar.toml and \
             TRADELANE_NORTHSTAR_CLIENT_SECRET={}",
            oem.base_url,
            mock::oem::CLIENT_SECRET
        );
        eprintln!("mock carriers running; POST /__mock/control {{\"latency_ms\":50,\"fail_next\":[429]}} to inject faults; Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
