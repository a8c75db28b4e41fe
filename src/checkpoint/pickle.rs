//! A restricted, code-free reader for the Python pickles inside PyTorch `.pth` files.
//!
//! A pickle is a small stack machine whose `GLOBAL` + `REDUCE` opcodes can call any Python
//! function; that is how a hostile `.pth` runs code under `torch.load`. This reader executes
//! nothing: it understands only the opcodes a `state_dict` needs, resolves only an allow-list of
//! globals (ordered dicts, tensor rebuild functions, storage types) into inert markers, and
//! rejects anything else with an error naming the opcode or the global. Every count is bounded
//! (stack depth, memo size, container sizes, string lengths) so a crafted file cannot exhaust
//! memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Why a pickle could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PickleError {
    #[error("the pickle ends early (truncated file?) at byte {0}")]
    Truncated(usize),
    #[error("pickle opcode {name} (0x{code:02x}) at byte {pos} is not allowed in a state dict")]
    ForbiddenOpcode {
        name: &'static str,
        code: u8,
        pos: usize,
    },
    #[error("unknown pickle opcode 0x{code:02x} at byte {pos} (not a pickle, or a corrupt one)")]
    UnknownOpcode { code: u8, pos: usize },
    #[error(
        "pickle global `{0}` is not allowed: a state dict never needs it (the file may try to run code)"
    )]
    ForbiddenGlobal(String),
    #[error("malformed pickle at byte {pos}: {what}")]
    Malformed { pos: usize, what: String },
    #[error("pickle exceeds a safety limit: {0}")]
    Limit(String),
}

/// A Python global that the allow-list resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    /// `collections.OrderedDict`
    OrderedDict,
    /// `torch._utils._rebuild_tensor_v2` (or the older `_rebuild_tensor`)
    RebuildTensor,
    /// `torch._utils._rebuild_parameter`: a `Parameter` wrapping a tensor
    RebuildParameter,
    /// A typed storage class such as `torch.FloatStorage`
    Storage(StorageDtype),
    /// `torch.float32` and friends, used by newer serialisers next to untyped storages
    Dtype(StorageDtype),
    /// `torch.UntypedStorage` / `torch.storage.UntypedStorage`
    UntypedStorage,
}

/// Element type of a storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageDtype {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl StorageDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            StorageDtype::F64 | StorageDtype::I64 => 8,
            StorageDtype::F32 | StorageDtype::I32 => 4,
            StorageDtype::F16 | StorageDtype::BF16 | StorageDtype::I16 => 2,
            StorageDtype::I8 | StorageDtype::U8 | StorageDtype::Bool => 1,
        }
    }

    /// Whether the type holds floating-point numbers.
    pub fn is_float(self) -> bool {
        matches!(
            self,
            StorageDtype::F32 | StorageDtype::F64 | StorageDtype::F16 | StorageDtype::BF16
        )
    }

    fn from_storage_name(name: &str) -> Option<Self> {
        Some(match name {
            "FloatStorage" => StorageDtype::F32,
            "DoubleStorage" => StorageDtype::F64,
            "HalfStorage" => StorageDtype::F16,
            "BFloat16Storage" => StorageDtype::BF16,
            "LongStorage" => StorageDtype::I64,
            "IntStorage" => StorageDtype::I32,
            "ShortStorage" => StorageDtype::I16,
            "CharStorage" => StorageDtype::I8,
            "ByteStorage" => StorageDtype::U8,
            "BoolStorage" => StorageDtype::Bool,
            _ => return None,
        })
    }

    fn from_dtype_name(name: &str) -> Option<Self> {
        Some(match name {
            "float32" | "float" => StorageDtype::F32,
            "float64" | "double" => StorageDtype::F64,
            "float16" | "half" => StorageDtype::F16,
            "bfloat16" => StorageDtype::BF16,
            "int64" | "long" => StorageDtype::I64,
            "int32" | "int" => StorageDtype::I32,
            "int16" | "short" => StorageDtype::I16,
            "int8" => StorageDtype::I8,
            "uint8" => StorageDtype::U8,
            "bool" => StorageDtype::Bool,
            _ => return None,
        })
    }
}

