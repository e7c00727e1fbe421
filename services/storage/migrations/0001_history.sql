-- 0001: tool-call history, audit events, users. Portable between SQLite 3 and PostgreSQL 15:
-- times are microseconds since the epoch (BIGINT), JSON is stored as TEXT, and `seq` is assigned
-- by the gateway's writer so that rows form one ordered hash chain per table.
CREATE TABLE IF NOT EXISTS tool_calls (
  seq              BIGINT PRIMARY KEY,
  ts_start_us      BIGINT NOT NULL,
  ts_end_us        BIGINT NOT NULL,
  request_id       TEXT NOT NULL,
  trace_id         TEXT NOT NULL DEFAULT '',
  session_id       TEXT NOT NULL DEFAULT '',
  subject          TEXT NOT NULL DEFAULT '',
  roles            TEXT NOT NULL DEFAULT '[]',
  tenant           TEXT NOT NULL DEFAULT '',
  client_name      TEXT NOT NULL DEFAULT '',
  client_version   TEXT NOT NULL DEFAULT '',
  server           TEXT NOT NULL DEFAULT '',
  method           TEXT NOT NULL,
  target           TEXT NOT NULL DEFAULT '',   -- tool, prompt or resource URI
  action           TEXT NOT NULL DEFAULT '',
  args_redacted    TEXT NOT NULL DEFAULT '{}',
  args_sha256      TEXT NOT NULL DEFAULT '',
  decision         TEXT NOT NULL DEFAULT '',   -- allow | deny | '' (no policy)
  decision_id      TEXT NOT NULL DEFAULT '',
  decision_reasons TEXT NOT NULL DEFAULT '[]',
  http_status      INTEGER NOT NULL DEFAULT 0,
  rpc_error_code   INTEGER NOT NULL DEFAULT 0,
  is_error         SMALLINT NOT NULL DEFAULT 0, -- the tool's own isError
  outcome          TEXT NOT NULL DEFAULT '',   -- ok | tool_error | error | timeout | upstream_error | denied
  latency_us       BIGINT NOT NULL DEFAULT 0,
  result_bytes     BIGINT NOT NULL DEFAULT 0,
  prev_hash        TEXT NOT NULL,
  row_hash         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tool_calls_subject ON tool_calls (subject, seq);
CREATE INDEX IF NOT EXISTS tool_calls_server ON tool_calls (server, target, seq);
CREATE INDEX IF NOT EXISTS tool_calls_time ON tool_calls (ts_start_us);

CREATE TABLE IF NOT EXISTS audit_events (
  seq         BIGINT PRIMARY KEY,
  ts_us       BIGINT NOT NULL,
  kind        TEXT NOT NULL,   -- auth_failure | policy_denial | admin_action | key_rotation | config_reload | emergency_deny
  subject     TEXT NOT NULL DEFAULT '',
  request_id  TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '{}',
  prev_hash   TEXT NOT NULL,
  row_hash    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events (kind, seq);

CREATE TABLE IF NOT EXISTS users (
  subject      TEXT PRIMARY KEY,
  email        TEXT NOT NULL DEFAULT '',
  roles        TEXT NOT NULL DEFAULT '[]',
  tenant       TEXT NOT NULL DEFAULT '',
  first_seen_us BIGINT NOT NULL,
  last_seen_us  BIGINT NOT NULL
);
