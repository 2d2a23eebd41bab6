//! What every benchmark shares: the median of its rounds, and the result
//! file it writes under `docs/`, stamped with the commit, the date, the
//! CPU and the load before and after, so that no figure is typed by hand.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// The median of `samples` (the upper one of an even count).
pub fn median<T: PartialOrd + Copy>(mut samples: Vec<T>) -> T {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    samples[samples.len() / 2]
}

/// The 1-minute load average now (Linux), for the stamp.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|line| line.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn commit() -> String {
    std::process::Command::new("git")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// Today's date (UTC), from the system clock.
fn date() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Prints `table` (markdown) and, unless `quick`, writes it to
/// `docs/<name>.md` with `title` and the stamp; `load_before` is the load
/// read before the runs.
pub fn publish(name: &str, title: &str, table: &str, load_before: &str, quick: bool) {
    print!("{table}");
    if quick {
        return;
    }
    let text = format!(
        "# {title}\n\nWritten by `{name}` — commit {}, {}, {}, load {load_before} before and {} after. \
         Figures swing between runs on a shared machine: compare ratios measured in one run, not figures \
         from two.\n\n{table}",
        commit(),
        date(),
        cpu(),
        load()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("docs").join(format!("{name}.md"));
    if let Err(error) = std::fs::write(&path, text) {
        eprintln!("cannot write {}: {error}", path.display());
    }
}
