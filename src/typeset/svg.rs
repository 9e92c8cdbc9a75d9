//! SVG figures are embedded once per PDF, however often they appear.
//!
//! typst 0.15 exports through krilla, which writes a raster image once and
//! refers to it at every use, but draws an SVG's paths into the content
//! stream of every page that shows it: a large drawing used in both columns
//! of the bilingual edition was in the file twice. krilla does write an
//! isolated SVG group as a form XObject, and keeps one XObject for identical
//! content, so renga hands typst each SVG with `isolation: isolate` on its
//! root element: the drawing becomes one XObject, drawn by reference at each
//! use. An SVG shown as an image is an isolated document in any case (CSS
//! Compositing, "the root element ... forms a stacking context"), so the
//! picture is the same; transparency groups are allowed in PDF/A-2 and -3.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

const ISOLATE: &[u8] = b"isolation:isolate";

/// Whether a project file is an SVG image, by its name as typst tells it.
pub fn is_svg(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("svg"))
}

/// How many characters of text the SVG's `<text>` elements hold (their
/// `<tspan>`s and `<textPath>`s included), in one linear pass; `None`
/// when it is not well-formed XML (typst then reports it).
pub fn text_chars(svg: &[u8]) -> Option<usize> {
    let mut reader = Reader::from_reader(svg);
    reader.config_mut().trim_text(false);
    let mut inside = 0usize;
    let mut chars = 0usize;
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            Event::Start(e) if inside > 0 || e.local_name().as_ref() == "text" => inside += 1,
            Event::End(_) if inside > 0 => inside -= 1,
            Event::Text(t) if inside > 0 => {
                chars += AsRef::<str>::as_ref(&t).chars().count();
            }
            Event::CData(t) if inside > 0 => {
                chars += AsRef::<str>::as_ref(&t).chars().count();
            }
            Event::GeneralRef(_) if inside > 0 => chars += 1,
            _ => {}
        }
    }
    Some(chars)
}

/// Why an SVG would take too long to draw: more text than
/// [`crate::load::limits::SVG_MAX_TEXT`] characters.
pub fn too_much_text(svg: &[u8]) -> Option<String> {
    let limit = crate::load::limits::SVG_MAX_TEXT;
    let chars = text_chars(svg)?;
    (chars > limit).then(|| {
        format!("an SVG with {chars} characters of text, more than renga draws ({limit}): SVG text is laid out in time that grows with its square")
    })
}

/// The SVG with its root `<svg>` element isolated; `None` when the file is
/// not well-formed XML with an `<svg>` root, which typst is then given as it
/// is, so that its error names the author's own bytes.
pub fn isolated(svg: &[u8]) -> Option<Vec<u8>> {
    let mut reader = Reader::from_reader(svg);
    reader.config_mut().trim_text(false);
    let mut root: Option<(usize, usize, Vec<u8>)> = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).ok()?;
        let event = reader.read_event().ok()?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if root.is_none() => {
                if e.local_name().as_ref() != "svg" || svg.get(start) != Some(&b'<') {
                    return None;
                }
                let end = usize::try_from(reader.buffer_position()).ok()?;
                root = Some((start, end, isolated_tag(&e, empty)?));
            }
            // Read on to the end: a file quick-xml refuses goes to typst untouched.
            _ => {}
        }
    }
    let (start, end, tag) = root?;
    let mut out = Vec::with_capacity(svg.len() + ISOLATE.len() + 10);
    out.extend_from_slice(&svg[..start]);
    out.extend_from_slice(&tag);
    out.extend_from_slice(&svg[end..]);
    Some(out)
}

/// The root's start tag written again with `isolation:isolate` first in its
/// style, so that an author's own `isolation` still wins.
fn isolated_tag(e: &BytesStart, empty: bool) -> Option<Vec<u8>> {
    let mut tag = vec![b'<'];
    tag.extend_from_slice(e.name().as_ref().as_bytes());
    let mut styled = false;
    for attr in e.attributes() {
        let attr = attr.ok()?;
        tag.push(b' ');
        tag.extend_from_slice(attr.key.as_ref().as_bytes());
        tag.extend_from_slice(b"=\"");
        if attr.key.as_ref() == "style" {
            styled = true;
            tag.extend_from_slice(ISOLATE);
            tag.push(b';');
        }
        // The value stays escaped as written; only its quoting may change.
        for &b in attr.value.as_bytes() {
            match b {
                b'"' => tag.extend_from_slice(b"&quot;"),
                _ => tag.push(b),
            }
        }
        tag.push(b'"');
    }
    if !styled {
        tag.extend_from_slice(b" style=\"");
        tag.extend_from_slice(ISOLATE);
        tag.push(b'"');
    }
    tag.extend_from_slice(if empty { b"/>" } else { b">" });
    Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> Option<String> {
        isolated(s.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn root_gets_a_style() {
        assert_eq!(
            iso("<?xml version=\"1.0\"?>\n<!-- c -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" width='10'><rect/></svg>\n")
                .as_deref(),
            Some("<?xml version=\"1.0\"?>\n<!-- c -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" style=\"isolation:isolate\"><rect/></svg>\n")
        );
    }

    #[test]
    fn existing_style_keeps_its_declarations_after_ours() {
        assert_eq!(
            iso("<svg style='fill:red; font-family:\"A B\"' id='&amp;&lt;'/>").as_deref(),
            Some(
                "<svg style=\"isolation:isolate;fill:red; font-family:&quot;A B&quot;\" id=\"&amp;&lt;\"/>"
            )
        );
    }

    #[test]
    fn only_the_root_changes() {
        let svg = "<svg><svg style=\"x:y\"><g/></svg></svg>";
        assert_eq!(
            iso(svg).as_deref(),
            Some("<svg style=\"isolation:isolate\"><svg style=\"x:y\"><g/></svg></svg>")
        );
    }

    #[test]
    fn not_an_svg_or_not_well_formed_is_left_alone() {
        assert_eq!(iso("<html/>"), None);
        assert_eq!(iso("<svg><g></svg>"), None);
        assert_eq!(iso("<svg a='1' a='2'/>"), None);
        assert_eq!(iso("not xml"), None);
    }

    #[test]
    fn svg_by_extension() {
        assert!(is_svg("chapters/a/Fig.SVG"));
        assert!(!is_svg("chapters/a/fig.svg.png"));
        assert!(!is_svg("svg"));
    }
}
