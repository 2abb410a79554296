//! Canada Post adapter: the REST/XML web services (Get Rates `rate-v4`, contract
//! Create/Void Shipment `shipment-v8` with label artifacts, Get Tracking Details
//! `track-v2`), HTTP Basic auth, versioning by media type. Labels to the US and
//! abroad carry the customs declaration as `delivery-spec/customs`.
//!
//! Account settings: `key`/`secret` are the API user name and password,
//! `account_number` the customer number ("mailed by"). `extra` may hold
//! `contract_id`, `mobo` (mailed on behalf of; default the customer number),
//! `payment` (`Account` by default), `group_id` (shipments are grouped for a later
//! manifest instead of being transmitted at once), `label_size` (`4x6` or `8.5x11`),
//! `refund_email` (needed to void a transmitted shipment) and `language`
//! (`en-CA` or `fr-CA`).

use base64::Engine;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::Writer;

use super::{
    CarrierAccount, CarrierError, CarrierHttp, Charge, Label, LabelFormat, LabelRequest, LengthUnit, Money, Package, Rate, Reply, Shipment,
    Tracking, TrackingEvent, TrackingStatus, WeightUnit,
};
use crate::customs::{round, ContentsType, CurrencyCode, Declaration, ExportReason, NonDelivery};
use crate::model::{Date, Decimal};

const CARRIER: &str = "canadapost";

/// Rating media type.
pub const RATE_MEDIA: &str = "application/vnd.cpc.ship.rate-v4+xml";
/// Rating namespace.
pub const RATE_NS: &str = "http://www.canadapost.ca/ws/ship/rate-v4";
/// Contract shipping media type.
pub const SHIPMENT_MEDIA: &str = "application/vnd.cpc.shipment-v8+xml";
/// Contract shipping namespace.
pub const SHIPMENT_NS: &str = "http://www.canadapost.ca/ws/shipment-v8";
/// Tracking media type.
pub const TRACK_MEDIA: &str = "application/vnd.cpc.track-v2+xml";
/// Tracking namespace.
pub const TRACK_NS: &str = "http://www.canadapost.ca/ws/track";
/// Error messages namespace.
pub const MESSAGES_NS: &str = "http://www.canadapost.ca/ws/messages";

/// Canada Post.
pub struct CanadaPost {
    account: CarrierAccount,
    http: CarrierHttp,
}

/// What a Create Shipment (or Get Shipment) answer says.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentInfo {
    /// Canada Post's shipment id.
    pub shipment_id: String,
    /// `created`, `transmitted`, `suspended` …
    pub status: String,
    /// Tracking PIN.
    pub tracking_pin: Option<String>,
    /// `shipment-price/due-amount` (taxes included, CAD), when pricing was asked for.
    pub due: Option<Decimal>,
    /// The links the answer provides.
    pub links: Vec<Link>,
}

/// A provided endpoint (`<link rel= href= media-type=>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Relation (`self`, `label`, `refund` …).
    pub rel: String,
    /// URL.
    pub href: String,
    /// Media type to send as `Accept`.
    pub media_type: String,
}

