//! The resolving pass: what a metric reference, a link or an image path in
//! a chapter means, decided once for the Typst and the HTML writer alike.

use std::path::Path;

use super::{Anchors, ImageTarget, has_scheme, image_target, label, normalize, percent_decode};
use crate::diag::Diagnostic;
use crate::load::project::{Chapter, Metric, Metrics};
use crate::model::format;
use crate::model::lang::Lang;

/// The resolving half of the conversion: what a metric reference, a link or
/// an image path in a chapter means, decided once for every writer (Typst
/// and any other writer), so that the editions cannot drift apart.
/// Problems come back as diagnostics without a place: the writer knows the node.
#[derive(Clone, Copy)]
pub(crate) struct Resolve<'a> {
    pub root: &'a Path,
    /// Chapter folders refused for an error of their own (see [`Project::skipped`]).
    pub skipped: &'a [String],
    pub metrics: &'a Metrics,
    pub anchors: &'a Anchors<'a>,
    pub chapter: &'a Chapter,
    pub lang: Lang,
    /// Draft builds: a missing image is a warning (and a placeholder).
    pub draft: bool,
}

/// A `{{metric …}}` reference, resolved.
pub(crate) struct MetricRef<'a> {
    pub metric: &'a Metric,
    /// What the reader sees, in the chapter's language.
    pub text: String,
}

impl<'a> Resolve<'a> {
    /// A metric reference (`key`, then an optional field; `extra` if more
    /// words followed). On error: the diagnostic and the text to show instead.
    pub fn metric(
        &self,
        key: &str,
        field: Option<&str>,
        extra: bool,
        typo: Option<&str>,
    ) -> Result<MetricRef<'a>, Box<(Option<Diagnostic>, String)>> {
        let written = format!("{{{{metric {key}}}}}");
        if let Some(typo) = typo {
            // Printed as the author wrote it (a mistyped word is not `metric`).
            let shown = match field {
                Some(f) => format!("{{{{{typo} {key} {f}}}}}"),
                None if key.is_empty() => format!("{{{{{typo}}}}}"),
                None => format!("{{{{{typo} {key}}}}}"),
            };
            let meant = metric_named(self.metrics, key)
                .map(|m| m.key.clone())
                .or_else(|| self.metrics.closest(key).map(str::to_string))
                .unwrap_or_else(|| "ID".to_string());
            let d = Diagnostic::error(
                "metric-syntax",
                format!("`{shown}` is not a metric reference: renga has no `{typo}` shortcode"),
            )
            .hint(format!("did you mean `{{{{metric {meant}}}}}`?"));
            return Err(Box::new((Some(d), shown)));
        }
        let Some(metric) = metric_named(self.metrics, key) else {
            // A metric whose own entry was refused (no finite value, no
            // source): its error, at the entry, is the one problem.
            if self.metrics.refused(key) {
                return Err(Box::new((None, written)));
            }
            let mut d = Diagnostic::error("metric-unknown", format!("unknown metric `{key}`"));
            if let Some(file) = self.metrics.failed_file(key) {
                // The file's own error says what is wrong; a guess at another
                // metric would invite a wrong fix.
                // A warning: the file's error is the one problem (and already
                // fails the build); this only says why the figure is missing.
                d = Diagnostic::warning(
                    "metric-unresolved",
                    format!("metric `{key}` is unresolved because {file} failed to load"),
                )
                .hint(format!("fix the error reported in {file}"));
            } else if let Some(close) = self.metrics.closest(key) {
                d = d.hint(format!("did you mean `{close}`?"));
            } else {
                d = d.hint("metric ids are `<agency>.<file>.<id>`, from data/<agency>/<file>.toml");
            }
            return Err(Box::new((Some(d), written)));
        };
        match metric_text(metric, field, extra, self.lang) {
            Some(text) => Ok(MetricRef { metric, text }),
            None => Err(Box::new((
                Some(Diagnostic::error("metric-syntax", format!("cannot read this metric reference to `{key}`"))
                    .hint("write `{{metric ID}}` for the value with its unit, `{{metric ID number}}` for the figure alone or `{{metric ID date}}` for its as-of date")),
                written,
            ))),
        }
    }
}

