//! Customs declaration validation through the public API: the JSON shape
//! callers send, every field error reported at once with its path, and the
//! US export filing (ITN or exemption legend) decided from the lines.

use serde_json::{json, Value};
use tradelane::customs::{
    validate_for, CountryCode, CurrencyCode, CustomsError, Declaration, ExportFiling, FieldErrors, HsCode, Itn, RawDeclaration,
};

fn raw(v: Value) -> RawDeclaration {
    serde_json::from_value(v).expect("the JSON shape deserializes")
}

fn line(description: &str, quantity: u32, unit_value: &str, hs_code: &str) -> Value {
    json!({
        "description": description, "quantity": quantity, "unit_value": unit_value,
        "unit_net_weight": "0.5", "weight_unit": "kg", "hs_code": hs_code, "origin_country": "US"
    })
}

fn declaration(lines: Vec<Value>) -> Value {
    json!({ "contents_type": "merchandise", "currency": "USD", "invoice_number": "INV-1", "commodities": lines })
}

fn validate(from: &str, to: &str, v: Value) -> Result<Declaration, FieldErrors> {
    match validate_for(from, to, Some(&raw(v)), "shipment", true) {
        Ok(d) => Ok(d.expect("a declaration was given")),
        Err(CustomsError::Invalid(e)) => Err(e),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn fields(e: &FieldErrors) -> Vec<&str> {
    e.0.iter().map(|f| f.field.as_str()).collect()
}

#[test]
fn a_bad_hs_code_is_named_by_its_path() {
    let e = validate(
        "US",
        "DE",
        declaration(vec![line("Cotton T-shirt", 1, "10", "6109.10.0012"), line("Mug", 2, "5", "6912")]),
    )
    .unwrap_err();
    assert_eq!(fields(&e), ["shipment.customs.commodities[1].hs_code"]);
    assert_eq!(e.0[0].message, "HS code \"6912\" has 4 digits; 6 to 10 are required");

    let e = validate("US", "DE", declaration(vec![line("Mug", 2, "5", "6912.00.AB")])).unwrap_err();
    assert_eq!(fields(&e), ["shipment.customs.commodities[0].hs_code"]);
    assert!(e.0[0].message.contains("only digits"), "{}", e.0[0].message);
}

#[test]
fn hs_codes_keep_digits_and_format_per_carrier() {
    let hs: HsCode = "6109.10.0012".parse().unwrap();
    assert_eq!(hs.as_str(), "6109100012");
    assert_eq!(hs.dotted(), "6109.10.00.12");
    assert_eq!("610910".parse::<HsCode>().unwrap().dotted(), "6109.10");
    assert_eq!(serde_json::to_value(&hs).unwrap(), json!("6109100012"));
    assert!(serde_json::from_value::<HsCode>(json!("61091000123")).is_err());
}

#[test]
fn bad_countries_and_currencies_are_rejected() {
    let mut bad_origin = line("Cotton T-shirt", 1, "10", "6109100012");
    bad_origin["origin_country"] = json!("UK");
    let mut v = declaration(vec![bad_origin]);
    v["currency"] = json!("EURO");
    v["importer_tax_ids"] = json!([{ "type": "vat", "number": "GB123456789", "country": "XX" }]);
    let e = validate("US", "GB", v).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "shipment.customs.currency",
            "shipment.customs.importer_tax_ids[0].country",
            "shipment.customs.commodities[0].origin_country",
        ]
    );
    assert_eq!(e.0[0].message, "\"EURO\" is not an ISO 4217 currency code");
    assert_eq!(e.0[2].message, "\"UK\" is not an ISO 3166-1 alpha-2 country code");

    assert!("XTS".parse::<CurrencyCode>().is_err(), "test code, not a currency");
    assert_eq!("cad".parse::<CurrencyCode>().unwrap(), CurrencyCode::CAD);
    assert_eq!("gb".parse::<CountryCode>().unwrap().name(), "United Kingdom");

    // The lane's own countries are checked too.
    let Err(CustomsError::Invalid(e)) = validate_for("US", "Germany", Some(&raw(declaration(vec![]))), "shipment", true) else {
        panic!("expected field errors")
    };
    assert_eq!(fields(&e), ["shipment.to.country"]);
}

