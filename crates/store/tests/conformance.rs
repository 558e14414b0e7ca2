//! One conformance suite, run against every metadata backend (SQLite and PostgreSQL) and every
//! blob backend. PostgreSQL comes from `SCANPRO_TEST_POSTGRES_URL` (default: the local server);
//! each run creates and drops its own database. An unreachable server fails the run.

use chrono::{Duration, Utc};
use scanpro_core::accounts::{Role, Scope};
use scanpro_core::job::{JobSpec, JobStatus, StepSpec};
use scanpro_core::{ApiKeyId, ErrorCode, FileId, JobId, OwnerId, SessionId, ToolError, UserId};
use scanpro_store::blobs::FsBlobs;
use scanpro_store::meta::Backend;
use scanpro_store::{
    ApiKeyRecord, AuditEntry, BlobStore, FileRecord, Meta, Metering, NewJob, RefreshUse, SessionRecord, StoreError,
    UserRecord,
};
use scanpro_testkit::postgres::empty_postgres_database;
use sqlx::Executor;

struct TestDb {
    meta: Meta,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/meta.db", dir.path().display());
    let meta = Meta::connect(&url).await.unwrap();
    meta.migrate().await.unwrap();
    TestDb { meta, url, _dir: Some(dir) }
}

async fn postgres() -> TestDb {
    let url = empty_postgres_database().await;
    let meta = Meta::connect(&url).await.unwrap();
    meta.migrate().await.unwrap();
    assert_eq!(meta.backend(), Backend::Postgres);
    TestDb { meta, url, _dir: None }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend { $( #[tokio::test] async fn $name() { super::$name(&super::sqlite().await.meta).await } )* }
        mod postgres_backend { $( #[tokio::test] async fn $name() { super::$name(&super::postgres().await.meta).await } )* }
    };
}

conformance!(
    files_are_private_to_their_owner,
    idempotency_key_returns_the_first_job,
    claim_heartbeat_and_finish,
    stale_worker_cannot_commit,
    abandoned_jobs_requeue_then_dead_letter,
    cancel_queued_and_running,
    expiry_lists_old_files_and_jobs,
    retry_later_waits_for_backoff,
    a_cancelled_job_is_never_run_again,
    dead_letter_ends_only_jobs_nobody_holds,
    runnable_queued_lists_due_jobs_with_their_class,
    lease_state_reads_without_renewing,
    blob_keys_are_found_by_file_id,
    concurrent_writes_all_land,
    sealed_secrets_go_with_the_final_state,
    webhook_secrets_are_one_per_owner,
    accounts_are_unique_by_email,
    refresh_tokens_are_spent_once,
    sessions_end_when_revoked_or_expired,
    api_keys_are_found_by_hash_and_revoked_by_their_owner,
    email_tokens_are_spent_once,
    concurrent_jobs_never_pass_the_monthly_quota,
    ended_jobs_give_unspent_operations_back_once,
    guests_files_and_jobs_pass_to_their_account,
    tool_switches_and_audit_log,
);

fn owner(name: &str) -> OwnerId {
    OwnerId::guest(name)
}

fn file(owner: &OwnerId, job: Option<JobId>) -> FileRecord {
    // The store keeps millisecond precision.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    FileRecord {
        id: FileId::new(),
        owner: owner.clone(),
        filename: "a.pdf".into(),
        size: 3,
        content_type: "application/pdf".into(),
        sha256: "00".into(),
        blob_key: "files/x".into(),
        job_id: job,
        created_at: now,
        expires_at: now + Duration::hours(1),
    }
}

fn new_job(owner: &OwnerId, key: Option<(&str, &str)>) -> NewJob {
    NewJob {
        owner: owner.clone(),
        spec: JobSpec {
            inputs: vec![FileId::new()],
            steps: vec![StepSpec { tool: "rotate".into(), params: serde_json::json!({"angle": 90}) }],
            webhook_url: None,
            tag: Some("t".into()),
        },
        class: "light".into(),
        max_attempts: 2,
        retention: Duration::hours(1),
        idempotency: key.map(|(k, h)| (k.to_owned(), h.to_owned())),
        secrets: None,
        metering: None,
    }
}

async fn files_are_private_to_their_owner(meta: &Meta) {
    let (alice, bob) = (owner("alice"), owner("bob"));
    let f = file(&alice, None);
    meta.insert_file(&f).await.unwrap();
    assert_eq!(meta.file(&alice, f.id).await.unwrap(), f);
    assert!(matches!(meta.file(&bob, f.id).await, Err(StoreError::NotFound)));
    assert!(matches!(meta.delete_file(&bob, f.id).await, Err(StoreError::NotFound)));
    assert_eq!(meta.delete_file(&alice, f.id).await.unwrap().id, f.id);
    assert!(matches!(meta.file(&alice, f.id).await, Err(StoreError::NotFound)));
}

async fn idempotency_key_returns_the_first_job(meta: &Meta) {
    let alice = owner("alice");
    let (first, created) = meta.create_job(new_job(&alice, Some(("k1", "h1")))).await.unwrap();
    assert!(created);
    assert_eq!(first.status, JobStatus::Queued);
    let (again, created) = meta.create_job(new_job(&alice, Some(("k1", "h1")))).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    let conflict = meta.create_job(new_job(&alice, Some(("k1", "other body")))).await.unwrap_err();
    assert_eq!(conflict.code(), ErrorCode::Conflict);
    // Keys are per owner.
    let (bobs, created) = meta.create_job(new_job(&owner("bob"), Some(("k1", "h1")))).await.unwrap();
    assert!(created);
    assert_ne!(bobs.id, first.id);
    assert!(matches!(meta.job(&owner("bob"), first.id).await, Err(StoreError::NotFound)));
    assert_eq!(meta.list_jobs(&alice, 10).await.unwrap().len(), 1);
}

async fn claim_heartbeat_and_finish(meta: &Meta) {
    let alice = owner("alice");
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    assert!(meta.claim_next("ocr", "w1", Duration::seconds(30)).await.unwrap().is_none(), "class filter");
    let claimed = meta.claim_next("light", "w1", Duration::seconds(30)).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.status, claimed.attempts), (job.id, JobStatus::Running, 1));
    assert!(meta.claim_next("light", "w2", Duration::seconds(30)).await.unwrap().is_none(), "claimed once");
    let beat = meta.heartbeat(job.id, "w1", Duration::seconds(30)).await.unwrap();
    assert!(beat.still_held && !beat.cancel_requested);
    assert!(!meta.heartbeat(job.id, "w2", Duration::seconds(30)).await.unwrap().still_held);
    let output = file(&alice, Some(job.id));
    assert!(meta.finish_succeeded(job.id, "w1", &claimed.steps, std::slice::from_ref(&output)).await.unwrap());
    let done = meta.job(&alice, job.id).await.unwrap();
    assert_eq!((done.status, done.progress.percent), (JobStatus::Succeeded, 100));
    assert_eq!(meta.job_outputs(job.id).await.unwrap(), vec![output]);
    assert!(!meta.finish_succeeded(job.id, "w1", &claimed.steps, &[]).await.unwrap(), "commits once");
}

