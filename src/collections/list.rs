//! A doubly linked list with stable, generation-checked handles.
//!
//! Nodes live in a slab (`Vec`) and link to each other by index, so every
//! operation at either end, and removal of a node through its [`Handle`], is
//! O(1) without raw pointers. A handle names one insertion: when its node is
//! removed the slot's generation moves on, so a stale handle (kept by a Lua
//! `pairs` loop, say) is detected instead of naming whatever reuses the slot.
//! That is what makes `list:erase(iter)` safe during and after a loop.

/// Marks "no node" in a link.
const NIL: u32 = u32::MAX;

/// Names one element for as long as it stays in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle {
    index: u32,
    generation: u32,
}

impl Handle {
    /// The handle packed in one integer (generation in the high half), as Lua sees it.
    pub fn to_bits(self) -> i64 {
        (((self.generation as u64) << 32) | self.index as u64) as i64
    }

    pub fn from_bits(bits: i64) -> Handle {
        let bits = bits as u64;
        Handle { index: bits as u32, generation: (bits >> 32) as u32 }
    }

    /// The slab slot, a small integer that is reused once the element is gone.
    pub fn slot(self) -> usize {
        self.index as usize
    }
}

struct Node<T> {
    value: Option<T>,
    prev: u32,
    next: u32,
    generation: u32,
}

