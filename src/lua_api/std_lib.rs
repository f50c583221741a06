//! `std.list()` and `std.skiplist([comp])` (docs/API.md §7).
//!
//! The order lives in the Rust cores (`collections::list`, `collections::skiplist`);
//! the Lua values live in Lua tables stored as the userdata's user value, where
//! the garbage collector sees them. (A Rust-side registry reference would be a
//! root the collector cannot trace, so a list holding an object that holds the
//! list would never be freed.)
//!
//! * list: user value = `{ [slot + 1] = value }`, indexed by the handle's slot.
//! * skiplist: user value = `{ index, values, comp }` where `index[data] = id`
//!   and `values[id] = data`. Keying `index` by the data itself gives Lua's own
//!   equality for free: tables/functions/userdata by identity, strings and
//!   numbers by value (`1` and `1.0` are the same element).
//!
//! Iterators (`pairs(list)`, `sl:rank_pairs()`) remember the element they
//! yielded last and its successor at that time, both as checked handles, so
//! removing the current element (or any other) inside the loop is safe: the
//! loop carries on from the element after it.

use std::cmp::Ordering;

use mlua::{
    AnyUserData, Function, Integer, Lua, MetaMethod, MultiValue, Result, Table, UserData, UserDataMethods, Value,
};

use super::args::{Args, bad_argument, type_name};
use crate::collections::list::{Handle, List};
use crate::collections::score::Score;
use crate::collections::skiplist::{Entry, NodeId, SkipList};

pub fn create(lua: &Lua) -> Result<Table> {
    let std = lua.create_table()?;
    std.set(
        "list",
        lua.create_function(|lua, _: MultiValue| {
            let ud = lua.create_userdata(LuaList { list: List::new(), cursor: None })?;
            ud.set_user_value(lua.create_table()?)?;
            Ok(ud)
        })?,
    )?;
    std.set("skiplist", lua.create_function(new_skiplist)?)?;
    Ok(std)
}

/// Argument `n` as any non-nil value.
fn any(args: &Args, n: usize, fname: &str) -> Result<Value> {
    match args.value(n) {
        Value::Nil => {
            let got = if args.len() < n { "no value" } else { "nil" };
            Err(bad_argument(n, fname, format!("value expected, got {got}")))
        }
        v => Ok(v),
    }
}

// ---------------------------------------------------------------- std.list

struct LuaList {
    list: List<()>,
    /// The element last yielded by a running `pairs` loop (for `erase()`).
    cursor: Option<Handle>,
}

