//! Status codes returned by every exported function.

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

impl NstStatus {
    /// Every status, in value order.
    const ALL: [NstStatus; 17] = [
        NstStatus::NstOk,
        NstStatus::NstNullArgument,
        NstStatus::NstInvalidArgument,
        NstStatus::NstUnsupportedFormat,
        NstStatus::NstImageTooLarge,
        NstStatus::NstBufferTooSmall,
        NstStatus::NstPresetError,
        NstStatus::NstModelError,
        NstStatus::NstRuntimeMissing,
        NstStatus::NstRuntimeError,
        NstStatus::NstProviderUnavailable,
        NstStatus::NstCancelled,
        NstStatus::NstImageError,
        NstStatus::NstInternalError,
        NstStatus::NstInvalidHandle,
        NstStatus::NstOverBudget,
        NstStatus::NstBusy,
    ];

    /// The status a value from C stands for; `None` for a value this side does not know (a newer library).
    pub fn from_raw(value: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u32 == value)
    }

    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NstStatus::NstOk => "ok",
            NstStatus::NstNullArgument => "null argument",
            NstStatus::NstInvalidArgument => "invalid argument",
            NstStatus::NstUnsupportedFormat => "unsupported format",
            NstStatus::NstImageTooLarge => "image too large",
            NstStatus::NstBufferTooSmall => "buffer too small",
            NstStatus::NstPresetError => "preset error",
            NstStatus::NstModelError => "model error",
            NstStatus::NstRuntimeMissing => "ONNX Runtime missing",
            NstStatus::NstRuntimeError => "ONNX Runtime error",
            NstStatus::NstProviderUnavailable => "provider unavailable",
            NstStatus::NstCancelled => "cancelled",
            NstStatus::NstImageError => "image error",
            NstStatus::NstInternalError => "internal error",
            NstStatus::NstInvalidHandle => "invalid handle",
            NstStatus::NstOverBudget => "over memory budget",
            NstStatus::NstBusy => "busy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_value() {
        for (value, status) in NstStatus::ALL.into_iter().enumerate() {
            assert_eq!(status as u32, value as u32);
            assert_eq!(NstStatus::from_raw(value as u32), Some(status));
        }
        assert_eq!(NstStatus::from_raw(NstStatus::ALL.len() as u32), None);
    }
}