#[test]
fn over_2500_usd_without_itn_names_the_lines() {
    let v = declaration(vec![
        line("Laptop computer", 1, "1800.00", "8471.30.0100"),
        line("Cotton T-shirt", 10, "12.00", "6109.10.0012"),
        line("Laptop computer, refurbished", 1, "900.00", "8471300100"),
    ]);
    let e = validate("US", "DE", v.clone()).unwrap_err();
    assert_eq!(fields(&e), ["shipment.customs.itn"]);
    assert_eq!(
        e.0[0].message,
        "an AES ITN is required: commodities[0], commodities[2] with Schedule B 8471300100 are worth together 2700.00 USD, over 2500 USD"
    );

    let mut with_itn = v;
    with_itn["itn"] = json!("AES X20250317123456");
    let d = validate("US", "DE", with_itn).unwrap();
    assert_eq!(d.export_filing, ExportFiling::Itn("X20250317123456".parse::<Itn>().unwrap()));
    assert_eq!(d.export_filing.printed().as_deref(), Some("AES X20250317123456"));
}

#[test]
fn at_most_2500_usd_per_schedule_b_gets_the_low_value_legend() {
    let d = validate(
        "US",
        "JP",
        declaration(vec![
            line("Laptop computer", 1, "2500.00", "8471300100"),
            line("Cotton T-shirt", 100, "24.00", "6109100012"),
        ]),
    )
    .unwrap();
    assert_eq!(d.export_filing, ExportFiling::Exemption("NO EEI 30.37(a)".into()));
    assert_eq!(d.total_value().to_string(), "4900");
}

#[test]
fn canada_is_exempt_whatever_the_value() {
    let d = validate("US", "CA", declaration(vec![line("Laptop computer", 3, "1800.00", "8471300100")])).unwrap();
    assert_eq!(d.export_filing, ExportFiling::Exemption("NO EEI 30.36".into()));

    // The Canadian legend is refused elsewhere.
    let mut v = declaration(vec![line("Mug", 1, "5", "691200")]);
    v["eei_exemption"] = json!("NO EEI 30.36");
    let e = validate("US", "MX", v).unwrap_err();
    assert_eq!(fields(&e), ["shipment.customs.itn"]);
    assert_eq!(e.0[0].message, "NO EEI 30.36 applies only to shipments to Canada");
}

#[test]
fn a_licence_forces_an_itn_even_to_canada() {
    let mut licensed = line("Night vision scope", 1, "300", "9013800000");
    licensed["export_licence"] = json!("D1234567");
    licensed["eccn"] = json!("6A003");
    let e = validate("US", "CA", declaration(vec![licensed.clone()])).unwrap_err();
    assert_eq!(fields(&e), ["shipment.customs.itn"]);
    assert_eq!(
        e.0[0].message,
        "an AES ITN is required: commodities[0] is exported under licence D1234567"
    );

    // A controlled ECCN to China needs an ITN at any value, even without a licence.
    let mut controlled = line("Encryption router", 1, "150", "8517620090");
    controlled["eccn"] = json!("5A992");
    let e = validate("US", "CN", declaration(vec![controlled])).unwrap_err();
    assert!(
        e.0[0].message.contains("commodities[0] has ECCN 5A992 (not EAR99) and goes to CN"),
        "{}",
        e.0[0].message
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let v = json!({
        "contents_type": "stuff",
        "reason_for_export": "other",
        "incoterm": "XYZ",
        "currency": "EUR",
        "duties_payer": "third_party",
        "invoice_date": "17/03/2025",
        "itn": "X123",
        "importer_tax_ids": [{ "type": "ioss", "number": "IM12345", "country": "FR" }],
        "commodities": [
            { "description": "", "quantity": 0, "unit_value": "-1", "unit_net_weight": "abc", "hs_code": "12",
              "origin_country": "ZZ", "currency": "USD", "weight_unit": "stone", "eccn": "9Z999" },
            { "description": "Cotton T-shirt", "quantity": 2, "unit_value": "10", "unit_net_weight": "0.2",
              "hs_code": "610910", "origin_country": "PT" }
        ]
    });
    let e = validate("US", "FR", v).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "shipment.customs.contents_type",
            "shipment.customs.reason_explanation",
            "shipment.customs.incoterm",
            "shipment.customs.invoice_date",
            "shipment.customs.duties_account",
            "shipment.customs.importer_tax_ids[0].number",
            "shipment.customs.itn",
            "shipment.customs.commodities[0].description",
            "shipment.customs.commodities[0].quantity",
            "shipment.customs.commodities[0].unit_value",
            "shipment.customs.commodities[0].currency",
            "shipment.customs.commodities[0].unit_value_usd",
            "shipment.customs.commodities[0].unit_net_weight",
            "shipment.customs.commodities[0].weight_unit",
            "shipment.customs.commodities[0].hs_code",
            "shipment.customs.commodities[0].origin_country",
            "shipment.customs.commodities[0].eccn",
            "shipment.customs.commodities[1].unit_value_usd",
        ],
        "{e}"
    );
    // The Display form lists them all, for logs and problem details.
    assert!(e
        .to_string()
        .starts_with("shipment.customs.contents_type: \"stuff\" is not one of merchandise, gift, documents"));
}

