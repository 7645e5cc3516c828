//! The search space of voice fitting.
//!
//! A point `x` has `k + d` coordinates for a basis of `k` stock style packs: `k` logits whose
//! softmax mixes the basis packs row by row (a convex mix stays among natural styles), then a
//! `d`-d offset added to every row, in units of the stock styles' spread (the standard deviation
//! of each style dimension over all rows of all stock packs, [`Space::with_basis`]: the basis
//! can be a few packs of one kind, the spread still measures all of them). The penalty is the
//! offset's mean square: 0 inside the stock packs' span, 1 at one spread away.
//!
//! The offset covers all 256 style dimensions ([`Offset::Full`]) or only the first 128
//! ([`Offset::Timbre`]): Kokoro (StyleTTS 2) feeds `style[..128]` to the decoder, which makes
//! the timbre, and `style[128..]` to the prosody predictor (durations, F0, energy); see
//! `KModel.forward` in hexgrad/kokoro. Fewer coordinates should let the search converge in
//! fewer generations; measured on Cathy at 8 generations of 20 (σ 0.3), the fit similarity was
//! 0.819 against 0.817 for the full offset, so the full offset stays the default.
//!
//! With [`Space::with_rate`] a last coordinate `r` sets the speaking rate: Kokoro `speed` =
//! base · e^([`RATE_STEP`] · r), kept within [`RATE_RANGE`] of the base. The search then tunes
//! the style for Whisper at the rate it picks, rather than picking a rate for a style tuned at
//! another ([`crate::rate`]).
//!
//! A low-rank offset along the first 32 principal components of all 54 stock packs' rows was
//! tried too (sep-CMA-ES then has 37 coordinates and runs 19 generations in 15 minutes instead
//! of 14): on so762_0482 it reached a fit similarity of 0.736 against 0.779 for the full offset,
//! so it was not kept.

use ownvoice_tts::kokoro::{StylePack, PACK_ROWS, STYLE_DIM};

/// Scale of the rate coordinate: Kokoro `speed` = base · e^(`RATE_STEP` · r), so a step of
/// 0.6 in `r` (`voice train --sigma 0.6`) changes the rate by about 6 %, as much as the rates
/// [`crate::rate::RATES`] are apart.
pub const RATE_STEP: f64 = 0.1;

/// The speeds the rate coordinate reaches, as factors of the base speed: 0.8 speaks a quarter
/// longer, 1.25 a fifth shorter. Beyond this Kokoro's speech sounds drawn out or hurried.
pub const RATE_RANGE: (f64, f64) = (0.8, 1.25);

/// Which style dimensions the offset moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Offset {
    /// All 256 dimensions.
    #[default]
    Full,
    /// The decoder's 128 (timbre); the prosody half comes from the stock mix alone.
    Timbre,
}

impl Offset {
    /// Style dimensions the offset covers (the first this many).
    pub fn dims(self) -> usize {
        match self {
            Offset::Full => STYLE_DIM,
            Offset::Timbre => STYLE_DIM / 2,
        }
    }
}

/// The stock packs and their spread.
pub struct Space {
    /// Stock packs (name, pack).
    pub stock: Vec<(String, StylePack)>,
    /// Standard deviation of each of the 256 style dimensions over all stock rows.
    pub spread: Vec<f32>,
    /// The dimensions the offset moves.
    pub offset: Offset,
    /// Whether the last coordinate is the speaking rate ([`Space::with_rate`]).
    pub rate: bool,
}

