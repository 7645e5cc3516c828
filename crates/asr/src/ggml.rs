//! The whisper.cpp ggml model format ("legacy" ggml, as `models/convert-pt-to-ggml.py` writes it
//! and `whisper_model_load` in `whisper.cpp` reads it).
//!
//! Layout (little-endian):
//!
//! ```text
//! u32  magic 0x67676d6c ("ggml")
//! i32  n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//!      n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype   (hyper-parameters)
//! i32  filters.n_mel, i32 filters.n_fft, f32 data[n_mel * n_fft]          (mel filter bank)
//! i32  vocabulary size, then per token: u32 byte length, bytes            (ids 0..n-1)
//! per tensor, until end of file:
//!   i32 n_dims, i32 name length, i32 type (0 f32, 1 f16)
//!   i32 dims[n_dims]           innermost first: the reverse of the row-major shape
//!   bytes name
//!   data                       row-major, f32 or f16
//! ```

use std::io::Write;

use ownvoice_features::mel::MelFilters;

/// The ggml file magic, "ggml" as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;

/// Whisper hyper-parameters, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    /// 0 = all f32, 1 = 2-D weights in f16.
    pub ftype: i32,
}

impl Hparams {
    fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }
}

/// Tensor data: f32 values or IEEE f16 bit patterns.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F16(Vec<u16>),
}

impl TensorData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            TensorData::F32(v) => v.clone(),
            TensorData::F16(v) => v
                .iter()
                .map(|&b| half::f16::from_bits(b).to_f32())
                .collect(),
        }
    }
}

/// A named tensor with its row-major shape (as in PyTorch: `[out, in]` for a linear weight).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// A complete whisper.cpp model.
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperGgml {
    pub hparams: Hparams,
    /// Mel filter bank `[n_mels, n_fft/2 + 1]`.
    pub mel_filters: MelFilters,
    /// Token byte strings for ids `0..vocab.len()` (special tokens are added by whisper.cpp).
    pub vocab: Vec<Vec<u8>>,
    pub tensors: Vec<Tensor>,
}

/// Errors reading a ggml model.
#[derive(Debug, thiserror::Error)]
pub enum GgmlError {
    #[error("not a whisper.cpp ggml model (bad magic)")]
    Magic,
    #[error("truncated ggml model: {0} ends early")]
    Truncated(&'static str),
    #[error("malformed ggml model: {0}")]
    Malformed(String),
}

impl WhisperGgml {
    /// Serialises the model.
    pub fn write_to<W: Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(&MAGIC.to_le_bytes())?;
        for v in self.hparams.to_array() {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&(self.mel_filters.n_mels as i32).to_le_bytes())?;
        w.write_all(&(self.mel_filters.n_freqs as i32).to_le_bytes())?;
        for x in &self.mel_filters.weights {
            w.write_all(&x.to_le_bytes())?;
        }
        w.write_all(&(self.vocab.len() as i32).to_le_bytes())?;
        for tok in &self.vocab {
            w.write_all(&(tok.len() as u32).to_le_bytes())?;
            w.write_all(tok)?;
        }
        for t in &self.tensors {
            let ttype: i32 = match t.data {
                TensorData::F32(_) => 0,
                TensorData::F16(_) => 1,
            };
            w.write_all(&(t.shape.len() as i32).to_le_bytes())?;
            w.write_all(&(t.name.len() as i32).to_le_bytes())?;
            w.write_all(&ttype.to_le_bytes())?;
            for &d in t.shape.iter().rev() {
                w.write_all(&(d as i32).to_le_bytes())?;
            }
            w.write_all(t.name.as_bytes())?;
            let mut buf = Vec::with_capacity(t.data.len() * 4);
            match &t.data {
                TensorData::F32(v) => v
                    .iter()
                    .for_each(|x| buf.extend_from_slice(&x.to_le_bytes())),
                TensorData::F16(v) => v
                    .iter()
                    .for_each(|x| buf.extend_from_slice(&x.to_le_bytes())),
            }
            w.write_all(&buf)?;
        }
        Ok(())
    }

