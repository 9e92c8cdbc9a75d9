//! XLIFF 1.2 documents written and read with quick-xml: renga's units out,
//! a translator's units back in. Only what renga writes is read back; any
//! other inline markup a tool adds is reported, never guessed at.

use std::io::Cursor;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::segment::{Inline, Segment};

pub const NAMESPACE: &str = "urn:oasis:names:tc:xliff:document:1.2";

/// One `<file>`: the units of one chapter in one direction.
#[derive(Debug, Clone)]
pub struct File {
    /// The source chapter file, relative to the project.
    pub original: String,
    pub source_language: String,
    pub target_language: String,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    /// Where the block is, for people: `chapters/…/en.md block 4 (line 12)`.
    pub resname: String,
    /// renga's own data (the target block's hash at export).
    pub extradata: String,
    pub source: Segment,
    /// The current translation, with the source's code ids, and its state.
    pub target: Option<(Vec<Inline>, Segment, &'static str)>,
    pub notes: Vec<String>,
    /// The source and target text as last recorded.
    pub previous: Option<(String, String)>,
}

/// The document, indented for people; inline content is written as is.
pub fn write(files: &[File], tool_version: &str) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    nl(&mut w, 0)?;
    let mut root = BytesStart::new("xliff");
    root.push_attribute(("version", "1.2"));
    root.push_attribute(("xmlns", NAMESPACE));
    w.write_event(Event::Start(root))?;
    for file in files {
        nl(&mut w, 1)?;
        let mut start = BytesStart::new("file");
        start.push_attribute(("original", file.original.as_str()));
        start.push_attribute(("source-language", file.source_language.as_str()));
        start.push_attribute(("target-language", file.target_language.as_str()));
        start.push_attribute(("datatype", "x-markdown"));
        w.write_event(Event::Start(start))?;
        nl(&mut w, 2)?;
        w.write_event(Event::Start(BytesStart::new("header")))?;
        nl(&mut w, 3)?;
        let mut tool = BytesStart::new("tool");
        tool.push_attribute(("tool-id", "renga"));
        tool.push_attribute(("tool-name", "renga"));
        tool.push_attribute(("tool-version", tool_version));
        w.write_event(Event::Empty(tool))?;
        nl(&mut w, 3)?;
        element(
            &mut w,
            "note",
            &[],
            "Translate the text only. Placeholders stand for markdown, metric references, \
             footnote references and code that must stay as they are; paired codes mark \
             emphasis and links: keep each one exactly once, around the words it belongs to.",
        )?;
        nl(&mut w, 2)?;
        w.write_event(Event::End(BytesEnd::new("header")))?;
        nl(&mut w, 2)?;
        w.write_event(Event::Start(BytesStart::new("body")))?;
        for unit in &file.units {
            write_unit(&mut w, unit)?;
        }
        nl(&mut w, 2)?;
        w.write_event(Event::End(BytesEnd::new("body")))?;
        nl(&mut w, 1)?;
        w.write_event(Event::End(BytesEnd::new("file")))?;
    }
    nl(&mut w, 0)?;
    w.write_event(Event::End(BytesEnd::new("xliff")))?;
    let mut bytes = w.into_inner().into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_unit(w: &mut Writer<Cursor<Vec<u8>>>, unit: &Unit) -> std::io::Result<()> {
    nl(w, 3)?;
    let mut start = BytesStart::new("trans-unit");
    start.push_attribute(("id", unit.id.as_str()));
    start.push_attribute(("resname", unit.resname.as_str()));
    start.push_attribute(("extradata", unit.extradata.as_str()));
    // Line breaks and spaces in the text are the author's.
    start.push_attribute(("xml:space", "preserve"));
    w.write_event(Event::Start(start))?;
    nl(w, 4)?;
    w.write_event(Event::Start(BytesStart::new("source")))?;
    inline(w, &unit.source, &unit.source.content)?;
    w.write_event(Event::End(BytesEnd::new("source")))?;
    if let Some((content, codes, state)) = &unit.target {
        nl(w, 4)?;
        let mut t = BytesStart::new("target");
        t.push_attribute(("state", *state));
        w.write_event(Event::Start(t))?;
        inline(w, codes, content)?;
        w.write_event(Event::End(BytesEnd::new("target")))?;
    }
    for note in &unit.notes {
        nl(w, 4)?;
        element(w, "note", &[("from", "renga")], note)?;
    }
    if let Some((source, target)) = &unit.previous {
        nl(w, 4)?;
        let mut alt = BytesStart::new("alt-trans");
        alt.push_attribute(("alttranstype", "previous-version"));
        w.write_event(Event::Start(alt))?;
        nl(w, 5)?;
        element(w, "source", &[], source)?;
        nl(w, 5)?;
        element(w, "target", &[], target)?;
        nl(w, 4)?;
        w.write_event(Event::End(BytesEnd::new("alt-trans")))?;
    }
    nl(w, 3)?;
    w.write_event(Event::End(BytesEnd::new("trans-unit")))
}

fn nl(w: &mut Writer<Cursor<Vec<u8>>>, depth: usize) -> std::io::Result<()> {
    let indent = format!("\n{}", "  ".repeat(depth));
    w.write_event(Event::Text(BytesText::new(&indent)))
}

fn element(
    w: &mut Writer<Cursor<Vec<u8>>>,
    name: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> std::io::Result<()> {
    let mut start = BytesStart::new(name);
    for a in attrs {
        start.push_attribute(*a);
    }
    w.write_event(Event::Start(start))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// Segment content: text, `<ph>` holding the markdown it protects (shown
/// by CAT tools as the tag's content), `<g>` around paired content.
fn inline(
    w: &mut Writer<Cursor<Vec<u8>>>,
    seg: &Segment,
    content: &[Inline],
) -> std::io::Result<()> {
    for piece in content {
        match piece {
            Inline::Text(t) => w.write_event(Event::Text(BytesText::new(t)))?,
            Inline::Ph(id) => {
                let code = seg.codes.get(id);
                let mut ph = BytesStart::new("ph");
                ph.push_attribute(("id", id.as_str()));
                if let Some(code) = code {
                    ph.push_attribute(("ctype", code.kind.ctype()));
                }
                w.write_event(Event::Start(ph))?;
                let text = code.map_or("", |c| c.open.as_str());
                w.write_event(Event::Text(BytesText::new(text)))?;
                w.write_event(Event::End(BytesEnd::new("ph")))?;
            }
            Inline::G(id, inner) => {
                let mut g = BytesStart::new("g");
                g.push_attribute(("id", id.as_str()));
                if let Some(code) = seg.codes.get(id) {
                    g.push_attribute(("ctype", code.kind.ctype()));
                }
                w.write_event(Event::Start(g))?;
                inline(w, seg, inner)?;
                w.write_event(Event::End(BytesEnd::new("g")))?;
            }
        }
    }
    Ok(())
}

// ---- Reading --------------------------------------------------------------------

/// An element of the document as read: its local name, attributes, content
/// and the byte offset of its start tag (for diagnostics).
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn elements<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter_map(move |c| match c {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&e.text()),
            }
        }
        out
    }
}

