//! A finding stored from a corpus event, and `cspm remediate` run on it: the
//! fixture of the action modules whose resource is made in the test itself.

use super::*;

/// A finding stored from a corpus event, and where `cspm` runs on it.
pub struct Stored {
    /// The data dir (store and ledger).
    pub dir: tempfile::TempDir,
    /// The emulator.
    pub endpoint: String,
    /// The store in `dir`.
    pub store: Arc<SqliteStore>,
    /// The finding of the case's rule.
    pub finding_id: String,
}

/// A corpus rule case's event.
pub fn case_event(name: &str) -> Value {
    let path = corpus_dir().join("rule-case").join(name);
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    case["event"].clone()
}

/// Stores `event`'s findings; the one of `rule` is the case's.
pub async fn store_finding(endpoint: String, event: &Value, rule: &str) -> Stored {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let p = pipeline(store.clone());
    let ours: Vec<_> = p
        .normalize(event)
        .findings
        .into_iter()
        .filter(|f| f.generator_id == rule)
        .collect();
    assert_eq!(ours.len(), 1, "one {rule} finding");
    assert!(super::post_event(store.clone(), event).await >= 1);
    Stored {
        dir,
        endpoint,
        store,
        finding_id: ours[0].id.clone(),
    }
}

impl Stored {
    /// A remediation file enabling `action`, plus `extra` lines.
    pub fn config(&self, action: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("remediation.yaml");
        std::fs::write(&path, format!("enabled: [{action}]\n{extra}")).unwrap();
        path
    }

    pub fn cspm(&self, what: &str, config: Option<&Path>, more: &[&str]) -> Output {
        remediate_command(
            self.dir.path(),
            &self.endpoint,
            what,
            &self.finding_id,
            config,
            more,
        )
        .output()
        .expect("run cspm remediate")
    }

    /// `plan --json` with `config`.
    pub fn plan(&self, config: &Path) -> Value {
        let out = self.cspm("plan", Some(config), &["--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout(&out)).unwrap()
    }

    /// `apply`, expecting exit 0.
    pub fn apply(&self, config: &Path) -> String {
        let out = self.cspm("apply", Some(config), &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    }

    pub async fn status(&self) -> WorkflowStatus {
        let f = self.store.get(&self.finding_id).await.unwrap().unwrap();
        f.finding.workflow_status
    }

    /// Reopens the finding (as a person who doubts the fix would).
    pub async fn reopen(&self) {
        let reopen = WorkflowUpdate {
            workflow_status: WorkflowStatus::New,
            note: Some("checking again".into()),
        };
        pipeline(self.store.clone())
            .set_workflow(&self.finding_id, &reopen, "alice", chrono::Utc::now())
            .await
            .unwrap()
            .unwrap();
    }
}
