//! The `wrap` codec: Lua values <-> MessagePack bytes.
//!
//! Everything that crosses a service boundary (rpc arguments and results,
//! `storage` values, `table.export` trees, cluster frames) is copied through
//! this codec, so it decides what "copied" means (docs/API.md §3.4):
//!
//! * each value is one MessagePack object, concatenated (`wrap()` is `""`);
//! * integers stay integers and floats stay floats (floats always as f64);
//! * strings are byte strings (written as `str`, read from `str` or `bin`);
//! * a table whose keys are exactly `1..n` (n >= 1) is an array, any other
//!   table a map; metatables are not kept;
//! * functions, userdata and threads refuse to wrap; tables nested deeper than
//!   [`MAX_DEPTH`] (the outermost is level 1), which includes cycles, refuse too.
//!
//! Decoding never trusts its input: lengths are checked against the bytes
//! left, nesting is bounded, and every failure is `unwrap: malformed data`.

use mlua::{Lua, MultiValue, Result, Table, Value};
use rmp::Marker;

/// The deepest table nesting that can be wrapped (the outermost table is level 1).
pub const MAX_DEPTH: usize = 64;

/// The encoding of `true`: also the status byte that starts the payload of
/// a successful reply (`true, values...`).
pub const TRUE: u8 = Marker::True.to_u8();

/// The encoding of `false`: also the status byte of a failed reply (`false, msg`).
pub const FALSE: u8 = Marker::False.to_u8();

/// The encoding of the boolean `b`.
pub fn boolean(b: bool) -> u8 {
    if b { TRUE } else { FALSE }
}

/// The payload of a failed reply or wake-up: `false, msg`.
pub fn failure(msg: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(msg.len() + 6);
    buf.push(FALSE);
    // A message longer than 4 GiB cannot be: the status alone then says it.
    let _ = write_str(&mut buf, msg.as_bytes());
    buf
}

/// Appends the encoding of a string holding `bytes`.
pub fn write_str(buf: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| mlua::Error::runtime("wrap: string too long"))?;
    checked(rmp::encode::write_str_len(buf, len))?;
    buf.extend_from_slice(bytes);
    Ok(())
}

/// A value encoded without a Lua handle: what a raw path (the C fronts of
/// `pcall` and `rpc.deliver` in `lua_api/rpc.rs`) reads straight off the
/// Lua stack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    Nil,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    String(&'a [u8]),
}

