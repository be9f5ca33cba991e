//! Images beyond the memory budget: cut into overlapping tiles of one size (one set of buffers serves them all),
//! the grid shifted between sweeps so that no border stays in one place, and each tile faded into the image
//! over the overlap so that its padded edges never show.

/// A rectangle of an image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// Smallest tile side the engine optimises: relu5_1 is then 4 x 4 and the overlap 16 px.
pub(crate) const MIN_TILE: usize = 64;

/// The overlap of neighbouring tiles of `tile` pixels: a quarter of the tile.
pub fn overlap_for(tile: usize) -> usize {
    tile / 4
}

/// Starts of the tiles along one axis of `length` pixels: `tile` pixels each, neighbours overlapping by at
/// least `overlap`, the grid shifted back by `shift` pixels; the first tile starts at 0 and the last ends at
/// `length`.
pub fn axis_positions(length: usize, tile: usize, overlap: usize, shift: usize) -> Vec<usize> {
    if tile >= length {
        return vec![0];
    }
    let stride = (tile - overlap).max(1);
    let last = length - tile;
    let mut positions = vec![0];
    let mut next = stride - shift % stride;
    while next < last {
        positions.push(next);
        next += stride;
    }
    // A sliver between the last grid tile and the end would be a near-copy of the end tile: drop it when the
    // end tile alone still overlaps its other neighbour enough.
    if positions.len() >= 2 && last - positions[positions.len() - 1] < stride / 4 {
        let before = positions[positions.len() - 2];
        if last - before <= stride {
            positions.pop();
        }
    }
    positions.push(last);
    positions
}

/// The tiles of sweep `sweep` over a `width x height` image: `tile_w x tile_h` each, row by row. Each sweep
/// shifts the grid by a different fraction of the stride (the golden ratio's, so shifts never repeat).
pub fn sweep_tiles(width: usize, height: usize, tile_w: usize, tile_h: usize, sweep: usize) -> Vec<Rect> {
    let fraction = (sweep as f64 * 0.618_034).fract();
    let axis = |length: usize, tile: usize| {
        let overlap = overlap_for(tile);
        let shift = (fraction * (tile - overlap) as f64) as usize;
        axis_positions(length, tile, overlap, shift)
    };
    let (xs, ys) = (axis(width, tile_w), axis(height, tile_h));
    ys.iter().flat_map(|&y| xs.iter().map(move |&x| Rect { x, y, width: tile_w, height: tile_h })).collect()
}

/// Blend weights of `rect` in a `width x height` image (row-major, the tile's size): 1 inside, falling
/// linearly to near 0 over the overlap at each edge that lies inside the image (edges on the image's border
/// keep full weight).
pub fn feather(rect: Rect, width: usize, height: usize) -> Vec<f32> {
    let ramp = |length: usize, start: usize, full: usize| -> Vec<f32> {
        let overlap = overlap_for(length).max(1) as f32;
        (0..length)
            .map(|i| {
                let from_start = if start > 0 { (i as f32 + 0.5) / overlap } else { 1.0 };
                let from_end = if start + length < full { (length as f32 - i as f32 - 0.5) / overlap } else { 1.0 };
                from_start.min(from_end).min(1.0)
            })
            .collect()
    };
    let (wx, wy) = (ramp(rect.width, rect.x, width), ramp(rect.height, rect.y, height));
    wy.iter().flat_map(|y| wx.iter().map(move |x| x * y)).collect()
}

/// The `rect` part of `planes` planes of `width` pixels per row, planar like the source.
pub fn crop(source: &[f32], planes: usize, width: usize, rect: Rect) -> Vec<f32> {
    let height = source.len() / planes / width;
    let mut out = Vec::with_capacity(planes * rect.width * rect.height);
    for plane in 0..planes {
        for row in rect.y..rect.y + rect.height {
            let start = (plane * height + row) * width + rect.x;
            out.extend_from_slice(&source[start..start + rect.width]);
        }
    }
    out
}

/// Moves `target` (`planes` planes of `width` pixels per row) toward `tile` (the `rect` part) by `weights`:
/// `t += w * (tile - t)`.
pub fn blend_into(target: &mut [f32], planes: usize, width: usize, rect: Rect, tile: &[f32], weights: &[f32]) {
    let height = target.len() / planes / width;
    for plane in 0..planes {
        for row in 0..rect.height {
            let start = (plane * height + rect.y + row) * width + rect.x;
            let tile_row = &tile[(plane * rect.height + row) * rect.width..][..rect.width];
            let weight_row = &weights[row * rect.width..][..rect.width];
            for ((t, new), w) in target[start..start + rect.width].iter_mut().zip(tile_row).zip(weight_row) {
                *t += w * (new - *t);
            }
        }
    }
}

