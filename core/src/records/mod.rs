//! The records layer: what users keep in the base — contacts (the only writer of
//! `contacts` and `contact_events`: [`contacts::write`]), their activities, and the users
//! (accounts: [`users`]; sign-in and sessions: [`auth`]) with their sign-in limits, and the tasks on contacts. It builds on the kernel and the schema; it knows nothing of
//! the query engine or segments above it, which follow its writes through the hook it
//! defines ([`contacts::write::WriteHook`]).

pub mod activities;
pub mod auth;
pub mod contacts;
pub mod outbox;
pub mod sign_in_limits;
pub mod tasks;
pub mod users;
