//! Status codes returned by every exported function.

use crate::EngineError;

/// The outcome of a call. Values are fixed forever; new codes are only ever appended.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NstStatus {
    /// Success.
    NstOk = 0,
    /// A required pointer argument was NULL.
    NstNullArgument = 1,
    /// An argument is out of range or inconsistent (the message names it).
    NstInvalidArgument = 2,
    /// A pixel format value this library does not know.
    NstUnsupportedFormat = 3,
    /// An image larger than the library accepts.
    NstImageTooLarge = 4,
    /// A caller buffer is too small (see the `needed` output).
    NstBufferTooSmall = 5,
    /// The preset is invalid (the message names file, line and key).
    NstPresetError = 6,
    /// The model file could not be read or is not a VGG19.
    NstModelError = 7,
    /// ONNX Runtime's library was not found (the message lists where it was looked for).
    NstRuntimeMissing = 8,
    /// ONNX Runtime reported an error.
    NstRuntimeError = 9,
    /// The requested execution provider cannot run here.
    NstProviderUnavailable = 10,
    /// The progress callback asked to stop; the output buffer is untouched.
    NstCancelled = 11,
    /// An image file could not be read or written.
    NstImageError = 12,
    /// An internal error (a bug); the library stays usable.
    NstInternalError = 13,
    /// The engine handle is not live: freed already, or never returned by `nst_engine_create`.
    NstInvalidHandle = 14,
    /// Not even one tile of the image fits the engine's memory budget (the message gives the estimate, the
    /// budget and the largest size that fits); nothing was allocated.
    NstOverBudget = 15,
    /// The call was made on an engine from inside one of its own callbacks (progress, preview), on the thread
    /// that runs it; it would wait for itself. Nothing was done.
    NstBusy = 16,
}

impl From<&EngineError> for NstStatus {
    fn from(err: &EngineError) -> Self {
        match err {
            EngineError::OnnxRuntimeMissing { .. } => NstStatus::NstRuntimeMissing,
            EngineError::OnnxRuntime { .. } => NstStatus::NstRuntimeError,
            EngineError::Provider { .. } => NstStatus::NstProviderUnavailable,
            EngineError::Model(_) => NstStatus::NstModelError,
            EngineError::Image { .. } => NstStatus::NstImageError,
            EngineError::Preset(_) => NstStatus::NstPresetError,
            EngineError::InvalidArgument(_) => NstStatus::NstInvalidArgument,
            EngineError::Cancelled => NstStatus::NstCancelled,
            EngineError::OverBudget { .. } => NstStatus::NstOverBudget,
        }
    }
}
