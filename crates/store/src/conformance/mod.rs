//! The conformance suite: every rule the store traits state, as checks any backend runs.
//!
//! A backend's test crate implements [`Backend`] (a fresh, empty store per check; every
//! [`Backend::connect`] a new connection to that same store) and expands
//! [`conformance_tests!`](crate::conformance_tests) once: one `#[test]` per check, named as
//! here. The checks speak only the traits, so a second backend passes them or breaks a rule
//! callers rely on: visibility per viewer, idempotent re-ingest, a dropped writer leaves
//! nothing, flows in bucket order, alert ids in commit order, paging, the data generation,
//! accounts, sessions, tokens, the audit log, alerts, deliveries, subscriptions, sensors and
//! job leases.

pub mod accounts;
pub mod alerts;
pub mod leases;
pub mod observations;
pub mod ordering;
pub mod risks;
pub mod sensors;

use crate::*;
use chrono::NaiveDate;
use greenwatch_model::access::{Label, Role, Viewer};
use greenwatch_model::account::*;
use greenwatch_model::alert::*;
use greenwatch_model::sensor::{SensorHealth, SensorRef};
use greenwatch_model::{RiskEvent, Timestamp};
use greenwatch_observe::{build_rollups, FlowTuple};

/// One fresh store of the backend under test.
pub trait Backend {
    /// A new connection (or handle) to this backend's store: what one process holds. Two
    /// connections see each other's commits.
    fn connect(&self) -> Box<dyn Store>;
}

/// An organisation named by its slug, created at time 0.
pub fn organisation(slug: &str) -> Organisation {
    Organisation {
        slug: slug.into(),
        name: slug.to_uppercase(),
        created_at: Timestamp(0),
    }
}

/// Expands to one `#[test]` per conformance check, each on a fresh store made by `$fresh`
/// (an expression whose value implements [`Backend`]).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@each $fresh;
            observations::written_capture_reads_back_identically_and_survives_reopen,
            observations::same_content_hash_cannot_be_stored_twice,
            observations::data_generation_moves_with_committed_facts_only,
            observations::rollups_stay_exact_when_two_captures_share_a_bucket,
            observations::rollups_of_shared_and_unshared_buckets_read_back_exact_and_in_bucket_order,
            observations::readers_see_only_the_captures_their_labels_allow,
            observations::backscatter_slots_round_trip_with_victim_enrichment,
            ordering::flows_arrive_in_bucket_order_whatever_the_write_order,
            ordering::alert_ids_follow_commit_order_across_connections,
            ordering::writers_racing_for_one_dataset_store_it_once,
            risks::a_stored_feed_file_is_not_begun_again_by_its_owner,
            risks::events_are_stored_per_day_and_only_on_commit,
            accounts::a_constituency_is_replaced_whole_audited_and_only_for_known_orgs,
            accounts::users_belong_to_existing_orgs_and_logins_are_unique_ignoring_case,
            accounts::sessions_expire_and_end_with_a_new_password,
            accounts::tokens_are_found_by_hash_until_revoked_and_every_change_is_audited,
            accounts::each_audit_entry_concerns_the_organisation_it_was_done_to,
            accounts::a_disabled_user_loses_sessions_and_tokens_until_enabled_again,
            alerts::alert_pages_filter_in_the_store_and_show_only_what_the_viewer_may_see,
            alerts::a_written_alert_and_its_audit_entry_are_stored_together,
            alerts::failed_deliveries_add_up_their_attempts_until_one_succeeds,
            alerts::a_subscription_gets_later_alerts_only_and_is_audited_without_its_secret,
            alerts::connections_racing_to_raise_one_key_store_it_once,
            alerts::undelivered_alerts_are_those_never_delivered_oldest_first,
            sensors::sensor_names_are_per_organisation,
            sensors::sensors_register_once_are_found_by_token_hash_and_revocation_is_audited,
            sensors::health_is_the_latest_report_and_rejections_are_counted_per_reason,
            leases::a_job_lease_has_one_holder_until_it_ends_or_is_released,
            leases::holders_racing_for_a_free_lease_get_it_once,
        );
    };
    (@each $fresh:expr; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let backend = $fresh;
                $crate::conformance::$module::$check(&backend);
            }
        )*
    };
}