impl CanadaPost {
    /// The adapter for one account.
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        Self {
            account: account.clone(),
            http,
        }
    }

    fn customer(&self) -> Result<&str, CarrierError> {
        self.account
            .need("account_number (Canada Post customer number)", &self.account.account_number)
    }

    fn shipment_base(&self) -> Result<String, CarrierError> {
        let customer = self.customer()?;
        let mobo = self.account.extra.get("mobo").map(String::as_str).unwrap_or(customer);
        Ok(format!("{}/rs/{customer}/{mobo}/shipment", self.account.base()?))
    }

    fn basic_auth(&self) -> Result<String, CarrierError> {
        let user = self.account.need("key (API user name)", &self.account.key)?;
        let pass = self.account.need("secret (API password)", &self.account.secret)?;
        Ok(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    }

    /// Sends one call with the headers every Canada Post call needs.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        media: &str,
        body: Option<String>,
        idempotent: bool,
    ) -> Result<Reply, CarrierError> {
        let auth = self.basic_auth()?;
        let language = self.account.extra.get("language").map(String::as_str).unwrap_or("en-CA");
        self.http
            .send(
                |c| {
                    let mut req = c
                        .request(method.clone(), url)
                        .header("authorization", auth.as_str())
                        .header("accept", media)
                        .header("accept-language", language);
                    if let Some(b) = &body {
                        req = req.header("content-type", media).body(b.clone());
                    }
                    req
                },
                None,
                idempotent,
            )
            .await
    }

    /// Rates.
    pub async fn rate(&self, s: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        let body = rate_request(s, &self.account)?;
        let url = format!("{}/rs/ship/price", self.account.base()?);
        let reply = ok(self.call(reqwest::Method::POST, &url, RATE_MEDIA, Some(body), true).await?)?;
        parse_rates(&reply.body)
    }

    /// Creates a shipment, then fetches its label artifact.
    pub async fn ship(&self, r: &LabelRequest) -> Result<Label, CarrierError> {
        let body = shipment_request(r, &self.account)?;
        let url = self.shipment_base()?;
        let reply = ok(self.call(reqwest::Method::POST, &url, SHIPMENT_MEDIA, Some(body), false).await?)?;
        let info = parse_shipment(&reply.body)?;
        let link = info
            .links
            .iter()
            .find(|l| l.rel == "label")
            .ok_or_else(|| CarrierError::Parse(format!("shipment {} has no label link", info.shipment_id)))?;
        // The label link carries our credentials: follow it only on the API's own origin.
        if origin(&link.href) != origin(self.account.base()?) {
            return Err(CarrierError::Parse(format!("label link {} is not on the API host", link.href)));
        }
        let media = if link.media_type.is_empty() {
            "application/pdf"
        } else {
            link.media_type.as_str()
        };
        let artifact = ok(self.call(reqwest::Method::GET, &link.href, media, None, true).await?)?;
        let tracking = info
            .tracking_pin
            .clone()
            .ok_or_else(|| CarrierError::Parse(format!("shipment {} has no tracking pin", info.shipment_id)))?;
        let charges = info
            .due
            .ok_or_else(|| CarrierError::Parse(format!("shipment {} has no price", info.shipment_id)))?;
        Ok(Label {
            carrier: CARRIER.into(),
            service_code: r.service_code.clone(),
            shipment_id: Some(info.shipment_id),
            tracking_numbers: vec![tracking],
            label_format: r.label_format,
            labels: vec![base64::engine::general_purpose::STANDARD.encode(&artifact.body)],
            charges: cad(charges),
        })
    }

    /// Voids a shipment: deleted while not yet transmitted, else a refund is requested.
    pub async fn void(&self, label: &Label) -> Result<(), CarrierError> {
        let id = label
            .shipment_id
            .as_deref()
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or_else(|| CarrierError::Invalid("a Canada Post void needs the label's shipment id".into()))?;
        let url = format!("{}/{id}", self.shipment_base()?);
        let current = ok(self.call(reqwest::Method::GET, &url, SHIPMENT_MEDIA, None, true).await?)?;
        let info = parse_shipment(&current.body)?;
        if info.status == "transmitted" {
            let email =
                self.account.extra.get("refund_email").ok_or_else(|| {
                    CarrierError::Invalid("shipment already transmitted: a refund request needs extra.refund_email".into())
                })?;
            let refund = format!("{url}/refund");
            ok(self
                .call(reqwest::Method::POST, &refund, SHIPMENT_MEDIA, Some(refund_request(email)), true)
                .await?)?;
        } else {
            ok(self.call(reqwest::Method::DELETE, &url, SHIPMENT_MEDIA, None, true).await?)?;
        }
        Ok(())
    }

    /// Tracking details of a PIN.
    pub async fn track(&self, number: &str) -> Result<Tracking, CarrierError> {
        let pin = number.trim();
        if !(12..=16).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CarrierError::Invalid(format!("not a Canada Post PIN: {number:?}")));
        }
        let url = format!("{}/vis/track/pin/{pin}/detail", self.account.base()?);
        let reply = ok(self.call(reqwest::Method::GET, &url, TRACK_MEDIA, None, true).await?)?;
        parse_tracking(&reply.body)
    }
}

/// `scheme://host:port` of a URL, lower-cased.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
}

/// The reply when 2xx, else its typed error.
fn ok(reply: Reply) -> Result<Reply, CarrierError> {
    if reply.status.is_success() {
        Ok(reply)
    } else {
        Err(error_from(reply.status.as_u16(), &reply.body))
    }
}

