//! Writing an adapted model: the merged weights (`W + (α/r)·B A`) replace their tensors in a
//! copy of the base ggml model, in the tensor's own storage type (f16 weights stay f16), so
//! whisper.cpp loads the result like the base model — from memory, never from a plaintext file.

use candle_core::{Result, Tensor};
use ownvoice_asr::ggml::{TensorData, WhisperGgml};

/// A copy of `base` with the tensors named in `merged` replaced.
///
/// # Errors
/// A merged tensor whose name or element count is not in the base model.
pub fn with_weights(base: &WhisperGgml, merged: &[(String, Tensor)]) -> Result<WhisperGgml> {
    let mut out = base.clone();
    for (name, t) in merged {
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        let target = out
            .tensors
            .iter_mut()
            .find(|x| &x.name == name)
            .ok_or_else(|| candle_core::Error::Msg(format!("{name}: not in the base model")))?;
        if target.data.len() != values.len() {
            candle_core::bail!(
                "{name}: {} values for a tensor of {}",
                values.len(),
                target.data.len()
            );
        }
        target.data = match target.data {
            TensorData::F32(_) => TensorData::F32(values),
            TensorData::F16(_) => TensorData::F16(
                values
                    .iter()
                    .map(|&v| half::f16::from_f32(v).to_bits())
                    .collect(),
            ),
        };
    }
    Ok(out)
}
