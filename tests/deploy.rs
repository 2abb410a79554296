//! The deployment files in `deploy/` against the code they configure: every embedded
//! `tradelane.toml` goes through the real loader and its cross-checks, every `TRADELANE_*`
//! name they use is one the gateway reads, the files they copy or mount exist, the probe
//! paths answer, and the stop timeouts leave room for the gateway's graceful shutdown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use tradelane::config::Config;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Files that name configuration variables.
const DEPLOY_FILES: &[&str] = &[
    "deploy/Dockerfile",
    "deploy/healthcheck.sh",
    "deploy/docker-compose.yml",
    "deploy/k8s/configmap.yaml",
    "deploy/k8s/deployment.yaml",
    "deploy/k8s/secret.yaml",
    "deploy/systemd/tradelane.service",
    "deploy/systemd/tradelane.env",
];

/// Every `TRADELANE_*` variable the program reads: the ones `Config::apply_env` asks for,
/// the `env = …` of the command line's flags, and the log filter.
fn known_variables() -> BTreeSet<String> {
    let asked = std::cell::RefCell::new(BTreeSet::new());
    Config::default()
        .apply_env(|name| {
            asked.borrow_mut().insert(name.to_string());
            None
        })
        .unwrap();
    let mut known = asked.into_inner();
    let mut stack = vec![tradelane::cli::Cli::command()];
    while let Some(cmd) = stack.pop() {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                known.insert(env.to_string_lossy().into_owned());
            }
        }
        stack.extend(cmd.get_subcommands().cloned());
    }
    // The log filter is read by the subscriber set-up, not by Config.
    assert!(
        read("src/cli/serve.rs").contains("\"TRADELANE_LOG\""),
        "TRADELANE_LOG is no longer read"
    );
    known.insert("TRADELANE_LOG".into());
    // Read by deploy/healthcheck.sh itself, with the same meaning as the gateway's.
    assert!(known.contains("TRADELANE_LISTEN"));
    known
}

