//! A report directory replaced as a whole: the run writes into a fresh sibling
//! `.NAME.evident-tmp-PID` and, at the end, sets the old report aside (`.NAME.evident-old-PID`),
//! renames the new one in and removes the old. A reader, a rerun that dies half-way or an
//! analysis dropped from the inputs therefore never leaves pages of two runs side by side or an
//! index that disagrees with them. A lock file beside the target (`.NAME.evident-lock`, created
//! with `create_new`, holding the pid) makes a second run into the same directory fail with a
//! clear message; a lock whose process is gone is taken over. Only a directory that is missing,
//! empty, or holds the [`MARKER`] file a report is written with is ever replaced.

use crate::app::atomic::{
    create_new_registered, creating, pid_alive, register, sweep_stale, unregister, InFlight,
};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file every report directory holds, so that a run never replaces a directory it did not
/// write.
pub const MARKER: &str = ".evident-report";
/// The marker's text: the same in every report, so that reports stay reproducible.
pub const MARKER_TEXT: &str =
    "This directory is a report written by `evident report`; a new run replaces it as a whole.\n";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A report being written: see the module documentation.
#[derive(Debug)]
pub struct ReportDir {
    target: PathBuf,
    build: PathBuf,
    aside: PathBuf,
    notes: Vec<String>,
    committed: bool,
    // Dropped last: the lock outlives the removal of the directory being built.
    _lock: Lock,
}

impl ReportDir {
    /// Takes the lock on `target`, removes what dead runs left beside it, checks that `target`
    /// may be replaced, and creates the directory to write into ([`ReportDir::path`]).
    pub fn begin(target: &Path) -> Result<ReportDir> {
        let target = resolve(target)?;
        let parent = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{}: name the report directory itself (not '.' or '..')",
                    target.display()
                ))
            })?;
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let mut notes = Vec::new();
        let lock = Lock::take(&parent, &name, &target, &mut notes)?;
        notes.extend(sweep_stale(&parent).iter().map(|s| s.to_string()));
        check_replaceable(&target)?;
        let pid = std::process::id();
        let build = parent.join(format!(".{name}.evident-tmp-{pid}"));
        if std::fs::symlink_metadata(&build).is_ok() {
            // Only a dead run of the same pid leaves this name (the lock excludes a live one).
            std::fs::remove_dir_all(&build).map_err(io(&build))?;
        }
        create_dir_registered(&build)?;
        let dir = ReportDir {
            aside: parent.join(format!(".{name}.evident-old-{pid}")),
            target,
            build,
            notes,
            committed: false,
            _lock: lock,
        };
        std::fs::write(dir.build.join(MARKER), MARKER_TEXT).map_err(io(&dir.build))?;
        Ok(dir)
    }

    /// The directory to write the report into.
    pub fn path(&self) -> &Path {
        &self.build
    }

    /// The directory the report replaces on [`ReportDir::commit`].
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// What happened beside the target that the user should hear of (a stale lock taken over,
    /// leftovers of dead runs removed).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Swaps the new report in: the old one (if any) is renamed aside, the new one renamed in,
    /// the old one removed. A failure before the second rename puts the old report back.
    pub fn commit(mut self) -> Result<()> {
        flush_tree(&self.build)?;
        check_replaceable(&self.target)?;
        let had_old = std::fs::symlink_metadata(&self.target).is_ok();
        // Both renames happen where a signal's cleanup waits (it must not remove the old report
        // between them); once the new one is in, the old one is in flight, so that a signal
        // during its removal finishes the removal instead of leaving half of it.
        creating(|| -> Result<()> {
            if had_old {
                std::fs::rename(&self.target, &self.aside).map_err(io(&self.target))?;
            }
            if let Err(e) = std::fs::rename(&self.build, &self.target) {
                if had_old {
                    let _ = std::fs::rename(&self.aside, &self.target);
                }
                return Err(io(&self.target)(e));
            }
            unregister(&InFlight::Dir(self.build.clone()));
            if had_old {
                register(InFlight::Dir(self.aside.clone()));
            }
            Ok(())
        })?;
        self.committed = true;
        if had_old {
            // Left behind only if removal fails; the next run's sweep removes it.
            let _ = std::fs::remove_dir_all(&self.aside);
            unregister(&InFlight::Dir(self.aside.clone()));
        }
        sync_dir(self.target.parent());
        Ok(())
    }
}

impl Drop for ReportDir {
    fn drop(&mut self) {
        if !self.committed {
            unregister(&InFlight::Dir(self.build.clone()));
            let _ = std::fs::remove_dir_all(&self.build);
        }
    }
}

