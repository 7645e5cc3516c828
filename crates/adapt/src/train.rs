//! Teacher-forced fine-tuning of the adapters: cross-entropy of the transcript's tokens (and the
//! end-of-text token) behind Whisper's prompt, AdamW (Loshchilov & Hutter 2019) with a linear
//! warm-up, mini-batches averaged before each step, early stopping on held-back takes, a fixed
//! seed.

use candle_core::{Result, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};

use crate::checkpoint::Checkpoint;
use crate::model::Whisper;

/// One training example: what the frozen part of the encoder computes for a take (computed
/// once), and its tokens, prompt first, end-of-text last.
#[derive(Debug, Clone)]
pub struct Example {
    /// `[1, n_audio_ctx, d]`: the encoder output, or with `encoder_from` the hidden states
    /// after that many (frozen) encoder blocks.
    pub encoded: Tensor,
    pub tokens: Vec<u32>,
    /// `Some(l)`: `encoded` holds the hidden states after encoder block `l − 1`; the loss runs
    /// the adapted blocks `l..` (see [`Whisper::encode_from`]). `None`: the encoder is frozen.
    pub encoder_from: Option<usize>,
}

impl Example {
    /// An example over a frozen encoder's output.
    pub fn frozen(encoded: Tensor, tokens: Vec<u32>) -> Example {
        Example {
            encoded,
            tokens,
            encoder_from: None,
        }
    }
}

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Peak learning rate.
    pub lr: f64,
    pub weight_decay: f64,
    /// Steps of linear warm-up to the peak rate.
    pub warmup: usize,
    pub epochs: usize,
    /// Examples per optimisation step (their losses are averaged: gradient accumulation).
    pub batch: usize,
    /// Epochs without a better held-back loss before stopping.
    pub patience: usize,
    pub seed: u64,
    /// LoRA dropout while training.
    pub dropout: f32,
    /// Keep the adapters of the last epoch instead of the best held-back epoch (no early
    /// stopping).
    pub keep_last: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lr: 1e-3,
            weight_decay: 0.01,
            warmup: 10,
            epochs: 3,
            batch: 4,
            patience: 1,
            seed: 1234,
            dropout: 0.05,
            keep_last: false,
        }
    }
}

/// Progress after one optimisation step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub step: usize,
    pub total_steps: usize,
    pub epoch: usize,
    pub loss: f32,
    pub lr: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub steps: usize,
    /// Mean held-back loss before training and at the kept (best) epoch.
    pub heldout_loss_before: f32,
    pub heldout_loss_best: f32,
    /// Epoch whose adapters were kept (0: none improved, the adapters are back at zero effect).
    pub best_epoch: usize,
}

/// Cross-entropy of `ex`'s tokens after the first `prompt_len` (a scalar tensor).
///
/// # Errors
/// candle errors (too few tokens).
pub fn example_loss(model: &Whisper, ex: &Example, prompt_len: usize) -> Result<Tensor> {
    let t = ex.tokens.len();
    if t <= prompt_len {
        candle_core::bail!("an example has no tokens after the prompt");
    }
    let dev = ex.encoded.device();
    let input = Tensor::new(&ex.tokens[..t - 1], dev)?.unsqueeze(0)?;
    let encoded = match ex.encoder_from {
        Some(from) => model.encode_from(&ex.encoded, from)?,
        None => ex.encoded.clone(),
    };
    let logits = model.decode(&input, &encoded)?; // [1, t-1, V]
    let n = t - prompt_len;
    let logits = logits.narrow(1, prompt_len - 1, n)?.squeeze(0)?;
    let targets = Tensor::new(&ex.tokens[prompt_len..], dev)?;
    candle_nn::loss::cross_entropy(&logits, &targets)
}

/// Mean loss over `examples` without dropout.
///
/// # Errors
/// candle errors.
pub fn mean_loss(model: &mut Whisper, examples: &[Example], prompt_len: usize) -> Result<f32> {
    if examples.is_empty() {
        return Ok(f32::NAN);
    }
    let mut sum = 0.0;
    for ex in examples {
        sum += example_loss(model, ex, prompt_len)?.to_scalar::<f32>()?;
    }
    Ok(sum / examples.len() as f32)
}

