//! Person: one human across systems. Four panes — compare (Customer.io
//! beside each source record, attribute by attribute), identity, timeline,
//! findings — and an optional side panel ([`SidePanel`]).

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::pane_chrome::{count, nothing_matches, pane_title};
use super::{fit, pad, pane, segs_line, spinner};
use crate::tui::app::{scroll_window, App, SidePanel};
use crate::tui::keymap::Command;
use crate::tui::layout::{self, Pane, PersonLayout};
use crate::tui::theme::{sym, Theme};
use crate::tui::vm::{LoadedPerson, Mark};

/// The person screen's split for the app's state now.
pub fn layout(main: Rect, app: &App) -> PersonLayout {
    layout::person(main, app.person_shape())
}

pub fn draw(frame: &mut Frame, main: Rect, app: &App) {
    let t = &app.theme;
    let l = layout(main, app);
    if let (Some(area), Some(side)) = (l.side, &app.side_panel) {
        draw_side(frame, area, app, side);
    }
    let main = Rect {
        width: l.headline.width,
        ..main
    };
    let Some(key) = app.person.key.as_deref() else {
        let msg = format!(
            "No person open. Pick one in People ({}) and press {}, or type {}person ID.",
            app.keymap.hint(Command::People),
            app.keymap.hint(Command::Open),
            app.keymap.hint(Command::Palette)
        );
        frame.render_widget(
            Paragraph::new(Span::styled(msg, t.muted)).block(pane(t, " Person ", true)),
            main,
        );
        return;
    };
    let Some(p) = app.current() else {
        if let Some(nobody) = app.person.found_nobody.as_ref() {
            let mut lines = vec![Line::styled(
                format!("{} {}", sym::ERROR, nobody.headline),
                t.error,
            )];
            lines.extend(
                nobody
                    .details
                    .iter()
                    .map(|d| Line::styled(d.as_str(), t.text)),
            );
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(pane(t, " Person ", true)),
                main,
            );
            return;
        }
        let msg = if app.fetching.as_deref() == Some(key) || app.load.busy() {
            format!("{} loading {}…", spinner(app), fit(key, 60))
        } else {
            format!("{} is not loaded", fit(key, 60))
        };
        frame.render_widget(
            Paragraph::new(Span::styled(msg, t.info)).block(pane(t, " Person ", true)),
            main,
        );
        return;
    };
    draw_headline(frame, l.headline, app, p);
    for pn in Pane::ALL {
        let Some(area) = l.panes[pn.index()] else {
            continue;
        };
        let active = app.person.pane == pn;
        match pn {
            Pane::Compare => draw_compare(frame, area, app, p, active),
            Pane::Identity => super::identity::draw(frame, area, app, p, active),
            Pane::Timeline => super::timeline::draw(frame, area, app, p, active),
            Pane::Findings => super::findings::draw(frame, area, app, p, active),
        }
    }
}