/// A document that is not well-formed XML: the message and byte offset.
#[derive(Debug)]
pub struct ReadError {
    pub message: String,
    pub offset: usize,
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.to_string(),
    }
}

/// How deeply elements may nest (`<g>` in `<g>` …).
const MAX_DEPTH: usize = 200;

/// Parses a whole document into its root element.
pub fn read(text: &str) -> Result<Element, ReadError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element::default()];
    let err = |message: String, offset: usize| ReadError { message, offset };
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| err(e.to_string(), reader.error_position() as usize))?;
        let start = |e: &BytesStart| -> Result<Element, ReadError> {
            let mut attrs = Vec::new();
            for a in e.attributes() {
                let a = a.map_err(|e| err(e.to_string(), offset))?;
                let key = a.key.as_ref().to_string();
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| err(e.to_string(), offset))?
                    .into_owned();
                attrs.push((key, value));
            }
            Ok(Element {
                name: local(e.name().as_ref()),
                attrs,
                children: vec![],
                offset,
            })
        };
        match event {
            Event::Start(e) => {
                let el = start(&e)?;
                // Reading, matching inline codes and dropping the tree all
                // recurse through it: a hostile file nested 100,000 deep
                // would overflow the stack. XLIFF nests a few levels.
                if stack.len() > MAX_DEPTH {
                    return Err(err(
                        format!("elements nested more than {MAX_DEPTH} deep"),
                        offset,
                    ));
                }
                stack.push(el);
            }
            Event::Empty(e) => {
                let el = start(&e)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node::Element(el));
                }
            }
            Event::End(_) => {
                let el = stack.pop().unwrap_or_default();
                match stack.last_mut() {
                    Some(top) => top.children.push(Node::Element(el)),
                    None => return Err(err("unexpected end tag".into(), offset)),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().into_owned();
                push_text(&mut stack, s);
            }
            Event::CData(t) => {
                let s = t.into_inner().into_owned();
                push_text(&mut stack, s);
            }
            Event::GeneralRef(r) => {
                let s = match r
                    .resolve_char_ref()
                    .map_err(|e| err(e.to_string(), offset))?
                {
                    Some(c) => c.to_string(),
                    None => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(err(format!("unknown entity &{};", &*r), offset));
                        }
                    },
                };
                push_text(&mut stack, s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().unwrap_or_default();
    if !stack.is_empty() {
        return Err(err(
            "the document ends inside an element".into(),
            text.len(),
        ));
    }
    document
        .children
        .drain(..)
        .find_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
        .ok_or_else(|| err("no root element".into(), 0))
}