impl Space {
    /// A space that mixes only the packs of `all` named in `basis` (in that order), with the
    /// offset measured in spreads over *all* of them: the basis is where the search starts, the
    /// whole stock is what counts as natural.
    ///
    /// # Errors
    /// The name of a basis pack that `all` lacks, or `"no basis"` for an empty `basis`.
    pub fn with_basis(
        all: &[(String, StylePack)],
        basis: &[String],
        offset: Offset,
    ) -> Result<Space, String> {
        if basis.is_empty() {
            return Err("no basis".into());
        }
        let stock = basis
            .iter()
            .map(|name| {
                all.iter()
                    .find(|(n, _)| n == name)
                    .cloned()
                    .ok_or_else(|| name.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Space {
            stock,
            spread: spread_of(all.iter().map(|(_, p)| p)),
            offset,
            rate: false,
        })
    }

    /// The same space with (`on`) or without a last coordinate for the speaking rate (module
    /// doc); it starts at the base speed.
    pub fn with_rate(self, on: bool) -> Space {
        Space { rate: on, ..self }
    }

    /// Coordinates of a point: `k` logits, the offset's dimensions, and the rate when searched.
    pub fn dim(&self) -> usize {
        self.stock.len() + self.offset.dims() + self.rate as usize
    }

    /// The offset's coordinates of `x`, in spreads.
    fn offset_of<'a>(&self, x: &'a [f64]) -> &'a [f64] {
        let k = self.stock.len();
        &x[k..k + self.offset.dims()]
    }

    /// The Kokoro `speed` at `x`: `base` without a rate coordinate, else
    /// base · e^(RATE_STEP · r) within [`RATE_RANGE`] of `base`.
    pub fn speed(&self, x: &[f64], base: f32) -> f32 {
        if !self.rate {
            return base;
        }
        let r = x[self.dim() - 1];
        let factor = (RATE_STEP * r).exp().clamp(RATE_RANGE.0, RATE_RANGE.1);
        (base as f64 * factor) as f32
    }

    /// The start: the first basis pack (the best screened one) weighted e² ≈ 7.4 times each
    /// other, no offset.
    pub fn start(&self) -> Vec<f64> {
        let mut x = vec![0.0; self.dim()];
        x[0] = 2.0;
        x
    }

    /// Mixing weights of the stock packs at `x` (softmax of the logits).
    pub fn weights(&self, x: &[f64]) -> Vec<f64> {
        let k = self.stock.len();
        let max = x[..k].iter().copied().fold(f64::MIN, f64::max);
        let e: Vec<f64> = x[..k].iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|v| v / sum).collect()
    }

    /// The style pack at `x`.
    pub fn pack(&self, x: &[f64]) -> StylePack {
        let w = self.weights(x);
        let mut rows = vec![0f32; PACK_ROWS * STYLE_DIM];
        for (wi, (_, p)) in w.iter().zip(&self.stock) {
            for (r, v) in rows.iter_mut().zip(&p.rows) {
                *r += *wi as f32 * v;
            }
        }
        let offset = self.offset_of(x);
        for row in rows.chunks_exact_mut(STYLE_DIM) {
            for ((v, o), s) in row.iter_mut().zip(offset).zip(&self.spread) {
                *v += *o as f32 * s;
            }
        }
        StylePack { rows }
    }

    /// Distance from the stock span: mean square of the offset, in spreads.
    pub fn penalty(&self, x: &[f64]) -> f64 {
        let off = self.offset_of(x);
        off.iter().map(|v| v * v).sum::<f64>() / off.len() as f64
    }
}

