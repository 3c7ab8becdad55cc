-- Billing: tariffs and their numbered versions, billing accounts and contracts, seat/number
-- ownership for recurring fees, metered usage appended once per (call, leg, metric), invoices per
-- billing period with their lines and late adjustments, credit notes, the payment-provider
-- outbox and webhook deduplication. Owned and read by the billing crate only.
--
-- What is final never changes, and the triggers below refuse it here as well as in the store:
-- a finalized (paid, void) invoice keeps its content, lines and totals; lines, usage, adjustments
-- and credit notes are never updated or deleted; a used tariff version never changes. Their
-- messages carry the marker `hotline_billing_immutable`, which the store turns into an error.
-- Tenant ids carry no foreign key: invoices outlive a deleted tenant, as the law requires.

CREATE TABLE billing_tariffs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One immutable version per row: the TariffVersion as JSON. `used_at` is set when a finalized
-- invoice first billed by it; from then on (or once it is in effect) it never changes.
CREATE TABLE billing_tariff_versions (
    tariff_id TEXT NOT NULL REFERENCES billing_tariffs (id),
    version BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (tariff_id, version)
);

CREATE TABLE billing_accounts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    currency TEXT NOT NULL,
    tax_rate TEXT,
    billing_day INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    grace_ms BIGINT NOT NULL,
    stripe_customer_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE billing_contracts (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE,
    tariff_id TEXT NOT NULL REFERENCES billing_tariffs (id),
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A seat (agent assigned) or number held over [from_at, until_at); at most one open interval
-- per unit.
CREATE TABLE billing_ownership (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    from_at BIGINT NOT NULL,
    until_at BIGINT
);
CREATE UNIQUE INDEX billing_ownership_open ON billing_ownership (tenant_id, kind, unit_id) WHERE until_at IS NULL;
CREATE INDEX billing_ownership_by_tenant ON billing_ownership (tenant_id, from_at);

-- One invoice per tenant and period: open -> closing -> finalized -> paid | void.
CREATE TABLE billing_invoices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES billing_accounts (id),
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    ends_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    grace_until BIGINT,
    purchase_order TEXT,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT,
    tax_minor BIGINT,
    total_minor BIGINT,
    content TEXT,
    content_hash TEXT,
    payment_status TEXT,
    created_at BIGINT NOT NULL,
    closing_at BIGINT,
    finalized_at BIGINT,
    status_changed_at BIGINT,
    UNIQUE (tenant_id, period_start)
);
CREATE INDEX billing_invoices_by_status ON billing_invoices (status, ends_at);

CREATE TABLE billing_invoice_lines (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES billing_invoices (id),
    tenant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    tariff_id TEXT NOT NULL,
    tariff_version BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    UNIQUE (invoice_id, position)
);

-- Metered usage, appended once per (call, leg, metric). `invoice_id` is the invoice it is billed
-- on; `source_invoice_id` is set for late usage: the closed invoice of the period it belongs to.
-- No foreign key on invoice_id: ingestion checks it under a lock, and a per-row key check would
-- halve ingestion speed.
CREATE TABLE billing_usage (
    call_id TEXT NOT NULL,
    leg INTEGER NOT NULL,
    metric TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    source_invoice_id TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    ingested_at BIGINT NOT NULL,
    PRIMARY KEY (call_id, leg, metric)
);
CREATE INDEX billing_usage_by_invoice ON billing_usage (invoice_id);

-- Late usage as billed on a later invoice: rated, with the bundle share it took from what its
-- own (closed) period left.
CREATE TABLE billing_adjustments (
    call_id TEXT NOT NULL,
    leg INTEGER NOT NULL,
    metric TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL REFERENCES billing_invoices (id),
    source_invoice_id TEXT NOT NULL REFERENCES billing_invoices (id),
    included_seconds BIGINT NOT NULL,
    rated TEXT NOT NULL,
    PRIMARY KEY (call_id, leg, metric)
);
CREATE INDEX billing_adjustments_by_source ON billing_adjustments (source_invoice_id);

