//! What RevMan 5's forest layout adds up from the data: events and participants per arm over
//! a set of studies (the studies without an effect count, as in RevMan's Total rows).

use crate::data::Data;
use crate::render::plot::forest::ArmTotals;

/// Events and participants (person-time for incidence data) per arm over the data rows `rows`;
/// rows missing a count are left out. `None` for data without two arms of counts.
pub fn arm_totals(data: &Data, rows: &[usize]) -> Option<ArmTotals> {
    let add = |cols: [&[Option<f64>]; 2], r: &[usize]| -> [f64; 2] {
        let mut t = [0.0; 2];
        for (k, c) in cols.iter().enumerate() {
            t[k] = r.iter().filter_map(|&i| c[i]).sum();
        }
        t
    };
    match data {
        Data::TwoByTwo { ai, bi, ci, di } => {
            let full: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| {
                    ai[r].is_some() && bi[r].is_some() && ci[r].is_some() && di[r].is_some()
                })
                .collect();
            let e = add([ai, ci], &full);
            let non = add([bi, di], &full);
            Some(ArmTotals {
                events: Some(e),
                n: [e[0] + non[0], e[1] + non[1]],
            })
        }
        Data::Means { n1i, n2i, .. } => Some(ArmTotals {
            events: None,
            n: add([n1i, n2i], rows),
        }),
        Data::Incidence { x1i, t1i, x2i, t2i } => {
            let full: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| {
                    x1i[r].is_some() && t1i[r].is_some() && x2i[r].is_some() && t2i[r].is_some()
                })
                .collect();
            Some(ArmTotals {
                events: Some(add([x1i, x2i], &full)),
                n: add([t1i, t2i], &full),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_per_arm_skip_incomplete_rows() {
        let d = Data::TwoByTwo {
            ai: vec![Some(1.0), Some(0.0), None],
            bi: vec![Some(9.0), Some(20.0), Some(5.0)],
            ci: vec![Some(3.0), Some(0.0), Some(1.0)],
            di: vec![Some(7.0), Some(18.0), Some(4.0)],
        };
        let t = arm_totals(&d, &[0, 1, 2]).unwrap();
        assert_eq!(t.events, Some([1.0, 3.0]));
        assert_eq!(t.n, [30.0, 28.0]);
        assert_eq!(arm_totals(&d, &[1]).unwrap().n, [20.0, 18.0]);
    }
}