/// Appends `n` in MessagePack's shortest form, as `rmp::encode::write_sint`
/// does, written out: that generic writer cost over 100 instructions per
/// integer on the message path.
pub fn write_int(buf: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => buf.push(n as u8),
        -32..=-1 => buf.push(n as i8 as u8),
        128..=255 => buf.extend_from_slice(&[Marker::U8.to_u8(), n as u8]),
        256..=65_535 => {
            buf.push(Marker::U16.to_u8());
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        }
        65_536..=4_294_967_295 => {
            buf.push(Marker::U32.to_u8());
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        }
        1.. => {
            buf.push(Marker::U64.to_u8());
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -128..=-33 => buf.extend_from_slice(&[Marker::I8.to_u8(), n as i8 as u8]),
        -32_768..=-129 => {
            buf.push(Marker::I16.to_u8());
            buf.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32_769 => {
            buf.push(Marker::I32.to_u8());
            buf.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            buf.push(Marker::I64.to_u8());
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// Appends the encoding of `value`, exactly as the same Lua value's.
pub fn encode_scalar(buf: &mut Vec<u8>, value: Scalar<'_>) -> Result<()> {
    match value {
        Scalar::Nil => buf.push(Marker::Null.to_u8()),
        Scalar::Boolean(b) => buf.push(boolean(b)),
        Scalar::Integer(i) => write_int(buf, i),
        Scalar::Number(n) => {
            buf.push(Marker::F64.to_u8());
            buf.extend_from_slice(&n.to_be_bytes());
        }
        Scalar::String(bytes) => write_str(buf, bytes)?,
    }
    Ok(())
}

/// Appends the encoding of every value in `values` to `buf`.
pub fn encode_into<'a>(buf: &mut Vec<u8>, values: impl IntoIterator<Item = &'a Value>) -> Result<()> {
    for v in values {
        encode_value(buf, v, 0)?;
    }
    Ok(())
}

/// Encodes `values` into a new buffer.
pub fn encode<'a>(values: impl IntoIterator<Item = &'a Value>) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(16);
    encode_into(&mut buf, values)?;
    Ok(buf)
}

fn checked<T, E>(r: std::result::Result<T, E>) -> Result<()> {
    r.map(|_| ()).map_err(|_| mlua::Error::runtime("wrap: value too large"))
}

fn encode_value(buf: &mut Vec<u8>, value: &Value, depth: usize) -> Result<()> {
    match value {
        Value::Nil => encode_scalar(buf, Scalar::Nil)?,
        Value::Boolean(b) => encode_scalar(buf, Scalar::Boolean(*b))?,
        Value::Integer(i) => encode_scalar(buf, Scalar::Integer(*i))?,
        Value::Number(n) => encode_scalar(buf, Scalar::Number(*n))?,
        Value::String(s) => encode_scalar(buf, Scalar::String(&s.as_bytes()))?,
        Value::Table(t) => encode_table(buf, t, depth + 1)?,
        other => {
            return Err(mlua::Error::runtime(format!("cannot wrap a {}", crate::codec::type_name(Some(other)))));
        }
    }
    Ok(())
}

fn encode_table(buf: &mut Vec<u8>, t: &Table, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime("wrap: nesting too deep"));
    }
    let n = t.raw_len();
    let mut pairs = Vec::new();
    let mut is_array = n > 0;
    t.for_each(|k: Value, v: Value| {
        if is_array && !matches!(k, Value::Integer(i) if i >= 1 && (i as usize) <= n) {
            is_array = false;
        }
        pairs.push((k, v));
        Ok(())
    })?;
    is_array = is_array && pairs.len() == n;
    let len = u32::try_from(pairs.len()).map_err(|_| mlua::Error::runtime("wrap: table too large"))?;
    if is_array {
        checked(rmp::encode::write_array_len(buf, len))?;
        for i in 1..=n {
            encode_value(buf, &t.raw_get::<Value>(i)?, depth)?;
        }
    } else {
        checked(rmp::encode::write_map_len(buf, len))?;
        for (k, v) in &pairs {
            encode_value(buf, k, depth)?;
            encode_value(buf, v, depth)?;
        }
    }
    Ok(())
}

/// Decodes every value in `data` into `lua`.
pub fn decode(lua: &Lua, data: &[u8]) -> Result<MultiValue> {
    let mut cursor = Cursor { data, pos: 0 };
    // Room made at once: growing from empty costs more than the allocation
    // (each value takes a byte at least; most payloads hold a few).
    let mut out = if data.is_empty() { MultiValue::new() } else { MultiValue::with_capacity(data.len().min(8)) };
    while cursor.pos < data.len() {
        out.push_back(cursor.value(lua, 0)?);
    }
    Ok(out)
}

fn malformed() -> mlua::Error {
    mlua::Error::runtime("unwrap: malformed data")
}

