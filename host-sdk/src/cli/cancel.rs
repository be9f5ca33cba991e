//! Ctrl-C asks the run to stop after the current iteration instead of killing it mid-write.

use std::sync::OnceLock;

use nst_host::CancelToken;

static TOKEN: OnceLock<CancelToken> = OnceLock::new();

/// The token Ctrl-C cancels.
pub fn token() -> &'static CancelToken {
    TOKEN.get_or_init(CancelToken::new)
}

#[cfg(unix)]
extern "C" fn on_interrupt(_: libc::c_int) {
    // Only an atomic store happens here, which is async-signal-safe (the token exists before the handler).
    if let Some(token) = TOKEN.get() {
        token.cancel();
    }
}

/// Installs the SIGINT handler (a second Ctrl-C still stops the process through the default action).
pub fn install() {
    token();
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic; SA_RESETHAND restores the default action afterwards.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}
