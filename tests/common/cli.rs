//! The one way the tests run the `evident` binary.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The process exited with status 0.
    pub ok: bool,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Standard output, decoded as UTF-8 (invalid bytes replaced).
    pub stdout: String,
    /// Standard error, decoded as UTF-8 (invalid bytes replaced).
    pub stderr: String,
    /// Standard output as written.
    pub stdout_bytes: Vec<u8>,
    /// Standard error as written.
    pub stderr_bytes: Vec<u8>,
}

/// Runs `evident` with `args` (no standard input) and waits for it.
pub fn evident<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Cli::new(args).run()
}

/// Runs `evident` with `args` and asserts that it succeeded (see [`Cli::run_ok`]).
pub fn run_ok<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Cli::new(args).run_ok()
}

/// A run of the binary being set up: arguments, then optionally standard input, environment
/// and working directory.
pub struct Cli {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Cli {
    pub fn new<I, S>(args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_evident"));
        cmd.args(args);
        Cli { cmd, stdin: None }
    }

    /// One more argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cli {
        self.cmd.arg(arg);
        self
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Bytes to feed to standard input (otherwise it is closed, as by `Command::output`).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Cli {
        self.stdin = Some(input.into());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cli {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Cli {
        self.cmd.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cli {
        self.cmd.current_dir(dir);
        self
    }

    /// The command as set up so far, for a test that manages the process itself (to signal it,
    /// say); standard input set with `stdin` is not fed.
    pub fn command(self) -> Command {
        self.cmd
    }

    /// [`Cli::run`], asserting that the run succeeded: a failure names the arguments, the exit
    /// code and standard error.
    pub fn run_ok(self) -> Run {
        let args: Vec<String> = self
            .cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let r = self.run();
        assert!(
            r.ok,
            "evident {} failed (exit {:?}): {}",
            args.join(" "),
            r.code,
            r.stderr
        );
        r
    }

    /// Runs the binary to completion, capturing standard output and standard error.
    pub fn run(mut self) -> Run {
        let mut child = self
            .cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the evident binary runs");
        // Fed from a thread so that a child writing much output before reading all its input
        // cannot dead-lock with us.
        let feeder = self.stdin.take().map(|input| {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                pipe.write_all(&input)
                    .expect("standard input written to the evident binary")
            })
        });
        let out = child.wait_with_output().expect("the evident binary runs");
        if let Some(f) = feeder {
            f.join().unwrap();
        }
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            stdout_bytes: out.stdout,
            stderr_bytes: out.stderr,
        }
    }
}
