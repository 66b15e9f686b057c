//! The HTML pages, rendered on the server from askama templates
//! (`templates/`, checked when the crate compiles).
//!
//! Everything a producer or worker wrote — payloads, errors, task names,
//! worker ids, queue names — reaches a page only through askama's HTML
//! escaping, in element text or in quoted attributes; ids in links are
//! percent-encoded as well. The pages' one script (`assets/app.js`) writes
//! text with `textContent` only. So a payload holding `<script>` shows as
//! those characters and runs nothing, and the page's Content-Security-Policy
//! would stop a script without the nonce even if markup slipped through.

pub(crate) mod chart;
pub(crate) mod format;
mod overview;
pub(crate) mod queue;
pub(crate) mod task;
pub(crate) mod workers;

pub(crate) use self::overview::overview;
pub(crate) use self::queue::{all_stats, confirm, delayed_page, pending_page, queue_page, queue_stats};
pub(crate) use self::task::{task_by_path, task_by_query, task_in_queue};
pub(crate) use self::workers::{worker_page, workers_page};
