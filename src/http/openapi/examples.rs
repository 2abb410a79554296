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

/// A landed-cost quote request: brake pads and wheel bearings from Columbus to a garage in
/// Cologne, DAP, 35.00 USD freight, worth 293.50 USD (below the EEI threshold: `NO EEI 30.37(a)`).
pub fn customs_quote_request() -> Value {
    json!({
        "from": {"company": "Acme Parts", "name": "Export desk", "street": ["4800 Distribution Way"], "city": "Columbus",
                 "state": "OH", "postal_code": "43228", "country": "US", "phone": "6145550142"},
        "to": {"company": "Müller Kfz GmbH", "name": "Teiledienst", "street": ["Hauptstraße 5"], "city": "Köln",
               "postal_code": "50667", "country": "DE", "phone": "+4922155501234"},
        "shipping": {"amount": "35.00", "currency": "USD"},
        "provider": "zonos",
        "declaration": {
            "contents_type": "merchandise",
            "reason_for_export": "sale",
            "incoterm": "DAP",
            "currency": "USD",
            "invoice_number": "INV-2026-0042",
            "invoice_date": "2026-11-25",
            "po_number": "MK-77120",
            "freight_charge": "35.00",
            "exporter_tax_ids": [{"type": "ein", "number": "12-3456789", "country": "US"}],
            "importer_tax_ids": [{"type": "eori", "number": "DE123456789012345", "country": "DE"}],
            "signer": {"name": "Jane Doe", "title": "Export manager"},
            "certify": true,
            "commodities": [
                {"description": "Brake pad set, ceramic", "quantity": 4, "unit": "PCS", "unit_value": "42.50",
                 "unit_net_weight": "1.2", "weight_unit": "kg", "hs_code": "8708.30", "origin_country": "US",
                 "sku": "BP-4410", "eccn": "EAR99"},
                {"description": "Wheel bearing", "quantity": 10, "unit": "PCS", "unit_value": "12.35",
                 "unit_net_weight": "0.4", "weight_unit": "kg", "hs_code": "8482.10", "origin_country": "US",
                 "sku": "WB-220", "eccn": "EAR99"}
            ]
        }
    })
}

/// The quote for that request: 3 % duty on the pads, 8 % on the bearings and 3 % on the freight
/// (CIF), 19 % import VAT on value + duty and on freight, and the clearance fee.
pub fn customs_quote() -> Value {
    json!({
        "id": "lcq_01JDX4S7Q9V2M8K3F6T1R0B5NW",
        "provider": "zonos",
        "currency": "USD",
        "items": [
            {"ref": "BP-4410", "sku": "BP-4410", "hs_code": "870830", "duty": 5.1, "tax": 33.27, "fees": 0,
             "formula": "duty 3%; tax 19% of (item + duty)"},
            {"ref": "WB-220", "sku": "WB-220", "hs_code": "848210", "duty": 9.88, "tax": 25.34, "fees": 0,
             "formula": "duty 8%; tax 19% of (item + duty)"}
        ],
        "totals": {"goods": 293.5, "shipping": 35, "duties": 16.03, "taxes": 65.46, "fees": 0, "brokerage": 14.5,
                   "landed_total": 424.49},
        "de_minimis_applied": false,
        "guaranteed": true,
        "quote_id": "ldct_8c1f2b7e4a9d4f0b",
        "created_at": "2026-11-25T15:30:00Z",
        "expires_at": "2026-11-26T15:30:00Z"
    })
}

/// Lakeside Motors' nightly run: stock positions from its DMS (older part numbers included,
/// followed through `mappings/parts/supersessions.csv`) and one explicit line.
pub fn replenishment_request() -> Value {
    json!({
        "reference": "DMS-NIGHTLY-2026-11-25",
        "positions": [
            {"part": "FL-1A", "on_hand": 2, "on_order": 0, "demand": 9},
            {"part": "FL-500S", "on_hand": 1},
            {"part": "FP-65", "on_hand": 1},
            {"part": "SP-589", "on_hand": 40, "on_order": 8, "demand": 6}
        ],
        "lines": [{"part": "BRF-1411", "quantity": 1}]
    })
}

fn dealer_order_lines() -> Value {
    json!([
        {"line_number": 1, "requested_part": "FL-1A", "part": "FL-500S", "supersession_chain": ["FL-1A", "FL-1AZ", "FL-500S"],
         "merged_parts": ["FL-500S"], "part_class": "oil filters", "quantity": 60, "uom": "EA", "available": -6},
        {"line_number": 2, "requested_part": "FP-65", "part": "FP-67", "supersession_chain": ["FP-65", "FP-67"],
         "part_class": "cabin and air filters", "quantity": 12, "uom": "EA", "available": 1},
        {"line_number": 3, "requested_part": "BRF-1411", "part": "BRF-1934", "supersession_chain": ["BRF-1411", "BRF-1411A", "BRF-1934"],
         "part_class": "brake pads", "quantity": 2, "uom": "EA"}
    ])
}

/// The order that request creates: an 850 to acme-parts.
pub fn dealer_order() -> Value {
    json!({
        "id": "dor_01JDX5B2N8C4P7Q1R6S3T9V0WX",
        "dealer": "lakeside-motors",
        "po_number": "LKM000001",
        "route": "x12",
        "supplier": "acme-parts",
        "status": "submitted",
        "reference": "DMS-NIGHTLY-2026-11-25",
        "lines": dealer_order_lines(),
        "shipments": [],
        "supplier_order_id": null,
        "document_id": "doc_01JDX5B2NA3D6F9G2H5J8K1M4P",
        "message_id": "msg_01JDX5B2NB7Q0R3S6T9V2W5X8Y",
        "created_at": 1764086400000_i64,
        "updated_at": 1764086400000_i64,
        "history": [
            {"at": 1764086400000_i64, "event": "created", "detail": "LKM000001 to x12 acme-parts"}
        ]
    })
}

/// The same order after acme-parts acknowledged it (855) and shipped it (856).
pub fn dealer_order_shipped() -> Value {
    let mut o = dealer_order();
    o["status"] = json!("shipped");
    o["updated_at"] = json!(1764172800000_i64);
    o["shipments"] = json!([{
        "shipment_id": "SH-20261126-0117",
        "ship_date": "2026-11-26",
        "carrier": "UPSN",
        "tracking_number": "1Z999AA10123456784",
        "bill_of_lading": null,
        "items": [
            {"part": "FL-500S", "quantity": 60, "uom": "EA", "sscc": "00106141411234567897"},
            {"part": "FP-67", "quantity": 12, "uom": "EA", "sscc": "00106141411234567897"},
            {"part": "BRF-1934", "quantity": 2, "uom": "EA", "sscc": "00106141411234567897"}
        ]
    }]);
    o["history"] = json!([
        {"at": 1764086400000_i64, "event": "created", "detail": "LKM000001 to x12 acme-parts"},
        {"at": 1764086401200_i64, "event": "sent", "detail": "partner"},
        {"at": 1764090000000_i64, "event": "acknowledged", "detail": "855 AC from acme-parts"},
        {"at": 1764172800000_i64, "event": "shipped", "detail": "856 SH-20261126-0117 from acme-parts: UPSN 1Z999AA10123456784"}
    ]);
    o
}
