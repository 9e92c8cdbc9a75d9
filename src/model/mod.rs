//! Plain types of the report: its two languages, and how numbers, units
//! and dates are written in each.

pub mod format;
pub mod lang;
