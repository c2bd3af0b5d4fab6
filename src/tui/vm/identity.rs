//! The identity panel: profiles, records and what links them.

use super::*;
use crate::model::Subject;
use crate::rules::{Finding, Focus, Rule};

#[derive(Debug, Clone, PartialEq)]
pub struct IdentityLine {
    pub segs: Vec<Seg>,
    pub focus: Option<Focus>,
    pub detail: Vec<String>,
}

/// The identity pane: the human's profiles, its source records, and the
/// links that joined them.
pub(super) fn identity_lines(s: &Subject, findings: &[Finding]) -> Vec<IdentityLine> {
    let mut out = vec![profiles_head(s, findings)];
    out.extend(
        s.profiles
            .iter()
            .enumerate()
            .map(|(i, p)| profile_line(i, p)),
    );
    out.push(line(
        vec![seg(format!("Records ({})", s.records.len()), Tone::Title)],
        None,
        vec![],
    ));
    out.extend(s.records.iter().enumerate().map(|(i, r)| record_line(i, r)));
    out.push(line(
        vec![
            seg(format!("Links ({})", s.links.len()), Tone::Title),
            seg("  identifier=value, via", Tone::Muted),
        ],
        None,
        vec![],
    ));
    for l in &s.links {
        out.extend(link_lines(s, l));
    }
    out
}

fn line(segs: Vec<Seg>, focus: Option<Focus>, detail: Vec<String>) -> IdentityLine {
    IdentityLine {
        segs,
        focus,
        detail,
    }
}

/// A value for a detail line: cleaned, `(none)` when absent.
fn or_none(v: Option<&str>) -> String {
    v.map(clean).unwrap_or_else(|| "(none)".into())
}

/// `Profiles (2)  ✗ split identity`.
fn profiles_head(s: &Subject, findings: &[Finding]) -> IdentityLine {
    let split = findings
        .iter()
        .filter(|f| f.rule == Rule::SplitIdentity)
        .max_by_key(|f| f.severity);
    let mut head = vec![seg(format!("Profiles ({})", s.profiles.len()), Tone::Title)];
    if let Some(f) = split {
        head.push(seg(
            format!(
                "  {} split identity",
                crate::tui::theme::severity_symbol(f.severity)
            ),
            Tone::of(f.severity),
        ));
    } else if s.profiles.len() > 1 {
        head.push(seg(
            format!(
                "  {} {} profiles",
                crate::tui::theme::sym::WARN,
                s.profiles.len()
            ),
            Tone::Warn,
        ));
    }
    line(head, None, vec![])
}

/// One profile; the first is the human's selected (primary) profile.
fn profile_line(i: usize, p: &crate::model::Profile) -> IdentityLine {
    let mut segs = vec![
        seg(
            if i == 0 { "● " } else { "○ " },
            if i == 0 { Tone::Accent } else { Tone::Muted },
        ),
        seg(format!("cio_id {}", clean(&p.cio_id)), Tone::Accent),
        seg(
            format!(
                "  id {}",
                p.id.as_deref().map(clean).unwrap_or_else(|| "—".into())
            ),
            Tone::Text,
        ),
        seg(
            format!(
                "  {}",
                p.email
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "no email".into())
            ),
            Tone::Text,
        ),
    ];
    if let Some(ph) = p.phone() {
        segs.push(seg(format!("  {}", clean(ph)), Tone::Muted));
    }
    if i == 0 {
        segs.push(seg("  selected", Tone::Muted));
    }
    let detail = vec![
        format!("cio_id: {}", clean(&p.cio_id)),
        format!("id: {}", or_none(p.id.as_deref())),
        format!("email: {}", or_none(p.email.as_deref())),
        format!("unsubscribed: {}", p.unsubscribed),
        format!("attributes: {}", p.attributes.len()),
        format!("activities: {}", p.activities.len()),
        format!("devices: {}", p.devices.len()),
        format!(
            "segments: {}",
            p.segments
                .iter()
                .map(|g| format!("{} {}", g.id, clean(&g.name)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    let focus = Focus::Profile {
        cio_id: p.cio_id.clone(),
    };
    line(segs, Some(focus), detail)
}

/// One source record with its identifiers.
fn record_line(i: usize, r: &crate::model::SourceRecord) -> IdentityLine {
    let mut segs = vec![seg("■ ", Tone::Muted), seg(clean(&r.label()), Tone::Accent)];
    if let Some(e) = &r.email {
        segs.push(seg(format!("  {}", clean(e)), Tone::Text));
    }
    if let Some(p) = &r.phone {
        segs.push(seg(format!("  {}", clean(p)), Tone::Muted));
    }
    for (k, v) in &r.extra_ids {
        segs.push(seg(format!("  {}={}", clean(k), clean(v)), Tone::Muted));
    }
    let mut detail = vec![
        format!("source: {}", clean(&r.source)),
        format!("id: {}", or_none(r.id.as_deref())),
        format!("email: {}", or_none(r.email.as_deref())),
        format!("phone: {}", or_none(r.phone.as_deref())),
    ];
    for (k, v) in &r.extra_ids {
        detail.push(format!("{}: {}", clean(k), clean(v)));
    }
    detail.push(format!(
        "updated_at: {}",
        r.updated_at
            .as_ref()
            .map(|v| clean(&v.to_string()))
            .unwrap_or_else(|| "(none)".into())
    ));
    detail.push(format!("events: {}", r.events.len()));
    let focus = Focus::Record {
        source: r.source.clone(),
        record: i,
    };
    line(segs, Some(focus), detail)
}

/// A link between two nodes, and the line saying what joined them.
fn link_lines(s: &Subject, l: &crate::model::Link) -> [IdentityLine; 2] {
    let node = |n: &crate::model::NodeRef| -> String {
        match n {
            crate::model::NodeRef::Profile { cio_id } => format!("cio {}", clean(cio_id)),
            crate::model::NodeRef::Record { source, index } => s
                .records
                .get(*index)
                .map(|r| clean(&r.label()))
                .unwrap_or_else(|| format!("{}#{index}", clean(source))),
            crate::model::NodeRef::Selection { value } => format!("selected {}", clean(value)),
        }
    };
    let tone = if l.identifier.ends_with('~') {
        Tone::Warn
    } else {
        Tone::Text
    };
    let segs = vec![
        seg("↔ ", Tone::Muted),
        seg(node(&l.from), Tone::Accent),
        seg(
            format!(" ─{}={}→ ", clean(&l.identifier), clean(&l.value)),
            tone,
        ),
        seg(node(&l.to), Tone::Accent),
    ];
    let via = vec![seg(format!("    via {}", clean(&l.via)), Tone::Muted)];
    let focus = match &l.to {
        crate::model::NodeRef::Profile { cio_id } => Some(Focus::Profile {
            cio_id: cio_id.clone(),
        }),
        _ => None,
    };
    let detail = vec![
        format!("from: {}", node(&l.from)),
        format!("to: {}", node(&l.to)),
        format!("identifier: {}", clean(&l.identifier)),
        format!("value: {}", clean(&l.value)),
        format!("via: {}", clean(&l.via)),
    ];
    [
        line(segs, focus.clone(), detail.clone()),
        line(via, focus, detail),
    ]
}
