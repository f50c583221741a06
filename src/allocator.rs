//! The global allocator: mimalloc, through its plain entry points wherever
//! the alignment asked for is one every block of that size has anyway.
//!
//! Services make many small allocations (Lua objects, message buffers) from
//! several threads; mimalloc keeps them compact and fast. Only memory of
//! this library goes through it: the main state uses the interpreter's.
//!
//! Why not `mimalloc::MiMalloc` itself: it calls `mi_malloc_aligned` for
//! every allocation, and that path cost about 105 instructions per block
//! in a profile of sequential calls (four allocations per call round
//! trip), several times `mi_malloc`'s. mimalloc is a conforming `malloc`,
//! so a block of `size` bytes is aligned to `min(16, size)` at least; the
//! rule below is the one Rust's own `System` allocator uses with `malloc`.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment of a `malloc` block big enough for it (`max_align_t`).
const MALLOC_ALIGN: usize = 16;

/// Whether a plain `mi_malloc` block of `size` bytes has `layout`'s alignment.
fn plain(layout: Layout, size: usize) -> bool {
    layout.align() <= MALLOC_ALIGN && layout.align() <= size
}

pub struct Allocator;

/// What to do about transparent huge pages (see [`no_huge_pages`]).
#[derive(Debug, PartialEq, Eq)]
enum HugePages {
    /// Turn them off for the process.
    Off,
    /// `MIMALLOC_ALLOW_THP` is set: mimalloc applies the user's choice itself.
    AsMimallocSays,
}

fn huge_pages(mimalloc_allow_thp: Option<std::ffi::OsString>) -> HugePages {
    match mimalloc_allow_thp {
        Some(_) => HugePages::AsMimallocSays,
        None => HugePages::Off,
    }
}

/// Turns transparent huge pages off for this process (`PR_SET_THP_DISABLE`,
/// what mimalloc does itself with `MIMALLOC_ALLOW_THP=0`), unless the user
/// set `MIMALLOC_ALLOW_THP`; returns whether they are off.
///
/// Why: mimalloc asks the kernel for huge pages for its arenas, so the
/// first touch of every 2 MiB clears all of it at once, in whichever
/// service happens to touch it. On our test VM that stall ranged from
/// nothing to about 5 ms, by whether the host still backed the memory: the
/// spawn benchmark (10,000 services, 250 MiB) swung between 6,500 and
/// 13,500 services/s by the run. With 4 KiB pages a first touch costs a
/// few microseconds each time: 10,400 services/s in every run, and 23.75
/// KiB per idle service instead of 25.0 (a huge page is charged whole).
/// Latency-minded servers (Redis, databases) ask for the same.
pub fn no_huge_pages() -> bool {
    if huge_pages(std::env::var_os("MIMALLOC_ALLOW_THP")) != HugePages::Off {
        return false;
    }
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integers only and sets a
    // flag of this process's memory map.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}

/// A block for `layout` from `plain` if a plain block is aligned enough,
/// else from `aligned` (the same allocation with an alignment argument).
///
/// # Safety
/// `plain_fn` and `aligned_fn` are a pair of mimalloc's allocation functions.
unsafe fn block(
    layout: Layout,
    plain_fn: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned_fn: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    // SAFETY: mimalloc's allocation functions take any size and alignment.
    unsafe {
        if plain(layout, layout.size()) {
            plain_fn(layout.size()).cast()
        } else {
            aligned_fn(layout.size(), layout.align()).cast()
        }
    }
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free`
// frees plain and aligned blocks alike); a plain entry point is used only
// where its block has the alignment asked for (see `plain`).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: a matching pair.
        unsafe { block(layout, mi::mi_malloc, mi::mi_malloc_aligned) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: a matching pair.
        unsafe { block(layout, mi::mi_zalloc, mi::mi_zalloc_aligned) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout` (GlobalAlloc's
        // contract); the new block must keep the alignment for `new_size`.
        unsafe {
            if plain(layout, new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pages_are_turned_off_unless_mimallocs_switch_is_set() {
        assert_eq!(huge_pages(None), HugePages::Off);
        assert_eq!(huge_pages(Some("1".into())), HugePages::AsMimallocSays);
        assert_eq!(huge_pages(Some("0".into())), HugePages::AsMimallocSays);
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert!(no_huge_pages());
            // SAFETY: prctl with PR_GET_THP_DISABLE only reads the flag.
            assert_eq!(unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) }, 1);
        }
    }

    #[test]
    fn blocks_have_the_alignment_asked_for() {
        let a = Allocator;
        for align in [1, 2, 4, 8, 16, 32, 64, 128, 4096] {
            for size in [1, 3, 8, 15, 16, 17, 24, 100, 1000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; every block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "alloc {size} bytes aligned {align}");
                    p.write_bytes(0xab, size);
                    let q = a.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "realloc to {} bytes aligned {align}", size * 3);
                    assert_eq!(*q.add(size - 1), 0xab, "realloc keeps the contents");
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
