-- Carrier trunks, configured by the platform operator (no tenant_id: a trunk serves the whole
-- installation). Inbound: a source allowlist (JSON array of CIDRs) and/or digest credentials the
-- carrier authenticates with, kept only as HA1s in `inbound_realm`. Outbound: the provider's
-- address, our caller-ID policy and registration settings as JSON, and the digest password we must
-- send to the provider in its own column: the one secret stored reversibly, never in the JSON, the
-- API or the audit log.
-- Booleans are BOOLEAN here (INTEGER 0/1 in SQLite).

CREATE TABLE trunks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    enabled BOOLEAN NOT NULL,
    inbound_sources TEXT NOT NULL,
    inbound_username TEXT,
    inbound_realm TEXT,
    inbound_ha1_md5 TEXT,
    inbound_ha1_sha256 TEXT,
    outbound TEXT,
    outbound_password TEXT,
    max_concurrent_calls BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
