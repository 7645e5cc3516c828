//! sep-CMA-ES: the covariance matrix adaptation evolution strategy with a diagonal covariance
//! (Ros & Hansen, "A Simple Modification in CMA-ES Achieving Linear Time and Space Complexity",
//! PPSN X, 2008). Default parameters from Hansen, "The CMA Evolution Strategy: A Tutorial"
//! (arXiv:1604.00772, table 1), with the sep variant's learning rates scaled by (n + 2) / 3.
//!
//! It minimises. Sampling is reproducible: generation `g` draws from a generator seeded with
//! `(seed, g)`, so a run resumed from a [`State`] continues exactly as it would have.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The optimiser's whole state (serialisable, for checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Seed of the sampling.
    pub seed: u64,
    /// Generations completed.
    pub generation: u64,
    /// Distribution mean.
    pub mean: Vec<f64>,
    /// Global step size.
    pub sigma: f64,
    /// Diagonal of the covariance matrix.
    pub diag_c: Vec<f64>,
    /// Evolution path of the step size.
    pub p_sigma: Vec<f64>,
    /// Evolution path of the covariance.
    pub p_c: Vec<f64>,
    /// Offspring per generation (λ).
    pub lambda: usize,
    /// Best point seen and its cost.
    pub best: Option<(Vec<f64>, f64)>,
}

struct Params {
    mu: usize,
    weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    chi_n: f64,
}

fn params(n: usize, lambda: usize) -> Params {
    let nf = n as f64;
    let mu = lambda / 2;
    let raw: Vec<f64> = (0..mu)
        .map(|i| (mu as f64 + 0.5).ln() - ((i + 1) as f64).ln())
        .collect();
    let sum: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
    let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
    let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
    let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
    let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
    let c_1 = 2.0 / ((nf + 1.3).powi(2) + mu_eff);
    let c_mu = (1.0 - c_1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((nf + 2.0).powi(2) + mu_eff));
    // sep-CMA-ES: a diagonal can be learnt (n + 2) / 3 times faster.
    let sep = (nf + 2.0) / 3.0;
    let c_1 = (c_1 * sep).min(1.0);
    let c_mu = (c_mu * sep).min(1.0 - c_1);
    let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
    Params {
        mu,
        weights,
        mu_eff,
        c_sigma,
        d_sigma,
        c_c,
        c_1,
        c_mu,
        chi_n,
    }
}