impl UserData for LuaList {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_function("size", |_, a: MultiValue| list_len(&Args::new("size", a)));
        m.add_meta_function(MetaMethod::Len, |_, a: MultiValue| list_len(&Args::new("__len", a)));
        m.add_function("empty", |_, a: MultiValue| {
            let a = Args::new("empty", a);
            Ok(a.userdata::<LuaList>(1, "list")?.borrow::<LuaList>()?.list.is_empty())
        });
        m.add_function("clear", |lua, a: MultiValue| {
            let ud = Args::new("clear", a).userdata::<LuaList>(1, "list")?;
            let mut l = ud.borrow_mut::<LuaList>()?;
            l.list.clear();
            l.cursor = None;
            ud.set_user_value(lua.create_table()?)
        });
        m.add_function("front", |_, a: MultiValue| {
            let ud = Args::new("front", a).userdata::<LuaList>(1, "list")?;
            let h = ud.borrow::<LuaList>()?.list.first();
            list_value(&ud, h)
        });
        m.add_function("back", |_, a: MultiValue| {
            let ud = Args::new("back", a).userdata::<LuaList>(1, "list")?;
            let h = ud.borrow::<LuaList>()?.list.last();
            list_value(&ud, h)
        });
        m.add_function("push_back", |_, a: MultiValue| list_push(Args::new("push_back", a), "push_back", true));
        m.add_function("push_front", |_, a: MultiValue| list_push(Args::new("push_front", a), "push_front", false));
        m.add_function("pop_back", |_, a: MultiValue| {
            let ud = Args::new("pop_back", a).userdata::<LuaList>(1, "list")?;
            let popped = ud.borrow_mut::<LuaList>()?.list.pop_back();
            list_take(&ud, popped.map(|p| p.0))
        });
        m.add_function("pop_front", |_, a: MultiValue| {
            let ud = Args::new("pop_front", a).userdata::<LuaList>(1, "list")?;
            let popped = ud.borrow_mut::<LuaList>()?.list.pop_front();
            list_take(&ud, popped.map(|p| p.0))
        });
        m.add_function("reverse", |_, a: MultiValue| {
            let ud = Args::new("reverse", a).userdata::<LuaList>(1, "list")?;
            ud.borrow_mut::<LuaList>()?.list.reverse();
            Ok(())
        });
        m.add_function("erase", |_, a: MultiValue| {
            let a = Args::new("erase", a);
            let ud = a.userdata::<LuaList>(1, "list")?;
            let iter = a.opt_integer(2)?;
            let mut l = ud.borrow_mut::<LuaList>()?;
            let target = match (iter, l.cursor) {
                (Some(bits), _) => Some(Handle::from_bits(bits)),
                (None, Some(cursor)) => Some(cursor),
                (None, None) => l.list.last(),
            };
            let Some(h) = target.filter(|h| l.list.contains(*h)) else { return Ok(false) };
            l.list.remove(h);
            drop(l);
            let values: Table = ud.user_value()?;
            values.raw_set(h.slot() + 1, Value::Nil)?;
            Ok(true)
        });
        m.add_meta_function(MetaMethod::Pairs, |lua, a: MultiValue| {
            let ud = Args::new("pairs", a).userdata::<LuaList>(1, "list")?;
            ud.borrow_mut::<LuaList>()?.cursor = None;
            let mut walk = Walk::<Handle>::default();
            lua.create_function_mut(move |_, ()| {
                let mut l = ud.borrow_mut::<LuaList>()?;
                let list = &l.list;
                let cur = walk.step(|| list.first(), |h| list.contains(h), |h| list.next(h));
                if let Some(h) = cur {
                    walk.yielded(h, list.next(h));
                }
                l.cursor = cur;
                drop(l);
                let Some(h) = cur else { return Ok((Value::Nil, Value::Nil)) };
                let values: Table = ud.user_value()?;
                Ok((values.raw_get(h.slot() + 1)?, Value::Integer(h.to_bits())))
            })
        });
    }
}

/// Where a loop is: the element yielded last and its successor at that time.
/// `H` is a checked handle; `step` picks the next element to yield.
struct Walk<H> {
    started: bool,
    last: Option<H>,
    next_of_last: Option<H>,
}

impl<H> Default for Walk<H> {
    fn default() -> Self {
        Walk { started: false, last: None, next_of_last: None }
    }
}

impl<H: Copy> Walk<H> {
    /// If the last element is still there, its current successor; if it was
    /// removed, the successor it had (when that is still there); else the end.
    fn step(
        &mut self,
        first: impl FnOnce() -> Option<H>,
        live: impl Fn(H) -> bool,
        next: impl Fn(H) -> Option<H>,
    ) -> Option<H> {
        if !self.started {
            self.started = true;
            return first();
        }
        match self.last {
            Some(last) if live(last) => next(last),
            _ => self.next_of_last.filter(|&n| live(n)),
        }
    }

    fn yielded(&mut self, h: H, next: Option<H>) {
        self.last = Some(h);
        self.next_of_last = next;
    }
}

fn list_len(a: &Args) -> Result<usize> {
    Ok(a.userdata::<LuaList>(1, "list")?.borrow::<LuaList>()?.list.len())
}

fn list_value(ud: &AnyUserData, h: Option<Handle>) -> Result<Value> {
    match h {
        Some(h) => ud.user_value::<Table>()?.raw_get(h.slot() + 1),
        None => Ok(Value::Nil),
    }
}

/// Takes the value of a just-removed element out of the values table.
fn list_take(ud: &AnyUserData, h: Option<Handle>) -> Result<Value> {
    let Some(h) = h else { return Ok(Value::Nil) };
    let values: Table = ud.user_value()?;
    let v = values.raw_get(h.slot() + 1)?;
    values.raw_set(h.slot() + 1, Value::Nil)?;
    Ok(v)
}

fn list_push(a: Args, fname: &'static str, back: bool) -> Result<Integer> {
    let ud = a.userdata::<LuaList>(1, "list")?;
    let v = any(&a, 2, fname)?;
    let values: Table = ud.user_value()?;
    let h = {
        let mut l = ud.borrow_mut::<LuaList>()?;
        if back { l.list.push_back(()) } else { l.list.push_front(()) }
    };
    if let Err(e) = values.raw_set(h.slot() + 1, v) {
        ud.borrow_mut::<LuaList>()?.list.remove(h);
        return Err(e);
    }
    Ok(h.to_bits())
}

