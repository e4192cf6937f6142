//! Newtypes for ids, so a record id can't be passed where a user id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7) for the given moment.
            pub fn new_at(now: chrono::DateTime<chrono::Utc>) -> Self {
                let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
                let ts = uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    millis / 1000,
                    u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
                );
                Self(Uuid::new_v7(ts))
            }

            pub fn parse(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

id_type!(RecordId);
id_type!(UserId);
id_type!(TokenId);
id_type!(TeamId);
id_type!(ViewId);
id_type!(ProjectId);
id_type!(JobId);
id_type!(SelectionId);
id_type!(TemplateId);
id_type!(MailingId);
id_type!(AdjustmentRequestId);
id_type!(AdjustmentCommentId);
id_type!(AnswerId);
id_type!(ReportId);
id_type!(CourseId);
id_type!(TrainingSessionId);
id_type!(QuestionId);
id_type!(QuestionEventId);
id_type!(AttachmentId);

/// Record ids for many records made at one moment (an import batch): each sorts after the one
/// before, so they go into the table's primary key in order instead of all over it.
#[derive(Debug, Default)]
pub struct IdSequence(uuid::ContextV7);

impl IdSequence {
    pub fn next(&self, now: chrono::DateTime<chrono::Utc>) -> RecordId {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(
            &self.0,
            millis / 1000,
            u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        );
        RecordId(Uuid::new_v7(ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_of_ids_made_at_one_moment_is_ordered() {
        let now = chrono::Utc::now();
        let seq = IdSequence::default();
        let ids: Vec<RecordId> = (0..10_000).map(|_| seq.next(now)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
