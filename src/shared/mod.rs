//! Data shared by every service of the process.
//!
//! Services are separate `lua_State`s, possibly on different OS threads, and
//! share no Lua memory. The few things they do share live here, in Rust
//! statics behind locks, and reach Lua only as copies:
//!
//! * [`storage`]: the `storage` key/value store (docs/API.md §13), values kept as
//!   `wrap` bytes.
//! * [`tree`]: the immutable trees published by `table.export` (docs/API.md §12),
//!   read in place by the proxies of `table.import`.
//!
//! Lock order: the storage lock may be held while the tree lock is taken (a
//! `set_if` check may call `table.export`), never the reverse: nothing that
//! holds the tree lock runs Lua code or touches the store.

pub mod storage;
pub mod tree;
