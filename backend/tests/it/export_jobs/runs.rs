//! Who runs a job and how it shows it is alive: two deliveries of one job at
//! the same moment (SQS delivers at least once) run it once; a write that takes
//! longer than the heartbeat does not silence the status.

use super::{fixture, RecordingQueue};
use async_trait::async_trait;
use bytes::Bytes;
use cspm::archive::SinkResult;
use cspm::auth::Principal;
use cspm::export::jobs::files::{ByteChunks, Listed, Upload};
use cspm::export::jobs::{ExportFiles, ExportJobs, JobRecord, JobSpec, LocalExportFiles, Runner};
use shared_types::{ExportFileFormat, ExportState, FindingFilter};
use std::sync::Arc;
use std::time::Duration;

fn spec() -> JobSpec {
    JobSpec {
        filter: FindingFilter::default(),
        format: ExportFileFormat::Jsonl,
        detail: false,
        raw: false,
    }
}

fn status(dir: &std::path::Path, id: &str) -> JobRecord {
    let path = dir.join("exports").join(format!("{id}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn two_deliveries_of_one_job_at_once_run_it_once_and_a_later_one_not_at_all() {
    let f = fixture(Runner::Queue(Arc::new(RecordingQueue::default()))).await;
    let job = f.jobs.start(&Principal::local(), &spec()).await.unwrap();
    let id = job.job_id();
    let (a, b) = tokio::join!(f.jobs.run(&id), f.jobs.run(&id));
    let states = [a.unwrap().state, b.unwrap().state];
    let done = states.iter().filter(|s| **s == ExportState::Done).count();
    assert_eq!(done, 1, "exactly one delivery ran it: {states:?}");
    let total = f
        .store
        .count(&FindingFilter::default())
        .await
        .unwrap()
        .total;
    let after = status(f.dir.path(), &id.to_string());
    assert_eq!((after.state, after.count), (ExportState::Done, total));
    let file = std::fs::read(f.dir.path().join("exports").join(format!("{id}.jsonl"))).unwrap();
    assert_eq!(
        file.iter().filter(|b| **b == b'\n').count() as u64,
        total,
        "one writer: every finding once"
    );

    // A third delivery, after the end, changes nothing.
    let late = f.jobs.run(&id).await.unwrap();
    assert_eq!(late, after);
    assert_eq!(status(f.dir.path(), &id.to_string()), after);
}

/// Local export files whose uploads take `delay` over their first write, as a
/// part upload to a slow bucket would.
struct SlowFiles {
    inner: LocalExportFiles,
    delay: Duration,
}

struct SlowUpload {
    inner: Box<dyn Upload>,
    delay: Option<Duration>,
}

#[async_trait]
impl Upload for SlowUpload {
    async fn write(&mut self, bytes: Bytes) -> SinkResult<()> {
        if let Some(d) = self.delay.take() {
            tokio::time::sleep(d).await;
        }
        self.inner.write(bytes).await
    }
    async fn finish(self: Box<Self>) -> SinkResult<u64> {
        self.inner.finish().await
    }
    async fn abort(self: Box<Self>) {
        self.inner.abort().await
    }
}

#[async_trait]
impl ExportFiles for SlowFiles {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn put_status(&self, key: &str, body: Bytes) -> SinkResult<()> {
        self.inner.put_status(key, body).await
    }
    async fn get_status(&self, key: &str) -> SinkResult<Option<Bytes>> {
        self.inner.get_status(key).await
    }
    async fn create_once(&self, key: &str) -> SinkResult<bool> {
        self.inner.create_once(key).await
    }
    async fn create(&self, key: &str, content_type: &'static str) -> SinkResult<Box<dyn Upload>> {
        Ok(Box::new(SlowUpload {
            inner: self.inner.create(key, content_type).await?,
            delay: Some(self.delay),
        }))
    }
    async fn open(&self, key: &str) -> SinkResult<Option<ByteChunks>> {
        self.inner.open(key).await
    }
    async fn list(&self, prefix: &str) -> SinkResult<Vec<Listed>> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> SinkResult<()> {
        self.inner.delete(key).await
    }
    async fn link(&self, key: &str, name: &str, ct: &'static str) -> SinkResult<Option<String>> {
        self.inner.link(key, name, ct).await
    }
}

#[tokio::test]
async fn a_job_stuck_in_one_slow_write_keeps_its_heartbeat_and_ends_done() {
    let f = fixture(Runner::Queue(Arc::new(RecordingQueue::default()))).await;
    // The heartbeat is every 2 s: a 5.5 s write spans two beats at least.
    let files = SlowFiles {
        inner: LocalExportFiles::new(f.dir.path()),
        delay: Duration::from_millis(5_500),
    };
    let queue = Arc::new(RecordingQueue::default());
    let jobs = ExportJobs::new(f.store.clone(), Arc::new(files), Runner::Queue(queue));
    let job = jobs.start(&Principal::local(), &spec()).await.unwrap();
    let id = job.job_id();
    let running = tokio::spawn({
        let (jobs, id) = (jobs.clone(), id.clone());
        async move { jobs.run(&id).await }
    });

    let mut beats = Vec::new();
    while !running.is_finished() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = status(f.dir.path(), &id.to_string());
        if now.state == ExportState::Running && beats.last() != Some(&now.updated_at) {
            beats.push(now.updated_at);
        }
    }
    let end = running.await.unwrap().unwrap();
    assert_eq!(end.state, ExportState::Done);
    // The start's write, then at least two beats while nothing else moved.
    assert!(beats.len() >= 3, "status writes while running: {beats:?}");
    for pair in beats.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!(
            (1_500..=3_500).contains(&gap),
            "beats {gap} ms apart: {beats:?}"
        );
    }
    // The heartbeat never wrote over the end.
    let after = status(f.dir.path(), &id.to_string());
    assert_eq!(after, end);
    assert!(after.updated_at >= *beats.last().unwrap());
}