/// Standard deviation of each of the 256 style dimensions over all rows of `packs`.
fn spread_of<'a>(packs: impl Iterator<Item = &'a StylePack> + Clone) -> Vec<f32> {
    let n = (packs.clone().count() * PACK_ROWS) as f64;
    let mut spread = vec![0f32; STYLE_DIM];
    for (d, s) in spread.iter_mut().enumerate() {
        let vals = packs
            .clone()
            .flat_map(|p| (0..PACK_ROWS).map(move |r| p.rows[r * STYLE_DIM + d] as f64));
        let (sum, sq) = vals.fold((0.0, 0.0), |(a, b), v| (a + v, b + v * v));
        let mean = sum / n;
        *s = ((sq / n - mean * mean).max(0.0).sqrt()) as f32;
    }
    spread
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(v: f32) -> StylePack {
        StylePack {
            rows: vec![v; PACK_ROWS * STYLE_DIM],
        }
    }

    #[test]
    fn mixes_and_offsets() {
        let all = vec![("a".to_string(), pack(0.0)), ("b".to_string(), pack(2.0))];
        let s = Space::with_basis(&all, &["b".into(), "a".into()], Offset::Full).unwrap();
        assert!((s.spread[0] - 1.0).abs() < 1e-6);
        let mut x = vec![0.0; s.dim()];
        assert!((s.pack(&x).rows[0] - 1.0).abs() < 1e-6);
        x[2] = 0.5;
        assert!((s.pack(&x).rows[0] - 1.5).abs() < 1e-6);
        assert!((s.penalty(&x) - 0.25 / 256.0).abs() < 1e-9);
        assert!(s.weights(&s.start())[0] > 0.85);
        assert!(
            s.pack(&s.start()).rows[0] > 1.7,
            "the start leans to the first basis pack"
        );
    }

    #[test]
    fn a_basis_mixes_its_packs_and_spreads_over_all() {
        let all = vec![
            ("a".to_string(), pack(0.0)),
            ("b".to_string(), pack(2.0)),
            ("c".to_string(), pack(4.0)),
        ];
        let s = Space::with_basis(&all, &["c".into(), "b".into()], Offset::Full).unwrap();
        assert_eq!(s.dim(), 2 + 256);
        assert_eq!(s.stock[0].0, "c");
        // Spread over a, b, c: the standard deviation of {0, 2, 4}.
        assert!((s.spread[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-5);
        // Equal logits mix c and b only.
        assert!((s.pack(&vec![0.0; s.dim()]).rows[0] - 3.0).abs() < 1e-6);
        assert_eq!(
            Space::with_basis(&all, &["z".into()], Offset::Full).err(),
            Some("z".to_string())
        );
    }

    #[test]
    fn a_timbre_offset_moves_only_the_decoder_half() {
        let all = vec![("a".to_string(), pack(0.0)), ("b".to_string(), pack(2.0))];
        let s = Space::with_basis(&all, &["a".into(), "b".into()], Offset::Timbre).unwrap();
        assert_eq!(s.dim(), 2 + 128);
        let mut x = vec![1.0; s.dim()];
        x[..2].fill(0.0);
        let p = s.pack(&x);
        for n in [1, PACK_ROWS] {
            let row = p.row(n);
            assert!(row[..128].iter().all(|v| (v - 2.0).abs() < 1e-6));
            assert!(row[128..].iter().all(|v| (v - 1.0).abs() < 1e-6));
        }
        assert!((s.penalty(&x) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_rate_coordinate_sets_the_speed_and_leaves_the_style_alone() {
        let all = vec![("a".to_string(), pack(0.0)), ("b".to_string(), pack(2.0))];
        let plain = Space::with_basis(&all, &["a".into(), "b".into()], Offset::Full).unwrap();
        let s = Space::with_basis(&all, &["a".into(), "b".into()], Offset::Full)
            .unwrap()
            .with_rate(true);
        assert_eq!(s.dim(), plain.dim() + 1);
        let mut x = vec![0.5; s.dim()];
        assert_eq!(s.speed(&s.start(), 0.9), 0.9, "the start is the base speed");
        assert_eq!(plain.speed(&x, 0.9), 0.9);
        // The rate coordinate changes neither the pack nor the penalty.
        let (p, pen) = (s.pack(&x), s.penalty(&x));
        *x.last_mut().unwrap() = -1.5;
        assert_eq!(s.pack(&x).rows, p.rows);
        assert_eq!(s.penalty(&x), pen);
        assert!((s.speed(&x, 1.0) as f64 - (-0.15f64).exp()).abs() < 1e-6);
        assert_eq!(plain.pack(&x[..plain.dim()]).rows, p.rows);
        // Far out, the speed stays within RATE_RANGE of the base.
        *x.last_mut().unwrap() = -100.0;
        assert!((s.speed(&x, 1.0) - 0.8).abs() < 1e-6);
        *x.last_mut().unwrap() = 100.0;
        assert!((s.speed(&x, 0.8) - 1.0).abs() < 1e-6);
    }
}
