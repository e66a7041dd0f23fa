//! HTTP-level tests of the whole application, each on SQLite and on PostgreSQL.

mod helpers;

mod authorization;
mod bad_input;
mod cli;
mod csrf;
mod first_run;
mod operations;
mod sign_in;
mod terms;
