//! Safe output files: atomic writes (temporary file in the same directory, then a rename), a
//! registry of the temporary files and directories in flight so that a signal handler can delete
//! them, the removal of what a killed run of evident left behind ([`sweep_stale`]), and
//! [`safe_join`] for file names derived from user text.
//!
//! A reader therefore never sees half a file, a failed or interrupted run leaves any old file
//! intact, and no `.name.evident-PID-N.tmp` file is left behind: SIGINT, SIGTERM and SIGHUP
//! delete them on the way out, and the next run removes those of a run that was killed outright
//! (SIGKILL, a power cut).

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockWriteGuard};

/// Something a run creates and removes or renames before it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InFlight {
    /// A temporary file (or a lock file).
    File(PathBuf),
    /// A directory being built, removed with everything in it.
    Dir(PathBuf),
}

/// Temporary files and directories created and not yet renamed or removed.
static IN_FLIGHT: Mutex<Vec<InFlight>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);
/// The directories [`sweep_stale`] has already looked through in this process.
static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Held shared while a file or directory is created inside a registered directory without being
/// registered itself (the files of a report's build directory), and exclusively from
/// [`freeze_in_flight`] on: nothing new appears in a directory once a signal is removing it.
static CREATING: RwLock<()> = RwLock::new(());

/// Runs `f`, which creates files or directories inside a registered directory, unless a signal
/// is removing what is in flight; then it waits for the process to end.
pub fn creating<T>(f: impl FnOnce() -> T) -> T {
    let _shared = CREATING.read().unwrap_or_else(|e| e.into_inner());
    f()
}

fn registry() -> MutexGuard<'static, Vec<InFlight>> {
    // A panic while holding the lock leaves the list itself consistent.
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `item` so that [`freeze_in_flight`] removes it.
pub fn register(item: InFlight) {
    registry().push(item);
}

/// Creates `path` with `create_new` and registers it, under the registry's lock, so that a signal
/// sees either no file or a registered one.
pub fn create_new_registered(path: &Path) -> std::io::Result<File> {
    let mut list = registry();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    list.push(InFlight::File(path.to_path_buf()));
    Ok(file)
}

/// Forgets `item` (it was renamed or removed).
pub fn unregister(item: &InFlight) {
    registry().retain(|p| p != item);
}

/// Deletes every temporary file and directory in flight, the latest first (a file before the
/// directory being built around it, the lock taken before both last), and keeps the
/// registry locked while the returned guard lives, so that no other thread creates or renames a
/// temporary file: a signal handler calls this and ends the process holding the guard.
pub fn freeze_in_flight() -> InFlightFreeze {
    let creating = CREATING.write().unwrap_or_else(|e| e.into_inner());
    let mut list = registry();
    let items: Vec<InFlight> = list.drain(..).collect();
    for it in items.iter().rev() {
        match it {
            InFlight::File(p) => {
                let _ = std::fs::remove_file(p);
            }
            InFlight::Dir(p) => {
                let _ = std::fs::remove_dir_all(p);
            }
        }
    }
    InFlightFreeze(list, creating)
}

/// The registry of temporary files, locked (see [`freeze_in_flight`]).
pub struct InFlightFreeze(
    #[allow(dead_code)] MutexGuard<'static, Vec<InFlight>>,
    #[allow(dead_code)] RwLockWriteGuard<'static, ()>,
);

