//! Optimisers over the image's pixels: L-BFGS (the paper's choice) and Adam.

mod adam;
mod lbfgs;
mod vector;

pub use adam::Adam;
pub use lbfgs::Lbfgs;

use crate::error::Result;

/// A function with its gradient; `evaluate` writes dL/dx into `gradient` and returns L.
pub trait Differentiable {
    /// Evaluates at `x`.
    fn evaluate(&mut self, x: &[f32], gradient: &mut [f32]) -> Result<f64>;
}

/// What an optimiser tells its observer after each iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Iterations done so far (1-based).
    pub iteration: usize,
    /// Objective at the current iterate.
    pub loss: f64,
    /// Function evaluations so far.
    pub evaluations: usize,
}

/// The observer's answer: go on or stop here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Run the next iteration.
    Continue,
    /// Stop now; the current iterate is kept.
    Cancel,
}

/// Which optimiser, with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimiser {
    /// Limited-memory BFGS.
    Lbfgs(Lbfgs),
    /// Adam with a fixed learning rate.
    Adam(Adam),
}

impl Optimiser {
    /// Runs `iterations` iterations from `x` (updated in place), calling `observe` with the step and the current
    /// iterate after each.
    ///
    /// Returns the number of evaluations, or [`crate::EngineError::Cancelled`] when the observer cancels (then `x`
    /// holds the last accepted iterate).
    pub fn minimise(
        &self,
        x: &mut [f32],
        iterations: usize,
        objective: &mut dyn Differentiable,
        observe: &mut dyn FnMut(Step, &[f32]) -> Control,
    ) -> Result<usize> {
        match self {
            Optimiser::Lbfgs(lbfgs) => lbfgs.minimise(x, iterations, objective, observe),
            Optimiser::Adam(adam) => adam.minimise(x, iterations, objective, observe),
        }
    }

    /// A short description for reports, e.g. `lbfgs (history 10, line search)`.
    pub fn describe(&self) -> String {
        match self {
            Optimiser::Lbfgs(l) => format!(
                "lbfgs (history {}, {})",
                l.history,
                if l.line_search { "backtracking line search" } else { "unit steps" }
            ),
            Optimiser::Adam(a) => format!("adam (learning rate {})", a.learning_rate),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_functions {
    use super::Differentiable;
    use crate::error::Result;

    /// An ill-conditioned quadratic `sum c_i (x_i - t_i)^2` plus a Rosenbrock-like coupling, minimum 0 at t.
    pub struct Valley {
        pub evaluations: usize,
    }

    pub const TARGET: [f32; 4] = [0.3, -0.7, 1.2, 0.05];
    const CURVATURE: [f32; 4] = [1.0, 10.0, 100.0, 3.0];

    impl Differentiable for Valley {
        fn evaluate(&mut self, x: &[f32], gradient: &mut [f32]) -> Result<f64> {
            self.evaluations += 1;
            let mut loss = 0.0;
            for i in 0..4 {
                let d = x[i] - TARGET[i];
                loss += (CURVATURE[i] * d * d) as f64;
                gradient[i] = 2.0 * CURVATURE[i] * d;
            }
            // Coupling: (d0 * d1)^2 keeps the problem non-quadratic.
            let (d0, d1) = (x[0] - TARGET[0], x[1] - TARGET[1]);
            loss += ((d0 * d1) * (d0 * d1)) as f64;
            gradient[0] += 2.0 * d0 * d1 * d1;
            gradient[1] += 2.0 * d1 * d0 * d0;
            Ok(loss)
        }
    }
}
