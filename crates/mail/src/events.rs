//! Mail as timestamped events for the volume and sequence analyses.

use crate::meta::MailMeta;
use serde::{Deserialize, Serialize};
use tapir_capture::Timestamp;

/// One message from one sender to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailEvent {
    pub time: Timestamp,
    pub from: String,
    pub to: String,
    /// Size of the whole message: every recipient's copy is the same size on the wire.
    pub size: u64,
    pub message_id: Option<String>,
}

/// One event per recipient (`To:`, `Cc:`, `Bcc:`). A message with no time (no `Received:`
/// date, no `Date:`, no mbox `From ` line) or no sender gives none: it cannot be placed.
pub fn events(meta: &MailMeta) -> Vec<MailEvent> {
    let (Some(time), Some(from)) = (meta.time(), meta.sender()) else {
        return Vec::new();
    };
    meta.recipients()
        .map(|r| MailEvent {
            time,
            from: from.to_owned(),
            to: r.address.clone(),
            size: meta.size,
            message_id: meta.message_id.clone(),
        })
        .collect()
}
