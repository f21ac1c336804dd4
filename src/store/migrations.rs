//! The migration files' rules, checked by a test: parallel work must not be
//! able to break them, and each backend must get every change.
//!
//! - `migrations/postgres/` and `migrations/sqlite/` hold the same names: a
//!   change is written for both backends, in one commit, even where the SQL is
//!   the same (sqlx embeds one directory per backend).
//! - A new migration is named `<UTC time as YYYYMMDDHHMMSS>_<what>.sql`, the
//!   time it was written. Two branches that each add one get two versions
//!   that sort by when they were written, never the same number; the first
//!   seven kept their four-digit numbers (`0001`–`0007`).
//! - Versions are unique per directory, and names are lowercase
//!   `[a-z0-9_]`.
//! - A migration that has landed is never edited (sqlx refuses a changed
//!   checksum on every database that ran it): a fix is a new migration.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// The last four-digit version, from before the timestamp rule.
    const LAST_NUMBERED: u64 = 7;

    /// A migration file name's version, or what is wrong with it.
    fn version(name: &str) -> Result<u64, String> {
        let stem = (name.strip_suffix(".sql")).ok_or_else(|| format!("{name}: not .sql"))?;
        let (version, what) = (stem.split_once('_')).ok_or_else(|| format!("{name}: no _"))?;
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if what.is_empty() || !what.chars().all(ok) {
            return Err(format!(
                "{name}: the name after the version is not [a-z0-9_]+"
            ));
        }
        let number: u64 = (version.parse()).map_err(|_| format!("{name}: no number"))?;
        let numbered = version.len() == 4 && number <= LAST_NUMBERED;
        let timestamped = version.len() == 14
            && chrono::NaiveDateTime::parse_from_str(version, "%Y%m%d%H%M%S").is_ok();
        match numbered || timestamped {
            true => Ok(number),
            false => Err(format!(
                "{name}: a new migration is named <UTC YYYYMMDDHHMMSS>_<what>.sql"
            )),
        }
    }

    /// The problems of one backend's directory; its files by name.
    fn read(dir: &Path) -> (Vec<String>, BTreeMap<String, u64>) {
        let (mut problems, mut files, mut seen) = (Vec::new(), BTreeMap::new(), BTreeMap::new());
        for entry in std::fs::read_dir(dir).expect("the migrations directory") {
            let name = entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            match version(&name) {
                Ok(v) => {
                    if let Some(other) = seen.insert(v, name.clone()) {
                        problems.push(format!(
                            "{}: {name} and {other} share version {v}",
                            dir.display()
                        ));
                    }
                    files.insert(name, v);
                }
                Err(problem) => problems.push(format!("{}: {problem}", dir.display())),
            }
        }
        (problems, files)
    }

    /// Every problem of the two directories.
    fn check(root: &Path) -> Vec<String> {
        let (mut problems, postgres) = read(&root.join("postgres"));
        let (sqlite_problems, sqlite) = read(&root.join("sqlite"));
        problems.extend(sqlite_problems);
        for name in postgres.keys().filter(|n| !sqlite.contains_key(*n)) {
            problems.push(format!("{name}: in postgres/ only; write its sqlite/ twin"));
        }
        for name in sqlite.keys().filter(|n| !postgres.contains_key(*n)) {
            problems.push(format!("{name}: in sqlite/ only; write its postgres/ twin"));
        }
        problems
    }

    #[test]
    fn the_migrations_follow_the_rules() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        assert_eq!(check(&root), Vec::<String>::new());
    }

    #[test]
    fn the_check_names_duplicates_twins_missing_and_bad_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (pg, lite) = (dir.path().join("postgres"), dir.path().join("sqlite"));
        std::fs::create_dir_all(&pg).unwrap();
        std::fs::create_dir_all(&lite).unwrap();
        for (d, name) in [
            (&pg, "0001_ledger.sql"),
            (&lite, "0001_ledger.sql"),
            (&pg, "20261207120000_alpha.sql"),
            (&pg, "20261207120000_beta.sql"),
            (&lite, "20261207120000_alpha.sql"),
            (&lite, "0008_numbered.sql"),
            (&lite, "20261207120001_Upper.sql"),
        ] {
            std::fs::write(d.join(name), "SELECT 1;").unwrap();
        }
        let problems = check(dir.path()).join("\n");
        for expected in [
            "share version 20261207120000",
            "20261207120000_beta.sql: in postgres/ only",
            "0008_numbered.sql: a new migration is named",
            "20261207120001_Upper.sql: the name after the version",
        ] {
            assert!(problems.contains(expected), "{expected} in:\n{problems}");
        }
        assert_eq!(problems.lines().count(), 4, "{problems}");
    }
}
