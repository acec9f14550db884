use crate::components::states::Empty;
use crate::pages::{detail::DetailPage, findings::FindingsPage, overview::OverviewPage};
use crate::state::FindingStore;
use crate::url::LIST_PATH;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// Root component: page chrome and routes. The findings store lives here so it outlives
/// page changes and a future live-update channel has one place to upsert into.
#[component]
pub fn App() -> impl IntoView {
    provide_context(RwSignal::new(FindingStore::default()));
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
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! {
                    <Empty message="There is no page at this address.">
                        <a class="btn" href="/">"Go to the overview"</a>
                    </Empty>
                }>
                    <Route path=path!("/") view=OverviewPage/>
                    <Route path=path!("/ui/findings") view=FindingsPage/>
                    <Route path=path!("/ui/findings/:id") view=DetailPage/>
                </Routes>
            </main>
        </Router>
    }
}
