//! What a finished web edition may contain: the page is parsed as a browser
//! parses it (html5ever's tree builder, the WHATWG algorithm, so raw text,
//! foreign content and misnested tags come out as in Chromium), and every
//! element, attribute, URL and style sheet is held against an allow-list:
//! the elements and attributes renga's writers and default templates
//! produce, links only to `http`, `https`, `mailto` (the recogniser the
//! writers use), same-page `#fragments` and the other editions beside the
//! page, `data:` only for images and fonts, no event handlers, and CSS
//! (read with cssparser, the CSS Syntax tokenizer browsers follow) without
//! `@import`, remote `url()`s or `expression(`. Text content, a chapter's
//! code spans included, is data and is never read as markup.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use cssparser::{ParseError, Parser, Token};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, LocalName, Namespace, QualName};

const HTML: &str = "http://www.w3.org/1999/xhtml";
const SVG: &str = "http://www.w3.org/2000/svg";
const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// HTML elements a web edition may contain.
const HTML_ELEMENTS: &[&str] = &[
    "html",
    "head",
    "body",
    "meta",
    "title",
    "style", // the document
    "header",
    "footer",
    "nav",
    "main",
    "article",
    "section",
    "aside",
    "address",
    "hgroup",
    "div",
    "span",
    "p",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6", // structure
    "ol",
    "ul",
    "li",
    "dl",
    "dt",
    "dd", // lists
    "table",
    "caption",
    "colgroup",
    "col",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "img",
    "blockquote",
    "pre",
    "hr",
    "br",
    "wbr",
    "details",
    "summary",
    "code",
    "kbd",
    "samp",
    "var",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "mark",
    "small",
    "sub",
    "sup",
    "abbr",
    "cite",
    "q",
    "dfn",
    "time",
    "data",
    "ruby",
    "rt",
    "rp",
    "bdi",
    "bdo",
];

/// SVG elements (charts drawn by the template).
const SVG_ELEMENTS: &[&str] = &[
    "svg", "g", "title", "desc", "text", "tspan", "rect", "line", "path", "circle", "ellipse",
    "polyline", "polygon",
];

/// Attributes allowed on every element (`aria-*` and `data-*` too).
const GLOBAL_ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "lang",
    "dir",
    "title",
    "role",
    "tabindex",
    "hidden",
    "translate",
    "style",
];

/// Attributes allowed on some HTML elements only.
fn element_attribute(element: &str, attribute: &str) -> bool {
    matches!(
        (element, attribute),
        ("a", "href")
            | (
                "img",
                "src" | "alt" | "width" | "height" | "loading" | "decoding"
            )
            | ("meta", "charset" | "name" | "content")
            | ("ol", "start" | "reversed" | "type")
            | ("li" | "data", "value")
            | ("time" | "del" | "ins", "datetime")
            | (
                "th" | "td",
                "scope" | "colspan" | "rowspan" | "headers" | "abbr"
            )
            | ("col" | "colgroup", "span")
            | ("details", "open")
    )
}

/// Attributes of SVG elements (their values are read as CSS, for `url()`).
const SVG_ATTRIBUTES: &[&str] = &[
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "dx",
    "dy",
    "points",
    "transform",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "text-anchor",
    "dominant-baseline",
    "font-size",
    "font-family",
    "font-weight",
    "font-style",
    "preserveaspectratio",
    "focusable",
];

/// At-rules a style sheet may use: none fetches anything (`@font-face` is
/// held to `data:` fonts by the `url()` rule).
const AT_RULES: &[&str] = &[
    "media",
    "supports",
    "font-face",
    "keyframes",
    "-webkit-keyframes",
    "page",
    "layer",
    "container",
    "counter-style",
    "property",
    "font-feature-values",
    "font-palette-values",
    "scope",
    "starting-style",
    "charset",
];