#[test]
fn missing_required_fields_and_unknown_keys() {
    let e = validate("DE", "CH", json!({})).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "shipment.customs.contents_type",
            "shipment.customs.currency",
            "shipment.customs.commodities"
        ]
    );
    let e = validate(
        "DE",
        "CH",
        json!({ "contents_type": "gift", "currency": "EUR", "commodities": [{}] }),
    )
    .unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "shipment.customs.commodities[0].description",
            "shipment.customs.commodities[0].quantity",
            "shipment.customs.commodities[0].unit_value",
            "shipment.customs.commodities[0].unit_net_weight",
            "shipment.customs.commodities[0].hs_code",
            "shipment.customs.commodities[0].origin_country",
        ]
    );
    // A misspelt key is an error, not silently dropped.
    let err = serde_json::from_value::<RawDeclaration>(json!({ "contents_type": "gift", "hs_cod": "610910" })).unwrap_err();
    assert!(err.to_string().contains("unknown field `hs_cod`"), "{err}");
}

#[test]
fn a_non_us_export_needs_no_filing_and_keeps_its_currency() {
    let mut v = declaration(vec![line("Wool scarf", 2, "45.00", "6117.10")]);
    v["currency"] = json!("EUR");
    v["commodities"][0]["origin_country"] = json!("IT");
    v["incoterm"] = json!("DDP");
    v["exporter_tax_ids"] = json!([{ "type": "eori", "number": "IT12345678901", "country": "IT" }]);
    v["importer_tax_ids"] = json!([{ "type": "vat", "number": "CHE-123.456.789", "country": "CH" }]);
    let d = validate("IT", "CH", v).unwrap();
    assert_eq!(d.export_filing, ExportFiling::NotApplicable);
    assert_eq!(d.currency.as_str(), "EUR");
    assert_eq!(d.commodities[0].unit_value_usd, None);
    assert_eq!(d.total_value().to_string(), "90");
    assert_eq!(d.exporter_tax_ids[0].number, "IT12345678901");
}

#[test]
fn non_usd_us_exports_use_the_usd_values_given() {
    let mut l = line("Laptop computer", 1, "2400.00", "8471300100");
    l["currency"] = json!("EUR");
    l["unit_value_usd"] = json!("2600.00");
    let mut v = declaration(vec![l]);
    v["currency"] = json!("EUR");
    let e = validate("US", "FR", v.clone()).unwrap_err();
    assert!(e.0[0].message.contains("2600.00 USD"), "{e}");
    v["commodities"][0]["unit_value_usd"] = json!("2400.00");
    assert_eq!(validate("US", "FR", v).unwrap().total_value_usd().unwrap().to_string(), "2400");
}

#[test]
fn crossing_a_border_without_a_declaration_is_its_own_error() {
    let e = validate_for("US", "DE", None, "shipment", true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a customs declaration (shipment.customs) is required for a shipment from US to DE"
    );
    // US ↔ Puerto Rico and inside the EU customs union: no declaration needed.
    assert_eq!(validate_for("US", "PR", None, "shipment", true), Ok(None));
    assert_eq!(validate_for("DE", "FR", None, "shipment", true), Ok(None));
    // Rates do not require one.
    assert_eq!(validate_for("US", "DE", None, "", false), Ok(None));
}
