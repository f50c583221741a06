//! Data structures behind `std.list` and `std.skiplist`, free of Lua.
//!
//! The Lua bindings (`lua_api/std_lib.rs`) keep the Lua values themselves in
//! tables the garbage collector can see; these modules only keep the order,
//! addressed by small integer handles, so they can be tested on their own.
//!
//! * [`list`]: doubly linked list in a slab, with generation-checked handles.
//! * [`skiplist`]: ranked skiplist with back links, ordered by a caller's comparator.
//! * [`score`]: a Lua number (integer or float) compared exactly, as Lua does.

pub mod list;
pub mod score;
pub mod skiplist;
