//! Integration tests: one binary, one module per feature.

/// Dedup windows, digests and quiet hours on a Slack channel, state in SQLite.
mod alert_throttle;
mod api;
mod api_lambda;
/// Archiver: sinks, faults, crash recovery, round trip.
mod archive;
/// The hash-chained audit log: local, through the binary, in S3.
pub mod audit;
/// Browser sign-in through our server against a strict local OIDC provider.
mod auth_session;
mod aws_env;
/// `POST /findings/workflow`: by filter and by id, stale counts, roles, a store failing half-way.
mod bulk_workflow;
/// `cspm` itself on DynamoDB in the emulator.
mod cli_dynamo;
/// Compliance scores per standard: corpus control findings, the documented example, snapshots.
mod compliance;
/// A control's failing findings, page by page, through the API.
mod compliance_failing;
mod compliance_fold;
mod corpus;
/// Every Security Hub document of the shared corpus, parsed and normalized.
mod corpus_asff;
/// View counts on 20,000 findings against the test's own SQL on the file.
mod counts;
/// The rule pack on real CloudTrail events and built gap events.
mod detect_corpus;
/// The organisation's lists from the `detection_settings` SSM parameter, in the
/// Lambdas' rules.
mod detection_settings_ssm;
/// The local dispatcher with recording sinks: retries, parking, restarts.
mod dispatcher;
mod dynamo;
mod dynamo_batch;
/// DynamoDB dropping the tallies that netted to zero, alone and beside writes.
mod dynamo_compact;
/// DynamoDB's compliance results kept on write, against a read of every
/// finding, and `cspm recount` filling in a table written before them.
mod dynamo_compliance;
/// DynamoDB's bounded list reads, their budget and their cursors.
mod dynamo_paging;
mod dynamo_recount;
mod dynamo_resources;
/// DynamoDB's TTL after the archive cutoff on every write path.
mod dynamo_ttl;
/// `POST /events`: every corpus folder, bad bodies, and the same outcome as ingest.
mod events;
/// The scanner handler (direct and SQS-wrapped) gives what `POST /events` gives.
mod events_scanner;
/// `GET /findings/export` and `cspm export`: CSV, JSON Lines, OCSF on the corpus.
mod export;
/// Export jobs: `POST /exports`, `GET /exports/{id}`, their files locally and on
/// S3, the `exporter` Lambda over SQS.
mod export_jobs;
/// The `fanout` Lambda's sinks file and `secret_ssm` secrets in SSM.
mod fanout_ssm;
mod fault_proxy;
/// Change records on both stores (SQLite's feed, DynamoDB's stream).
mod feed_changes;
/// The feed's retention window: trimmed past it and behind every sink's cursor.
mod feed_retention;
/// The dashboard's filter function agrees with the store's query.
mod filter_matches;
/// Saved fuzz inputs replayed through their targets' entry points on stable.
mod fuzz_replay;
/// Grouping a view (`GET /findings/groups`) on a real SQLite file.
mod grouping;
/// Grouping by resource through the ranking rows equals summing the counters.
mod grouping_resources;
mod helpers;
mod ingest;
/// Hostile inputs against the documented resource limits, with peak memory measured.
mod limits;
/// The live WebSocket: 1,000 clients, slow clients, resume, tickets.
mod live;
/// The live dashboard on AWS: ticket authorizer, the live sink through API Gateway, resume.
mod live_aws;
/// EMF lines decoded; `GET /metrics` parsed, counters moving by known amounts.
mod metrics;
/// OCSF in: the published samples, `POST /events`/ingest/scanner, export round trips.
mod ocsf;
/// OIDC token verification against the emulator's Cognito: groups, clients, token kinds.
mod oidc_cognito;
/// Property tests (proptest) of the parsers, cursors and the workflow decision.
mod props;
/// `cspm remediate plan|apply` on a public bucket in the emulator, and its guards.
mod remediate;
/// The browser-session port's contract, against SQLite and DynamoDB.
mod remediation_contract;
/// The role matrix: every route × every caller, checked against the OpenAPI document.
mod roles;
/// The role matrix for Cognito users: each group gets exactly its role's routes.
mod roles_cognito;
/// Routes in the sinks file: every match key on corpus changes, `stop`, defaults.
mod routes;
/// `cspm rules` and ingest's detection flags through the real binary.
mod rules_cli;
/// The scanner Lambda handler: corpus envelopes, SQS partial failures.
mod scanner;
mod serve_e2e;
/// `cspm serve --sinks` killed mid-burst; `cspm sinks` through the binary.
mod serve_feed;
/// The SES sink against the emulator (sent mail read from its data.json).
mod ses;
mod session_contract;
/// One contract every `Sink` kind meets, run against each with its real target.
mod sink_contract;
/// SNS alerts on the change feed: locally and through the fanout handler.
mod sink_sns;
/// The Slack sink through the dispatcher against a scripted Slack server.
mod slack;
/// A local server speaking Slack's webhook protocol.
mod slack_server;
/// Two SNS topics read through an SQS queue in the emulator.
mod sns_topics;
/// Alarm, GuardDuty and CloudTrail log sources on the real corpus.
mod sources_corpus;
/// A schema v8 file opened by v9: amendment marks and controls folded again.
mod sqlite_v9;
mod store_contract;
mod store_dynamo;
mod store_sqlite;
/// The workflow decision, row by row, through each store (part of the contract).
mod store_workflow;
/// DynamoDB Streams records from the emulator in the recorded Lambda event.
mod stream_records;
/// The scheduled Security Hub sync against the emulator.
mod sync;
/// The throttle state port's contract, against SQLite and DynamoDB.
mod throttle_state;
/// The named-token port's contract, against SQLite and DynamoDB.
mod token_contract;
/// `cspm tokens create|list|revoke` through the binary and a running server.
mod tokens_cli;
/// Pacing across processes: turns booked in the fan-out state table.
mod turns;
/// The webhook sink against a local receiver; the SSRF policy.
mod webhook;