/// Whether process `pid` is running (on Unix, `kill(pid, 0)`: a process of another user counts as
/// running). Where this cannot be told, every process counts as running, so that nothing of a
/// live run is ever removed.
pub fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        use nix::errno::Errno;
        let Ok(raw) = i32::try_from(pid) else {
            return false;
        };
        if raw <= 0 {
            return false;
        }
        !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None),
            Err(Errno::ESRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// What a leftover of a run of evident is, by its name: `.NAME.evident-PID-N.tmp` (a temporary
/// file of [`AtomicFile`]), `.NAME.evident-tmp-PID` (a report being built) or
/// `.NAME.evident-old-PID` (a report set aside during the swap), with the pid that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftover {
    /// A temporary file.
    File(u32),
    /// A report directory being built.
    Build(u32),
    /// An old report set aside, to be removed once the new one is in place.
    Aside(u32),
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses a file name as one of evident's leftovers ([`Leftover`]); `None` for any other name.
pub fn leftover(name: &str) -> Option<Leftover> {
    let rest = name.strip_prefix('.')?;
    if let Some(body) = rest.strip_suffix(".tmp") {
        let (stem, tail) = body.rsplit_once(".evident-")?;
        let (pid, n) = tail.split_once('-')?;
        return (!stem.is_empty() && digits(n).is_some())
            .then(|| digits(pid).map(Leftover::File))
            .flatten();
    }
    let (stem, tail) = rest.rsplit_once(".evident-")?;
    if stem.is_empty() {
        return None;
    }
    if let Some(pid) = tail.strip_prefix("tmp-") {
        return digits(pid).map(Leftover::Build);
    }
    tail.strip_prefix("old-")
        .and_then(digits)
        .map(Leftover::Aside)
}

/// What [`sweep_stale`] did with one leftover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swept {
    /// Removed (with everything in it, for a directory).
    Removed(PathBuf),
    /// An old report set aside by a run that died before the new one was in place, renamed back.
    Restored {
        /// Where it was set aside.
        from: PathBuf,
        /// The report directory it is again.
        to: PathBuf,
    },
}

impl std::fmt::Display for Swept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Swept::Removed(p) => write!(
                f,
                "removed {}, left by an evident run that is no longer running",
                p.display()
            ),
            Swept::Restored { from, to } => write!(
                f,
                "restored the report {} from {}, set aside by an evident run that is no longer \
                 running",
                to.display(),
                from.display()
            ),
        }
    }
}

/// Removes from `dir` what runs of evident that are no longer running left behind: temporary
/// files, report directories being built, old reports set aside ([`Leftover`]). Only names of
/// that pattern whose pid is not a running process (nor this one) are touched; an old report
/// whose target is missing (the run died between its two renames) is put back instead. Each
/// directory is looked through once per process. Returns what was removed or restored.
pub fn sweep_stale(dir: &Path) -> Vec<Swept> {
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        if !swept
            .get_or_insert_with(HashSet::new)
            .insert(dir.to_path_buf())
        {
            return Vec::new();
        }
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut done = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(kind) = leftover(&name) else {
            continue;
        };
        let (Leftover::File(pid) | Leftover::Build(pid) | Leftover::Aside(pid)) = kind;
        if pid == me || pid_alive(pid) {
            continue;
        }
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        let removed = match kind {
            Leftover::File(_) if !is_dir => std::fs::remove_file(&path).is_ok(),
            Leftover::Aside(_) if is_dir => match aside_target(dir, &name) {
                Some(to) if std::fs::symlink_metadata(&to).is_err() => {
                    if std::fs::rename(&path, &to).is_ok() {
                        done.push(Swept::Restored { from: path, to });
                    }
                    continue;
                }
                _ => std::fs::remove_dir_all(&path).is_ok(),
            },
            Leftover::Build(_) if is_dir => std::fs::remove_dir_all(&path).is_ok(),
            _ => false,
        };
        if removed {
            done.push(Swept::Removed(path));
        }
    }
    done
}

/// The report an `.NAME.evident-old-PID` directory was set aside from: `dir/NAME`.
fn aside_target(dir: &Path, aside: &str) -> Option<PathBuf> {
    let (stem, _) = aside.strip_prefix('.')?.rsplit_once(".evident-old-")?;
    Some(dir.join(stem))
}

