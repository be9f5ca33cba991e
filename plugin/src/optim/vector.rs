//! The optimisers' vector arithmetic over image-sized vectors, on every core.
//!
//! On a GPU an evaluation takes milliseconds and L-BFGS's two-loop recursion (some 40 passes over the image an
//! iteration) would otherwise dominate a run. Work is split into fixed chunks and a dot product sums its chunks'
//! partial sums in order, so results do not depend on the number of threads.

use rayon::prelude::*;

/// Elements per task: large enough to amortise scheduling, small enough to spread 3 x 256 x 256 over 16 cores.
const CHUNK: usize = 1 << 14;

/// Independent accumulators in a chunk's dot product: they break the dependency chain of one running sum.
const LANES: usize = 8;

fn chunk_dot(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let (a_body, b_body) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_body.remainder(), b_body.remainder());
    for (x, y) in a_body.zip(b_body) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] as f64 * y[lane] as f64;
        }
    }
    let tail: f64 = a_tail.iter().zip(b_tail).map(|(x, y)| *x as f64 * *y as f64).sum();
    lanes.iter().sum::<f64>() + tail
}

/// `a . b`, accumulated in f64.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.len() <= CHUNK {
        return chunk_dot(a, b);
    }
    let partials: Vec<f64> = a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)).map(|(x, y)| chunk_dot(x, y)).collect();
    partials.iter().sum()
}

/// `y += a x`.
pub(crate) fn add_scaled(y: &mut [f32], a: f32, x: &[f32]) {
    debug_assert_eq!(y.len(), x.len());
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(y, x)| {
        y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
    });
}

/// `out = a x + b y`.
pub(crate) fn set_combination(out: &mut [f32], a: f32, x: &[f32], b: f32, y: &[f32]) {
    debug_assert!(out.len() == x.len() && out.len() == y.len());
    out.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).zip(y.par_chunks(CHUNK)).for_each(|((out, x), y)| {
        out.iter_mut().zip(x).zip(y).for_each(|((o, xi), yi)| *o = a * xi + b * yi);
    });
}

/// `x *= a`.
pub(crate) fn scale(x: &mut [f32], a: f32) {
    x.par_chunks_mut(CHUNK).for_each(|x| x.iter_mut().for_each(|xi| *xi *= a));
}

/// The largest `|x_i|`.
pub(crate) fn max_abs(x: &[f32]) -> f32 {
    x.par_chunks(CHUNK).map(|x| x.iter().fold(0.0f32, |m, v| m.max(v.abs()))).reduce(|| 0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed) * 7919 % 1013) as f32 / 1013.0) - 0.4).collect()
    }

    #[test]
    fn dot_matches_a_plain_f64_sum_at_every_length() {
        for n in [0, 1, 7, 8, 9, CHUNK - 1, CHUNK, CHUNK + 5, 5 * CHUNK + 3] {
            let (a, b) = (values(n, 1), values(n, 2));
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let got = dot(&a, &b);
            assert!((got - exact).abs() <= 1e-12 * exact.abs().max(1.0), "n {n}: {got} vs {exact}");
        }
    }

    #[test]
    fn elementwise_operations_match_their_definitions() {
        let n = 3 * CHUNK + 11;
        let (x, y) = (values(n, 3), values(n, 4));
        let mut sum = y.clone();
        add_scaled(&mut sum, 0.5, &x);
        let mut combination = vec![9.0; n];
        set_combination(&mut combination, 2.0, &x, -1.5, &y);
        let mut scaled = x.clone();
        scale(&mut scaled, 3.0);
        for i in 0..n {
            assert_eq!(sum[i], y[i] + 0.5 * x[i]);
            assert_eq!(combination[i], 2.0 * x[i] + -1.5 * y[i]);
            assert_eq!(scaled[i], x[i] * 3.0);
        }
        let largest = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert_eq!(max_abs(&x), largest);
    }
}