/// `TRADELANE_*` words in a text.
fn variable_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("TRADELANE_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        // `TRADELANE_*` in prose names the family, not a variable.
        if end > "TRADELANE_".len() {
            names.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn deploy_files_name_only_variables_the_gateway_reads() {
    let known = known_variables();
    for file in DEPLOY_FILES {
        for name in variable_names(&read(file)) {
            assert!(
                known.contains(&name),
                "{file} sets {name}, which Tradelane does not read (known: {known:?})"
            );
        }
    }
}

/// `NAME → value` pairs a file assigns, in any of the forms the deploy files use:
/// `NAME: value` (compose, Secret), `- name: NAME` + `value: …` (Deployment),
/// `NAME=value` (env files, Dockerfile ENV, systemd Environment=; commented examples too).
fn assignments(text: &str) -> BTreeMap<String, String> {
    fn unquote(v: &str) -> String {
        let v = v.trim().trim_end_matches('\\').trim();
        v.trim_matches('"').trim_matches('\'').to_string()
    }
    let mut out = BTreeMap::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let line = line.trim().trim_start_matches('#').trim_start_matches("- ").trim();
        let line = line
            .strip_prefix("Environment=")
            .or_else(|| line.strip_prefix("ENV "))
            .unwrap_or(line);
        if let Some(name) = line.strip_prefix("name: ").filter(|n| n.starts_with("TRADELANE_")) {
            pending = Some(name.trim().to_string());
            continue;
        }
        if let (Some(name), Some(value)) = (pending.take(), line.strip_prefix("value: ")) {
            out.insert(name, unquote(value));
            continue;
        }
        if !line.starts_with("TRADELANE_") {
            continue;
        }
        let split = line.find([':', '=']).expect("a TRADELANE_ line assigns a value");
        out.insert(line[..split].to_string(), unquote(&line[split + 1..]));
    }
    out
}

/// Loads `text` as the gateway does: the file, then these variables, then the cross-checks.
fn load(what: &str, text: &str, env: &BTreeMap<String, String>) -> Config {
    let mut config = Config::parse(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    config
        .apply_env(|k| env.get(k).cloned())
        .unwrap_or_else(|e| panic!("{what} with {env:?}: {e}"));
    config.check().unwrap_or_else(|e| panic!("{what}: {e}"));
    // What Application::build checks before it opens anything.
    let partners = tradelane::mapping::Partners::load(&root().join("mappings/partners")).unwrap();
    for id in config.partners.keys() {
        partners.get(id).unwrap_or_else(|e| panic!("{what}: partners.{id}: {e}"));
    }
    tradelane::connectors::carriers::Carriers::new(&config.carriers).unwrap_or_else(|e| panic!("{what}: carriers: {e}"));
    config
}

/// The block scalar under `key: |` in a YAML file, de-indented.
fn block_scalar(yaml: &str, key: &str) -> String {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != format!("{key}: |"));
    lines.next().unwrap_or_else(|| panic!("no `{key}: |` block"));
    let body: Vec<&str> = lines.take_while(|l| l.trim().is_empty() || l.starts_with("    ")).collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter().map(|l| l.get(indent..).unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn example_configuration_loads() {
    let c = load("deploy/tradelane.toml", &read("deploy/tradelane.toml"), &BTreeMap::new());
    assert!(c.database_url.starts_with("sqlite:"));
    // The systemd unit and its env file on top of the example file.
    let mut env = assignments(&read("deploy/systemd/tradelane.service"));
    env.extend(assignments(&read("deploy/systemd/tradelane.env")));
    assert!(env.contains_key("TRADELANE_CONFIG"));
    load("deploy/tradelane.toml under systemd", &read("deploy/tradelane.toml"), &env);
}

#[test]
fn compose_configuration_loads_with_the_compose_environment() {
    let compose = read("deploy/docker-compose.yml");
    let env = assignments(&compose);
    assert_eq!(env["TRADELANE_CONFIG"], "/etc/tradelane/tradelane.toml");
    let c = load("deploy/compose/tradelane.toml", &read("deploy/compose/tradelane.toml"), &env);
    assert!(c.database_url.starts_with("postgres://"), "the replicas must share PostgreSQL");
    assert_eq!(c.listen, "0.0.0.0:8080");
    // The demo points every carrier at the mock carriers.
    let ids: Vec<&str> = c.carriers.keys().map(String::as_str).collect();
    for id in tradelane::connectors::carriers::CARRIERS {
        assert!(ids.contains(&id), "compose/tradelane.toml has no [carriers.{id}]");
    }
    // Both replicas, one database.
    assert!(compose.contains("tradelane-1:") && compose.contains("tradelane-2:"));
    let lb = read("deploy/compose/haproxy.cfg");
    assert!(lb.contains("server tradelane-1 tradelane-1:8080 check"));
    assert!(lb.contains("server tradelane-2 tradelane-2:8080 check"));
}

#[test]
fn kubernetes_configmap_loads_with_the_deployment_environment() {
    let text = block_scalar(&read("deploy/k8s/configmap.yaml"), "tradelane.toml");
    let mut env = assignments(&read("deploy/k8s/deployment.yaml"));
    env.extend(assignments(&read("deploy/k8s/secret.yaml")));
    assert_eq!(env["TRADELANE_CONFIG"], "/etc/tradelane/tradelane.toml");
    let c = load("deploy/k8s/configmap.yaml", &text, &env);
    assert!(c.database_url.starts_with("postgres://"), "the replicas must share PostgreSQL");
    assert_eq!(c.listen, "0.0.0.0:8080");
}

/// Seconds after `key` on the first line that has it (`key: 30`, `key=30`, `key 30s` …).
fn seconds_after(text: &str, key: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no {key}"));
    let digits: String = line[line.find(key).unwrap() + key.len()..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or_else(|_| panic!("{line}: no number"))
}

#[test]
fn stop_timeouts_cover_the_graceful_shutdown() {
    // On SIGTERM the HTTP server drains for up to 10 s (app.rs) while the outbox gives
    // in-flight deliveries shutdown_grace_secs; leases are released after both.
    const HTTP_DRAIN: u64 = 10;
    let need = |c: &Config| c.outbox.shutdown_grace_secs.max(HTTP_DRAIN) + 5;

    let example = Config::parse(&read("deploy/tradelane.toml")).unwrap();
    let unit = read("deploy/systemd/tradelane.service");
    assert!(seconds_after(&unit, "TimeoutStopSec") >= need(&example));
    assert!(unit.contains("KillSignal=SIGTERM"));

    let compose = Config::parse(&read("deploy/compose/tradelane.toml")).unwrap();
    assert!(seconds_after(&read("deploy/docker-compose.yml"), "stop_grace_period") >= need(&compose));

    let k8s = Config::parse(&block_scalar(&read("deploy/k8s/configmap.yaml"), "tradelane.toml")).unwrap();
    let deployment = read("deploy/k8s/deployment.yaml");
    let pre_stop = 5;
    assert!(deployment.contains("command: [\"sleep\", \"5\"]"));
    assert!(seconds_after(&deployment, "terminationGracePeriodSeconds") >= need(&k8s) + pre_stop);
}

#[test]
fn files_the_deploy_files_copy_or_mount_exist() {
    for line in read("deploy/Dockerfile").lines() {
        let Some(args) = line.strip_prefix("COPY ") else { continue };
        if args.starts_with("--from") {
            continue;
        }
        let parts: Vec<&str> = args.split_whitespace().collect();
        for src in &parts[..parts.len() - 1] {
            assert!(root().join(src).exists(), "Dockerfile copies missing {src}");
        }
    }
    for line in read("deploy/docker-compose.yml").lines() {
        if let Some(mount) = line.trim().strip_prefix("- ./") {
            let src = mount.split(':').next().unwrap();
            assert!(root().join("deploy").join(src).exists(), "compose mounts missing {src}");
        }
    }
    let kustomization = read("deploy/k8s/kustomization.yaml");
    let resources = kustomization.lines().skip_while(|l| !l.starts_with("resources:")).skip(1);
    for line in resources.take_while(|l| l.starts_with("  - ")) {
        let file = line.trim_start_matches("  - ").trim();
        assert!(root().join("deploy/k8s").join(file).exists(), "kustomization lists missing {file}");
    }
    for dir in ["mappings/x12", "mappings/partners", "fixtures/carriers"] {
        assert!(Path::new(&root().join(dir)).is_dir());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_paths_answer() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        database_url: format!("sqlite:{}", dir.path().join("probe.db").display()),
        ..Config::default()
    };
    let app = tradelane::app::Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let deployment = read("deploy/k8s/deployment.yaml");
    let haproxy = read("deploy/compose/haproxy.cfg");
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        assert!(
            deployment.contains(&format!("path: {path}")),
            "deployment.yaml does not probe {path}"
        );
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    assert!(haproxy.contains("uri /readyz"));
    assert!(read("deploy/healthcheck.sh").contains("GET /healthz"));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// The fields a section accepts, from the loader's own "unknown field" answer.
fn fields_of(section: &str) -> Vec<String> {
    let probe = format!("{section}\nzz_not_a_key = 1");
    let err = Config::parse(&probe).expect_err("unknown keys are rejected").to_string();
    let expected = &err[err.find("expected").unwrap_or_else(|| panic!("{section}: {err}"))..];
    expected.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn readme_and_example_document_every_configuration_key() {
    let readme = read("README.md");
    let example = read("deploy/tradelane.toml");
    // Sections may be documented by their heading; the example need not hold every table.
    let optional_in_example = ["destinations", "partners", "routing", "carriers"];
    for key in fields_of("") {
        let row = format!("| `{key}` |");
        let heading = format!("`[{key}");
        assert!(
            readme.contains(&row) || readme.contains(&heading),
            "README's configuration reference misses {key}"
        );
        if !optional_in_example.contains(&key.as_str()) {
            assert!(
                example.contains(&format!("{key} = ")) || example.contains(&format!("[{key}")),
                "deploy/tradelane.toml misses {key}"
            );
        }
    }
    for (section, in_example) in [("[outbox]", true), ("[shipping]", true), ("[destinations.x]\nurl = \"u\"", false)] {
        for key in fields_of(section) {
            assert!(readme.contains(&format!("| `{key}` |")), "README misses {key} of {section}");
            if in_example {
                assert!(
                    example.contains(&format!("{key} = ")),
                    "deploy/tradelane.toml misses {key} of {section}"
                );
            }
        }
    }
    for key in fields_of("[carriers.ups.shippers.a]") {
        assert!(readme.contains(&format!("| `{key}` |")), "README misses carrier account key {key}");
    }
    assert_eq!(fields_of("[partners.x]\ndestination = \"d\""), ["destination"]);
    assert!(readme.contains("`partners.<id>.destination`"));
    assert_eq!(fields_of("[routing]"), ["documents"]);
    assert!(readme.contains("`routing.documents`"));
}
