//! The `io.http` table (docs/API.md §9.4): HTTP/1.x parsers with lua-http-parser's
//! callback API, URL splitting and percent-escapes, over `net::http`.
//!
//! A parser object is a userdata holding the core [`Parser`]; its callbacks
//! table is the userdata's *user value*, so that callbacks closing over their
//! own parser (the usual shape) form a cycle the Lua GC can see and collect.
//! Callbacks run synchronously inside `execute`; they may call the query
//! methods (`method()`, `should_keep_alive()`, ...), which read a copy of
//! the parser's state kept in a separate cell (the core itself is borrowed
//! for the whole `execute`). Calling `execute` or `reset` from a callback
//! raises `"http parser is busy"`. An error raised by a callback propagates
//! out of `execute` and leaves the parser in error state (`HPE_CB_*`).

use std::cell::RefCell;

use mlua::{AnyUserData, Error, Lua, MultiValue, Result, Table, UserData, UserDataMethods, Value};

use crate::lua_api::args::{Args, bad_argument, string_function, type_name};
use crate::lua_api::returns::{bytes_or_failure, value_or_failure};
use crate::net::http::parser::{Event, Handler, Info, Kind, Parser};
use crate::net::http::{escape, url};

/// The callback names a parser accepts.
const CALLBACKS: [&str; 9] = [
    "on_message_begin",
    "on_url",
    "on_status",
    "on_header",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "on_chunk_header",
    "on_chunk_complete",
];

struct HttpParser {
    kind: Kind,
    core: RefCell<Parser>,
    /// What the query methods report; refreshed before each callback and after `execute`.
    info: RefCell<Info>,
}

/// Checks that every known callback present in `callbacks` is a function.
fn check_callbacks(fname: &str, callbacks: &Table) -> Result<()> {
    for name in CALLBACKS {
        let v: Value = callbacks.get(name)?;
        if !matches!(v, Value::Nil | Value::Function(_)) {
            return Err(bad_argument(1, fname, format!("callbacks.{name} must be a function, got {}", type_name(Some(&v)))));
        }
    }
    Ok(())
}

fn new_parser(lua: &Lua, kind: Kind, fname: &'static str, args: MultiValue) -> Result<AnyUserData> {
    let callbacks = Args::with_lua(lua, fname, args).table(1)?;
    check_callbacks(fname, &callbacks)?;
    let ud = lua.create_userdata(HttpParser { kind, core: RefCell::new(Parser::new(kind)), info: RefCell::new(Info::default()) })?;
    ud.set_user_value(callbacks)?;
    Ok(ud)
}

/// Splits a method call's arguments into the parser and the rest.
fn split_self(fname: &'static str, args: MultiValue) -> Result<(AnyUserData, MultiValue)> {
    let mut values = args.into_vec();
    match values.first() {
        Some(Value::UserData(ud)) if ud.is::<HttpParser>() => {
            let ud = ud.clone();
            values.remove(0);
            Ok((ud, MultiValue::from_vec(values)))
        }
        other => Err(bad_argument(1, fname, format!("http parser expected, got {}", type_name(other)))),
    }
}

/// Forwards core events to the Lua callbacks.
struct LuaHandler<'a> {
    lua: &'a Lua,
    callbacks: Table,
    info: &'a RefCell<Info>,
}

impl Handler for LuaHandler<'_> {
    type Error = Error;

    fn on_event(&mut self, info: &Info, event: Event<'_>) -> Result<bool> {
        self.info.borrow_mut().clone_from(info);
        let lua = self.lua;
        let bytes = |b: &[u8]| lua.create_string(b).map(Value::String);
        let (name, args): (&str, Vec<Value>) = match event {
            Event::MessageBegin => ("on_message_begin", vec![]),
            Event::Url(u) => ("on_url", vec![bytes(u)?]),
            Event::Status(code, text) => ("on_status", vec![Value::Integer(code.into()), bytes(text)?]),
            Event::Header(name, value) => ("on_header", vec![bytes(name)?, bytes(value)?]),
            Event::HeadersComplete => ("on_headers_complete", vec![]),
            Event::Body(b) => ("on_body", vec![bytes(b)?]),
            Event::BodyEnd => ("on_body", vec![Value::Nil]),
            Event::MessageComplete => ("on_message_complete", vec![]),
            Event::ChunkHeader(n) => {
                ("on_chunk_header", vec![i64::try_from(n).map_or(Value::Number(n as f64), Value::Integer)])
            }
            Event::ChunkComplete => ("on_chunk_complete", vec![]),
        };
        match self.callbacks.get::<Value>(name)? {
            Value::Function(f) => {
                let result: Value = f.call(MultiValue::from_vec(args))?;
                Ok(!matches!(result, Value::Nil | Value::Boolean(false)))
            }
            _ => Ok(false),
        }
    }
}

fn busy() -> Error {
    Error::runtime("http parser is busy (execute or reset called from one of its callbacks)")
}

