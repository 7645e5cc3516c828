//! Reader of PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, enough for a checkpoint of
//! float tensors such as Resemblyzer's `pretrained.pt`.
//!
//! Layout (torch/serialization.py, `_legacy_save` / `_legacy_load`), one pickle after another:
//!
//! ```text
//! pickle  magic number 0x1950a86a20f9469cfc6c
//! pickle  protocol version 1001
//! pickle  sys info dict (endianness, type sizes)
//! pickle  the object; each tensor is torch._utils._rebuild_tensor_v2(storage, offset, size,
//!         stride, requires_grad, hooks) and each storage a persistent id
//!         ("storage", storage type, key, location, numel, view metadata)
//! pickle  the list of storage keys, in the order their data follows
//! per key: u64 element count, then the elements (little-endian)
//! ```
//!
//! The unpickler implements the protocol-2 opcodes such files use (Python's `pickletools` names
//! them) and builds plain values; nothing is executed and no class is looked up.

use std::collections::HashMap;

/// A value from a pickle.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer beyond i64 (`LONG1` of up to 16 bytes).
    Long(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// `GLOBAL module name`.
    Global(String, String),
    /// `callable(*args)` from `REDUCE`, with state from `BUILD` if any.
    Call(Box<Value>, Vec<Value>),
    /// A persistent id (`BINPERSID`).
    Persistent(Box<Value>),
}

const MAGIC: i128 = 0x1950a86a20f9469cfc6c;
const PROTOCOL: i64 = 1001;

