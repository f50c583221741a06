//! The process-wide key/value store behind `storage` (docs/API.md §13).
//!
//! One map from key bytes to value bytes under one mutex. A value is the
//! `wrap` encoding of the whole list of values stored under the key (trailing
//! nils included), so this file never sees a Lua value: the binding encodes
//! before locking and decodes after, and a stored value is an `Arc<[u8]>` so a
//! read under the lock is a reference-count increment, not a copy.
//!
//! # `set_if` and re-entry
//!
//! `set_if` runs a caller-supplied check while holding the lock, and the check
//! (Lua code) may read the store. A plain mutex would deadlock on that read, so
//! the guard of a running check is parked in a thread-local stack ([`HELD`]):
//!
//! 1. Reads (`get`, `exist`, `len`, `is_empty`) first look for a parked guard
//!    of the same store on this thread and read through it; otherwise they lock.
//! 2. Writes (`set`, `erase`, `clear`, a nested `set_if`) on a thread that has a
//!    parked guard of the same store fail with [`Busy`] instead of deadlocking:
//!    a check that writes would break the atomicity `set_if` promises.
//! 3. The guard is parked only while the check runs, on the thread that took
//!    it, and is taken back (or dropped, if the check unwinds) before `set_if`
//!    returns, so no other code can ever see it.
//!
//! Other threads simply wait on the mutex while a check runs; a check must be
//! short and must not block (the binding calls it as a non-yieldable call).
//!
//! A poisoned mutex is recovered: no code path panics half-way through a
//! change of the map, so its contents are always consistent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

/// Stored bytes: the `wrap` encoding of all values of one key.
pub type Bytes = Arc<[u8]>;

type Map = HashMap<Box<[u8]>, Bytes>;

/// A write was attempted from inside a `set_if` check on the same thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot write to the storage inside a set_if check")
    }
}

impl std::error::Error for Busy {}

/// A key/value store; [`global`] is the one `storage` uses.
pub struct Store {
    map: Mutex<Map>,
}

/// The guard of a store whose `set_if` check is running on this thread.
struct Held {
    /// Identity of the store (its address); only compared, never dereferenced.
    store: usize,
    guard: MutexGuard<'static, Map>,
}

thread_local! {
    /// Guards parked by running `set_if` checks on this thread (a stack, so
    /// that a check of one store may run `set_if` on another).
    static HELD: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
}

/// Parks a guard in [`HELD`] for the duration of a check; dropping it (also on
/// unwind) removes the guard again, which unlocks unless it was taken back.
struct Parked {
    store: usize,
}

impl Parked {
    fn new(store: usize, guard: MutexGuard<'static, Map>) -> Parked {
        HELD.with(|h| h.borrow_mut().push(Held { store, guard }));
        Parked { store }
    }

    /// Takes the guard back for the write that follows a successful check.
    fn release(self) -> Option<MutexGuard<'static, Map>> {
        let guard = take_held(self.store);
        std::mem::forget(self);
        guard
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        drop(take_held(self.store));
    }
}

fn take_held(store: usize) -> Option<MutexGuard<'static, Map>> {
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        let at = held.iter().rposition(|x| x.store == store)?;
        Some(held.remove(at).guard)
    })
}

/// What a `set_if` call did.
#[derive(Debug, PartialEq, Eq)]
pub enum SetIf {
    /// The check said yes: the new value is stored; this is the previous one.
    Stored(Option<Bytes>),
    /// The check said no: nothing changed.
    Refused,
}

static GLOBAL: LazyLock<Store> = LazyLock::new(Store::new);

/// The process-wide store used by every service's `storage` table.
pub fn global() -> &'static Store {
    &GLOBAL
}