/// Maps a non-2xx answer: 401 is an auth failure, a `<messages>` body a rejection,
/// anything else goes by status.
pub fn error_from(status: u16, body: &[u8]) -> CarrierError {
    let messages = parse_messages(body);
    if status == 401 {
        let detail = messages
            .first()
            .map(|(c, m)| format!("{c}: {m}"))
            .unwrap_or_else(|| "HTTP 401".into());
        return CarrierError::Auth(detail);
    }
    // Throttling and outages keep their own errors even when they come with a message.
    if status == 429 || status >= 500 {
        return CarrierError::from_status(status, body);
    }
    match messages.into_iter().next() {
        Some((code, message)) => CarrierError::Rejected {
            carrier: CARRIER,
            code,
            message,
        },
        None => CarrierError::from_status(status, body),
    }
}

/// The (code, description) pairs of a `<messages>` body (any namespace: tracking
/// answers "no history" in its own); empty when the body is something else.
pub fn parse_messages(body: &[u8]) -> Vec<(String, String)> {
    let Ok(root) = parse_xml(body) else {
        return Vec::new();
    };
    if root.name != "messages" {
        return Vec::new();
    }
    root.all("message")
        .map(|m| {
            (
                m.text_at(&["code"]).unwrap_or("").to_string(),
                m.text_at(&["description"]).unwrap_or("").to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- XML tree

/// A parsed XML element: namespace, local name, attributes, text and children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmlNode {
    /// Namespace URI (empty when none).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes (local name, value).
    pub attrs: Vec<(String, String)>,
    /// Text content, trimmed.
    pub text: String,
    /// Child elements.
    pub children: Vec<XmlNode>,
}

impl XmlNode {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a XmlNode> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&XmlNode> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }

    /// The non-empty text at a path of child names.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|n| n.text.as_str()).filter(|t| !t.is_empty())
    }

    /// An attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

const MAX_DEPTH: usize = 64;

/// Parses an XML document into a tree (namespaces resolved); malformed input is a `Parse` error.
pub fn parse_xml(body: &[u8]) -> Result<XmlNode, CarrierError> {
    let bad = |e: String| CarrierError::Parse(format!("Canada Post XML: {e}"));
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut root: Option<XmlNode> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| bad(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => return Err(bad(format!("content after the root: {:?}", e.name()))),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut node = XmlNode {
                    ns: match ns {
                        ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
                        _ => String::new(),
                    },
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..XmlNode::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| bad(e.to_string()))?;
                    let value = a.unescape_value().map_err(|e| bad(e.to_string()))?;
                    node.attrs.push((
                        String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return Err(bad("nested too deeply".into()));
                    }
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(|| bad("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.unescape().map_err(|e| bad(e.to_string()))?);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad("unexpected end of document".into()));
    }
    root.ok_or_else(|| bad("empty document".into()))
}

/// The root element, checked to be `name` in namespace `ns`.
fn root_of(body: &[u8], name: &str, ns: &str) -> Result<XmlNode, CarrierError> {
    let root = parse_xml(body)?;
    if root.name != name || root.ns != ns {
        return Err(CarrierError::Parse(format!(
            "expected <{name} xmlns=\"{ns}\">, got <{} xmlns=\"{}\">",
            root.name, root.ns
        )));
    }
    Ok(root)
}

/// Writes elements in order (the XSDs are strict about some sequences).
struct Xml(Writer<Vec<u8>>);

impl Xml {
    fn new() -> Self {
        Xml(Writer::new(Vec::new()))
    }

    // Writing into a Vec cannot fail, so the io results are dropped.
    fn open(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::Start(BytesStart::new(name)));
        self
    }

    fn open_ns(&mut self, name: &str, ns: &str) -> &mut Self {
        let _ = self
            .0
            .write_event(Event::Start(BytesStart::new(name).with_attributes([("xmlns", ns)])));
        self
    }

    fn close(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::End(BytesEnd::new(name)));
        self
    }

    fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        let _ = self.0.write_event(Event::Text(BytesText::new(text)));
        self.close(name)
    }

    fn leaf_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => self.leaf(name, t),
            None => self,
        }
    }

    fn empty(&mut self, name: &str) -> &mut Self {
        let _ = self.0.write_event(Event::Empty(BytesStart::new(name)));
        self
    }

    fn finish(self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&String::from_utf8_lossy(&self.0.into_inner()));
        out
    }
}

// ---------------------------------------------------------------- requests

