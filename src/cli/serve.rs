//! `tradelane serve` and `tradelane keys`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::app::Application;
use crate::config::Config;
use crate::store::{Scope, Store};

/// Options of `serve` (each overrides the file and the environment).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (default `./tradelane.toml` when present).
    #[arg(long, env = "TRADELANE_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address.
    #[arg(long)]
    listen: Option<String>,
    /// `sqlite:PATH` (default `sqlite:data/tradelane.db`) or `postgres://…`.
    #[arg(long)]
    database_url: Option<String>,
    /// Log as JSON lines.
    #[arg(long)]
    json_logs: bool,
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once and only its hash is stored.
    Create {
        /// Partner, dealer or client id the key acts for.
        #[arg(long)]
        owner: String,
        /// Scopes: x12:write, documents:write, documents:read, admin (repeatable).
        #[arg(long = "scope", required = true)]
        scopes: Vec<Scope>,
        /// Configuration file.
        #[arg(long, env = "TRADELANE_CONFIG")]
        config: Option<PathBuf>,
        /// Database URL.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Revoke a key by its id (the part after `tl_`).
    Revoke {
        /// Key id.
        key_id: String,
        /// Configuration file.
        #[arg(long, env = "TRADELANE_CONFIG")]
        config: Option<PathBuf>,
        /// Database URL.
        #[arg(long)]
        database_url: Option<String>,
    },
}

impl clap::ValueEnum for Scope {
    fn value_variants<'a>() -> &'a [Self] {
        &Scope::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRADELANE_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Runs the gateway until SIGINT/SIGTERM.
pub fn serve(args: ServeArgs, mappings: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(u) = args.database_url {
        config.database_url = u;
    }
    if mappings.is_some() {
        config.mappings = mappings;
    }
    init_logs(args.json_logs || config.log_format == "json");
    runtime()?.block_on(async move {
        let app = Application::build(config).await?;
        tracing::info!(port = app.port(), "tradelane listening");
        app.run_until_stopped(std::future::pending()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn open(config: Option<PathBuf>, url: Option<String>) -> anyhow::Result<Store> {
    let mut c = Config::load(config.as_deref())?;
    if let Some(u) = url {
        c.database_url = u;
    }
    Ok(Store::connect(&c.database_url, 1).await?)
}

/// Key management.
pub fn keys(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            KeysCommand::Create {
                owner,
                scopes,
                config,
                database_url,
            } => {
                let store = open(config, database_url).await?;
                let key = store.create_key(&owner, &scopes).await?;
                println!("{}", key.token);
                eprintln!("key {} for {owner}: store it now, it is not shown again", key.key_id);
            }
            KeysCommand::Revoke {
                key_id,
                config,
                database_url,
            } => {
                let store = open(config, database_url).await?;
                if !store.revoke_key(&key_id).await? {
                    anyhow::bail!("no active key {key_id}");
                }
                eprintln!("key {key_id} revoked");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
