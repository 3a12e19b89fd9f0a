//! Upgrades: migrations go forward only, `migrate --check` lists what would
//! run without applying it, and a database a newer frontdesk migrated is
//! refused before anything touches it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::migrate::Migrator;

use super::support::postgres::on_postgres;
use super::{frontdesk, run};

fn sqlite_migrations() -> Migrator {
    sqlx::migrate!("migrations/sqlite")
}

/// `0018`: the newest migration this binary carries, as messages print it.
fn binary_latest(migrator: &Migrator) -> String {
    format!("{:04}", migrator.iter().last().unwrap().version)
}

/// Records migration 9001, which this binary does not have, as a newer
/// frontdesk would (SQLite's and PostgreSQL's spelling of a byte string).
pub const FUTURE_SQLITE: &str = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9001, 'retention', TRUE, x'00', 1)";
const FUTURE_POSTGRES: &str = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9001, 'retention', TRUE, '\\x00', 1)";

/// `serve` on `db` must exit by itself (refusing), never start serving.
fn serve_refuses(db: &str) -> String {
    let mut child = frontdesk(&["serve", "--listen", "127.0.0.1:0", "--database", db])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started on a database a newer frontdesk migrated");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    stderr
}

/// The refusal names the database's migration, the binary's newest, and the way out.
fn assert_names_both_versions(message: &str, binary: &str) {
    assert!(
        message.contains("migration 9001 retention")
            && message.contains(&format!("its newest is {binary}"))
            && message.contains("Run that newer frontdesk"),
        "{message}"
    );
}

#[test]
fn sqlite_check_lists_what_would_run_and_a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frontdesk.db");
    let db = format!("sqlite://{}", file.display());
    let migrator = sqlite_migrations();
    let all: Vec<String> = migrator
        .iter()
        .map(|m| format!("  {:04} {}", m.version, m.description))
        .collect();

    // A database that does not exist: everything would run, nothing is created.
    let (code, out, err) = run(&mut frontdesk(&["migrate", "--check", "--database", &db]));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out.lines().skip(1).collect::<Vec<_>>(), all, "{out}");
    assert!(!file.exists(), "migrate --check created the database");

    // A database as an older frontdesk left it: all but the last two.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut older = sqlite_migrations();
        let keep = older.migrations.len() - 2;
        older.migrations = older.migrations[..keep].to_vec().into();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        older.run(&pool).await.unwrap();
        pool.close().await;
    });
    let (code, out, err) = run(&mut frontdesk(&["migrate", "--check", "--database", &db]));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        all[all.len() - 2..],
        "{out}"
    );
    // Still not applied: asking again gives the same answer.
    let (code, again, _) = run(&mut frontdesk(&["migrate", "--check", "--database", &db]));
    assert_eq!((code, &again), (2, &out));

    let (code, out, err) = run(&mut frontdesk(&["migrate", "--database", &db]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        all[all.len() - 2..],
        "{out}"
    );
    let (code, out, _) = run(&mut frontdesk(&["migrate", "--check", "--database", &db]));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("up to date"), "{out}");

    // A newer frontdesk migrated it: every command refuses, naming both versions.
    rt.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query(FUTURE_SQLITE).execute(&mut conn).await.unwrap();
    });
    let binary = binary_latest(&migrator);
    let (code, out, err) = run(&mut frontdesk(&["migrate", "--check", "--database", &db]));
    assert_eq!(code, 1, "{out}");
    assert_names_both_versions(&err, &binary);
    let (code, _, err) = run(&mut frontdesk(&["migrate", "--database", &db]));
    assert_eq!(code, 1);
    assert_names_both_versions(&err, &binary);
    assert_names_both_versions(&serve_refuses(&db), &binary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_check_applies_nothing_and_a_newer_database_is_refused() {
    on_postgres("upgrades", |db| async move {
        let migrator: Migrator = sqlx::migrate!("migrations/postgres");
        let count = migrator.iter().count();
        let blocking = |args: Vec<String>| {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run(&mut frontdesk(&args))
            })
        };
        let args = |list: &[&str]| {
            let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            v.extend(["--database".to_string(), db.clone()]);
            v
        };

        let (code, out, err) = blocking(args(&["migrate", "--check"])).await.unwrap();
        assert_eq!(code, 2, "{out}{err}");
        assert_eq!(out.lines().count(), count + 1, "{out}");
        assert!(out.contains("no migrations yet"), "{out}");
        let mut conn = sqlx::PgConnection::connect(&db).await.unwrap();
        let (absent,): (bool,) = sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NULL")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(absent, "migrate --check created the migrations table");

        let (code, out, err) = blocking(args(&["migrate"])).await.unwrap();
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(&format!("applied {count} migration(s)")),
            "{out}"
        );
        let (code, out, _) = blocking(args(&["migrate", "--check"])).await.unwrap();
        assert_eq!(code, 0, "{out}");

        sqlx::query(FUTURE_POSTGRES)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let binary = binary_latest(&migrator);
        let (code, _, err) = blocking(args(&["migrate", "--check"])).await.unwrap();
        assert_eq!(code, 1);
        assert_names_both_versions(&err, &binary);
        let refused = tokio::task::spawn_blocking({
            let db = db.clone();
            move || serve_refuses(&db)
        })
        .await
        .unwrap();
        assert_names_both_versions(&refused, &binary);
        let (code, out, _) = blocking(args(&["check"])).await.unwrap();
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FAIL  database"), "{out}");
        assert_names_both_versions(&out, &binary);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_from_another_build_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = super::support::sqlite_url(dir.path());
    let (code, _, err) = run(&mut frontdesk(&["migrate", "--database", &db]));
    assert_eq!(code, 0, "{err}");
    // Number 9 is a gap in this binary's migrations: another build's.
    assert!(!sqlite_migrations().iter().any(|m| m.version == 9));
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let other = FUTURE_SQLITE.replace("9001, 'retention'", "9, 'experiment'");
    sqlx::query(sqlx::AssertSqlSafe(other))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let refused = tokio::task::spawn_blocking(move || serve_refuses(&db))
        .await
        .unwrap();
    assert!(
        refused.contains("migration 0009 experiment, which this binary does not carry"),
        "{refused}"
    );
}
