-- Plugin settings of a tenant (hotline-plugins): the hosts its plugins may reach over
-- `hotline:plugin/http`. No row: the defaults (nothing allowed).
CREATE TABLE plugin_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    -- JSON array of entries: `crm.example.com`, `*.example.com`, either with `:port`.
    http_allowlist TEXT NOT NULL,
    -- Starts at 1 with the first write; the API's ETag and If-Match.
    version BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
