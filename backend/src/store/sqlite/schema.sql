-- cspm-monitor hot store (SQLite). Timestamps are INTEGER microseconds since the
-- Unix epoch so they sort and compare exactly; severity is its rank (0..4).
CREATE TABLE IF NOT EXISTS findings (
    rowid_ INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    asff_id TEXT NOT NULL,
    severity INTEGER NOT NULL,
    workflow_status TEXT NOT NULL,
    -- 1 once a person set the status: a provider's NEW must not undo triage.
    workflow_locked INTEGER NOT NULL DEFAULT 0,
    -- The record's revision: +1 on every change (store/decide.rs). Columns added
    -- after the first release are added to older files by migrate.rs.
    revision INTEGER NOT NULL DEFAULT 1,
    -- The provider's RecordState (ACTIVE/ARCHIVED): ARCHIVED -> ACTIVE reopens.
    record_state TEXT NOT NULL DEFAULT 'ACTIVE',
    -- The control, rule or detector (change records carry it, grouping uses it).
    generator_id TEXT NOT NULL DEFAULT '',
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    -- A 64-bit hash of resource_id (list.rs, resource_key): the resource index
    -- holds this instead of the text, so it stays small.
    resource_key INTEGER NOT NULL DEFAULT 0,
    product_name TEXT NOT NULL,
    source TEXT NOT NULL,
    compliance_status TEXT,
    control_id TEXT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- The whole Finding as zstd-compressed JSON, raw document included (doc.rs;
    -- databases from before compression hold JSON text, still read).
    doc BLOB NOT NULL,
    -- The stored provider version's amendment mark (store/amendment.rs): an equal
    -- UpdatedAt with another mark is a customer's change in Security Hub. NULL on
    -- rows written before schema v9.
    amend_mark INTEGER
);

