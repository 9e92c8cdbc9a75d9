//! typst, linked in-process: the world it reads (sources, fonts, files
//! confined to the project, SVG figures), and the layout iterations renga
//! runs itself.

pub mod fonts;
pub mod iterate;
pub mod parallel;
pub mod svg;
pub mod world;
