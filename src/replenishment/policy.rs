//! Dealer policies, one TOML file per dealer in `mappings/dealers/`: where
//! the dealer's orders go (an X12 supplier or an OEM API), where its status
//! webhooks go, its ship-to address, and the stocking rules per part class.
//!
//! A part's class comes from the `[parts]` table when listed there, else from
//! the class with the longest matching prefix, else the `[default]` rule.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::model::Party;

use super::PolicyError;

/// Stocking rule of a part class.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    /// Order when available stock (on hand + on order − demand) is at or below this.
    pub reorder_point: i64,
    /// Order up to this.
    pub max: i64,
    /// Smallest quantity worth ordering.
    #[serde(default)]
    pub min_order: i64,
    /// Quantities are rounded up to a multiple of this (case pack).
    #[serde(default = "one")]
    pub order_multiple: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    name: String,
    #[serde(default)]
    prefixes: Vec<String>,
    #[serde(flatten)]
    rule: ClassRule,
}

/// Where a dealer's orders go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An X12 850 to this trading partner (`mappings/partners/<id>.toml`).
    X12 {
        /// Partner id.
        partner: String,
    },
    /// A JSON order to this OEM API (`mappings/oem/<id>.toml`).
    Oem {
        /// OEM id.
        oem: String,
    },
}

impl Route {
    /// `x12` or `oem`.
    pub fn kind(&self) -> &'static str {
        match self {
            Route::X12 { .. } => "x12",
            Route::Oem { .. } => "oem",
        }
    }

    /// The partner or OEM id.
    pub fn target(&self) -> &str {
        match self {
            Route::X12 { partner } => partner,
            Route::Oem { oem } => oem,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    partner: Option<String>,
    #[serde(default)]
    oem: Option<String>,
}

/// Where status updates go: a URL, signed with a secret (Standard Webhooks).
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The dealer's endpoint.
    pub url: String,
    /// Signing secret (`whsec_…` or raw).
    pub secret: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_struct("Webhook").field("url", &self.url).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    secret_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    id: String,
    name: String,
    #[serde(default)]
    code: Option<String>,
    po_prefix: String,
    #[serde(default)]
    currency: Option<String>,
    route: RawRoute,
    #[serde(default)]
    webhook: Option<RawWebhook>,
    #[serde(default)]
    ship_to: Option<Party>,
    default: ClassRule,
    #[serde(default)]
    classes: Vec<RawClass>,
    #[serde(default)]
    parts: BTreeMap<String, String>,
}

/// A validated dealer policy.
#[derive(Debug, Clone)]
pub struct DealerPolicy {
    /// Dealer id (the owner of its API keys).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The dealer's code at its suppliers (N104 of N1*BY, the OEM's dealer code).
    pub code: String,
    /// Purchase-order numbers are this prefix and a six-digit sequence.
    pub po_prefix: String,
    /// Currency of orders.
    pub currency: Option<String>,
    /// Where orders go.
    pub route: Route,
    /// Where status updates go.
    pub webhook: Option<Webhook>,
    /// Why the configured webhook is off (its secret variable is unset).
    pub webhook_off: Option<String>,
    /// Delivery address.
    pub ship_to: Option<Party>,
    default: ClassRule,
    classes: Vec<(String, Vec<String>, ClassRule)>,
    parts: BTreeMap<String, String>,
}