async fn lease_state_reads_without_renewing(meta: &Meta) {
    let alice = owner("alice");
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    let claimed = meta.claim_next("light", "w1", Duration::seconds(30)).await.unwrap().unwrap();
    let state = meta.lease_state(job.id, "w1").await.unwrap();
    assert!(state.still_held && !state.cancel_requested);
    assert!(!meta.lease_state(job.id, "w2").await.unwrap().still_held);
    meta.request_cancel(&alice, job.id).await.unwrap();
    assert!(meta.lease_state(job.id, "w1").await.unwrap().cancel_requested);
    assert_eq!(meta.job(&alice, job.id).await.unwrap().lease_until, claimed.lease_until, "not renewed");
}

async fn blob_keys_are_found_by_file_id(meta: &Meta) {
    let alice = owner("alice");
    let (mut first, mut second) = (file(&alice, None), file(&alice, None));
    first.blob_key = format!("files/{}", first.id);
    second.blob_key = format!("files/{}", second.id);
    meta.insert_file(&first).await.unwrap();
    meta.insert_file(&second).await.unwrap();
    let mut keys = meta.blob_keys_of(&[second.id, FileId::new(), first.id]).await.unwrap();
    keys.sort();
    let mut expected = vec![first.blob_key.clone(), second.blob_key.clone()];
    expected.sort();
    assert_eq!(keys, expected);
    assert!(meta.blob_keys_of(&[]).await.unwrap().is_empty());
}

