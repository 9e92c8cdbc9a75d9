//! Stage 3: minijinja templates that lay the report out as Typst.
//!
//! Templates whose name ends in `.typ` auto-escape every value they insert
//! as literal Typst markup, so a title with `#`, `*` or `[` prints as written.
//! Typst that renga generated itself is marked safe. In code positions,
//! templates use the `typst_string` and `typst_num` filters.

use std::path::Path;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, OutputSpan, UndefinedBehavior};

use crate::diag::{Diagnostic, Location};
use crate::load::confine;
use crate::model::lang::Lang;
use crate::render::escape;

/// The default templates, built into the binary; a project's own
/// `templates/` files with the same names take their place.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("main.typ", include_str!("../../templates/main.typ")),
    ("prelude.typ", include_str!("../../templates/prelude.typ")),
    ("main.html", include_str!("../../templates/main.html")),
    ("style.css", include_str!("../../templates/style.css")),
];

pub struct Templates {
    env: Environment<'static>,
    /// Where each template came from, for diagnostics: `templates/main.typ`
    /// for the project's own, `<built-in>/main.typ` for a default.
    origins: Vec<(String, String)>,
}

/// A rendered template and the spans that tie its output to its source.
pub struct Rendered {
    pub text: String,
    spans: Vec<OutputSpan>,
}

impl Templates {
    /// Loads the defaults, then the project's `templates/` folder over them.
    pub fn load(root: &Path) -> Result<Templates, Vec<Diagnostic>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A template's work is bounded: a loop of 10^10 iterations is an
        // error at the template, not a build that runs on.
        env.set_fuel(Some(crate::load::limits::TEMPLATE_FUEL));
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".typ") {
                AutoEscape::Custom("typst".into())
            } else if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| {
            if *state.auto_escape() == AutoEscape::Html {
                // HTML templates (the web editions): minijinja's own escaping.
                return minijinja::escape_formatter(out, state, value);
            }
            let escaped =
                matches!(state.auto_escape(), AutoEscape::Custom(mode) if mode == "typst");
            if !escaped || value.is_safe() {
                return write!(out, "{value}").map_err(Error::from);
            }
            if value.is_undefined() || value.is_none() {
                return Ok(());
            }
            // Tag text in a script other than the document's own language;
            // where the template mixes both (the bilingual edition), tag both.
            let edition = state.lookup("edition");
            let attr = |name| edition.as_ref().and_then(|e| e.get_attr(name).ok());
            let lang = attr("lang").and_then(|l| l.as_str().and_then(Lang::from_code));
            let bilingual = attr("bilingual").is_some_and(|b| b.is_true());
            let home = if bilingual { None } else { lang };
            let text = value.to_string();
            write!(out, "{}", escape::markup_tagged(&text, home)).map_err(Error::from)
        });
        // `{{ text | tagged(lang) }}` in HTML: escaped, with runs in the
        // other script marked with their language, as in chapter text.
        env.add_filter("tagged", |v: Value, lang: &str| -> Result<Value, Error> {
            let lang = Lang::from_code(lang).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("tagged needs \"en\" or \"ja\", got {lang:?}"),
                )
            })?;
            if v.is_undefined() || v.is_none() {
                return Ok(Value::from_safe_string(String::new()));
            }
            let mut out = String::new();
            crate::render::html::tagged_into(&mut out, &v.to_string(), lang);
            Ok(Value::from_safe_string(out))
        });
        // `{% if url is web_url %}`: an address an edition may link to
        // (http, https, mailto; no `javascript:`, `data:` or `smb:` from a
        // metrics file), the recogniser both writers use.
        env.add_test("web_url", |v: Value| {
            crate::markdown::link_allowed(&v.to_string())
        });
        env.add_filter("typst_string", |v: Value| {
            Value::from_safe_string(escape::string(&v.to_string()))
        });
        env.add_filter("typst_num", |v: Value| -> Result<Value, Error> {
            let n = f64::try_from(v.clone()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("typst_num needs a number, got {v}"),
                )
            })?;
            if !n.is_finite() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "typst_num needs a finite number",
                ));
            }
            let text = if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", n as i64)
            } else {
                format!("{n}")
            };
            Ok(Value::from_safe_string(text))
        });

        let mut origins = Vec::new();
        let mut diags = Vec::new();
        let files = confine::Root::new(root);
        let mut own: Vec<(String, String)> = Vec::new();
        match files.list("templates") {
            Ok(names) => {
                for name in names {
                    let rel = format!("templates/{name}");
                    // Sub-folders are not templates (a link out is still refused).
                    if matches!(files.is_dir(&rel), Ok(true)) {
                        continue;
                    }
                    match files.read_text(&rel) {
                        Ok(text) => own.push((name, text)),
                        Err(err) => diags.push(err.diagnostic(&rel)),
                    }
                }
            }
            Err(err) if err.is_refusal() => diags.push(err.diagnostic("templates")),
            Err(_) => {}
        }
        own.sort();
        for (name, text) in DEFAULTS {
            if !own.iter().any(|(n, _)| n == name) {
                own.push((name.to_string(), text.to_string()));
                origins.push((name.to_string(), format!("<built-in>/{name}")));
            }
        }
        for (name, text) in own {
            if !origins.iter().any(|(n, _)| n == &name) {
                origins.push((name.clone(), format!("templates/{name}")));
            }
            let origin = origins
                .iter()
                .find(|(n, _)| n == &name)
                .map(|(_, o)| o.clone())
                .unwrap_or_default();
            if let Err(err) = env.add_template_owned(name.clone(), text.clone()) {
                diags.push(template_error(&err, &origin, &text));
            }
        }
        if diags.is_empty() {
            Ok(Templates { env, origins })
        } else {
            Err(diags)
        }
    }

    /// Where template `name` comes from: `templates/NAME` for the
    /// project's own, `<built-in>/NAME` for a default.
    pub fn origin(&self, name: &str) -> String {
        self.origins
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| format!("templates/{name}"), |(_, o)| o.clone())
    }

    pub fn render(&self, name: &str, context: Value) -> Result<Rendered, Diagnostic> {
        let template = self
            .env
            .get_template(name)
            .map_err(|err| self.error(&err))?;
        let (text, spans) = template
            .render_with_spans(context)
            .map_err(|err| self.error(&err))?;
        Ok(Rendered { text, spans })
    }

    fn error(&self, err: &Error) -> Diagnostic {
        let name = err.name().unwrap_or("main.typ");
        let origin = self.origin(name);
        let source = self
            .env
            .get_template(name)
            .map(|t| t.source().to_string())
            .unwrap_or_default();
        template_error(err, &origin, &source)
    }

    /// Where in which template the Typst text at `offset` of `rendered` came from.
    pub fn locate(&self, rendered: &Rendered, offset: usize) -> Option<Location> {
        self.locate_detail(rendered, offset).map(|(loc, _)| loc)
    }

    /// As [`Templates::locate`], and whether the text at `offset` is the
    /// template's own (`true`) or part of a value it inserted (`false`:
    /// the location is the `{{ … }}` that inserted it).
    pub fn locate_detail(&self, rendered: &Rendered, offset: usize) -> Option<(Location, bool)> {
        let span = rendered
            .spans
            .iter()
            .rev()
            .find(|s| s.output_range().contains(&offset))?;
        let source = self
            .env
            .get_template(span.name())
            .ok()?
            .source()
            .to_string();
        let origin = self.origin(span.name());
        let out = span.output_range();
        let src = span.source_range();
        // Literal template text is copied as is: point at the exact place.
        let within = offset - out.start;
        let exact =
            src.len() == out.len() && rendered.text.get(out.clone()) == source.get(src.clone());
        let at = if exact { src.start + within } else { src.start };
        Some((Location::from_offset(origin, &source, at), exact))
    }
}