/// A mutable container shared between the stack and the memo, as in Python.
pub type Shared<T> = Rc<RefCell<T>>;

/// A value on the pickle machine's stack.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits (only torch's legacy magic number), as its low 128 bits.
    BigInt(u128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Rc<Vec<Value>>),
    List(Shared<Vec<Value>>),
    /// A dict (plain or ordered), kept in insertion order.
    Dict(Shared<Vec<(Value, Value)>>),
    Global(Global),
    /// The result of calling an allowed global; `args` are its call arguments.
    Call(Global, Rc<Vec<Value>>),
    /// A persistent id (`BINPERSID`), which torch uses for storages.
    PersistentId(Rc<Value>),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// Items of a tuple or list.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Tuple(t) => Some(t.as_ref().clone()),
            Value::List(l) => Some(l.borrow().clone()),
            _ => None,
        }
    }

    /// A short description for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Call(..) => "object",
            Value::PersistentId(_) => "persistent id",
        }
    }
}

/// Safety limits of the reader.
const MAX_STACK: usize = 100_000;
const MAX_MEMO: usize = 1_000_000;
const MAX_MARK_DEPTH: usize = 10_000;
const MAX_OPS: usize = 50_000_000;

/// Resolve `module.name` against the allow-list.
fn resolve_global(module: &str, name: &str) -> Result<Global, PickleError> {
    let g = match (module, name) {
        ("collections", "OrderedDict") => Global::OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
            Global::RebuildTensor
        }
        ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
        ("torch", "UntypedStorage") | ("torch.storage", "UntypedStorage") => Global::UntypedStorage,
        ("torch", n) => {
            if let Some(d) = StorageDtype::from_storage_name(n) {
                Global::Storage(d)
            } else if let Some(d) = StorageDtype::from_dtype_name(n) {
                Global::Dtype(d)
            } else {
                return Err(PickleError::ForbiddenGlobal(format!("{module}.{name}")));
            }
        }
        _ => return Err(PickleError::ForbiddenGlobal(format!("{module}.{name}"))),
    };
    Ok(g)
}

/// Reads one pickle from the start of `data`; returns the value and the number of bytes used.
pub fn read_pickle(data: &[u8]) -> Result<(Value, usize), PickleError> {
    Machine::new(data).run()
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
}

