//! A page of a listing and a time range: what the reads take, once the
//! request's parameters were checked ([`params`](crate::params)).

use crate::error::Refusal;

/// The time range of history and statistics: the last `minutes` minutes
/// and `hours` hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) minutes: usize,
    pub(crate) hours: usize,
}

/// A page of a listing: which one and how many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    /// From 1.
    pub(crate) page: u64,
    pub(crate) size: u64,
}

impl Paging {
    /// The position of the page's first row.
    pub(crate) fn start(&self) -> u64 {
        (self.page - 1) * self.size
    }

    /// The last page of a listing of `total` rows (1 for an empty one).
    pub(crate) fn last_page(&self, total: u64) -> u64 {
        total.div_ceil(self.size).max(1)
    }

    /// Refuses a page past the end of a listing of `total` rows.
    pub(crate) fn check(&self, total: u64) -> Result<(), Refusal> {
        let last = self.last_page(total);
        if self.page > last {
            return Err(Refusal::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("There are {last} pages of {} rows here; this page is past the last.", self.size),
            ));
        }
        Ok(())
    }
}
