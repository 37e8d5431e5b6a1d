//! The aggregated data of `evident aggregate` (metafor's `aggregate.escalc`) as CSV, one row per
//! cluster, every digit kept, and as JSON.

use crate::data::Value;
use crate::multilevel::aggregate::{AggregateStruct, Aggregated};
use serde_json::{json, Map};

/// The carried columns, then `yi`, `vi` and `ki` (metafor's `addk = TRUE`; left out when a
/// carried column already has that name). Text cells are guarded against formula injection.
pub fn aggregate_csv(a: &Aggregated) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let with_ki = !a.columns.iter().any(|c| c.name == "ki");
    let mut header: Vec<String> = a.columns.iter().map(|c| super::csv_safe(&c.name)).collect();
    header.extend(["yi".to_string(), "vi".to_string()]);
    if with_ki {
        header.push("ki".into());
    }
    // Writing to a Vec cannot fail; a failed record would only drop that row.
    let _ = w.write_record(&header);
    for i in 0..a.yi.len() {
        let mut row: Vec<String> = a
            .columns
            .iter()
            .map(|c| match &c.values[i] {
                Value::Text(s) => super::csv_safe(s),
                v => v.as_text(),
            })
            .collect();
        row.push(format!("{}", a.yi[i]));
        row.push(format!("{}", a.vi[i]));
        if with_ki {
            row.push(a.ki[i].to_string());
        }
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `{"measure", "cluster", "struct", "rho", "weighted", "yi", "vi", "ki", "columns": {name: [...]}}`.
pub fn aggregate_json(a: &Aggregated) -> serde_json::Value {
    let (structure, rho) = match a.structure {
        AggregateStruct::Id => ("ID", serde_json::Value::Null),
        AggregateStruct::Cs { rho } => ("CS", super::json::num(rho)),
    };
    let mut columns = Map::new();
    for c in &a.columns {
        columns.insert(c.name.clone(), json!(c.values));
    }
    json!({
        "measure": a.measure,
        "cluster": a.cluster,
        "struct": structure,
        "rho": rho,
        "weighted": a.weighted,
        "yi": a.yi.iter().map(|&x| super::json::num(x)).collect::<Vec<_>>(),
        "vi": a.vi.iter().map(|&x| super::json::num(x)).collect::<Vec<_>>(),
        "ki": a.ki,
        "columns": columns,
    })
}