/// One thing a web edition may not contain, at a line of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the page (where the tag ends, for a tag).
    pub line: usize,
    /// 1-based column on that line, when known.
    pub column: Option<usize>,
    /// Text to look for in the tag that ends on `line` (the attribute's
    /// name, `<script`), to point at it exactly.
    pub needle: Option<String>,
    pub message: String,
}

/// Every problem of a finished page, in page order.
pub fn check_page(html: &str) -> Vec<Problem> {
    let sink = Sink::default();
    let sink = html5ever::parse_document(sink, Default::default()).one(StrTendril::from(html));
    let mut problems = sink.problems.into_inner();
    // The style sheets, each read once it is complete.
    let nodes = sink.nodes.into_inner();
    for node in &nodes {
        if let Some(css) = &node.css {
            for p in check_css(css) {
                let line = node.line + p.line;
                problems.push(Problem {
                    line,
                    // On the tag's own line the column counts from the tag.
                    column: (p.line > 0).then_some(p.column),
                    needle: p.needle,
                    message: p.message,
                });
            }
        }
    }
    problems.sort_by_key(|p| (p.line, p.column));
    problems
}

/// A problem in a style sheet, at its 0-based line and 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssProblem {
    pub line: usize,
    pub column: usize,
    pub needle: Option<String>,
    pub message: String,
}

/// Every problem of a style sheet (or a `style` attribute).
pub fn check_css(css: &str) -> Vec<CssProblem> {
    let mut parser = Parser::new(css);
    let mut out = Vec::new();
    walk_css(&mut parser, Context::Plain, &mut out);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Plain,
    /// Inside `url(…)` or `src(…)`: its string is an address.
    Url,
    /// Inside `image-set(…)`, `image(…)`, `cross-fade(…)`: strings are addresses.
    Images,
}

fn walk_css(parser: &mut Parser<'_>, context: Context, out: &mut Vec<CssProblem>) {
    loop {
        let at = parser.current_source_location();
        let token = match parser.next_including_whitespace_and_comments() {
            Ok(token) => token.clone(),
            Err(_) => break,
        };
        let mut push = |needle: &str, message: String| {
            out.push(CssProblem {
                line: at.line as usize,
                column: at.column as usize,
                needle: Some(needle.to_string()),
                message,
            })
        };
        let nested = match &token {
            Token::AtKeyword(name) => {
                let lower = name.to_ascii_lowercase();
                let margin_box = ["top-", "bottom-", "left-", "right-"]
                    .iter()
                    .any(|p| lower.starts_with(p));
                if lower == "import" {
                    push(
                        "@import",
                        "a style sheet `@import` (it fetches the sheet)".into(),
                    );
                } else if !AT_RULES.contains(&lower.as_str()) && !margin_box {
                    push(
                        &format!("@{name}"),
                        format!("the at-rule `@{name}`, which the web editions do not allow"),
                    );
                }
                None
            }
            Token::UnquotedUrl(url) => {
                if !css_url_allowed(url) {
                    push("url(", url_message(url));
                }
                None
            }
            Token::BadUrl(url) => {
                push("url(", format!("a malformed `url({url}`"));
                None
            }
            Token::QuotedString(url) if context != Context::Plain => {
                if !css_url_allowed(url) {
                    push(url, url_message(url));
                }
                None
            }
            Token::Ident(name)
                if name.eq_ignore_ascii_case("behavior")
                    || name.eq_ignore_ascii_case("-moz-binding") =>
            {
                push(name, format!("the property `{name}`, which loads code"));
                None
            }
            Token::Function(name) => {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    "expression" => {
                        push(name, "a CSS `expression(`, which runs script".into());
                        Some(Context::Plain)
                    }
                    "url" | "src" => Some(Context::Url),
                    "image-set" | "-webkit-image-set" | "image" | "-webkit-image"
                    | "cross-fade" | "-webkit-cross-fade" => Some(Context::Images),
                    // An address may not come from somewhere the check cannot see.
                    "var" | "attr" | "env" if context != Context::Plain => {
                        push(
                            name,
                            format!("`{name}(` inside a `url()`: the address must be written out"),
                        );
                        Some(Context::Plain)
                    }
                    _ => Some(context),
                }
            }
            Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                Some(Context::Plain)
            }
            _ => None,
        };
        if let Some(inner) = nested {
            let walked = parser.parse_nested_block(|p| {
                walk_css(p, inner, out);
                Ok::<(), ParseError<()>>(())
            });
            // cssparser stops at 75 nested blocks: what it did not read is refused.
            if walked.is_err() {
                out.push(CssProblem {
                    line: at.line as usize,
                    column: at.column as usize,
                    needle: None,
                    message: "blocks nested too deeply to check".into(),
                });
            }
        }
    }
}

