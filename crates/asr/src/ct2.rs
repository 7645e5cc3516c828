//! Reader of CTranslate2 model files (`model.bin`), binary format version 6.
//!
//! Layout (little-endian; source: CTranslate2 `src/models/model.cc`, `Model::load`):
//!
//! ```text
//! u32     binary version (6)
//! str     spec name, e.g. "WhisperSpec"        str = u16 byte length, bytes incl. a trailing NUL
//! u32     spec revision
//! u32     variable count
//! per variable:
//!   str   name, e.g. "encoder/layer_0/self_attention/linear_0/weight"
//!   u8    rank
//!   u32   dims[rank]
//!   u8    dtype: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16
//!   u32   byte count
//!   bytes data (row-major)
//! u32     alias count
//! per alias: str alias name, str target name
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The binary format version this reader understands.
pub const SUPPORTED_VERSION: u32 = 6;

/// Element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One named array of a CTranslate2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Dimensions, row-major (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Raw little-endian data, `shape.product() * dtype.size()` bytes.
    pub data: Vec<u8>,
}

impl Variable {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a variable with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data converted to `f32` (for float types), or `None` for integer types.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        let d = &self.data;
        Some(match self.dtype {
            DType::F32 => d
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F16 => d
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::BF16 => d
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => return None,
        })
    }

    /// The data as IEEE half floats (`u16` bits), converting from f32/bf16 when needed.
    pub fn to_f16_bits(&self) -> Option<Vec<u16>> {
        if self.dtype == DType::F16 {
            return Some(
                self.data
                    .chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect(),
            );
        }
        Some(
            self.to_f32()?
                .into_iter()
                .map(|x| half::f16::from_f32(x).to_bits())
                .collect(),
        )
    }

    /// The value of an integer or float scalar (rank 0) as `i64`.
    pub fn scalar_i64(&self) -> Option<i64> {
        if self.len() != 1 {
            return None;
        }
        let d = &self.data;
        Some(match self.dtype {
            DType::I8 => d[0] as i8 as i64,
            DType::I16 => i16::from_le_bytes([d[0], d[1]]) as i64,
            DType::I32 => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => self.to_f32()?[0] as i64,
        })
    }
}

/// A parsed CTranslate2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Model {
    /// Binary format version.
    pub version: u32,
    /// Model specification name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Specification revision.
    pub spec_revision: u32,
    /// Variables by name.
    pub variables: BTreeMap<String, Variable>,
    /// Alias name → target variable name (e.g. a tied output projection).
    pub aliases: BTreeMap<String, String>,
}

impl Ct2Model {
    /// Looks a variable up by name, following aliases.
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables
            .get(name)
            .or_else(|| self.variables.get(self.aliases.get(name)?))
    }
}

/// Errors reading a CTranslate2 model.
#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The data ended before the structure did.
    #[error("truncated CTranslate2 model: {0} ends early")]
    Truncated(&'static str),
    /// A version other than [`SUPPORTED_VERSION`].
    #[error(
        "unsupported CTranslate2 binary version {0} (ownvoice reads version {SUPPORTED_VERSION})"
    )]
    Version(u32),
    /// A malformed field.
    #[error("malformed CTranslate2 model: {0}")]
    Malformed(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(Ct2Error::Truncated(what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, Ct2Error> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, Ct2Error> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, Ct2Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A u16-length-prefixed, NUL-terminated string.
    fn string(&mut self, what: &'static str) -> Result<String, Ct2Error> {
        let n = self.u16(what)? as usize;
        let b = self.take(n, what)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec())
            .map_err(|_| Ct2Error::Malformed(format!("{what} is not UTF-8")))
    }
}

/// Parses a CTranslate2 `model.bin` held in memory.
///
/// # Errors
/// [`Ct2Error::Version`], [`Ct2Error::Truncated`] or [`Ct2Error::Malformed`]; never panics on
/// arbitrary input.
pub fn parse(bytes: &[u8]) -> Result<Ct2Model, Ct2Error> {
    let mut c = Cursor { buf: bytes, pos: 0 };
    let version = c.u32("binary version")?;
    if version != SUPPORTED_VERSION {
        return Err(Ct2Error::Version(version));
    }
    let spec = c.string("spec name")?;
    let spec_revision = c.u32("spec revision")?;
    let n_vars = c.u32("variable count")?;
    let mut variables = BTreeMap::new();
    for _ in 0..n_vars {
        let name = c.string("variable name")?;
        let rank = c.u8("variable rank")? as usize;
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(c.u32("variable dimension")? as usize);
        }
        let code = c.u8("variable dtype")?;
        let dtype = DType::from_code(code)
            .ok_or_else(|| Ct2Error::Malformed(format!("{name}: unknown dtype code {code}")))?;
        let n_bytes = c.u32("variable byte count")? as usize;
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Ct2Error::Malformed(format!("{name}: shape {shape:?} overflows")))?;
        if n_bytes != expected {
            return Err(Ct2Error::Malformed(format!(
                "{name}: {n_bytes} bytes for shape {shape:?} of {dtype:?}"
            )));
        }
        let data = c.take(n_bytes, "variable data")?.to_vec();
        variables.insert(name, Variable { shape, dtype, data });
    }
    let n_aliases = c.u32("alias count")?;
    let mut aliases = BTreeMap::new();
    for _ in 0..n_aliases {
        let alias = c.string("alias name")?;
        let target = c.string("alias target")?;
        aliases.insert(alias, target);
    }
    Ok(Ct2Model {
        version,
        spec,
        spec_revision,
        variables,
        aliases,
    })
}

/// Reads and parses a CTranslate2 `model.bin` file.
///
/// # Errors
/// [`Ct2Error::Io`] naming the file, or the errors of [`parse`].
pub fn read_file(path: &Path) -> Result<Ct2Model, Ct2Error> {
    let bytes = std::fs::read(path).map_err(|source| Ct2Error::Io {
        path: path.into(),
        source,
    })?;
    parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// A tiny model in the version-6 layout: one f16 matrix, one i16 scalar, one alias.
    pub(crate) fn tiny_model() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        string(&mut b, "w");
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.push(4);
        b.extend_from_slice(&12u32.to_le_bytes());
        for i in 0..6 {
            b.extend_from_slice(&half::f16::from_f32(i as f32).to_le_bytes());
        }
        string(&mut b, "encoder/num_heads");
        b.push(0);
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&6i16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        string(&mut b, "proj");
        string(&mut b, "w");
        b
    }

    #[test]
    fn parses_every_field() {
        let m = parse(&tiny_model()).unwrap();
        assert_eq!(
            (m.version, m.spec.as_str(), m.spec_revision),
            (6, "WhisperSpec", 3)
        );
        let w = m.get("proj").unwrap();
        assert_eq!(w.shape, vec![2, 3]);
        assert_eq!(w.to_f32().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m.get("encoder/num_heads").unwrap().scalar_i64(), Some(6));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let full = tiny_model();
        for n in 0..full.len() {
            assert!(parse(&full[..n]).is_err(), "prefix of {n} bytes parsed");
        }
    }

    #[test]
    fn wrong_version_is_named() {
        let mut b = tiny_model();
        b[0] = 9;
        assert!(matches!(parse(&b), Err(Ct2Error::Version(9))));
    }
}
