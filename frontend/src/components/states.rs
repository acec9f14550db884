use crate::error::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Where an API-backed view is: every page renders all three, so nothing hangs blank.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    /// Request in flight (first load or retry).
    Loading,
    /// Data arrived.
    Ready(T),
    /// The request failed; the page shows why and offers a retry.
    Failed(ApiError),
}

/// Runs API requests for one view and keeps only the answer to the latest one, so a
/// slow response to an old filter never overwrites the current view.
pub struct Loader<T: Send + Sync + 'static> {
    /// Current state; pages render from it.
    pub state: RwSignal<Load<T>>,
    /// True while a request runs, also when older data is still shown.
    pub busy: RwSignal<bool>,
    latest: StoredValue<u64>,
}

impl<T: Send + Sync + 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Loader<T> {}

impl<T: Send + Sync + 'static> Loader<T> {
    /// A loader in the `Loading` state.
    pub fn new() -> Self {
        Loader {
            state: RwSignal::new(Load::Loading),
            busy: RwSignal::new(false),
            latest: StoredValue::new(0),
        }
    }

    /// Starts a request. The previous data stays visible while it runs (pages dim it),
    /// except after a failure, where "Loading…" replaces the error.
    pub fn run(self, request: impl Future<Output = Result<T, ApiError>> + 'static) {
        self.start(request, false);
    }

    /// Starts a background refresh of the data shown: like [`Loader::run`], but
    /// a failure keeps the data shown (the next change or a resync asks again)
    /// instead of replacing it with an error panel.
    pub fn refresh(self, request: impl Future<Output = Result<T, ApiError>> + 'static) {
        self.start(request, true);
    }

    fn start(self, request: impl Future<Output = Result<T, ApiError>> + 'static, keep: bool) {
        let ticket = self.latest.get_value() + 1;
        self.latest.set_value(ticket);
        if !self.state.with_untracked(|s| matches!(s, Load::Ready(_))) {
            self.state.set(Load::Loading);
        }
        self.busy.set(true);
        spawn_local(async move {
            let result = request.await;
            // The page may have been left while the request ran: its signals are then
            // disposed, and the answer has nowhere to go.
            if self.latest.try_get_value() != Some(ticket) {
                return;
            }
            self.busy.try_set(false);
            match result {
                Ok(v) => {
                    self.state.try_set(Load::Ready(v));
                }
                Err(_) if keep && self.state.with_untracked(|s| matches!(s, Load::Ready(_))) => {}
                Err(e) => {
                    self.state.try_set(Load::Failed(e));
                }
            }
        });
    }
}

/// A spinner line with text for screen readers.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="state loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </div>
    }
}

/// Nothing to show, said plainly, with an optional way out.
#[component]
pub fn Empty(
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="state empty">
            <p>{message}</p>
            {children.map(|c| c())}
        </div>
    }
}

/// A failed request: what happened, in words, and a retry button.
#[component]
pub fn ErrorPanel(error: ApiError, #[prop(into)] on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="state error" role="alert">
            <p class="error-title">"Could not load this view"</p>
            <p>{error.to_string()}</p>
            <button class="btn primary" on:click=move |_| on_retry.run(())>"Retry"</button>
        </div>
    }
}
