//! Request and response examples of the OpenAPI document: realistic bodies, taken from
//! `fixtures/` where one exists. `tests/openapi.rs` sends the request examples to a running
//! gateway and reads the response examples back into the types the server writes.

use serde_json::{json, Value};

/// The basic 850 fixture: acme-parts orders three lines.
pub fn x12_850() -> Value {
    Value::String(include_str!("../../../fixtures/x12/valid/850_4010_basic.edi").into())
}

/// A 202 receipt for that 850.
pub fn receipt() -> Value {
    json!({
        "submission_id": "sub_01HS8Q7Z4K3M2N1P0R9T8V7W6X",
        "status": "accepted",
        "interchanges": [{
            "id": "ich_01HS8Q7Z4M6B5C4D3E2F1G0H9J",
            "sender": "ZZ/ACMEPARTS",
            "control_number": "000000101",
            "status": "accepted",
            "duplicate": false,
            "ack": "ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *240311*0933*U*00401*000000001*0*P*>~GS*FA*TRADELANE*ACMEPARTS*20240311*0933*1*X*004010~ST*997*0001~AK1*PO*1101~AK2*850*0001~AK5*A~AK9*A*1*1*1~SE*6*0001~GE*1*1~IEA*1*000000001~",
            "ack_message_id": "msg_01HS8Q7Z4P8Q7R6S5T4U3V2W1X",
            "documents": [{
                "id": "doc_01HS8Q7Z4R0A9B8C7D6E5F4G3H",
                "set": "850",
                "control_number": "0001",
                "accepted": true,
                "message_id": "msg_01HS8Q7Z4S2J1K0L9M8N7P6Q5R"
            }]
        }],
        "errors": []
    })
}

/// An 855 accepting the 850 fixture.
pub fn po_ack_request() -> Value {
    json!({
        "partner": "acme-parts",
        "document": {
            "po_number": "4500012345",
            "po_date": "2024-03-11",
            "ack_type": "AC",
            "lines": [
                {"line_number": "1", "status": "IA", "quantity": 12, "uom": "EA",
                 "vendor_part_number": "BP-4471", "buyer_part_number": "AC-88213", "unit_price": "24.95", "date": "2024-03-18"},
                {"line_number": "2", "status": "IB", "quantity": 24, "uom": "EA",
                 "vendor_part_number": "OF-2210", "buyer_part_number": "AC-40761", "unit_price": "6.49", "date": "2024-03-25"}
            ]
        }
    })
}

/// An 856 for the 850 fixture (`fixtures/documents/ship_notice.json`).
pub fn ship_notice_request() -> Value {
    let document: Value = serde_json::from_str(include_str!("../../../fixtures/documents/ship_notice.json")).unwrap_or_default();
    json!({ "partner": "acme-parts", "document": document })
}

/// An 810 with a freight charge and a discount.
pub fn invoice_request() -> Value {
    json!({
        "partner": "acme-parts",
        "document": {
            "invoice_number": "INV-240322-01",
            "invoice_date": "2024-03-22",
            "po_number": "4500012519",
            "po_date": "2024-03-15",
            "currency": "USD",
            "lines": [
                {"line_number": "1", "quantity": 24, "uom": "EA", "unit_price": "16.00",
                 "vendor_part_number": "WB-2618", "buyer_part_number": "AC-60226", "description": "WIPER BLADE 26 IN BEAM"},
                {"line_number": "2", "quantity": 36, "uom": "EA", "unit_price": "16.00",
                 "vendor_part_number": "SB-1020", "buyer_part_number": "AC-72031", "description": "SERPENTINE BELT 6 RIB"}
            ],
            "charges": [
                {"code": "D240", "amount_cents": 2000, "description": "FREIGHT"},
                {"code": "C310", "amount_cents": -1000, "description": "PROMOTIONAL DISCOUNT"}
            ]
        }
    })
}

fn shipment() -> Value {
    json!({
        "from": {"name": "Acme Parts DC 12", "street": ["4800 Distribution Way"], "city": "Columbus",
                 "state": "OH", "postal_code": "43228", "country": "US", "phone": "6145550142"},
        "to": {"name": "Dana Whitfield", "street": ["2215 W Broad St"], "city": "Columbus", "state": "OH",
               "postal_code": "43204", "country": "US", "phone": "6145550199", "residential": true},
        "packages": [{"weight": "4.5", "weight_unit": "lb",
                      "dimensions": {"length": 12, "width": 10, "height": 6, "unit": "in"},
                      "reference": "PO 4500012345"}],
        "ship_date": "2026-11-26"
    })
}

/// A rate request: one parcel across town, delivery promised within three days.
pub fn rate_query() -> Value {
    let mut q = shipment();
    q["deliver_by"] = json!("2026-11-30");
    q
}