fn push_text(stack: &mut [Element], s: String) {
    let Some(top) = stack.last_mut() else {
        return;
    };
    match top.children.last_mut() {
        Some(Node::Text(t)) => t.push_str(&s),
        _ => top.children.push(Node::Text(s)),
    }
}

/// The inline content of a `<source>` or `<target>`: text, `<ph>` and
/// `<g>` by id; `<mrk>` (which some tools add around segments) is looked
/// through. Any other element is refused by name.
pub fn inlines(el: &Element) -> Result<Vec<Inline>, String> {
    let mut out: Vec<Inline> = Vec::new();
    for c in &el.children {
        match c {
            Node::Text(t) => match out.last_mut() {
                Some(Inline::Text(prev)) => prev.push_str(t),
                _ => out.push(Inline::Text(t.clone())),
            },
            Node::Element(e) => match e.name.as_str() {
                "ph" => out.push(Inline::Ph(id(e)?)),
                "g" => out.push(Inline::G(id(e)?, inlines(e)?)),
                "mrk" => out.extend(inlines(e)?),
                other => {
                    return Err(format!(
                        "<{other}> is not a code renga wrote; keep the <ph> and <g> codes of the source"
                    ));
                }
            },
        }
    }
    Ok(out)
}

fn id(e: &Element) -> Result<String, String> {
    e.attr("id")
        .map(str::to_string)
        .ok_or_else(|| format!("a <{}> without an id", e.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::xliff::segment;

    #[test]
    fn units_read_back_as_written() {
        let (_, seg) = segment::blocks("A **b** & <br> {{metric x}} \"q\" <c>.\n").remove(0);
        let seg = seg.unwrap();
        let unit = Unit {
            id: "01-a/en/1/abc".into(),
            resname: "r".into(),
            extradata: "target=none".into(),
            source: seg.clone(),
            target: None,
            notes: vec!["Was: a & b".into()],
            previous: Some(("old <en>".into(), "古い".into())),
        };
        let file = File {
            original: "chapters/01-a/en.md".into(),
            source_language: "en".into(),
            target_language: "ja".into(),
            units: vec![unit],
        };
        let bytes = write(&[file], "0").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let root = read(&text).unwrap();
        assert_eq!(root.name, "xliff");
        let file = root.elements("file").next().unwrap();
        let unit = file
            .elements("body")
            .next()
            .unwrap()
            .elements("trans-unit")
            .next()
            .unwrap();
        assert_eq!(unit.attr("id"), Some("01-a/en/1/abc"));
        let source = unit.elements("source").next().unwrap();
        assert_eq!(inlines(source).unwrap(), seg.content);
        assert_eq!(unit.elements("note").next().unwrap().text(), "Was: a & b");
    }

    #[test]
    fn broken_documents_are_errors_with_an_offset() {
        let e = read("<xliff><file></xliff>").unwrap_err();
        assert!(e.offset > 0, "{e:?}");
    }
}
