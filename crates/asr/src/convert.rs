//! CTranslate2 Whisper folder (as faster-whisper ships it) → whisper.cpp ggml model.
//!
//! Input folder: `model.bin` (CTranslate2, float16 or float32), `vocabulary.txt` (one GPT-2
//! byte-level token per line, in id order). The mapping of names follows whisper.cpp's
//! `whisper_model_load` and OpenAI's PyTorch names (`convert-pt-to-ggml.py`):
//!
//! | CTranslate2                                   | ggml                                   |
//! |-----------------------------------------------|----------------------------------------|
//! | `encoder/conv{1,2}/{weight,bias}`             | `encoder.conv{1,2}.{weight,bias}`      |
//! | `{encoder,decoder}/position_encodings/encodings` | `{encoder,decoder}.positional_embedding` |
//! | `encoder/layer_norm/{gamma,beta}`             | `encoder.ln_post.{weight,bias}`        |
//! | `decoder/layer_norm/{gamma,beta}`             | `decoder.ln.{weight,bias}`             |
//! | `decoder/embeddings/weight`                   | `decoder.token_embedding.weight`       |
//! | `…/layer_i/self_attention/linear_0` (fused Q,K,V) | `….blocks.i.attn.{query,key,value}` |
//! | `…/layer_i/self_attention/linear_1`           | `….blocks.i.attn.out`                  |
//! | `…/layer_i/self_attention/layer_norm`         | `….blocks.i.attn_ln`                   |
//! | `decoder/layer_i/attention/linear_0`          | `decoder.blocks.i.cross_attn.query`    |
//! | `decoder/layer_i/attention/linear_1` (fused K,V) | `decoder.blocks.i.cross_attn.{key,value}` |
//! | `decoder/layer_i/attention/linear_2`          | `decoder.blocks.i.cross_attn.out`      |
//! | `decoder/layer_i/attention/layer_norm`        | `decoder.blocks.i.cross_attn_ln`       |
//! | `…/layer_i/ffn/{linear_0,linear_1,layer_norm}`| `….blocks.i.{mlp.0,mlp.2,mlp_ln}`      |
//!
//! Whisper's key projections have no bias; CTranslate2 stores a zero block for them inside the
//! fused biases, which is dropped. Types follow `convert-pt-to-ggml.py`: 1-D tensors, conv biases
//! (reshaped to `[d, 1]`) and positional embeddings are f32, the other weights f16 (ftype 1).

use std::path::{Path, PathBuf};

use ownvoice_features::mel::whisper_mel_filters;

use crate::ct2::{self, Ct2Error, Ct2Model, Variable};
use crate::ggml::{Hparams, Tensor, TensorData, WhisperGgml};

/// Errors converting a CTranslate2 Whisper model.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Ct2 {
        path: PathBuf,
        #[source]
        source: Ct2Error,
    },
    #[error("{path}: not a CTranslate2 Whisper model: {detail}")]
    NotWhisper { path: PathBuf, detail: String },
}

/// Converts the faster-whisper model folder `dir` to a ggml model.
///
/// # Errors
/// [`ConvertError`] naming the file at fault (missing `model.bin` or `vocabulary.txt`, another
/// model type, a quantised model, missing tensors).
pub fn convert_dir(dir: &Path) -> Result<WhisperGgml, ConvertError> {
    let model_path = dir.join("model.bin");
    let vocab_path = dir.join("vocabulary.txt");
    let model = ct2::read_file(&model_path).map_err(|source| match source {
        Ct2Error::Io { path, source } => ConvertError::Io { path, source },
        other => ConvertError::Ct2 {
            path: model_path.clone(),
            source: other,
        },
    })?;
    let vocab_text = std::fs::read_to_string(&vocab_path).map_err(|source| ConvertError::Io {
        path: vocab_path.clone(),
        source,
    })?;
    let tokens: Vec<&str> = vocab_text.lines().collect();
    convert(&model, &tokens).map_err(|detail| ConvertError::NotWhisper {
        path: model_path,
        detail,
    })
}