/// Rates, cheapest first, with one carrier failing.
pub fn rates() -> Value {
    json!({
        "rates": [{
            "carrier": "usps", "service_code": "USPS_GROUND_ADVANTAGE", "service_name": "USPS Ground Advantage",
            "total": {"amount": 9.85, "currency": "USD"},
            "breakdown": [{"code": "BASE", "description": "Base price", "amount": {"amount": 9.85, "currency": "USD"}}],
            "transit_days": 3, "estimated_delivery": "2026-11-30", "guaranteed": false, "meets_promise": true
        }, {
            "carrier": "ups", "service_code": "03", "service_name": "UPS Ground",
            "total": {"amount": 14.37, "currency": "USD"},
            "breakdown": [
                {"code": "BASE", "description": "Transportation", "amount": {"amount": 11.21, "currency": "USD"}},
                {"code": "FUEL", "description": "Fuel surcharge", "amount": {"amount": 1.61, "currency": "USD"}},
                {"code": "RESIDENTIAL", "description": "Residential surcharge", "amount": {"amount": 1.55, "currency": "USD"}}
            ],
            "transit_days": 1, "estimated_delivery": "2026-11-27", "guaranteed": false, "meets_promise": true
        }],
        "errors": [{"carrier": "dhl", "type": "carrier-timeout", "detail": "carrier did not answer within 3000 ms"}]
    })
}

/// A label bought with a named service.
pub fn label_order() -> Value {
    json!({ "shipment": shipment(), "carrier": "ups", "service_code": "03", "label_format": "zpl" })
}

/// A bought label.
pub fn label_record() -> Value {
    json!({
        "id": "lbl_01HS8Q7Z4K3M2N1P0R9T8V7W6X",
        "owner": "warehouse-1",
        "carrier": "ups",
        "shipper": null,
        "service_code": "03",
        "status": "purchased",
        "tracking_number": "1Z999AA10123456784",
        "label": {
            "carrier": "ups",
            "service_code": "03",
            "shipment_id": "1Z999AA10123456784",
            "tracking_numbers": ["1Z999AA10123456784"],
            "label_format": "zpl",
            "labels": ["XlhBXk5+...XlhaCg=="],
            "charges": {"amount": 14.37, "currency": "USD"}
        },
        "error": null,
        "created_at": 1764086400000_i64
    })
}

/// A parcel out for delivery.
pub fn tracking() -> Value {
    json!({
        "carrier": "ups",
        "tracking_number": "1Z999AA10123456784",
        "status": "out_for_delivery",
        "carrier_code": "OT",
        "estimated_delivery": "2026-11-27",
        "events": [
            {"occurred_at": "2026-11-27T07:42:00-05:00", "status": "out_for_delivery", "carrier_code": "OT",
             "description": "Out For Delivery Today", "location": "Columbus, OH, US"},
            {"occurred_at": "2026-11-26T18:05:00-05:00", "status": "in_transit", "carrier_code": "DP",
             "description": "Departed from Facility", "location": "Columbus, OH, US"},
            {"occurred_at": "2026-11-26T09:12:00-05:00", "status": "pre_transit", "carrier_code": "MP",
             "description": "Shipper created a label, UPS has not received the package yet.", "location": null}
        ]
    })
}

/// An outbound ship notice as `GET /v1/documents/{id}` shows it.
pub fn document_record() -> Value {
    let notice = ship_notice_request();
    json!({
        "id": "doc_01HS9B2C3D4E5F6G7H8J9K0M1N",
        "owner": "warehouse-1",
        "partner": "acme-parts",
        "direction": "outbound",
        "set_id": "856",
        "reference": "SH-20240312-0042",
        "interchange_id": null,
        "interchange_control": "000000007",
        "group_control": "7",
        "set_control": "0001",
        "status": "accepted",
        "ack_due_at": 1710324000000_i64,
        "created_at": 1710237600000_i64,
        "updated_at": 1710241200000_i64,
        "document": notice["document"],
        "x12": "ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *240312*1000*U*00401*000000007*0*P*>~\nGS*SH*TRADELANE*ACMEPARTS*20240312*1000*7*X*004010~\nST*856*0001~\n…",
        "history": [
            {"at": 1710237600000_i64, "event": "created", "detail": "queued"},
            {"at": 1710237601200_i64, "event": "delivered", "detail": "partner (msg_01HS9B2C3D7Q8R9S0T1U2V3W4X)"},
            {"at": 1710241200000_i64, "event": "accepted", "detail": "997 0001 from acme-parts: A"}
        ]
    })
}

/// A tracking subscription.
pub fn subscription() -> Value {
    json!({
        "carrier": "ups",
        "tracking_number": "1Z999AA10123456784",
        "url": "https://fulfillment.example.com/hooks/tracking"
    })
}
