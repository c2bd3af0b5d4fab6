//! `[identity]`: which identifier is the customer key, which identifiers
//! join profiles into one human, and where national phone numbers are
//! dialled.

use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawIdentity;

/// Which identifier is the customer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    Id,
    Email,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub primary: Primary,
    pub match_on: Vec<String>,
    /// Where national phone numbers (no country code) are dialled.
    pub phone_region: crate::model::normalize::PhoneRegion,
}

impl Identity {
    /// Profiles sharing an email are one human.
    pub fn match_email(&self) -> bool {
        self.match_on.iter().any(|m| m == "email")
    }

    /// Profiles sharing a phone are one human.
    pub fn match_phone(&self) -> bool {
        self.match_on.iter().any(|m| m == "phone")
    }

    /// A phone in E.164, national numbers read in `phone_region`.
    pub fn phone(&self, raw: &str) -> Option<String> {
        crate::model::normalize::phone_in(raw, self.phone_region)
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            primary: Primary::Id,
            match_on: vec!["email".into(), "phone".into()],
            phone_region: Default::default(),
        }
    }
}

/// Check `[identity]`, filling in the defaults.
pub(super) fn validate(raw: &RawIdentity, loc: &Locator) -> Result<Identity, ConfigError> {
    let primary = match &raw.primary {
        None => Primary::Id,
        Some(p) => match p.get_ref().as_str() {
            "id" => Primary::Id,
            "email" => Primary::Email,
            other => {
                return Err(loc.err(
                    span_of(p),
                    "identity.primary",
                    format!("\"id\" or \"email\", found {other:?}"),
                ))
            }
        },
    };
    let match_on = match &raw.match_on {
        None => vec!["email".into(), "phone".into()],
        Some(m) => {
            for v in m.get_ref() {
                if v != "email" && v != "phone" {
                    return Err(loc.err(
                        span_of(m),
                        "identity.match_on",
                        format!("a list of \"email\" and/or \"phone\", found {v:?}"),
                    ));
                }
            }
            m.get_ref().clone()
        }
    };
    let phone_region = match &raw.phone_region {
        None => Default::default(),
        Some(r) => {
            crate::model::normalize::PhoneRegion::from_code(r.get_ref()).ok_or_else(|| {
                loc.err(
                    span_of(r),
                    "identity.phone_region",
                    format!(
                        "an ISO 3166 region code such as \"US\", \"GB\" or \"BR\", found {:?}",
                        r.get_ref()
                    ),
                )
            })?
        }
    };
    Ok(Identity {
        primary,
        match_on,
        phone_region,
    })
}
