//! `table.export` / `table.import` (docs/API.md §12): the Lua face of [`crate::shared::tree`].
//!
//! A proxy returned by `table.import` is an *empty* Lua table whose metatable
//! answers every read from the shared tree, so `rawget`, `next` and `rawlen`
//! see nothing, as API.md asks. All proxies of a state share one metatable,
//! protected by `__metatable`; what a proxy points at lives beside it:
//!
//! * `paths` (weak keys): proxy -> userdata holding its [`ProxyPath`], the
//!   export name and the keys from the root. Each access resolves the name
//!   again ([`tree::resolve`]), so a re-export is seen by every existing
//!   proxy, nested ones included; a path that no longer leads to a table
//!   (export removed, or the key now holds something else) reads as an empty
//!   table.
//! * `cache` (weak values): path -> proxy, so that reading the same path twice
//!   gives the same proxy (`t.sub == t.sub`, usable as a table key) without
//!   keeping unused proxies alive.
//!
//! These three tables are made on the first `table.import` of a state (most
//! services never import) and kept in the registry.
//!
//! `pairs` iterates over the tree that is current when `pairs` is called, so a
//! loop never mixes two versions of an export; the tables it yields are
//! proxies, which resolve at each access like any other.

use std::cell::Cell;
use std::sync::Arc;

use mlua::{AnyUserData, Error, Lua, MultiValue, Result, Table, Value};

use super::args::{Args, bad_argument, type_name};
use crate::shared::tree::{self, Key, Node, TableNode};

const KIT: &str = "skynet.table_ext.proxies";

/// Where a proxy points: an export name and the keys from its root.
#[derive(Clone)]
struct ProxyPath {
    name: Arc<[u8]>,
    keys: Vec<Key>,
    /// The path as bytes, the key of the proxy in the `cache` table.
    id: Vec<u8>,
}

impl ProxyPath {
    fn root(name: &[u8]) -> ProxyPath {
        let mut id = Vec::with_capacity(name.len() + 9);
        push_bytes(&mut id, b'n', name);
        ProxyPath { name: name.into(), keys: Vec::new(), id }
    }

    fn child(&self, key: Key) -> ProxyPath {
        let mut id = self.id.clone();
        match &key {
            Key::Int(i) => push_bytes(&mut id, b'i', &i.to_be_bytes()),
            Key::Float(bits) => push_bytes(&mut id, b'f', &bits.to_be_bytes()),
            Key::Bool(b) => push_bytes(&mut id, b'b', &[*b as u8]),
            Key::Str(s) => push_bytes(&mut id, b's', s),
        }
        let mut keys = self.keys.clone();
        keys.push(key);
        ProxyPath { name: self.name.clone(), keys, id }
    }

    fn resolve(&self) -> Option<Arc<TableNode>> {
        tree::resolve(&self.name, &self.keys)
    }
}

/// Appends a tagged, length-prefixed field, so that concatenated ids never collide.
fn push_bytes(id: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    id.push(tag);
    id.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    id.extend_from_slice(bytes);
}

/// The per-state proxy machinery (see the module docs).
struct Kit {
    metatable: Table,
    tables: ProxyTables,
}

impl Kit {
    /// The kit of this state, if one was made.
    fn existing(lua: &Lua) -> Result<Option<Kit>> {
        match lua.named_registry_value::<Value>(KIT)? {
            Value::Table(t) => Ok(Some(Kit {
                metatable: t.raw_get("metatable")?,
                tables: ProxyTables { paths: t.raw_get("paths")?, cache: t.raw_get("cache")? },
            })),
            _ => Ok(None),
        }
    }

    fn get(lua: &Lua) -> Result<Kit> {
        match Kit::existing(lua)? {
            Some(kit) => Ok(kit),
            None => Kit::create(lua),
        }
    }

    fn create(lua: &Lua) -> Result<Kit> {
        let weak = |mode: &str| -> Result<Table> {
            let t = lua.create_table()?;
            let mt = lua.create_table()?;
            mt.raw_set("__mode", mode)?;
            t.set_metatable(Some(mt))?;
            Ok(t)
        };
        let kit = Kit {
            metatable: lua.create_table()?,
            tables: ProxyTables { paths: weak("k")?, cache: weak("v")? },
        };
        // The metamethods capture only the side tables; they reach the metatable
        // through the proxy, so the metatable holds no reference to itself.
        let mt = &kit.metatable;
        let k = kit.tables.clone();
        mt.raw_set("__index", lua.create_function(move |lua, (p, key): (Table, Value)| {
            let path = k.path(&p)?;
            let Some(key) = Key::from_lua(&key) else { return Ok(Value::Nil) };
            let Some(t) = path.resolve() else { return Ok(Value::Nil) };
            match t.get(&key) {
                Some(node) => k.node_to_lua(lua, &p, &path, key, node),
                None => Ok(Value::Nil),
            }
        })?)?;
        let k = kit.tables.clone();
        mt.raw_set("__newindex", lua.create_function(move |_, (p, _, _): (Table, Value, Value)| -> Result<()> {
            let path = k.path(&p)?;
            Err(Error::runtime(format!("{} is readonly", String::from_utf8_lossy(&path.name))))
        })?)?;
        let k = kit.tables.clone();
        mt.raw_set("__len", lua.create_function(move |_, p: Table| {
            Ok(k.path(&p)?.resolve().map_or(0, |t| t.len()))
        })?)?;
        let k = kit.tables.clone();
        mt.raw_set("__pairs", lua.create_function(move |lua, p: Table| {
            let path = k.path(&p)?.clone();
            let snapshot = path.resolve();
            let next_pos = Cell::new(0usize);
            let k = k.clone();
            let proxy = p.clone();
            let iter = lua.create_function(move |lua, _: MultiValue| {
                let Some((key, node)) = snapshot.as_ref().and_then(|t| t.entry(next_pos.get())) else {
                    return Ok((Value::Nil, Value::Nil));
                };
                next_pos.set(next_pos.get() + 1);
                let key_value = key_to_lua(lua, &key)?;
                Ok((key_value, k.node_to_lua(lua, &proxy, &path, key, node)?))
            })?;
            Ok((iter, p, Value::Nil))
        })?)?;
        mt.raw_set("__metatable", "readonly")?;

        let all = lua.create_table()?;
        all.raw_set("metatable", &kit.metatable)?;
        all.raw_set("paths", &kit.tables.paths)?;
        all.raw_set("cache", &kit.tables.cache)?;
        lua.set_named_registry_value(KIT, all)?;
        Ok(kit)
    }