/// The target with a symbolic link followed, so that the swap happens where the report is and
/// the link keeps pointing at it.
fn resolve(target: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => target.canonicalize().map_err(io(target)),
        _ => Ok(target.to_path_buf()),
    }
}

/// A missing or empty directory, or one holding the [`MARKER`], may be replaced; anything else
/// is refused.
fn check_replaceable(target: &Path) -> Result<()> {
    let refuse = || Error::NotAReport {
        path: target.to_path_buf(),
        marker: MARKER,
    };
    let meta = match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(target)(e)),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        return Err(refuse());
    }
    let mut entries = std::fs::read_dir(target).map_err(io(target))?;
    if entries.next().is_none() || target.join(MARKER).is_file() {
        Ok(())
    } else {
        Err(refuse())
    }
}

/// Creates `dir` and registers it, so that a signal removes it with everything written into it.
fn create_dir_registered(dir: &Path) -> Result<()> {
    std::fs::create_dir(dir).map_err(io(dir))?;
    crate::app::atomic::register(InFlight::Dir(dir.to_path_buf()));
    Ok(())
}

/// Writes the new file `path` inside the directory being built ([`ReportDir::path`]). Neither a
/// temporary file nor a flush per file is needed: nobody sees that directory before
/// [`ReportDir::commit`], a failed or interrupted run removes it whole, and the commit makes it
/// durable in one go ([`flush_tree`]).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = creating(|| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    })
    .map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))
}

/// Creates the directory `dir` inside the directory being built (its parent must exist: a
/// directory a signal removed is never made again).
pub fn create_dir_new(dir: &Path) -> Result<()> {
    creating(|| std::fs::create_dir(dir)).map_err(io(dir))
}

/// Makes everything written into `dir` durable before it is renamed in: on Linux one `syncfs` of
/// its file system (an fsync per file was most of a large report's time).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn flush_tree(dir: &Path) -> Result<()> {
    let f = std::fs::File::open(dir).map_err(io(dir))?;
    nix::unistd::syncfs(&f).map_err(|e| io(dir)(std::io::Error::from(e)))
}

