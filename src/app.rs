//! Wiring: store, mappings, outbox and HTTP server, built from a [`Config`].
//! Tests build an [`Application`] on port 0 and talk to it over loopback.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tokio::sync::watch;

use crate::config::Config;
use crate::flow::Gateway;
use crate::mapping::Partners;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::store::Store;
use crate::x12::schema::Registry;

/// A built, not yet running gateway.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    gateway: web::Data<Gateway>,
    stop: watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// `./mappings` when it exists, else the one in the source tree.
pub fn default_mappings() -> PathBuf {
    let local = std::path::Path::new("mappings");
    if local.join("x12").is_dir() {
        local.to_path_buf()
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
    }
}

impl Application {
    /// Connects the store (applying migrations), loads mappings, binds the listener and starts the outbox.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let mappings = config.mappings.clone().unwrap_or_else(default_mappings);
        let registry = Arc::new(Registry::load(&mappings.join("x12")).context("loading X12 schemas")?);
        let partners = Arc::new(Partners::load(&mappings.join("partners")).context("loading partner profiles")?);
        for id in config.partners.keys() {
            partners.get(id).with_context(|| format!("partners.{id} in the configuration"))?;
        }
        let store = Store::connect(&config.database_url, config.database_connections)
            .await
            .context("opening the database")?;
        let metrics = Arc::new(Metrics::default());
        let carriers = Arc::new(crate::connectors::carriers::Carriers::new(&config.carriers).map_err(anyhow::Error::msg)?);
        let landed_cost =
            Arc::new(crate::connectors::landed_cost::LandedCostProviders::new(&config.landed_cost).map_err(anyhow::Error::msg)?);
        let outbox = if config.outbox.enabled {
            Some(Outbox::new(store.clone(), &config, metrics.clone())?)
        } else {
            None
        };
        let listener = TcpListener::bind(&config.listen).with_context(|| format!("binding {}", config.listen))?;
        let port = listener.local_addr()?.port();
        let workers = config.http_workers.max(1);
        let overdue_every = Duration::from_secs(config.overdue_check_secs.max(1));
        let gateway = web::Data::new(Gateway {
            store: store.clone(),
            registry,
            partners,
            config,
            carriers,
            landed_cost,
            outbox: outbox.clone(),
            metrics,
        });
        let data = gateway.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap_fn(crate::http::observe)
                .configure(crate::http::routes)
        })
        .workers(workers)
        .shutdown_timeout(10)
        .disable_signals()
        .listen(listener)?
        .run();
        let (stop, stop_rx) = watch::channel(false);
        let mut background = Vec::new();
        if let Some(o) = outbox {
            background.push(tokio::spawn(o.run(stop_rx.clone())));
        }
        background.push(tokio::spawn(overdue_sweeper(store, overdue_every, stop_rx.clone())));
        background.push(tokio::spawn(tracking_poller(gateway.clone(), stop_rx)));
        Ok(Self {
            port,
            server,
            gateway,
            stop,
            background,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared gateway state (store, mappings).
    pub fn gateway(&self) -> web::Data<Gateway> {
        self.gateway.clone()
    }

    /// Serves until SIGINT/SIGTERM (or `shutdown`), then shuts down in order:
    /// stop accepting, finish requests, stop claiming, finish deliveries, release leases.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let server = tokio::spawn(self.server);
        tokio::select! {
            _ = shutdown => {}
            _ = wait_for_signal() => {}
        }
        tracing::info!("shutting down");
        // The outbox stops claiming at once; HTTP finishes its requests meanwhile.
        let _ = self.stop.send(true);
        handle.stop(true).await;
        let _ = server.await;
        for task in self.background {
            let _ = task.await;
        }
        self.gateway.store.close().await;
        Ok(())
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn tracking_poller(gateway: web::Data<Gateway>, mut stop: watch::Receiver<bool>) {
    // Due subscriptions are checked every second; each is polled at its own interval.
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = gateway.poll_tracking().await {
            tracing::error!(error = %e, "tracking poll failed");
        }
    }
}

async fn overdue_sweeper(store: Store, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match store.flag_overdue().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(documents = n, "acknowledgments overdue"),
            Err(e) => tracing::error!(error = %e, "overdue check failed"),
        }
    }
}
