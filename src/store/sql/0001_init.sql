CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    scopes TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    raw {blob} NOT NULL,
    receipt TEXT NOT NULL,
    UNIQUE (owner, content_hash)
);

CREATE TABLE interchanges (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    owner TEXT NOT NULL,
    sender TEXT NOT NULL,
    control_number TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    report TEXT NOT NULL,
    ack TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (sender, control_number)
);
CREATE INDEX interchanges_owner ON interchanges (owner, received_at);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    partner TEXT NOT NULL,
    direction TEXT NOT NULL,
    set_id TEXT NOT NULL,
    reference TEXT,
    interchange_id TEXT,
    interchange_control TEXT,
    group_control TEXT,
    set_control TEXT,
    status TEXT NOT NULL,
    ack_due_at BIGINT,
    document TEXT NOT NULL,
    x12 TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner, idempotency_key)
);
CREATE INDEX documents_partner ON documents (partner, created_at);
CREATE INDEX documents_reconcile ON documents (partner, direction, group_control, set_control);
CREATE INDEX documents_due ON documents (status, ack_due_at);

CREATE TABLE document_events (
    seq {pk},
    document_id TEXT NOT NULL REFERENCES documents (id),
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX document_events_document ON document_events (document_id, seq);

CREATE TABLE control_numbers (
    partner TEXT NOT NULL,
    kind TEXT NOT NULL,
    next_value BIGINT NOT NULL,
    PRIMARY KEY (partner, kind)
);

CREATE TABLE outbox (
    seq {pk},
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    destination TEXT NOT NULL,
    kind TEXT NOT NULL,
    document_id TEXT,
    interchange_id TEXT,
    ordering_key TEXT,
    content_type TEXT NOT NULL,
    body {blob} NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_token TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox (destination, state, next_attempt_at);
CREATE INDEX outbox_order ON outbox (destination, ordering_key, seq);

CREATE TABLE outbox_attempts (
    seq {pk},
    message_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT,
    error TEXT,
    response TEXT
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, seq);