impl DealerPolicy {
    /// Parses and checks a policy; `env` looks up `secret_env` variables.
    ///
    /// # Errors
    /// Invalid TOML, a rule that cannot hold (max below the reorder point, a
    /// multiple below one), a route naming neither or both of partner and OEM,
    /// a `[parts]` entry naming an unknown class.
    pub fn parse(text: &str, path: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_string(),
            message,
        };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let check = |name: &str, r: &ClassRule| -> Result<(), PolicyError> {
            if r.reorder_point < 0 || r.max < r.reorder_point || r.min_order < 0 || r.order_multiple < 1 {
                return Err(invalid(format!(
                    "{name}: need 0 <= reorder_point <= max, min_order >= 0 and order_multiple >= 1"
                )));
            }
            Ok(())
        };
        check("default", &raw.default)?;
        let mut classes = Vec::new();
        for c in raw.classes {
            check(&format!("classes.{}", c.name), &c.rule)?;
            classes.push((c.name, c.prefixes, c.rule));
        }
        for (part, class) in &raw.parts {
            if !classes.iter().any(|(n, _, _)| n == class) {
                return Err(invalid(format!("parts.{part}: unknown class {class:?}")));
            }
        }
        let route = match (raw.route.partner, raw.route.oem) {
            (Some(partner), None) => Route::X12 { partner },
            (None, Some(oem)) => Route::Oem { oem },
            _ => return Err(invalid("route: set exactly one of partner and oem".into())),
        };
        // A webhook whose secret variable is unset stays off rather than going out unsigned.
        let (webhook, webhook_off) = match raw.webhook {
            None => (None, None),
            Some(w) => match (w.secret, w.secret_env) {
                (_, Some(var)) => match env(&var) {
                    Some(secret) => (
                        Some(Webhook {
                            url: w.url,
                            secret: Some(secret),
                        }),
                        None,
                    ),
                    None => (None, Some(format!("webhook.secret_env: {var} is not set"))),
                },
                (secret, None) => (Some(Webhook { url: w.url, secret }), None),
            },
        };
        if raw.po_prefix.is_empty() || raw.po_prefix.len() > 12 || !raw.po_prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid("po_prefix: 1-12 letters or digits".into()));
        }
        Ok(Self {
            code: raw.code.unwrap_or_else(|| raw.id.clone()),
            id: raw.id,
            name: raw.name,
            po_prefix: raw.po_prefix,
            currency: raw.currency,
            route,
            webhook,
            webhook_off,
            ship_to: raw.ship_to,
            default: raw.default,
            classes,
            parts: raw.parts,
        })
    }

    /// The class a part belongs to (`None`: the default rule) and its rule.
    pub fn rule_for(&self, part: &str) -> (Option<&str>, &ClassRule) {
        if let Some(class) = self.parts.get(part) {
            if let Some((n, _, r)) = self.classes.iter().find(|(n, _, _)| n == class) {
                return (Some(n), r);
            }
        }
        let best = self
            .classes
            .iter()
            .flat_map(|(n, prefixes, r)| {
                prefixes
                    .iter()
                    .filter(|p| part.starts_with(p.as_str()))
                    .map(move |p| (p.len(), n, r))
            })
            .max_by_key(|(len, _, _)| *len);
        match best {
            Some((_, n, r)) => (Some(n), r),
            None => (None, &self.default),
        }
    }
}

/// True when a PO number of prefix `a` can equal one of prefix `b` (prefix followed by digits).
fn po_series_overlap(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short)
        .is_some_and(|rest| rest.bytes().all(|c| c.is_ascii_digit()))
}

/// Every dealer policy, by id.
#[derive(Debug, Clone, Default)]
pub struct Dealers {
    policies: BTreeMap<String, DealerPolicy>,
}

impl Dealers {
    /// Loads every `*.toml` in `dir` (none when the folder is absent).
    ///
    /// # Errors
    /// An unreadable or invalid file, two files with the same id.
    pub fn load(dir: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self, PolicyError> {
        let mut policies = BTreeMap::new();
        if !dir.is_dir() {
            return Ok(Self { policies });
        }
        let io = |path: &Path, source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        };
        for path in crate::mapping::toml_files(dir).map_err(|e| io(dir, e))? {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let p = DealerPolicy::parse(&text, &path.display().to_string(), &env)?;
            if policies.contains_key(&p.id) {
                return Err(PolicyError::Invalid {
                    path: path.display().to_string(),
                    message: format!("dealer {} is defined twice", p.id),
                });
            }
            // PO numbers are unique across dealers: two series whose numbers can meet
            // (the same prefix, or "LK" and "LK1" once "LK" passes 999999) would collide.
            if let Some(other) = policies
                .values()
                .find(|o: &&DealerPolicy| po_series_overlap(&o.po_prefix, &p.po_prefix))
            {
                return Err(PolicyError::Invalid {
                    path: path.display().to_string(),
                    message: format!(
                        "po_prefix {:?}: its PO numbers can equal those of dealer {} (po_prefix {:?})",
                        p.po_prefix, other.id, other.po_prefix
                    ),
                });
            }
            policies.insert(p.id.clone(), p);
        }
        Ok(Self { policies })
    }

    /// A dealer's policy.
    pub fn get(&self, id: &str) -> Option<&DealerPolicy> {
        self.policies.get(id)
    }

