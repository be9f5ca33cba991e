//! Adam (Kingma & Ba 2015) on the pixels.

use super::{Control, Differentiable, Step};
use crate::error::{EngineError, Result};

/// Adam settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Step size in pixel units ([0, 1] pixels); 0.001..=1, 0.02 is typical.
    pub learning_rate: f32,
}

impl Default for Adam {
    fn default() -> Self {
        Adam { learning_rate: 0.02 }
    }
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

impl Adam {
    pub(super) fn minimise(
        &self,
        x: &mut [f32],
        iterations: usize,
        objective: &mut dyn Differentiable,
        observe: &mut dyn FnMut(Step, &[f32]) -> Control,
    ) -> Result<usize> {
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(EngineError::InvalidArgument(format!(
                "adam learning rate {} is outside (0, 1]",
                self.learning_rate
            )));
        }
        let n = x.len();
        let (mut gradient, mut m, mut v) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
        for iteration in 1..=iterations {
            let loss = objective.evaluate(x, &mut gradient)?;
            if !loss.is_finite() {
                return Err(EngineError::InvalidArgument("the loss became non-finite: lower the learning rate".into()));
            }
            let correction1 = 1.0 - BETA1.powi(iteration as i32);
            let correction2 = 1.0 - BETA2.powi(iteration as i32);
            let step = (self.learning_rate as f64 * correction2.sqrt() / correction1) as f32;
            for i in 0..n {
                let g = gradient[i];
                m[i] = (BETA1 as f32) * m[i] + (1.0 - BETA1 as f32) * g;
                v[i] = (BETA2 as f32) * v[i] + (1.0 - BETA2 as f32) * g * g;
                x[i] -= step * m[i] / (v[i].sqrt() + EPSILON as f32);
            }
            if observe(Step { iteration, loss, evaluations: iteration }, x) == Control::Cancel {
                return Err(EngineError::Cancelled);
            }
        }
        Ok(iterations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_functions::{TARGET, Valley};

    #[test]
    fn approaches_the_minimum() {
        let mut x = vec![0.0f32; 4];
        let mut valley = Valley { evaluations: 0 };
        Adam { learning_rate: 0.05 }.minimise(&mut x, 600, &mut valley, &mut |_, _| Control::Continue).unwrap();
        for (xi, ti) in x.iter().zip(TARGET) {
            assert!((xi - ti).abs() < 0.02, "{x:?}");
        }
    }
}