impl UserData for HttpParser {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_function("execute", |lua, args: MultiValue| {
            let (ud, rest) = split_self("execute", args)?;
            let data = Args::with_lua(lua, "execute", rest).string(1)?;
            let callbacks: Table = ud.user_value()?;
            let this = ud.borrow::<HttpParser>()?;
            let mut core = this.core.try_borrow_mut().map_err(|_| busy())?;
            let mut handler = LuaHandler { lua, callbacks, info: &this.info };
            let result = core.execute(&data.as_bytes(), &mut handler);
            this.info.borrow_mut().clone_from(core.info());
            result
        });
        methods.add_function("reset", |lua, args: MultiValue| {
            let (ud, rest) = split_self("reset", args)?;
            if let Some(callbacks) = Args::with_lua(lua, "reset", rest).opt_table(1)? {
                check_callbacks("reset", &callbacks)?;
                ud.set_user_value(callbacks)?;
            }
            let this = ud.borrow::<HttpParser>()?;
            let mut core = this.core.try_borrow_mut().map_err(|_| busy())?;
            core.reset();
            this.info.borrow_mut().clone_from(core.info());
            Ok(())
        });
        methods.add_function("error", |_, args: MultiValue| {
            let errno = query(&args, "error", |info| info.errno)?;
            Ok((errno.code(), errno.name(), errno.description()))
        });
        methods.add_function("method", |lua, args: MultiValue| {
            let method = query(&args, "method", |info| info.method.clone())?;
            if method.is_empty() { Ok(Value::Nil) } else { lua.create_string(method).map(Value::String) }
        });
        methods.add_function("version", |_, args: MultiValue| query(&args, "version", |info| (info.major, info.minor)));
        methods.add_function("status_code", |_, args: MultiValue| query(&args, "status_code", |info| info.status));
        methods.add_function("should_keep_alive", |_, args: MultiValue| {
            query(&args, "should_keep_alive", |info| info.keep_alive)
        });
        methods.add_function("is_upgrade", |_, args: MultiValue| query(&args, "is_upgrade", |info| info.upgrade));
        methods.add_meta_method("__tostring", |_, this, ()| {
            let kind = if this.kind == Kind::Request { "request" } else { "response" };
            Ok(format!("http {kind} parser: {:p}", this))
        });
    }
}

/// Reads the parser state for a query method.
fn query<R>(args: &MultiValue, fname: &'static str, f: impl FnOnce(&Info) -> R) -> Result<R> {
    let (ud, _) = split_self(fname, args.clone())?;
    let this = ud.borrow::<HttpParser>()?;
    let info = this.info.borrow();
    Ok(f(&info))
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "request_parser",
        lua.create_function(|lua, args: MultiValue| new_parser(lua, Kind::Request, "request_parser", args))?,
    )?;
    t.raw_set(
        "response_parser",
        lua.create_function(|lua, args: MultiValue| new_parser(lua, Kind::Response, "response_parser", args))?,
    )?;
    t.raw_set(
        "parse_url",
        lua.create_function(|lua, args: MultiValue| {
            let a = Args::with_lua(lua, "parse_url", args);
            let text = a.string(1)?;
            let text = text.as_bytes();
            let parsed = url::parse(&text, a.flag(2)).map(|parts| url_table(lua, parts)).transpose()?;
            value_or_failure(lua, parsed.map(Value::Table).ok_or("invalid url"))
        })?,
    )?;
    t.raw_set("escape", string_function(lua, "escape", |lua, s| lua.create_string(escape::escape(&s.as_bytes())))?)?;
    t.raw_set(
        "unescape",
        string_function(lua, "unescape", |lua, s| {
            bytes_or_failure(lua, escape::unescape(&s.as_bytes()).ok_or("invalid escape"))
        })?,
    )?;
    Ok(t)
}

/// The present parts of a URL as a table (`port` an integer).
fn url_table(lua: &Lua, parts: url::Url<'_>) -> Result<Table> {
    let out = lua.create_table()?;
    for (key, part) in [
        ("schema", parts.schema),
        ("userinfo", parts.userinfo),
        ("host", parts.host),
        ("path", parts.path),
        ("query", parts.query),
        ("fragment", parts.fragment),
    ] {
        if let Some(part) = part {
            out.raw_set(key, lua.create_string(part)?)?;
        }
    }
    if let Some(port) = parts.port {
        out.raw_set("port", port)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Lua {
        let lua = Lua::new();
        let http = create(&lua).unwrap();
        lua.globals().set("http", http).unwrap();
        lua
    }

    /// Runs `src` in a fresh state with `http` and returns its result.
    fn eval<T: mlua::FromLuaMulti>(src: &str) -> T {
        state().load(src).eval().unwrap()
    }

    #[test]
    fn callbacks_see_the_parser_state() {
        let out: String = eval(r#"
                local log = {}
                local p
                p = http.request_parser {
                    on_url = function(u) log[#log + 1] = p:method() .. " " .. u end,
                    on_headers_complete = function() log[#log + 1] = tostring(p:should_keep_alive()) end,
                    on_body = function(b) log[#log + 1] = tostring(b) end,
                }
                assert(p:execute("PUT /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi") == 40)
                return table.concat(log, "|")
            "#);
        assert_eq!(out, "PUT /x|true|hi|nil");
    }

    #[test]
    fn callback_error_propagates_and_fails_the_parser() {
        let lua = state();
        let (msg, errno): (String, i64) = lua
            .load(
                r#"
                local p = http.request_parser { on_url = function() error("boom") end }
                local ok, err = pcall(p.execute, p, "GET / HTTP/1.1\r\n\r\n")
                assert(not ok)
                return tostring(err), (p:error())
            "#,
            )
            .eval()
            .unwrap();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(errno, 2);
    }

    #[test]
    fn reentrant_execute_is_refused() {
        let msg: String = eval(r#"
                local p
                p = http.request_parser { on_url = function() p:execute("x") end }
                local ok, err = pcall(p.execute, p, "GET / HTTP/1.1\r\n\r\n")
                return tostring(err)
            "#);
        assert!(msg.contains("busy"), "{msg}");
    }
}