impl<'a> Machine<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(PickleError::Truncated(self.pos))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, PickleError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, PickleError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }

    /// A length-prefixed byte run whose length is checked against the rest of the file.
    fn sized(&mut self, len: u64) -> Result<&'a [u8], PickleError> {
        let len = usize::try_from(len).map_err(|_| PickleError::Truncated(self.pos))?;
        self.take(len)
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let nl = rest
            .iter()
            .take(4096)
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated(self.pos))?;
        let s = std::str::from_utf8(&rest[..nl]).map_err(|_| self.malformed("non-UTF-8 text"))?;
        self.pos += nl + 1;
        Ok(s)
    }

    fn malformed(&self, what: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            pos: self.pos,
            what: what.into(),
        }
    }

    fn push(&mut self, v: Value) -> Result<(), PickleError> {
        if self.stack.len() >= MAX_STACK {
            return Err(PickleError::Limit(format!("stack deeper than {MAX_STACK}")));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("pop from an empty stack"));
        }
        Ok(self.stack.pop().unwrap())
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        let pos = self.pos;
        self.stack.last_mut().ok_or(PickleError::Malformed {
            pos,
            what: "empty stack".into(),
        })
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| self.malformed("no MARK on the stack"))?;
        if m > self.stack.len() {
            return Err(self.malformed("MARK above the stack top"));
        }
        Ok(self.stack.split_off(m))
    }

    fn memo_put(&mut self, idx: u32) -> Result<(), PickleError> {
        if self.memo.len() >= MAX_MEMO {
            return Err(PickleError::Limit(format!("memo larger than {MAX_MEMO}")));
        }
        let v = self.top()?.clone();
        self.memo.insert(idx, v);
        Ok(())
    }

    fn memo_get(&mut self, idx: u32) -> Result<(), PickleError> {
        let v = self
            .memo
            .get(&idx)
            .cloned()
            .ok_or_else(|| self.malformed(format!("memo entry {idx} is missing")))?;
        self.push(v)
    }

    fn string(&self, b: &[u8]) -> Result<Value, PickleError> {
        let s = std::str::from_utf8(b).map_err(|_| self.malformed("invalid UTF-8 string"))?;
        Ok(Value::Str(s.to_owned()))
    }

    fn set_items(&mut self, dict: &Value, items: Vec<Value>) -> Result<(), PickleError> {
        let Value::Dict(d) = dict else {
            return Err(self.malformed(format!("SETITEMS on a {}", dict.kind())));
        };
        if !items.len().is_multiple_of(2) {
            return Err(self.malformed("odd number of dict items"));
        }
        let mut d = d.borrow_mut();
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            d.push((k, v));
        }
        Ok(())
    }

    fn run(mut self) -> Result<(Value, usize), PickleError> {
        for _ in 0..MAX_OPS {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    // PROTO
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(self.malformed(format!("unsupported protocol {p}")));
                    }
                }
                0x95 => {
                    // FRAME: only a hint for buffering
                    self.u64()?;
                }
                b'.' => {
                    // STOP
                    let v = self.pop()?;
                    return Ok((v, self.pos));
                }
                b'(' => {
                    // MARK
                    if self.marks.len() >= MAX_MARK_DEPTH {
                        return Err(PickleError::Limit("MARK nesting too deep".into()));
                    }
                    self.marks.push(self.stack.len());
                }
                b'N' => self.push(Value::None)?,
                0x88 => self.push(Value::Bool(true))?,
                0x89 => self.push(Value::Bool(false))?,
                b'J' => {
                    let v = self.u32()? as i32;
                    self.push(Value::Int(v as i64))?
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(v as i64))?
                }
                b'M' => {
                    let v = self.u16()?;
                    self.push(Value::Int(v as i64))?
                }
                0x8a => {
                    // LONG1
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        if n > 16 {
                            return Err(self.malformed("integer wider than 128 bits"));
                        }
                        let mut buf = [0u8; 16];
                        buf[..n].copy_from_slice(b);
                        self.push(Value::BigInt(u128::from_le_bytes(buf)))?;
                        continue;
                    }
                    let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buf[..n].copy_from_slice(b);
                    self.push(Value::Int(i64::from_le_bytes(buf)))?
                }
                b'G' => {
                    let b = self.take(8)?;
                    self.push(Value::Float(f64::from_be_bytes(b.try_into().unwrap())))?
                }
                b'I' => {
                    // INT (text protocol 0), also True/False as 01/00
                    let l = self.line()?.trim().to_owned();
                    let v = match l.as_str() {
                        "01" => Value::Bool(true),
                        "00" => Value::Bool(false),
                        s => Value::Int(
                            s.parse()
                                .map_err(|_| self.malformed(format!("bad INT {s:?}")))?,
                        ),
                    };
                    self.push(v)?
                }
                b'X' => {
                    let n = self.u32()? as u64;
                    let b = self.sized(n)?;
                    let v = self.string(b)?;
                    self.push(v)?
                }
                0x8c => {
                    let n = self.u8()? as u64;
                    let b = self.sized(n)?;
                    let v = self.string(b)?;
                    self.push(v)?
                }
                0x8d => {
                    let n = self.u64()?;
                    let b = self.sized(n)?;
                    let v = self.string(b)?;
                    self.push(v)?
                }
                b'T' => {
                    // BINSTRING (py2 str), read as text
                    let n = self.u32()? as u64;
                    let b = self.sized(n)?;
                    let v = self.string(b)?;
                    self.push(v)?
                }
                b'U' => {
                    let n = self.u8()? as u64;
                    let b = self.sized(n)?;
                    let v = self.string(b)?;
                    self.push(v)?
                }
                b'B' => {
                    let n = self.u32()? as u64;
                    let b = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(b))?
                }
                b'C' => {
                    let n = self.u8()? as u64;
                    let b = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(b))?
                }
                0x8e => {
                    let n = self.u64()?;
                    let b = self.sized(n)?.to_vec();
                    self.push(Value::Bytes(b))?
                }
                b')' => self.push(Value::Tuple(Rc::new(Vec::new())))?,
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(Rc::new(items)))?
                }
                0x85..=0x87 => {
                    // TUPLE1..TUPLE3
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Value::Tuple(Rc::new(items)))?
                }
                b']' => self.push(Value::List(Rc::new(RefCell::new(Vec::new()))))?,
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Rc::new(RefCell::new(items))))?
                }
                b'}' => self.push(Value::Dict(Rc::new(RefCell::new(Vec::new()))))?,
                b'd' => {
                    let items = self.pop_mark()?;
                    let d = Value::Dict(Rc::new(RefCell::new(Vec::new())));
                    self.set_items(&d, items)?;
                    self.push(d)?
                }
                b'a' => {
                    let v = self.pop()?;
                    match self.top()? {
                        Value::List(l) => l.borrow_mut().push(v),
                        other => {
                            let k = other.kind();
                            return Err(self.malformed(format!("APPEND to a {k}")));
                        }
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    match self.top()? {
                        Value::List(l) => l.borrow_mut().extend(items),
                        other => {
                            let k = other.kind();
                            return Err(self.malformed(format!("APPENDS to a {k}")));
                        }
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let d = self.top()?.clone();
                    self.set_items(&d, vec![k, v])?
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let d = self.top()?.clone();
                    self.set_items(&d, items)?
                }
                b'q' => {
                    let i = self.u8()? as u32;
                    self.memo_put(i)?
                }
                b'r' => {
                    let i = self.u32()?;
                    self.memo_put(i)?
                }
                0x94 => {
                    // MEMOIZE
                    let i = self.memo.len() as u32;
                    self.memo_put(i)?
                }
                b'p' => {
                    let l = self.line()?;
                    let i = l
                        .parse()
                        .map_err(|_| self.malformed(format!("bad PUT {l:?}")))?;
                    self.memo_put(i)?
                }
                b'h' => {
                    let i = self.u8()? as u32;
                    self.memo_get(i)?
                }
                b'j' => {
                    let i = self.u32()?;
                    self.memo_get(i)?
                }
                b'g' => {
                    let l = self.line()?;
                    let i = l
                        .parse()
                        .map_err(|_| self.malformed(format!("bad GET {l:?}")))?;
                    self.memo_get(i)?
                }
                b'c' => {
                    // GLOBAL "module\nname\n"
                    let module = self.line()?.to_owned();
                    let name = self.line()?.to_owned();
                    let g = resolve_global(&module, &name)?;
                    self.push(Value::Global(g))?
                }
                0x93 => {
                    // STACK_GLOBAL
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(m), Some(n)) = (module.as_str(), name.as_str()) else {
                        return Err(self.malformed("STACK_GLOBAL needs two strings"));
                    };
                    let g = resolve_global(m, n)?;
                    self.push(Value::Global(g))?
                }
                b'R' => {
                    // REDUCE: only allowed globals reach here; record the call, run nothing.
                    let args = self.pop()?;
                    let f = self.pop()?;
                    let Value::Global(g) = f else {
                        return Err(self.malformed(format!("REDUCE on a {}", f.kind())));
                    };
                    let Value::Tuple(args) = args else {
                        return Err(self.malformed("REDUCE arguments are not a tuple"));
                    };
                    let v = match g {
                        Global::OrderedDict => {
                            if !args.is_empty() {
                                return Err(self.malformed("OrderedDict called with arguments"));
                            }
                            Value::Dict(Rc::new(RefCell::new(Vec::new())))
                        }
                        Global::RebuildTensor | Global::RebuildParameter => Value::Call(g, args),
                        _ => {
                            return Err(PickleError::Malformed {
                                pos: at,
                                what: format!("call of {g:?} is not part of a state dict"),
                            });
                        }
                    };
                    self.push(v)?
                }
                b'b' => {
                    // BUILD: an OrderedDict's `__dict__` (torch stores `_metadata` there). Accept
                    // a dict state on a dict and drop it; nothing else has state to set.
                    let state = self.pop()?;
                    let target = self.top()?;
                    match (&*target, &state) {
                        (Value::Dict(_), Value::Dict(_) | Value::None) => {}
                        (Value::Call(..), _) => {}
                        (t, s) => {
                            let (t, s) = (t.kind(), s.kind());
                            return Err(self.malformed(format!("BUILD of a {t} with a {s}")));
                        }
                    }
                }
                b'Q' => {
                    // BINPERSID
                    let pid = self.pop()?;
                    self.push(Value::PersistentId(Rc::new(pid)))?
                }
                b'0' => {
                    self.pop()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v)?
                }
                b'1' => {
                    self.pop_mark()?;
                }
                other => {
                    let name = match other {
                        b'i' => "INST",
                        b'o' => "OBJ",
                        0x81 => "NEWOBJ",
                        0x92 => "NEWOBJ_EX",
                        b'P' => "PERSID",
                        0x82..=0x84 => "EXT",
                        0x90 => "ADDITEMS",
                        0x8f => "EMPTY_SET",
                        0x91 => "FROZENSET",
                        0x96 => "BYTEARRAY8",
                        0x97 => "NEXT_BUFFER",
                        0x98 => "READONLY_BUFFER",
                        b'F' => "FLOAT",
                        b'L' => "LONG",
                        b'S' => "STRING",
                        b'V' => "UNICODE",
                        0x8b => "LONG4",
                        _ => {
                            return Err(PickleError::UnknownOpcode {
                                code: other,
                                pos: at,
                            });
                        }
                    };
                    return Err(PickleError::ForbiddenOpcode {
                        name,
                        code: other,
                        pos: at,
                    });
                }
            }
        }
        Err(PickleError::Limit(format!("more than {MAX_OPS} opcodes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_dict() {
        // pickle.dumps({'a': 1, 'b': (2.5, 'x')}, protocol=2)
        let p = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02G@\x04\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00xq\x03\x86q\x04u.";
        let (v, used) = read_pickle(p).unwrap();
        assert_eq!(used, p.len());
        let Value::Dict(d) = v else {
            panic!("not a dict")
        };
        let d = d.borrow();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].0.as_str(), Some("a"));
        assert_eq!(d[0].1.as_int(), Some(1));
        let t = d[1].1.items().unwrap();
        assert!(matches!(t[0], Value::Float(f) if f == 2.5));
        assert_eq!(t[1].as_str(), Some("x"));
    }

    #[test]
    fn refuses_os_system() {
        // pickle.dumps of an object whose __reduce__ returns (os.system, ('echo hi',)), protocol 2
        let p = b"\x80\x02cposix\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03.";
        let e = read_pickle(p).unwrap_err();
        assert_eq!(e, PickleError::ForbiddenGlobal("posix.system".into()));
        assert!(e.to_string().contains("posix.system"));
    }

    #[test]
    fn refuses_builtins_eval_via_stack_global() {
        let p = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x04eval\x93.";
        let e = read_pickle(p).unwrap_err();
        assert_eq!(e, PickleError::ForbiddenGlobal("builtins.eval".into()));
    }

    #[test]
    fn truncated_is_an_error() {
        let p = b"\x80\x02}q\x00(X\x01\x00\x00";
        assert!(matches!(read_pickle(p), Err(PickleError::Truncated(_))));
    }

    #[test]
    fn huge_declared_length_does_not_allocate() {
        let p = b"\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f";
        assert!(matches!(read_pickle(p), Err(PickleError::Truncated(_))));
    }

    #[test]
    fn forbidden_opcodes_are_named() {
        let p = b"\x80\x02(i__main__\nX\n.";
        let e = read_pickle(p).unwrap_err();
        assert!(e.to_string().contains("INST"), "{e}");
    }
}
