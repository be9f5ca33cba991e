//! The output-size rule, shared by the engine (which resizes to it) and the command (which must know the
//! output's size before it hands the engine a content of that size).

/// The size of a `width x height` image whose long side becomes `long_side`, aspect kept (each side rounded,
/// at least 1); the image's own size when `None`.
pub fn output_size(width: usize, height: usize, long_side: Option<usize>) -> (usize, usize) {
    let Some(long) = long_side else { return (width, height) };
    let scale = long as f64 / width.max(height) as f64;
    (((width as f64 * scale).round() as usize).max(1), ((height as f64 * scale).round() as usize).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_side_is_set_and_the_aspect_kept() {
        assert_eq!(output_size(300, 200, Some(150)), (150, 100));
        assert_eq!(output_size(200, 300, Some(90)), (60, 90));
        assert_eq!(output_size(1000, 1, Some(16)), (16, 1));
        assert_eq!(output_size(7, 5, None), (7, 5));
    }
}
