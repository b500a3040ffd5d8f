//! Ad-hoc Rego queries over a snapshot (`credwarden query`), like `opa eval`.
//!
//! The query sees the same world as the rules: `input` is the snapshot, `data.credwarden` holds
//! the evaluation time and the config, and every loaded policy (the bundled helpers in
//! `data.credwarden.lib` among them) is available under `data`.

use serde_json::Value;

use super::{Context, Evaluator, PolicyError};
use crate::snapshot::Snapshot;

/// What a query gave.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryOutput {
    /// No result: the query is false or undefined.
    Undefined,
    /// A query without variables: the value of its (last) expression.
    Value(Value),
    /// A query with variables: one row of bindings per result, in the engine's order.
    Bindings(Vec<serde_json::Map<String, Value>>),
}

impl Evaluator {
    /// Evaluate `query` over `snapshot` at `ctx.now`.
    pub fn query(
        &mut self,
        snapshot: &Snapshot,
        ctx: &Context,
        query: &str,
    ) -> Result<QueryOutput, PolicyError> {
        let limit = self.rule_time_limit();
        self.set_data(ctx)?;
        let input = super::input::snapshot_input(snapshot, super::input::Users::Whole)
            .map_err(|e| PolicyError::Eval(e.to_string()))?;
        let engine = self.engine_mut();
        engine.set_input(input);
        let results = engine.eval_query(query.to_string(), false).map_err(|e| {
            if super::engine::is_time_limit(&e) {
                PolicyError::TimeLimit {
                    file: "query".into(),
                    rule: "query".into(),
                    seconds: limit.as_secs_f64(),
                }
            } else {
                query_error(PolicyError::from_rego(&e, "<query>"))
            }
        })?;
        let results =
            serde_json::to_value(&results).map_err(|e| PolicyError::Eval(e.to_string()))?;
        Ok(shape(&results))
    }
}

/// Name the query as the query, and say what an empty "expecting" means.
fn query_error(err: PolicyError) -> PolicyError {
    match err {
        PolicyError::Rego { location, message } => PolicyError::Rego {
            location: location.replace("<query.rego>", "query"),
            message: if message.trim() == "expecting" {
                "the query ends too early: is a bracket, brace or quote left open?".to_string()
            } else {
                message
            },
        },
        other => other,
    }
}

/// regorus's `{"result": [{"expressions": [{"value": …}], "bindings": {…}}]}` as a
/// [`QueryOutput`].
fn shape(results: &Value) -> QueryOutput {
    let rows = results
        .get("result")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if rows.is_empty() {
        return QueryOutput::Undefined;
    }
    let bindings: Vec<serde_json::Map<String, Value>> = rows
        .iter()
        .filter_map(|r| r.get("bindings").and_then(Value::as_object).cloned())
        .filter(|b| !b.is_empty())
        .collect();
    if !bindings.is_empty() {
        return QueryOutput::Bindings(bindings);
    }
    let last_value = |r: &Value| {
        r.get("expressions")
            .and_then(Value::as_array)
            .and_then(|e| e.last())
            .and_then(|e| e.get("value"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    match rows.as_slice() {
        [one] => QueryOutput::Value(last_value(one)),
        many => QueryOutput::Value(Value::Array(many.iter().map(last_value).collect())),
    }
}

/// Render a query's output as an aligned text table.
///
/// Objects of scalars become `key | value` rows, arrays of objects one row per element with a
/// column per key, bindings a column per variable; anything else is printed as JSON.
pub fn table(output: &QueryOutput) -> String {
    match output {
        QueryOutput::Undefined => "undefined\n".to_string(),
        QueryOutput::Bindings(rows) => {
            let values: Vec<Value> = rows.iter().cloned().map(Value::Object).collect();
            objects_table(&values)
        }
        QueryOutput::Value(Value::Object(map)) => {
            let rows: Vec<Vec<String>> =
                map.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect();
            aligned(&["key".to_string(), "value".to_string()], &rows)
        }
        QueryOutput::Value(Value::Array(items)) if items.iter().all(Value::is_object) => {
            objects_table(items)
        }
        QueryOutput::Value(Value::Array(items)) => {
            let rows: Vec<Vec<String>> = items.iter().map(|v| vec![cell(v)]).collect();
            aligned(&["value".to_string()], &rows)
        }
        QueryOutput::Value(v) => format!("{}\n", cell(v)),
    }
}

fn objects_table(items: &[Value]) -> String {
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        for key in item.as_object().into_iter().flat_map(|o| o.keys()) {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    aligned(&columns, &rows)
}

/// Widest cell in a table; longer values are cut (`--format json` has them whole).
const MAX_CELL: usize = 60;

/// Strings unquoted; everything else as compact JSON; cut at [`MAX_CELL`] characters.
fn cell(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX_CELL - 1) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_query_without_variables_gives_its_value() {
        let r = json!({"result": [{"expressions": [{"value": 3, "text": "count(x)"}]}]});
        assert_eq!(shape(&r), QueryOutput::Value(json!(3)));
    }

    #[test]
    fn no_result_is_undefined() {
        assert_eq!(shape(&json!({})), QueryOutput::Undefined);
    }

    #[test]
    fn variables_give_rows_of_bindings() {
        let r = json!({"result": [
            {"expressions": [{"value": true}], "bindings": {"n": 1}},
            {"expressions": [{"value": true}], "bindings": {"n": 2}},
        ]});
        let QueryOutput::Bindings(rows) = shape(&r) else {
            panic!("expected bindings")
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["n"], json!(2));
    }

    #[test]
    fn tables_align_columns() {
        let out = table(&QueryOutput::Value(
            json!({"alice": 2, "bob-the-builder": 0}),
        ));
        assert_eq!(
            out,
            "key              value\n---------------  -----\nalice            2\nbob-the-builder  0\n"
        );
        let out = table(&QueryOutput::Value(
            json!([{"user": "a", "keys": 1}, {"user": "bb"}]),
        ));
        assert_eq!(out, "user  keys\n----  ----\na     1\nbb\n");
    }
}
