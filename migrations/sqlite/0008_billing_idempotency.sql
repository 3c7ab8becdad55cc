-- Idempotency-Key records of the billing API's money-moving POSTs (close a period, finalize,
-- void, issue a credit note): the first request with a key runs, and its answer is kept so a
-- retry with the same key and the same request gets the same answer instead of acting twice.
-- Keys belong to the caller that sent them (`owner`: the user's or API key's id), so two
-- callers never collide. `status` is NULL while the first request is still running.
-- Owned and read by the billing crate only.

CREATE TABLE billing_idempotency_keys (
    owner TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT,
    content_type TEXT,
    body TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (owner, idempotency_key)
);
CREATE INDEX billing_idempotency_keys_age ON billing_idempotency_keys (created_at);
