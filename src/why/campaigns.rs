//! The campaigns of the "why" picker as plain text: trigger, state, the
//! picker's order.

use crate::customerio::Campaign;
use crate::sanitize::sanitize;

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// How a campaign is triggered, in a few words: `event order_completed`,
/// `segment 42`, `other trigger`.
pub fn campaign_trigger(c: &Campaign) -> String {
    match (&c.event_name, c.trigger_segment_ids.as_slice()) {
        (Some(name), _) => format!("event {}", clean(name)),
        (None, []) => "other trigger".into(),
        (None, ids) => format!(
            "segment {}",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

/// `running`, `draft`, `stopped`, or `inactive` when the API gives no state.
pub fn campaign_state(c: &Campaign) -> String {
    match &c.state {
        Some(s) => clean(s),
        None if c.active => "active".into(),
        None => "inactive".into(),
    }
}

pub fn is_running(c: &Campaign) -> bool {
    c.active
        && c.state
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("running"))
}

/// One row of the campaign picker, plain: `101  Post-purchase thank you  event order_completed  running`.
pub fn campaign_row_text(c: &Campaign) -> String {
    format!(
        "{:>5}  {}  {}  {}",
        c.id,
        clean(&c.name),
        campaign_trigger(c),
        campaign_state(c)
    )
}

/// Campaigns in picker order: running first, then by name.
pub fn sort_for_picker(campaigns: &mut [Campaign]) {
    campaigns.sort_by(|a, b| {
        is_running(b)
            .cmp(&is_running(a))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
}
