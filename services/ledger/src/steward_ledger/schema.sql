-- Ledger tables. Rows are only ever inserted; the triggers below refuse every other change
-- except the one retention makes (dropping an expired payload), and the grants give the
-- service's writer role no UPDATE or DELETE at all.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_ledger_writer') THEN
        CREATE ROLE steward_ledger_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_ledger_maintainer') THEN
        CREATE ROLE steward_ledger_maintainer NOLOGIN;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS ledger_events (
    seq              bigint PRIMARY KEY CHECK (seq >= 0),
    event_id         text NOT NULL UNIQUE,
    source           text NOT NULL,
    type             text NOT NULL,
    specversion      text NOT NULL,
    time             text,
    occurred_at      timestamptz,
    subject          text,
    datacontenttype  text,
    dataschema       text,
    tenant           text,
    correlationid    text,
    causationid      text,
    traceparent      text,
    extensions       jsonb,
    data             jsonb,
    canonical_sha256 bytea NOT NULL CHECK (length(canonical_sha256) = 32),
    leaf_hash        bytea NOT NULL CHECK (length(leaf_hash) = 32),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    pruned_at        timestamptz
);

CREATE INDEX IF NOT EXISTS ledger_events_correlation ON ledger_events (correlationid, seq);
CREATE INDEX IF NOT EXISTS ledger_events_tenant ON ledger_events (tenant, seq);
CREATE INDEX IF NOT EXISTS ledger_events_occurred ON ledger_events (occurred_at);
CREATE INDEX IF NOT EXISTS ledger_events_recorded ON ledger_events (recorded_at);

CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    tree_size   bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash   bytea NOT NULL CHECK (length(root_hash) = 32),
    time        text NOT NULL,
    key_id      text NOT NULL,
    signature   bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ledger_subject_keys (
    subject     text PRIMARY KEY,
    key_id      text NOT NULL UNIQUE,
    wrapped_key bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz
);

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Retention may only drop the payload of a row not yet pruned, and must say so first.
CREATE OR REPLACE FUNCTION ledger_guard_retention() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('steward.ledger_maintenance', true) IS DISTINCT FROM 'retention'
       OR OLD.pruned_at IS NOT NULL
       OR NEW.pruned_at IS NULL
       OR NEW.data IS NOT NULL
       OR (to_jsonb(NEW) - 'data' - 'pruned_at') IS DISTINCT FROM
          (to_jsonb(OLD) - 'data' - 'pruned_at') THEN
        RAISE EXCEPTION 'ledger table ledger_events is append-only: UPDATE of seq % refused',
            OLD.seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS ledger_events_no_update ON ledger_events;
CREATE TRIGGER ledger_events_no_update BEFORE UPDATE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_retention();
DROP TRIGGER IF EXISTS ledger_events_no_delete ON ledger_events;
CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_events_no_truncate ON ledger_events;
CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_checkpoints_no_change ON ledger_checkpoints;
CREATE TRIGGER ledger_checkpoints_no_change BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP TRIGGER IF EXISTS ledger_checkpoints_no_truncate ON ledger_checkpoints;
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

REVOKE ALL ON ledger_events, ledger_checkpoints, ledger_subject_keys FROM PUBLIC;
GRANT SELECT, INSERT ON ledger_events, ledger_checkpoints TO steward_ledger_writer;
GRANT SELECT, INSERT, UPDATE ON ledger_subject_keys TO steward_ledger_writer;
GRANT SELECT ON ledger_events TO steward_ledger_maintainer;
GRANT UPDATE (data, pruned_at) ON ledger_events TO steward_ledger_maintainer;