// ---------------------------------------------------------------- std.skiplist

enum Order {
    Ascending,
    Descending,
    /// A Lua function, kept in the user value (slot 3).
    Custom,
}

struct LuaSkipList {
    sl: SkipList<Score>,
    order: Order,
}

const INDEX: i64 = 1;
const VALUES: i64 = 2;
const COMP: i64 = 3;

fn new_skiplist(lua: &Lua, a: MultiValue) -> Result<AnyUserData> {
    let a = Args::new("skiplist", a);
    let (order, comp) = match a.value(1) {
        Value::Nil | Value::Boolean(false) => (Order::Ascending, Value::Nil),
        Value::Boolean(true) => (Order::Descending, Value::Nil),
        f @ Value::Function(_) => (Order::Custom, f),
        v => {
            let got = type_name(Some(&v));
            return Err(bad_argument(1, "skiplist", format!("function or boolean expected, got {got}")));
        }
    };
    let ud = lua.create_userdata(LuaSkipList { sl: SkipList::new(), order })?;
    let uv = lua.create_table()?;
    uv.raw_set(INDEX, lua.create_table()?)?;
    uv.raw_set(VALUES, lua.create_table()?)?;
    uv.raw_set(COMP, comp)?;
    ud.set_user_value(uv)?;
    Ok(ud)
}

/// The skiplist's user value tables: `(index, values)`.
fn sl_tables(ud: &AnyUserData) -> Result<(Table, Table)> {
    let uv: Table = ud.user_value()?;
    Ok((uv.raw_get(INDEX)?, uv.raw_get(VALUES)?))
}

fn sl_id(index: &Table, data: &Value) -> Result<Option<NodeId>> {
    Ok(match index.raw_get::<Value>(data)? {
        Value::Integer(i) => Some(i as NodeId),
        _ => None,
    })
}

/// Argument `n` as an element: any non-nil value except NaN (which cannot be a table key).
fn sl_data(a: &Args, n: usize, fname: &str) -> Result<Value> {
    let v = any(a, n, fname)?;
    if matches!(v, Value::Number(f) if f.is_nan()) {
        return Err(bad_argument(n, fname, "value is NaN"));
    }
    Ok(v)
}

fn score_of(v: &Value) -> Option<Score> {
    match *v {
        Value::Integer(i) => Some(Score::Int(i)),
        Value::Number(f) => Some(Score::Float(f)),
        _ => None,
    }
}

/// Argument `n` as a score (a number, not NaN).
fn sl_score(a: &Args, n: usize, fname: &str) -> Result<Score> {
    let v = a.value(n);
    match score_of(&v) {
        Some(s) if s.is_nan() => Err(bad_argument(n, fname, "score is NaN")),
        Some(s) => Ok(s),
        None => {
            let got = if a.len() < n { "no value" } else { type_name(Some(&v)) };
            Err(bad_argument(n, fname, format!("number expected, got {got}")))
        }
    }
}

fn score_value(s: Score) -> Value {
    match s {
        Score::Int(i) => Value::Integer(i),
        Score::Float(f) => Value::Number(f),
    }
}

