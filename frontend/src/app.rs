use crate::auth::Auth;
use crate::components::signin::{SignInScreen, UserMenu};
use crate::components::states::{Empty, ErrorPanel, Load, Loading};
use crate::live::{self, Live};
use crate::pages::{
    api_paths::{FindingAlias, FindingsAlias, OverviewAlias, RemediationsAlias},
    compliance::CompliancePage,
    control::ControlPage,
    detail::DetailPage,
    findings::FindingsPage,
    overview::OverviewPage,
    remediations::RemediationsPage,
};
use crate::session::SignIn;
use crate::state::FindingStore;
use crate::url::{LIST_PATH, REMEDIATIONS_PATH};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// What the root shows; only a change of screen rebuilds it.
#[derive(Debug, Clone, PartialEq)]
enum Screen {
    Checking,
    Failed(crate::error::ApiError),
    SignIn,
    Dashboard,
}

/// Root component: asks who is signed in, then shows the sign-in screen or the
/// dashboard. Nothing else (no API call, no live connection) starts before the
/// answer, so a signed-out browser sees no errors, only "Sign in".
#[component]
pub fn App() -> impl IntoView {
    let auth = Auth::provide();
    let screen = Memo::new(move |_| {
        auth.state.state.with(|s| match s {
            Load::Loading => Screen::Checking,
            Load::Failed(e) => Screen::Failed(e.clone()),
            Load::Ready(SignIn::SignedOut) => Screen::SignIn,
            Load::Ready(_) => Screen::Dashboard,
        })
    });
    move || match screen.get() {
        Screen::Checking => view! { <Loading label="Checking your sign-in…"/> }.into_any(),
        Screen::Failed(e) => {
            view! { <ErrorPanel error=e on_retry=move || auth.check()/> }.into_any()
        }
        Screen::SignIn => view! { <SignInScreen/> }.into_any(),
        Screen::Dashboard => view! { <Dashboard/> }.into_any(),
    }
}

/// Page chrome and routes. The findings store lives here so it outlives page
/// changes, and the live connection upserts into it.
#[component]
fn Dashboard() -> impl IntoView {
    let store = RwSignal::new(FindingStore::default());
    provide_context(store);
    let live = live::start(store);
    provide_context(live);
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                        <path class="brand-mark" d="M12 2 3 6v6c0 5 3.8 9.4 9 10 5.2-.6 9-5 9-10V6z"></path>
                    </svg>
                    <span>"cspm-monitor"</span>
                </a>
                <nav class="mainnav" aria-label="Main">
                    <A href="/" exact=true>"Overview"</A>
                    <A href=LIST_PATH>"Findings"</A>
                    <A href=REMEDIATIONS_PATH>"Remediations"</A>
                </nav>
                <LiveIndicator live=live/>
                <UserMenu/>
            </header>
            <Notices live=live/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! {
                    <Empty message="There is no page at this address.">
                        <a class="btn" href="/">"Go to the overview"</a>
                    </Empty>
                }>
                    <Route path=path!("/") view=OverviewPage/>
                    // With or without the slash, which the router tells apart.
                    <Route path=path!("/ui") view=OverviewAlias/>
                    <Route path=path!("/ui/") view=OverviewAlias/>
                    <Route path=path!("/ui/findings") view=FindingsPage/>
                    <Route path=path!("/ui/findings/:id") view=DetailPage/>
                    <Route path=path!("/ui/compliance/:slug") view=CompliancePage/>
                    <Route path=path!("/ui/compliance/:slug/controls/:control") view=ControlPage/>
                    <Route path=path!("/ui/remediations") view=RemediationsPage/>
                    <Route path=path!("/findings") view=FindingsAlias/>
                    <Route path=path!("/findings/:id") view=FindingAlias/>
                    <Route path=path!("/remediations") view=RemediationsAlias/>
                </Routes>
            </main>
        </Router>
    }
}

/// Live / reconnecting / offline, always in the top bar.
#[component]
fn LiveIndicator(live: Live) -> impl IntoView {
    let label = move || live.status.get().label();
    view! {
        <span class="live-status" data-status=label role="status" aria-live="polite"
            title="Live updates: new and changed findings appear as they happen">
            <span class="live-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}

/// CRITICAL findings that just arrived, each dismissible, with a link.
#[component]
fn Notices(live: Live) -> impl IntoView {
    view! {
        <div class="notices" aria-live="assertive">
            <For
                each=move || live.notices.get()
                key=|n| n.id.clone()
                children=move |n| {
                    let id = n.id.clone();
                    view! {
                        <div class="notice" role="alert" data-id=n.id.clone()>
                            <span class="badge sev-critical">"CRITICAL"</span>
                            <a href=crate::url::detail_href(&n.id)>{n.title}</a>
                            <button class="btn small" aria-label="Dismiss"
                                on:click=move |_| live.notices.update(|v| v.retain(|x| x.id != id))>"×"</button>
                        </div>
                    }
                }
            />
        </div>
    }
}
