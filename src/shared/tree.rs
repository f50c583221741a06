//! The shared read-only table trees of `table.export` / `table.import` (docs/API.md §12).
//!
//! `table.export(t, name)` turns a Lua table into a [`TableNode`] tree once
//! (copy rules of docs/API.md §3.4, keys restricted to scalars) and publishes it in
//! one process-wide `RwLock<HashMap<name, Arc<TableNode>>>`. Trees are never
//! changed after publication: a re-export builds a new tree and swaps the
//! `Arc` under the write lock, so a reader that cloned the old `Arc` keeps a
//! consistent (if stale) tree and nobody waits on a reader.
//!
//! Readers (the proxies of `table.import`) hold a *path*, the export name plus
//! the keys from the root, not an `Arc`: every access resolves the name again
//! with [`root`] and walks the path with [`TableNode::descend`], so a re-export
//! is seen at once by every proxy, nested ones included. The price is a read
//! lock and one lookup per level on each access.
//!
//! Tables keep Lua's shape: the values at keys `1..n` (the longest run without
//! a hole) form the array part, so `#` is a border as in Lua; every other key
//! goes in a hash map. Iteration order is the array part, then the remaining
//! keys in ascending integer order, then the other keys in the order Lua's
//! `next` listed them at export time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use mlua::{Table, Value};

/// The deepest table nesting that can be exported (the outermost table is level 1),
/// the same limit as `wrap`.
pub const MAX_DEPTH: usize = crate::codec::wrap::MAX_DEPTH;

/// A table key. Lua normalises float keys with an integral value to integers
/// and refuses NaN, so a `Float` key is never integral and never NaN, and
/// comparing its bits is comparing its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Float(u64),
    Bool(bool),
    Str(Arc<[u8]>),
}

impl Key {
    /// The key a float `f` denotes in a Lua table, `None` for NaN (no such key).
    pub fn from_float(f: f64) -> Option<Key> {
        if f.is_nan() {
            None
        } else if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) {
            Some(Key::Int(f as i64))
        } else {
            Some(Key::Float(f.to_bits()))
        }
    }

    /// The key a Lua value denotes; `None` for values that cannot be keys of an
    /// exported tree (nil, NaN, tables, functions, ...).
    pub fn from_lua(v: &Value) -> Option<Key> {
        match v {
            Value::Integer(i) => Some(Key::Int(*i)),
            Value::Number(f) => Key::from_float(*f),
            Value::Boolean(b) => Some(Key::Bool(*b)),
            Value::String(s) => Some(Key::Str(Arc::from(&*s.as_bytes()))),
            _ => None,
        }
    }
}

/// A value in an exported tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<[u8]>),
    Table(Arc<TableNode>),
}

/// An exported table.
#[derive(Debug, Default, PartialEq)]
pub struct TableNode {
    /// Values at keys `1..=array.len()`.
    array: Vec<Node>,
    /// Every other key, in iteration order.
    entries: Vec<(Key, Node)>,
    /// Position of each key of `entries`.
    index: HashMap<Key, usize>,
}

impl TableNode {
    /// Builds a node from `(key, value)` pairs (keys distinct, as in a Lua table).
    pub fn from_pairs(pairs: Vec<(Key, Node)>) -> TableNode {
        let mut ints = HashMap::new();
        let mut others = Vec::new();
        for (k, v) in pairs {
            match k {
                Key::Int(i) => {
                    ints.insert(i, v);
                }
                k => others.push((k, v)),
            }
        }
        let mut array = Vec::new();
        while let Some(v) = ints.remove(&(array.len() as i64 + 1)) {
            array.push(v);
        }
        let mut leftover: Vec<(i64, Node)> = ints.into_iter().collect();
        leftover.sort_by_key(|(i, _)| *i);
        let mut entries: Vec<(Key, Node)> = leftover.into_iter().map(|(i, v)| (Key::Int(i), v)).collect();
        entries.extend(others);
        let index = entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
        TableNode { array, entries, index }
    }

    /// Copies a Lua table (raw access: metatables are ignored, as in `wrap`).
    /// `reject` is asked about every nested table first, so that the binding
    /// can refuse its own proxies.
    pub fn from_lua(t: &Table, reject: &dyn Fn(&Table) -> mlua::Result<()>) -> mlua::Result<TableNode> {
        build(t, reject, 1)
    }

    /// `#t`: the length of the array part (a border of the original table).
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// Whether the table has no keys at all.
    pub fn is_empty(&self) -> bool {
        self.array.is_empty() && self.entries.is_empty()
    }

    /// Number of keys.
    pub fn count(&self) -> usize {
        self.array.len() + self.entries.len()
    }

