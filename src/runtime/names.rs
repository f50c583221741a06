//! The rpc name registry: name -> the services that handle it.
//!
//! Lookups (every `pcall(name)`) vastly outnumber registrations, so each
//! service keeps its own cache of lookups ([`NameCache`]) validated by a
//! process-wide generation counter that every change bumps: a cache hit costs
//! one atomic load and a hash lookup in the caller's own memory.
//! Handlers of one name are kept sorted by id (local ids < remote ids, since
//! remote ids are > 0xFFFF), which fixes the order `rpc.deliver` shards over.

use crate::runtime::message::ServiceId;
use crate::runtime::registry::MAX_ID;
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// The handlers of one name, sorted by id.
#[derive(Debug)]
pub struct Group {
    pub name: Arc<str>,
    pub ids: Vec<ServiceId>,
}

/// Told when a local service binds (`true`) or unbinds a public name.
pub type PublicObserver = Box<dyn Fn(&str, ServiceId, bool) + Send + Sync>;

/// Everything registered under one name, and what callers see of it.
struct Entry {
    all: Vec<ServiceId>,
    /// Local handlers that serve the name privately (not public).
    private: Vec<ServiceId>,
    /// What callers get: `all`, or only the local handlers while one of
    /// them is private (a private name stays this process's own: a remote
    /// node binding the same name cannot take its calls).
    seen: Arc<Group>,
}

#[derive(Default)]
pub struct Names {
    groups: RwLock<HashMap<Arc<str>, Entry>>,
    generation: AtomicU64,
    /// The cluster, once plugged in: it tells linked nodes about public names.
    observer: OnceLock<PublicObserver>,
    /// Stand-ins for handlers in other processes that this one cannot list
    /// (a message bus): see [`Names::set_elsewhere`]. 0: none.
    elsewhere_call: AtomicU32,
    elsewhere_broadcast: AtomicU32,
}

impl Names {
    /// Adds `id` (a public handler, local or remote) to `name`'s group;
    /// `false` if it was already there.
    pub fn add(&self, name: &str, id: ServiceId) -> bool {
        self.insert(name, id, false)
    }

    /// Adds local service `id` as a private handler of `name`: while it
    /// serves it, callers here see only local handlers of `name`.
    pub fn add_private(&self, name: &str, id: ServiceId) -> bool {
        self.insert(name, id, true)
    }

    fn insert(&self, name: &str, id: ServiceId, private: bool) -> bool {
        let mut groups = self.groups.write().unwrap_or_else(|e| e.into_inner());
        let (key, mut all, mut privates) = match groups.get(name) {
            Some(e) => (e.seen.name.clone(), e.all.clone(), e.private.clone()),
            None => (Arc::<str>::from(name), Vec::new(), Vec::new()),
        };
        let Err(at) = all.binary_search(&id) else { return false };
        all.insert(at, id);
        if private {
            privates.push(id);
        }
        groups.insert(key.clone(), Entry::new(key, all, privates));
        self.generation.fetch_add(1, Ordering::Release);
        true
    }

    /// Removes `id` from `name`'s group; `false` if it was not there.
    pub fn remove(&self, name: &str, id: ServiceId) -> bool {
        let mut groups = self.groups.write().unwrap_or_else(|e| e.into_inner());
        let Some(e) = groups.get(name) else { return false };
        let Ok(at) = e.all.binary_search(&id) else { return false };
        let mut all = e.all.clone();
        all.remove(at);
        if all.is_empty() {
            groups.remove(name);
        } else {
            let key = e.seen.name.clone();
            let privates = e.private.iter().copied().filter(|&p| p != id).collect();
            groups.insert(key.clone(), Entry::new(key, all, privates));
        }
        self.generation.fetch_add(1, Ordering::Release);
        true
    }

    /// Registers the observer of public names (once per process).
    pub fn observe_public(&self, observer: PublicObserver) {
        let _ = self.observer.set(observer);
    }

    /// Local service `id` bound (`bound`) or unbound public `name`.
    pub fn publish(&self, name: &str, id: ServiceId, bound: bool) {
        if let Some(observer) = self.observer.get() {
            observer(name, id, bound);
        }
    }

    /// Where to send what no local handler takes, while a transport that
    /// reaches unlisted handlers elsewhere is up: a call (or one-way
    /// message) of a name with no handler here goes to `call`, and a
    /// delivery to all handlers also goes to `broadcast`. 0 turns either off.
    pub fn set_elsewhere(&self, call: ServiceId, broadcast: ServiceId) {
        self.elsewhere_call.store(call, Ordering::Release);
        self.elsewhere_broadcast.store(broadcast, Ordering::Release);
    }

    /// The stand-in for a handler elsewhere of a name with none here.
    pub fn elsewhere_call(&self) -> Option<ServiceId> {
        Some(self.elsewhere_call.load(Ordering::Acquire)).filter(|&id| id != 0)
    }

