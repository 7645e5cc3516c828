//! Training checkpoints: the adapters after an epoch and the best ones so far, so an interrupted
//! adaptation resumes where it stopped. The caller keeps the bytes inside the person's encrypted
//! profile, never in a plaintext file. (AdamW's moment estimates are not kept: a resumed run
//! restarts them, after its warm-up.)
//!
//! Layout (little-endian): magic `OVADAPT1`, u64 fingerprint of the settings, u32 epoch, u32
//! step, u32 best epoch, f32 best held-back loss, f32 held-back loss before training, then two
//! tensor lists (the current adapters, the best adapters), each a u32 count and per tensor: u16
//! name length, name, u8 rank, u32 dims, f32 data.

use candle_core::{Device, Result, Tensor};

const MAGIC: &[u8; 8] = b"OVADAPT1";

/// The state of a training run after an epoch.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Fingerprint of the settings and data the run was started with.
    pub fingerprint: u64,
    /// Last completed epoch and the steps taken so far.
    pub epoch: usize,
    pub step: usize,
    pub best_epoch: usize,
    pub best_loss: f32,
    pub loss_before: f32,
    /// Adapter values by name, now and at the best epoch.
    pub adapters: Vec<(String, Tensor)>,
    pub best: Vec<(String, Tensor)>,
}

/// FNV-1a of `text`: a fingerprint of a run's settings.
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn put_tensors(out: &mut Vec<u8>, list: &[(String, Tensor)]) -> Result<()> {
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for (name, t) in list {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(t.rank() as u8);
        for &d in t.dims() {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        for v in t.flatten_all()?.to_vec1::<f32>()? {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(())
}

impl Checkpoint {
    /// Serialises the checkpoint.
    ///
    /// # Errors
    /// candle errors (tensors that are not f32).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.fingerprint.to_le_bytes());
        for v in [self.epoch, self.step, self.best_epoch] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&self.best_loss.to_le_bytes());
        out.extend_from_slice(&self.loss_before.to_le_bytes());
        put_tensors(&mut out, &self.adapters)?;
        put_tensors(&mut out, &self.best)?;
        Ok(out)
    }

    /// Parses a checkpoint.
    ///
    /// # Errors
    /// A malformed or truncated checkpoint.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Checkpoint> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            candle_core::bail!("not an adaptation checkpoint");
        }
        let fingerprint = u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
        let epoch = r.u32()? as usize;
        let step = r.u32()? as usize;
        let best_epoch = r.u32()? as usize;
        let best_loss = f32::from_bits(r.u32()?);
        let loss_before = f32::from_bits(r.u32()?);
        let adapters = r.tensors(device)?;
        let best = r.tensors(device)?;
        Ok(Checkpoint {
            fingerprint,
            epoch,
            step,
            best_epoch,
            best_loss,
            loss_before,
            adapters,
            best,
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            candle_core::bail!("truncated adaptation checkpoint");
        };
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn tensors(&mut self, device: &Device) -> Result<Vec<(String, Tensor)>> {
        let n = self.u32()? as usize;
        let mut out = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let len = u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")) as usize;
            let name = String::from_utf8_lossy(self.take(len)?).into_owned();
            let rank = self.take(1)?[0] as usize;
            let dims = (0..rank)
                .map(|_| self.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>>>()?;
            let count: usize = dims.iter().product();
            let data: Vec<f32> = self
                .take(count.saturating_mul(4))?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            out.push((name, Tensor::from_vec(data, dims, device)?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let dev = Device::Cpu;
        let t = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], (2, 3), &dev).unwrap();
        let c = Checkpoint {
            fingerprint: fingerprint("rank 8"),
            epoch: 2,
            step: 14,
            best_epoch: 1,
            best_loss: 0.5,
            loss_before: 0.9,
            adapters: vec![("a.lora_a".into(), t.clone())],
            best: vec![("a.lora_a".into(), (t * 2.0).unwrap())],
        };
        let b = c.to_bytes().unwrap();
        let back = Checkpoint::from_bytes(&b, &dev).unwrap();
        assert_eq!((back.epoch, back.step, back.best_epoch), (2, 14, 1));
        assert_eq!(
            back.best[0]
                .1
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()[5],
            12.0
        );
        for n in [0, 10, b.len() - 1] {
            assert!(Checkpoint::from_bytes(&b[..n], &dev).is_err());
        }
    }
}