/// Job creation, claims, progress and heartbeats from many tasks at once: every write lands
/// (SQLite funnels them through its one writer instead of failing them as busy).
async fn concurrent_writes_all_land(meta: &Meta) {
    let alice = owner("alice");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..64 {
        let (meta, alice) = (meta.clone(), alice.clone());
        tasks.spawn(async move {
            let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
            let worker = format!("w{n}");
            if let Some(claimed) = meta.claim_next("light", &worker, Duration::seconds(30)).await.unwrap() {
                assert!(meta.heartbeat(claimed.id, &worker, Duration::seconds(30)).await.unwrap().still_held);
                assert!(meta.finish_succeeded(claimed.id, &worker, &claimed.steps, &[]).await.unwrap());
            }
            job.id
        });
    }
    let mut created = Vec::new();
    while let Some(id) = tasks.join_next().await {
        created.push(id.unwrap());
    }
    let done = meta.count_by_status(JobStatus::Succeeded).await.unwrap();
    let queued = meta.count_by_status(JobStatus::Queued).await.unwrap();
    assert_eq!((created.len(), done + queued), (64, 64));
    assert!(done > 0);
}

async fn stale_worker_cannot_commit(meta: &Meta) {
    let alice = owner("alice");
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "dead", Duration::seconds(30)).await.unwrap().unwrap();
    assert_eq!(meta.release_abandoned(true).await.unwrap().requeued, 1);
    let second = meta.claim_next("light", "fresh", Duration::seconds(30)).await.unwrap().unwrap();
    assert_eq!(second.attempts, 2);
    let output = file(&alice, Some(job.id));
    assert!(!meta.finish_succeeded(job.id, "dead", &second.steps, std::slice::from_ref(&output)).await.unwrap());
    assert!(meta.job_outputs(job.id).await.unwrap().is_empty(), "no outputs from the stale worker");
    assert!(meta.finish_succeeded(job.id, "fresh", &second.steps, &[output]).await.unwrap());
}

async fn abandoned_jobs_requeue_then_dead_letter(meta: &Meta) {
    let alice = owner("alice");
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    // A lease that already ran out, twice: max_attempts = 2.
    for attempt in 1..=2 {
        let claimed = meta.claim_next("light", "w", Duration::milliseconds(-1)).await.unwrap().unwrap();
        assert_eq!(claimed.attempts, attempt);
        let released = meta.release_abandoned(false).await.unwrap();
        if attempt == 1 {
            assert_eq!((released.requeued, released.ended.len()), (1, 0));
        } else {
            assert_eq!(released.ended, vec![job.id]);
        }
    }
    let dead = meta.job(&alice, job.id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Failed);
    assert_eq!(dead.error.unwrap().code, ErrorCode::DeliveryLimit);
}