    pub fn get(&self, key: &Key) -> Option<&Node> {
        if let Key::Int(i) = key
            && *i >= 1
            && let Some(v) = self.array.get((*i - 1) as usize)
        {
            return Some(v);
        }
        self.index.get(key).map(|&at| &self.entries[at].1)
    }

    /// The `pos`-th key and value in iteration order (0-based).
    pub fn entry(&self, pos: usize) -> Option<(Key, &Node)> {
        match self.array.get(pos) {
            Some(v) => Some((Key::Int(pos as i64 + 1), v)),
            None => self.entries.get(pos - self.array.len()).map(|(k, v)| (k.clone(), v)),
        }
    }

    /// The table reached by following `path` from here, `None` if a key is
    /// missing or leads to a non-table.
    pub fn descend(self: &Arc<Self>, path: &[Key]) -> Option<Arc<TableNode>> {
        let mut at = self;
        for key in path {
            match at.get(key)? {
                Node::Table(t) => at = t,
                _ => return None,
            }
        }
        Some(at.clone())
    }
}

fn build(t: &Table, reject: &dyn Fn(&Table) -> mlua::Result<()>, depth: usize) -> mlua::Result<TableNode> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime("export: nesting too deep"));
    }
    let mut pairs = Vec::new();
    t.for_each(|k: Value, v: Value| {
        let key = Key::from_lua(&k).ok_or_else(|| cannot_export(&k, " key"))?;
        pairs.push((key, node(&v, reject, depth)?));
        Ok(())
    })?;
    Ok(TableNode::from_pairs(pairs))
}

fn node(v: &Value, reject: &dyn Fn(&Table) -> mlua::Result<()>, depth: usize) -> mlua::Result<Node> {
    Ok(match v {
        Value::Boolean(b) => Node::Bool(*b),
        Value::Integer(i) => Node::Int(*i),
        Value::Number(f) => Node::Float(*f),
        Value::String(s) => Node::Str(s.as_bytes().to_vec().into_boxed_slice()),
        Value::Table(t) => {
            reject(t)?;
            Node::Table(Arc::new(build(t, reject, depth + 1)?))
        }
        other => return Err(cannot_export(other, "")),
    })
}

fn cannot_export(v: &Value, what: &str) -> mlua::Error {
    let ty = crate::codec::type_name(Some(v));
    mlua::Error::runtime(format!("cannot export a {ty}{what}"))
}

type Exports = HashMap<Box<[u8]>, Arc<TableNode>>;

static EXPORTS: LazyLock<RwLock<Exports>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// Publishes `tree` under `name`, replacing any previous tree, or removes the
/// export when `tree` is `None`. The old tree is freed after the lock is
/// released (readers still using it keep their own `Arc`).
pub fn publish(name: &[u8], tree: Option<TableNode>) {
    let old = {
        let mut exports = EXPORTS.write().unwrap_or_else(PoisonError::into_inner);
        match tree {
            Some(tree) => exports.insert(name.into(), Arc::new(tree)),
            None => exports.remove(name),
        }
    };
    drop(old);
}

/// The tree currently exported under `name`.
pub fn root(name: &[u8]) -> Option<Arc<TableNode>> {
    EXPORTS.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
}

