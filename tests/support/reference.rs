//! An independent f64 VGG19 forward pass (plain loops), the oracle for the ONNX graphs.

use nst_onnx::{Layer, Pooling, Vgg19};

/// ReLU outputs of every layer through `deepest`, each `[channels, h, w]` in f64.
pub fn reference_features(
    model: &Vgg19,
    pooling: Pooling,
    image: &[f64],
    height: usize,
    width: usize,
    deepest: Layer,
) -> Vec<Vec<f64>> {
    let norm = model.normalisation;
    let plane = height * width;
    let mut x: Vec<f64> = image
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = i / plane;
            (v - norm.mean[c] as f64) / norm.std[c] as f64
        })
        .collect();
    let (mut h, mut w) = (height, width);
    let mut outputs = Vec::new();
    for layer in Layer::all().take_while(|l| *l <= deepest) {
        if layer.pooled_input() {
            x = pool(&x, layer.channels().0, h, w, pooling);
            h /= 2;
            w /= 2;
        }
        let (cin, cout) = layer.channels();
        let conv = model.conv(layer);
        let mut y = vec![0.0f64; cout * h * w];
        for co in 0..cout {
            let out = &mut y[co * h * w..(co + 1) * h * w];
            out.fill(conv.bias[co] as f64);
            for ci in 0..cin {
                let input = &x[ci * h * w..(ci + 1) * h * w];
                for kh in 0..3 {
                    for kw in 0..3 {
                        let weight = conv.weight[((co * cin + ci) * 3 + kh) * 3 + kw] as f64;
                        for oy in 0..h {
                            let iy = oy as isize + kh as isize - 1;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let row = &input[iy as usize * w..(iy as usize + 1) * w];
                            let out_row = &mut out[oy * w..(oy + 1) * w];
                            let (start, end) = (if kw == 0 { 1 } else { 0 }, if kw == 2 { w - 1 } else { w });
                            for ox in start..end {
                                out_row[ox] += weight * row[ox + kw - 1];
                            }
                        }
                    }
                }
            }
        }
        y.iter_mut().for_each(|v| *v = v.max(0.0));
        outputs.push(y.clone());
        x = y;
    }
    outputs
}

fn pool(x: &[f64], channels: usize, h: usize, w: usize, pooling: Pooling) -> Vec<f64> {
    let (oh, ow) = (h / 2, w / 2);
    let mut y = vec![0.0; channels * oh * ow];
    for c in 0..channels {
        for oy in 0..oh {
            for ox in 0..ow {
                let at = |dy: usize, dx: usize| x[c * h * w + (2 * oy + dy) * w + 2 * ox + dx];
                let window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
                y[c * oh * ow + oy * ow + ox] = match pooling {
                    Pooling::Max => window.iter().cloned().fold(f64::MIN, f64::max),
                    Pooling::Average => window.iter().sum::<f64>() / 4.0,
                };
            }
        }
    }
    y
}
