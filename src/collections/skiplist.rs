//! A ranked skiplist ordered by a caller-supplied comparator.
//!
//! Each element is a node in a slab, named by a [`NodeId`]; the caller maps
//! its own keys to ids (the Lua binding keeps a `data -> id` table). Nodes
//! carry a score `S` and an insertion sequence number `seq` that is unique per
//! insertion, so `(id, seq)` names one insertion even after the slot is reused.
//!
//! Why it is built this way:
//! * Every level has forward *and* backward links with spans (Redis' `zskiplist`
//!   plus back links). With back links, removing a node and computing its rank
//!   walk up from the node itself and never call the comparator. Only
//!   [`SkipList::insert`] compares, and it compares before it changes anything,
//!   so a comparator that fails (a Lua error) or lies cannot corrupt the links.
//! * The comparator is a closure passed to each `insert`, returning
//!   `Result<Ordering, E>`: the Lua binding calls a Lua function that may error.
//! * Levels come from a private xorshift generator with p = 1/4; the order of
//!   elements never depends on them, only the speed.
//!
//! Spans follow Redis: `levels[i].span` of node `x` is the number of level-0
//! steps from `x` to `levels[i].next`; for a link to the end it is
//! `len - rank(x)`. The head node (id 0) has every level; levels at or above
//! `self.level` are unused and refreshed when a node first reaches them.

use std::cmp::Ordering;

/// Names a node in the slab; stable while the element stays in the list.
pub type NodeId = u32;

const HEAD: NodeId = 0;
const NIL: NodeId = NodeId::MAX;
/// Enough for 4^24 (~2.8e14) elements at p = 1/4.
pub const MAX_LEVEL: usize = 24;

#[derive(Clone, Copy, Debug)]
struct Link {
    next: NodeId,
    prev: NodeId,
    span: usize,
}

const EMPTY_LINK: Link = Link { next: NIL, prev: HEAD, span: 0 };

/// What the comparator sees of an element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry<S> {
    pub id: NodeId,
    pub score: S,
    /// Insertion sequence number: unique, increasing with each insertion.
    pub seq: u64,
}

struct Node<S> {
    entry: Option<Entry<S>>,
    levels: Vec<Link>,
}

pub struct SkipList<S> {
    nodes: Vec<Node<S>>,
    free: Vec<NodeId>,
    len: usize,
    /// Number of levels in use (at least 1).
    level: usize,
    last_seq: u64,
    rng: u64,
}

