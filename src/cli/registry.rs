//! `flavors`: the registry as a table, then what each row declares
//! (consumes, produces, dependencies, metrics, whether it reads the rules,
//! tools).

use std::io::Write;

use crate::flavors::{FlavorSpec, FLAVORS};

/// Writes the registry to `out`. A closed pipe (`flavors | head -1`) ends
/// the listing quietly instead of panicking.
pub fn print(out: &mut impl Write) {
    let _ = write_all(out, FLAVORS);
}

fn write_all(out: &mut impl Write, rows: &[FlavorSpec]) -> std::io::Result<()> {
    let width = rows.iter().map(|f| f.name.len()).max().unwrap_or(0).max(6);
    writeln!(
        out,
        "{:<width$}  {:<6}  {:<5}  SUMMARY",
        "FLAVOR", "STYLE", "STORE"
    )?;
    for f in rows {
        let store = if f.needs_store { "yes" } else { "no" };
        let style = f.style.as_str();
        writeln!(
            out,
            "{:<width$}  {style:<6}  {store:<5}  {}",
            f.name, f.summary
        )?;
    }
    for f in rows {
        writeln!(out)?;
        writeln!(out, "{}", f.name)?;
        writeln!(out, "  consumes:     {}", f.consumes.describe())?;
        writeln!(out, "  produces:     {}", f.produces.describe())?;
        writeln!(out, "  dependencies: {}", list(f.dependency_names()))?;
        let metrics = f.metrics.iter().map(|m| m.name).collect();
        writeln!(out, "  metrics:      {}", list(metrics))?;
        let rules = if f.reads_rules {
            "yes (rules.dir)"
        } else {
            "no"
        };
        writeln!(out, "  reads rules:  {rules}")?;
        let tools = f.tools.map(|t| format!("case-event-handler {} …", t.name));
        writeln!(
            out,
            "  tools:        {}",
            tools.as_deref().unwrap_or("none")
        )?;
    }
    Ok(())
}

fn list(names: Vec<&str>) -> String {
    match names.is_empty() {
        true => "none".into(),
        false => names.join(", "),
    }
}
