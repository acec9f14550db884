//! Who may call a route and how it is described, as data: what the route table
//! declares and what the OpenAPI document reads, kept apart from the handlers so
//! the document does not depend on the router that serves it.

use crate::auth::Role;
use axum::http::Method;
use std::sync::Arc;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

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

/// How a route is described in the OpenAPI document: its handler's
/// `#[utoipa::path]` annotation, carried by the route's declaration so that the
/// document lists exactly the routes the router serves (a route cannot be served
/// undocumented, nor documented unserved).
#[derive(Clone, Copy)]
pub struct Doc {
    path: fn() -> String,
    methods: fn() -> Vec<HttpMethod>,
    operation: fn() -> Operation,
    schemas: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl Doc {
    /// The description `#[utoipa::path]` generated for a handler (`__path_NAME`).
    pub fn of<P: utoipa::Path + utoipa::__dev::SchemaReferences>() -> Self {
        Doc {
            path: P::path,
            methods: P::methods,
            operation: P::operation,
            schemas: P::schemas,
        }
    }

    /// The path the annotation names.
    pub fn path(&self) -> String {
        (self.path)()
    }

    /// The methods the annotation names.
    pub fn methods(&self) -> Vec<HttpMethod> {
        (self.methods)()
    }

    /// The operation: parameters, request body, responses, tags.
    pub fn operation(&self) -> Operation {
        (self.operation)()
    }

    /// The schemas the operation refers to, with those they refer to in turn.
    pub fn schemas(&self, into: &mut Vec<(String, RefOr<Schema>)>) {
        (self.schemas)(into)
    }
}

impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doc")
            .field("path", &self.path())
            .field("methods", &method_names(&self.methods()))
            .finish()
    }
}

/// `["get"]` for `[HttpMethod::Get]` (`HttpMethod` has no `Debug` here).
pub fn method_names(methods: &[HttpMethod]) -> Vec<String> {
    methods
        .iter()
        .map(|m| match serde_json::to_value(m) {
            Ok(serde_json::Value::String(s)) => s,
            _ => "?".into(),
        })
        .collect()
}

/// Two descriptions are the same when they describe the same operation.
impl PartialEq for Doc {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path() && self.methods() == other.methods()
    }
}

impl Eq for Doc {}

/// One API route's method, path (axum syntax, as in the OpenAPI document), who
/// may call it and its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path under `/` (and `/api`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its operation in the OpenAPI document.
    pub doc: Doc,
}

/// The declared routes, handed to `GET /openapi.json` (as a request extension)
/// to write each operation's `x-required-role`.
#[derive(Debug, Clone)]
pub struct RouteTable(pub Arc<Vec<Route>>);

/// The OpenAPI name of an HTTP method the table uses.
pub fn http_method(method: &Method) -> utoipa::openapi::path::HttpMethod {
    use utoipa::openapi::path::HttpMethod;
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PATCH => HttpMethod::Patch,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => panic!("no route is declared with method {method}"),
    }
}