/// Makes everything written into `dir` durable before it is renamed in: an fsync of every file.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn flush_tree(dir: &Path) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = e.map_err(io(dir))?.path();
        if path.is_dir() {
            flush_tree(&path)?;
        } else {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Makes the renames durable where the OS allows it (a directory cannot be synced on Windows).
fn sync_dir(dir: Option<&Path>) {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// The lock file of one target, removed when dropped.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Creates `.NAME.evident-lock` beside the target holding this process's id; a lock whose
    /// process is gone is taken over (with a note), a live one is an [`Error::OutputLocked`].
    fn take(parent: &Path, name: &str, target: &Path, notes: &mut Vec<String>) -> Result<Lock> {
        let path = parent.join(format!(".{name}.evident-lock"));
        let me = std::process::id();
        let locked = |pid| Error::OutputLocked {
            path: target.to_path_buf(),
            lock: path.clone(),
            pid,
        };
        for _ in 0..4 {
            match create_new_registered(&path) {
                Ok(mut f) => {
                    let lock = Lock { path: path.clone() };
                    writeln!(f, "{me}").map_err(io(&path))?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(&path)(e)),
            }
            let held = std::fs::read_to_string(&path).unwrap_or_default();
            match held.trim().parse::<u32>() {
                Ok(pid) if pid != me && !pid_alive(pid) => {
                    if take_over(&path, &held, me) {
                        notes.push(format!(
                            "took over the lock {} of process {pid}, which is no longer running",
                            path.display()
                        ));
                    }
                }
                Ok(pid) => return Err(locked(Some(pid))),
                // Between another run's create_new and its write, or a lock we did not write.
                Err(_) => return Err(locked(None)),
            }
        }
        Err(locked(None))
    }
}

/// Removes a stale lock whose text is `held`, unless another run replaced it meanwhile: it is
/// first renamed to a name of this process, so that two runs taking over one stale lock cannot
/// both remove it and each believe it holds the new one.
fn take_over(path: &Path, held: &str, me: u32) -> bool {
    let mine = path.with_file_name(format!(
        "{}-stale-{me}",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    if std::fs::rename(path, &mine).is_err() {
        return false;
    }
    if std::fs::read_to_string(&mine).is_ok_and(|t| t == held) {
        let _ = std::fs::remove_file(&mine);
        true
    } else {
        // Another run's fresh lock: give it back.
        let _ = std::fs::rename(&mine, path);
        false
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        unregister(&InFlight::File(self.path.clone()));
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// The pid of a process that has ended.
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        assert!(!pid_alive(pid));
        pid
    }

    #[test]
    fn a_rerun_replaces_the_whole_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("rep");
        let d = ReportDir::begin(&target).unwrap();
        std::fs::write(d.path().join("old.html"), "old").unwrap();
        d.commit().unwrap();
        let d = ReportDir::begin(&target).unwrap();
        std::fs::write(d.path().join("new.html"), "new").unwrap();
        assert!(
            target.join("old.html").exists(),
            "old report intact until the swap"
        );
        d.commit().unwrap();
        assert_eq!(names(&target), [MARKER, "new.html"]);
        assert_eq!(
            names(tmp.path()),
            ["rep"],
            "no lock, build or old directory left"
        );
    }

    #[test]
    fn an_abandoned_run_leaves_the_old_report() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("rep");
        ReportDir::begin(&target).unwrap().commit().unwrap();
        let d = ReportDir::begin(&target).unwrap();
        std::fs::write(d.path().join("half.html"), "half").unwrap();
        drop(d);
        assert_eq!(names(&target), [MARKER]);
        assert_eq!(names(tmp.path()), ["rep"]);
    }

    #[test]
    fn foreign_directories_are_never_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("mine");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("thesis.tex"), "precious").unwrap();
        let e = ReportDir::begin(&target).unwrap_err();
        assert!(matches!(e, Error::NotAReport { .. }), "{e}");
        assert!(e.to_string().contains("not an evident report"), "{e}");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(
            ReportDir::begin(&file).unwrap_err(),
            Error::NotAReport { .. }
        ));
        assert_eq!(
            std::fs::read(target.join("thesis.tex")).unwrap(),
            b"precious"
        );
        assert_eq!(names(tmp.path()), ["file", "mine"], "lock released");
        // Refused at the swap too, when the directory was filled meanwhile.
        let other = tmp.path().join("other");
        let d = ReportDir::begin(&other).unwrap();
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("x"), "x").unwrap();
        assert!(matches!(d.commit().unwrap_err(), Error::NotAReport { .. }));
        assert_eq!(names(&other), ["x"]);
        assert!(ReportDir::begin(Path::new(".")).is_err());
    }

    #[test]
    fn a_second_run_is_refused_and_a_stale_lock_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("rep");
        let first = ReportDir::begin(&target).unwrap();
        let e = ReportDir::begin(&target).unwrap_err();
        assert!(
            matches!(e, Error::OutputLocked { pid: Some(p), .. } if p == std::process::id()),
            "{e}"
        );
        assert!(e.to_string().contains("another evident run"), "{e}");
        drop(first);
        let lock = tmp.path().join(".rep.evident-lock");
        std::fs::write(&lock, format!("{}\n", dead_pid())).unwrap();
        let d = ReportDir::begin(&target).unwrap();
        assert!(
            d.notes()[0].contains("took over the lock"),
            "{:?}",
            d.notes()
        );
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(d);
        assert!(!lock.exists());
        std::fs::write(&lock, "").unwrap();
        assert!(matches!(
            ReportDir::begin(&target).unwrap_err(),
            Error::OutputLocked { pid: None, .. }
        ));
    }

    #[test]
    fn leftovers_of_dead_runs_are_removed_or_restored() {
        let tmp = tempfile::tempdir().unwrap();
        let (dead, live) = (dead_pid(), std::process::id());
        let mk = |n: &str, marker: bool| {
            let p = tmp.path().join(n);
            std::fs::create_dir(&p).unwrap();
            if marker {
                std::fs::write(p.join(MARKER), MARKER_TEXT).unwrap();
            }
        };
        mk(&format!(".rep.evident-tmp-{dead}"), true);
        mk(&format!(".gone.evident-old-{dead}"), true);
        mk(&format!(".kept.evident-tmp-{live}"), true);
        mk(".rep.evident-tmp-x", false);
        for f in [
            format!(".a.csv.evident-{dead}-0.tmp"),
            format!(".a.csv.evident-{live}-0.tmp"),
            format!(".a.csv.{dead}.0.tmp"),
            "notes.txt".into(),
        ] {
            std::fs::write(tmp.path().join(f), "x").unwrap();
        }
        let d = ReportDir::begin(&tmp.path().join("rep")).unwrap();
        assert_eq!(d.notes().len(), 3, "{:?}", d.notes());
        d.commit().unwrap();
        let mut want = vec![
            format!(".a.csv.evident-{live}-0.tmp"),
            format!(".a.csv.{dead}.0.tmp"),
            format!(".kept.evident-tmp-{live}"),
            ".rep.evident-tmp-x".into(),
            "gone".into(),
            "notes.txt".into(),
            "rep".into(),
        ];
        want.sort();
        assert_eq!(names(tmp.path()), want);
        assert_eq!(
            names(&tmp.path().join("gone")),
            [MARKER],
            "set-aside report restored"
        );
    }
}