/// The list. `T` is the payload; the Lua binding stores `()` and keeps the
/// Lua values in a table indexed by [`Handle::slot`], where the collector sees them.
pub struct List<T> {
    nodes: Vec<Node<T>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    len: usize,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> List<T> {
    pub fn new() -> Self {
        List { nodes: Vec::new(), free: Vec::new(), head: NIL, tail: NIL, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `h` still names an element of the list.
    pub fn contains(&self, h: Handle) -> bool {
        self.nodes
            .get(h.index as usize)
            .is_some_and(|n| n.generation == h.generation && n.value.is_some())
    }

    pub fn get(&self, h: Handle) -> Option<&T> {
        if self.contains(h) { self.nodes[h.index as usize].value.as_ref() } else { None }
    }

    fn handle(&self, index: u32) -> Option<Handle> {
        (index != NIL).then(|| Handle { index, generation: self.nodes[index as usize].generation })
    }

    pub fn first(&self) -> Option<Handle> {
        self.handle(self.head)
    }

    pub fn last(&self) -> Option<Handle> {
        self.handle(self.tail)
    }

    /// The element after `h`, `None` at the end or when `h` is stale.
    pub fn next(&self, h: Handle) -> Option<Handle> {
        self.neighbour(h, |n| n.next)
    }

    /// The element before `h`, `None` at the start or when `h` is stale.
    pub fn prev(&self, h: Handle) -> Option<Handle> {
        self.neighbour(h, |n| n.prev)
    }

    fn neighbour(&self, h: Handle, link: impl Fn(&Node<T>) -> u32) -> Option<Handle> {
        if !self.contains(h) {
            return None;
        }
        self.handle(link(&self.nodes[h.index as usize]))
    }

    /// A slot holding `value`, not linked yet.
    fn alloc(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize].value = Some(value);
                i
            }
            None => {
                self.nodes.push(Node { value: Some(value), prev: NIL, next: NIL, generation: 0 });
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Makes `b` follow `a`; `NIL` stands for the end: `join(NIL, b)` makes
    /// `b` the head, `join(a, NIL)` makes `a` the tail.
    fn join(&mut self, a: u32, b: u32) {
        match a {
            NIL => self.head = b,
            a => self.nodes[a as usize].next = b,
        }
        match b {
            NIL => self.tail = a,
            b => self.nodes[b as usize].prev = a,
        }
    }

    pub fn push_back(&mut self, value: T) -> Handle {
        self.insert_between(value, self.tail, NIL)
    }

    pub fn push_front(&mut self, value: T) -> Handle {
        self.insert_between(value, NIL, self.head)
    }

    /// Links a new node between the neighbours `prev` and `next` (`NIL` at an end).
    fn insert_between(&mut self, value: T, prev: u32, next: u32) -> Handle {
        let i = self.alloc(value);
        self.join(prev, i);
        self.join(i, next);
        self.len += 1;
        Handle { index: i, generation: self.nodes[i as usize].generation }
    }

    /// Removes the element `h` names; `None` if it is already gone.
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        if !self.contains(h) {
            return None;
        }
        let (prev, next) = {
            let n = &self.nodes[h.index as usize];
            (n.prev, n.next)
        };
        self.join(prev, next);
        let n = &mut self.nodes[h.index as usize];
        // A new generation makes every copy of `h` stale before the slot is reused.
        n.generation = n.generation.wrapping_add(1);
        n.prev = NIL;
        n.next = NIL;
        self.free.push(h.index);
        self.len -= 1;
        n.value.take()
    }

    pub fn pop_front(&mut self) -> Option<(Handle, T)> {
        let h = self.first()?;
        self.remove(h).map(|v| (h, v))
    }

    pub fn pop_back(&mut self) -> Option<(Handle, T)> {
        let h = self.last()?;
        self.remove(h).map(|v| (h, v))
    }

    /// Reverses the order in place; handles stay valid.
    pub fn reverse(&mut self) {
        let mut i = self.head;
        while i != NIL {
            let n = &mut self.nodes[i as usize];
            std::mem::swap(&mut n.prev, &mut n.next);
            i = n.prev; // the old `next`
        }
        std::mem::swap(&mut self.head, &mut self.tail);
    }

    /// Removes everything; every old handle becomes stale.
    pub fn clear(&mut self) {
        let mut i = self.head;
        while i != NIL {
            let n = &mut self.nodes[i as usize];
            n.generation = n.generation.wrapping_add(1);
            n.value = None;
            let next = n.next;
            n.prev = NIL;
            n.next = NIL;
            self.free.push(i);
            i = next;
        }
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
    }

    /// Handles front to back.
    pub fn handles(&self) -> impl Iterator<Item = Handle> + '_ {
        std::iter::successors(self.first(), move |h| self.next(*h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn values(l: &List<i32>) -> Vec<i32> {
        l.handles().map(|h| *l.get(h).unwrap()).collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        l.push_back(2);
        l.push_back(3);
        l.push_front(1);
        assert_eq!(values(&l), [1, 2, 3]);
        assert_eq!(l.len(), 3);
        assert_eq!(l.pop_front().map(|p| p.1), Some(1));
        assert_eq!(l.pop_back().map(|p| p.1), Some(3));
        assert_eq!(l.pop_back().map(|p| p.1), Some(2));
        assert!(l.pop_back().is_none());
        assert!(l.pop_front().is_none());
        assert!(l.is_empty());
    }

    #[test]
    fn stale_handles_are_detected_after_slot_reuse() {
        let mut l = List::new();
        let a = l.push_back(1);
        assert_eq!(l.remove(a), Some(1));
        assert_eq!(l.remove(a), None);
        let b = l.push_back(2);
        assert_eq!(a.slot(), b.slot(), "slot reused");
        assert!(!l.contains(a));
        assert_eq!(l.get(b), Some(&2));
        assert_eq!(Handle::from_bits(b.to_bits()), b);
        l.clear();
        assert!(!l.contains(b));
    }

    #[test]
    fn reverse_keeps_handles() {
        let mut l = List::new();
        let hs: Vec<_> = (1..=4).map(|v| l.push_back(v)).collect();
        l.reverse();
        assert_eq!(values(&l), [4, 3, 2, 1]);
        l.remove(hs[2]);
        assert_eq!(values(&l), [4, 2, 1]);
        assert_eq!(l.next(hs[3]), Some(hs[1]));
        assert_eq!(l.prev(hs[0]), Some(hs[1]));
    }

    #[test]
    fn random_operations_match_a_vecdeque() {
        let mut l = List::new();
        let mut model: VecDeque<(Handle, u32)> = VecDeque::new();
        let mut x: u32 = 12345;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            match (x >> 16) % 6 {
                0 => model.push_back((l.push_back(step), step)),
                1 => model.push_front((l.push_front(step), step)),
                2 => assert_eq!(l.pop_back().map(|p| p.1), model.pop_back().map(|p| p.1)),
                3 => assert_eq!(l.pop_front().map(|p| p.1), model.pop_front().map(|p| p.1)),
                4 if !model.is_empty() => {
                    let i = (x as usize >> 3) % model.len();
                    let (h, v) = model.remove(i).unwrap();
                    assert_eq!(l.remove(h), Some(v));
                }
                5 if step % 97 == 0 => {
                    l.reverse();
                    model = model.into_iter().rev().collect();
                }
                _ => {}
            }
            assert_eq!(l.len(), model.len());
        }
        let got: Vec<u32> = l.handles().map(|h| *l.get(h).unwrap()).collect();
        let want: Vec<u32> = model.iter().map(|p| p.1).collect();
        assert_eq!(got, want);
    }
}
