-- Plugins (hotline-plugins): the registry of immutable versions, the tenants' key-value
-- stores, and the tenants' plugin logs.

-- A plugin is owned by a tenant (owner = the tenant's id, private) or by the platform
-- (owner = 'platform', the catalog every tenant may use).
CREATE TABLE plugins (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants(id),
    name TEXT NOT NULL,
    world TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner, name)
);

-- Versions never change once written; the component's bytes are the source of truth, the
-- precompiled artifact is a cache kept on disk by the registry.
CREATE TABLE plugin_versions (
    plugin_id TEXT NOT NULL REFERENCES plugins(id),
    version BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    author TEXT NOT NULL,
    notes TEXT NOT NULL,
    imports TEXT NOT NULL,
    component BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, version)
);

CREATE TABLE plugin_kv (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- One row per tenant that ever wrote: writers of a tenant take turns on it.
CREATE TABLE plugin_kv_locks (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id)
);

CREATE TABLE plugin_log (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    at BIGINT NOT NULL,
    call_id TEXT,
    plugin TEXT NOT NULL,
    version BIGINT NOT NULL,
    level TEXT NOT NULL,
    source TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX plugin_log_by_tenant ON plugin_log (tenant_id, id);
