//! `o`: the focused person's profile in the Customer.io dashboard. The App
//! API does not say which dashboard workspace it serves, so the config
//! names it (`customerio.dashboard_workspace_id`, `docs/config.md`).

use super::{App, Level, View};
use crate::config::Region;
use crate::tui::action::Effect;

/// The config key that names the dashboard workspace.
pub const DASHBOARD_KEY: &str = "customerio.dashboard_workspace_id";

/// The dashboard's address of one person's profile. `person` is the
/// profile's `id` (or its `cio_id` when it has none); it is
/// percent-encoded, so no identifier can change the address's shape.
pub fn profile_url(region: Region, workspace: &str, person: &str) -> String {
    let host = match region {
        Region::Us => "fly.customer.io",
        Region::Eu => "fly-eu.customer.io",
    };
    format!(
        "https://{host}/env/{}/people/{}",
        encode(workspace),
        encode(person)
    )
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl App {
    /// The dashboard address of the focused person, or what is missing.
    pub fn dashboard_url(&self) -> Result<String, String> {
        let key = match self.view {
            View::Person => self.person.key.clone(),
            View::People => self.people.selected().map(|s| s.key.clone()),
            View::Pulse => None,
        }
        .ok_or("no person here: open one or select one in People")?;
        let Some(workspace) = self.config.customerio.dashboard_workspace_id.as_deref() else {
            return Err(format!(
                "set {DASHBOARD_KEY} in {} to open profiles in the Customer.io dashboard \
                 (the number in its address)",
                self.config.path.display()
            ));
        };
        let profile = self
            .people
            .loaded(&key)
            .and_then(|p| p.subject.as_ref())
            .and_then(|s| s.primary_profile())
            .ok_or_else(|| format!("{key} has no Customer.io profile (yet) to open"))?;
        let id = profile.id.as_deref().unwrap_or(&profile.cio_id);
        Ok(profile_url(self.config.customerio.region, workspace, id))
    }

    /// `o`: ask the runtime to open the profile in a browser.
    pub(super) fn open_dashboard(&mut self) -> Vec<Effect> {
        match self.dashboard_url() {
            Ok(url) => {
                self.notify(Level::Info, format!("opening {url}"));
                vec![Effect::OpenUrl {
                    job: self.jobs.start(crate::tui::jobs::JobKind::Open),
                    url,
                }]
            }
            Err(why) => {
                self.notify(Level::Warn, why);
                vec![]
            }
        }
    }

    /// The opener's answer. Without one (no browser here, or over SSH) the
    /// address goes on the status line and to the clipboard instead.
    pub(super) fn url_opened(&mut self, url: String, result: Result<(), String>) -> Vec<Effect> {
        match result {
            Ok(()) => {
                self.notify(Level::Info, format!("opened {url}"));
                vec![]
            }
            Err(why) => {
                self.notify(Level::Warn, format!("{why}; copied {url}"));
                vec![Effect::Copy(url)]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_address_follows_the_region() {
        assert_eq!(
            profile_url(Region::Us, "123456", "C1001"),
            "https://fly.customer.io/env/123456/people/C1001"
        );
        assert_eq!(
            profile_url(Region::Eu, "98", "C1001"),
            "https://fly-eu.customer.io/env/98/people/C1001"
        );
    }

    #[test]
    fn an_identifier_cannot_change_the_address() {
        assert_eq!(
            profile_url(Region::Us, "1", "a/b?c#d e"),
            "https://fly.customer.io/env/1/people/a%2Fb%3Fc%23d%20e"
        );
    }
}
