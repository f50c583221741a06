//! A skiplist score: a Lua number kept as given (integer or float).
//!
//! Keeping the integer/float distinction means `sl:get_score(x)` returns `10`
//! for `sl:insert(x, 10)`, not `10.0`, and integers beyond 2^53 keep their
//! precision. Ordering follows Lua's `<` exactly, also across the two kinds
//! (`2^53 + 1 > 2.0^53`), which a plain cast to `f64` would get wrong.
//! NaN is not a score: the binding rejects it, so the order is total.

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Score {
    Int(i64),
    Float(f64),
}

impl Score {
    /// Lua's numeric order; both sides must not be NaN (treated as equal if they are).
    pub fn compare(self, other: Score) -> Ordering {
        match (self, other) {
            (Score::Int(a), Score::Int(b)) => a.cmp(&b),
            (Score::Float(a), Score::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (Score::Int(a), Score::Float(b)) => int_cmp_float(a, b),
            (Score::Float(a), Score::Int(b)) => int_cmp_float(b, a).reverse(),
        }
    }

    pub fn is_nan(self) -> bool {
        matches!(self, Score::Float(f) if f.is_nan())
    }
}

/// Exact comparison of an integer with a float (no rounding of `i`).
fn int_cmp_float(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return Ordering::Equal;
    }
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    // Now floor(f) fits an i64 exactly.
    let fl = f.floor();
    match i.cmp(&(fl as i64)) {
        Ordering::Equal if f > fl => Ordering::Less,
        o => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;
    use Score::*;

    #[test]
    fn mixed_comparisons_are_exact() {
        assert_eq!(Int(1).compare(Float(1.0)), Equal);
        assert_eq!(Int(1).compare(Float(1.5)), Less);
        assert_eq!(Int(2).compare(Float(1.5)), Greater);
        assert_eq!(Int(-2).compare(Float(-1.5)), Less);
        assert_eq!(Int((1 << 53) + 1).compare(Float(9007199254740992.0)), Greater);
        assert_eq!(Int(i64::MAX).compare(Float(9.3e18)), Less);
        assert_eq!(Int(i64::MIN).compare(Float(-9.3e18)), Greater);
        assert_eq!(Float(f64::INFINITY).compare(Int(5)), Greater);
        assert_eq!(Float(f64::NEG_INFINITY).compare(Int(i64::MIN)), Less);
        assert_eq!(Int(3).compare(Int(4)), Less);
        assert_eq!(Float(0.5).compare(Float(0.25)), Greater);
        assert!(Float(f64::NAN).is_nan());
    }
}
