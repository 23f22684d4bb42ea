//! Export: writes records as one JSON array or as NDJSON for scripts, item by item, so
//! memory stays flat however large the store is.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::ExportFormat;
use crate::store::{PaperFilter, Store};

/// Writes a JSON array or NDJSON one item at a time.
pub struct RecordWriter<W: Write> {
    out: W,
    format: ExportFormat,
    first: bool,
}

impl<W: Write> RecordWriter<W> {
    pub fn new(mut out: W, format: ExportFormat) -> Result<RecordWriter<W>> {
        if format == ExportFormat::Json {
            out.write_all(b"[")?;
        }
        Ok(RecordWriter {
            out,
            format,
            first: true,
        })
    }

    pub fn item(&mut self, record: &impl Serialize) -> Result<()> {
        if self.format == ExportFormat::Json {
            self.out
                .write_all(if self.first { b"\n" } else { b",\n" })?;
        }
        serde_json::to_writer(&mut self.out, record)?;
        if self.format == ExportFormat::Ndjson {
            self.out.write_all(b"\n")?;
        }
        self.first = false;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        if self.format == ExportFormat::Json {
            self.out
                .write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// Stream the papers `filter` selects from the store to `out`.
pub fn write(
    store: &Store,
    filter: &PaperFilter,
    format: ExportFormat,
    out: impl Write,
) -> Result<()> {
    let mut writer = RecordWriter::new(out, format)?;
    store.papers(filter, |record| writer.item(&record))?;
    writer.finish()
}