/// Converts a parsed model plus its vocabulary lines (`vocabulary.txt`, id order).
///
/// # Errors
/// A description of what is missing or unsupported.
pub fn convert(model: &Ct2Model, tokens: &[&str]) -> Result<WhisperGgml, String> {
    if model.spec != "WhisperSpec" {
        return Err(format!("model spec is {:?}, not WhisperSpec", model.spec));
    }
    if model.variables.keys().any(|k| k.ends_with("weight_scale")) {
        return Err(
            "int8-quantised models are not supported; use a float16 or float32 model".into(),
        );
    }
    let m = Mapper { model };
    let n_audio_layer = count_layers(model, "encoder/");
    let n_text_layer = count_layers(model, "decoder/");
    let embed = m.var("decoder/embeddings/weight")?;
    let enc_pos = m.var("encoder/position_encodings/encodings")?;
    let dec_pos = m.var("decoder/position_encodings/encodings")?;
    let conv1 = m.var("encoder/conv1/weight")?;
    let n_mels = conv1
        .shape
        .get(1)
        .copied()
        .ok_or("encoder/conv1/weight is not 3-D")?;
    let hparams = Hparams {
        n_vocab: embed.shape[0] as i32,
        n_audio_ctx: enc_pos.shape[0] as i32,
        n_audio_state: enc_pos.shape[1] as i32,
        n_audio_head: m.scalar("encoder/num_heads")? as i32,
        n_audio_layer: n_audio_layer as i32,
        n_text_ctx: dec_pos.shape[0] as i32,
        n_text_state: dec_pos.shape[1] as i32,
        n_text_head: m.scalar("decoder/num_heads")? as i32,
        n_text_layer: n_text_layer as i32,
        n_mels: n_mels as i32,
        ftype: 1,
    };
    let eot = tokens
        .iter()
        .position(|t| *t == "<|endoftext|>")
        .ok_or("vocabulary.txt has no <|endoftext|> token")?;
    let vocab = tokens[..eot].iter().map(|t| byte_decode(t)).collect();

    let mut t = Vec::new();
    m.plain(
        &mut t,
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
    )?;
    m.linear(&mut t, "encoder/conv1", "encoder.conv1")?;
    m.linear(&mut t, "encoder/conv2", "encoder.conv2")?;
    m.norm(&mut t, "encoder/layer_norm", "encoder.ln_post")?;
    for i in 0..n_audio_layer {
        let (c, g) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        m.block_common(&mut t, &c, &g)?;
    }
    m.plain(
        &mut t,
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
    )?;
    m.plain(
        &mut t,
        "decoder/embeddings/weight",
        "decoder.token_embedding.weight",
    )?;
    m.norm(&mut t, "decoder/layer_norm", "decoder.ln")?;
    for i in 0..n_text_layer {
        let (c, g) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        m.block_common(&mut t, &c, &g)?;
        m.norm(
            &mut t,
            &format!("{c}/attention/layer_norm"),
            &format!("{g}.cross_attn_ln"),
        )?;
        m.linear(
            &mut t,
            &format!("{c}/attention/linear_0"),
            &format!("{g}.cross_attn.query"),
        )?;
        m.fused(
            &mut t,
            &format!("{c}/attention/linear_1"),
            &format!("{g}.cross_attn"),
            &["key", "value"],
        )?;
        m.linear(
            &mut t,
            &format!("{c}/attention/linear_2"),
            &format!("{g}.cross_attn.out"),
        )?;
    }
    Ok(WhisperGgml {
        hparams,
        mel_filters: whisper_mel_filters(n_mels),
        vocab,
        tensors: t,
    })
}

fn count_layers(model: &Ct2Model, prefix: &str) -> usize {
    (0..)
        .take_while(|i| {
            let p = format!("{prefix}layer_{i}/");
            model.variables.keys().any(|k| k.starts_with(&p))
        })
        .count()
}

struct Mapper<'a> {
    model: &'a Ct2Model,
}

