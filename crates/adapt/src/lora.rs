//! Which layers get LoRA adapters, and their initialisation (Hu et al. 2021: `A` random,
//! `B` zero, so training starts from the base model exactly). The adapters' dropout uses
//! candle's unseeded generator; with dropout 0 (the `adapt` default) a run is repeatable.

use candle_core::{DType, Result};
use candle_nn::{Init, VarMap};

use crate::model::Whisper;

/// LoRA settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    /// Rank `r` of the update.
    pub rank: usize,
    /// Scale numerator `α` (the update is scaled by `α / r`).
    pub alpha: f64,
    /// Dropout on the adapter input while training.
    pub dropout: f32,
    /// Adapt the MLPs too, not only the attention projections (q, k, v, out).
    pub mlp: bool,
    /// Adapt the decoder blocks.
    pub decoder: bool,
    /// Encoder blocks to adapt (indices); none keeps the encoder frozen, so its output can be
    /// computed once per take and cached.
    pub encoder_layers: Vec<usize>,
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig {
            rank: 8,
            alpha: 16.0,
            dropout: 0.05,
            mlp: false,
            decoder: true,
            encoder_layers: Vec::new(),
        }
    }
}

/// Attaches fresh adapters to the chosen layers of `model`; their variables go into `vars`
/// (named `<layer>.lora_a` / `.lora_b`). `A` is uniform in ±1/√in (PyTorch's default for a
/// linear layer) from a xorshift generator seeded with `seed`, so a seed gives the same
/// adapters; `B` is zero. Returns how many layers were adapted.
///
/// # Errors
/// candle errors.
pub fn attach(model: &mut Whisper, cfg: &LoraConfig, vars: &VarMap, seed: u64) -> Result<usize> {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move |bound: f64| -> f32 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        ((rng >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32 * bound as f32
    };
    let n_enc = model.encoder_blocks.len();
    let mut adapted = 0;
    for (i, block) in model
        .encoder_blocks
        .iter_mut()
        .chain(model.decoder_blocks.iter_mut())
        .enumerate()
    {
        let wanted = if i < n_enc {
            cfg.encoder_layers.contains(&i)
        } else {
            cfg.decoder
        };
        if !wanted {
            continue;
        }
        for lin in block.linears_mut() {
            let is_mlp = lin.name.contains(".mlp.");
            if is_mlp && !cfg.mlp {
                continue;
            }
            let (out, inp) = lin.weight.dims2()?;
            let dev = lin.weight.device().clone();
            let bound = 1.0 / (inp as f64).sqrt();
            let init: Vec<f32> = (0..cfg.rank * inp).map(|_| uniform(bound)).collect();
            let a_var = candle_core::Var::from_vec(init, (cfg.rank, inp), &dev)?;
            let a = a_var.as_tensor().clone();
            vars.data()
                .lock()
                .expect("VarMap lock")
                .insert(format!("{}.lora_a", lin.name), a_var);
            let b = vars.get(
                (out, cfg.rank),
                &format!("{}.lora_b", lin.name),
                Init::Const(0.0),
                DType::F32,
                &dev,
            )?;
            lin.lora = Some(crate::model::Lora {
                a,
                b,
                scale: cfg.alpha / cfg.rank as f64,
                dropout: cfg.dropout,
            });
            adapted += 1;
        }
    }
    Ok(adapted)
}
