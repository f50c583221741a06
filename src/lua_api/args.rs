//! Argument checking with the stock Lua message shape.
//!
//! mlua's automatic conversions report `error converting Lua nil to String`;
//! our API promises the message a C library would give,
//! `bad argument #1 to 'encode' (string expected, got nil)`. Bindings take a
//! `MultiValue`, wrap it in [`Args`] and ask for each argument by position.

use mlua::{AnyUserData, Error, Function, Integer, IntoLuaMulti, Lua, LuaString, MultiValue, Number, Result, Table, Value};

/// A Lua function that hands its arguments to `func` as [`Args`], named
/// `name` in the messages of bad arguments.
pub fn binding(lua: &Lua, func: fn(&Lua, Args) -> Result<MultiValue>, name: &'static str) -> Result<Function> {
    lua.create_function(move |lua, args: MultiValue| func(lua, Args::with_lua(lua, name, args)))
}

/// The arguments of one call of the Lua function `fname`.
pub struct Args {
    fname: &'static str,
    values: Vec<Value>,
    /// The calling state, needed to turn a number argument into a string.
    lua: Option<Lua>,
}

pub use crate::codec::type_name;

/// A `bad argument` error in the stock shape.
pub fn bad_argument(n: usize, fname: &str, msg: impl std::fmt::Display) -> Error {
    Error::runtime(format!("bad argument #{n} to '{fname}' ({msg})"))
}

/// A Lua function `fname(str)` of one string argument (a number is
/// converted as `tostring` does), which `f` gets.
pub fn string_function<R: IntoLuaMulti>(
    lua: &Lua,
    fname: &'static str,
    f: impl Fn(&Lua, LuaString) -> Result<R> + 'static,
) -> Result<Function> {
    lua.create_function(move |lua, args: MultiValue| f(lua, Args::with_lua(lua, fname, args).string(1)?))
}

impl Args {
    pub fn new(fname: &'static str, values: MultiValue) -> Self {
        Args { fname, values: values.into_vec(), lua: None }
    }

    /// Arguments of a call made in `lua` (lets [`string`](Self::string) convert numbers).
    pub fn with_lua(lua: &Lua, fname: &'static str, values: MultiValue) -> Self {
        Args { fname, values: values.into_vec(), lua: Some(lua.clone()) }
    }

    /// Number of arguments passed (trailing nils included).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Argument `n` (1-based) as passed; `Nil` when absent.
    pub fn value(&self, n: usize) -> Value {
        self.values.get(n - 1).cloned().unwrap_or(Value::Nil)
    }

    /// All arguments from position `n` on.
    pub fn rest(&self, n: usize) -> MultiValue {
        self.tail(n).iter().cloned().collect()
    }

    /// All arguments from position `n` on, borrowed (no copy: for encoding).
    pub fn tail(&self, n: usize) -> &[Value] {
        self.values.get(n - 1..).unwrap_or(&[])
    }

    /// Whether argument `n` is absent or nil.
    pub fn is_none(&self, n: usize) -> bool {
        matches!(self.values.get(n - 1), None | Some(Value::Nil))
    }

    fn wrong(&self, n: usize, expected: &str) -> Error {
        let got = type_name(self.values.get(n - 1));
        bad_argument(n, self.fname, format!("{expected} expected, got {got}"))
    }