/// A float tensor: shape and row-major data.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("ends early at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn line(&mut self) -> Result<String, String> {
        let rest = &self.buf[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated line")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    fn string(&mut self, n: usize) -> Result<String, String> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a string is not UTF-8".into())
    }

    /// Reads one pickle up to its STOP opcode.
    fn pickle(&mut self) -> Result<Value, String> {
        let mut stack: Vec<Value> = Vec::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut memo: HashMap<u32, Value> = HashMap::new();
        let pop = |stack: &mut Vec<Value>| stack.pop().ok_or("stack underflow".to_string());
        let since_mark = |stack: &mut Vec<Value>, marks: &mut Vec<usize>| {
            let m = marks.pop().ok_or("no mark")?;
            if m > stack.len() {
                return Err("mark beyond the stack".to_string());
            }
            Ok::<Vec<Value>, String>(stack.split_off(m))
        };
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO n
                }
                b'.' => return pop(&mut stack),  // STOP
                b'(' => marks.push(stack.len()), // MARK
                b'N' => stack.push(Value::None),
                0x88 => stack.push(Value::Bool(true)),
                0x89 => stack.push(Value::Bool(false)),
                b'J' => stack.push(Value::Int(self.u32()? as i32 as i64)), // BININT
                b'K' => stack.push(Value::Int(self.u8()? as i64)),         // BININT1
                b'M' => stack.push(Value::Int(self.u16()? as i64)),        // BININT2
                0x8a => {
                    // LONG1: little-endian two's complement of n bytes
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 16 {
                        return Err(format!("a {n}-byte integer"));
                    }
                    let mut v: i128 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= (x as i128) << (8 * i);
                    }
                    if n > 0 && n < 16 && b[n - 1] & 0x80 != 0 {
                        v -= 1i128 << (8 * n);
                    }
                    stack.push(match i64::try_from(v) {
                        Ok(i) => Value::Int(i),
                        Err(_) => Value::Long(v),
                    });
                }
                b'G' => stack.push(Value::Float(f64::from_be_bytes(
                    self.take(8)?.try_into().expect("8 bytes"),
                ))),
                b'X' => {
                    let n = self.u32()? as usize; // BINUNICODE
                    stack.push(Value::Str(self.string(n)?));
                }
                0x8c => {
                    let n = self.u8()? as usize; // SHORT_BINUNICODE
                    stack.push(Value::Str(self.string(n)?));
                }
                b'U' => {
                    let n = self.u8()? as usize; // SHORT_BINSTRING
                    stack.push(Value::Str(
                        String::from_utf8_lossy(self.take(n)?).into_owned(),
                    ));
                }
                b'T' => {
                    let n = self.u32()? as usize; // BINSTRING
                    stack.push(Value::Str(
                        String::from_utf8_lossy(self.take(n)?).into_owned(),
                    ));
                }
                b'C' => {
                    let n = self.u8()? as usize; // SHORT_BINBYTES
                    stack.push(Value::Bytes(self.take(n)?.to_vec()));
                }
                b'B' => {
                    let n = self.u32()? as usize; // BINBYTES
                    stack.push(Value::Bytes(self.take(n)?.to_vec()));
                }
                b')' => stack.push(Value::Tuple(vec![])),
                b't' => {
                    let items = since_mark(&mut stack, &mut marks)?;
                    stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize; // TUPLE1..3
                    if stack.len() < n {
                        return Err("stack underflow".into());
                    }
                    let items = stack.split_off(stack.len() - n);
                    stack.push(Value::Tuple(items));
                }
                b']' => stack.push(Value::List(vec![])),
                b'l' => {
                    let items = since_mark(&mut stack, &mut marks)?;
                    stack.push(Value::List(items));
                }
                b'}' => stack.push(Value::Dict(vec![])),
                b'a' | b'e' => {
                    let items = if op == b'a' {
                        vec![pop(&mut stack)?]
                    } else {
                        since_mark(&mut stack, &mut marks)?
                    };
                    match stack.last_mut() {
                        Some(Value::List(l)) => l.extend(items),
                        _ => return Err("APPEND to a non-list".into()),
                    }
                }
                b's' | b'u' => {
                    let items = if op == b's' {
                        let v = pop(&mut stack)?;
                        let k = pop(&mut stack)?;
                        vec![k, v]
                    } else {
                        since_mark(&mut stack, &mut marks)?
                    };
                    if items.len() % 2 != 0 {
                        return Err("SETITEMS with an odd count".into());
                    }
                    let pairs = items
                        .chunks_exact(2)
                        .map(|kv| (kv[0].clone(), kv[1].clone()));
                    match stack.last_mut() {
                        Some(Value::Dict(d)) => d.extend(pairs),
                        // An OrderedDict() built by REDUCE: keep its items as a dict.
                        Some(v @ Value::Call(..)) => *v = Value::Dict(pairs.collect()),
                        _ => return Err("SETITEM on a non-dict".into()),
                    }
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    stack.push(Value::Global(module, name));
                }
                b'R' => {
                    let args = pop(&mut stack)?;
                    let f = pop(&mut stack)?;
                    let args = match args {
                        Value::Tuple(a) => a,
                        other => vec![other],
                    };
                    stack.push(Value::Call(Box::new(f), args));
                }
                b'b' => {
                    pop(&mut stack)?; // BUILD: state ignored (tensor hooks, object dicts)
                }
                b'Q' => {
                    let pid = pop(&mut stack)?;
                    stack.push(Value::Persistent(Box::new(pid)));
                }
                b'q' => {
                    let i = self.u8()? as u32; // BINPUT
                    memo.insert(i, stack.last().ok_or("PUT on empty stack")?.clone());
                }
                b'r' => {
                    let i = self.u32()?; // LONG_BINPUT
                    memo.insert(i, stack.last().ok_or("PUT on empty stack")?.clone());
                }
                b'h' => {
                    let i = self.u8()? as u32; // BINGET
                    stack.push(memo.get(&i).cloned().ok_or("GET of an unknown memo")?);
                }
                b'j' => {
                    let i = self.u32()?; // LONG_BINGET
                    stack.push(memo.get(&i).cloned().ok_or("GET of an unknown memo")?);
                }
                other => return Err(format!("unsupported pickle opcode {other:#04x}")),
            }
            if stack.len() > 1 << 20 {
                return Err("pickle stack too deep".into());
            }
        }
    }
}

fn dict_get<'v>(d: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    d.iter()
        .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
        .map(|(_, v)| v)
}

fn ints(v: &Value) -> Result<Vec<usize>, String> {
    match v {
        Value::Tuple(items) => items
            .iter()
            .map(|x| match x {
                Value::Int(i) if *i >= 0 => Ok(*i as usize),
                _ => Err("a size or stride is not a non-negative integer".to_string()),
            })
            .collect(),
        _ => Err("sizes are not a tuple".into()),
    }
}

