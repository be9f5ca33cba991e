//! The memory a reading can count on: what the system has available for new allocations now. Images are
//! refused before decoding when their pixels would not fit a share of it.

/// Fraction of the memory available now that a run, or a reading, may take when no budget is set: the rest is
/// left to the host and the system.
pub const DEFAULT_SHARE_OF_AVAILABLE: f64 = 0.8;

/// The budget when none is set: [`DEFAULT_SHARE_OF_AVAILABLE`] of the memory available now, MiB; `None`
/// where that is unknown.
pub fn default_budget_mib() -> Option<f64> {
    available_memory_mib().map(|mib| mib * DEFAULT_SHARE_OF_AVAILABLE)
}

/// The memory available to new allocations now, MiB (Linux: `MemAvailable`); `None` where unknown.
#[cfg(not(windows))]
pub fn available_memory_mib() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The physical memory available now, MiB; `None` if Windows does not say.
#[cfg(windows)]
pub fn available_memory_mib() -> Option<f64> {
    use windows_sys::Win32::System::SystemInformation::{GlobalMemoryStatusEx, MEMORYSTATUSEX};
    // SAFETY: MEMORYSTATUSEX is plain old data; dwLength must be set before the call.
    let mut status: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    status.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
    // SAFETY: `status` is a valid, sized MEMORYSTATUSEX.
    if unsafe { GlobalMemoryStatusEx(&mut status) } == 0 {
        return None;
    }
    Some(status.ullAvailPhys as f64 / (1024.0 * 1024.0))
}

/// Refuses, before any pixel is decoded, a `width x height` image of `decoded` bytes whose reading needs
/// `needed` bytes in all (its pixels and their conversions) when it is over the decoded-size limit, over
/// `budget_mib`, or more than the process can allocate now. The message names its size and what it needs.
pub fn check_decoding_fits(
    width: u32,
    height: u32,
    decoded: u64,
    needed: u64,
    budget_mib: Option<f64>,
) -> Result<(), String> {
    use crate::kind::{DECODED_IMAGE_BYTES_MAX, human};
    let size = format!("{width}x{height} pixels");
    if decoded > DECODED_IMAGE_BYTES_MAX {
        return Err(format!(
            "too large: {size} would take {} decoded, more than the {} accepted; use a smaller image",
            human(decoded),
            human(DECODED_IMAGE_BYTES_MAX)
        ));
    }
    if let Some(budget) = budget_mib.filter(|&budget| needed as f64 > budget * (1u64 << 20) as f64) {
        return Err(format!(
            "{size} would need {} decoded and converted; the memory budget is {budget:.0} MiB; use a smaller image",
            human(needed)
        ));
    }
    // Tried now, the memory the reading takes is refused with a message where memory is limited (ulimit -v,
    // a container), instead of aborting the process when the pixels are allocated.
    if Vec::<u8>::new().try_reserve_exact(needed as usize).is_err() {
        return Err(format!(
            "{size} would need {} decoded and converted, more than this process can allocate; use a smaller image",
            human(needed)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(any(target_os = "linux", windows))]
    #[test]
    fn the_available_memory_is_known_and_plausible() {
        let mib = super::available_memory_mib().expect("known on this system");
        assert!(mib > 16.0 && mib < 64.0 * 1024.0 * 1024.0, "{mib} MiB");
    }

    #[test]
    fn a_decoding_over_the_limit_or_the_budget_is_refused_naming_the_size() {
        let over = super::check_decoding_fits(20_000, 20_000, 1_200_000_000, 0, None).unwrap_err();
        assert!(over.contains("20000x20000 pixels") && over.contains("more than the 762.9 MiB accepted"), "{over}");
        let budget = super::check_decoding_fits(4000, 4000, 48_000_000, 720_000_000, Some(500.0)).unwrap_err();
        assert!(budget.contains("would need 686.6 MiB") && budget.contains("budget is 500 MiB"), "{budget}");
        assert!(super::check_decoding_fits(4000, 4000, 48_000_000, 720_000_000, Some(1000.0)).is_ok());
    }
}