    /// A string argument; numbers are accepted and converted as `tostring`
    /// does (`1.0` -> `"1.0"`), as `luaL_checkstring` does.
    pub fn string(&self, n: usize) -> Result<LuaString> {
        match self.values.get(n - 1) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Integer(_) | Value::Number(_))) => {
                let lua = self.lua.clone().or_else(|| self.values.iter().find_map(|v| v.weak_lua()?.try_upgrade()));
                match lua {
                    Some(lua) => lua.coerce_string(v.clone())?.ok_or_else(|| self.wrong(n, "string")),
                    None => Err(Error::runtime("cannot convert number to string")),
                }
            }
            _ => Err(self.wrong(n, "string")),
        }
    }

    /// A string argument as bytes.
    pub fn bytes(&self, n: usize) -> Result<Vec<u8>> {
        Ok(self.string(n)?.as_bytes().to_vec())
    }

    /// A string argument as bytes, a number converted by `lua` exactly as
    /// `tostring` does, even when it is the only argument.
    pub fn bytes_with(&self, lua: &Lua, n: usize) -> Result<Vec<u8>> {
        match self.values.get(n - 1) {
            Some(v @ (Value::Integer(_) | Value::Number(_))) => match lua.coerce_string(v.clone())? {
                Some(s) => Ok(s.as_bytes().to_vec()),
                None => Err(self.wrong(n, "string")),
            },
            _ => self.bytes(n),
        }
    }

    /// Argument `n` read by `read`, or `None` when it is absent or nil.
    fn optional<T>(&self, n: usize, read: impl FnOnce(&Self, usize) -> Result<T>) -> Result<Option<T>> {
        if self.is_none(n) { Ok(None) } else { read(self, n).map(Some) }
    }

    /// An optional string argument (`None` when absent or nil).
    pub fn opt_string(&self, n: usize) -> Result<Option<LuaString>> {
        self.optional(n, Self::string)
    }

    /// An integer argument; floats with an exact integer value are accepted.
    pub fn integer(&self, n: usize) -> Result<Integer> {
        match self.values.get(n - 1) {
            Some(Value::Integer(i)) => Ok(*i),
            Some(Value::Number(f)) if f.fract() == 0.0 && f.is_finite() => Ok(*f as Integer),
            Some(Value::Number(_)) => Err(bad_argument(n, self.fname, "number has no integer representation")),
            _ => Err(self.wrong(n, "number")),
        }
    }

    pub fn opt_integer(&self, n: usize) -> Result<Option<Integer>> {
        self.optional(n, Self::integer)
    }

    /// A number argument (integer or float).
    pub fn number(&self, n: usize) -> Result<Number> {
        self.typed(n, "number", |v| match v {
            Value::Integer(i) => Some(*i as Number),
            Value::Number(f) => Some(*f),
            _ => None,
        })
    }

    pub fn opt_number(&self, n: usize) -> Result<Option<Number>> {
        self.optional(n, Self::number)
    }

    /// Argument `n` as `pick` reads it; `None` from `pick` means a wrong type.
    fn typed<T>(&self, n: usize, expected: &str, pick: impl FnOnce(&Value) -> Option<T>) -> Result<T> {
        self.values.get(n - 1).and_then(pick).ok_or_else(|| self.wrong(n, expected))
    }

    pub fn table(&self, n: usize) -> Result<Table> {
        self.typed(n, "table", |v| v.as_table().cloned())
    }

    pub fn opt_table(&self, n: usize) -> Result<Option<Table>> {
        self.optional(n, Self::table)
    }

    pub fn function(&self, n: usize) -> Result<Function> {
        self.typed(n, "function", |v| v.as_function().cloned())
    }

    pub fn opt_function(&self, n: usize) -> Result<Option<Function>> {
        self.optional(n, Self::function)
    }

    /// Argument `n` as a userdata holding a `T`; `tname` names `T` in the error.
    pub fn userdata<T: 'static>(&self, n: usize, tname: &str) -> Result<AnyUserData> {
        self.typed(n, tname, |v| v.as_userdata().filter(|ud| ud.is::<T>()).cloned())
    }

    /// A boolean flag: absent/nil is `false`, any other value counts by Lua truthiness.
    pub fn flag(&self, n: usize) -> bool {
        !matches!(self.values.get(n - 1), None | Some(Value::Nil) | Some(Value::Boolean(false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Lua;

    fn args(lua: &Lua, v: impl IntoLuaMulti) -> Args {
        Args::new("f", v.into_lua_multi(lua).unwrap())
    }

    #[test]
    fn messages_have_the_stock_shape() {
        let lua = Lua::new();
        let a = args(&lua, (1, true));
        let e = a.table(2).unwrap_err().to_string();
        assert!(e.contains("bad argument #2 to 'f' (table expected, got boolean)"), "{e}");
        let e = a.string(3).unwrap_err().to_string();
        assert!(e.contains("(string expected, got no value)"), "{e}");
    }

    #[test]
    fn numbers_convert_to_strings_and_exact_floats_to_integers() {
        let lua = Lua::new();
        let a = Args::with_lua(&lua, "f", (12, 3.0, 2.5, "x").into_lua_multi(&lua).unwrap());
        assert_eq!(Args::with_lua(&lua, "f", 7.into_lua_multi(&lua).unwrap()).string(1).unwrap().to_str().unwrap(), "7");
        assert_eq!(a.string(1).unwrap().to_str().unwrap(), "12");
        assert_eq!(a.integer(2).unwrap(), 3);
        assert!(a.integer(3).is_err());
        assert!(a.integer(4).is_err());
        assert!(!a.flag(5));
        assert!(a.flag(1));
    }

    #[test]
    fn bytes_with_converts_numbers_like_tostring() {
        let lua = Lua::new();
        let a = args(&lua, (1.0, 7, true));
        assert_eq!(a.bytes_with(&lua, 1).unwrap(), b"1.0");
        assert_eq!(a.bytes_with(&lua, 2).unwrap(), b"7");
        let e = a.bytes_with(&lua, 3).unwrap_err().to_string();
        assert!(e.contains("bad argument #3 to 'f' (string expected, got boolean)"), "{e}");
        let lone = args(&lua, 2.5);
        assert_eq!(lone.bytes_with(&lua, 1).unwrap(), b"2.5");
    }
}