async fn cancel_queued_and_running(meta: &Meta) {
    let alice = owner("alice");
    let (queued, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    let cancelled = meta.request_cancel(&alice, queued.id).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    let (running, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().unwrap();
    assert_eq!(meta.request_cancel(&alice, running.id).await.unwrap().status, JobStatus::Running);
    assert!(meta.heartbeat(running.id, "w", Duration::seconds(30)).await.unwrap().cancel_requested);
    let error = ToolError::new(ErrorCode::Cancelled, "cancelled");
    assert!(meta.finish_failed(running.id, "w", &[], &error).await.unwrap());
    assert_eq!(meta.job(&alice, running.id).await.unwrap().status, JobStatus::Cancelled);
    assert!(matches!(meta.request_cancel(&owner("bob"), running.id).await, Err(StoreError::NotFound)));
}

async fn expiry_lists_old_files_and_jobs(meta: &Meta) {
    let alice = owner("alice");
    let f = file(&alice, None);
    meta.insert_file(&f).await.unwrap();
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.request_cancel(&alice, job.id).await.unwrap();
    let later = Utc::now() + Duration::hours(2);
    assert!(meta.expired_files(Utc::now(), 10).await.unwrap().is_empty());
    assert_eq!(meta.expired_files(later, 10).await.unwrap(), vec![f.clone()]);
    assert_eq!(meta.expired_jobs(later, 10).await.unwrap(), vec![job.id]);
    meta.forget_file(f.id).await.unwrap();
    meta.forget_job(job.id).await.unwrap();
    assert!(meta.expired_files(later, 10).await.unwrap().is_empty());
    assert!(meta.expired_jobs(later, 10).await.unwrap().is_empty());
}

async fn retry_later_waits_for_backoff(meta: &Meta) {
    let alice = owner("alice");
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().unwrap();
    let error = ToolError::new(ErrorCode::Unavailable, "engine down");
    assert!(meta.retry_later(job.id, "w", &error, Duration::hours(1)).await.unwrap());
    assert!(meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().is_none(), "still backing off");
    assert_eq!(meta.job(&alice, job.id).await.unwrap().status, JobStatus::Queued);
}

async fn a_cancelled_job_is_never_run_again(meta: &Meta) {
    let alice = owner("alice");
    let error = ToolError::new(ErrorCode::Unavailable, "engine down");
    // Cancelled while running, then handed back for a retry: it ends cancelled.
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().unwrap();
    meta.request_cancel(&alice, job.id).await.unwrap();
    assert!(meta.retry_later(job.id, "w", &error, Duration::zero()).await.unwrap());
    assert_eq!(meta.job(&alice, job.id).await.unwrap().status, JobStatus::Cancelled);
    // Cancelled while running, then its worker died: it ends cancelled too.
    let (job, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::milliseconds(-1)).await.unwrap().unwrap();
    meta.request_cancel(&alice, job.id).await.unwrap();
    assert_eq!(meta.release_abandoned(false).await.unwrap().ended, vec![job.id]);
    assert_eq!(meta.job(&alice, job.id).await.unwrap().status, JobStatus::Cancelled);
    assert!(meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().is_none());
}

/// Roles that do not migrate refuse a database whose migrations are not exactly this build's.
async fn schema_check(db: TestDb) {
    db.meta.check_schema().await.unwrap();
    let raw = sqlx::AnyPool::connect(&db.url).await.unwrap();
    raw.execute("DELETE FROM _sqlx_migrations").await.unwrap();
    let behind = db.meta.check_schema().await.unwrap_err().to_string();
    assert!(behind.contains("scanpro migrate") && behind.contains("pending"), "{behind}");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'future', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(&raw)
    .await
    .unwrap();
    let ahead = db.meta.check_schema().await.unwrap_err().to_string();
    assert!(ahead.contains("99990101000000") && ahead.contains("newer"), "{ahead}");
    raw.close().await;
}

#[tokio::test]
async fn schema_check_on_sqlite() {
    schema_check(sqlite().await).await
}

#[tokio::test]
async fn schema_check_on_postgres() {
    schema_check(postgres().await).await
}

async fn dead_letter_ends_only_jobs_nobody_holds(meta: &Meta) {
    let alice = owner("alice");
    let (held, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::seconds(30)).await.unwrap().unwrap();
    assert!(!meta.dead_letter(held.id, 4).await.unwrap(), "a live lease keeps the job");
    let (expired, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim_next("light", "w", Duration::milliseconds(-1)).await.unwrap().unwrap();
    assert!(meta.dead_letter(expired.id, 4).await.unwrap());
    let dead = meta.job(&alice, expired.id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Failed);
    let error = dead.error.unwrap();
    assert_eq!(error.code, ErrorCode::DeliveryLimit);
    assert!(error.message.contains("4 times"), "{}", error.message);
    let (queued, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.request_cancel(&alice, queued.id).await.unwrap();
    assert!(!meta.dead_letter(queued.id, 4).await.unwrap(), "already ended");
    assert_eq!(meta.job(&alice, queued.id).await.unwrap().status, JobStatus::Cancelled);
}

async fn runnable_queued_lists_due_jobs_with_their_class(meta: &Meta) {
    let alice = owner("alice");
    let (due, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    let mut ocr = new_job(&alice, None);
    ocr.class = "ocr".into();
    let (ocr, _) = meta.create_job(ocr).await.unwrap();
    let (backing_off, _) = meta.create_job(new_job(&alice, None)).await.unwrap();
    meta.claim(backing_off.id, "w", Duration::seconds(30)).await.unwrap().unwrap();
    let error = ToolError::new(ErrorCode::Unavailable, "engine down");
    meta.retry_later(backing_off.id, "w", &error, Duration::hours(1)).await.unwrap();
    assert!(meta.runnable_queued(Duration::hours(1), 10).await.unwrap().is_empty(), "not settled yet");
    let listed = meta.runnable_queued(Duration::zero(), 10).await.unwrap();
    assert_eq!(listed, vec![(due.id, "light".to_owned()), (ocr.id, "ocr".to_owned())]);
}

#[tokio::test]
async fn fs_blobs_put_range_delete() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobs::open(dir.path()).await.unwrap();
    let body =
        futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b"hello ")), Ok(bytes::Bytes::from_static(b"world"))])
            .boxed();
    let stored = blobs.put_stream("files/a", body, 100).await.unwrap();
    assert_eq!(stored.size, 11);
    assert_eq!(stored.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    let mut range = blobs.read_range("files/a", 6, 11).await.unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = range.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(got, b"world");
    // Over the limit: refused, and nothing is left behind.
    let big = futures::stream::iter(vec![Ok(bytes::Bytes::from(vec![0u8; 200]))]).boxed();
    assert!(matches!(blobs.put_stream("files/b", big, 100).await, Err(StoreError::TooLarge { limit: 100 })));
    assert!(!dir.path().join("files/b").exists());
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert!(blobs.put_stream("../escape", futures::stream::empty().boxed(), 1).await.is_err());
    blobs.delete("files/a").await.unwrap();
    assert!(matches!(blobs.read_range("files/a", 0, 1).await, Err(StoreError::NotFound)));
}

/// Every way a job ends (success, failure, cancel while queued, cancel on retry, dead letter)
/// drops its sealed secrets in the same statement; a retry keeps them for the next attempt.
async fn sealed_secrets_go_with_the_final_state(meta: &Meta) {
    let alice = owner("alice");
    let sealed = || NewJob { secrets: Some("v1.sealed".into()), ..new_job(&alice, None) };
    let unavailable = ToolError::new(ErrorCode::Unavailable, "engine down");
    let secrets_of = |id| async move { meta.job_by_id(id).await.unwrap().secrets };

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    let claimed = meta.claim(job.id, "w", Duration::seconds(30)).await.unwrap().unwrap();
    assert_eq!(claimed.secrets.as_deref(), Some("v1.sealed"), "the worker reads them");
    assert!(meta.retry_later(job.id, "w", &unavailable, Duration::zero()).await.unwrap());
    assert_eq!(secrets_of(job.id).await.as_deref(), Some("v1.sealed"), "kept for the retry");
    meta.claim(job.id, "w", Duration::seconds(30)).await.unwrap().unwrap();
    assert!(meta.finish_succeeded(job.id, "w", &claimed.steps, &[]).await.unwrap());
    assert_eq!(secrets_of(job.id).await, None);

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    meta.claim(job.id, "w", Duration::seconds(30)).await.unwrap().unwrap();
    assert!(meta.finish_failed(job.id, "w", &[], &ToolError::new(ErrorCode::WrongPassword, "no")).await.unwrap());
    assert_eq!(secrets_of(job.id).await, None);

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    meta.request_cancel(&alice, job.id).await.unwrap();
    assert_eq!(secrets_of(job.id).await, None);

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    meta.claim(job.id, "w", Duration::seconds(30)).await.unwrap().unwrap();
    meta.request_cancel(&alice, job.id).await.unwrap();
    assert_eq!(secrets_of(job.id).await.as_deref(), Some("v1.sealed"), "still running");
    assert!(meta.retry_later(job.id, "w", &unavailable, Duration::zero()).await.unwrap());
    assert_eq!(secrets_of(job.id).await, None, "ended cancelled");

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    assert!(meta.dead_letter(job.id, 3).await.unwrap());
    assert_eq!(secrets_of(job.id).await, None);

    let (job, _) = meta.create_job(sealed()).await.unwrap();
    for _ in 0..2 {
        meta.claim(job.id, "w", Duration::milliseconds(-1)).await.unwrap().unwrap();
        meta.release_abandoned(false).await.unwrap();
    }
    assert_eq!(meta.job_by_id(job.id).await.unwrap().status, JobStatus::Failed);
    assert_eq!(secrets_of(job.id).await, None);
    assert!(meta.erase_secrets(job.id).await.unwrap(), "the log checkpoints");
}

async fn webhook_secrets_are_one_per_owner(meta: &Meta) {
    let (alice, bob) = (owner("alice"), owner("bob"));
    assert_eq!(meta.webhook_secret(&alice).await.unwrap(), None);
    meta.put_webhook_secret(&alice, "v1.first").await.unwrap();
    meta.put_webhook_secret(&bob, "v1.bobs").await.unwrap();
    meta.put_webhook_secret(&alice, "v1.second").await.unwrap();
    assert_eq!(meta.webhook_secret(&alice).await.unwrap().as_deref(), Some("v1.second"), "replaced");
    assert_eq!(meta.webhook_secret(&bob).await.unwrap().as_deref(), Some("v1.bobs"));
}

fn user(email: &str) -> UserRecord {
    UserRecord {
        id: UserId::new(),
        email: email.into(),
        password_hash: Some("$argon2id$…".into()),
        role: Role::User,
        plan: "free".into(),
        email_verified: true,
        disabled: false,
        operations_limit: None,
        storage_limit: None,
        oidc_subject: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

async fn session_of(meta: &Meta, user: &UserRecord, refresh_hash: &str) -> SessionRecord {
    let session = SessionRecord {
        id: SessionId::new(),
        user_id: user.id,
        cookie_hash: Some(format!("cookie-{refresh_hash}")),
        created_at: Utc::now(),
        expires_at: Utc::now() + Duration::days(30),
    };
    meta.insert_session(&session, refresh_hash).await.unwrap();
    session
}

async fn accounts_are_unique_by_email(meta: &Meta) {
    let ada = user("ada@example.com");
    meta.insert_user(&ada).await.unwrap();
    let twin = user("ada@example.com");
    assert_eq!(meta.insert_user(&twin).await.unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(meta.user_by_email("ADA@example.com").await.unwrap().unwrap().id, ada.id);
    let mut changed = meta.user(ada.id).await.unwrap();
    changed.role = Role::Admin;
    changed.operations_limit = Some(7);
    meta.save_user(&changed).await.unwrap();
    let read = meta.user(ada.id).await.unwrap();
    assert_eq!((read.role, read.operations_limit), (Role::Admin, Some(7)));
    meta.insert_user(&user("bob_1@example.com")).await.unwrap();
    meta.insert_user(&user("bobx1@example.com")).await.unwrap();
    let found: Vec<String> = meta.users("b_1", 10, 0).await.unwrap().into_iter().map(|u| u.email).collect();
    assert_eq!(found, ["bob_1@example.com"], "LIKE wildcards in the search are literal");
    assert_eq!(meta.users("", 10, 0).await.unwrap().len(), 3);
    assert_eq!(meta.count_admins().await.unwrap(), 1);
    meta.delete_user(ada.id).await.unwrap();
    assert_eq!(meta.user(ada.id).await.unwrap_err().code(), ErrorCode::NotFound);
}

async fn refresh_tokens_are_spent_once(meta: &Meta) {
    let ada = user("ada@example.com");
    meta.insert_user(&ada).await.unwrap();
    let session = session_of(meta, &ada, "first").await;
    assert_eq!(meta.use_refresh_token("first").await.unwrap(), RefreshUse::Fresh(session.id));
    meta.add_refresh_token("second", session.id).await.unwrap();
    assert_eq!(meta.use_refresh_token("first").await.unwrap(), RefreshUse::Replayed(session.id));
    assert_eq!(meta.use_refresh_token("never issued").await.unwrap(), RefreshUse::Unknown);
    // Racing presenters of one token: exactly one finds it fresh.
    let racers = (0..10).map(|_| meta.use_refresh_token("second"));
    let uses = futures::future::join_all(racers).await;
    let fresh = uses.iter().filter(|u| matches!(u, Ok(RefreshUse::Fresh(_)))).count();
    assert_eq!(fresh, 1, "{uses:?}");
}

async fn sessions_end_when_revoked_or_expired(meta: &Meta) {
    let ada = user("ada@example.com");
    meta.insert_user(&ada).await.unwrap();
    let one = session_of(meta, &ada, "one").await;
    let two = session_of(meta, &ada, "two").await;
    let now = Utc::now();
    let (found, owner) = meta.live_session(one.id, now).await.unwrap().unwrap();
    assert_eq!((found.id, owner.email.as_str()), (one.id, "ada@example.com"));
    assert_eq!(meta.live_session_by_cookie("cookie-two", now).await.unwrap().unwrap().0.id, two.id);
    assert!(meta.live_session(one.id, now + Duration::days(31)).await.unwrap().is_none(), "expired");
    meta.revoke_session(one.id).await.unwrap();
    assert!(meta.live_session(one.id, now).await.unwrap().is_none());
    assert!(meta.live_session(two.id, now).await.unwrap().is_some(), "other sessions live on");
    meta.revoke_sessions_of(ada.id).await.unwrap();
    assert!(meta.live_session_by_cookie("cookie-two", now).await.unwrap().is_none());
}

async fn api_keys_are_found_by_hash_and_revoked_by_their_owner(meta: &Meta) {
    let (ada, bob) = (user("ada@example.com"), user("bob@example.com"));
    meta.insert_user(&ada).await.unwrap();
    meta.insert_user(&bob).await.unwrap();
    let key = ApiKeyRecord {
        id: ApiKeyId::new(),
        user_id: ada.id,
        name: "ci".into(),
        prefix: "sk_abcd".into(),
        scopes: vec![Scope::FilesRead, Scope::JobsWrite],
        created_at: Utc::now(),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    };
    meta.insert_api_key(&key, "hash-1").await.unwrap();
    assert_eq!(meta.api_key_by_hash("hash-1").await.unwrap().unwrap().scopes, key.scopes);
    meta.touch_api_key(key.id, Utc::now()).await.unwrap();
    assert!(meta.api_keys_of(ada.id).await.unwrap()[0].last_used_at.is_some());
    assert!(meta.api_keys_of(bob.id).await.unwrap().is_empty());
    assert_eq!(meta.revoke_api_key(bob.id, key.id).await.unwrap_err().code(), ErrorCode::NotFound, "not bob's");
    meta.revoke_api_key(ada.id, key.id).await.unwrap();
    assert!(meta.api_key_by_hash("hash-1").await.unwrap().unwrap().revoked_at.is_some());
    assert!(meta.api_keys_of(ada.id).await.unwrap().is_empty());
}

async fn email_tokens_are_spent_once(meta: &Meta) {
    let ada = user("ada@example.com");
    meta.insert_user(&ada).await.unwrap();
    let now = Utc::now();
    meta.insert_email_token("link", ada.id, "verify", now + Duration::hours(1)).await.unwrap();
    meta.insert_email_token("old", ada.id, "reset", now - Duration::seconds(1)).await.unwrap();
    assert_eq!(meta.use_email_token("link", "reset", now).await.unwrap(), None, "another purpose");
    assert_eq!(meta.use_email_token("link", "verify", now).await.unwrap(), Some(ada.id));
    assert_eq!(meta.use_email_token("link", "verify", now).await.unwrap(), None, "spent");
    assert_eq!(meta.use_email_token("old", "reset", now).await.unwrap(), None, "expired");
}

fn metered(owner: &OwnerId, operations: u64, limit: u64) -> NewJob {
    NewJob { metering: Some(Metering { period: "2026-12".into(), operations, limit }), ..new_job(owner, None) }
}

async fn concurrent_jobs_never_pass_the_monthly_quota(meta: &Meta) {
    let ada = owner("user-ada");
    let creations = (0..50).map(|_| meta.create_job(metered(&ada, 1, 5)));
    let results = futures::future::join_all(creations).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 5, "exactly the 5 operations left start");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), ErrorCode::QuotaExceeded, "{refused}");
    }
    assert_eq!(meta.operations_used(&ada, "2026-12").await.unwrap(), 5);
    assert_eq!(meta.list_jobs(&ada, 100).await.unwrap().len(), 5, "refused creations left no job");
    // A job of three steps does not fit in what is left of a limit of 7.
    let bob = owner("user-bob");
    meta.create_job(metered(&bob, 5, 7)).await.unwrap();
    assert_eq!(meta.create_job(metered(&bob, 3, 7)).await.unwrap_err().code(), ErrorCode::QuotaExceeded);
    meta.create_job(metered(&bob, 2, 7)).await.unwrap();
}