fn url_message(url: &str) -> String {
    if url.trim_start().to_ascii_lowercase().starts_with("data:") {
        format!("`url({url})` is a `data:` URL that is neither an image nor a font")
    } else {
        format!(
            "`url({url})` loads a resource (only `data:` images and fonts, and `#fragments`, are allowed)"
        )
    }
}

/// A `url()` in CSS: only a `#fragment` of the page or a `data:` image or font.
fn css_url_allowed(url: &str) -> bool {
    let url = url.trim_matches(|c: char| c <= ' ');
    url.starts_with('#')
        || data_url_of(
            url,
            &[
                "image/",
                "font/",
                "application/font-",
                "application/x-font-",
                "application/vnd.ms-fontobject",
            ],
        )
}

/// Whether `url` is a `data:` URL whose media type starts with one of `kinds`.
fn data_url_of(url: &str, kinds: &[&str]) -> bool {
    let url = url.trim_matches(|c: char| c <= ' ');
    if crate::markdown::url_scheme(url).as_deref() != Some("data") {
        return false;
    }
    let Some((_, rest)) = url.split_once(':') else {
        return false;
    };
    let media = rest.trim_start().to_ascii_lowercase();
    kinds.iter().any(|k| media.starts_with(k))
}

/// Where an `href` may lead: a `#fragment` of the page, an address by the
/// writers' own recogniser (`http`, `https`, `mailto`), or a file beside the
/// page (the other editions, the PDFs): a plain name, no folder, no scheme.
fn href_allowed(url: &str) -> bool {
    let url = url.trim_matches(|c: char| c <= ' ');
    if url.starts_with('#') || crate::markdown::link_allowed(url) {
        return true;
    }
    let path = url.split_once('#').map_or(url, |(p, _)| p);
    !path.is_empty()
        && !path.starts_with('.')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

struct Node {
    name: Option<QualName>,
    /// The line where its start tag ended.
    line: usize,
    parent: Option<usize>,
    /// A `<style>` element's text, the style sheet.
    css: Option<String>,
}

/// A tree sink that keeps only what the check needs: each element's name,
/// line and parent, and the text of style sheets; it checks every element
/// as the tree builder creates it.
struct Sink {
    line: Cell<usize>,
    nodes: RefCell<Vec<Node>>,
    templates: RefCell<HashMap<usize, usize>>,
    problems: RefCell<Vec<Problem>>,
}

impl Default for Sink {
    fn default() -> Sink {
        Sink {
            line: Cell::new(1),
            nodes: RefCell::new(vec![Node {
                name: None,
                line: 1,
                parent: None,
                css: None,
            }]),
            templates: RefCell::default(),
            problems: RefCell::default(),
        }
    }
}

/// An element's name, as the tree builder asks for it.
#[derive(Debug)]
struct Name(QualName);

impl html5ever::tree_builder::ElemName for Name {
    fn ns(&self) -> &Namespace {
        &self.0.ns
    }
    fn local_name(&self) -> &LocalName {
        &self.0.local
    }
}

impl Sink {
    fn new_node(&self, name: Option<QualName>) -> usize {
        let mut nodes = self.nodes.borrow_mut();
        let css = name
            .as_ref()
            .filter(|n| &*n.local == "style")
            .map(|_| String::new());
        nodes.push(Node {
            name,
            line: self.line.get(),
            parent: None,
            css,
        });
        nodes.len() - 1
    }

    fn problem(&self, needle: &str, message: String) {
        self.problems.borrow_mut().push(Problem {
            line: self.line.get(),
            column: None,
            needle: Some(needle.to_string()),
            message,
        });
    }

    fn text(&self, parent: usize, text: &str) {
        if let Some(css) = self
            .nodes
            .borrow_mut()
            .get_mut(parent)
            .and_then(|n| n.css.as_mut())
        {
            css.push_str(text);
        }
    }

    fn child(&self, parent: usize, child: NodeOrText<usize>) {
        match child {
            NodeOrText::AppendNode(node) => {
                if let Some(n) = self.nodes.borrow_mut().get_mut(node) {
                    n.parent = Some(parent);
                }
            }
            NodeOrText::AppendText(text) => self.text(parent, &text),
        }
    }

    fn check_element(&self, name: &QualName, attrs: &[Attribute]) {
        let local = name.local.to_string().to_ascii_lowercase();
        let ns: &str = &name.ns;
        let tag = format!("<{local}");
        let known = match ns {
            HTML => HTML_ELEMENTS.contains(&local.as_str()),
            SVG => SVG_ELEMENTS.contains(&local.as_str()),
            _ => false,
        };
        if !known {
            let why = match local.as_str() {
                "script" => "a script",
                "iframe" | "frame" | "frameset" | "object" | "embed" | "portal" => {
                    "an embedded page or plug-in (it is fetched)"
                }
                "link" => "a linked resource (it is fetched)",
                "base" => "a base address for every link",
                "form" | "input" | "button" | "select" | "textarea" => {
                    "a form control (a form sends data)"
                }
                "img" | "image" | "audio" | "video" | "source" | "track" | "picture" | "use"
                | "feimage" => "a resource that is fetched",
                "animate" | "set" | "animatemotion" | "animatetransform" => {
                    "an SVG animation (it can rewrite links)"
                }
                _ => "an element the web editions do not allow",
            };
            self.problem(&tag, format!("`{tag}>` is {why}"));
        }
        for attr in attrs {
            self.check_attribute(&local, ns, attr);
        }
    }

    fn check_attribute(&self, element: &str, ns: &str, attr: &Attribute) {
        let name = attr.name.local.to_string().to_ascii_lowercase();
        let value: &str = &attr.value;
        let tag = format!("<{element}>");
        let attr_ns: &str = &attr.name.ns;
        if !attr_ns.is_empty() {
            // `xmlns` declarations and `xml:lang` are inert; `xlink:href` is a link.
            let inert = (attr_ns == XMLNS && ns == SVG) || (attr_ns == XML && name == "lang");
            if !inert {
                let prefix = attr.name.prefix.as_deref().unwrap_or("");
                self.problem(
                    &name,
                    format!("the attribute `{prefix}:{name}` on `{tag}` is not allowed"),
                );
            }
            return;
        }
        if name.starts_with("on") {
            return self.problem(
                &name,
                format!("the event handler `{name}` on `{tag}` (it runs a script)"),
            );
        }
        let allowed = GLOBAL_ATTRIBUTES.contains(&name.as_str())
            || name.starts_with("aria-")
            || name.starts_with("data-")
            || match ns {
                HTML => element_attribute(element, &name),
                SVG => SVG_ATTRIBUTES.contains(&name.as_str()),
                _ => false,
            };
        if !allowed {
            let why = match (element, name.as_str()) {
                ("meta", "http-equiv") => " (it can refresh, redirect or set cookies)",
                (
                    _,
                    "src" | "href" | "srcset" | "action" | "formaction" | "poster" | "background"
                    | "ping" | "cite" | "longdesc" | "usemap",
                ) => " (it fetches or leads to an address)",
                _ => "",
            };
            return self.problem(
                &name,
                format!("the attribute `{name}` on `{tag}` is not allowed{why}"),
            );
        }
        match name.as_str() {
            "href" if !href_allowed(value) => self.problem(
                &name,
                format!(
                    "the link `{value}` on `{tag}` is not a web or mail address (http, https, mailto), a `#fragment` or a file beside the page"
                ),
            ),
            "src" if !data_url_of(value, &["image/"]) => self.problem(
                &name,
                format!(
                    "the image `{}` on `{tag}` is fetched; the web editions carry images as `data:` URLs",
                    value.chars().take(80).collect::<String>()
                ),
            ),
            "style" => {
                for p in check_css(value) {
                    self.problem(&name, format!("in the `style` attribute of `{tag}`: {}", p.message));
                }
            }
            _ if ns == SVG && !matches!(name.as_str(), "id" | "class" | "role" | "lang" | "title") && !name.starts_with("aria-") => {
                for p in check_css(value) {
                    self.problem(&name, format!("in the attribute `{name}` of `{tag}`: {}", p.message));
                }
            }
            _ => {}
        }
    }
}

impl TreeSink for Sink {
    type Handle = usize;
    type Output = Self;
    type ElemName<'a> = Name;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> usize {
        0
    }

    fn elem_name<'a>(&'a self, target: &'a usize) -> Name {
        let nodes = self.nodes.borrow();
        let name = nodes.get(*target).and_then(|n| n.name.clone());
        Name(name.unwrap_or_else(|| QualName::new(None, HTML.into(), "".into())))
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, _: ElementFlags) -> usize {
        self.check_element(&name, &attrs);
        self.new_node(Some(name))
    }

    fn create_comment(&self, _text: StrTendril) -> usize {
        self.new_node(None)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> usize {
        self.new_node(None)
    }

    fn append(&self, parent: &usize, child: NodeOrText<usize>) {
        self.child(*parent, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &usize,
        prev_element: &usize,
        child: NodeOrText<usize>,
    ) {
        let parent = self.nodes.borrow().get(*element).and_then(|n| n.parent);
        self.child(parent.unwrap_or(*prev_element), child);
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &usize) -> usize {
        if let Some(&contents) = self.templates.borrow().get(target) {
            return contents;
        }
        let contents = self.new_node(None);
        self.templates.borrow_mut().insert(*target, contents);
        contents
    }

    fn same_node(&self, x: &usize, y: &usize) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &usize, new_node: NodeOrText<usize>) {
        let parent = self.nodes.borrow().get(*sibling).and_then(|n| n.parent);
        if let Some(parent) = parent {
            self.child(parent, new_node);
        }
    }

    fn add_attrs_if_missing(&self, target: &usize, attrs: Vec<Attribute>) {
        let name = self
            .nodes
            .borrow()
            .get(*target)
            .and_then(|n| n.name.clone());
        if let Some(name) = name {
            self.check_element(&name, &attrs);
        }
    }

    fn remove_from_parent(&self, target: &usize) {
        if let Some(n) = self.nodes.borrow_mut().get_mut(*target) {
            n.parent = None;
        }
    }

    fn reparent_children(&self, node: &usize, new_parent: &usize) {
        let mut nodes = self.nodes.borrow_mut();
        for n in nodes.iter_mut() {
            if n.parent == Some(*node) {
                n.parent = Some(*new_parent);
            }
        }
        // A style sheet's text moves with its children.
        if let Some(css) = nodes.get_mut(*node).and_then(|n| n.css.take()) {
            if let Some(target) = nodes.get_mut(*new_parent) {
                match &mut target.css {
                    Some(existing) => existing.push_str(&css),
                    None => target.css = Some(css),
                }
            }
            if let Some(n) = nodes.get_mut(*node) {
                n.css = Some(String::new());
            }
        }
    }

    fn set_current_line(&self, line_number: u64) {
        self.line.set(line_number as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(html: &str) -> Vec<String> {
        check_page(html).into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn text_is_never_markup() {
        let page = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>&lt;script&gt;</title>\n<style>p{color:red}</style></head><body><p><code>@import url(https://x); &lt;script&gt; onerror=</code></p></body></html>";
        assert_eq!(messages(page), Vec::<String>::new());
    }

    #[test]
    fn hostile_constructs_are_found() {
        for (html, word) in [
            ("<img src=x onerror=alert(1)>", "onerror"),
            ("<img src='http://x/a.png' alt=''>", "fetched"),
            ("<img src=http://x/a.png alt=''>", "fetched"),
            ("<iframe src=x></iframe>", "<iframe"),
            ("<link/rel=stylesheet href=x>", "<link"),
            (
                "<meta http-equiv=refresh content='0;url=http://x'>",
                "http-equiv",
            ),
            ("<a href='javascript:alert(1)'>x</a>", "javascript:"),
            ("<a href=' JaVa\tScRiPt:alert(1)'>x</a>", "not a web"),
            (
                "<style>p{background:url('http://x/a.png')}</style>",
                "loads a resource",
            ),
            (
                "<style>@font-face{font-family:x;src:url(https://x/f.woff)}</style>",
                "loads a resource",
            ),
            ("<style>@import url(https://x);</style>", "@import"),
            ("<style>@\\69mport 'x';</style>", "@import"),
            (
                "<style>p{background:u\\72l(http://x)}</style>",
                "loads a resource",
            ),
            ("<style>p{width:expression(alert(1))}</style>", "expression"),
            ("<p style='background:url(//x)'>x</p>", "loads a resource"),
            (
                "<svg><rect fill='url(http://x/p.svg#a)'/></svg>",
                "loads a resource",
            ),
            ("<svg><a xlink:href='javascript:x'>x</a></svg>", "xlink"),
            ("<object data=x></object>", "<object"),
            ("<embed src=x>", "<embed"),
            ("<base href=http://x/>", "<base"),
            ("<script>x</script>", "<script"),
            (
                "<svg><style><img src=x onerror=alert(1)></style></svg>",
                "onerror",
            ),
        ] {
            let found = messages(html);
            assert!(found.iter().any(|m| m.contains(word)), "{html}: {found:?}");
        }
    }

    #[test]
    fn allowed_constructs_pass() {
        for html in [
            "<a href=\"https://x.gov.sg/a?b#c\">x</a><a href=\"mailto:a@b\">m</a><a href=\"#top\">t</a>",
            "<a href=\"report.ja.html#chapter-1\">ja</a>",
            "<img src=\"data:image/png;base64,AAAA\" alt=\"x\">",
            "<style>@font-face{font-family:x;src:url(data:font/woff2;base64,AAAA)} p{fill:url(#g)}</style>",
            "<svg viewBox=\"0 0 1 1\" role=\"img\"><title>t</title><rect x=\"0\" fill=\"#fff\"></rect></svg>",
        ] {
            assert_eq!(messages(html), Vec::<String>::new(), "{html}");
        }
    }

    #[test]
    fn what_cssparser_does_not_read_is_refused() {
        // cssparser reads 75 nested blocks: a url() hidden deeper is not seen.
        let deep = format!("p{{{}url(https://x){}}}", "(".repeat(80), ")".repeat(80));
        assert!(!check_css(&deep).is_empty());
    }

    #[test]
    fn lines_are_the_page_lines() {
        let page =
            "<p>\nx\n<img src=x\n onerror=y>\n<style>\np{}\nq{background:url(http://x)}</style>";
        let found = check_page(page);
        assert_eq!(found[0].line, 4, "{found:?}");
        let css = found.iter().find(|p| p.message.contains("url(")).unwrap();
        assert_eq!((css.line, css.column), (7, Some(14)), "{found:?}");
    }
}
