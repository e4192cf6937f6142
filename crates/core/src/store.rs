//! The storage boundary. Core decides; the store keeps. Each feature owns its port, a small
//! trait beside the feature with the types it stores; [`Store`] is their sum, implemented in
//! `anchora-store` for SQLite and PostgreSQL. A use case names the port it needs (`use
//! crate::views::ViewStore`) and calls it on the one store.

pub use crate::adoption::{AdoptionStore, ExpectationStore};
pub use crate::audit::AuditStore;
pub use crate::consent::ConsentStore;
pub use crate::dashboards::DashboardStore;
pub use crate::dedupe::store::DuplicateStore;
pub use crate::forecast::ForecastStore;
pub use crate::gdpr::{ERASED, Erasure, ErasureCounts, ErasureStore, Scrub};
pub use crate::identity::{CredentialStore, UserStore};
pub use crate::import::store::ImportStore;
pub use crate::jobs::store::JobStore;
pub use crate::mailings::MailingStore;
pub use crate::meta::{SchemaStore, SettingStore};
pub use crate::onboarding::OnboardingStore;
pub use crate::project::store::{BatchOutcome, ItemWrite, ProjectBatch, ProjectStore, ReminderStore, StoredItem};
pub use crate::quality::QualityStore;
pub use crate::record::{RecordStore, SearchHit, SearchScope, SearchStore, VisitStore, WriteOutcome};
pub use crate::reports::ReportStore;
pub use crate::selections::SelectionStore;
pub use crate::templates::TemplateStore;
pub use crate::training::TrainingStore;
pub use crate::views::ViewStore;
pub use crate::write::WriteCtx;

/// Every port: what a workspace's database keeps.
pub trait Store:
    SchemaStore
    + SettingStore
    + RecordStore
    + SearchStore
    + VisitStore
    + UserStore
    + CredentialStore
    + AuditStore
    + ViewStore
    + ProjectStore
    + ErasureStore
    + ImportStore
    + DuplicateStore
    + QualityStore
    + JobStore
    + ReminderStore
    + ConsentStore
    + SelectionStore
    + OnboardingStore
    + TrainingStore
    + TemplateStore
    + MailingStore
    + DashboardStore
    + ReportStore
    + ForecastStore
    + AdoptionStore
    + ExpectationStore
    + crate::support::SupportStore
    + crate::stewardship::StewardshipStore
{
}

impl<T> Store for T where
    T: SchemaStore
        + SettingStore
        + RecordStore
        + SearchStore
        + VisitStore
        + UserStore
        + CredentialStore
        + AuditStore
        + ViewStore
        + ProjectStore
        + ErasureStore
        + ImportStore
        + DuplicateStore
        + QualityStore
        + JobStore
        + ReminderStore
        + ConsentStore
        + SelectionStore
        + OnboardingStore
        + TrainingStore
        + TemplateStore
        + MailingStore
        + DashboardStore
        + ReportStore
        + ForecastStore
        + AdoptionStore
        + ExpectationStore
        + crate::support::SupportStore
        + crate::stewardship::StewardshipStore
        + ?Sized
{
}
