//! `tradelane mock-carriers`: the five mock carriers, the two mock landed-cost
//! services (Zonos-style, DHL Express) and the mock Northstar OEM on local
//! ports, for demos and manual tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::connectors::mock;

/// Options of `mock-carriers`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// First port; the carriers take this one and the next four (ups, fedex, usps, dhl, canadapost),
    /// the landed-cost services the two after (zonos, dhl), the OEM the one after those.
    #[arg(long, default_value_t = 9101)]
    port: u16,
    /// Delay before every answer (ms).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Folder with one sub-folder of responses per carrier.
    #[arg(long, default_value = "fixtures/carriers")]
    fixtures: PathBuf,
}

/// Runs the mocks until Ctrl-C; prints the `[carriers.*]` and `[landed_cost.*]` configuration that points at them.
pub fn run(args: MockArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let fixtures = if args.fixtures.is_dir() {
            args.fixtures
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/carriers")
        };
        let latency = Duration::from_millis(args.latency_ms);
        let running = mock::start_all(fixtures.clone(), args.port, 2)?;
        announce(&running, "carriers", mock::credentials, latency);
        // The landed-cost services take the two ports after the carriers.
        let lc_fixtures = fixtures
            .parent()
            .map(|p| p.join("landed_cost"))
            .filter(|p| p.is_dir())
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/landed_cost"));
        let first = if args.port == 0 { 0 } else { args.port + running.len() as u16 };
        let landed = mock::landed_cost::start_all(lc_fixtures, first, 2)?;
        announce(&landed, "landed_cost", mock::landed_cost::credentials, latency);
        let oem_port = if args.port == 0 { 0 } else { args.port + 7 };
        let oem_fixtures = fixtures.join("../oem");
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

/// Sets the latency of `mocks` and prints the `[section.<id>]` configuration that points at each.
fn announce(mocks: &[mock::RunningMock], section: &str, credentials: fn(&str) -> &'static str, latency: Duration) {
    for m in mocks {
        m.state.set_latency(latency);
        println!(
            "[{section}.{}]\nbase_url = \"{}\"\n{}\n",
            m.carrier,
            m.base_url,
            credentials(m.carrier)
        );
    }
}
