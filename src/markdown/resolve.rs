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
    ) -> Result<MetricRef<'a>, Box<(Diagnostic, String)>> {
        let written = format!("{{{{metric {key}}}}}");
        let Some(metric) = metric_named(self.metrics, key) else {
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
            return Err(Box::new((d, written)));
        };
        match metric_text(metric, field, extra, self.lang) {
            Some(text) => Ok(MetricRef { metric, text }),
            None => Err(Box::new((
                Diagnostic::error("metric-syntax", format!("cannot read this metric reference to `{key}`"))
                    .hint("write `{{metric ID}}` for the value or `{{metric ID date}}` for its as-of date"),
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

/// What a reference to `metric` prints: its value (no field) or its as-of
/// date (`date`, in any case); `None` for any other field or more words.
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
        // `{{METRIC id}}` and `{{Metric id}}` are what the author meant.
        if !words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("metric"))
        {
            consumed += start + 2;
            rest = &rest[start + 2..];
            continue;
        }
        if plain_from < consumed + start {
            out.push(Piece::Text(&text[plain_from..consumed + start]));
        }
        out.push(Piece::Metric {
            key: words.next().unwrap_or(""),
            field: words.next(),
            extra: words.next().is_some(),
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

impl Resolve<'_> {
    /// What a link points to, and a warning when it cannot link as written.
    pub fn link(&self, url: &str) -> (LinkTarget, Option<Diagnostic>) {
        if url.is_empty() {
            return (LinkTarget::None, None);
        }
        if has_scheme(url) {
            return (LinkTarget::External(url.to_string()), None);
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
