//! digest: fetch the Hugging Face trending-papers listing, keep it in SQLite, and mail
//! each reader the papers that are new to them.
//!
//! The pipeline is the architecture: [`fetch`] -> [`parse`] -> [`store`] -> [`select`]
//! -> [`render`] -> [`send`]; [`app`] runs the commands on top of it.

pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod exit;
pub mod export;
pub mod faults;
pub mod fetch;
pub mod init;
pub mod mail;
pub mod model;
pub mod parse;
pub mod progress;
pub mod relevance;
pub mod render;
pub mod select;
pub mod send;
pub mod store;

pub use app::run;
