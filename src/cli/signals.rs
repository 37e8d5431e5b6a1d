//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, `timeout`, CI runners, containers, a closed
//! terminal) delete the temporary files and directories of the outputs being written, then end
//! the process.
//!
//! On Unix the three signals are blocked in every thread (the mask is inherited by threads
//! spawned later, so this runs first) and one thread takes them with `sigwait`: no code runs in
//! a signal handler, and the thread knows which signal came, so after the cleanup the process
//! dies of that same signal (default action restored by never installing a handler), as a
//! shell or a supervisor expects (`$?` = 128 + signal number). A signal the parent set to be
//! ignored (`nohup`) stays ignored: it is not taken. Elsewhere ctrlc handles Ctrl-C and the exit code is 130.

/// A closed standard output (`evident pool … | head`) ends the process quietly with 141 (128 +
/// SIGPIPE, as a shell reports a pipe's writer) instead of the panic of `print!`: Rust ignores
/// SIGPIPE, so the write fails with EPIPE and the print macros panic on it.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            let _frozen = evident::app::atomic::freeze_in_flight();
            std::process::exit(141);
        }
        default(info)
    }));
}

/// Installs the handling; call before any other thread is started.
#[cfg(unix)]
pub fn install() {
    use nix::sys::signal::{raise, SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        if !ignored(s) {
            set.add(s);
        }
    }
    if set.thread_block().is_err() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(sig) = set.wait() else {
                return;
            };
            let _frozen = evident::app::atomic::freeze_in_flight();
            let mut one = SigSet::empty();
            one.add(sig);
            // Unblocked in this thread with the default action: raise ends the process.
            if one.thread_unblock().is_ok() {
                let _ = raise(sig);
            }
            std::process::exit(128 + sig as i32)
        });
    if spawned.is_err() {
        // No thread to take them: let the signals act as they would without us.
        let _ = set.thread_unblock();
    }
}

/// Whether the parent set `s` to be ignored (`nohup` does so for SIGHUP): such a signal is left
/// out of the set, so it stays ignored instead of ending the run. A blocked signal is queued
/// even when ignored, so taking it with `sigwait` would end a `nohup` run on SIGHUP.
#[cfg(unix)]
fn ignored(s: nix::sys::signal::Signal) -> bool {
    use nix::sys::signal::{signal, SigHandler};
    // SAFETY: installs the default action and puts back the one found: no handler code is
    // involved, and this runs before any other thread exists.
    match unsafe { signal(s, SigHandler::SigDfl) } {
        Ok(SigHandler::SigIgn) => {
            // SAFETY: as above, back to the inherited SIG_IGN.
            let _ = unsafe { signal(s, SigHandler::SigIgn) };
            true
        }
        _ => false,
    }
}

/// Installs the handling (Ctrl-C only).
#[cfg(not(unix))]
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let _frozen = evident::app::atomic::freeze_in_flight();
        std::process::exit(130)
    });
}