impl<S: Copy> Default for SkipList<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Copy> SkipList<S> {
    pub fn new() -> Self {
        let head = Node { entry: None, levels: vec![EMPTY_LINK; MAX_LEVEL] };
        SkipList { nodes: vec![head], free: Vec::new(), len: 0, level: 1, last_seq: 0, rng: 0x9E37_79B9_7F4A_7C15 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn random_level(&mut self) -> usize {
        // xorshift64: cheap, and level quality only affects speed.
        let mut level = 1;
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            if level >= MAX_LEVEL || self.rng & 3 != 0 {
                return level;
            }
            level += 1;
        }
    }

    /// The element `id` names, if it is in the list.
    pub fn get(&self, id: NodeId) -> Option<&Entry<S>> {
        if id == HEAD {
            return None;
        }
        self.nodes.get(id as usize).and_then(|n| n.entry.as_ref())
    }

    /// Whether `id` still names the insertion numbered `seq`.
    pub fn is_live(&self, id: NodeId, seq: u64) -> bool {
        self.get(id).is_some_and(|e| e.seq == seq)
    }

    /// Inserts an element with `score`; returns its id. `cmp(existing, new)`
    /// orders an element already in the list against the new one; the new
    /// element goes after every element that compares `Less` or `Equal`.
    /// If `cmp` fails, the list is left exactly as it was.
    pub fn insert<E>(
        &mut self,
        score: S,
        mut cmp: impl FnMut(&Entry<S>, &Entry<S>) -> Result<Ordering, E>,
    ) -> Result<NodeId, E> {
        let id = self.free.last().copied().unwrap_or(self.nodes.len() as NodeId);
        let new = Entry { id, score, seq: self.last_seq + 1 };
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        // Search phase: comparisons only, nothing changes yet.
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let link = self.nodes[x as usize].levels[i];
                if link.next == NIL {
                    break;
                }
                let Some(e) = self.nodes[link.next as usize].entry.as_ref() else { break };
                if cmp(e, &new)? == Ordering::Greater {
                    break;
                }
                rank[i] += link.span;
                x = link.next;
            }
            update[i] = x;
        }
        let height = self.random_level();
        self.free.pop();
        self.last_seq = new.seq;
        self.link(new, height, &mut update, &mut rank);
        Ok(id)
    }

    /// Gives `id` a new score and a new sequence number (it moves after
    /// elements it now ties with). If `cmp` fails the element stays where it
    /// was, with its old score. `None` if `id` is not in the list.
    pub fn update<E>(
        &mut self,
        id: NodeId,
        score: S,
        cmp: impl FnMut(&Entry<S>, &Entry<S>) -> Result<Ordering, E>,
    ) -> Option<Result<NodeId, E>> {
        let old = *self.get(id)?;
        let height = self.nodes[id as usize].levels.len();
        let after = self.nodes[id as usize].levels[0].prev;
        self.remove(id);
        match self.insert(score, cmp) {
            Ok(new_id) => Some(Ok(new_id)),
            Err(e) => {
                self.relink(old, after, height);
                Some(Err(e))
            }
        }
    }

    /// Puts a just-removed `entry` back right after `after`, in its old slot,
    /// without comparing. The predecessors at each level and their ranks come
    /// from walking back from `after`.
    fn relink(&mut self, entry: Entry<S>, after: NodeId, height: usize) {
        if let Some(pos) = self.free.iter().rposition(|&f| f == entry.id) {
            self.free.swap_remove(pos);
        }
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut r = if after == HEAD { 0 } else { self.rank(after).unwrap_or(0) };
        let mut cur = after;
        for i in 0..self.level {
            while self.nodes[cur as usize].levels.len() <= i {
                let levels = &self.nodes[cur as usize].levels;
                let top = levels.len() - 1;
                let prev = levels[top].prev;
                r -= self.nodes[prev as usize].levels[top].span;
                cur = prev;
            }
            update[i] = cur;
            rank[i] = r;
        }
        self.link(entry, height, &mut update, &mut rank);
    }

    /// Link phase of an insertion: infallible. `update[i]`/`rank[i]` are the
    /// predecessor at level `i` (for `i < self.level`) and its rank.
    fn link(&mut self, entry: Entry<S>, height: usize, update: &mut [NodeId; MAX_LEVEL], rank: &mut [usize; MAX_LEVEL]) {
        let id = entry.id;
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].levels[i] = Link { next: NIL, prev: HEAD, span: self.len };
            }
            self.level = height;
        }
        let node = Node { entry: Some(entry), levels: vec![EMPTY_LINK; height] };
        if id as usize == self.nodes.len() {
            self.nodes.push(node);
        } else {
            self.nodes[id as usize] = node;
        }
        for i in 0..height {
            let u = update[i];
            let ulink = self.nodes[u as usize].levels[i];
            self.nodes[id as usize].levels[i] =
                Link { next: ulink.next, prev: u, span: ulink.span - (rank[0] - rank[i]) };
            let ul = &mut self.nodes[u as usize].levels[i];
            ul.next = id;
            ul.span = rank[0] - rank[i] + 1;
            if ulink.next != NIL {
                self.nodes[ulink.next as usize].levels[i].prev = id;
            }
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            self.nodes[u as usize].levels[i].span += 1;
        }
        self.len += 1;
    }

    /// Removes the element `id`; `None` if there is none. Never compares.
    pub fn remove(&mut self, id: NodeId) -> Option<Entry<S>> {
        let entry = *self.get(id)?;
        let height = self.nodes[id as usize].levels.len();
        for i in 0..height {
            let l = self.nodes[id as usize].levels[i];
            let p = &mut self.nodes[l.prev as usize].levels[i];
            p.next = l.next;
            p.span = p.span + l.span - 1;
            if l.next != NIL {
                self.nodes[l.next as usize].levels[i].prev = l.prev;
            }
        }
        // Above the node's height its predecessors lie on the walk back to the head.
        let mut cur = id;
        for i in height..self.level {
            while self.nodes[cur as usize].levels.len() <= i {
                let levels = &self.nodes[cur as usize].levels;
                cur = levels[levels.len() - 1].prev;
            }
            self.nodes[cur as usize].levels[i].span -= 1;
        }
        let node = &mut self.nodes[id as usize];
        node.entry = None;
        node.levels = Vec::new();
        self.free.push(id);
        self.len -= 1;
        while self.level > 1 && self.nodes[HEAD as usize].levels[self.level - 1].next == NIL {
            self.level -= 1;
        }
        Some(entry)
    }

    /// 1-based rank of `id`. Walks back to the head: O(log n), no comparisons.
    pub fn rank(&self, id: NodeId) -> Option<usize> {
        self.get(id)?;
        let mut rank = 0;
        let mut cur = id;
        while cur != HEAD {
            let levels = &self.nodes[cur as usize].levels;
            let top = levels.len() - 1;
            let prev = levels[top].prev;
            rank += self.nodes[prev as usize].levels[top].span;
            cur = prev;
        }
        Some(rank)
    }

    /// The element at 1-based `rank`.
    pub fn by_rank(&self, rank: usize) -> Option<NodeId> {
        if rank == 0 || rank > self.len {
            return None;
        }
        let mut traversed = 0;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let link = self.nodes[x as usize].levels[i];
                if link.next == NIL || traversed + link.span > rank {
                    break;
                }
                traversed += link.span;
                x = link.next;
            }
            if traversed == rank {
                return Some(x);
            }
        }
        None
    }

    /// The first element for which `pred` holds, given that `pred` is false
    /// for a prefix of the list and true for the rest. O(log n).
    pub fn first_where(&self, mut pred: impl FnMut(&Entry<S>) -> bool) -> Option<NodeId> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.nodes[x as usize].levels[i].next;
                match self.get(next) {
                    Some(e) if !pred(e) => x = next,
                    _ => break,
                }
            }
        }
        let next = self.nodes[x as usize].levels[0].next;
        (next != NIL).then_some(next)
    }

    pub fn first(&self) -> Option<NodeId> {
        let next = self.nodes[HEAD as usize].levels[0].next;
        (next != NIL).then_some(next)
    }

    /// The element after `id` in order.
    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        self.get(id)?;
        let next = self.nodes[id as usize].levels[0].next;
        (next != NIL).then_some(next)
    }

    /// The element before `id` in order.
    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        self.get(id)?;
        let prev = self.nodes[id as usize].levels[0].prev;
        (prev != HEAD).then_some(prev)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<S>> + '_ {
        std::iter::successors(self.first(), move |&id| self.next(id)).filter_map(move |id| self.get(id))
    }

    /// Checks every link and span against a plain walk (tests only).
    #[cfg(test)]
    fn check(&self) {
        let order: Vec<NodeId> = std::iter::successors(self.first(), |&id| self.next(id)).collect();
        assert_eq!(order.len(), self.len);
        let rank_of = |id: NodeId| if id == HEAD { 0 } else { order.iter().position(|&o| o == id).unwrap() + 1 };
        for i in 0..self.level {
            let mut x = HEAD;
            loop {
                let l = self.nodes[x as usize].levels[i];
                let want = if l.next == NIL { self.len - rank_of(x) } else { rank_of(l.next) - rank_of(x) };
                assert_eq!(l.span, want, "span at level {i}");
                if l.next == NIL {
                    break;
                }
                assert_eq!(self.nodes[l.next as usize].levels[i].prev, x, "back link at level {i}");
                x = l.next;
            }
        }
        for (r, &id) in order.iter().enumerate() {
            assert_eq!(self.rank(id), Some(r + 1));
            assert_eq!(self.by_rank(r + 1), Some(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    type Cmp = fn(&Entry<i64>, &Entry<i64>) -> Result<Ordering, ()>;
    const ASC: Cmp = |a, b| Ok(a.score.cmp(&b.score).then(a.seq.cmp(&b.seq)));

    #[test]
    fn orders_by_score_then_insertion() {
        let mut sl = SkipList::new();
        let a = sl.insert(5, ASC).unwrap();
        let b = sl.insert(1, ASC).unwrap();
        let c = sl.insert(5, ASC).unwrap();
        let scores: Vec<i64> = sl.iter().map(|e| e.score).collect();
        assert_eq!(scores, [1, 5, 5]);
        assert_eq!(sl.rank(b), Some(1));
        assert_eq!(sl.rank(a), Some(2));
        assert_eq!(sl.rank(c), Some(3));
        assert_eq!(sl.by_rank(4), None);
        assert_eq!(sl.by_rank(0), None);
        assert_eq!(sl.prev(b), None);
        assert_eq!(sl.next(c), None);
        sl.check();
    }

    #[test]
    fn failing_comparator_leaves_the_list_unchanged() {
        let mut sl = SkipList::new();
        for s in 0..100 {
            sl.insert(s, ASC).unwrap();
        }
        let mut calls = 0;
        let r = sl.insert(50, |a, b| {
            calls += 1;
            if calls > 3 { Err("boom") } else { Ok(a.score.cmp(&b.score)) }
        });
        assert_eq!(r, Err("boom"));
        assert_eq!(sl.len(), 100);
        sl.check();
        let id = sl.insert(50, ASC).unwrap();
        assert_eq!(sl.rank(id), Some(52));
        sl.check();
    }

    #[test]
    fn failed_update_restores_the_old_position() {
        let mut sl = SkipList::new();
        let ids: Vec<_> = (0..200).map(|s| sl.insert(s, ASC).unwrap()).collect();
        for &k in &[0usize, 1, 77, 198, 199] {
            let seq = sl.get(ids[k]).unwrap().seq;
            let r = sl.update(ids[k], 1000, |_, _| Err::<Ordering, _>("no"));
            assert_eq!(r, Some(Err("no")));
            assert_eq!(sl.get(ids[k]).map(|e| (e.score, e.seq)), Some((k as i64, seq)));
            assert_eq!(sl.rank(ids[k]), Some(k + 1));
            sl.check();
        }
        let moved = sl.update(ids[5], 1000, ASC).unwrap().unwrap();
        assert_eq!(sl.rank(moved), Some(200));
        assert_eq!(sl.update(9999, 1, ASC), None);
        sl.check();
    }

    #[test]
    fn removal_and_lookup_never_compare() {
        let mut sl = SkipList::new();
        let ids: Vec<_> = (0..50).map(|s| sl.insert(s, ASC).unwrap()).collect();
        let e = sl.remove(ids[10]).unwrap();
        assert_eq!(e.score, 10);
        assert!(sl.remove(ids[10]).is_none());
        assert!(!sl.is_live(ids[10], e.seq));
        assert_eq!(sl.rank(ids[11]), Some(11));
        let first_ge_20 = sl.first_where(|e| e.score >= 20).unwrap();
        assert_eq!(first_ge_20, ids[20]);
        assert_eq!(sl.first_where(|e| e.score >= 1000), None);
        sl.check();
    }

    #[test]
    fn randomized_against_a_sorted_vec() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut sl = SkipList::new();
        // Model: (score, seq, id) kept sorted by (score, seq).
        let mut model: Vec<(i64, u64, NodeId)> = Vec::new();
        for step in 0..6000 {
            match rng.gen_range(0..10) {
                0..=4 => {
                    let score = rng.gen_range(-50..50);
                    let id = sl.insert(score, ASC).unwrap();
                    let seq = sl.get(id).unwrap().seq;
                    let pos = model.partition_point(|&(s, q, _)| (s, q) < (score, seq));
                    model.insert(pos, (score, seq, id));
                    assert_eq!(sl.rank(id), Some(pos + 1));
                }
                5..=6 if !model.is_empty() => {
                    let i = rng.gen_range(0..model.len());
                    let (score, _, id) = model.remove(i);
                    assert_eq!(sl.remove(id).map(|e| e.score), Some(score));
                }
                7 if !model.is_empty() => {
                    let r = rng.gen_range(1..=model.len());
                    assert_eq!(sl.by_rank(r), Some(model[r - 1].2));
                }
                8 => {
                    let min = rng.gen_range(-60..60);
                    let want = model.iter().position(|m| m.0 >= min).map(|p| model[p].2);
                    assert_eq!(sl.first_where(|e| e.score >= min), want);
                }
                _ if !model.is_empty() => {
                    let i = rng.gen_range(0..model.len());
                    assert_eq!(sl.rank(model[i].2), Some(i + 1));
                }
                _ => {}
            }
            assert_eq!(sl.len(), model.len());
            if step % 500 == 0 {
                sl.check();
            }
        }
        let got: Vec<(i64, u64)> = sl.iter().map(|e| (e.score, e.seq)).collect();
        let want: Vec<(i64, u64)> = model.iter().map(|m| (m.0, m.1)).collect();
        assert_eq!(got, want);
        sl.check();
        while let Some(id) = sl.first() {
            sl.remove(id);
        }
        assert_eq!(sl.level, 1);
        sl.check();
    }
}