    /// All policies.
    pub fn iter(&self) -> impl Iterator<Item = &DealerPolicy> {
        self.policies.values()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) const POLICY: &str = r#"
        id = "lakeside-motors"
        name = "Lakeside Motors"
        po_prefix = "LKM"
        [route]
        partner = "acme-parts"
        [webhook]
        url = "http://127.0.0.1:1/hook"
        secret_env = "LKM_SECRET"
        [default]
        reorder_point = 1
        max = 2
        [[classes]]
        name = "filters"
        prefixes = ["FL-", "FA-"]
        reorder_point = 12
        max = 48
        order_multiple = 12
        [[classes]]
        name = "long-life filters"
        prefixes = ["FL-5"]
        reorder_point = 6
        max = 24
        order_multiple = 6
        [[classes]]
        name = "brakes"
        prefixes = ["BR"]
        reorder_point = 2
        max = 6
        min_order = 4
        order_multiple = 2
        [parts]
        "XL-3" = "brakes"
    "#;

    fn env(k: &str) -> Option<String> {
        (k == "LKM_SECRET").then(|| "whsec_c2VjcmV0".to_string())
    }

    #[test]
    fn classes_by_part_table_then_longest_prefix_then_default() {
        let p = DealerPolicy::parse(POLICY, "p.toml", env).unwrap();
        assert_eq!(p.rule_for("FL-820S").0, Some("filters"));
        assert_eq!(p.rule_for("FL-500S").0, Some("long-life filters"));
        assert_eq!(p.rule_for("FL-500S").1.order_multiple, 6);
        assert_eq!(p.rule_for("XL-3").0, Some("brakes"));
        assert_eq!(
            p.rule_for("SP-589"),
            (
                None,
                &ClassRule {
                    reorder_point: 1,
                    max: 2,
                    min_order: 0,
                    order_multiple: 1
                }
            )
        );
        assert_eq!(
            p.route,
            Route::X12 {
                partner: "acme-parts".into()
            }
        );
        assert_eq!(p.webhook.as_ref().unwrap().secret.as_deref(), Some("whsec_c2VjcmV0"));
        assert_eq!(p.code, "lakeside-motors");
        assert!(!format!("{:?}", p.webhook).contains("whsec"));
    }

    #[test]
    fn rejects_impossible_rules_and_routes() {
        let bad = POLICY.replace("reorder_point = 2\n        max = 6", "reorder_point = 8\n        max = 6");
        let e = DealerPolicy::parse(&bad, "p.toml", env).unwrap_err().to_string();
        assert!(e.starts_with("p.toml: classes.brakes:"), "{e}");
        let both = POLICY.replace("partner = \"acme-parts\"", "partner = \"acme-parts\"\n oem = \"northstar\"");
        let e = DealerPolicy::parse(&both, "p.toml", env).unwrap_err().to_string();
        assert_eq!(e, "p.toml: route: set exactly one of partner and oem");
        let off = DealerPolicy::parse(POLICY, "p.toml", |_| None).unwrap();
        assert_eq!(off.webhook, None);
        assert_eq!(off.webhook_off.as_deref(), Some("webhook.secret_env: LKM_SECRET is not set"));
        let e = DealerPolicy::parse(&POLICY.replace("\"XL-3\" = \"brakes\"", "\"XL-3\" = \"wipers\""), "p.toml", env)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "p.toml: parts.XL-3: unknown class \"wipers\"");
    }

    #[test]
    fn dealers_whose_po_numbers_can_meet_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str, id: &str, prefix: &str| {
            let text = POLICY
                .replace("id = \"lakeside-motors\"", &format!("id = \"{id}\""))
                .replace("po_prefix = \"LKM\"", &format!("po_prefix = \"{prefix}\""));
            std::fs::write(dir.path().join(file), text).unwrap();
        };
        write("a.toml", "lakeside-motors", "LKM");
        write("b.toml", "harbor-city-auto", "HCA");
        assert_eq!(Dealers::load(dir.path(), env).unwrap().iter().count(), 2);
        // "LK" + 1000001 is "LK1" + 000001; "LK" and "LKM" never meet.
        write("c.toml", "lake-two", "LK");
        assert_eq!(Dealers::load(dir.path(), env).unwrap().iter().count(), 3);
        for prefix in ["LKM", "LK1"] {
            write("d.toml", "copycat", prefix);
            let e = Dealers::load(dir.path(), env).unwrap_err().to_string();
            assert!(e.contains(&format!("po_prefix \"{prefix}\"")) && e.contains("dealer "), "{e}");
        }
    }

    #[test]
    fn the_shipped_dealers_load() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/dealers");
        let d = Dealers::load(&dir, |_| Some("whsec_c2VjcmV0".into())).unwrap();
        let kinds: Vec<&str> = d.iter().map(|p| p.route.kind()).collect();
        assert!(kinds.contains(&"x12") && kinds.contains(&"oem"), "{kinds:?}");
    }
}
