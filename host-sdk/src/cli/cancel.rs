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
#[cfg(unix)]
pub fn install() {
    token();
    // SAFETY: the handler only stores to an atomic; SA_RESETHAND restores the default action afterwards.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Windows calls this on its own thread for Ctrl-C and Ctrl-Break in the console. The first one cancels and is
/// handled; a second one is passed on to the default handler, which ends the process.
#[cfg(windows)]
unsafe extern "system" fn on_console_event(event: u32) -> windows_sys::core::BOOL {
    use std::sync::atomic::{AtomicBool, Ordering};
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT};
    static ASKED: AtomicBool = AtomicBool::new(false);
    if event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT {
        return 0;
    }
    match TOKEN.get() {
        Some(token) if !ASKED.swap(true, Ordering::SeqCst) => {
            token.cancel();
            1
        }
        _ => 0,
    }
}

/// Installs the console control handler (a second Ctrl-C still stops the process, as on Unix).
#[cfg(windows)]
pub fn install() {
    token();
    // SAFETY: the handler only touches atomics and lives for the whole process.
    unsafe {
        windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_console_event), 1);
    }
}

/// Elsewhere Ctrl-C keeps its default action.
#[cfg(not(any(unix, windows)))]
pub fn install() {
    token();
}
