//! HTTP-level tests of the whole application, each on SQLite and on PostgreSQL.

// A failing test is meant to panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bearer;
mod helpers;
mod smtp;

mod accessible_markup;
mod api_token_pages;
mod api_tokens;
mod authorization;
mod bad_input;
mod cli;
mod client_address;
mod contention;
mod csrf;
mod first_run;
mod invitation_counts;
mod invitation_messages;
mod invitations;
mod json_api;
mod load;
mod metrics;
mod openapi;
mod operations;
mod outbox;
mod passkeys;
mod password_reset;
mod pictures;
mod query_plans;
mod real_binary;
mod review_defects;
mod route_table;
mod schemathesis;
mod scim;
mod scim_tester;
mod sessions;
mod setup_admin;
mod sign_in;
mod sso;
mod sso_helpers;
mod terms;
mod time_zones;
mod timing;
mod tokens;
mod two_step;
mod two_step_gate;
mod two_step_helpers;
mod two_step_reset;
mod two_step_rows;
mod two_step_settings;
mod user_import;
mod user_page;
mod users_export;
mod users_list;
mod users_page;
