//! Select: which stored papers are new to a reader today (with catch-up after failed runs).

use anyhow::Result;
use chrono::{Days, NaiveDate};

use crate::store::{PaperFilter, PaperRecord, Store};

/// The papers to mail `recipient` for `today`: every paper seen on the listing from the
/// start of the catch-up window to today that the ledger has not delivered to them, today's
/// listing first in rank order, then older days' undelivered papers.
///
/// The window starts at the later of the day the reader was first mailed for (today for a
/// new reader, so they do not get the whole history) and `today - catch_up_days`.
pub fn new_papers(
    store: &Store,
    recipient: &str,
    today: NaiveDate,
    catch_up_days: u32,
) -> Result<Vec<PaperRecord>> {
    let earliest = today
        .checked_sub_days(Days::new(u64::from(catch_up_days)))
        .unwrap_or(today);
    let since = store
        .recipient_since(recipient)?
        .map_or(today, |since| since.max(earliest))
        .min(today);
    store.paper_list(&PaperFilter {
        since: Some(since),
        until: Some(today),
        limit: None,
        not_delivered_to: Some(recipient.to_string()),
    })
}