/// The metric a reference names: keys are lowercase, and
/// `{{metric SG.Identity.Users}}` means the same as `sg.identity.users`.
pub(crate) fn metric_named<'m>(metrics: &'m Metrics, key: &str) -> Option<&'m Metric> {
    metrics.get(&key.to_ascii_lowercase())
}

/// What a reference to `metric` prints: its value with its unit (no
/// field), the figure alone (`number`) or its as-of date (`date`), fields in
/// any case; `None` for any other field or more words.
pub(crate) fn metric_text(
    metric: &Metric,
    field: Option<&str>,
    extra: bool,
    lang: Lang,
) -> Option<String> {
    match (field, extra) {
        (None, false) => Some(format::metric(metric, lang)),
        (Some(f), false) if f.eq_ignore_ascii_case("date") => {
            Some(format::date(metric.as_of, lang))
        }
        (Some(f), false) if f.eq_ignore_ascii_case("number") => {
            Some(format::metric_number(metric, lang))
        }
        _ => None,
    }
}

/// A run of chapter text cut at its `{{metric …}}` shortcodes: the one
/// recogniser of metric references, for the editions and for `renga diff`.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'t> {
    Text(&'t str),
    Metric {
        key: &'t str,
        field: Option<&'t str>,
        /// More words followed the field: a malformed reference.
        extra: bool,
        /// The first word, when it only looks like `metric` (`metrics`,
        /// `metric:`, `metirc`): a mistyped reference, an error.
        typo: Option<&'t str>,
        /// Byte offset and length of the whole shortcode in the run.
        offset: usize,
        len: usize,
    },
}