/// Canadian postal code as Canada Post wants it: upper case, no space.
fn postal(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn one_package(s: &Shipment) -> Result<&Package, CarrierError> {
    match s.packages.as_slice() {
        [p] => Ok(p),
        [] => Err(CarrierError::Invalid("shipment has no package".into())),
        _ => Err(CarrierError::Invalid("Canada Post rates and ships one parcel per request".into())),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// `n / 10^places` as text, from an integer already scaled.
fn scaled(n: i64, places: u32) -> String {
    let div = 10i64.pow(places);
    format!("{}.{:0width$}", n / div, (n % div).abs(), width = places as usize)
}

/// Weight in kg, 3 decimals (the XSD's fraction digits), at least 1 g.
pub fn weight_kg(p: &Package) -> String {
    let kg = match p.weight_unit {
        WeightUnit::Kg => p.weight,
        WeightUnit::Lb => p.weight * dec("0.45359237"),
    };
    // to_cents of kg×10 is grams.
    let grams = (kg * Decimal::from_int(10)).to_cents().max(1);
    scaled(grams, 3)
}

/// A dimension in cm, 1 decimal.
fn cm(d: Decimal, unit: LengthUnit) -> String {
    let cm = match unit {
        LengthUnit::Cm => d,
        LengthUnit::In => d * dec("2.54"),
    };
    let tenths = (cm * dec("0.1")).to_cents().max(1);
    scaled(tenths, 1)
}

fn parcel(x: &mut Xml, p: &Package) {
    x.open("parcel-characteristics").leaf("weight", &weight_kg(p));
    if let Some(d) = &p.dimensions {
        x.open("dimensions")
            .leaf("length", &cm(d.length, d.unit))
            .leaf("width", &cm(d.width, d.unit))
            .leaf("height", &cm(d.height, d.unit))
            .close("dimensions");
    }
    x.close("parcel-characteristics");
}

fn extra<'a>(account: &'a CarrierAccount, key: &str) -> Option<&'a str> {
    account.extra.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

/// The Get Rates body (`<mailing-scenario>`, rate-v4) for a one-parcel shipment from Canada.
pub fn rate_request(s: &Shipment, account: &CarrierAccount) -> Result<String, CarrierError> {
    let p = one_package(s)?;
    if !s.from.country.eq_ignore_ascii_case("CA") {
        return Err(CarrierError::Invalid("Canada Post ships from Canada only".into()));
    }
    let mut x = Xml::new();
    x.open_ns("mailing-scenario", RATE_NS)
        .leaf_opt("customer-number", account.account_number.as_deref())
        .leaf_opt("contract-id", extra(account, "contract_id"))
        .leaf("quote-type", "commercial");
    if let Some(d) = s.ship_date {
        x.leaf("expected-mailing-date", &d.to_string());
    }
    parcel(&mut x, p);
    x.leaf("origin-postal-code", &postal(&s.from.postal_code)).open("destination");
    match s.to.country.to_ascii_uppercase().as_str() {
        "CA" => x.open("domestic").leaf("postal-code", &postal(&s.to.postal_code)).close("domestic"),
        "US" => {
            let zip: String = s.to.postal_code.trim().chars().take(5).collect();
            x.open("united-states").leaf("zip-code", &zip).close("united-states")
        }
        c => x
            .open("international")
            .leaf("country-code", c)
            .leaf_opt("postal-code", Some(&s.to.postal_code))
            .close("international"),
    };
    x.close("destination").close("mailing-scenario");
    Ok(x.finish())
}

fn address_details(x: &mut Xml, a: &super::Address) {
    x.open("address-details");
    for (i, line) in a.street.iter().filter(|l| !l.trim().is_empty()).take(2).enumerate() {
        x.leaf(if i == 0 { "address-line-1" } else { "address-line-2" }, line.trim());
    }
    x.leaf("city", a.city.trim())
        .leaf_opt("prov-state", a.state.as_deref())
        .leaf("country-code", &a.country.to_ascii_uppercase())
        .leaf("postal-zip-code", &postal(&a.postal_code))
        .close("address-details");
}

/// Canada Post's `reason-for-export` code and, for `OTH`, the `other-reason` text.
fn export_reason(d: &Declaration) -> (&'static str, Option<String>) {
    let other = |default: &str| ("OTH", Some(d.reason_explanation.clone().unwrap_or_else(|| default.to_string())));
    match d.reason_for_export {
        ExportReason::Sale => ("SOG", None),
        ExportReason::Sample => ("SAM", None),
        ExportReason::Repair => ("REP", None),
        _ if d.contents_type == ContentsType::Documents => ("DOC", None),
        ExportReason::Gift => other("Gift"),
        ExportReason::Return => other("Return"),
        ExportReason::Intercompany => other("Intercompany transfer"),
        ExportReason::PersonalUse => other("Personal use"),
        ExportReason::Temporary => other("Temporary export"),
        ExportReason::Other => other("Other"),
    }
}

/// A declaration value that must fit Canada Post's limit.
fn fits(value: &str, max: usize, field: &str) -> Result<(), CarrierError> {
    if value.chars().count() > max {
        return Err(CarrierError::Invalid(format!(
            "{field}: Canada Post takes at most {max} characters"
        )));
    }
    Ok(())
}

/// `<customs>` of a US or international shipment: currency (with the
/// conversion from CAD when it is not CAD), reason for export, and one
/// `sku-list/item` per commodity (value per unit, unit weight in kg, dotted HS code).
fn customs(x: &mut Xml, d: &Declaration) -> Result<(), CarrierError> {
    let conversion = if d.currency == CurrencyCode::CAD {
        None
    } else {
        let rate = d.conversion_from_cad.ok_or_else(|| {
            CarrierError::Invalid(format!(
                "shipment.customs.conversion_from_cad: Canada Post needs the {} per CAD rate when the currency is not CAD",
                d.currency
            ))
        })?;
        Some(round(rate, 6).to_string())
    };
    let (reason, other) = export_reason(d);
    if let Some(o) = &other {
        fits(o, 44, "shipment.customs.reason_explanation")?;
    }
    if d.commodities.len() > 500 {
        return Err(CarrierError::Invalid(
            "shipment.customs.commodities: Canada Post takes at most 500 lines".into(),
        ));
    }
    x.open("customs")
        .leaf("currency", d.currency.as_str())
        .leaf_opt("conversion-from-cad", conversion.as_deref())
        .leaf("reason-for-export", reason)
        .leaf_opt("other-reason", other.as_deref())
        .open("sku-list");
    for (i, c) in d.commodities.iter().enumerate() {
        let field = |name: &str| format!("shipment.customs.commodities[{i}].{name}");
        fits(&c.description, 45, &field("description"))?;
        if c.quantity > 9999 {
            return Err(CarrierError::Invalid(format!(
                "{}: Canada Post takes at most 9999 units",
                field("quantity")
            )));
        }
        let weight = round(c.unit_weight_kg(), 3).max(dec("0.001"));
        if weight > dec("99.999") {
            return Err(CarrierError::Invalid(format!(
                "{}: Canada Post takes at most 99.999 kg per unit",
                field("unit_net_weight")
            )));
        }
        let value = round(c.unit_value, 2).max(dec("0.01"));
        x.open("item")
            .leaf("customs-number-of-units", &c.quantity.to_string())
            .leaf("customs-description", &c.description)
            .leaf_opt("sku", c.sku.as_deref().map(|s| s.chars().take(15).collect::<String>()).as_deref())
            .leaf("hs-tariff-code", &c.hs_code.dotted())
            .leaf("unit-weight", &format!("{weight}"))
            .leaf("customs-value-per-unit", &crate::customs::money_text(value))
            .leaf("country-of-origin", c.origin_country.as_str())
            .close("item");
    }
    x.close("sku-list");
    for (name, value, field) in [
        ("certificate-number", &d.certificate_number, "certificate_number"),
        ("licence-number", &d.import_licence, "import_licence"),
        ("invoice-number", &d.invoice_number, "invoice_number"),
    ] {
        if let Some(v) = value {
            fits(v, 10, &format!("shipment.customs.{field}"))?;
            x.leaf(name, v);
        }
    }
    x.close("customs");
    Ok(())
}

/// The Create Shipment body (`<shipment>`, shipment-v8) for a one-parcel label
/// from Canada; US and international labels carry the customs declaration and
/// a non-delivery option (RTS return to sender, or ABAN abandon).
pub fn shipment_request(r: &LabelRequest, account: &CarrierAccount) -> Result<String, CarrierError> {
    let s = &r.shipment;
    let p = one_package(s)?;
    let customer = account.need("account_number (Canada Post customer number)", &account.account_number)?;
    if !s.from.country.eq_ignore_ascii_case("CA") {
        return Err(CarrierError::Invalid("Canada Post ships from Canada only".into()));
    }
    let declaration = super::customs_of(s, true)?;
    let encoding = match r.label_format {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Zpl => "ZPL",
        LabelFormat::Png => return Err(CarrierError::Invalid("Canada Post labels are PDF or ZPL".into())),
    };
    let sender_company = s
        .from
        .company
        .as_deref()
        .or(s.from.name.as_deref())
        .filter(|c| !c.trim().is_empty());
    let sender_company = sender_company.ok_or_else(|| CarrierError::Invalid("Canada Post needs the sender's company or name".into()))?;
    let sender_phone = s.from.phone.as_deref().filter(|c| !c.trim().is_empty());
    let sender_phone = sender_phone.ok_or_else(|| CarrierError::Invalid("Canada Post needs the sender's phone".into()))?;
    let recipient = s.to.name.as_deref().or(s.to.company.as_deref()).filter(|c| !c.trim().is_empty());
    let recipient = recipient.ok_or_else(|| CarrierError::Invalid("Canada Post needs the recipient's name".into()))?;
    if s.from.street.iter().all(|l| l.trim().is_empty()) || s.to.street.iter().all(|l| l.trim().is_empty()) {
        return Err(CarrierError::Invalid(
            "Canada Post needs a street line for sender and recipient".into(),
        ));
    }
    let mut x = Xml::new();
    x.open_ns("shipment", SHIPMENT_NS);
    match extra(account, "group_id") {
        Some(g) => x.leaf("group-id", g),
        None => x.empty("transmit-shipment"),
    };
    x.leaf("requested-shipping-point", &postal(&s.from.postal_code));
    if let Some(d) = s.ship_date {
        x.leaf("expected-mailing-date", &d.to_string());
    }
    x.leaf("provide-pricing-info", "true")
        .open("delivery-spec")
        .leaf("service-code", &r.service_code)
        .open("sender")
        .leaf_opt("name", s.from.name.as_deref())
        .leaf("company", sender_company)
        .leaf("contact-phone", sender_phone);
    address_details(&mut x, &s.from);
    x.close("sender")
        .open("destination")
        .leaf("name", recipient)
        .leaf_opt("company", s.to.company.as_deref().filter(|_| s.to.name.is_some()))
        .leaf_opt("client-voice-number", s.to.phone.as_deref());
    address_details(&mut x, &s.to);
    x.close("destination");
    if let Some(d) = &declaration {
        let code = match d.non_delivery {
            NonDelivery::Return => "RTS",
            NonDelivery::Abandon => "ABAN",
        };
        x.open("options")
            .open("option")
            .leaf("option-code", code)
            .close("option")
            .close("options");
    }
    parcel(&mut x, p);
    if let Some(email) = s.to.email.as_deref().filter(|e| !e.trim().is_empty()) {
        x.open("notification")
            .leaf("email", email.trim())
            .leaf("on-shipment", "true")
            .leaf("on-exception", "true")
            .leaf("on-delivery", "true")
            .close("notification");
    }
    x.open("print-preferences")
        .leaf("output-format", extra(account, "label_size").unwrap_or("4x6"))
        .leaf("encoding", encoding)
        .close("print-preferences")
        .open("preferences")
        .leaf("show-packing-instructions", "false")
        .leaf("show-postage-rate", "false")
        .leaf("show-insured-value", "false")
        .close("preferences");
    if let Some(reference) = p.reference.as_deref().filter(|r| !r.trim().is_empty()) {
        x.open("references").leaf("customer-ref-1", reference.trim()).close("references");
    }
    if let Some(d) = &declaration {
        customs(&mut x, d)?;
    }
    x.open("settlement-info")
        .leaf("paid-by-customer", customer)
        .leaf_opt("contract-id", extra(account, "contract_id"))
        .leaf("intended-method-of-payment", extra(account, "payment").unwrap_or("Account"))
        .close("settlement-info")
        .close("delivery-spec")
        .close("shipment");
    Ok(x.finish())
}

/// The refund request body for a transmitted shipment.
pub fn refund_request(email: &str) -> String {
    let mut x = Xml::new();
    x.open_ns("shipment-refund-request", SHIPMENT_NS)
        .leaf("email", email)
        .close("shipment-refund-request");
    x.finish()
}

// ---------------------------------------------------------------- responses

fn amount(node: &XmlNode, path: &[&str]) -> Result<Option<Decimal>, CarrierError> {
    node.text_at(path)
        .map(|t| {
            t.parse::<Decimal>()
                .map_err(|e| CarrierError::Parse(format!("{}: {e}", path.join("/"))))
        })
        .transpose()
}

fn cad(amount: Decimal) -> Money {
    Money {
        amount,
        currency: "CAD".into(),
    }
}

fn charge(code: &str, description: Option<&str>, amount: Decimal) -> Charge {
    Charge {
        code: code.to_string(),
        description: description.map(str::to_string),
        amount: cad(amount),
    }
}

/// Parses `<price-quotes>` (rate-v4): one rate per service; amounts are CAD, taxes included in the total.
pub fn parse_rates(body: &[u8]) -> Result<Vec<Rate>, CarrierError> {
    let root = root_of(body, "price-quotes", RATE_NS)?;
    let mut rates = Vec::new();
    for q in root.all("price-quote") {
        let code = q
            .text_at(&["service-code"])
            .ok_or_else(|| CarrierError::Parse("price-quote without service-code".into()))?;
        let total = amount(q, &["price-details", "due"])?.ok_or_else(|| CarrierError::Parse(format!("price-quote {code} without due")))?;
        let mut breakdown = Vec::new();
        if let Some(base) = amount(q, &["price-details", "base"])? {
            breakdown.push(charge("BASE", Some("Base price"), base));
        }
        for opt in q.at(&["price-details", "options"]).into_iter().flat_map(|o| o.all("option")) {
            if let (Some(c), Some(price)) = (opt.text_at(&["option-code"]), amount(opt, &["option-price"])?) {
                breakdown.push(charge(c, opt.text_at(&["option-name"]), price));
            }
        }
        for adj in q
            .at(&["price-details", "adjustments"])
            .into_iter()
            .flat_map(|a| a.all("adjustment"))
        {
            if let (Some(c), Some(cost)) = (adj.text_at(&["adjustment-code"]), amount(adj, &["adjustment-cost"])?) {
                breakdown.push(charge(c, adj.text_at(&["adjustment-name"]), cost));
            }
        }
        for (tax, name) in [("gst", "GST"), ("pst", "PST"), ("hst", "HST")] {
            match amount(q, &["price-details", "taxes", tax])? {
                Some(t) if !t.is_zero() => breakdown.push(charge(name, Some(name), t)),
                _ => {}
            }
        }
        let standard = q.child("service-standard");
        let transit = standard.and_then(|s| s.text_at(&["expected-transit-time"]));
        let delivery = standard.and_then(|s| s.text_at(&["expected-delivery-date"]));
        rates.push(Rate {
            carrier: CARRIER.into(),
            service_code: code.to_string(),
            service_name: q.text_at(&["service-name"]).unwrap_or(code).to_string(),
            total: cad(total),
            breakdown,
            transit_days: transit.and_then(|t| t.parse().ok()),
            estimated_delivery: delivery.and_then(|d| d.parse::<Date>().ok()),
            guaranteed: standard.and_then(|s| s.text_at(&["guaranteed-delivery"])) == Some("true"),
        });
    }
    Ok(rates)
}

/// Parses `<shipment-info>` (shipment-v8).
pub fn parse_shipment(body: &[u8]) -> Result<ShipmentInfo, CarrierError> {
    let root = root_of(body, "shipment-info", SHIPMENT_NS)?;
    let shipment_id = root
        .text_at(&["shipment-id"])
        .ok_or_else(|| CarrierError::Parse("shipment-info without shipment-id".into()))?;
    let links = root
        .child("links")
        .into_iter()
        .flat_map(|l| l.all("link"))
        .filter_map(|l| {
            Some(Link {
                rel: l.attr("rel")?.to_string(),
                href: l.attr("href")?.to_string(),
                media_type: l.attr("media-type").unwrap_or("").to_string(),
            })
        })
        .collect();
    Ok(ShipmentInfo {
        shipment_id: shipment_id.to_string(),
        status: root.text_at(&["shipment-status"]).unwrap_or("").to_string(),
        tracking_pin: root.text_at(&["tracking-pin"]).map(str::to_string),
        due: amount(&root, &["shipment-price", "due-amount"])?,
        links,
    })
}

/// Normalizes a Canada Post event identifier (description only breaks ties for returns).
pub fn status_of(code: &str, description: &str) -> TrackingStatus {
    let lower = description.to_ascii_lowercase();
    if lower.contains("return to sender") || lower.contains("returned to sender") || lower.contains("returning to sender") {
        return TrackingStatus::Returned;
    }
    let Ok(n) = code.trim().parse::<u32>() else {
        return TrackingStatus::Unknown;
    };
    match n {
        1408 | 1409 | 1421..=1434 | 1441 | 1442 | 1496..=1499 => TrackingStatus::Delivered,
        174 | 500 => TrackingStatus::OutForDelivery,
        // Electronic shipping information received, item not yet with Canada Post.
        3000 | 3002 => TrackingStatus::PreTransit,
        // Held, customs, failed or delayed delivery, available for pick-up after a failed attempt.
        117
        | 120
        | 121
        | 125
        | 127
        | 150
        | 154
        | 159..=163
        | 167..=169
        | 172
        | 173
        | 179
        | 181..=184
        | 190
        | 810
        | 1100
        | 1411
        | 1414..=1420
        | 1443
        | 1450
        | 1481..=1484
        | 1487
        | 1491..=1494
        | 2411
        | 2412
        | 2414
        | 2600
        | 2802
        | 3001
        | 4650
        | 4700 => TrackingStatus::Exception,
        _ => TrackingStatus::InTransit,
    }
}

/// UTC offset of the time zone abbreviations Canada Post uses.
fn offset(tz: &str) -> Option<&'static str> {
    Some(match tz.trim().to_ascii_uppercase().as_str() {
        "NST" => "-03:30",
        "NDT" => "-02:30",
        "AST" => "-04:00",
        "ADT" => "-03:00",
        "EDT" => "-04:00",
        "EST" => "-05:00",
        "CST" => "-06:00",
        "CDT" => "-05:00",
        "MST" => "-07:00",
        "MDT" => "-06:00",
        "PST" => "-08:00",
        "PDT" => "-07:00",
        "UTC" | "GMT" => "Z",
        _ => return None,
    })
}

fn timestamp(date: &str, time: &str, tz: &str) -> String {
    if date.parse::<Date>().is_err() {
        return format!("{date} {time}").trim().to_string();
    }
    let valid_time = time.len() == 8
        && time
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 2 || i == 5 { b == b':' } else { b.is_ascii_digit() });
    if !valid_time {
        return date.to_string();
    }
    format!("{date}T{time}{}", offset(tz).unwrap_or(""))
}

