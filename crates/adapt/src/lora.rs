//! Which layers get LoRA adapters, and their initialisation (Hu et al. 2021: `A` random,
//! `B` zero, so training starts from the base model exactly).

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
/// (named `<layer>.lora_a` / `.lora_b`). Returns how many layers were adapted.
///
/// # Errors
/// candle errors.
pub fn attach(model: &mut Whisper, cfg: &LoraConfig, vars: &VarMap) -> Result<usize> {
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
            let a = vars.get(
                (cfg.rank, inp),
                &format!("{}.lora_a", lin.name),
                Init::Uniform {
                    lo: -bound,
                    up: bound,
                },
                DType::F32,
                &dev,
            )?;
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
