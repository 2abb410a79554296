CREATE TABLE customs_quotes (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_quote_id TEXT,
    currency TEXT NOT NULL,
    landed_total TEXT NOT NULL,
    request TEXT NOT NULL,
    quote TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX customs_quotes_owner ON customs_quotes (owner, created_at)
