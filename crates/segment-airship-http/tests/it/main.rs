//! Integration tests of the HTTP service: routes through `oneshot`, and one real socket.

mod auth;
mod batch;
mod durability;
mod limits;
mod routes;
mod socket;
mod support;
