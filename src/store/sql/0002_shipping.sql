CREATE TABLE labels (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    carrier TEXT NOT NULL,
    shipper TEXT,
    service_code TEXT NOT NULL,
    status TEXT NOT NULL,
    tracking_number TEXT,
    label TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner, idempotency_key)
);

CREATE TABLE tracking_subscriptions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BIGINT NOT NULL,
    last_status TEXT,
    last_event_at TEXT,
    next_poll_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tracking_due ON tracking_subscriptions (active, next_poll_at);

ALTER TABLE outbox ADD COLUMN url TEXT;
ALTER TABLE outbox ADD COLUMN secret TEXT
