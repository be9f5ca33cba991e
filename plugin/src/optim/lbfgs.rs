//! L-BFGS (Nocedal & Wright, algorithm 7.4) with an optional backtracking (Armijo) line search.
//!
//! All buffers are allocated once per run; an iteration allocates nothing.

use super::vector::{add_scaled, dot, max_abs, scale, set_combination};
use super::{Control, Differentiable, Step};
use crate::error::{EngineError, Result};

/// L-BFGS settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lbfgs {
    /// Curvature pairs kept (1..=100; 5-20 is typical).
    pub history: usize,
    /// Backtracking line search (Armijo condition) instead of unit steps.
    pub line_search: bool,
}

impl Default for Lbfgs {
    fn default() -> Self {
        Lbfgs { history: 10, line_search: true }
    }
}

/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Line-search trials before the step is taken anyway (the smallest tried).
const MAX_BACKTRACKS: usize = 12;
/// Largest pixel change of the first step, in [0, 1] pixel units, before any curvature is known.
const FIRST_STEP: f64 = 0.05;

struct History {
    s: Vec<Vec<f32>>,
    y: Vec<Vec<f32>>,
    rho: Vec<f64>,
    len: usize,
    next: usize,
}

impl History {
    fn new(capacity: usize, n: usize) -> Self {
        History {
            s: vec![vec![0.0; n]; capacity],
            y: vec![vec![0.0; n]; capacity],
            rho: vec![0.0; capacity],
            len: 0,
            next: 0,
        }
    }

    /// Indices from newest to oldest.
    fn newest_first(&self) -> impl Iterator<Item = usize> + '_ {
        let capacity = self.s.len();
        (1..=self.len).map(move |k| (self.next + capacity - k) % capacity)
    }

    fn push(&mut self, x_new: &[f32], x: &[f32], g_new: &[f32], g: &[f32]) -> bool {
        let slot = self.next;
        set_combination(&mut self.s[slot], 1.0, x_new, -1.0, x);
        set_combination(&mut self.y[slot], 1.0, g_new, -1.0, g);
        let sy = dot(&self.s[slot], &self.y[slot]);
        let yy = dot(&self.y[slot], &self.y[slot]);
        if sy <= 1e-10 * yy || !sy.is_finite() {
            return false; // no positive curvature: keep the old pairs
        }
        self.rho[slot] = 1.0 / sy;
        self.next = (slot + 1) % self.s.len();
        self.len = (self.len + 1).min(self.s.len());
        true
    }

    /// `direction = -H g` by the two-loop recursion; `alpha` is scratch of the history's capacity.
    fn direction(&self, g: &[f32], direction: &mut [f32], alpha: &mut [f64]) {
        set_combination(direction, -1.0, g, 0.0, g);
        for k in self.newest_first() {
            alpha[k] = self.rho[k] * dot(&self.s[k], direction);
            add_scaled(direction, -(alpha[k] as f32), &self.y[k]);
        }
        if let Some(newest) = self.newest_first().next() {
            let gamma = (1.0 / (self.rho[newest] * dot(&self.y[newest], &self.y[newest]))) as f32;
            scale(direction, gamma);
        }
        let oldest_first: Vec<usize> = self.newest_first().collect();
        for &k in oldest_first.iter().rev() {
            let beta = self.rho[k] * dot(&self.y[k], direction);
            add_scaled(direction, (alpha[k] - beta) as f32, &self.s[k]);
        }
    }
}

impl Lbfgs {
    pub(super) fn minimise(
        &self,
        x: &mut [f32],
        iterations: usize,
        objective: &mut dyn Differentiable,
        observe: &mut dyn FnMut(Step, &[f32]) -> Control,
    ) -> Result<usize> {
        if !(1..=100).contains(&self.history) {
            return Err(EngineError::InvalidArgument(format!("lbfgs history {} is outside 1..=100", self.history)));
        }
        let n = x.len();
        let mut history = History::new(self.history, n);
        let mut alpha = vec![0.0f64; self.history];
        let (mut g, mut g_new, mut x_new, mut direction) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut loss = objective.evaluate(x, &mut g)?;
        let mut evaluations = 1;

        for iteration in 1..=iterations {
            history.direction(&g, &mut direction, &mut alpha);
            let mut slope = dot(&g, &direction);
            if history.len == 0 || slope >= 0.0 {
                // No curvature yet, or not a descent direction: a steepest-descent step of bounded size.
                history.len = 0;
                let largest = max_abs(&g) as f64;
                let scale = if largest > 0.0 { (FIRST_STEP / largest) as f32 } else { 0.0 };
                set_combination(&mut direction, -scale, &g, 0.0, &g);
                slope = dot(&g, &direction);
            }
            if slope == 0.0 {
                break; // stationary point
            }

            let mut step = 1.0f32;
            let mut new_loss;
            let mut trials = 0;
            loop {
                set_combination(&mut x_new, 1.0, x, step, &direction);
                new_loss = objective.evaluate(&x_new, &mut g_new)?;
                evaluations += 1;
                trials += 1;
                let sufficient = new_loss <= loss + ARMIJO * step as f64 * slope;
                if !self.line_search || (sufficient && new_loss.is_finite()) || trials >= MAX_BACKTRACKS {
                    break;
                }
                step *= 0.5;
            }
            if !new_loss.is_finite() {
                return Err(EngineError::InvalidArgument(
                    "the loss became non-finite: lower the style/content weights or the learning rate".into(),
                ));
            }
            history.push(&x_new, x, &g_new, &g);
            x.copy_from_slice(&x_new);
            std::mem::swap(&mut g, &mut g_new);
            loss = new_loss;
            if observe(Step { iteration, loss, evaluations }, x) == Control::Cancel {
                return Err(EngineError::Cancelled);
            }
        }
        Ok(evaluations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_functions::{TARGET, Valley};

    fn run(line_search: bool, iterations: usize) -> (Vec<f32>, usize) {
        let mut x = vec![0.0f32; 4];
        let mut valley = Valley { evaluations: 0 };
        let lbfgs = Lbfgs { history: 5, line_search };
        lbfgs.minimise(&mut x, iterations, &mut valley, &mut |_, _| Control::Continue).unwrap();
        (x, valley.evaluations)
    }

    #[test]
    fn converges_with_and_without_line_search() {
        for line_search in [true, false] {
            let (x, evaluations) = run(line_search, 60);
            for (xi, ti) in x.iter().zip(TARGET) {
                assert!((xi - ti).abs() < 1e-3, "line search {line_search}: {x:?} after {evaluations} evaluations");
            }
        }
    }

    #[test]
    fn observer_cancels() {
        let mut x = vec![0.0f32; 4];
        let mut valley = Valley { evaluations: 0 };
        let mut seen = 0;
        let result = Lbfgs::default().minimise(&mut x, 50, &mut valley, &mut |step, _| {
            seen = step.iteration;
            if step.iteration == 3 { Control::Cancel } else { Control::Continue }
        });
        assert!(matches!(result, Err(EngineError::Cancelled)));
        assert_eq!(seen, 3);
    }
}