/// Inserts `data` (known absent) or moves it (`existing`) to `score`, calling
/// the Lua comparator if there is one. On a comparator error nothing changes.
fn sl_put(ud: &AnyUserData, data: Value, score: Score, existing: Option<NodeId>) -> Result<()> {
    let uv: Table = ud.user_value()?;
    let (index, values): (Table, Table) = (uv.raw_get(INDEX)?, uv.raw_get(VALUES)?);
    let comp: Option<Function> = uv.raw_get(COMP)?;
    let mut guard = ud.borrow_mut::<LuaSkipList>()?;
    let this = &mut *guard;
    let builtin = |desc: bool| {
        move |a: &Entry<Score>, b: &Entry<Score>| -> Result<Ordering> {
            let o = a.score.compare(b.score);
            Ok(if desc { o.reverse() } else { o }.then(a.seq.cmp(&b.seq)))
        }
    };
    // `cmp(existing, new)`: the new element's data is not in `values` yet.
    let custom = |a: &Entry<Score>, b: &Entry<Score>| -> Result<Ordering> {
        let Some(comp) = &comp else { return Err(mlua::Error::runtime("skiplist comparator missing")) };
        let a_data: Value = values.raw_get(a.id)?;
        let tiebreak = if a.seq < b.seq { -1 } else { 1 };
        let r: Value = comp.call((a_data, &data, score_value(a.score), score_value(b.score), tiebreak))?;
        let n = match r {
            Value::Integer(i) => i as f64,
            Value::Number(f) => f,
            v => {
                let got = type_name(Some(&v));
                return Err(mlua::Error::runtime(format!("skiplist comparator must return a number, got {got}")));
            }
        };
        Ok(if n < 0.0 { Ordering::Less } else if n > 0.0 { Ordering::Greater } else { Ordering::Equal })
    };
    let result = match (existing, &this.order) {
        (None, Order::Ascending) => this.sl.insert(score, builtin(false)),
        (None, Order::Descending) => this.sl.insert(score, builtin(true)),
        (None, Order::Custom) => this.sl.insert(score, custom),
        (Some(id), Order::Ascending) => this.sl.update(id, score, builtin(false)).unwrap_or(Ok(id)),
        (Some(id), Order::Descending) => this.sl.update(id, score, builtin(true)).unwrap_or(Ok(id)),
        (Some(id), Order::Custom) => this.sl.update(id, score, custom).unwrap_or(Ok(id)),
    };
    drop(guard);
    let id = result?;
    if let Some(old) = existing {
        values.raw_set(old, Value::Nil)?;
    }
    values.raw_set(id, &data)?;
    index.raw_set(data, id)?;
    Ok(())
}

/// Removes the element `id` (which is `data`) from the core and both tables.
fn sl_remove(ud: &AnyUserData, id: NodeId) -> Result<Option<(Value, Score)>> {
    let Some(entry) = ud.borrow_mut::<LuaSkipList>()?.sl.remove(id) else { return Ok(None) };
    let (index, values) = sl_tables(ud)?;
    let data: Value = values.raw_get(id)?;
    values.raw_set(id, Value::Nil)?;
    index.raw_set(&data, Value::Nil)?;
    Ok(Some((data, entry.score)))
}

fn sl_lookup(ud: &AnyUserData, data: &Value) -> Result<Option<NodeId>> {
    let (index, _) = sl_tables(ud)?;
    sl_id(&index, data)
}

fn sl_delete(ud: &AnyUserData, data: &Value) -> Result<bool> {
    match sl_lookup(ud, data)? {
        Some(id) => Ok(sl_remove(ud, id)?.is_some()),
        None => Ok(false),
    }
}

/// `update(data, score|nil)`, shared by `update` and `__newindex`.
fn sl_update(ud: &AnyUserData, a: &Args, fname: &str) -> Result<()> {
    let data = sl_data(a, 2, fname)?;
    let existing = sl_lookup(ud, &data)?;
    if a.is_none(3) {
        if let Some(id) = existing {
            sl_remove(ud, id)?;
        }
        return Ok(());
    }
    let score = sl_score(a, 3, fname)?;
    sl_put(ud, data, score, existing)
}

/// Checks `[min, max]` against `[1, len]`. Defaults: 1 and `len` (or `max_default`).
fn rank_bounds(a: &Args, len: usize, fname: &str, max_default: Option<i64>) -> Result<(usize, usize)> {
    let min = a.opt_integer(2)?.unwrap_or(1);
    let max = a.opt_integer(3)?.or(max_default).unwrap_or(len as i64);
    if min < 1 || max < min || max > len as i64 {
        return Err(mlua::Error::runtime(format!("{fname}: bad rank range [{min}, {max}], size is {len}")));
    }
    Ok((min as usize, max as usize))
}

fn sl_len(a: &Args) -> Result<usize> {
    Ok(a.userdata::<LuaSkipList>(1, "skiplist")?.borrow::<LuaSkipList>()?.sl.len())
}

fn sl_by_rank(lua: &Lua, a: &Args, delete: bool) -> Result<(Value, Value)> {
    let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
    let rank = a.integer(2)?;
    let id = {
        let s = ud.borrow::<LuaSkipList>()?;
        usize::try_from(rank).ok().and_then(|r| s.sl.by_rank(r))
    };
    let Some(id) = id else { return err_index(lua) };
    if delete {
        return match sl_remove(&ud, id)? {
            Some((data, score)) => Ok((data, score_value(score))),
            None => err_index(lua),
        };
    }
    let score = ud.borrow::<LuaSkipList>()?.sl.get(id).map(|e| e.score);
    let (_, values) = sl_tables(&ud)?;
    Ok((values.raw_get(id)?, score.map_or(Value::Nil, score_value)))
}

