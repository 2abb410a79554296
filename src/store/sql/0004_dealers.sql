CREATE TABLE dealer_orders (
    id TEXT PRIMARY KEY,
    dealer TEXT NOT NULL,
    po_number TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    supplier TEXT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT,
    lines TEXT NOT NULL,
    shipments TEXT NOT NULL,
    supplier_order_id TEXT,
    document_id TEXT,
    message_id TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dealer, idempotency_key)
);
CREATE INDEX dealer_orders_dealer ON dealer_orders (dealer, created_at);
CREATE INDEX dealer_orders_supplier ON dealer_orders (supplier, po_number);
CREATE INDEX dealer_orders_message ON dealer_orders (message_id);

CREATE TABLE dealer_order_events (
    seq {pk},
    order_id TEXT NOT NULL REFERENCES dealer_orders (id),
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX dealer_order_events_order ON dealer_order_events (order_id, seq)
