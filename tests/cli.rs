//! The `tradelane x12` command line, run as a child process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tradelane(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradelane"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tradelane");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("tradelane runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn validate_accepts_a_good_850_and_prints_its_997() {
    let out = tradelane(
        &[
            "x12",
            "validate",
            "--timestamp",
            "202403151200",
            "fixtures/x12/valid/850_4010_basic.edi",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["accepted"], true);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    let ack = v["ack"].as_str().unwrap();
    assert!(
        ack.starts_with("ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *240315*1200*U*00401*000000001*0*P*>~"),
        "{ack}"
    );
    assert!(ack.contains("GS*FA*TRADELANE*ACMEPARTS*20240315*1200*1*X*004010~"), "{ack}");
    assert!(
        ack.contains("AK1*PO*1101~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~"),
        "{ack}"
    );
}

#[test]
fn validate_rejects_a_bad_segment_count_with_exit_1() {
    let out = tradelane(&["x12", "validate", "fixtures/x12/invalid/se01_count.edi"], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["accepted"], false);
    assert!(v["ack"].as_str().unwrap().contains("AK5*R*4~"), "{}", v["ack"]);
    assert!(v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["level"] == "set" && e["code"] == "4"));
}

#[test]
fn validate_reads_stdin_and_answers_a_ta1_request() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/x12/valid/850_4010_ta1_requested.edi"
    ))
    .unwrap();
    let isa13 = String::from_utf8_lossy(&data[90..99]).into_owned();
    let out = tradelane(&["x12", "validate", "-"], Some(&data));
    assert_eq!(out.status.code(), Some(0));
    let ack = json(&out)["ack"].as_str().unwrap().to_string();
    assert!(ack.contains(&format!("TA1*{isa13}*")), "{ack}");
    assert!(ack.contains("*A*000~"), "{ack}");
}

#[test]
fn validate_sends_a_999_to_a_partner_that_asks_for_one() {
    let out = tradelane(&["x12", "validate", "fixtures/x12/valid/850_5010_pipe.edi"], None);
    let ack = json(&out)["ack"].as_str().unwrap().to_string();
    assert!(ack.contains("|999|0001|005010X231A1~"), "{ack}");
    assert!(ack.contains("IK5|A~"), "{ack}");
    assert!(ack.contains("AK1|PO|"), "{ack}");
}

#[test]
fn garbage_is_rejected_not_a_crash() {
    let out = tradelane(&["x12", "validate", "fixtures/x12/invalid/garbage.edi"], None);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["accepted"], false);
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("expected an ISA"));
}

#[test]
fn parse_prints_the_tree() {
    let out = tradelane(&["x12", "parse", "fixtures/x12/valid/multi_gs_po_fa.edi"], None);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let groups = v["interchanges"][0]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["header"]["functional_id"], "PO");
    assert_eq!(groups[1]["header"]["functional_id"], "FA");
    assert_eq!(groups[0]["sets"][0]["segments"][1][0], "BEG");
}

#[test]
fn translate_then_render_round_trips_a_ship_notice() {
    let out = tradelane(&["x12", "translate", "fixtures/x12/valid/856_4010_sopi.edi"], None);
    assert_eq!(out.status.code(), Some(0));
    let docs = json(&out);
    let notice = docs[0]["document"].clone();
    assert_eq!(docs[0]["type"], "ship_notice");
    let rendered = tradelane(
        &[
            "x12",
            "render",
            "--set",
            "856",
            "--partner",
            "acme-parts",
            "--control-number",
            "77",
            "-",
        ],
        Some(notice.to_string().as_bytes()),
    );
    assert_eq!(rendered.status.code(), Some(0), "{}", String::from_utf8_lossy(&rendered.stderr));
    let x12 = rendered.stdout.clone();
    let text = String::from_utf8_lossy(&x12);
    assert!(text.contains("*000000077*"), "{text}");
    assert!(text.contains("HL*1**S*1~"), "{text}");
    let valid = tradelane(&["x12", "validate", "-"], Some(&x12));
    assert_eq!(valid.status.code(), Some(0), "{}", String::from_utf8_lossy(&valid.stdout));
    let again = json(&tradelane(&["x12", "translate", "-"], Some(&x12)));
    assert_eq!(again[0]["document"], notice);
}

#[test]
fn render_computes_the_invoice_total() {
    let invoice = serde_json::json!({
        "invoice_number": "INV-1", "invoice_date": "2024-03-22", "po_number": "4500012519",
        "lines": [
            {"line_number": "1", "quantity": 24, "uom": "EA", "unit_price": "16.00", "vendor_part_number": "BP-4471"},
            {"line_number": "2", "quantity": 36, "uom": "EA", "unit_price": "16.00"}
        ],
        "charges": [{"code": "D240", "amount_cents": 2000}, {"code": "C310", "amount_cents": -1000}]
    });
    let out = tradelane(
        &["x12", "render", "--set", "810", "--partner", "northwind", "-"],
        Some(invoice.to_string().as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TDS|97000~"), "{text}");
    assert!(text.contains("SAC|C|D240|||2000~SAC|A|C310|||1000~"), "{text}");
    assert!(text.contains("CTT|2|60~"), "{text}");
}

#[test]
fn render_refuses_a_delimiter_inside_data() {
    let po = serde_json::json!({
        "po_number": "PO*1", "po_date": "2024-03-11", "purpose": "original",
        "lines": [], "line_count": 0, "quantity_total": 0
    });
    let out = tradelane(
        &["x12", "render", "--set", "850", "--partner", "acme-parts", "-"],
        Some(po.to_string().as_bytes()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("contains the delimiter"));
}

#[test]
fn render_names_the_bad_field() {
    let out = tradelane(
        &["x12", "render", "--set", "856", "--partner", "acme-parts", "-"],
        Some(br#"{"shipment_id": "S1", "ship_date": "2024-02-30", "orders": []}"#),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid ShipNotice document") && err.contains("date"), "{err}");
}

#[test]
fn keys_are_printed_once_and_stored_only_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let url = format!("sqlite:{}", db.display());
    let out = tradelane(
        &[
            "keys",
            "create",
            "--owner",
            "acme-parts",
            "--scope",
            "x12:write",
            "--scope",
            "documents:read",
            "--database-url",
            &url,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (key_id, secret) = token.strip_prefix("tl_").unwrap().split_once('_').unwrap();
    assert_eq!(key_id.len(), 12);
    assert!(secret.len() >= 43, "256-bit secret");
    // Neither the database file nor its WAL holds the secret.
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "secret stored in clear"
        );
    }
    let revoke = tradelane(&["keys", "revoke", key_id, "--database-url", &url], None);
    assert_eq!(revoke.status.code(), Some(0));
    let again = tradelane(&["keys", "revoke", key_id, "--database-url", &url], None);
    assert_eq!(again.status.code(), Some(2), "already revoked");
    let bad = tradelane(
        &["keys", "create", "--owner", "x", "--scope", "everything", "--database-url", &url],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
}