CREATE TABLE billing_credit_notes (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES billing_invoices (id),
    tenant_id TEXT NOT NULL,
    reason TEXT,
    memo TEXT,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    lines TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX billing_credit_notes_by_invoice ON billing_credit_notes (invoice_id);

-- The payment provider's copy of an invoice, as the outbox and webhooks last saw it.
CREATE TABLE billing_provider_invoices (
    invoice_id TEXT PRIMARY KEY REFERENCES billing_invoices (id),
    tenant_id TEXT NOT NULL,
    provider_invoice_id TEXT NOT NULL UNIQUE,
    provider_status TEXT NOT NULL,
    number TEXT,
    hosted_url TEXT,
    updated_at BIGINT NOT NULL
);

-- Work for the payment provider, enqueued with the finalization it mirrors. Steps of one invoice
-- run in order. status: local (no provider configured) | pending | done | failed.
CREATE TABLE billing_outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL REFERENCES billing_invoices (id),
    step INTEGER NOT NULL,
    operation TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    amount_minor BIGINT,
    currency TEXT,
    description TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    key_first_sent_at BIGINT,
    reconcile INTEGER NOT NULL,
    claimed_until BIGINT,
    provider_id TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (invoice_id, step)
);
CREATE INDEX billing_outbox_due ON billing_outbox (status, next_attempt_at);

CREATE TABLE billing_webhook_events (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    provider_invoice_id TEXT,
    invoice_id TEXT,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TRIGGER billing_tariff_versions_used_frozen BEFORE UPDATE ON billing_tariff_versions
WHEN OLD.used_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a used tariff version');
END;

CREATE TRIGGER billing_tariff_versions_kept BEFORE DELETE ON billing_tariff_versions
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a tariff version');
END;

CREATE TRIGGER billing_invoices_final_frozen BEFORE UPDATE ON billing_invoices
WHEN OLD.status IN ('finalized', 'paid', 'void') AND (
    NEW.status NOT IN ('finalized', 'paid', 'void')
    OR NEW.id IS NOT OLD.id
    OR NEW.tenant_id IS NOT OLD.tenant_id
    OR NEW.account_id IS NOT OLD.account_id
    OR NEW.period_start IS NOT OLD.period_start
    OR NEW.period_end IS NOT OLD.period_end
    OR NEW.ends_at IS NOT OLD.ends_at
    OR NEW.grace_until IS NOT OLD.grace_until
    OR NEW.purchase_order IS NOT OLD.purchase_order
    OR NEW.currency IS NOT OLD.currency
    OR NEW.subtotal_minor IS NOT OLD.subtotal_minor
    OR NEW.tax_minor IS NOT OLD.tax_minor
    OR NEW.total_minor IS NOT OLD.total_minor
    OR NEW.content IS NOT OLD.content
    OR NEW.content_hash IS NOT OLD.content_hash
    OR NEW.closing_at IS NOT OLD.closing_at
    OR NEW.finalized_at IS NOT OLD.finalized_at
)
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a finalized invoice');
END;

CREATE TRIGGER billing_invoices_final_kept BEFORE DELETE ON billing_invoices
WHEN OLD.status IN ('finalized', 'paid', 'void')
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a finalized invoice');
END;

CREATE TRIGGER billing_invoice_lines_only_while_open BEFORE INSERT ON billing_invoice_lines
WHEN (SELECT status FROM billing_invoices WHERE id = NEW.invoice_id) NOT IN ('open', 'closing')
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: the lines of a finalized invoice');
END;

CREATE TRIGGER billing_invoice_lines_frozen BEFORE UPDATE ON billing_invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: an invoice line');
END;

CREATE TRIGGER billing_invoice_lines_kept BEFORE DELETE ON billing_invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: an invoice line');
END;

CREATE TRIGGER billing_usage_frozen BEFORE UPDATE ON billing_usage
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: metered usage');
END;

CREATE TRIGGER billing_usage_kept BEFORE DELETE ON billing_usage
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: metered usage');
END;

CREATE TRIGGER billing_adjustments_only_while_open BEFORE INSERT ON billing_adjustments
WHEN (SELECT status FROM billing_invoices WHERE id = NEW.invoice_id) NOT IN ('open', 'closing')
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: the adjustments of a finalized invoice');
END;

CREATE TRIGGER billing_adjustments_frozen BEFORE UPDATE ON billing_adjustments
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: an adjustment');
END;

CREATE TRIGGER billing_adjustments_kept BEFORE DELETE ON billing_adjustments
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: an adjustment');
END;

CREATE TRIGGER billing_credit_notes_frozen BEFORE UPDATE ON billing_credit_notes
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a credit note');
END;

CREATE TRIGGER billing_credit_notes_kept BEFORE DELETE ON billing_credit_notes
BEGIN
    SELECT RAISE(ABORT, 'hotline_billing_immutable: a credit note');
END;
