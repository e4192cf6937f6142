//! Stewardship after go-live (issue 23, requirements C4 and C5): the plan that replaces the
//! project at go-live (who owns what, how questions are prioritised, how further development
//! is decided), its gaps, the key-user group's backlog of adjustment requests, and the
//! answers (knowledge base) questions are turned into.

mod people;
mod store;

pub use store::StewardshipStore;
