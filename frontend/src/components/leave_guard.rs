//! The browser's "Leave site?" prompt while a bulk change runs. A change to
//! every matching finding is a series of requests this page sends one after
//! another: closing or reloading the tab stops it part way, with nothing left
//! to say how far it got.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

thread_local! {
    /// The `beforeunload` handler, made once: it asks the browser to confirm.
    static ASK: js_sys::Function = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        |ev: web_sys::BeforeUnloadEvent| {
            ev.prevent_default();
            // Older Chromium only prompts when the return value is set.
            ev.set_return_value("");
        },
    )
    .into_js_value()
    .unchecked_into();
}

/// While alive, leaving the page asks first. Dropped however the run ends (an
/// error, an early return, the page's task going away), so the prompt never
/// outlives the change. Guards are counted: runs may overlap, and the first
/// to end must not stop the prompt while another still runs.
pub struct LeaveGuard(());

thread_local! {
    /// Guards alive now; the prompt is on while this is above zero.
    static ACTIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl LeaveGuard {
    /// Starts asking before the page is left.
    pub fn start() -> LeaveGuard {
        if ACTIVE.with(|n| n.replace(n.get() + 1)) == 0 {
            set_prompt(true);
        }
        LeaveGuard(())
    }
}

impl Drop for LeaveGuard {
    fn drop(&mut self) {
        let left = ACTIVE.with(|n| {
            n.set(n.get().saturating_sub(1));
            n.get()
        });
        if left == 0 {
            set_prompt(false);
        }
    }
}

fn set_prompt(on: bool) {
    if let Some(w) = web_sys::window() {
        ASK.with(|ask| w.set_onbeforeunload(on.then_some(ask)));
    }
}
