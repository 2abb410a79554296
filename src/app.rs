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
use crate::connectors::oem::Oems;
use crate::flow::Gateway;
use crate::mapping::Partners;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::replenishment::{Dealers, Route, Supersessions};
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
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let mappings = config.mappings.clone().unwrap_or_else(default_mappings);
        let registry = Arc::new(Registry::load(&mappings.join("x12")).context("loading X12 schemas")?);
        let partners = Arc::new(Partners::load(&mappings.join("partners")).context("loading partner profiles")?);
        for id in config.partners.keys() {
            partners.get(id).with_context(|| format!("partners.{id} in the configuration"))?;
        }
        let (dealers, supersessions, oems) = load_replenishment(&mappings, &partners, &mut config)?;
        let store = Store::connect(&config.database_url, config.database_connections)
            .await
            .context("opening the database")?;
        let metrics = Arc::new(Metrics::default());
        let carriers = Arc::new(crate::connectors::carriers::Carriers::new(&config.carriers).map_err(anyhow::Error::msg)?);
        let mut deliveries = None;
        let landed_cost =
            Arc::new(crate::connectors::landed_cost::LandedCostProviders::new(&config.landed_cost).map_err(anyhow::Error::msg)?);
        let outbox = if config.outbox.enabled {
            let outbox = Outbox::new(store.clone(), &config, metrics.clone())?;
            let observer = Arc::new(crate::flow::DealerDeliveries::new(
                store.clone(),
                dealers.clone(),
                oems.clone(),
                &outbox,
            ));
            outbox.observe(observer.clone());
            deliveries = Some(observer);
            Some(outbox)
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
            dealers,
            supersessions,
            oems,
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
        if let Some(d) = deliveries {
            // Deliveries finished by a process that stopped before applying them to their dealer orders.
            background.push(tokio::spawn(async move {
                match d.recover().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(orders = n, "dealer order deliveries applied after a restart"),
                    Err(e) => tracing::error!(error = %e, "dealer order recovery failed"),
                }
            }));
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

type Replenishment = (Arc<Dealers>, Arc<Supersessions>, Arc<Oems>);

/// Loads dealer policies, supersessions and OEM connectors, checks that each
/// dealer's route exists, and adds each OEM's outbox destination.
fn load_replenishment(mappings: &std::path::Path, partners: &Partners, config: &mut Config) -> anyhow::Result<Replenishment> {
    let dealers = Dealers::load(&mappings.join("dealers"), |k| std::env::var(k).ok()).context("loading dealer policies")?;
    let supersessions = Supersessions::load(&mappings.join("parts/supersessions.csv")).context("loading supersessions")?;
    for chain in supersessions.loops() {
        tracing::warn!(chain = %chain.join(" -> "), "supersession loop: orders for these parts are refused");
    }
    let oems = Oems::load(&mappings.join("oem")).context("loading OEM connectors")?;
    for d in dealers.iter() {
        match &d.route {
            Route::X12 { partner } => {
                partners.get(partner).with_context(|| format!("dealer {}: route.partner", d.id))?;
                if !config.partners.contains_key(partner) {
                    tracing::warn!(dealer = %d.id, %partner, "no destination for the partner: 850s are stored but not sent");
                }
            }
            Route::Oem { oem } if oems.get(oem).is_none() => anyhow::bail!("dealer {}: route.oem names unknown OEM {oem:?}", d.id),
            Route::Oem { .. } => {}
        }
        if let Some(why) = &d.webhook_off {
            tracing::warn!(dealer = %d.id, reason = %why, "dealer status webhooks are off");
        }
    }
    for o in oems.iter() {
        let mut dest = o.destination().clone();
        if dest.auth.as_ref().is_some_and(|a| !crate::outbox::Authorizer::new(a).has_secret()) {
            tracing::warn!(oem = %o.id, "OEM credentials are not configured: orders will wait in the outbox");
        }
        // A delivery must end before its lease does (a token fetch may precede it).
        let cap = (config.outbox.lease_ms.max(2) / 2) as u64;
        if dest.timeout_ms > cap {
            tracing::warn!(oem = %o.id, timeout_ms = cap, "OEM timeout shortened to half the outbox lease");
            dest.timeout_ms = cap;
        }
        config.destinations.entry(o.destination_name()).or_insert(dest);
    }
    Ok((Arc::new(dealers), Arc::new(supersessions), Arc::new(oems)))
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
