//! The support chain after go-live (issue 23): questions, agreed times, answers.

pub mod hours;
mod store;

pub use store::SupportStore;
