//! The writers: chapters as Typst ([`typst`], with every escaping rule in
//! [`escape`]) and HTML ([`html`], laid out as web editions by [`web`]),
//! the templates around them ([`template`]), what a web edition may contain
//! ([`allowlist`]), and XLIFF for translators
//! ([`xliff`]).

pub mod allowlist;
pub mod escape;
pub mod html;
pub mod tbx;
pub mod template;
pub mod tmx;
pub mod typst;
pub mod web;
pub mod xliff;