async fn ended_jobs_give_unspent_operations_back_once(meta: &Meta) {
    let ada = owner("user-ada");
    let (job, _) = meta.create_job(metered(&ada, 3, 10)).await.unwrap();
    assert_eq!(meta.operations_used(&ada, "2026-12").await.unwrap(), 3);
    assert_eq!(meta.settle_job_operations(job.id, 2).await.unwrap(), 2);
    assert_eq!(meta.settle_job_operations(job.id, 2).await.unwrap(), 0, "settled once");
    assert_eq!(meta.operations_used(&ada, "2026-12").await.unwrap(), 1);
    let (unmetered, _) = meta.create_job(new_job(&ada, None)).await.unwrap();
    assert_eq!(meta.settle_job_operations(unmetered.id, 1).await.unwrap(), 0);
    meta.record_tool_usage(&ada, "2026-12-04", "rotate", 1).await.unwrap();
    meta.record_tool_usage(&ada, "2026-12-04", "rotate", 2).await.unwrap();
    let lines = meta.tool_usage(Some(&ada), "2026-12-01").await.unwrap();
    assert_eq!((lines[0].tool.as_str(), lines[0].operations), ("rotate", 3));
    let report = meta.usage_report("2026-01").await.unwrap();
    assert_eq!((report[0].owner.as_str(), report[0].operations), (ada.as_str(), 1));
}

