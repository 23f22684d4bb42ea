//! Export: writes stored papers as JSON or NDJSON for scripts, streamed row by row.

use std::io::Write;

use anyhow::Result;

use crate::cli::ExportFormat;
use crate::store::{PaperFilter, Store};

/// Write the papers `filter` selects to `out`. Memory stays flat: each record is
/// serialized and written as the store yields it.
pub fn write(
    store: &Store,
    filter: &PaperFilter,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<()> {
    let mut first = true;
    if format == ExportFormat::Json {
        out.write_all(b"[")?;
    }
    store.papers(filter, |record| {
        match format {
            ExportFormat::Json => {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &record)?;
            }
            ExportFormat::Ndjson => {
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
            }
        }
        first = false;
        Ok(())
    })?;
    if format == ExportFormat::Json {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    }
    out.flush()?;
    Ok(())
}