fn err_index(lua: &Lua) -> Result<(Value, Value)> {
    Ok((Value::Nil, Value::String(lua.create_string("err index")?)))
}

/// The iterator behind `rank_pairs` and `pairs(sl)`: yields `rank, data, score`
/// for at most `count` elements starting at rank `min`.
fn sl_rank_pairs(lua: &Lua, ud: AnyUserData, min: usize, count: usize) -> Result<Function> {
    let mut walk = Walk::<(NodeId, u64)>::default();
    let mut left = count;
    lua.create_function_mut(move |_, ()| {
        let nil = (Value::Nil, Value::Nil, Value::Nil);
        if left == 0 {
            return Ok(nil);
        }
        let s = ud.borrow::<LuaSkipList>()?;
        let sl = &s.sl;
        let with_seq = |id: NodeId| sl.get(id).map(|e| (id, e.seq));
        let cur = walk.step(
            || sl.by_rank(min).and_then(with_seq),
            |(id, seq)| sl.is_live(id, seq),
            |(id, _)| sl.next(id).and_then(with_seq),
        );
        let Some((id, seq)) = cur else {
            left = 0;
            return Ok(nil);
        };
        walk.yielded((id, seq), sl.next(id).and_then(with_seq));
        left -= 1;
        let rank = sl.rank(id).unwrap_or(0);
        let score = sl.get(id).map_or(Value::Nil, |e| score_value(e.score));
        drop(s);
        let (_, values) = sl_tables(&ud)?;
        Ok((Value::Integer(rank as i64), values.raw_get(id)?, score))
    })
}

