//! Stewardship: the plan, its gaps, adjustment requests, answers.

use super::Doc;

pub fn add(_doc: &mut Doc) {}
