-- Agents' SIP registrations: the registrar's bindings, written through on every change so a
-- restart does not forget phones (the registrar's memory is what calls are routed by while it
-- runs). One row per contact of an agent, keyed by the contact's identity (`contact_key`:
-- +sip.instance or the canonical contact URI). `source`/`transport` are where the REGISTER
-- really came from, which is where calls to the phone go (NAT). `tenant_id` is the agent's
-- tenant, NULL for a firm agent. Rows of a deleted agent go with it.

CREATE TABLE sip_bindings (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    aor TEXT NOT NULL,
    contact_key TEXT NOT NULL,
    contact_uri TEXT NOT NULL,
    instance_id TEXT,
    source TEXT NOT NULL,
    transport TEXT NOT NULL,
    user_agent TEXT,
    call_id TEXT NOT NULL,
    cseq BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    registered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (agent_id, contact_key)
);

CREATE INDEX sip_bindings_expires ON sip_bindings (expires_at);
