//! Whisper (Radford et al. 2022, "Robust Speech Recognition via Large-Scale Weak Supervision";
//! OpenAI `whisper/model.py`) in candle, with every weight a trainable variable loaded by name
//! from the ggml model whisper.cpp runs.
//!
//! Only operations with a backward pass are used (candle's `softmax_last_dim` and fused layer
//! norm have none; see `shared/RECIPES.md`): softmax is [`crate::softmax`]'s fused operation
//! with its own backward, and layer norm is written out from means and variances.
//!
//! Shapes: log-mel `[B, n_mels, 3000]`; encoder output `[B, 1500, d]`; tokens `[B, T]`; logits
//! `[B, T, n_vocab]`.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder, VarMap};
use ownvoice_asr::ggml::{Hparams, WhisperGgml};

/// Layer-norm epsilon of Whisper (PyTorch's default).
const LN_EPS: f64 = 1e-5;

/// The model dimensions, from the ggml hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub n_mels: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_vocab: usize,
}

impl From<&Hparams> for Config {
    fn from(h: &Hparams) -> Config {
        let u = |v: i32| v.max(0) as usize;
        Config {
            n_mels: u(h.n_mels),
            n_audio_ctx: u(h.n_audio_ctx),
            n_audio_state: u(h.n_audio_state),
            n_audio_head: u(h.n_audio_head),
            n_audio_layer: u(h.n_audio_layer),
            n_text_ctx: u(h.n_text_ctx),
            n_text_state: u(h.n_text_state),
            n_text_head: u(h.n_text_head),
            n_text_layer: u(h.n_text_layer),
            n_vocab: u(h.n_vocab),
        }
    }
}

/// Every tensor of `ggml` as a plain (frozen) f32 tensor by its ggml name, conv biases as `[d]`:
/// for a [`VarBuilder::from_tensors`] when only adapters are trained.
///
/// # Errors
/// candle errors.
pub fn tensors_from_ggml(
    ggml: &WhisperGgml,
    device: &Device,
) -> Result<std::collections::HashMap<String, Tensor>> {
    ggml.tensors
        .iter()
        .map(|t| {
            Ok((
                t.name.clone(),
                Tensor::from_vec(t.data.to_f32(), candle_shape(t), device)?,
            ))
        })
        .collect()
}

/// A ggml tensor's shape as the model uses it: conv biases, stored `[d, 1]`, are `[d]`.
fn candle_shape(t: &ownvoice_asr::ggml::Tensor) -> Vec<usize> {
    let mut shape = t.shape.clone();
    if t.name.ends_with(".bias") && shape.len() == 2 && shape[1] == 1 {
        shape.pop();
    }
    shape
}

/// Puts every tensor of `ggml` into a new [`VarMap`] as an f32 variable under its ggml name
/// (conv biases, stored `[d, 1]` in ggml, become `[d]`).
///
/// # Errors
/// candle errors (shape mismatches).
pub fn varmap_from_ggml(ggml: &WhisperGgml, device: &Device) -> Result<VarMap> {
    let map = VarMap::new();
    {
        let mut data = map.data().lock().expect("fresh VarMap");
        for t in &ggml.tensors {
            let v = candle_core::Var::from_vec(t.data.to_f32(), candle_shape(t), device)?;
            data.insert(t.name.clone(), v);
        }
    }
    Ok(map)
}

/// A linear layer `x Wᵀ + b` (bias optional, as Whisper's key projections have none), with an
/// optional LoRA update `(α/r)·dropout(x) Aᵀ Bᵀ` (Hu et al. 2021, "LoRA: Low-Rank Adaptation of
/// Large Language Models").
#[derive(Debug, Clone)]
pub struct Linear {
    /// The weight's ggml name without `.weight` (e.g. `decoder.blocks.0.attn.query`).
    pub name: String,
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub lora: Option<Lora>,
}

/// A LoRA pair on one linear layer: `A [r, in]`, `B [out, r]`, scale `α/r`.
#[derive(Debug, Clone)]
pub struct Lora {
    pub a: Tensor,
    pub b: Tensor,
    pub scale: f64,
    /// Dropout probability on the LoRA branch's input while training (0 when evaluating).
    pub dropout: f32,
}