async fn guests_files_and_jobs_pass_to_their_account(meta: &Meta) {
    let (guest, account) = (owner("guest-1"), owner("user-1"));
    let kept = file(&guest, None);
    meta.insert_file(&kept).await.unwrap();
    let (plain, _) = meta.create_job(new_job(&guest, None)).await.unwrap();
    let sealed = NewJob { secrets: Some("v1.sealed".into()), ..new_job(&guest, None) };
    let (with_secrets, _) = meta.create_job(sealed).await.unwrap();
    meta.transfer_owner(&guest, &account).await.unwrap();
    assert_eq!(meta.file(&account, kept.id).await.unwrap().id, kept.id);
    assert_eq!(meta.file(&guest, kept.id).await.unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(meta.job(&account, plain.id).await.unwrap().id, plain.id);
    assert_eq!(meta.job(&guest, with_secrets.id).await.unwrap().id, with_secrets.id, "secrets stay bound");
}

async fn tool_switches_and_audit_log(meta: &Meta) {
    meta.set_tool_enabled("ocr", false, "user:admin").await.unwrap();
    meta.set_tool_enabled("merge", false, "user:admin").await.unwrap();
    meta.set_tool_enabled("merge", true, "user:admin").await.unwrap();
    assert_eq!(meta.disabled_tools().await.unwrap(), ["ocr"]);
    for action in ["sign_in", "api_key_created"] {
        let entry = AuditEntry {
            at: Utc::now(),
            actor: "user:ada".into(),
            action: action.into(),
            target: None,
            address: Some("127.0.0.1".into()),
            detail: None,
        };
        meta.append_audit(&entry).await.unwrap();
    }
    let log = meta.audit_log(None, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["api_key_created", "sign_in"]);
}
