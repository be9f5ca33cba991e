//! Ctrl-C asks the run to stop after the current iteration instead of killing it mid-write.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed since [`install`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

#[cfg(unix)]
extern "C" fn on_interrupt(_: libc::c_int) {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Installs the SIGINT handler (a second Ctrl-C still stops the process through the default action).
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe; SA_RESETHAND restores the default
    // action so a second Ctrl-C terminates at once.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}