/// A file being written that replaces `path` only on [`AtomicFile::commit`]; dropped uncommitted,
/// it is deleted.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Creates the temporary file beside `path` (same directory, so the rename is atomic).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| Error::invalid(format!("'{}' is not a file name", path.display())))?;
        sweep_stale(dir);
        let tmp = dir.join(temp_name(
            &name.to_string_lossy(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        ));
        let file = create_new_registered(&tmp).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(AtomicFile {
            target: path.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    /// The temporary file, for writing.
    pub fn file_mut(&mut self) -> &mut File {
        self.file.as_mut().expect("file is present until commit")
    }

    /// The temporary file's path (for tests and messages).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes to disk and renames over the target.
    pub fn commit(mut self) -> Result<()> {
        let io = |source| Error::Io {
            path: self.target.clone(),
            source,
        };
        let file = self.file.take().expect("file is present until commit");
        file.sync_all().map_err(io)?;
        drop(file);
        let mut list = registry();
        std::fs::rename(&self.tmp, &self.target).map_err(io)?;
        list.retain(|p| *p != InFlight::File(self.tmp.clone()));
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        let mut list = registry();
        if let Some(i) = list
            .iter()
            .position(|p| matches!(p, InFlight::File(t) if t == &self.tmp))
        {
            list.swap_remove(i);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Longest file name most file systems allow (bytes).
const MAX_FILE_NAME: usize = 255;

/// `.name.evident-pid-n.tmp` (a pattern [`leftover`] recognises), with `name` cut (on a char boundary) so that the whole name fits in
/// [`MAX_FILE_NAME`] bytes: a target name of 240+ bytes is legal, its temporary name must be too.
fn temp_name(name: &str, pid: u32, n: u64) -> String {
    let suffix = format!(".evident-{pid}-{n}.tmp");
    let room = MAX_FILE_NAME - 1 - suffix.len();
    let mut cut = name.len().min(room);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}{suffix}", &name[..cut])
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.file_mut().write_all(bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    f.commit()
}

/// Refuses to write `output` when it is the file `input` (the same path, a symlink to it, or on
/// Unix a hard link: the same device and inode): the atomic rename would replace the data being
/// read with the results.
pub fn refuse_same_file(input: &Path, output: &Path) -> Result<()> {
    let (Ok(a), Ok(b)) = (std::fs::metadata(input), std::fs::metadata(output)) else {
        return Ok(()); // an output that does not exist yet cannot be the input
    };
    let same_path = matches!(
        (input.canonicalize(), output.canonicalize()),
        (Ok(x), Ok(y)) if x == y
    );
    #[cfg(unix)]
    let same_inode = {
        use std::os::unix::fs::MetadataExt;
        (a.dev(), a.ino()) == (b.dev(), b.ino())
    };
    #[cfg(not(unix))]
    let same_inode = {
        let _ = (a, b);
        false
    };
    if same_path || same_inode {
        return Err(Error::invalid(format!(
            "the output {} is the input file {}; choose another output file",
            output.display(),
            input.display()
        )));
    }
    Ok(())
}

/// Longest file-name component kept (bytes); most file systems allow 255.
const MAX_NAME: usize = 100;

/// Turns user text (an analysis name, a study label) into one safe file-name component: path
/// separators (`/`, `\`), `:`, NUL and other control characters, and characters Windows forbids
/// become `_`; leading dots are dropped (no `..`, no hidden files); the result is at most 100
/// bytes, never empty, and never a Windows device name (`CON`, `NUL`, `COM1`, ...).
pub fn sanitize_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    s = s.trim().trim_start_matches('.').trim().to_string();
    if s.len() > MAX_NAME {
        let mut cut = MAX_NAME;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    // Windows drops trailing dots and spaces, which could make two names collide.
    s = s.trim_end_matches(['.', ' ']).to_string();
    if s.is_empty() {
        return "_".to_string();
    }
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        s.insert(0, '_');
    }
    s
}

/// `dir` joined with [`sanitize_name`]`(name)`: always a direct child of `dir`, whatever `name`
/// holds (`../../etc/passwd`, an absolute path, `C:\x`, NUL bytes, 10 kB of text).
pub fn safe_join(dir: &Path, name: &str) -> PathBuf {
    let clean = sanitize_name(name);
    let joined = dir.join(&clean);
    debug_assert!(
        matches!(
            Path::new(&clean).components().collect::<Vec<_>>()[..],
            [Component::Normal(_)]
        ),
        "sanitised name {clean:?} is one normal component"
    );
    joined
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("missing/x.csv"), b"x").is_err());
    }

    #[test]
    fn dropped_file_is_removed_and_unregistered() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.csv");
        let mut f = AtomicFile::create(&p).unwrap();
        f.file_mut().write_all(b"partial").unwrap();
        let tmp = f.temp_path().to_path_buf();
        assert!(tmp.exists());
        assert!(registry().contains(&InFlight::File(tmp.clone())));
        drop(f);
        assert!(!tmp.exists() && !p.exists());
        assert!(!registry().contains(&InFlight::File(tmp.clone())));
    }

    #[test]
    fn long_names_get_a_temporary_name_that_fits() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["x".repeat(250), "é".repeat(127), "y".repeat(255)] {
            let p = dir.path().join(&name);
            let f = AtomicFile::create(&p).unwrap();
            let tmp = f.temp_path().file_name().unwrap().len();
            assert!(tmp <= MAX_FILE_NAME, "{tmp}");
            drop(f);
            write_atomic(&p, b"long").unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), b"long");
        }
        let t = temp_name(&"é".repeat(200), u32::MAX, u64::MAX);
        assert!(t.len() <= MAX_FILE_NAME && t.ends_with(".tmp"));
        assert_eq!(temp_name("a.csv", 7, 3), ".a.csv.evident-7-3.tmp");
        assert_eq!(leftover(&temp_name("a.csv", 7, 3)), Some(Leftover::File(7)));
    }

    #[test]
    fn only_names_of_our_pattern_are_leftovers() {
        for (name, want) in [
            (".a.csv.evident-12-0.tmp", Some(Leftover::File(12))),
            (".reports.evident-tmp-7", Some(Leftover::Build(7))),
            (".reports.evident-old-7", Some(Leftover::Aside(7))),
            (".a.csv.12.0.tmp", None),
            ("a.csv.evident-12-0.tmp", None),
            (".evident-12-0.tmp", None),
            (".a.evident-x-0.tmp", None),
            (".a.evident-12-.tmp", None),
            (".a.evident-tmp-", None),
            (".a.evident-tmp-1x", None),
            (".a.evident-lock", None),
            (".a.evident-old-99999999999", None),
            (".evident-report", None),
        ] {
            assert_eq!(leftover(name), want, "{name}");
        }
    }

    #[test]
    fn a_write_removes_temporaries_of_dead_runs_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let dead = c.id();
        c.wait().unwrap();
        let stale = dir.path().join(format!(".x.svg.evident-{dead}-3.tmp"));
        let live = dir
            .path()
            .join(format!(".x.svg.evident-{}-999.tmp", std::process::id()));
        let other = dir.path().join(format!(".x.svg.{dead}.3.tmp"));
        for p in [&stale, &live, &other] {
            std::fs::write(p, b"partial").unwrap();
        }
        write_atomic(&dir.path().join("y.svg"), b"y").unwrap();
        assert!(!stale.exists() && live.exists() && other.exists());
        assert!(pid_alive(std::process::id()) && !pid_alive(dead) && !pid_alive(0));
    }

    #[test]
    fn the_input_is_never_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, b"x").unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&a, &hard).unwrap();
        let dotted = dir.path().join(".").join("a.csv");
        for out in [&a, &hard, &dotted] {
            assert!(refuse_same_file(&a, out).is_err(), "{out:?}");
        }
        assert!(refuse_same_file(&a, &dir.path().join("new.csv")).is_ok());
        let other = dir.path().join("b.csv");
        std::fs::write(&other, b"x").unwrap();
        assert!(refuse_same_file(&a, &other).is_ok());
    }

    #[test]
    fn hostile_names_stay_inside_the_directory() {
        let dir = Path::new("/out");
        for name in [
            "../../etc/passwd",
            "/etc/passwd",
            "..",
            ".",
            "",
            "a\0b",
            "C:\\Windows\\system32",
            "..\\..\\x",
            "CON",
            "nul.csv",
            "  . ",
            &"x".repeat(10_000),
            &"é".repeat(300),
        ] {
            let p = safe_join(dir, name);
            assert_eq!(p.parent(), Some(dir), "{name:?} -> {p:?}");
            let f = p.file_name().unwrap().to_str().unwrap();
            assert!(!f.is_empty() && f.len() <= MAX_NAME, "{f:?}");
            assert!(
                !f.starts_with('.') && !f.contains(['/', '\\', '\0', ':']),
                "{f:?}"
            );
        }
        assert_eq!(sanitize_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize_name("CON"), "_CON");
        assert_eq!(sanitize_name("BCG trials (OR)"), "BCG trials (OR)");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("evident-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.svg");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/x.svg"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