impl Linear {
    fn load(vb: &VarBuilder, name: &str, out: usize, inp: usize, bias: bool) -> Result<Self> {
        Ok(Linear {
            name: name.to_string(),
            weight: vb.get((out, inp), &format!("{name}.weight"))?,
            bias: if bias {
                Some(vb.get(out, &format!("{name}.bias"))?)
            } else {
                None
            },
            lora: None,
        })
    }

    /// The weight with the LoRA update merged in: `W + (α/r)·B A`.
    ///
    /// # Errors
    /// candle errors.
    pub fn merged_weight(&self) -> Result<Tensor> {
        match &self.lora {
            Some(l) => &self.weight + (l.b.matmul(&l.a)? * l.scale)?,
            None => Ok(self.weight.clone()),
        }
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = crate::frozen::matmul_t(x, &self.weight)?;
        if let Some(l) = &self.lora {
            let xd = if l.dropout > 0.0 {
                candle_nn::ops::dropout(x, l.dropout)?
            } else {
                x.clone()
            };
            let update = xd
                .broadcast_matmul(&l.a.t()?)?
                .broadcast_matmul(&l.b.t()?)?;
            y = (y + (update * l.scale)?)?;
        }
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

/// Layer normalisation over the last dimension, from differentiable primitives.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    fn load(vb: &VarBuilder, name: &str, d: usize) -> Result<Self> {
        Ok(LayerNorm {
            weight: vb.get(d, &format!("{name}.weight"))?,
            bias: vb.get(d, &format!("{name}.bias"))?,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + LN_EPS)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// Multi-head attention (`MultiHeadAttention` in whisper/model.py).
#[derive(Debug, Clone)]
pub struct Attention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub out: Linear,
    n_head: usize,
}

impl Attention {
    fn load(vb: &VarBuilder, name: &str, d: usize, n_head: usize) -> Result<Self> {
        Ok(Attention {
            query: Linear::load(vb, &format!("{name}.query"), d, d, true)?,
            key: Linear::load(vb, &format!("{name}.key"), d, d, false)?,
            value: Linear::load(vb, &format!("{name}.value"), d, d, true)?,
            out: Linear::load(vb, &format!("{name}.out"), d, d, true)?,
            n_head,
        })
    }

    /// Attention of `x` `[B, T, d]` over `kv` `[B, S, d]` (itself for self-attention), with an
    /// optional additive mask `[T, S]`.
    pub fn forward(&self, x: &Tensor, kv: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let q = self.query.forward(x)?;
        let k = self.key.forward(kv)?;
        let v = self.value.forward(kv)?;
        let (b, t, d) = q.dims3()?;
        let s = k.dim(1)?;
        let dh = d / self.n_head;
        let scale = (dh as f64).powf(-0.25);
        let heads = |x: Tensor, n: usize| -> Result<Tensor> {
            x.reshape((b, n, self.n_head, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = (heads(q, t)? * scale)?;
        let k = (heads(k, s)? * scale)?;
        let v = heads(v, s)?;
        let mut w = q.matmul(&k.t()?)?;
        if let Some(m) = mask {
            w = w.broadcast_add(m)?;
        }
        let w = crate::softmax::softmax_last_dim(&w)?;
        let o = w.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        self.out.forward(&o)
    }
}

/// A residual block: self-attention, optional cross-attention, MLP, each pre-normed.
#[derive(Debug, Clone)]
pub struct Block {
    pub attn: Attention,
    attn_ln: LayerNorm,
    pub cross: Option<(Attention, LayerNorm)>,
    pub mlp0: Linear,
    pub mlp2: Linear,
    mlp_ln: LayerNorm,
}

impl Block {
    fn load(vb: &VarBuilder, name: &str, d: usize, n_head: usize, cross: bool) -> Result<Self> {
        Ok(Block {
            attn: Attention::load(vb, &format!("{name}.attn"), d, n_head)?,
            attn_ln: LayerNorm::load(vb, &format!("{name}.attn_ln"), d)?,
            cross: if cross {
                Some((
                    Attention::load(vb, &format!("{name}.cross_attn"), d, n_head)?,
                    LayerNorm::load(vb, &format!("{name}.cross_attn_ln"), d)?,
                ))
            } else {
                None
            },
            mlp0: Linear::load(vb, &format!("{name}.mlp.0"), 4 * d, d, true)?,
            mlp2: Linear::load(vb, &format!("{name}.mlp.2"), d, 4 * d, true)?,
            mlp_ln: LayerNorm::load(vb, &format!("{name}.mlp_ln"), d)?,
        })
    }

    fn forward(&self, x: &Tensor, xa: Option<&Tensor>, mask: Option<&Tensor>) -> Result<Tensor> {
        let h = self.attn_ln.forward(x)?;
        let mut x = (x + self.attn.forward(&h, &h, mask)?)?;
        if let (Some((attn, ln)), Some(xa)) = (&self.cross, xa) {
            x = (&x + attn.forward(&ln.forward(&x)?, xa, None)?)?;
        }
        let h = self.mlp0.forward(&self.mlp_ln.forward(&x)?)?.gelu_erf()?;
        &x + self.mlp2.forward(&h)?
    }
}

/// The whole model.
#[derive(Debug, Clone)]
pub struct Whisper {
    pub config: Config,
    conv1: Conv1d,
    conv2: Conv1d,
    enc_pos: Tensor,
    pub encoder_blocks: Vec<Block>,
    ln_post: LayerNorm,
    token_embedding: Tensor,
    dec_pos: Tensor,
    pub decoder_blocks: Vec<Block>,
    ln: LayerNorm,
}

impl Whisper {
    /// Builds the model over the variables of `vb` (see [`varmap_from_ggml`]).
    ///
    /// # Errors
    /// A missing tensor or a shape mismatch, naming the tensor.
    pub fn load(vb: &VarBuilder, config: Config) -> Result<Self> {
        let c = config;
        let conv = |name: &str, inp: usize, stride: usize| -> Result<Conv1d> {
            let w = vb.get((c.n_audio_state, inp, 3), &format!("encoder.{name}.weight"))?;
            let b = vb.get(c.n_audio_state, &format!("encoder.{name}.bias"))?;
            Ok(Conv1d::new(
                w,
                Some(b),
                Conv1dConfig {
                    padding: 1,
                    stride,
                    ..Default::default()
                },
            ))
        };
        Ok(Whisper {
            config,
            conv1: conv("conv1", c.n_mels, 1)?,
            conv2: conv("conv2", c.n_audio_state, 2)?,
            enc_pos: vb.get(
                (c.n_audio_ctx, c.n_audio_state),
                "encoder.positional_embedding",
            )?,
            encoder_blocks: (0..c.n_audio_layer)
                .map(|i| {
                    Block::load(
                        vb,
                        &format!("encoder.blocks.{i}"),
                        c.n_audio_state,
                        c.n_audio_head,
                        false,
                    )
                })
                .collect::<Result<_>>()?,
            ln_post: LayerNorm::load(vb, "encoder.ln_post", c.n_audio_state)?,
            token_embedding: vb.get(
                (c.n_vocab, c.n_text_state),
                "decoder.token_embedding.weight",
            )?,
            dec_pos: vb.get(
                (c.n_text_ctx, c.n_text_state),
                "decoder.positional_embedding",
            )?,
            decoder_blocks: (0..c.n_text_layer)
                .map(|i| {
                    Block::load(
                        vb,
                        &format!("decoder.blocks.{i}"),
                        c.n_text_state,
                        c.n_text_head,
                        true,
                    )
                })
                .collect::<Result<_>>()?,
            ln: LayerNorm::load(vb, "decoder.ln", c.n_text_state)?,
        })
    }

    /// Encoder: log-mel `[B, n_mels, 2·n_audio_ctx]` → `[B, n_audio_ctx, d]`.
    ///
    /// # Errors
    /// candle errors (a wrong input shape).
    pub fn encode(&self, mel: &Tensor) -> Result<Tensor> {
        let n = self.encoder_blocks.len();
        self.encode_from(&self.encode_upto(mel, n)?, n)
    }

    /// The first part of the encoder: the convolutions, the positional embedding and blocks
    /// `0..upto`: log-mel `[B, n_mels, 2·n_audio_ctx]` → hidden states `[B, n_audio_ctx, d]`.
    /// When those blocks are frozen, this is what training computes once per take.
    ///
    /// # Errors
    /// candle errors (a wrong input shape, `upto` beyond the encoder).
    pub fn encode_upto(&self, mel: &Tensor, upto: usize) -> Result<Tensor> {
        if upto > self.encoder_blocks.len() {
            candle_core::bail!("the encoder has {} blocks", self.encoder_blocks.len());
        }
        let x = self.conv1.forward(mel)?.gelu_erf()?;
        let x = self.conv2.forward(&x)?.gelu_erf()?.transpose(1, 2)?;
        let mut x = x.broadcast_add(&self.enc_pos)?;
        for b in &self.encoder_blocks[..upto] {
            x = b.forward(&x, None, None)?;
        }
        Ok(x)
    }

    /// The rest of the encoder: blocks `from..` and the final layer norm, over the hidden
    /// states [`encode_upto`](Self::encode_upto) gave for `from` → `[B, n_audio_ctx, d]`.
    ///
    /// # Errors
    /// candle errors (`from` beyond the encoder).
    pub fn encode_from(&self, hidden: &Tensor, from: usize) -> Result<Tensor> {
        let Some(blocks) = self.encoder_blocks.get(from..) else {
            candle_core::bail!("the encoder has {} blocks", self.encoder_blocks.len());
        };
        let mut x = hidden.clone();
        for b in blocks {
            x = b.forward(&x, None, None)?;
        }
        self.ln_post.forward(&x)
    }

    /// Decoder: tokens `[B, T]` over the encoder output → logits `[B, T, n_vocab]`, causally
    /// masked (teacher forcing).
    ///
    /// # Errors
    /// candle errors (more tokens than the text context).
    pub fn decode(&self, tokens: &Tensor, xa: &Tensor) -> Result<Tensor> {
        let t = tokens.dim(1)?;
        let x = self.token_embedding.embedding(&tokens.flatten_all()?)?;
        let x = x.reshape((tokens.dim(0)?, t, self.config.n_text_state))?;
        let mut x = x.broadcast_add(&self.dec_pos.narrow(0, 0, t)?)?;
        let mask = causal_mask(t, x.device())?;
        for b in &self.decoder_blocks {
            x = b.forward(&x, Some(xa), Some(&mask))?;
        }
        let x = self.ln.forward(&x)?;
        crate::frozen::matmul_t(&x, &self.token_embedding)
    }
}

impl Block {
    /// The block's linear layers: attention q, k, v, out; cross-attention q, k, v, out; MLP.
    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        let mut v = vec![
            &mut self.attn.query,
            &mut self.attn.key,
            &mut self.attn.value,
            &mut self.attn.out,
        ];
        if let Some((c, _)) = &mut self.cross {
            v.extend([&mut c.query, &mut c.key, &mut c.value, &mut c.out]);
        }
        v.extend([&mut self.mlp0, &mut self.mlp2]);
        v
    }
}

impl Whisper {
    /// Every linear layer of the encoder and decoder blocks.
    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        self.encoder_blocks
            .iter_mut()
            .chain(self.decoder_blocks.iter_mut())
            .flat_map(Block::linears_mut)
            .collect()
    }

    /// Sets the LoRA dropout of every adapted layer (0 to evaluate).
    pub fn set_lora_dropout(&mut self, p: f32) {
        for l in self.linears_mut() {
            if let Some(lora) = &mut l.lora {
                lora.dropout = p;
            }
        }
    }

    /// `(ggml name of the weight, merged weight)` of every adapted layer.
    ///
    /// # Errors
    /// candle errors.
    pub fn merged_weights(&mut self) -> Result<Vec<(String, Tensor)>> {
        self.linears_mut()
            .into_iter()
            .filter(|l| l.lora.is_some())
            .map(|l| Ok((format!("{}.weight", l.name), l.merged_weight()?)))
            .collect()
    }
}

/// `[T, T]` with 0 on and below the diagonal and −∞ above.
fn causal_mask(t: usize, device: &Device) -> Result<Tensor> {
    let v: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(v, (t, t), device)?.to_dtype(DType::F32)
}