    /// Serialises the model to a byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Parses a model in one pass over `bytes`.
    ///
    /// # Errors
    /// [`GgmlError`]; never panics on arbitrary input.
    pub fn parse(bytes: &[u8]) -> Result<WhisperGgml, GgmlError> {
        let mut c = Reader { buf: bytes, pos: 0 };
        if c.u32("magic")? != MAGIC {
            return Err(GgmlError::Magic);
        }
        let mut h = [0i32; 11];
        for v in h.iter_mut() {
            *v = c.i32("hyper-parameters")?;
        }
        let hparams = Hparams {
            n_vocab: h[0],
            n_audio_ctx: h[1],
            n_audio_state: h[2],
            n_audio_head: h[3],
            n_audio_layer: h[4],
            n_text_ctx: h[5],
            n_text_state: h[6],
            n_text_head: h[7],
            n_text_layer: h[8],
            n_mels: h[9],
            ftype: h[10],
        };
        let n_mels = c.count("mel filter rows")?;
        let n_freqs = c.count("mel filter columns")?;
        let n = n_mels
            .checked_mul(n_freqs)
            .ok_or_else(|| GgmlError::Malformed("mel filter size overflows".into()))?;
        let weights = c.f32s(n, "mel filters")?;
        let n_vocab = c.count("vocabulary size")?;
        let mut vocab = Vec::with_capacity(n_vocab.min(1 << 20));
        for _ in 0..n_vocab {
            let len = c.u32("token length")? as usize;
            vocab.push(c.take(len, "token")?.to_vec());
        }
        let mut tensors = Vec::new();
        while c.pos < bytes.len() {
            let n_dims = c.count("tensor rank")?;
            if n_dims > 4 {
                return Err(GgmlError::Malformed(format!("tensor rank {n_dims} > 4")));
            }
            let name_len = c.count("tensor name length")?;
            let ttype = c.i32("tensor type")?;
            let mut shape = Vec::with_capacity(n_dims);
            for _ in 0..n_dims {
                shape.push(c.count("tensor dimension")?);
            }
            shape.reverse();
            let name = String::from_utf8(c.take(name_len, "tensor name")?.to_vec())
                .map_err(|_| GgmlError::Malformed("tensor name is not UTF-8".into()))?;
            let n: usize = shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .ok_or_else(|| GgmlError::Malformed(format!("{name}: shape overflows")))?;
            let data = match ttype {
                0 => TensorData::F32(c.f32s(n, "tensor data")?),
                1 => TensorData::F16(c.u16s(n, "tensor data")?),
                t => {
                    return Err(GgmlError::Malformed(format!(
                        "{name}: tensor type {t} (only f32/f16)"
                    )))
                }
            };
            tensors.push(Tensor { name, shape, data });
        }
        Ok(WhisperGgml {
            hparams,
            mel_filters: MelFilters {
                n_mels,
                n_freqs,
                weights,
            },
            vocab,
            tensors,
        })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], GgmlError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(GgmlError::Truncated(what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, GgmlError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, GgmlError> {
        Ok(self.u32(what)? as i32)
    }
    fn count(&mut self, what: &'static str) -> Result<usize, GgmlError> {
        let v = self.i32(what)?;
        usize::try_from(v).map_err(|_| GgmlError::Malformed(format!("negative {what}: {v}")))
    }
    fn f32s(&mut self, n: usize, what: &'static str) -> Result<Vec<f32>, GgmlError> {
        let b = self.take(n.checked_mul(4).ok_or(GgmlError::Truncated(what))?, what)?;
        Ok(b.chunks_exact(4)
            .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
            .collect())
    }
    fn u16s(&mut self, n: usize, what: &'static str) -> Result<Vec<u16>, GgmlError> {
        let b = self.take(n.checked_mul(2).ok_or(GgmlError::Truncated(what))?, what)?;
        Ok(b.chunks_exact(2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WhisperGgml {
        WhisperGgml {
            hparams: Hparams {
                n_vocab: 3,
                n_audio_ctx: 2,
                n_audio_state: 4,
                n_audio_head: 1,
                n_audio_layer: 1,
                n_text_ctx: 2,
                n_text_state: 4,
                n_text_head: 1,
                n_text_layer: 1,
                n_mels: 2,
                ftype: 1,
            },
            mel_filters: MelFilters {
                n_mels: 2,
                n_freqs: 3,
                weights: vec![0.0, 0.5, 1.0, 1.0, 0.5, 0.0],
            },
            vocab: vec![b"a".to_vec(), b" the".to_vec(), vec![0xff]],
            tensors: vec![
                Tensor {
                    name: "encoder.conv1.bias".into(),
                    shape: vec![4, 1],
                    data: TensorData::F32(vec![1.0, 2.0, 3.0, 4.0]),
                },
                Tensor {
                    name: "decoder.token_embedding.weight".into(),
                    shape: vec![3, 4],
                    data: TensorData::F16(
                        (0..12)
                            .map(|i| half::f16::from_f32(i as f32).to_bits())
                            .collect(),
                    ),
                },
            ],
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let m = sample();
        let bytes = m.to_bytes();
        assert_eq!(&bytes[0..4], b"lmgg");
        assert_eq!(WhisperGgml::parse(&bytes).unwrap(), m);
    }

    #[test]
    fn dims_are_written_innermost_first() {
        let bytes = sample().to_bytes();
        let name = b"decoder.token_embedding.weight";
        let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
        // Header before the name: n_dims, name_len, type, dims[2] (reversed: 4 then 3).
        let dims = &bytes[at - 8..at];
        assert_eq!(dims, [4, 0, 0, 0, 3, 0, 0, 0]);
    }

    #[test]
    fn truncations_are_errors() {
        let bytes = sample().to_bytes();
        for n in 0..bytes.len() {
            // A cut that falls exactly between two tensors is a valid, shorter model.
            if let Ok(m) = WhisperGgml::parse(&bytes[..n]) {
                assert!(m.tensors.len() < 2);
            }
        }
    }
}