fn draw_headline(frame: &mut Frame, area: Rect, app: &App, p: &LoadedPerson) {
    let t = &app.theme;
    let mut lines = vec![segs_line(t, &p.view.headline)];
    for e in p.view.errors.iter().take(3) {
        lines.push(Line::from(vec![
            Span::styled(format!(" {} {}: ", sym::ERROR, e.source), t.error),
            Span::styled(e.message.as_str(), t.text),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Style of a compare cell by its mark; the Customer.io column is what
/// would be overwritten, so a difference there reads as "removed".
fn mark_style(t: &Theme, m: Mark, col: usize) -> Style {
    match m {
        Mark::Blank => t.muted,
        Mark::Same => t.text,
        Mark::Reference => t.diff_added,
        Mark::Differs if col == 0 => t.diff_removed,
        Mark::Differs => t.warn,
        Mark::Missing => t.missing,
        Mark::Stale => t.stale,
        Mark::InFlight => t.info,
    }
}

/// How the compare grid spends its width: the attribute name, the owner,
/// and `fits` system columns from `first` on, `col_w` each.
struct Grid {
    name_w: usize,
    owner_w: usize,
    col_w: usize,
    first: usize,
    fits: usize,
    ncols: usize,
}

impl Grid {
    fn of(v: &crate::tui::vm::PersonView, width: usize, cur_col: usize) -> Grid {
        let mut name_w = v
            .rows
            .iter()
            .map(|r| r.name.chars().count() + 4)
            .max()
            .unwrap_or(8)
            .clamp(12, 26)
            .min((width / 3).max(8));
        let mut owner_w = 8usize;
        let ncols = v.columns.len().max(1);
        let mut min_w = 14usize;
        let mut rest = width.saturating_sub(name_w + owner_w + 2);
        // A comparison needs two systems side by side: on a narrow screen
        // the name and owner columns give way first, then the cells narrow
        // a little.
        if ncols >= 2 && rest / min_w < 2 {
            name_w = name_w.min(12);
            owner_w = 6;
            rest = width.saturating_sub(name_w + owner_w + 2);
            if rest / min_w < 2 {
                min_w = 11;
            }
        }
        let fits = (rest / min_w).clamp(1, ncols);
        Grid {
            name_w,
            owner_w,
            col_w: rest / fits,
            first: cur_col.saturating_sub(fits - 1).min(ncols - fits),
            fits,
            ncols,
        }
    }

    /// The system columns shown of a row with `n` cells.
    fn shown(&self, n: usize) -> std::ops::Range<usize> {
        self.first..(self.first + self.fits).min(n)
    }

    /// `systems 2-3 of 4` when not every system fits.
    fn systems(&self) -> String {
        if self.fits < self.ncols {
            format!(
                "systems {}-{} of {}",
                self.first + 1,
                self.first + self.fits,
                self.ncols
            )
        } else {
            String::new()
        }
    }
}

/// A grid cell's text padded to `w` columns with one column of air.
fn grid_cell(s: String, w: usize) -> String {
    format!("{} ", pad(&s, w.saturating_sub(1)))
}

/// The grid's two header lines: system titles, then how old each is.
fn compare_header(
    app: &App,
    v: &crate::tui::vm::PersonView,
    g: &Grid,
    active: bool,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let cur = app.person.cursor(Pane::Compare);
    let mut h1 = vec![
        Span::styled(grid_cell("attribute".into(), g.name_w + 1), t.title),
        Span::styled(grid_cell("owner".into(), g.owner_w + 1), t.title),
    ];
    let mut h2 = vec![
        Span::styled(grid_cell(String::new(), g.name_w + 1), t.muted),
        Span::styled(grid_cell(String::new(), g.owner_w + 1), t.muted),
    ];
    for (i, c) in v.columns.iter().enumerate().skip(g.first).take(g.fits) {
        let style = if i == cur.col && active {
            t.title.add_modifier(Modifier::UNDERLINED)
        } else {
            t.title
        };
        h1.push(Span::styled(grid_cell(c.title.clone(), g.col_w), style));
        h2.push(Span::styled(
            grid_cell(shorten_age(&c.subtitle, g.col_w.saturating_sub(1)), g.col_w),
            t.muted,
        ));
    }
    vec![Line::from(h1), Line::from(h2)]
}

/// A cell's text in lines of its column: one line, three when zoomed,
/// as many as the pane holds when focused (its whole value, wrapped, the
/// continuation under the value rather than under the mark).
fn cell_lines(c: &crate::tui::vm::CompareCell, w: usize, max: usize) -> Vec<String> {
    let text = match c.mark {
        Mark::Missing => return vec![format!("{} missing", sym::MISSING)],
        Mark::Blank => return vec!["—".to_string()],
        Mark::Same => format!("  {}", c.value),
        m => format!("{} {}", m.symbol(), c.value),
    };
    let out = super::wrap(&text, w, max);
    if out.len() <= 1 {
        return out;
    }
    let head: String = text.chars().take(2).collect();
    let body: String = text.chars().skip(2).collect();
    super::wrap(&body, w.saturating_sub(2), max)
        .into_iter()
        .enumerate()
        .map(|(k, l)| {
            if k == 0 {
                format!("{head}{l}")
            } else {
                format!("  {l}")
            }
        })
        .collect()
}

/// One row of the grid: its value lines, then a line of write times.
fn compare_row_lines(
    app: &App,
    row: &crate::tui::vm::CompareRow,
    g: &Grid,
    cols: &[(usize, Vec<String>)],
    selected: bool,
    active: bool,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let cur = app.person.cursor(Pane::Compare);
    let focused = app.person.highlight.contains(&row.focus);
    let mut marks = String::new();
    if row.stale {
        marks.push_str(sym::STALE);
    } else if row.cells.iter().any(|c| c.mark == Mark::InFlight) {
        marks.push_str(sym::IN_FLIGHT);
    } else if row.differs {
        marks.push_str(sym::DIFFERS);
    }
    if row.missing {
        marks.push_str(sym::MISSING);
    }
    let prefix = if focused { sym::FOCUS } else { " " };
    let name_style = if focused {
        t.focus
    } else if row.differs || row.missing {
        t.accent
    } else {
        t.text
    };
    let value_lines = cols.iter().map(|c| c.1.len()).max().unwrap_or(1);
    // The selected row's name is whole too (it has the lines).
    let name_text = format!("{prefix}{} {marks}", row.name);
    let name_lines = if selected && value_lines > 1 {
        super::wrap(&name_text, g.name_w, value_lines)
    } else {
        vec![name_text]
    };
    let mut out: Vec<Vec<Span>> = (0..=value_lines).map(|_| vec![]).collect();
    for (k, l) in out.iter_mut().enumerate() {
        let name = name_lines.get(k).cloned().unwrap_or_default();
        l.push(Span::styled(grid_cell(name, g.name_w + 1), name_style));
        l.push(match (&row.owner, k) {
            (Some(o), 0) => Span::styled(
                grid_cell(format!("{} {o}", sym::OWNER), g.owner_w + 1),
                t.muted,
            ),
            (None, 0) => Span::styled(grid_cell("—".into(), g.owner_w + 1), t.muted),
            _ => Span::raw(" ".repeat(g.owner_w + 1)),
        });
    }
    for (i, texts) in cols {
        let c = &row.cells[*i];
        let mut style = mark_style(t, c.mark, *i);
        if selected && active && *i == cur.col {
            style = style.add_modifier(Modifier::REVERSED);
        }
        for (k, l) in out.iter_mut().take(value_lines).enumerate() {
            match texts.get(k) {
                Some(text) => l.push(Span::styled(grid_cell(text.clone(), g.col_w), style)),
                None => l.push(Span::raw(" ".repeat(g.col_w))),
            }
        }
        let time = if c.time.is_empty() {
            String::new()
        } else {
            format!("  {}", shorten_time(&c.time, g.col_w.saturating_sub(3)))
        };
        out[value_lines].push(Span::styled(grid_cell(time, g.col_w), t.muted));
    }
    out.into_iter()
        .map(|spans| {
            let l = Line::from(spans);
            if selected {
                l.style(t.selection)
            } else {
                l
            }
        })
        .collect()
}

fn draw_compare(frame: &mut Frame, area: Rect, app: &App, p: &LoadedPerson, active: bool) {
    let t = &app.theme;
    let v = &p.view;
    let cur = app.person.cursor(Pane::Compare);
    let k = &app.keymap;
    let hint = format!(
        "{}/{} cell · {} full value",
        k.hint(Command::Left),
        k.hint(Command::Right),
        k.hint(Command::ShowValue)
    );
    let inner = ratatui::widgets::Block::bordered().inner(area);
    let g = Grid::of(v, inner.width as usize, cur.col);
    let shown = app.visible_rows(Pane::Compare);
    let mut name = "Compare".to_string();
    if shown.len() != v.rows.len() {
        name.push_str(&format!(" · {}", count(shown.len(), v.rows.len())));
    }
    let title = |extra: &str| {
        pane(
            t,
            pane_title(app, Pane::Compare, &name, extra, &hint, active),
            active,
        )
    };
    if inner.width < 10 || inner.height < 3 {
        frame.render_widget(title(&g.systems()), area);
        return;
    }
    let mut lines = compare_header(app, v, &g, active);
    let height = (inner.height as usize).saturating_sub(2);
    // The focused row shows its whole values; a zoomed grid shows every
    // value in a few lines.
    let cols_of = |n: usize| -> Vec<(usize, Vec<String>)> {
        let row = &v.rows[shown[n]];
        let max = if n == cur.row && active {
            height.saturating_sub(1).max(1)
        } else if app.person.zoom {
            3
        } else {
            1
        };
        g.shown(row.cells.len())
            .map(|i| (i, cell_lines(&row.cells[i], g.col_w.saturating_sub(1), max)))
            .collect()
    };
    let row_height = |n: usize| cols_of(n).iter().map(|c| c.1.len()).max().unwrap_or(1) + 1;
    let mut offset = scroll_window(cur.offset, cur.row, (height / 2).max(1), shown.len());
    // A tall selected row (or taller rows above it) pushes the window down
    // until the selection is whole on screen.
    while offset < cur.row && (offset..=cur.row).map(row_height).sum::<usize>() > height {
        offset += 1;
    }
    let mut used = 0;
    // Rows drawn whole (a row cut at the bottom still counts as hidden).
    let mut whole = 0;
    for (n, &i) in shown.iter().enumerate().skip(offset) {
        if used >= height {
            break;
        }
        let row = &v.rows[i];
        let row_lines = compare_row_lines(app, row, &g, &cols_of(n), n == cur.row, active);
        used += row_lines.len();
        lines.extend(row_lines);
        if used <= height {
            whole += 1;
        }
    }
    // Rows above or below the window: say which are shown.
    let mut extra = g.systems();
    if offset > 0 || offset + whole < shown.len() {
        let range = super::pulse::range_hint(offset, whole, shown.len());
        extra = if extra.is_empty() {
            range.trim_start_matches("· ").to_string()
        } else {
            format!("{extra} {range}")
        };
    }
    frame.render_widget(title(&extra), area);
    if v.rows.is_empty() {
        lines.push(Line::from(Span::styled("no attributes", t.muted)));
    } else if shown.is_empty() {
        lines.push(nothing_matches(app));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_side(frame: &mut Frame, area: Rect, app: &App, side: &SidePanel) {
    let t = &app.theme;
    let (title, text): (String, Vec<Line>) = match side {
        SidePanel::Details => match app.selection_detail() {
            Some((title, lines)) => (
                format!(" Details · {} ", fit(&title, 40)),
                lines.into_iter().map(Line::from).collect(),
            ),
            None => (" Details ".into(), vec![Line::from("nothing selected")]),
        },
        SidePanel::Walk => (
            " Spot check ".into(),
            super::walk::side_lines(app, area.width.saturating_sub(2)),
        ),
    };
    frame.render_widget(
        Paragraph::new(text)
            .style(t.text)
            .wrap(Wrap { trim: false })
            .block(pane(t, title, false)),
        area,
    );
}

/// A time that does not fit loses its clock, never its date
/// (`2026-11-10 21:04` → `2026-11-10`), so a column never shows `2026-11-10 2…`.
fn shorten_time(time: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if time.width() <= width {
        return time.to_string();
    }
    let date = time
        .get(..10)
        .filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-');
    match date {
        Some(d) => d.to_string(),
        None => time.to_string(),
    }
}

/// `updated 644d 8h ago` that does not fit becomes `644d 8h ago`, then
/// `644d ago`: the largest unit is kept whole.
fn shorten_age(age: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if age.width() <= width {
        return age.to_string();
    }
    let bare = age.strip_prefix("updated ").unwrap_or(age);
    if bare.width() <= width {
        return bare.to_string();
    }
    let words: Vec<&str> = bare.split(' ').collect();
    match words.as_slice() {
        [big, _, "ago"] => format!("{big} ago"),
        _ => bare.to_string(),
    }
}

#[cfg(test)]
mod fit_tests {
    use super::{shorten_age, shorten_time};

    #[test]
    fn times_lose_the_clock_before_the_date_and_ages_their_smaller_unit() {
        assert_eq!(shorten_time("2026-11-10 21:04", 16), "2026-11-10 21:04");
        assert_eq!(shorten_time("2026-11-10 21:04", 12), "2026-11-10");
        assert_eq!(
            shorten_age("updated 644d 8h ago", 20),
            "updated 644d 8h ago"
        );
        assert_eq!(shorten_age("updated 644d 8h ago", 12), "644d 8h ago");
        assert_eq!(shorten_age("updated 644d 8h ago", 9), "644d ago");
    }
}
