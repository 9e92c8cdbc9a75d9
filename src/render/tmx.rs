//! The block pairs the translation records show in sync, as a TMX 1.4b
//! translation memory.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The TMX document of `pairs` (English, Japanese).
pub fn write(pairs: &[(String, String)], version: &str) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("tmx");
    root.push_attribute(("version", "1.4"));
    w.write_event(Event::Start(root))?;
    let mut header = BytesStart::new("header");
    for (k, v) in [
        ("srclang", "en"),
        ("datatype", "plaintext"),
        ("segtype", "block"),
        ("adminlang", "en"),
        ("o-tmf", "renga"),
        ("creationtool", "renga"),
        ("creationtoolversion", version),
    ] {
        header.push_attribute((k, v));
    }
    w.write_event(Event::Empty(header))?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for (en, ja) in pairs {
        w.write_event(Event::Start(BytesStart::new("tu")))?;
        for (lang, text) in [("en", en), ("ja", ja)] {
            let mut tuv = BytesStart::new("tuv");
            tuv.push_attribute(("xml:lang", lang));
            w.write_event(Event::Start(tuv))?;
            w.write_event(Event::Start(BytesStart::new("seg")))?;
            w.write_event(Event::Text(BytesText::new(text)))?;
            w.write_event(Event::End(BytesEnd::new("seg")))?;
            w.write_event(Event::End(BytesEnd::new("tuv")))?;
        }
        w.write_event(Event::End(BytesEnd::new("tu")))?;
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("tmx")))?;
    let mut out = w.into_inner().into_inner();
    out.push(b'\n');
    Ok(out)
}
