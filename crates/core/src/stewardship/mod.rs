//! Stewardship after go-live (issue 23, requirements C4 and C5): the plan that replaces the
//! project at go-live (who owns what, how questions are prioritised, how further development
//! is decided), its gaps, the key-user group's backlog of adjustment requests, and the
//! answers (knowledge base) questions are turned into.

pub mod answers;
pub mod gaps;
mod people;
pub mod plan;
pub mod requests;
mod service;
mod store;

pub use answers::{Answer, LANGUAGES};
pub use gaps::{Gap, GapKind};
pub use plan::{Forum, Level, Plan, Priority, PriorityMatrix, StoredPlan, TeamKeyUsers, VendorContact};
pub use requests::{AdjustmentComment, AdjustmentRequest, ChangeLink, LinkKind, RequestStatus, Vote};
pub use service::{AnswerHit, Backlog, BacklogOrder, CommentLine, PlanView, RequestDetail, RequestLine};
pub use store::{DraftsSeen, StewardshipStore};
