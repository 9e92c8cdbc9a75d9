//! What renga bounds, so that a hostile pull request built on a shared CI
//! runner fails with an error instead of taking the runner down: every
//! limit in one place, each far above what a real report needs.

/// The widest or tallest raster image (PNG, JPEG, GIF, WebP) in pixels.
pub const IMAGE_MAX_SIDE: u64 = 20_000;

/// The most pixels a raster image may have: 64 megapixels, 256 MB once
/// decoded as 8-bit RGBA (a 100,000 × 100,000 PNG of a few hundred bytes
/// would ask the decoder for 30 GB and abort the process).
pub const IMAGE_MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// The most characters of text in one SVG figure: usvg lays SVG text out
/// in quadratic time (100,000 characters took 5 s, 5 MB over two minutes);
/// a figure's labels are a few hundred.
pub const SVG_MAX_TEXT: usize = 20_000;

/// The units of work one minijinja template render may take (minijinja's
/// fuel: about one per instruction). The default templates take some
/// thousands for a chapter; a loop of 10^10 iterations stops here.
pub const TEMPLATE_FUEL: u64 = 50_000_000;

/// How long a build (`compile`, `check`) may run, in seconds, unless
/// `RENGA_TIME_LIMIT` says otherwise: typst has no budget of its own, and a
/// Typst template's `#for i in range(1000000000) {}` runs on.
pub const DEFAULT_TIME_LIMIT: u64 = 600;

/// The share of the memory available when a build starts (after its
/// cgroups' limits) it may hold, unless `RENGA_MEMORY_LIMIT` (megabytes)
/// says otherwise: `range(10^11)` in a template took 24 GB before the
/// kernel killed it, and other jobs on the runner with it.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.75;

/// The limits a build runs under, from the environment or the defaults.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub seconds: u64,
    /// Bytes; `None` where the available memory is unknown.
    pub memory: Option<u64>,
}

impl Budget {
    pub fn from_env() -> Result<Budget, String> {
        let read = |name: &str| -> Result<Option<u64>, String> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("{name} must be a whole number, not `{v}`")),
                Err(_) => Ok(None),
            }
        };
        let seconds = read("RENGA_TIME_LIMIT")?.unwrap_or(DEFAULT_TIME_LIMIT);
        let memory = match read("RENGA_MEMORY_LIMIT")? {
            Some(mb) => Some(mb * 1024 * 1024),
            None => crate::pipeline::available_memory()
                .map(|a| (a as f64 * DEFAULT_MEMORY_SHARE) as u64 + resident().unwrap_or(0)),
        };
        Ok(Budget { seconds, memory })
    }
}

/// This process's resident memory in bytes (Linux: `VmRSS` in
/// `/proc/self/status`).
pub fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// Watches the build from a thread of its own: when it runs past the
/// budget's time or holds more memory, `stop` is called with the reason
/// (it prints the error and ends the process with exit status 1: typst
/// cannot be interrupted from outside, and a signal would say nothing).
pub fn watchdog(budget: Budget, stop: impl Fn(String) + Send + 'static) {
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let elapsed = started.elapsed().as_secs();
            if elapsed >= budget.seconds {
                stop(format!(
                    "the build ran for {elapsed} s, its limit (RENGA_TIME_LIMIT={})",
                    budget.seconds
                ));
                return;
            }
            if let (Some(limit), Some(held)) = (budget.memory, resident())
                && held > limit
            {
                stop(format!(
                    "the build held {} MB of memory, more than its limit (RENGA_MEMORY_LIMIT={})",
                    held / (1024 * 1024),
                    limit / (1024 * 1024)
                ));
                return;
            }
        }
    });
}

/// A raster image's own header, checked against the budget before anything
/// decodes it: `Some(reason)` when it is too large, `None` when it fits or
/// is not a raster image renga can read the size of (typst then reports it).
pub fn raster_too_large(header: &[u8]) -> Option<String> {
    use imagesize::ImageType;
    let kind = imagesize::image_type(header).ok()?;
    if !matches!(
        kind,
        ImageType::Png | ImageType::Jpeg | ImageType::Gif | ImageType::Webp
    ) {
        return None;
    }
    // A PNG whose first chunk is no IHDR has no size to read: what follows
    // the signature is not dimensions, and typst reports the broken file.
    if kind == ImageType::Png && header.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let size = imagesize::blob_size(header).ok()?;
    let (w, h) = (size.width as u64, size.height as u64);
    if w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w.saturating_mul(h) > IMAGE_MAX_PIXELS {
        Some(format!(
            "{w} × {h} pixels, more than renga decodes (at most {IMAGE_MAX_SIDE} pixels a side and {} megapixels)",
            IMAGE_MAX_PIXELS / (1024 * 1024)
        ))
    } else {
        None
    }
}

/// The first bytes of a file: enough for any raster header renga checks
/// (a JPEG's size can come after its metadata segments, so read generously).
pub fn header_of(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut header = Vec::new();
    std::fs::File::open(path)?
        .take(1 << 20)
        .read_to_end(&mut header)?;
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        out
    }

    #[test]
    fn large_rasters_are_refused_by_their_header() {
        assert!(raster_too_large(&png(100_000, 100_000)).is_some());
        assert!(raster_too_large(&png(20_001, 10)).is_some());
        assert!(raster_too_large(&png(10_000, 10_000)).is_some());
        assert!(raster_too_large(&png(4000, 3000)).is_none());
        assert!(raster_too_large(b"<svg/>").is_none());
    }
}
