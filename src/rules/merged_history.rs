//! `merged_history` (DOMAIN.md).

use super::{Finding, RuleContext};
use crate::model::Subject;

pub fn check(_subject: &Subject, _ctx: &RuleContext) -> Vec<Finding> {
    Vec::new()
}
