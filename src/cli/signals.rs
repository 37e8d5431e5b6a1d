//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, `timeout`, CI runners, containers, a closed
//! terminal) delete the temporary files and directories of the outputs being written, then end
//! the process.
//!
//! On Unix the three signals are blocked in every thread (the mask is inherited by threads
//! spawned later, so this runs first) and one thread takes them with `sigwait`: no code runs in
//! a signal handler, and the thread knows which signal came, so after the cleanup the process
//! dies of that same signal (default action restored by never installing a handler), as a
//! shell or a supervisor expects (`$?` = 128 + signal number). A signal the parent set to be
//! ignored (`nohup`) stays ignored. Elsewhere ctrlc handles Ctrl-C and the exit code is 130.

/// Installs the handling; call before any other thread is started.
#[cfg(unix)]
pub fn install() {
    use nix::sys::signal::{raise, SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
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

/// Installs the handling (Ctrl-C only).
#[cfg(not(unix))]
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let _frozen = evident::app::atomic::freeze_in_flight();
        std::process::exit(130)
    });
}