/// Parses `<tracking-detail>` (track-v2): events newest first, status from the latest.
pub fn parse_tracking(body: &[u8]) -> Result<Tracking, CarrierError> {
    let root = root_of(body, "tracking-detail", TRACK_NS)?;
    let pin = root
        .text_at(&["pin"])
        .ok_or_else(|| CarrierError::Parse("tracking-detail without pin".into()))?;
    let mut events: Vec<(String, TrackingEvent)> = root
        .child("significant-events")
        .into_iter()
        .flat_map(|e| e.all("occurrence"))
        .map(|o| {
            let code = o.text_at(&["event-identifier"]).unwrap_or("");
            let description = o.text_at(&["event-description"]).unwrap_or("");
            let date = o.text_at(&["event-date"]).unwrap_or("");
            let time = o.text_at(&["event-time"]).unwrap_or("");
            let place: Vec<&str> = [o.text_at(&["event-site"]), o.text_at(&["event-province"])]
                .into_iter()
                .flatten()
                .collect();
            let event = TrackingEvent {
                occurred_at: timestamp(date, time, o.text_at(&["event-time-zone"]).unwrap_or("")),
                status: status_of(code, description),
                carrier_code: code.to_string(),
                description: description.to_string(),
                location: (!place.is_empty()).then(|| place.join(", ")),
            };
            (format!("{date}T{time}"), event)
        })
        .collect();
    // Canada Post lists newest first already; the stable sort only guards against a reordered answer.
    events.sort_by(|a, b| b.0.cmp(&a.0));
    let events: Vec<TrackingEvent> = events.into_iter().map(|(_, e)| e).collect();
    let estimated = root
        .text_at(&["changed-expected-date"])
        .or_else(|| root.text_at(&["expected-delivery-date"]))
        .and_then(|d| d.parse::<Date>().ok());
    let (status, carrier_code) = events
        .first()
        .map(|e| (e.status, e.carrier_code.clone()))
        .unwrap_or((TrackingStatus::Unknown, String::new()));
    Ok(Tracking {
        carrier: CARRIER.into(),
        tracking_number: pin.to_string(),
        status,
        carrier_code,
        estimated_delivery: estimated,
        events,
    })
}