-- Every list filter is an equality on one column plus the newest-first order, so
-- each gets a (column, updated_at, id) index that serves filter and order at once.
CREATE INDEX IF NOT EXISTS findings_by_time ON findings (updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_severity ON findings (severity, updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_status ON findings (workflow_status, updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_account ON findings (account_id, updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_region ON findings (region, updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_resource_type ON findings (resource_type, updated_at, id);
CREATE INDEX IF NOT EXISTS findings_by_product ON findings (product_name, updated_at, id);
-- No index on asff_id: `q` matches it by substring (a scan), and a random-order
-- index would cost a random page write per insert.
DROP INDEX IF EXISTS findings_by_asff_id;

-- Exact counts kept on write (see counters.rs: each transaction applies its net
-- change per key), so /summary costs O(keys), not O(findings).
CREATE TABLE IF NOT EXISTS counters (
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (dim, key)
) WITHOUT ROWID;
-- Findings per combination of the list's equality filters, kept on write like
-- `counters` (store/count.rs): the count of any view filtered only on these
-- columns is a sum over the matching combinations, never over findings. The
-- columns are named as in `findings` so the list's WHERE clause applies as is.
CREATE TABLE IF NOT EXISTS view_counts (
    severity INTEGER NOT NULL,
    workflow_status TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    product_name TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (severity, workflow_status, account_id, region, resource_type, product_name)
) WITHOUT ROWID;
-- Findings per generator in each such combination (`dim` is 'generator', `key`
-- the generator id), kept on write the same way: a view grouped by generator
-- (store/groups.rs) is a sum over these rows, never over findings. Rows that
-- count nothing are deleted. Rows of dim 'resource' (key: the resource id)
-- count each resource the same way, but are not moved by the write: they are
-- folded from `resource_deltas` (below). Versions 5 to 6 moved them in the write
-- transaction; a resource has its own key, so those were random B-tree writes,
-- several pages per finding, and made `cspm demo` at 1M findings 2.6x slower;
-- version 7 dropped them and version 8 folds them instead. The list's index on generator_id is created by
-- migrate.rs (it needs a column older files gain there), as is the resource
-- index `findings_by_bucket_resource`.
CREATE TABLE IF NOT EXISTS group_counts (
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    severity INTEGER NOT NULL,
    workflow_status TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    product_name TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (dim, key, severity, workflow_status, account_id, region, resource_type, product_name)
) WITHOUT ROWID;
-- Per-resource counters, kept off the write path (resource_counts.rs). A write
-- transaction appends its net change per resource and combination here: rows at
-- the table's end, so a batch writes a few new pages, where the counters
-- themselves are keyed by resource and would take a random page per finding
-- (what versions 5 and 6 paid, see above). The changes are folded into the
-- `group_counts` rows of dim 'resource' and into `resource_totals` in large
-- batches, and always before a grouping reads them, so a grouping by resource
-- is exact. Version 8.
CREATE TABLE IF NOT EXISTS resource_deltas (
    seq INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL,
    severity INTEGER NOT NULL,
    workflow_status TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    product_name TEXT NOT NULL,
    n INTEGER NOT NULL
);
-- One row per resource with findings, its findings per severity and in all,
-- folded with its `group_counts` rows. The first index is the order groups are shown
-- in (store/groups.rs), so the most severe resources are its first entries and a
-- grouping by resource walks it instead of summing every resource's counters
-- (top_resources.rs). Column names differ from the findings' so the list's WHERE
-- clause, applied to `group_counts` in the same query, stays unambiguous.
CREATE TABLE IF NOT EXISTS resource_totals (
    resource_id TEXT NOT NULL PRIMARY KEY,
    critical INTEGER NOT NULL,
    high INTEGER NOT NULL,
    medium INTEGER NOT NULL,
    low INTEGER NOT NULL,
    informational INTEGER NOT NULL,
    total INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resource_totals_order ON resource_totals
    (critical DESC, high DESC, medium DESC, low DESC, informational DESC, total DESC, resource_id);
-- A view of one severity below CRITICAL ranks its groups by that severity's
-- count alone, which these follow: a walk for `severity=LOW` stops after its
-- first entries where one down the ranking above would meet the resources with
-- the most LOW findings anywhere (top_resources.rs); `severity=MEDIUM,LOW` walks
-- MEDIUM's, then LOW's for the resources without MEDIUM. Each holds only the
-- resources with findings of its severity, the only ones such a view lists.
CREATE INDEX IF NOT EXISTS resource_totals_high ON resource_totals (high DESC, resource_id)
    WHERE high > 0;
CREATE INDEX IF NOT EXISTS resource_totals_medium ON resource_totals (medium DESC, resource_id)
    WHERE medium > 0;
CREATE INDEX IF NOT EXISTS resource_totals_low ON resource_totals (low DESC, resource_id)
    WHERE low > 0;
CREATE INDEX IF NOT EXISTS resource_totals_informational ON resource_totals
    (informational DESC, resource_id) WHERE informational > 0;
-- Earlier versions kept the counters with per-row triggers; the writes now do.
DROP TRIGGER IF EXISTS findings_count_insert;
DROP TRIGGER IF EXISTS findings_count_delete;
DROP TRIGGER IF EXISTS findings_count_update;

-- Who changed which finding's workflow status, when, and why.
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_finding ON audit (finding_id, seq);

-- The change feed (an outbox): every write that changes a finding adds a row here
-- in its own transaction, so a change is recorded exactly when it is committed.
-- `seq` is never reused (AUTOINCREMENT) and, SQLite having one writer at a time,
-- follows the commit order: a reader that has seen seq N has seen everything before
-- it. `finding` is the change's finding summary as JSON (store/change.rs); the
-- columns beside it are what the write decided.
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT,
    quiet INTEGER NOT NULL DEFAULT 0,
    severity_before INTEGER,
    status_before TEXT,
    note TEXT,
    finding TEXT NOT NULL
);

-- One compliance score per standard per UTC day (store/snapshot.rs): the 30-day
-- trend reads these rows rather than recomputing history from findings that have
-- changed or left since. `day` is days since 1970-01-01; `score` NULL = no data.
CREATE TABLE IF NOT EXISTS compliance_daily (
    day INTEGER NOT NULL,
    slug TEXT NOT NULL,
    score INTEGER,
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    unknown INTEGER NOT NULL,
    PRIMARY KEY (day, slug)
) WITHOUT ROWID;

-- Compliance results kept per control (compliance_fold.rs), so a compliance
-- report reads a few hundred rows instead of decoding every finding (15–39 s
-- at 1M). Like the resource counters they are kept off the write path: a fold
-- reads the change feed past `compliance_fold.folded_seq` and brings each
-- changed finding's rows here in line with its stored document. One row per
-- (finding, standard) the finding is a control result of; `verdict` 0 failed,
-- 1 unknown, 2 passed, 3 ignored (compliance/score.rs).
CREATE TABLE IF NOT EXISTS control_results (
    finding_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    control_id TEXT NOT NULL,
    verdict INTEGER NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (finding_id, slug)
) WITHOUT ROWID;
-- A drill-down's failing resources and failing findings, smallest first (only
-- failing rows: the others are never listed).
CREATE INDEX IF NOT EXISTS control_results_failing_resources
    ON control_results (slug, control_id, resource_id) WHERE verdict = 0;
CREATE INDEX IF NOT EXISTS control_results_failing_findings
    ON control_results (slug, control_id, finding_id) WHERE verdict = 0;
-- Each control's findings by verdict, summed from `control_results`; a control
-- whose findings all left has no row. `title` is the title of the most recently
-- updated finding folded into it (`title_at`, microseconds).
CREATE TABLE IF NOT EXISTS control_tallies (
    slug TEXT NOT NULL,
    control_id TEXT NOT NULL,
    standard_name TEXT NOT NULL,
    title TEXT NOT NULL,
    title_at INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    unknown INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    ignored INTEGER NOT NULL,
    PRIMARY KEY (slug, control_id)
) WITHOUT ROWID;
-- How far the compliance tables are folded: every change up to `folded_seq`.
-- While a rebuild reads every finding in id order (a new file, a file from an
-- older version, or changes trimmed before they were folded), `rebuild_after`
-- is the last id read and `rebuild_head` the feed head it started at. No row:
-- never folded (the first fold starts a rebuild).
CREATE TABLE IF NOT EXISTS compliance_fold (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    folded_seq INTEGER NOT NULL,
    rebuild_after TEXT,
    rebuild_head INTEGER
);