/// Whether this thread is running a `set_if` check of any store, i.e. holds a
/// store lock. The runtime can refuse to block (and so stall every other
/// service that touches the store) while this is true.
pub fn check_running() -> bool {
    HELD.with(|h| !h.borrow().is_empty())
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Store {
        Store { map: Mutex::new(HashMap::new()) }
    }

    fn id(&'static self) -> usize {
        self as *const Store as usize
    }

    fn lock(&'static self) -> MutexGuard<'static, Map> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the map for reading: through this thread's parked guard if
    /// a check of this store is running here (rule 1), else under the lock.
    fn read<R>(&'static self, f: impl FnOnce(&Map) -> R) -> R {
        let id = self.id();
        HELD.with(|h| match h.borrow().iter().rev().find(|x| x.store == id) {
            Some(parked) => f(&parked.guard),
            None => f(&self.lock()),
        })
    }

    /// Locks the map for writing, or fails with [`Busy`] inside a check (rule 2).
    fn write(&'static self) -> Result<MutexGuard<'static, Map>, Busy> {
        let id = self.id();
        if HELD.with(|h| h.borrow().iter().any(|x| x.store == id)) {
            return Err(Busy);
        }
        Ok(self.lock())
    }

    pub fn get(&'static self, key: &[u8]) -> Option<Bytes> {
        self.read(|m| m.get(key).cloned())
    }

    pub fn exists(&'static self, key: &[u8]) -> bool {
        self.read(|m| m.contains_key(key))
    }

    /// Number of keys.
    pub fn len(&'static self) -> usize {
        self.read(|m| m.len())
    }

    pub fn is_empty(&'static self) -> bool {
        self.read(|m| m.is_empty())
    }

    /// Stores `value` under `key` and returns the previous value.
    pub fn set(&'static self, key: &[u8], value: Bytes) -> Result<Option<Bytes>, Busy> {
        Ok(self.write()?.insert(key.into(), value))
    }

    /// Removes `key` and returns its value.
    pub fn erase(&'static self, key: &[u8]) -> Result<Option<Bytes>, Busy> {
        Ok(self.write()?.remove(key))
    }

    pub fn clear(&'static self) -> Result<(), Busy> {
        // Dropped after the guard: freeing many values should not hold up other threads.
        let old = std::mem::take(&mut *self.write()?);
        drop(old);
        Ok(())
    }

    /// Atomically: calls `check` with the current value of `key` and, if it
    /// returns `Ok(true)`, stores `value`. `check` runs with the lock held and
    /// may read this store from the same thread (see the module docs); an
    /// error from it is returned with nothing stored.
    pub fn set_if<E: From<Busy>>(
        &'static self,
        key: &[u8],
        value: Bytes,
        check: impl FnOnce(Option<&Bytes>) -> Result<bool, E>,
    ) -> Result<SetIf, E> {
        let guard = self.write()?;
        let old = guard.get(key).cloned();
        let parked = Parked::new(self.id(), guard);
        let verdict = check(old.as_ref());
        // Taken back before acting on the verdict; dropped (unlocking) on error.
        let guard = parked.release();
        if !verdict? {
            return Ok(SetIf::Refused);
        }
        // Rule 3 guarantees the guard is still parked; relocking covers the impossible case.
        let mut guard = guard.unwrap_or_else(|| self.lock());
        Ok(SetIf::Stored(guard.insert(key.into(), value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> &'static Store {
        Box::leak(Box::new(Store::new()))
    }

    fn bytes(s: &str) -> Bytes {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn set_get_erase_and_counts() {
        let s = store();
        assert!(s.is_empty());
        assert_eq!(s.set(b"a", bytes("1")).unwrap(), None);
        assert_eq!(s.set(b"a", bytes("2")).unwrap(), Some(bytes("1")));
        assert_eq!(s.set(b"b", bytes("3")).unwrap(), None);
        assert_eq!(s.get(b"a"), Some(bytes("2")));
        assert!(s.exists(b"b") && !s.exists(b"c"));
        assert_eq!((s.len(), s.is_empty()), (2, false));
        assert_eq!(s.erase(b"a").unwrap(), Some(bytes("2")));
        assert_eq!(s.erase(b"a").unwrap(), None);
        s.clear().unwrap();
        assert!(s.is_empty() && s.get(b"b").is_none());
    }

    #[test]
    fn keys_are_binary() {
        let s = store();
        s.set(b"\0\xff", bytes("x")).unwrap();
        assert!(s.exists(b"\0\xff") && !s.exists(b"\0"));
    }

    #[test]
    fn set_if_stores_only_when_the_check_agrees() {
        let s = store();
        let r: Result<SetIf, Busy> = s.set_if(b"k", bytes("1"), |old| Ok(old.is_none()));
        assert_eq!(r.unwrap(), SetIf::Stored(None));
        let r: Result<SetIf, Busy> = s.set_if(b"k", bytes("2"), |old| Ok(old.is_none()));
        assert_eq!(r.unwrap(), SetIf::Refused);
        let r: Result<SetIf, Busy> = s.set_if(b"k", bytes("3"), |old| Ok(old == Some(&bytes("1"))));
        assert_eq!(r.unwrap(), SetIf::Stored(Some(bytes("1"))));
        assert_eq!(s.get(b"k"), Some(bytes("3")));
    }

    #[derive(Debug, PartialEq)]
    enum CheckError {
        Busy,
        Failed,
    }

    impl From<Busy> for CheckError {
        fn from(_: Busy) -> Self {
            CheckError::Busy
        }
    }

    #[test]
    fn a_failing_check_stores_nothing_and_unlocks() {
        let s = store();
        let r = s.set_if(b"k", bytes("1"), |_| Err(CheckError::Failed));
        assert_eq!(r, Err(CheckError::Failed));
        assert!(!s.exists(b"k"));
        assert!(!check_running());
        // The lock was released: a write from another thread goes through.
        std::thread::spawn(move || s.set(b"k", bytes("2")).unwrap()).join().unwrap();
        assert_eq!(s.get(b"k"), Some(bytes("2")));
    }

    #[test]
    fn a_check_reads_through_the_held_lock_and_cannot_write() {
        let s = store();
        s.set(b"other", bytes("o")).unwrap();
        let r = s.set_if(b"k", bytes("1"), |_| {
            assert!(check_running());
            assert_eq!(s.get(b"other"), Some(bytes("o")));
            assert!(s.exists(b"other") && !s.exists(b"k"));
            assert_eq!((s.len(), s.is_empty()), (1, false));
            assert_eq!(s.set(b"x", bytes("x")), Err(Busy));
            assert_eq!(s.erase(b"other"), Err(Busy));
            assert_eq!(s.clear(), Err(Busy));
            let nested: Result<SetIf, Busy> = s.set_if(b"x", bytes("x"), |_| Ok(true));
            assert_eq!(nested, Err(Busy));
            Ok::<bool, CheckError>(true)
        });
        assert_eq!(r, Ok(SetIf::Stored(None)));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn a_check_of_one_store_may_use_another() {
        let (a, b) = (store(), store());
        let r: Result<SetIf, CheckError> = a.set_if(b"k", bytes("1"), |_| {
            b.set(b"k", bytes("b")).map_err(CheckError::from)?;
            let inner = b.set_if(b"j", bytes("j"), |_| {
                assert!(a.get(b"k").is_none() && b.exists(b"k"));
                Ok::<bool, CheckError>(true)
            })?;
            assert_eq!(inner, SetIf::Stored(None));
            assert_eq!(a.set(b"z", bytes("z")), Err(Busy));
            Ok(true)
        });
        assert_eq!(r, Ok(SetIf::Stored(None)));
        assert_eq!((a.len(), b.len()), (1, 2));
        assert!(!check_running());
    }

    #[test]
    fn a_panicking_check_unlocks() {
        let s = store();
        let r = std::panic::catch_unwind(|| {
            let _ = s.set_if(b"k", bytes("1"), |_| -> Result<bool, Busy> { panic!("check failed") });
        });
        assert!(r.is_err());
        assert!(!check_running());
        assert!(s.set(b"k", bytes("2")).is_ok());
    }

    #[test]
    fn concurrent_compare_and_set_counts_exactly() {
        const THREADS: usize = 8;
        const ROUNDS: usize = 500;
        let s = store();
        s.set(b"n", bytes("0")).unwrap();
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        loop {
                            let seen = s.get(b"n").unwrap();
                            let n: usize = std::str::from_utf8(&seen).unwrap().parse().unwrap();
                            let next = bytes(&(n + 1).to_string());
                            let r: Result<SetIf, Busy> = s.set_if(b"n", next, |old| Ok(old == Some(&seen)));
                            if r.unwrap() != SetIf::Refused {
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(s.get(b"n"), Some(bytes(&(THREADS * ROUNDS).to_string())));
    }
}