/// A read position in the bytes being decoded.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(malformed)?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// The length that follows a str/bin/array/map `marker` (8, 16 or 32 bits).
    fn length(&mut self, marker: Marker) -> Result<usize> {
        Ok(match marker {
            Marker::Str8 | Marker::Bin8 => self.byte()? as usize,
            Marker::Str16 | Marker::Bin16 | Marker::Array16 | Marker::Map16 => u16::from_be_bytes(self.be()?) as usize,
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// A container length, refused when more elements are announced than bytes remain
    /// (each element takes at least one byte), so a forged header cannot make us allocate.
    fn count(&self, n: usize, per_item: usize) -> Result<usize> {
        if n.saturating_mul(per_item) > self.data.len() - self.pos { Err(malformed()) } else { Ok(n) }
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> Result<Value> {
        let marker = Marker::from_u8(self.byte()?);
        Ok(match marker {
            Marker::Null => Value::Nil,
            Marker::True => Value::Boolean(true),
            Marker::False => Value::Boolean(false),
            Marker::FixPos(n) => Value::Integer(n as i64),
            Marker::FixNeg(n) => Value::Integer(n as i64),
            Marker::U8 => Value::Integer(self.byte()? as i64),
            Marker::U16 => Value::Integer(u16::from_be_bytes(self.be()?) as i64),
            Marker::U32 => Value::Integer(u32::from_be_bytes(self.be()?) as i64),
            Marker::U64 => {
                let u = u64::from_be_bytes(self.be()?);
                i64::try_from(u).map(Value::Integer).unwrap_or(Value::Number(u as f64))
            }
            Marker::I8 => Value::Integer(self.byte()? as i8 as i64),
            Marker::I16 => Value::Integer(i16::from_be_bytes(self.be()?) as i64),
            Marker::I32 => Value::Integer(i32::from_be_bytes(self.be()?) as i64),
            Marker::I64 => Value::Integer(i64::from_be_bytes(self.be()?)),
            Marker::F32 => Value::Number(f32::from_be_bytes(self.be()?) as f64),
            Marker::F64 => Value::Number(f64::from_be_bytes(self.be()?)),
            Marker::FixStr(n) => self.string(lua, n as usize)?,
            Marker::Str8 | Marker::Bin8 | Marker::Str16 | Marker::Bin16 | Marker::Str32 | Marker::Bin32 => {
                let n = self.length(marker)?;
                self.string(lua, n)?
            }
            Marker::FixArray(n) => self.array(lua, n as usize, depth)?,
            Marker::Array16 | Marker::Array32 => {
                let n = self.length(marker)?;
                self.array(lua, n, depth)?
            }
            Marker::FixMap(n) => self.map(lua, n as usize, depth)?,
            Marker::Map16 | Marker::Map32 => {
                let n = self.length(marker)?;
                self.map(lua, n, depth)?
            }
            _ => return Err(malformed()),
        })
    }

    fn string(&mut self, lua: &Lua, n: usize) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.take(n)?)?))
    }

    fn array(&mut self, lua: &Lua, n: usize, depth: usize) -> Result<Value> {
        if depth >= MAX_DEPTH {
            return Err(malformed());
        }
        let n = self.count(n, 1)?;
        let t = lua.create_table_with_capacity(n, 0)?;
        for i in 1..=n {
            t.raw_set(i, self.value(lua, depth + 1)?)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, n: usize, depth: usize) -> Result<Value> {
        if depth >= MAX_DEPTH {
            return Err(malformed());
        }
        let n = self.count(n, 2)?;
        let t = lua.create_table_with_capacity(0, n)?;
        for _ in 0..n {
            let k = self.value(lua, depth + 1)?;
            let v = self.value(lua, depth + 1)?;
            match k {
                // Lua tables cannot hold these keys; a peer that sends them is broken.
                Value::Nil => return Err(malformed()),
                Value::Number(f) if f.is_nan() => return Err(malformed()),
                k => t.raw_set(k, v)?,
            }
        }
        Ok(Value::Table(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_as_rmp_writes_them() {
        let mut samples = vec![i64::MIN, i64::MAX, 0, 1, -1];
        for bound in [32i64, 128, 256, 32_768, 65_536, 2_147_483_648, 4_294_967_296] {
            for n in [bound - 1, bound, bound + 1] {
                samples.extend([n, -n]);
            }
        }
        for n in samples {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            write_int(&mut ours, n);
            rmp::encode::write_sint(&mut theirs, n).unwrap();
            assert_eq!(ours, theirs, "{n}");
        }
    }

    fn roundtrip(lua: &Lua, src: &str) -> bool {
        let values: MultiValue = lua.load(src).eval().unwrap();
        let bytes = encode(values.iter()).unwrap();
        let back = decode(lua, &bytes).unwrap();
        let check: mlua::Function = lua
            .load(
                r#"
                local function same(a, b, seen)
                  if type(a) ~= type(b) then return false end
                  if type(a) ~= "table" then
                    return a == b and math.type(a) == math.type(b)
                  end
                  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
                  for k in pairs(b) do if a[k] == nil then return false end end
                  return true
                end
                return function(n, ...)
                  local t = table.pack(...)
                  for i = 1, n do if not same(t[i], t[n + i]) then return false end end
                  return t.n == 2 * n
                end"#,
            )
            .eval()
            .unwrap();
        let n = values.len();
        let mut args = MultiValue::new();
        args.push_back(Value::Integer(n as i64));
        args.extend(values);
        args.extend(back);
        check.call(args).unwrap()
    }

    #[test]
    fn scalars_keep_their_types() {
        let lua = Lua::new();
        assert!(roundtrip(&lua, "return 1, nil, 2.0, 'x', true, false, -1, 2^53, math.mininteger, math.maxinteger, 0.1"));
        assert!(roundtrip(&lua, "return '\\0\\255 binary', ''"));
        let v = decode(&lua, &encode([Value::Number(2.0)].iter()).unwrap()).unwrap();
        assert!(matches!(v[0], Value::Number(f) if f == 2.0));
    }

    #[test]
    fn tables_arrays_and_maps() {
        let lua = Lua::new();
        assert!(roundtrip(&lua, "return {1, 2, {a = 1, [2.5] = 'f', [true] = {}}, 'x'}, {}, {[1] = 1, [3] = 3}"));
        assert!(roundtrip(&lua, "return {[10] = 1, [-1] = 2, [0] = 3}"));
    }

    #[test]
    fn empty_input_and_output() {
        let lua = Lua::new();
        assert!(encode([].iter()).unwrap().is_empty());
        assert_eq!(decode(&lua, &[]).unwrap().len(), 0);
    }

    #[test]
    fn refuses_functions_cycles_and_deep_tables() {
        let lua = Lua::new();
        let f: Value = lua.load("return print").eval().unwrap();
        assert!(encode([f].iter()).unwrap_err().to_string().contains("cannot wrap a function"));
        let cyc: Value = lua.load("local t = {} t.t = t return t").eval().unwrap();
        assert!(encode([cyc].iter()).unwrap_err().to_string().contains("nesting too deep"));
        let ok: Value = lua.load("local t = {} for i = 2, 64 do t = {t} end return t").eval().unwrap();
        assert!(encode([ok].iter()).is_ok());
        let deep: Value = lua.load("local t = {} for i = 2, 65 do t = {t} end return t").eval().unwrap();
        assert!(encode([deep].iter()).is_err());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_crash() {
        let lua = Lua::new();
        for bad in [&[0xc1u8][..], &[0xdd, 0xff, 0xff, 0xff, 0xff], &[0xa5, b'a'], &[0xcb, 0, 0], &[0x81, 0xc0, 1]] {
            assert!(decode(&lua, bad).unwrap_err().to_string().contains("malformed"));
        }
        let deep = vec![0x91u8; 100_000];
        assert!(decode(&lua, &deep).is_err());
    }

    #[test]
    fn status_bytes_are_the_booleans() {
        let lua = Lua::new();
        let flags = decode(&lua, &[TRUE, FALSE, boolean(true), boolean(false)]).unwrap().into_vec();
        assert_eq!(flags, vec![Value::Boolean(true), Value::Boolean(false), Value::Boolean(true), Value::Boolean(false)]);
        assert_eq!(encode([Value::Boolean(true), Value::Boolean(false)].iter()).unwrap(), vec![TRUE, FALSE]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let lua = Lua::new();
            let _ = decode(&lua, &data);
        }
    }
}