fn template_error(err: &Error, origin: &str, source: &str) -> Diagnostic {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message = format!("{message}: {detail}");
    }
    let location = match (err.range(), err.line()) {
        (Some(range), _) => Location::from_range(origin, source, range),
        (None, Some(line)) => Location::new(origin, line, 1),
        (None, None) => Location::file(origin),
    };
    Diagnostic::error("template", message).at(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn env_with(template: &str) -> Templates {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/t.typ"), template).unwrap();
        Templates::load(dir.path()).unwrap()
    }

    #[test]
    fn values_are_escaped_for_typst() {
        let t = env_with(
            "= {{ title }}\n#let x = {{ title | typst_string }}\n#box(width: {{ n | typst_num }}%)",
        );
        let out = t
            .render("t.typ", context!(title => "#1 *2* [3]\"", n => 12.5))
            .unwrap();
        assert_eq!(
            out.text,
            "= \\#1 \\*2\\* \\[3\\]\\\"\n#let x = \"#1 *2* [3]\\\"\"\n#box(width: 12.5%)"
        );
    }

    #[test]
    fn undefined_variables_are_errors_at_the_template_line() {
        let t = env_with("line one\n{{ missing }}");
        let err = t.render("t.typ", context!()).err().unwrap();
        let loc = err.location.unwrap();
        assert_eq!(loc.file, "templates/t.typ");
        assert_eq!(loc.line, 2);
    }

    #[test]
    fn syntax_errors_name_the_template_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/main.typ"), "ok\n{% if %}").unwrap();
        let diags = Templates::load(dir.path()).err().unwrap();
        assert_eq!(
            diags[0].location.as_ref().unwrap().file,
            "templates/main.typ"
        );
        assert_eq!(diags[0].location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn output_offsets_map_back_to_template_lines() {
        let t = env_with("a\nb\n{{ x }}\n#oops");
        let out = t.render("t.typ", context!(x => "v")).unwrap();
        let offset = out.text.find("#oops").unwrap();
        let loc = t.locate(&out, offset).unwrap();
        assert_eq!((loc.line, loc.column), (4, 1));
    }
}
