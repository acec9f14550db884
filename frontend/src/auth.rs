//! The sign-in state as page context: asked of the API once at start, set to
//! "signed out" when a request finds the session over, and read by the pages to
//! decide which controls a role sees.

use crate::api;
use crate::components::states::{Load, Loader};
use crate::session::{Access, SignIn};
use leptos::prelude::*;

/// The sign-in state every component can read (provided by the app's root).
#[derive(Clone, Copy)]
pub struct Auth {
    /// `GET /auth/session`'s answer, then whatever ended the session.
    pub state: Loader<SignIn>,
}

impl Auth {
    /// Asks the API who is signed in and provides the answer as context. A 401
    /// from any later request made with the session turns it into `SignedOut`, so
    /// an expired session brings back the sign-in screen wherever the person is.
    pub fn provide() -> Auth {
        let auth = Auth {
            state: Loader::new(),
        };
        auth.check();
        let state = auth.state.state;
        api::on_session_end(move || {
            state.try_set(Load::Ready(SignIn::SignedOut));
        });
        provide_context(auth);
        auth
    }

    /// Asks `GET /auth/session` (again, after a failure).
    pub fn check(self) {
        self.state.run(api::session());
    }

    /// Marks the session over (after signing out without a provider page).
    pub fn signed_out(self) {
        self.state.state.set(Load::Ready(SignIn::SignedOut));
    }
}

/// What the page offers the person using it; reactive, read it inside a view.
pub fn access() -> Access {
    let auth = expect_context::<Auth>();
    auth.state.state.with(|s| match s {
        Load::Ready(s) => s.access(),
        // The dashboard is only shown once the answer is in; before, offer nothing.
        _ => SignIn::SignedOut.access(),
    })
}
