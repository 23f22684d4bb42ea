//! Select: which stored papers go into a reader's digest today. "New": never mailed to
//! them (catching up after failed runs); "Climbing": mailed before and risen since. Both
//! pass through the reader's profile.

use anyhow::Result;
use chrono::{Days, NaiveDate};

use crate::config::{Recipient, TrendsConfig};
use crate::relevance::{self, Scored};
use crate::store::{LedgerFilter, PaperFilter, PaperRecord, Store};

/// One reader's papers for one day. A paper is in at most one section.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub new: Vec<Scored>,
    pub climbing: Vec<Scored>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.climbing.is_empty()
    }

    /// Every paper of the digest, new ones first.
    pub fn records(&self) -> impl Iterator<Item = &PaperRecord> {
        self.new.iter().chain(&self.climbing).map(|s| &s.record)
    }
}

/// Select `reader`'s papers for `today`.
///
/// New papers: every paper seen on the listing from the start of the catch-up window to
/// today that the ledger has not delivered to them, today's listing first in rank order. The
/// window starts at the later of the day the reader was first mailed for (today for a new
/// reader, so they do not get the whole history) and `today - catch_up_days`.
///
/// Climbing: papers on today's listing that were mailed to them before and have since
/// risen at least `climb_places` ranks or gained at least `climb_upvotes` upvotes.
pub fn for_reader(
    store: &Store,
    reader: &Recipient,
    today: NaiveDate,
    catch_up_days: u32,
    trends: TrendsConfig,
) -> Result<Selection> {
    let address = reader.address();
    let earliest = today
        .checked_sub_days(Days::new(u64::from(catch_up_days)))
        .unwrap_or(today);
    let since = store
        .recipient_since(&address)?
        .map_or(today, |since| since.max(earliest))
        .min(today);
    let new = store.paper_list(&PaperFilter {
        since: Some(since),
        until: Some(today),
        limit: None,
        ledger: LedgerFilter::NotDeliveredTo(address.clone()),
    })?;
    let climbing = if trends.climbing {
        store.paper_list(&PaperFilter {
            since: Some(today),
            until: Some(today),
            limit: None,
            ledger: LedgerFilter::ClimbedFor {
                recipient: address,
                places: trends.climb_places,
                upvotes: trends.climb_upvotes,
            },
        })?
    } else {
        Vec::new()
    };
    let profile = reader.profile.as_ref();
    Ok(Selection {
        new: relevance::select(profile, new),
        climbing: relevance::select(profile, climbing),
    })
}
