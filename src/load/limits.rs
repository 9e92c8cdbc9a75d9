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