/// Cuts a `width x height` image (multiples of 16) into cells of at most `tile - 2 * halo` pixels a side, each
/// inside a tile that adds up to `halo` pixels (rounded down to a multiple of 16) of context on every side the
/// image allows. Returns (tile, cell)
/// pairs; every edge is a multiple of 16, so the cell maps onto whole positions at every pooling level.
pub fn cells_with_halo(width: usize, height: usize, tile: usize, halo: usize) -> Vec<(Rect, Rect)> {
    let halo = halo / 16 * 16;
    let cell = (tile.saturating_sub(2 * halo)).max(16) / 16 * 16;
    let spans = |length: usize| -> Vec<(usize, usize, usize, usize)> {
        (0..length.div_ceil(cell))
            .map(|k| {
                let (start, end) = (k * cell, ((k + 1) * cell).min(length));
                (start.saturating_sub(halo), (end + halo).min(length), start, end)
            })
            .collect()
    };
    let (xs, ys) = (spans(width), spans(height));
    let mut out = Vec::with_capacity(xs.len() * ys.len());
    for &(ty0, ty1, cy0, cy1) in &ys {
        for &(tx0, tx1, cx0, cx1) in &xs {
            out.push((
                Rect { x: tx0, y: ty0, width: tx1 - tx0, height: ty1 - ty0 },
                Rect { x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0 },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_axis_with_at_least_the_overlap() {
        for (length, tile) in [(4096, 384), (1000, 256), (300, 64), (256, 256), (200, 256), (513, 512)] {
            let overlap = overlap_for(tile);
            for shift in [0, 1, 37, tile - overlap - 1] {
                let positions = axis_positions(length, tile, overlap, shift);
                assert_eq!(positions[0], 0);
                assert_eq!(positions.last().unwrap() + tile.min(length), length);
                for pair in positions.windows(2) {
                    assert!(pair[1] > pair[0], "{positions:?}");
                    assert!(pair[0] + tile >= pair[1] + overlap, "{length} {tile} {shift}: {positions:?}");
                }
            }
        }
    }

    #[test]
    fn sweeps_move_the_borders() {
        let first = sweep_tiles(1024, 1024, 256, 256, 0);
        let second = sweep_tiles(1024, 1024, 256, 256, 1);
        let inner_x = |tiles: &[Rect]| tiles.iter().map(|t| t.x).filter(|&x| x > 0 && x < 768).collect::<Vec<_>>();
        assert!(inner_x(&first).iter().all(|x| !inner_x(&second).contains(x)), "{first:?} {second:?}");
    }

    #[test]
    fn feathering_keeps_the_image_border_and_fades_inner_edges() {
        let rect = Rect { x: 0, y: 100, width: 64, height: 64 };
        let weights = feather(rect, 200, 164);
        assert_eq!(weights[32 * 64], 1.0, "left edge on the image border");
        assert!(weights[0] < 0.05, "top edge inside the image");
        assert_eq!(weights[63 * 64 + 32], 1.0, "bottom edge on the image border");
    }

    #[test]
    fn crop_and_blend_round_trip() {
        let (width, height) = (7, 5);
        let image: Vec<f32> = (0..2 * width * height).map(|i| i as f32).collect();
        let rect = Rect { x: 2, y: 1, width: 3, height: 2 };
        let tile = crop(&image, 2, width, rect);
        assert_eq!(tile[..3], [9.0, 10.0, 11.0]);
        assert_eq!(tile[6..9], [44.0, 45.0, 46.0]);
        let mut target = vec![0.0; image.len()];
        blend_into(&mut target, 2, width, rect, &tile, &[1.0; 6]);
        assert_eq!(crop(&target, 2, width, rect), tile);
        assert_eq!(target.iter().filter(|v| **v != 0.0).count(), 12);
    }

    #[test]
    fn cells_partition_the_image() {
        let (width, height) = (400, 272);
        let pairs = cells_with_halo(width, height, 128, 37);
        let area: usize = pairs.iter().map(|(_, c)| c.width * c.height).sum();
        assert_eq!(area, width * height);
        for (tile, cell) in pairs {
            assert!(tile.width <= 128 && tile.height <= 128);
            assert!(tile.x <= cell.x && cell.x + cell.width <= tile.x + tile.width);
            assert!([tile.x, tile.y, tile.width, tile.height, cell.x, cell.y].iter().all(|v| v % 16 == 0));
        }
    }
}