/// Finds the metric shortcodes of a text run; every other `{{` is text.
pub(crate) fn shortcodes(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    let mut plain_from = 0;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        let mut words = inner.split_whitespace();
        // `{{METRIC id}}` and `{{Metric id}}` are what the author meant;
        // `{{metrics id}}` and `{{metric: id}}` are what they mistyped.
        let first = words.next().unwrap_or_default();
        let typo = if first.eq_ignore_ascii_case("metric") {
            None
        } else if looks_like_metric(first) {
            Some(first)
        } else {
            consumed += start + 2;
            rest = &rest[start + 2..];
            continue;
        };
        if plain_from < consumed + start {
            out.push(Piece::Text(&text[plain_from..consumed + start]));
        }
        out.push(Piece::Metric {
            key: words.next().unwrap_or(""),
            field: words.next(),
            extra: words.next().is_some(),
            typo,
            offset: consumed + start,
            len: len + 2,
        });
        consumed += start + len + 2;
        plain_from = consumed;
        rest = &rest[start + len + 2..];
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// A first word an author who meant `metric` may have typed: `metrics`,
/// `metric:`, `Metric.`, `metirc`, `mertic` (within two edits).
fn looks_like_metric(word: &str) -> bool {
    let lower = word
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .to_ascii_lowercase();
    lower.len() >= 4
        && (lower.starts_with("metric") || strsim::damerau_levenshtein(&lower, "metric") <= 2)
}

impl Resolve<'_> {
    /// What a link points to, and a warning when it cannot link as written.
    pub fn link(&self, url: &str) -> (LinkTarget, Option<Diagnostic>) {
        if url.is_empty() {
            return (LinkTarget::None, None);
        }
        if has_scheme(url) || url_scheme(url).is_some() {
            if link_allowed(url) {
                return (LinkTarget::External(url.to_string()), None);
            }
            let d = Diagnostic::warning(
                "link-scheme",
                format!(
                    "link `{url}` is not a web or mail address (http, https, mailto); it is set as text"
                ),
            )
            .hint("a click on a `javascript:`, `file:` or `smb:` link can run code or send the reader's credentials: link to a web page instead");
            return (LinkTarget::None, Some(d));
        }
        let (path, fragment) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let (slug, lang) = if path.is_empty() {
            (self.chapter.slug.clone(), self.lang)
        } else {
            let Some(target) = normalize(&self.chapter.dir(), path) else {
                let d = Diagnostic::warning(
                    "link-outside",
                    format!("link `{url}` leaves the project; it is set as text"),
                );
                return (LinkTarget::None, Some(d));
            };
            let parts: Vec<&str> = target.split('/').collect();
            match parts.as_slice() {
                ["chapters", slug, file] if file.ends_with(".md") => {
                    let lang = Lang::from_code(file.trim_end_matches(".md"));
                    match lang {
                        // The other language's file: an edition holds this
                        // text's language, so link to the chapter (and the
                        // heading in the same place) in this language.
                        Some(lang) if lang != self.lang && self.anchors.has(slug, self.lang) => {
                            return self.translated_target(url, slug, lang, fragment);
                        }
                        Some(lang) if self.anchors.has(slug, lang) => (slug.to_string(), lang),
                        // Its folder's own error says why it is not typeset.
                        _ if self.skipped.iter().any(|s| s == slug) => {
                            return (LinkTarget::None, None);
                        }
                        _ => {
                            let d = Diagnostic::warning(
                                "link-broken",
                                format!(
                                    "link `{url}` points to no chapter of this report; it is set as text"
                                ),
                            );
                            return (LinkTarget::None, Some(d));
                        }
                    }
                }
                ["chapters", slug] | ["chapters", slug, ""]
                    if self.anchors.has(slug, self.lang) =>
                {
                    (slug.to_string(), self.lang)
                }
                ["chapters", slug, ..] if self.skipped.iter().any(|s| s == slug) => {
                    return (LinkTarget::None, None);
                }
                _ => {
                    let d = Diagnostic::warning("link-file", format!("link `{url}` points to a file, not a chapter; it is set as text"))
                        .hint("link to a chapter as `../NN-slug/en.md`, or to a web page with a full https:// address");
                    return (LinkTarget::None, Some(d));
                }
            }
        };
        match fragment {
            None | Some("") => (LinkTarget::Label(label(&slug, lang, None)), None),
            Some(anchor) => {
                let known = self.anchors.contains(&slug, lang, anchor);
                if known {
                    (LinkTarget::Label(label(&slug, lang, Some(anchor))), None)
                } else {
                    let d = Diagnostic::warning(
                        "link-anchor",
                        format!(
                            "link `{url}`: chapters/{slug}/{lang}.md has no heading `#{anchor}`; it links to the chapter"
                        ),
                    );
                    (LinkTarget::Label(label(&slug, lang, None)), Some(d))
                }
            }
        }
    }

    /// A link to `slug`'s text in `lang`, the other language, resolved to the
    /// same chapter in this text's language: a heading by its place among
    /// the chapter's headings, as the bilingual edition pairs them.
    fn translated_target(
        &self,
        url: &str,
        slug: &str,
        lang: Lang,
        fragment: Option<&str>,
    ) -> (LinkTarget, Option<Diagnostic>) {
        let own = self.lang;
        let Some(anchor) = fragment.filter(|f| !f.is_empty()) else {
            return (LinkTarget::Label(label(slug, own, None)), None);
        };
        let place = self
            .anchors
            .list(slug, lang)
            .and_then(|list| list.iter().position(|a| a == anchor));
        let mine = self.anchors.list(slug, own);
        let mapped = place.and_then(|i| mine.as_ref()?.get(i).cloned());
        match mapped {
            Some(mine) => (LinkTarget::Label(label(slug, own, Some(&mine))), None),
            None => {
                let d = Diagnostic::warning("link-anchor", format!("link `{url}` points to the {lang} text, which the {own} chapter stands for here; chapters/{slug}/{own}.md has no heading in the place of `#{anchor}`, so it links to the chapter"))
                    .hint(format!("link to chapters/{slug}/{own}.md and one of its headings"));
                (LinkTarget::Label(label(slug, own, None)), Some(d))
            }
        }
    }
}

