//! Who may call a route, as data: what the route table declares and what the
//! OpenAPI document reads, kept apart from the handlers so the document does not
//! depend on the router that serves it.

use crate::auth::Role;
use axum::http::Method;
use std::sync::Arc;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials (`/health`: load balancers and probes).
    Public,
    /// A principal whose role includes this one ([`Role::includes`]).
    Role(Role),
    /// The handler checks a single-use ticket, which `POST /live/ticket` gives to
    /// principals with this role: browsers cannot put a bearer token on a
    /// WebSocket request, and tokens must never go into a URL.
    Ticket(Role),
}

impl Access {
    /// The role a caller needs, directly or through a ticket (`None`: public).
    pub fn role(self) -> Option<Role> {
        match self {
            Access::Public => None,
            Access::Role(r) | Access::Ticket(r) => Some(r),
        }
    }
}

/// One API route's method, path (axum syntax, as in the OpenAPI document) and
/// who may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path under `/` (and `/api`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

/// The declared routes, handed to `GET /openapi.json` (as a request extension)
/// to write each operation's `x-required-role`.
#[derive(Debug, Clone)]
pub struct RouteTable(pub Arc<Vec<Route>>);