impl UserData for LuaSkipList {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_function("insert", |_, a: MultiValue| {
            let a = Args::new("insert", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let data = sl_data(&a, 2, "insert")?;
            let score = sl_score(&a, 3, "insert")?;
            if sl_lookup(&ud, &data)?.is_some() {
                return Err(mlua::Error::runtime("value exists"));
            }
            sl_put(&ud, data, score, None)?;
            Ok(true)
        });
        m.add_function("update", |_, a: MultiValue| {
            let a = Args::new("update", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            sl_update(&ud, &a, "update")
        });
        m.add_meta_function(MetaMethod::NewIndex, |_, a: MultiValue| {
            let a = Args::new("__newindex", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            sl_update(&ud, &a, "__newindex")
        });
        m.add_function("delete", |_, a: MultiValue| {
            let a = Args::new("delete", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            sl_delete(&ud, &sl_data(&a, 2, "delete")?)
        });
        m.add_function("exists", |_, a: MultiValue| {
            let a = Args::new("exists", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            Ok(sl_lookup(&ud, &any(&a, 2, "exists")?)?.is_some())
        });
        m.add_function("get_score", |_, a: MultiValue| {
            let a = Args::new("get_score", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let id = sl_lookup(&ud, &any(&a, 2, "get_score")?)?;
            let s = ud.borrow::<LuaSkipList>()?;
            Ok(id.and_then(|id| s.sl.get(id)).map_or(Value::Nil, |e| score_value(e.score)))
        });
        m.add_meta_function(MetaMethod::Index, |_, a: MultiValue| {
            // Reached only for keys that are not method names (mlua looks methods up first).
            let a = Args::new("__index", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let key = a.value(2);
            if key.is_nil() {
                return Ok(Value::Nil);
            }
            let id = sl_lookup(&ud, &key)?;
            let s = ud.borrow::<LuaSkipList>()?;
            Ok(id.and_then(|id| s.sl.get(id)).map_or(Value::Nil, |e| score_value(e.score)))
        });
        m.add_function("rank_of", |_, a: MultiValue| {
            let a = Args::new("rank_of", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let id = sl_lookup(&ud, &any(&a, 2, "rank_of")?)?;
            let s = ud.borrow::<LuaSkipList>()?;
            Ok(id.and_then(|id| s.sl.rank(id)))
        });
        m.add_function("size", |_, a: MultiValue| sl_len(&Args::new("size", a)));
        m.add_meta_function(MetaMethod::Len, |_, a: MultiValue| sl_len(&Args::new("__len", a)));
        m.add_function("get_by_rank", |lua, a: MultiValue| sl_by_rank(lua, &Args::new("get_by_rank", a), false));
        m.add_function("del_by_rank", |lua, a: MultiValue| sl_by_rank(lua, &Args::new("del_by_rank", a), true));
        m.add_function("del_by_rank_range", |_, a: MultiValue| {
            let a = Args::new("del_by_rank_range", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let min = a.integer(2)?;
            let len = ud.borrow::<LuaSkipList>()?.sl.len();
            let (min, max) = rank_bounds(&a, len, "del_by_rank_range", Some(min))?;
            let mut id = ud.borrow::<LuaSkipList>()?.sl.by_rank(min);
            let mut removed = 0;
            while let Some(cur) = id.filter(|_| removed < max - min + 1) {
                id = ud.borrow::<LuaSkipList>()?.sl.next(cur);
                if sl_remove(&ud, cur)?.is_some() {
                    removed += 1;
                }
            }
            Ok(removed)
        });
        m.add_function("rank_range", |lua, a: MultiValue| {
            let a = Args::new("rank_range", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let len = ud.borrow::<LuaSkipList>()?.sl.len();
            let out = lua.create_table()?;
            if len == 0 && a.is_none(2) && a.is_none(3) {
                return Ok(out);
            }
            let (min, max) = rank_bounds(&a, len, "rank_range", None)?;
            let (_, values) = sl_tables(&ud)?;
            let s = ud.borrow::<LuaSkipList>()?;
            let mut id = s.sl.by_rank(min);
            for rank in min..=max {
                let Some(cur) = id else { break };
                out.raw_set(rank, values.raw_get::<Value>(cur)?)?;
                id = s.sl.next(cur);
            }
            Ok(out)
        });
        m.add_function("rank_pairs", |lua, a: MultiValue| {
            let a = Args::new("rank_pairs", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let len = ud.borrow::<LuaSkipList>()?.sl.len();
            if len == 0 && a.is_none(2) && a.is_none(3) {
                return sl_rank_pairs(lua, ud, 1, 0);
            }
            let (min, max) = rank_bounds(&a, len, "rank_pairs", None)?;
            sl_rank_pairs(lua, ud, min, max - min + 1)
        });
        m.add_meta_function(MetaMethod::Pairs, |lua, a: MultiValue| {
            let a = Args::new("pairs", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let len = ud.borrow::<LuaSkipList>()?.sl.len();
            sl_rank_pairs(lua, ud, 1, len)
        });
        m.add_function("score_range", |lua, a: MultiValue| {
            let a = Args::new("score_range", a);
            let ud = a.userdata::<LuaSkipList>(1, "skiplist")?;
            let min = sl_score(&a, 2, "score_range")?;
            let max = if a.is_none(3) { Score::Float(f64::INFINITY) } else { sl_score(&a, 3, "score_range")? };
            if min.compare(max) == Ordering::Greater {
                return Err(bad_argument(3, "score_range", "max is less than min"));
            }
            let in_range = |s: Score| s.compare(min) != Ordering::Less && s.compare(max) != Ordering::Greater;
            let s = ud.borrow::<LuaSkipList>()?;
            let sl = &s.sl;
            let ids: Vec<NodeId> = match s.order {
                Order::Ascending | Order::Descending => {
                    let asc = matches!(s.order, Order::Ascending);
                    let first = if asc {
                        sl.first_where(|e| e.score.compare(min) != Ordering::Less)
                    } else {
                        sl.first_where(|e| e.score.compare(max) != Ordering::Greater)
                    };
                    std::iter::successors(first, |&id| sl.next(id))
                        .take_while(|&id| sl.get(id).is_some_and(|e| in_range(e.score)))
                        .collect()
                }
                // Any order: look at every element.
                Order::Custom => sl.iter().filter(|e| in_range(e.score)).map(|e| e.id).collect(),
            };
            let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { return Ok(MultiValue::new()) };
            let (rank_min, rank_max) = (sl.rank(first).unwrap_or(0), sl.rank(last).unwrap_or(0));
            drop(s);
            let (_, values) = sl_tables(&ud)?;
            let out = lua.create_table_with_capacity(ids.len(), 0)?;
            for (i, id) in ids.iter().enumerate() {
                out.raw_set(i + 1, values.raw_get::<Value>(*id)?)?;
            }
            Ok(MultiValue::from_vec(vec![
                Value::Table(out),
                Value::Integer(rank_min as i64),
                Value::Integer(rank_max as i64),
            ]))
        });
    }
}
