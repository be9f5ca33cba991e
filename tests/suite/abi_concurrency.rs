//! The C ABI under load and faults: many runs from several threads on one engine, cancellation from another
//! thread, an engine freed while runs are in flight, stale and forged handles, and the memory budget.

use std::ffi::{CString, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use crate::support::abi::*;
use nst::ffi::*;

fn quick_run(
    engine: *mut NstEngine,
    content: &Buffer,
    progress: NstProgressCallback,
    user: *mut c_void,
) -> (NstStatus, Buffer) {
    let preset = quick_preset();
    let mut output = Buffer::filled(content, 0xAB);
    let status = stylize(
        engine,
        preset.as_ptr(),
        None,
        Some(&content.view()),
        null(),
        0,
        Some(&output.view_mut()),
        progress,
        user,
    );
    (status, output)
}

#[test]
fn many_runs_from_several_threads_on_one_engine_all_finish_with_identical_results() {
    let engine = Engine::new();
    let content = Buffer::gradient(32, 24, NstPixelFormat::NstRgb8);
    let outputs: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (engine, content) = (&engine, &content);
                scope.spawn(move || {
                    (0..3)
                        .map(|_| {
                            let (status, output) = quick_run(engine.0, content, None, null_mut());
                            assert_eq!(status, NstStatus::NstOk, "{}", last_error());
                            output.bytes
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(outputs.len(), 12);
    assert!(outputs[0] != content.bytes, "the run changed nothing");
    assert!(outputs.iter().all(|o| *o == outputs[0]), "runs of the same input differ between threads");
}

struct Flags {
    started: AtomicBool,
    stop: AtomicBool,
    steps: AtomicU32,
}

unsafe extern "C" fn watch(user_data: *mut c_void, step: u32, _total: u32, _loss: f64) -> i32 {
    // SAFETY: the tests pass a `Flags` that outlives the run.
    let flags = unsafe { &*user_data.cast::<Flags>() };
    flags.steps.store(step, Ordering::SeqCst);
    flags.started.store(true, Ordering::SeqCst);
    // Slow enough that the other thread acts in the middle of the run.
    std::thread::sleep(Duration::from_millis(20));
    i32::from(flags.stop.load(Ordering::SeqCst))
}

fn wait_for(flag: &AtomicBool) {
    let started = std::time::Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(120), "the run never reported progress");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A 500-iteration run on the engine behind `handle`, watched through `flags` when given: (status, message,
/// whether the output was left untouched).
fn long_run(handle: usize, flags: Option<&Flags>) -> (NstStatus, String, bool) {
    let mut long = overrides();
    long.iterations = 500;
    let (content, preset) = (Buffer::gradient(32, 24, NstPixelFormat::NstRgba8), quick_preset());
    let mut output = Buffer::filled(&content, 0xAB);
    let status = stylize(
        handle as *mut NstEngine,
        preset.as_ptr(),
        Some(&long),
        Some(&content.view()),
        null(),
        0,
        Some(&output.view_mut()),
        flags.map(|_| watch as unsafe extern "C" fn(*mut c_void, u32, u32, f64) -> i32),
        flags.map_or(null_mut(), |f| (f as *const Flags).cast_mut().cast()),
    );
    (status, last_error(), output.bytes.iter().all(|b| *b == 0xAB))
}

fn new_flags() -> Flags {
    Flags { started: AtomicBool::new(false), stop: AtomicBool::new(false), steps: AtomicU32::new(0) }
}

#[test]
fn a_run_is_cancelled_from_another_thread() {
    let engine = Engine::new();
    let flags = new_flags();
    let handle = engine.0 as usize;
    std::thread::scope(|scope| {
        let run = scope.spawn(|| long_run(handle, Some(&flags)));
        wait_for(&flags.started);
        flags.stop.store(true, Ordering::SeqCst);
        let (status, error, untouched) = run.join().unwrap();
        assert_eq!(status, NstStatus::NstCancelled, "{error}");
        assert!(flags.steps.load(Ordering::SeqCst) < 500);
        assert!(untouched, "a cancelled run wrote the output");
    });
}

#[test]
fn freeing_an_engine_during_runs_cancels_them_and_later_calls_are_refused() {
    let engine = Engine::new();
    let handle = engine.0;
    std::mem::forget(engine); // freed by hand below
    let flags = new_flags();
    let handle_value = handle as usize;
    std::thread::scope(|scope| {
        let running = scope.spawn(|| long_run(handle_value, Some(&flags)));
        wait_for(&flags.started);
        let queued = scope.spawn(|| long_run(handle_value, None)); // waits for the engine behind the first run
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: a handle from nst_engine_create, freed once here.
        assert_eq!(unsafe { nst_engine_free(handle) }, NstStatus::NstOk);
        let (status, error, untouched) = running.join().unwrap();
        assert_eq!(status, NstStatus::NstCancelled, "{error}");
        assert!(untouched, "the cancelled run wrote its output");
        assert!(flags.steps.load(Ordering::SeqCst) < 500);
        let (status, error, untouched) = queued.join().unwrap();
        println!("queued run: {status:?} {error}");
        assert!(
            matches!(status, NstStatus::NstCancelled | NstStatus::NstInvalidHandle),
            "the queued run got {status:?}: {error}"
        );
        assert!(untouched);
    });
    let content = Buffer::gradient(16, 16, NstPixelFormat::NstRgb8);
    let (status, _) = quick_run(handle, &content, None, null_mut());
    assert_eq!(status, NstStatus::NstInvalidHandle);
    assert!(last_error().contains("is not live"), "{}", last_error());
    // SAFETY: freeing a stale handle must be refused, not dereferenced.
    assert_eq!(unsafe { nst_engine_free(handle) }, NstStatus::NstInvalidHandle);
}

#[test]
fn forged_handles_are_refused_without_being_dereferenced() {
    let content = Buffer::gradient(16, 16, NstPixelFormat::NstRgb8);
    for forged in [0x10usize, 0xdead_beef, usize::MAX - 15] {
        let (status, output) = quick_run(forged as *mut NstEngine, &content, None, null_mut());
        assert_eq!(status, NstStatus::NstInvalidHandle, "{}", last_error());
        assert!(output.bytes.iter().all(|b| *b == 0xAB));
        let mut needed = 0usize;
        // SAFETY: a forged handle and a NULL buffer of length 0 (asks for the size only).
        let status = unsafe { nst_engine_describe(forged as *mut NstEngine, null_mut(), 0, &mut needed) };
        assert_eq!(status, NstStatus::NstInvalidHandle);
    }
}

#[test]
fn a_run_over_the_memory_budget_is_refused_before_any_work() {
    let content = Buffer::gradient(64, 32, NstPixelFormat::NstRgb8);
    let preset = CString::new("mosaic").unwrap();
    for (budget, size, expected) in
        [(64, 512, "not even one 64x64 tile fits"), (1500, 8192, "use a long side of at most")]
    {
        let config = config_with(&format!("memory_budget_mb = {budget}\n"));
        let mut handle = null_mut();
        // SAFETY: valid config string and out pointer.
        assert_eq!(unsafe { nst_engine_create(config.as_ptr(), &mut handle) }, NstStatus::NstOk, "{}", last_error());
        let engine = Engine(handle);
        let mut o = overrides();
        o.size = size;
        let mut output = Buffer::filled(&content, 0xAB);
        let status = stylize(
            engine.0,
            preset.as_ptr(),
            Some(&o),
            Some(&content.view()),
            null(),
            0,
            Some(&output.view_mut()),
            None,
            null_mut(),
        );
        let message = last_error();
        assert_eq!(status, NstStatus::NstOverBudget, "{message}");
        assert!(message.contains(expected) && message.contains(&format!("{budget} MiB")), "{message}");
        assert!(output.bytes.iter().all(|b| *b == 0xAB));
    }
    let config = CString::new("memory_budget_mb = 3\n").unwrap();
    let mut handle = null_mut();
    // SAFETY: valid config string and out pointer.
    assert_eq!(unsafe { nst_engine_create(config.as_ptr(), &mut handle) }, NstStatus::NstInvalidArgument);
    assert!(last_error().contains("memory_budget_mb"), "{}", last_error());
}

/// What the re-entrant callback saw.
struct Nested {
    engine: *mut NstEngine,
    status: Option<NstStatus>,
    message: String,
}

extern "C" fn call_back_into_the_engine(user: *mut c_void, step: u32, _total: u32, _loss: f64) -> i32 {
    // SAFETY: the test passes a live `Nested` that outlives the run.
    let nested = unsafe { &mut *(user as *mut Nested) };
    if step == 1 && nested.status.is_none() {
        let content = Buffer::gradient(32, 24, NstPixelFormat::NstRgb8);
        let (status, _) = quick_run(nested.engine, &content, None, null_mut());
        nested.status = Some(status);
        nested.message = last_error();
    }
    0
}

#[test]
fn a_callback_that_runs_its_own_engine_again_is_answered_busy_not_deadlocked() {
    let engine = Engine::new();
    let handle = engine.0 as usize;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut nested = Nested { engine: handle as *mut NstEngine, status: None, message: String::new() };
        let content = Buffer::gradient(32, 24, NstPixelFormat::NstRgb8);
        let user = &mut nested as *mut Nested as *mut c_void;
        let (status, _) = quick_run(handle as *mut NstEngine, &content, Some(call_back_into_the_engine), user);
        let _ = sender.send((status, nested.status, nested.message));
    });
    // A deadlock would never answer; the run itself takes well under a second.
    let (outer, inner, message) =
        receiver.recv_timeout(Duration::from_secs(120)).expect("the nested call deadlocked the engine");
    println!("nested call: {inner:?}: {message}");
    assert_eq!(inner, Some(NstStatus::NstBusy), "{message}");
    assert!(message.contains("callback called back into it"), "{message}");
    assert_eq!(outer, NstStatus::NstOk, "{}", last_error());
    // The engine is not left held: a later run on it works.
    let content = Buffer::gradient(32, 24, NstPixelFormat::NstRgb8);
    assert_eq!(quick_run(engine.0, &content, None, null_mut()).0, NstStatus::NstOk, "{}", last_error());
}
