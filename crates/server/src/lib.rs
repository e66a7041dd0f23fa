//! The 1Stop account server: the `onestop` binary's library.
//!
//! Dependencies point inward: `web` and `cli` call `usecases`, which call `store` and the pure
//! `onestop_domain` crate; nothing calls outward.

pub mod cli;
mod cli_import;
pub mod config;
pub mod csv_safety;
pub mod defaults;
pub mod mail;
pub mod metrics;
pub mod passwords;
pub mod pictures;
pub mod sealing;
pub mod server;
pub mod store;
pub mod tenancy;
pub mod usecases;
pub mod web;