/// Standard normal by Box–Muller (two uniforms per draw; reproducible across platforms).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl State {
    /// A start at `mean` with step size `sigma` and `lambda` offspring per generation (`None`:
    /// the default 4 + ⌊3 ln n⌋).
    pub fn new(mean: Vec<f64>, sigma: f64, lambda: Option<usize>, seed: u64) -> State {
        let n = mean.len();
        let lambda = lambda
            .unwrap_or(4 + (3.0 * (n as f64).ln()).floor() as usize)
            .max(4);
        State {
            seed,
            generation: 0,
            diag_c: vec![1.0; n],
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            mean,
            sigma,
            lambda,
            best: None,
        }
    }

    /// How many of a generation's best candidates [`State::tell`] reads (μ = ⌊λ / 2⌋); the
    /// order of the others does not change the update.
    pub fn mu(&self) -> usize {
        params(self.mean.len(), self.lambda).mu
    }

    /// The next generation's candidates and the steps `y = (x − m) / σ` they were made from.
    pub fn ask(&self) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ self.generation.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut xs = Vec::with_capacity(self.lambda);
        let mut ys = Vec::with_capacity(self.lambda);
        for _ in 0..self.lambda {
            let y: Vec<f64> = self
                .diag_c
                .iter()
                .map(|c| c.sqrt() * normal(&mut rng))
                .collect();
            xs.push(
                self.mean
                    .iter()
                    .zip(&y)
                    .map(|(m, yi)| m + self.sigma * yi)
                    .collect(),
            );
            ys.push(y);
        }
        (xs, ys)
    }

    /// Updates the distribution from the candidates of [`State::ask`] and their costs.
    pub fn tell(&mut self, xs: &[Vec<f64>], ys: &[Vec<f64>], costs: &[f64]) {
        let n = self.mean.len();
        let p = params(n, self.lambda);
        let mut order: Vec<usize> = (0..costs.len()).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        if self.best.as_ref().is_none_or(|(_, c)| costs[order[0]] < *c) {
            self.best = Some((xs[order[0]].clone(), costs[order[0]]));
        }
        let mut y_w = vec![0.0; n];
        for (w, &i) in p.weights.iter().zip(&order[..p.mu]) {
            for (acc, y) in y_w.iter_mut().zip(&ys[i]) {
                *acc += w * y;
            }
        }
        for (m, y) in self.mean.iter_mut().zip(&y_w) {
            *m += self.sigma * y;
        }
        let cs = (p.c_sigma * (2.0 - p.c_sigma) * p.mu_eff).sqrt();
        for ((ps, y), c) in self.p_sigma.iter_mut().zip(&y_w).zip(&self.diag_c) {
            *ps = (1.0 - p.c_sigma) * *ps + cs * y / c.sqrt();
        }
        let ps_norm = self.p_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        let g = (self.generation + 1) as f64;
        let h_sigma = ps_norm / (1.0 - (1.0 - p.c_sigma).powf(2.0 * g)).sqrt()
            < (1.4 + 2.0 / (n as f64 + 1.0)) * p.chi_n;
        let h = if h_sigma { 1.0 } else { 0.0 };
        let cc = (p.c_c * (2.0 - p.c_c) * p.mu_eff).sqrt();
        for (pc, y) in self.p_c.iter_mut().zip(&y_w) {
            *pc = (1.0 - p.c_c) * *pc + h * cc * y;
        }
        for (d, (c, pc)) in self.diag_c.iter_mut().zip(&self.p_c).enumerate() {
            let rank_mu: f64 = p
                .weights
                .iter()
                .zip(&order[..p.mu])
                .map(|(w, &i)| w * ys[i][d] * ys[i][d])
                .sum();
            *c = (1.0 - p.c_1 - p.c_mu) * *c
                + p.c_1 * (pc * pc + (1.0 - h) * p.c_c * (2.0 - p.c_c) * *c)
                + p.c_mu * rank_mu;
        }
        self.sigma *= ((p.c_sigma / p.d_sigma) * (ps_norm / p.chi_n - 1.0)).exp();
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: impl Fn(&[f64]) -> f64, n: usize, gens: usize, seed: u64) -> State {
        let mut s = State::new(vec![3.0; n], 1.0, None, seed);
        for _ in 0..gens {
            let (xs, ys) = s.ask();
            let costs: Vec<f64> = xs.iter().map(|x| f(x)).collect();
            s.tell(&xs, &ys, &costs);
        }
        s
    }

    #[test]
    fn minimises_sphere_and_ellipsoid() {
        let sphere = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>();
        let s = run(sphere, 20, 300, 1);
        assert!(s.best.unwrap().1 < 1e-8);
        let ellipsoid = |x: &[f64]| {
            x.iter()
                .enumerate()
                .map(|(i, v)| 10f64.powf(3.0 * i as f64 / 9.0) * v * v)
                .sum::<f64>()
        };
        let s = run(ellipsoid, 10, 400, 2);
        let best = s.best.unwrap().1;
        assert!(best < 1e-6, "{best}");
    }

    #[test]
    fn resuming_from_a_saved_state_is_exact() {
        let f = |x: &[f64]| x.iter().map(|v| (v - 1.0).powi(2)).sum::<f64>();
        let whole = run(f, 8, 20, 7);
        let mut half = run(f, 8, 10, 7);
        half = serde_json::from_str(&serde_json::to_string(&half).unwrap()).unwrap();
        for _ in 0..10 {
            let (xs, ys) = half.ask();
            let costs: Vec<f64> = xs.iter().map(|x| f(x)).collect();
            half.tell(&xs, &ys, &costs);
        }
        assert_eq!(whole, half);
    }
}
