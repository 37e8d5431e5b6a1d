//! A column's values coded as the levels of a factor in order of first appearance (R's
//! `match(x, unique(x))`): one hash lookup per row, so grouping k rows costs O(k), not
//! O(k · levels) or a formatted string per row.

use super::Value;
use std::collections::HashMap;

/// What makes two cells the same level: numbers by value (their bits, so `-0` is not `0`, as
/// their text differs), text as written.
#[derive(Hash, PartialEq, Eq)]
enum Key<'a> {
    Number(u64),
    Text(&'a str),
    Missing,
}

fn key(v: &Value) -> Key<'_> {
    match v {
        Value::Number(x) => Key::Number(x.to_bits()),
        Value::Text(s) => Key::Text(s),
        Value::Missing => Key::Missing,
    }
}

/// Each value's level (0-based, levels numbered in order of first appearance) and, per level,
/// the position of its first value.
pub fn first_appearance<'a>(
    values: impl IntoIterator<Item = &'a Value>,
) -> (Vec<usize>, Vec<usize>) {
    let values = values.into_iter();
    let mut index: HashMap<Key<'a>, usize> = HashMap::with_capacity(values.size_hint().0);
    let mut first = Vec::new();
    let level = values
        .enumerate()
        .map(|(i, v)| {
            let n = first.len();
            let l = *index.entry(key(v)).or_insert(n);
            if l == n {
                first.push(i);
            }
            l
        })
        .collect();
    (level, first)
}

/// The levels of pairs (a level of an outer factor, a level of an inner one) in order of first
/// appearance: the nesting `outer/inner` (the combinations that occur) and their number. The
/// pairs are looked up in a table indexed by both levels when it stays within a few entries per
/// row (the usual nesting: many outer levels, a few inner ones), else hashed.
pub fn nested(outer: &[usize], inner: &[usize]) -> (Vec<usize>, usize) {
    let n_inner = inner.iter().max().map_or(0, |m| m + 1);
    let n_outer = outer.iter().max().map_or(0, |m| m + 1);
    let cells = n_inner.saturating_mul(n_outer);
    if cells <= 4 * outer.len().max(16) {
        let mut table = vec![usize::MAX; cells];
        let mut n = 0;
        let level = outer
            .iter()
            .zip(inner)
            .map(|(&a, &b)| {
                let slot = &mut table[a * n_inner + b];
                if *slot == usize::MAX {
                    *slot = n;
                    n += 1;
                }
                *slot
            })
            .collect();
        return (level, n);
    }
    let mut index: HashMap<(usize, usize), usize> = HashMap::with_capacity(outer.len());
    let level = outer
        .iter()
        .zip(inner)
        .map(|(&a, &b)| {
            let n = index.len();
            *index.entry((a, b)).or_insert(n)
        })
        .collect();
    (level, index.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_in_order_of_first_appearance() {
        let t = |s: &str| Value::Text(s.into());
        let v = [t("b"), t("a"), t("b"), Value::Missing, t("a")];
        assert_eq!(first_appearance(&v), (vec![0, 1, 0, 2, 1], vec![0, 1, 3]));
        let n = [
            Value::Number(2.0),
            Value::Number(-0.0),
            Value::Number(0.0),
            Value::Number(2.0),
        ];
        assert_eq!(first_appearance(&n), (vec![0, 1, 2, 0], vec![0, 1, 2]));
        // school 1 of district 1 and school 1 of district 2 are different schools.
        assert_eq!(
            nested(&[0, 0, 1, 1, 0], &[0, 1, 0, 1, 0]),
            (vec![0, 1, 2, 3, 0], 4)
        );
        // Levels too many for a table of pairs go through the hash, with the same coding.
        assert_eq!(
            nested(&[0, 1000, 0, 7], &[999, 0, 999, 0]),
            (vec![0, 1, 0, 2], 3)
        );
    }
}
