//! A throwaway PostgreSQL server for the tests: a cluster made with
//! `initdb` in a temporary directory, listening on a Unix socket only, run
//! as `nobody` when the tests run as root (PostgreSQL refuses root), and
//! stopped and deleted when dropped.
//!
//! Without PostgreSQL's binaries the tests that need a server print that
//! they were skipped and why, and pass; with `OPLIFE_REQUIRE_POSTGRES=1`
//! (CI) a missing server fails them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable that makes a missing server fail the tests.
pub const REQUIRE: &str = "OPLIFE_REQUIRE_POSTGRES";

/// A running throwaway server.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    /// The user the server runs as, when the tests run as root.
    user: Option<&'static str>,
}

impl Cluster {
    /// Starts a server, or returns `None` after printing why not when
    /// PostgreSQL's binaries are missing (and [`REQUIRE`] is not set).
    ///
    /// # Errors
    ///
    /// When the binaries are missing and [`REQUIRE`] is set, or when they
    /// are there and the server does not start: the test then fails.
    pub fn start(test: &str) -> Result<Option<Cluster>, String> {
        let Some(bin) = binaries() else {
            if std::env::var(REQUIRE).is_ok_and(|v| v == "1") {
                return Err(format!(
                    "{test}: PostgreSQL's binaries (initdb, pg_ctl) are not installed, and {REQUIRE}=1 requires them"
                ));
            }
            eprintln!(
                "{test}: SKIPPED, PostgreSQL's binaries (initdb, pg_ctl) are not on PATH nor under \
                 /usr/lib/postgresql; set {REQUIRE}=1 to make this a failure"
            );
            return Ok(None);
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "oplife-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{test}: cannot make {}: {e}", dir.display()))?;
        let user = running_as_root().then_some("nobody");
        // From here on, dropping the cluster deletes the directory.
        let cluster = Cluster { bin, dir, user };
        if let Some(user) = user {
            cluster.ok(Command::new("chown").args(["-R", user]).arg(&cluster.dir).output(), "chown")?;
        }
        let data = cluster.dir.join("data");
        let initdb = cluster
            .tool("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "oplife", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output();
        cluster.ok(initdb, "initdb")?;
        cluster.pg_ctl(&["start"])?;
        Ok(Some(cluster))
    }

    /// The connection parameters of its database.
    pub fn params(&self) -> String {
        format!("host={} port=5432 user=oplife dbname=postgres", self.dir.display())
    }

    /// Restarts the server as a crash would leave it: stopped at once
    /// (`pg_ctl restart -m immediate`), then recovered from its WAL.
    ///
    /// # Errors
    ///
    /// `pg_ctl`'s output and the server's log, when it fails.
    pub fn restart_immediately(&self) -> Result<(), String> {
        self.pg_ctl(&["restart", "-m", "immediate"])
    }

    fn pg_ctl(&self, action: &[&str]) -> Result<(), String> {
        let options = format!("-c listen_addresses='' -k {} -p 5432", self.dir.display());
        let output = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-o", &options])
            .args(action)
            .output();
        self.ok(output, "pg_ctl")
    }

    /// `name` from the server's binaries, run as the server's user.
    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        match self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    /// Whether `output` is a success; else what it said, with the server's log.
    fn ok(&self, output: std::io::Result<Output>, what: &str) -> Result<(), String> {
        let output = output.map_err(|e| format!("{what} did not run: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        Err(format!(
            "{what} failed: {}{}\nserver log:\n{log}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Drop for Cluster {
    /// Stops the server at once and deletes its directory: nothing is left.
    fn drop(&mut self) {
        let options = format!("-c listen_addresses='' -k {} -p 5432", self.dir.display());
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-m", "immediate", "-o", &options, "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory of `initdb` and `pg_ctl`: on `PATH`, or the newest under
/// `/usr/lib/postgresql` (Debian's layout).
fn binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_both(dir));
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
            .filter(|dir| has_both(dir))
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}
