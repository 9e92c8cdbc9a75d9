//! The glossary as TBX-Basic (ISO 30042) for translation tools: one
//! `termEntry` per term, forbidden variants as deprecated terms.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::load::glossary::Glossary;
use crate::model::lang::Lang;

/// The TBX document of `glossary`.
pub fn write(glossary: &Glossary) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("martif");
    root.push_attribute(("type", "TBX-Basic"));
    root.push_attribute(("xml:lang", "en"));
    w.write_event(Event::Start(root))?;
    w.write_event(Event::Start(BytesStart::new("martifHeader")))?;
    w.write_event(Event::Start(BytesStart::new("fileDesc")))?;
    w.write_event(Event::Start(BytesStart::new("sourceDesc")))?;
    text(&mut w, "p", "glossary.toml, written by renga")?;
    w.write_event(Event::End(BytesEnd::new("sourceDesc")))?;
    w.write_event(Event::End(BytesEnd::new("fileDesc")))?;
    w.write_event(Event::End(BytesEnd::new("martifHeader")))?;
    w.write_event(Event::Start(BytesStart::new("text")))?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for (i, term) in glossary.terms.iter().enumerate() {
        let mut entry = BytesStart::new("termEntry");
        let id = format!("term-{}", i + 1);
        entry.push_attribute(("id", id.as_str()));
        w.write_event(Event::Start(entry))?;
        if let Some(note) = &term.note {
            let mut d = BytesStart::new("descrip");
            d.push_attribute(("type", "definition"));
            w.write_event(Event::Start(d))?;
            w.write_event(Event::Text(BytesText::new(note)))?;
            w.write_event(Event::End(BytesEnd::new("descrip")))?;
        }
        for lang in Lang::ALL {
            let mut set = BytesStart::new("langSet");
            set.push_attribute(("xml:lang", lang.code()));
            w.write_event(Event::Start(set))?;
            tig(&mut w, term.term(lang), "preferredTerm-admn-sts")?;
            for variant in term.forbidden(lang) {
                tig(&mut w, variant, "deprecatedTerm-admn-sts")?;
            }
            w.write_event(Event::End(BytesEnd::new("langSet")))?;
        }
        w.write_event(Event::End(BytesEnd::new("termEntry")))?;
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("text")))?;
    w.write_event(Event::End(BytesEnd::new("martif")))?;
    let mut out = w.into_inner().into_inner();
    out.push(b'\n');
    Ok(out)
}

fn text(w: &mut Writer<Cursor<Vec<u8>>>, tag: &str, s: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(tag)))?;
    w.write_event(Event::Text(BytesText::new(s)))?;
    w.write_event(Event::End(BytesEnd::new(tag)))?;
    Ok(())
}

fn tig(w: &mut Writer<Cursor<Vec<u8>>>, term: &str, status: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new("tig")))?;
    text(w, "term", term)?;
    let mut note = BytesStart::new("termNote");
    note.push_attribute(("type", "administrativeStatus"));
    w.write_event(Event::Start(note))?;
    w.write_event(Event::Text(BytesText::new(status)))?;
    w.write_event(Event::End(BytesEnd::new("termNote")))?;
    w.write_event(Event::End(BytesEnd::new("tig")))?;
    Ok(())
}