    /// The stand-in for every handler elsewhere, for deliveries to all.
    pub fn elsewhere_broadcast(&self) -> Option<ServiceId> {
        Some(self.elsewhere_broadcast.load(Ordering::Acquire)).filter(|&id| id != 0)
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn lookup(&self, name: &str) -> Option<Arc<Group>> {
        self.groups.read().unwrap_or_else(|e| e.into_inner()).get(name).map(|e| e.seen.clone())
    }
}

impl Entry {
    fn new(name: Arc<str>, all: Vec<ServiceId>, private: Vec<ServiceId>) -> Entry {
        let ids = if private.is_empty() { all.clone() } else { all.iter().copied().filter(|&id| id <= MAX_ID).collect() };
        Entry { all, private, seen: Arc::new(Group { name, ids }) }
    }
}

struct CacheEntry {
    generation: u64,
    group: Option<Arc<Group>>,
    next: usize,
}

/// One service's cache of name lookups, with its round-robin positions.
#[derive(Default)]
pub struct NameCache {
    entries: HashMap<Box<str>, CacheEntry>,
}

impl NameCache {
    fn entry(&mut self, names: &Names, name: &str) -> &mut CacheEntry {
        let generation = names.generation();
        if !self.entries.contains_key(name) {
            self.entries.insert(name.into(), CacheEntry { generation, group: names.lookup(name), next: 0 });
        }
        let entry = self.entries.get_mut(name).expect("inserted above");
        if entry.generation != generation {
            entry.generation = generation;
            entry.group = names.lookup(name);
        }
        entry
    }

    /// The group of `name` as of now.
    pub fn group(&mut self, names: &Names, name: &str) -> Option<Arc<Group>> {
        self.entry(names, name).group.clone()
    }

    /// The next handler of `name` in rotation, with the shared name.
    pub fn pick(&mut self, names: &Names, name: &str) -> Option<(ServiceId, Arc<str>)> {
        let entry = self.entry(names, name);
        let group = entry.group.as_ref()?;
        let id = group.ids[entry.next % group.ids.len()];
        entry.next = entry.next.wrapping_add(1);
        Some((id, group.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_observer_hears_public_names() {
        let n = Names::default();
        n.publish("before", 1, true); // no observer yet: nobody to tell
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = heard.clone();
        n.observe_public(Box::new(move |name, id, bound| log.lock().unwrap().push((name.to_owned(), id, bound))));
        n.publish("a", 5, true);
        n.publish("a", 5, false);
        assert_eq!(*heard.lock().unwrap(), vec![("a".to_owned(), 5, true), ("a".to_owned(), 5, false)]);
    }

    #[test]
    fn stand_ins_for_handlers_elsewhere_are_set_and_cleared() {
        let n = Names::default();
        assert_eq!((n.elsewhere_call(), n.elsewhere_broadcast()), (None, None));
        n.set_elsewhere(0x10000, 0x20000);
        assert_eq!((n.elsewhere_call(), n.elsewhere_broadcast()), (Some(0x10000), Some(0x20000)));
        n.set_elsewhere(0x10000, 0);
        assert_eq!((n.elsewhere_call(), n.elsewhere_broadcast()), (Some(0x10000), None));
        n.set_elsewhere(0, 0);
        assert_eq!(n.elsewhere_call(), None);
        assert!(n.lookup("x").is_none(), "the registry itself is unchanged");
    }

    #[test]
    fn add_remove_sorted() {
        let n = Names::default();
        assert!(n.add("a", 5));
        assert!(n.add("a", 2));
        assert!(!n.add("a", 5));
        assert_eq!(n.lookup("a").unwrap().ids, vec![2, 5]);
        assert!(n.remove("a", 2));
        assert!(!n.remove("a", 2));
        assert!(n.remove("a", 5));
        assert!(n.lookup("a").is_none());
    }

    #[test]
    fn a_private_handler_hides_remote_ones() {
        let n = Names::default();
        let remote = MAX_ID + 7;
        n.add("shared", remote);
        n.add("shared", 3);
        assert_eq!(n.lookup("shared").unwrap().ids, vec![3, remote]);
        assert!(n.add_private("shared", 4));
        assert_eq!(n.lookup("shared").unwrap().ids, vec![3, 4], "only local handlers while one is private");
        // a remote bind arriving later changes nothing
        n.add("shared", remote + 1);
        assert_eq!(n.lookup("shared").unwrap().ids, vec![3, 4]);
        assert!(n.remove("shared", 4));
        assert_eq!(n.lookup("shared").unwrap().ids, vec![3, remote, remote + 1]);
        // only remote handlers plus a private one: the private one alone
        let m = Names::default();
        m.add("x", remote);
        m.add_private("x", 2);
        assert_eq!(m.lookup("x").unwrap().ids, vec![2]);
    }

    #[test]
    fn cache_rotates_and_sees_changes() {
        let n = Names::default();
        let mut c = NameCache::default();
        assert!(c.pick(&n, "x").is_none());
        n.add("x", 1);
        n.add("x", 2);
        let picks: Vec<_> = (0..4).map(|_| c.pick(&n, "x").unwrap().0).collect();
        assert_eq!(picks, vec![1, 2, 1, 2]);
        n.remove("x", 1);
        assert_eq!(c.pick(&n, "x").unwrap().0, 2);
        assert_eq!(&*c.pick(&n, "x").unwrap().1, "x");
    }
}
