//! Limited-memory BFGS (Nocedal, "Updating quasi-Newton matrices with limited storage",
//! Math. Comp. 35, 1980; two-loop recursion as in Nocedal & Wright, *Numerical Optimization*,
//! Algorithm 7.4) with a backtracking Armijo line search, enough for smooth convex objectives.

use std::collections::VecDeque;

/// Stopping rules and memory size.
#[derive(Debug, Clone)]
pub(crate) struct LbfgsConfig {
    /// Correction pairs kept (sklearn/scipy use 10).
    pub memory: usize,
    /// Stop when the largest absolute gradient component is at most this.
    pub gtol: f64,
    /// Stop when the relative decrease of the objective is at most this.
    pub ftol: f64,
    /// Iteration cap.
    pub max_iter: usize,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LbfgsOutcome {
    pub iterations: usize,
    pub converged: bool,
    pub value: f64,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Minimises `fg`, which returns the objective and writes the gradient into its second argument.
/// `x` holds the start point on entry and the minimiser on return.
pub(crate) fn minimize<F>(mut fg: F, x: &mut [f64], cfg: &LbfgsConfig) -> LbfgsOutcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut f = fg(x, &mut g);
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(cfg.memory);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = vec![0.0; cfg.memory.max(1)];
    for iter in 0..cfg.max_iter {
        if !f.is_finite() {
            return LbfgsOutcome {
                iterations: iter,
                converged: false,
                value: f,
            };
        }
        if inf_norm(&g) <= cfg.gtol {
            return LbfgsOutcome {
                iterations: iter,
                converged: true,
                value: f,
            };
        }
        // Two-loop recursion: d = -H g.
        d.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
        for (i, (s, y, rho)) in pairs.iter().enumerate().rev() {
            let a = rho * dot(s, &d);
            alpha[i] = a;
            d.iter_mut().zip(y).for_each(|(di, yi)| *di -= a * yi);
        }
        if let Some((s, y, _)) = pairs.back() {
            // Initial Hessian scaling gamma = s'y / y'y (Nocedal & Wright eq. 7.20).
            let gamma = dot(s, y) / dot(y, y);
            d.iter_mut().for_each(|di| *di *= gamma);
        }
        for (i, (s, y, rho)) in pairs.iter().enumerate() {
            let b = rho * dot(y, &d);
            let a = alpha[i];
            d.iter_mut().zip(s).for_each(|(di, si)| *di += (a - b) * si);
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction (round-off in the memory): restart from steepest descent.
            pairs.clear();
            d.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
            slope = dot(&g, &d);
        }
        // First step of a fresh memory: scale so the step has unit length, as scipy does.
        let mut step = if pairs.is_empty() {
            1.0 / inf_norm(&d).max(1.0)
        } else {
            1.0
        };
        let mut accepted = false;
        let mut f_new = f;
        for _ in 0..60 {
            x_new
                .iter_mut()
                .zip(x.iter().zip(&d))
                .for_each(|(xn, (xi, di))| *xn = xi + step * di);
            f_new = fg(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= f + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            // No decrease along a descent direction: we are at the objective's numerical floor.
            return LbfgsOutcome {
                iterations: iter + 1,
                converged: inf_norm(&g) <= cfg.gtol * 10.0,
                value: f,
            };
        }
        let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        // Skip pairs that would break positive definiteness.
        if sy > 1e-12 * dot(&y, &y).max(f64::MIN_POSITIVE) {
            if pairs.len() == cfg.memory {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let decrease = f - f_new;
        f = f_new;
        if decrease <= cfg.ftol * f.abs().max(1.0) && inf_norm(&g) <= cfg.gtol.max(1e-12) * 100.0 {
            return LbfgsOutcome {
                iterations: iter + 1,
                converged: true,
                value: f,
            };
        }
    }
    LbfgsOutcome {
        iterations: cfg.max_iter,
        converged: inf_norm(&g) <= cfg.gtol,
        value: f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        let mut x = vec![-1.2, 1.0];
        let out = minimize(
            |p, g| {
                let (a, b) = (p[0], p[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            &mut x,
            &LbfgsConfig {
                memory: 10,
                gtol: 1e-8,
                ftol: 0.0,
                max_iter: 500,
            },
        );
        assert!(out.converged, "{out:?}");
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }
}
