-- Call history: one row per finished call, written once by the call engine (idempotent on the
-- call id) and never updated. The full record is JSON; the columns beside it are what lists and
-- KPI queries filter on.
CREATE TABLE call_records (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    hotline_id TEXT,
    direction TEXT NOT NULL,
    caller TEXT NOT NULL,
    dialed TEXT NOT NULL,
    arrived_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT NOT NULL,
    end_cause TEXT NOT NULL,
    record TEXT NOT NULL
);

CREATE INDEX call_records_by_tenant ON call_records (tenant_id, id);
CREATE INDEX call_records_by_tenant_time ON call_records (tenant_id, arrived_at);
