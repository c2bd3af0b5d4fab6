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

pub(super) fn identity_lines(s: &Subject, findings: &[Finding]) -> Vec<IdentityLine> {
    let mut out = vec![];
    let line = |segs: Vec<Seg>, focus: Option<Focus>, detail: Vec<String>| IdentityLine {
        segs,
        focus,
        detail,
    };
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
    out.push(line(head, None, vec![]));
    for (i, p) in s.profiles.iter().enumerate() {
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
            format!(
                "id: {}",
                p.id.as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "(none)".into())
            ),
            format!(
                "email: {}",
                p.email
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "(none)".into())
            ),
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
        out.push(line(
            segs,
            Some(Focus::Profile {
                cio_id: p.cio_id.clone(),
            }),
            detail,
        ));
    }
    out.push(line(
        vec![seg(format!("Records ({})", s.records.len()), Tone::Title)],
        None,
        vec![],
    ));
    for (i, r) in s.records.iter().enumerate() {
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
        let mut detail = vec![format!("source: {}", clean(&r.source))];
        detail.push(format!(
            "id: {}",
            r.id.as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
        detail.push(format!(
            "email: {}",
            r.email
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
        detail.push(format!(
            "phone: {}",
            r.phone
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
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
        out.push(line(
            segs,
            Some(Focus::Record {
                source: r.source.clone(),
                record: i,
            }),
            detail,
        ));
    }
    out.push(line(
        vec![
            seg(format!("Links ({})", s.links.len()), Tone::Title),
            seg("  identifier=value, via", Tone::Muted),
        ],
        None,
        vec![],
    ));
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
    for l in &s.links {
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
        out.push(line(segs, focus.clone(), detail.clone()));
        out.push(line(via, focus, detail));
    }
    out
}