/// What the caller sees of a training run.
pub trait Progress {
    /// After every optimisation step; false stops training there (a time budget), which still
    /// ends with a held-back evaluation.
    fn step(&mut self, s: Step) -> bool;
    /// After every epoch, with the state to keep so an interrupted run can resume.
    ///
    /// # Errors
    /// Whatever saving the checkpoint fails with; it stops training.
    fn epoch_done(&mut self, _checkpoint: &Checkpoint) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(Step) -> bool> Progress for F {
    fn step(&mut self, s: Step) -> bool {
        self(s)
    }
}

/// The adapters' values by name, sorted (copies: later training does not change them).
///
/// # Errors
/// candle errors.
pub fn adapter_values(vars: &VarMap) -> Result<Vec<(String, Tensor)>> {
    let data = vars.data().lock().expect("VarMap lock");
    let mut v: Vec<(String, Tensor)> = data
        .iter()
        .map(|(n, var)| Ok((n.clone(), var.as_tensor().copy()?)))
        .collect::<Result<_>>()?;
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// Sets the adapters named in `values` (from [`adapter_values`] or a checkpoint), e.g. back to
/// their initial values before another training run.
///
/// # Errors
/// An adapter in `values` that `vars` lacks; a shape mismatch.
pub fn set_adapters(vars: &VarMap, values: &[(String, Tensor)]) -> Result<()> {
    let data = vars.data().lock().expect("VarMap lock");
    for (n, t) in values {
        match data.get(n) {
            Some(v) => v.set(t)?,
            None => candle_core::bail!("checkpoint adapter {n} is not in the model"),
        }
    }
    Ok(())
}

/// Trains the variables in `vars` (the adapters) on `train`, keeping the epoch with the lowest
/// held-back loss; `progress` sees every step and epoch. With `resume`, the run goes on after
/// the checkpoint's epoch (its fingerprint is the caller's to check).
///
/// # Errors
/// candle errors; a non-finite loss (divergence) stops training with an error.
#[allow(clippy::too_many_arguments)]
pub fn train(
    model: &mut Whisper,
    vars: &VarMap,
    train: &[Example],
    heldout: &[Example],
    prompt_len: usize,
    cfg: &TrainConfig,
    resume: Option<&Checkpoint>,
    progress: &mut impl Progress,
) -> Result<TrainReport> {
    let mut opt = AdamW::new(
        vars.all_vars(),
        ParamsAdamW {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..Default::default()
        },
    )?;
    let batch = cfg.batch.max(1);
    let per_epoch = train.len().div_ceil(batch);
    let total_steps = per_epoch * cfg.epochs;
    model.set_lora_dropout(0.0);
    let (before, mut best, mut step, done) = match resume {
        Some(c) => {
            set_adapters(vars, &c.adapters)?;
            (
                c.loss_before,
                (c.best_loss, c.best_epoch, c.best.clone()),
                c.step,
                c.epoch,
            )
        }
        None => {
            let before = mean_loss(model, heldout, prompt_len)?;
            (before, (before, 0usize, adapter_values(vars)?), 0, 0)
        }
    };
    let mut rng = cfg.seed | 1;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut stop = false;
    for epoch in 1..=cfg.epochs {
        // Fisher–Yates with xorshift64: the same seed gives the same order.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        if epoch <= done {
            continue; // done before the interruption (the shuffle above keeps later orders)
        }
        model.set_lora_dropout(cfg.dropout);
        for chunk in order.chunks(batch) {
            let lr = cfg.lr * ((step + 1) as f64 / cfg.warmup.max(1) as f64).min(1.0);
            opt.set_learning_rate(lr);
            let mut loss: Option<Tensor> = None;
            for &i in chunk {
                let l = example_loss(model, &train[i], prompt_len)?;
                loss = Some(match loss {
                    Some(acc) => (acc + l)?,
                    None => l,
                });
            }
            let loss = (loss.expect("non-empty chunk") / chunk.len() as f64)?;
            let value = loss.to_scalar::<f32>()?;
            if !value.is_finite() && !cfg.keep_last {
                candle_core::bail!(
                    "training diverged at step {step} (loss {value}); try a lower learning rate"
                );
            }
            opt.backward_step(&loss)?;
            step += 1;
            if !progress.step(Step {
                step,
                total_steps,
                epoch,
                loss: value,
                lr,
            }) {
                stop = true;
                break;
            }
        }
        model.set_lora_dropout(0.0);
        let held = mean_loss(model, heldout, prompt_len)?;
        let improved = held < best.0 || heldout.is_empty() || cfg.keep_last;
        if improved {
            best = (held, epoch, adapter_values(vars)?);
        }
        progress.epoch_done(&Checkpoint {
            fingerprint: resume.map_or(0, |c| c.fingerprint),
            epoch,
            step,
            best_epoch: best.1,
            best_loss: best.0,
            loss_before: before,
            adapters: adapter_values(vars)?,
            best: best.2.clone(),
        })?;
        if stop || (!improved && epoch - best.1 > cfg.patience) {
            break;
        }
    }
    set_adapters(vars, &best.2)?;
    Ok(TrainReport {
        steps: step,
        heldout_loss_before: before,
        heldout_loss_best: best.0,
        best_epoch: best.1,
    })
}
