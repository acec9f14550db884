use crate::api;
use crate::auth::Auth;
use crate::components::states::Load;
use crate::session::{provider_logout_url, user_label, SignIn};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// This page's path, query and fragment: where signing in should come back to.
fn here() -> String {
    web_sys::window()
        .map(|w| w.location())
        .map(|l| {
            format!(
                "{}{}{}",
                l.pathname().unwrap_or_default(),
                l.search().unwrap_or_default(),
                l.hash().unwrap_or_default()
            )
        })
        .unwrap_or_else(|| "/".into())
}

/// Shown instead of the dashboard when sign-in is configured and this browser has
/// no session. "Sign in" is a plain link: signing in leaves the page for the
/// provider and comes back through `/auth/callback` to the same address.
#[component]
pub fn SignInScreen() -> impl IntoView {
    let href = api::login_href(&here());
    view! {
        <main id="main" class="signin" data-testid="signin">
            <section class="panel signin-panel">
                <svg viewBox="0 0 24 24" width="40" height="40" aria-hidden="true">
                    <path class="brand-mark" d="M12 2 3 6v6c0 5 3.8 9.4 9 10 5.2-.6 9-5 9-10V6z"></path>
                </svg>
                <h1>"cspm-monitor"</h1>
                <p>"Sign in with your organisation's account to see the findings."</p>
                // rel=external: a real navigation, never the router's client-side one.
                <a class="btn primary" rel="external" href=href>"Sign in"</a>
            </section>
        </main>
    }
}

/// The signed-in person, their role, and "Sign out" (top bar). Empty without a
/// session (sign-in not configured).
#[component]
pub fn UserMenu() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let sign_out = move |_| {
        busy.set(true);
        failed.set(None);
        spawn_local(async move {
            match api::logout().await {
                Ok(info) => match provider_logout_url(info.logout_url.as_deref()) {
                    // End the provider's session too; it sends the browser back here.
                    Some(url) => {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_href(url);
                        }
                    }
                    None => auth.signed_out(),
                },
                // Signed out already (elsewhere, or the session expired).
                Err(e) if e.is_unauthorized() => auth.signed_out(),
                Err(e) => {
                    busy.try_set(false);
                    failed.try_set(Some(e.to_string()));
                }
            }
        });
    };
    move || {
        let session = auth.state.state.with(|s| match s {
            Load::Ready(SignIn::SignedIn(s)) => Some(s.clone()),
            _ => None,
        })?;
        let role = session.role.clone();
        let role_attr = role.clone();
        Some(view! {
            <div class="user-menu" data-testid="user-menu">
                <span class="user-name" title=session.user.email.clone().unwrap_or_default()>
                    {user_label(&session.user)}
                </span>
                <span class="role-tag" data-role=role_attr>{role}</span>
                <button type="button" class="btn small" on:click=sign_out disabled=move || busy.get()>
                    "Sign out"
                </button>
                {move || failed.get().map(|t| view! { <span class="form-error" role="alert">{t}</span> })}
            </div>
        })
    }
}