/// Reads the float tensors of the dict under `key` (e.g. `model_state`) of a legacy checkpoint,
/// by name, in file order.
///
/// # Errors
/// A message: not a legacy PyTorch file, an unsupported opcode, a tensor that is not float32 or
/// not contiguous, storage data that ends early.
pub fn read_state_dict(bytes: &[u8], key: &str) -> Result<Vec<(String, FloatTensor)>, String> {
    let mut r = Reader { buf: bytes, pos: 0 };
    if r.pickle()? != Value::Long(MAGIC) {
        return Err("not a legacy PyTorch file (no magic number)".into());
    }
    if r.pickle()? != Value::Int(PROTOCOL) {
        return Err("unknown PyTorch protocol version".into());
    }
    r.pickle()?; // sys info
    let root = r.pickle()?;
    let keys = match r.pickle()? {
        Value::List(k) => k,
        _ => return Err("no storage key list".into()),
    };
    // Storage data, in key order.
    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    for k in keys {
        let Value::Str(k) = k else {
            return Err("a storage key is not a string".into());
        };
        let n = r.u64()? as usize;
        let raw = r.take(n.checked_mul(4).ok_or("storage size overflows")?)?;
        let data = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        storages.insert(k, data);
    }
    let Value::Dict(top) = root else {
        return Err("the checkpoint is not a dict".into());
    };
    let Some(Value::Dict(state)) = dict_get(&top, key) else {
        return Err(format!("no dict {key:?} in the checkpoint"));
    };
    let mut out = Vec::new();
    for (name, v) in state {
        let Value::Str(name) = name else { continue };
        let Value::Call(f, args) = v else {
            return Err(format!("{name}: not a tensor"));
        };
        if **f != Value::Global("torch._utils".into(), "_rebuild_tensor_v2".into()) {
            return Err(format!("{name}: not a tensor ({f:?})"));
        }
        let [Value::Persistent(pid), Value::Int(offset), size, stride, ..] = args.as_slice() else {
            return Err(format!("{name}: unexpected tensor arguments"));
        };
        let Value::Tuple(pid) = &**pid else {
            return Err(format!("{name}: unexpected storage id"));
        };
        let [_, Value::Global(_, storage_type), Value::Str(skey), ..] = pid.as_slice() else {
            return Err(format!("{name}: unexpected storage id"));
        };
        if storage_type != "FloatStorage" {
            return Err(format!("{name}: {storage_type}, only float32 is read"));
        }
        let shape = ints(size)?;
        let strides = ints(stride)?;
        let mut expect = 1usize;
        for (d, s) in shape.iter().zip(&strides).rev() {
            if *d > 1 && *s != expect {
                return Err(format!("{name}: not contiguous"));
            }
            expect = expect.saturating_mul(*d);
        }
        let n: usize = shape.iter().product();
        let storage = storages
            .get(skey)
            .ok_or_else(|| format!("{name}: storage {skey} missing"))?;
        let start = usize::try_from(*offset).map_err(|_| format!("{name}: negative offset"))?;
        let data = storage
            .get(start..start.checked_add(n).ok_or("size overflows")?)
            .ok_or_else(|| format!("{name}: beyond its storage"))?
            .to_vec();
        out.push((name.clone(), FloatTensor { shape, data }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_opcodes() {
        // pickle.dumps({'a': (1, -2, 'x')}, protocol=2)
        let p = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01J\xfe\xff\xff\xffX\x01\x00\x00\x00xq\x02\x87q\x03s.";
        let v = Reader { buf: p, pos: 0 }.pickle().unwrap();
        assert_eq!(
            v,
            Value::Dict(vec![(
                Value::Str("a".into()),
                Value::Tuple(vec![Value::Int(1), Value::Int(-2), Value::Str("x".into())])
            )])
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x80\x02",
            b"\x80\x02t.",
            b"\x80\x02h\x05.",
            b"\xff",
        ] {
            assert!(read_state_dict(bytes, "model_state").is_err());
        }
    }
}
