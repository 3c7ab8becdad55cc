-- Tenant model: tenants and everything they own. Every tenant-owned table carries tenant_id,
-- and references between tenant-owned rows go through (tenant_id, id) so the database itself
-- refuses a hotline that falls back to another tenant's queue.
-- Ids are application-made UUIDv7 text; timestamps are UTC milliseconds; JSON is TEXT.
-- Booleans are INTEGER 0/1 here (BOOLEAN in PostgreSQL): sqlx's Any driver cannot read a SQLite
-- column declared BOOLEAN.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    max_concurrent_calls BIGINT NOT NULL,
    max_calls_per_second BIGINT NOT NULL,
    plugin_cpu_ms_per_call BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE prompts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    description TEXT NOT NULL,
    duration_ms BIGINT,
    storage_key TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE queues (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    strategy TEXT NOT NULL,
    max_wait_secs BIGINT NOT NULL,
    max_length BIGINT NOT NULL,
    wrap_up_secs BIGINT NOT NULL,
    service_level_secs BIGINT NOT NULL,
    overflow TEXT,
    announce_position_secs BIGINT NOT NULL,
    moh_prompt_id TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, moh_prompt_id) REFERENCES prompts (tenant_id, id)
);

CREATE TABLE hotlines (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    always_open INTEGER NOT NULL CHECK (always_open IN (0, 1)),
    schedule TEXT NOT NULL,
    closed_action TEXT NOT NULL,
    ivr_plugin TEXT,
    ivr_plugin_version BIGINT,
    fallback_queue_id TEXT,
    recording_policy TEXT NOT NULL,
    language TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, fallback_queue_id) REFERENCES queues (tenant_id, id)
);

CREATE TABLE numbers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    e164 TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    hotline_id TEXT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, hotline_id) REFERENCES hotlines (tenant_id, id)
);

-- tenant_id NULL: one of the firm's agents, who may serve several tenants (agent_assignments).
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    name TEXT NOT NULL,
    sip_username TEXT NOT NULL,
    realm TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    skills TEXT NOT NULL,
    user_id TEXT,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (realm, sip_username)
);

CREATE TABLE agent_assignments (
    agent_id TEXT NOT NULL REFERENCES agents (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agent_id, tenant_id)
);

CREATE TABLE queue_members (
    tenant_id TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    penalty BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (queue_id, agent_id),
    FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id)
);
CREATE INDEX queue_members_agent ON queue_members (agent_id);

-- tenant_id NULL: a user of the platform operator (platform-admin).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);