impl Resolve<'_> {
    /// The virtual path of an image referenced from this chapter, checked to
    /// stay inside the project and to exist. A path starting with `/` starts
    /// at the project root, as static site generators read it.
    pub fn image_path(&self, url: &str) -> Result<String, Diagnostic> {
        let rel = match image_target(&self.chapter.dir(), &percent_decode(url)) {
            ImageTarget::Project(rel) => rel,
            ImageTarget::Absolute => {
                return Err(
                    Diagnostic::error("image-path", format!("image path `{url}` is absolute"))
                        .hint("reference images relative to the chapter file (`figure.svg`) or to the project folder (`/images/figure.svg`)"),
                );
            }
            ImageTarget::Outside => {
                return Err(Diagnostic::error(
                    "image-outside",
                    format!("image path `{url}` leaves the project folder"),
                ));
            }
        };
        let real = match crate::load::confine::Root::new(self.root).resolve(&rel) {
            Ok(real) => real,
            Err(crate::load::confine::ReadError::Missing { dangling: None }) => {
                let d = if self.draft {
                    Diagnostic::warning(
                        "image-missing",
                        format!(
                            "image `{url}` not found (looked for {rel}); this draft shows a placeholder"
                        ),
                    )
                } else {
                    Diagnostic::error("image-missing", format!("image `{url}` not found (looked for {rel})"))
                        .hint("add the image, or build a draft (`draft = true` in [layout]) to see a placeholder in its place")
                };
                return Err(d);
            }
            Err(err) => {
                // Placed at the image in the chapter, naming the link.
                let d = err.diagnostic(&rel);
                return Err(Diagnostic {
                    location: None,
                    ..d
                });
            }
        };
        let ext = rel.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if !matches!(
            ext.as_str(),
            "svg" | "png" | "jpg" | "jpeg" | "gif" | "webp"
        ) {
            return Err(Diagnostic::error(
                "image-format",
                format!("image `{url}` is not SVG, PNG, JPEG, GIF or WebP"),
            ));
        }
        if matches!(ext.as_str(), "jpg" | "jpeg") && is_cmyk_jpeg(&real) {
            return Err(Diagnostic::error(
                "image-cmyk",
                format!("image `{url}` is a CMYK JPEG, which a PDF/A file cannot hold without a print profile"),
            )
            .hint(format!("convert it to RGB, e.g. `magick {rel} -colorspace sRGB {rel}`")));
        }
        // Decoding is bounded: the header says how large the picture is,
        // and an SVG's text how long it takes to draw.
        let too_large = if ext == "svg" {
            std::fs::read(&real)
                .ok()
                .and_then(|svg| crate::typeset::svg::too_much_text(&svg))
        } else {
            crate::load::limits::header_of(&real)
                .ok()
                .and_then(|header| crate::load::limits::raster_too_large(&header))
        };
        if let Some(reason) = too_large {
            return Err(
                Diagnostic::error("image-too-large", format!("image `{url}` is {reason}")).hint(
                    if ext == "svg" {
                        "put long text in the chapter, not in the figure"
                    } else {
                        "scale the image down; a full page at 300 dpi is about 2500 × 3500 pixels"
                    },
                ),
            );
        }
        Ok(format!("/{rel}"))
    }
}

/// The schemes a link may have, in the PDFs and the web editions alike;
/// links inside the project are resolved to labels instead.
pub const LINK_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// The scheme of `url` as a browser or PDF reader reads it: leading and
/// trailing spaces and control characters dropped, tabs and line breaks
/// inside removed (`java\tscript:` is `javascript:`), lower case.
pub fn url_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// The one recogniser of link schemes, for both writers, the templates'
/// `web_url` test and the checks of the finished editions: whether `url`
/// is an address outside the project that a reader may be sent to
/// (`http`, `https`, `mailto`). `javascript:`, `vbscript:`, `data:`,
/// `file:`, `smb:` and every other scheme are refused.
pub fn link_allowed(url: &str) -> bool {
    url_scheme(url).is_some_and(|s| LINK_SCHEMES.contains(&s.as_str()))
}

pub(crate) enum LinkTarget {
    External(String),
    Label(String),
    None,
}

/// Whether a JPEG stores CMYK (or YCCK) colour: typst embeds JPEGs as they
/// are, and PDF/A refuses CMYK images without an output profile.
fn is_cmyk_jpeg(path: &Path) -> bool {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes));
    decoder.decode_headers().is_ok()
        && matches!(
            decoder.input_colorspace(),
            Some(ColorSpace::CMYK | ColorSpace::YCCK)
        )
}