/// The table at `path` under the current export `name` (what a proxy reads).
pub fn resolve(name: &[u8], path: &[Key]) -> Option<Arc<TableNode>> {
    root(name)?.descend(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Lua;

    fn no_reject(_: &Table) -> mlua::Result<()> {
        Ok(())
    }

    fn str_key(s: &str) -> Key {
        Key::Str(Arc::from(s.as_bytes()))
    }

    fn tree(lua: &Lua, src: &str) -> mlua::Result<TableNode> {
        let t: Table = lua.load(src).eval()?;
        TableNode::from_lua(&t, &no_reject)
    }

    #[test]
    fn float_keys_normalise_like_lua() {
        assert_eq!(Key::from_float(2.0), Some(Key::Int(2)));
        assert_eq!(Key::from_float(-0.0), Some(Key::Int(0)));
        assert_eq!(Key::from_float(2.5), Some(Key::Float(2.5f64.to_bits())));
        assert_eq!(Key::from_float(f64::NAN), None);
        assert_eq!(Key::from_float(2f64.powi(63)), Some(Key::Float(2f64.powi(63).to_bits())));
        assert_eq!(Key::from_float(-(2f64.powi(63))), Some(Key::Int(i64::MIN)));
    }

    #[test]
    fn builds_array_and_hash_parts() {
        let lua = Lua::new();
        let t = tree(&lua, "return {10, 20, 30, [5] = 50, [0] = 0, x = 'y', [2.5] = true, [false] = 1.5, sub = {1}}").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.count(), 9);
        assert_eq!(t.get(&Key::Int(2)), Some(&Node::Int(20)));
        assert_eq!(t.get(&Key::Int(5)), Some(&Node::Int(50)));
        assert_eq!(t.get(&Key::Int(4)), None);
        assert_eq!(t.get(&str_key("x")), Some(&Node::Str(b"y".to_vec().into())));
        assert_eq!(t.get(&Key::from_float(2.5).unwrap()), Some(&Node::Bool(true)));
        assert_eq!(t.get(&Key::Bool(false)), Some(&Node::Float(1.5)));
        let Some(Node::Table(sub)) = t.get(&str_key("sub")) else { panic!("sub is not a table") };
        assert_eq!(sub.get(&Key::Int(1)), Some(&Node::Int(1)));
        // Iteration: array part, leftover integers ascending, then the rest.
        let keys: Vec<Key> = (0..).map_while(|i| t.entry(i).map(|(k, _)| k)).collect();
        assert_eq!(keys.len(), 9);
        assert_eq!(&keys[..5], &[Key::Int(1), Key::Int(2), Key::Int(3), Key::Int(0), Key::Int(5)]);
    }

    #[test]
    fn empty_and_holey_tables() {
        let lua = Lua::new();
        let t = tree(&lua, "return {}").unwrap();
        assert!(t.is_empty() && t.entry(0).is_none());
        let t = tree(&lua, "return {[2] = 2, [3] = 3}").unwrap();
        assert_eq!(t.len(), 0);
        assert_eq!(t.count(), 2);
    }

    #[test]
    fn refuses_what_cannot_be_copied() {
        let lua = Lua::new();
        let e = tree(&lua, "return {f = print}").unwrap_err().to_string();
        assert!(e.contains("cannot export a function"), "{e}");
        let e = tree(&lua, "return {[{}] = 1}").unwrap_err().to_string();
        assert!(e.contains("cannot export a table key"), "{e}");
        let e = tree(&lua, "local t = {} t.t = t return t").unwrap_err().to_string();
        assert!(e.contains("nesting too deep"), "{e}");
        assert!(tree(&lua, "local t = {} for i = 2, 64 do t = {t} end return t").is_ok());
        assert!(tree(&lua, "local t = {} for i = 2, 65 do t = {t} end return t").is_err());
    }

    #[test]
    fn reject_sees_nested_tables_only() {
        let lua = Lua::new();
        let t: Table = lua.load("return {a = {b = {}}}").eval().unwrap();
        let seen = std::cell::Cell::new(0);
        let count = |_: &Table| {
            seen.set(seen.get() + 1);
            Ok(())
        };
        TableNode::from_lua(&t, &count).unwrap();
        assert_eq!(seen.get(), 2);
        let refuse = |_: &Table| Err(mlua::Error::runtime("export repeat"));
        assert!(TableNode::from_lua(&t, &refuse).is_err());
    }

    #[test]
    fn publish_resolve_replace_and_remove() {
        let lua = Lua::new();
        let name = b"tree-test-publish";
        assert!(root(name).is_none());
        publish(name, Some(tree(&lua, "return {a = {b = {c = 1}}}").unwrap()));
        let path = [str_key("a"), str_key("b")];
        let old_root = root(name).unwrap();
        assert_eq!(resolve(name, &path).unwrap().get(&str_key("c")), Some(&Node::Int(1)));
        publish(name, Some(tree(&lua, "return {a = {b = {c = 2}}}").unwrap()));
        assert_eq!(resolve(name, &path).unwrap().get(&str_key("c")), Some(&Node::Int(2)));
        // A reader holding the old root still sees a whole, consistent old tree.
        assert_eq!(old_root.descend(&path).unwrap().get(&str_key("c")), Some(&Node::Int(1)));
        publish(name, Some(tree(&lua, "return {a = 1}").unwrap()));
        assert!(resolve(name, &path).is_none());
        publish(name, None);
        assert!(root(name).is_none());
    }

    #[test]
    fn concurrent_readers_see_whole_trees() {
        let name: &'static [u8] = b"tree-test-concurrent";
        let make = |n: i64| TableNode::from_pairs(vec![(Key::Int(1), Node::Int(n)), (Key::Int(2), Node::Int(n))]);
        publish(name, Some(make(0)));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        let t = root(name).unwrap();
                        assert_eq!(t.get(&Key::Int(1)), t.get(&Key::Int(2)));
                    }
                })
            })
            .collect();
        for n in 1..500 {
            publish(name, Some(make(n)));
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(root(name).unwrap().get(&Key::Int(1)), Some(&Node::Int(499)));
    }
}
