CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- The console lists documents by date and looks up messages by interchange and document.
CREATE INDEX IF NOT EXISTS documents_created ON documents (created_at);
CREATE INDEX IF NOT EXISTS documents_interchange ON documents (interchange_id);
CREATE INDEX IF NOT EXISTS outbox_interchange ON outbox (interchange_id);
CREATE INDEX IF NOT EXISTS outbox_document ON outbox (document_id)