    fn is_proxy(&self, t: &Table) -> Result<bool> {
        Ok(!self.tables.paths.raw_get::<Value>(t)?.is_nil())
    }

    fn proxy(&self, lua: &Lua, path: ProxyPath) -> Result<Table> {
        self.tables.proxy(lua, &self.metatable, path)
    }
}

/// The side tables of the proxies, as captured by the metamethods.
#[derive(Clone)]
struct ProxyTables {
    paths: Table,
    cache: Table,
}

impl ProxyTables {
    fn path(&self, p: &Table) -> Result<mlua::UserDataRef<ProxyPath>> {
        match self.paths.raw_get::<Value>(p)? {
            Value::UserData(ud) => ud.borrow::<ProxyPath>(),
            _ => Err(Error::runtime("not an imported table")),
        }
    }

    /// The proxy of `path`: the cached one, or a new empty table.
    fn proxy(&self, lua: &Lua, metatable: &Table, path: ProxyPath) -> Result<Table> {
        let id = lua.create_string(&path.id)?;
        if let Value::Table(p) = self.cache.raw_get::<Value>(&id)? {
            return Ok(p);
        }
        let p = lua.create_table()?;
        p.set_metatable(Some(metatable.clone()))?;
        let ud: AnyUserData = lua.create_any_userdata(path)?;
        self.paths.raw_set(&p, ud)?;
        self.cache.raw_set(id, &p)?;
        Ok(p)
    }

    /// A tree value as a Lua value; tables become proxies one key below `parent`.
    fn node_to_lua(&self, lua: &Lua, parent: &Table, path: &ProxyPath, key: Key, node: &Node) -> Result<Value> {
        Ok(match node {
            Node::Bool(b) => Value::Boolean(*b),
            Node::Int(i) => Value::Integer(*i),
            Node::Float(f) => Value::Number(*f),
            Node::Str(s) => Value::String(lua.create_string(s)?),
            Node::Table(_) => {
                let Some(metatable) = parent.metatable() else {
                    return Err(Error::runtime("not an imported table"));
                };
                Value::Table(self.proxy(lua, &metatable, path.child(key))?)
            }
        })
    }
}

fn key_to_lua(lua: &Lua, key: &Key) -> Result<Value> {
    Ok(match key {
        Key::Int(i) => Value::Integer(*i),
        Key::Float(bits) => Value::Number(f64::from_bits(*bits)),
        Key::Bool(b) => Value::Boolean(*b),
        Key::Str(s) => Value::String(lua.create_string(s)?),
    })
}

/// `table.export(t, name)`: publishes a copy of `t`, or removes the export when `t` is nil.
fn export(lua: &Lua, mv: MultiValue) -> Result<()> {
    let a = Args::new("export", mv);
    let t = match a.value(1) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        v => {
            let got = if a.is_empty() { "no value" } else { type_name(Some(&v)) };
            return Err(bad_argument(1, "export", format!("table expected, got {got}")));
        }
    };
    let name = a.bytes_with(lua, 2)?;
    let Some(t) = t else {
        tree::publish(&name, None);
        return Ok(());
    };
    let tree = match Kit::existing(lua)? {
        Some(kit) => {
            let refuse_proxies = |t: &Table| {
                if kit.is_proxy(t)? { Err(Error::runtime("export repeat")) } else { Ok(()) }
            };
            refuse_proxies(&t)?;
            TableNode::from_lua(&t, &refuse_proxies)?
        }
        // No proxy was ever made in this state, so `t` holds none.
        None => TableNode::from_lua(&t, &|_| Ok(()))?,
    };
    tree::publish(&name, Some(tree));
    Ok(())
}

/// `table.import(name)`: a read-only proxy of the export, or nil if there is none.
fn import(lua: &Lua, mv: MultiValue) -> Result<Value> {
    let a = Args::new("import", mv);
    let name = a.bytes_with(lua, 1)?;
    if tree::root(&name).is_none() {
        return Ok(Value::Nil);
    }
    Ok(Value::Table(Kit::get(lua)?.proxy(lua, ProxyPath::root(&name))?))
}

/// Adds `export` and `import` to the `table` library, made on first read.
pub fn install(lua: &Lua) -> Result<()> {
    let table: Table = lua.globals().raw_get("table")?;
    crate::lua_api::lazy::install(
        lua,
        &table,
        &[
            ("export", |lua| lua.create_function(export).map(Value::Function)),
            ("import", |lua| lua.create_function(import).map(Value::Function)),
        ],
    )
}