impl Mapper<'_> {
    fn var(&self, name: &str) -> Result<&Variable, String> {
        self.model
            .get(name)
            .ok_or_else(|| format!("missing variable {name}"))
    }

    fn scalar(&self, name: &str) -> Result<i64, String> {
        self.var(name)?
            .scalar_i64()
            .ok_or_else(|| format!("{name} is not a scalar"))
    }

    /// Adds a tensor with the storage type whisper.cpp expects for `ggml_name`.
    fn push(
        &self,
        out: &mut Vec<Tensor>,
        ggml_name: String,
        mut shape: Vec<usize>,
        v: &Variable,
        range: Option<(usize, usize)>,
    ) -> Result<(), String> {
        let is_conv_bias = ggml_name == "encoder.conv1.bias" || ggml_name == "encoder.conv2.bias";
        let want_f32 =
            shape.len() < 2 || is_conv_bias || ggml_name.ends_with("positional_embedding");
        if is_conv_bias {
            shape.push(1);
        }
        let (lo, hi) = range.unwrap_or((0, v.len()));
        let data = if want_f32 {
            TensorData::F32(
                v.to_f32()
                    .ok_or_else(|| format!("{ggml_name}: not a float tensor"))?[lo..hi]
                    .to_vec(),
            )
        } else {
            TensorData::F16(
                v.to_f16_bits()
                    .ok_or_else(|| format!("{ggml_name}: not a float tensor"))?[lo..hi]
                    .to_vec(),
            )
        };
        out.push(Tensor {
            name: ggml_name,
            shape,
            data,
        });
        Ok(())
    }

    fn plain(&self, out: &mut Vec<Tensor>, ct2: &str, ggml: &str) -> Result<(), String> {
        let v = self.var(ct2)?;
        self.push(out, ggml.into(), v.shape.clone(), v, None)
    }

    fn linear(&self, out: &mut Vec<Tensor>, ct2: &str, ggml: &str) -> Result<(), String> {
        self.plain(out, &format!("{ct2}/weight"), &format!("{ggml}.weight"))?;
        self.plain(out, &format!("{ct2}/bias"), &format!("{ggml}.bias"))
    }

    fn norm(&self, out: &mut Vec<Tensor>, ct2: &str, ggml: &str) -> Result<(), String> {
        self.plain(out, &format!("{ct2}/gamma"), &format!("{ggml}.weight"))?;
        self.plain(out, &format!("{ct2}/beta"), &format!("{ggml}.bias"))
    }

    /// Splits a fused projection (rows stacked in `parts` order); `key` gets no bias.
    fn fused(
        &self,
        out: &mut Vec<Tensor>,
        ct2: &str,
        ggml: &str,
        parts: &[&str],
    ) -> Result<(), String> {
        let w = self.var(&format!("{ct2}/weight"))?;
        let b = self.var(&format!("{ct2}/bias"))?;
        let rows = w.shape[0] / parts.len();
        let cols = w.shape[1];
        for (k, part) in parts.iter().enumerate() {
            let wr = (k * rows * cols, (k + 1) * rows * cols);
            self.push(
                out,
                format!("{ggml}.{part}.weight"),
                vec![rows, cols],
                w,
                Some(wr),
            )?;
            if *part != "key" {
                self.push(
                    out,
                    format!("{ggml}.{part}.bias"),
                    vec![rows],
                    b,
                    Some((k * rows, (k + 1) * rows)),
                )?;
            }
        }
        Ok(())
    }

    /// Self-attention and MLP, shared by encoder and decoder blocks.
    fn block_common(&self, out: &mut Vec<Tensor>, c: &str, g: &str) -> Result<(), String> {
        self.norm(
            out,
            &format!("{c}/self_attention/layer_norm"),
            &format!("{g}.attn_ln"),
        )?;
        self.fused(
            out,
            &format!("{c}/self_attention/linear_0"),
            &format!("{g}.attn"),
            &["query", "key", "value"],
        )?;
        self.linear(
            out,
            &format!("{c}/self_attention/linear_1"),
            &format!("{g}.attn.out"),
        )?;
        self.norm(out, &format!("{c}/ffn/layer_norm"), &format!("{g}.mlp_ln"))?;
        self.linear(out, &format!("{c}/ffn/linear_0"), &format!("{g}.mlp.0"))?;
        self.linear(out, &format!("{c}/ffn/linear_1"), &format!("{g}.mlp.2"))
    }
}

/// GPT-2's byte-level alphabet: the printable bytes map to themselves, the other 68 bytes to
/// U+0100.. in order (source: openai/gpt-2 `src/encoder.py`, `bytes_to_unicode`).
fn byte_of_char(c: char) -> Option<u8> {
    let printable = |b: u32| {
        (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b)
    };
    let cp = c as u32;
    if cp < 0x100 {
        return printable(cp).then_some(cp as u8);
    }
    let n = cp - 0x100;
    (0u32..256)
        .filter(|&b| !printable(b))
        .nth(n as usize)
        .map(|b| b as u8)
}

/// Decodes one byte-level token back to its bytes (unknown characters keep their UTF-8 form).
pub fn byte_decode(token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(token.len());
    for c in token.chars() {
        match byte_of_char(c) {
            Some(b) => out.push(b),
            None => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_decoding() {
        assert_eq!(byte_decode("Ġthe"), b" the");
        assert_eq!(byte_decode("Ċ"), b"\n");
        assert_eq!(byte_decode("hello"), b"hello");
        // 'Ã©' is the byte-level form of UTF-8 "é" (0xC3 0xA9).
        assert_eq!(byte_decode("Ã©"), "é".as_bytes());
    }
}
