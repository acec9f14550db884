//! The one module that owns the live connection. It asks the API for a ticket,
//! opens the WebSocket, applies what arrives to the findings store (so rows update
//! in place wherever they are shown), hands new findings and counters to the pages
//! through signals, and reconnects with backoff after any drop — resuming after
//! the last change it applied, so nothing is missed and nothing shown twice.

use crate::api;
use crate::live_state::{reconnect_delay_ms, Action, LiveStatus, Tracker};
use crate::state::FindingStore;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared_types::{
    ChangeKind, ClientFrame, ClientMessage, FindingListItem, ServerFrame, ServerMessage, Severity,
    WorkflowStatus,
};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Pushed changes kept for pages that look at them late.
const KEEP_PUSHED: usize = 500;
/// A connection silent this long (the server pings every 30 s) is taken for dead.
const SILENCE_MS: f64 = 150_000.0;

/// A change pushed by the server, numbered in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pushed {
    /// Arrival number (pages remember the last one they handled).
    pub n: u64,
    /// What happened (`None` for a person's workflow change; `Deleted`: the
    /// finding was archived out of the store).
    pub kind: Option<ChangeKind>,
    /// The finding as the list shows it now (as it was, when deleted).
    pub item: FindingListItem,
    /// The version the browser held before this change (`None`: never seen),
    /// so a page can tell whether the finding entered or left its view.
    pub before: Option<FindingListItem>,
}

/// The overview counters as last pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSummary {
    /// Per severity.
    pub by_severity: BTreeMap<Severity, u64>,
    /// Per status.
    pub by_status: BTreeMap<WorkflowStatus, u64>,
    /// All findings.
    pub total: u64,
    /// New findings per day (empty from a server that does not send it).
    pub trend: Vec<shared_types::TrendPoint>,
}

/// A CRITICAL finding that just arrived, until dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The finding's id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// What the pages read of the live connection.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// The indicator.
    pub status: RwSignal<LiveStatus>,
    /// Recent pushed changes, oldest first.
    pub pushed: RwSignal<Vec<Pushed>>,
    /// The latest pushed counters.
    pub summary: RwSignal<Option<LiveSummary>>,
    /// Bumped when the server asks for a reload (`resync`).
    pub reloads: RwSignal<u64>,
    /// CRITICAL findings to announce.
    pub notices: RwSignal<Vec<Notice>>,
    /// New rows wait behind a "N new" bar instead of appearing.
    pub paused: RwSignal<bool>,
}

impl Live {
    /// Runs `reload` whenever the server says the page missed changes it
    /// cannot replay (`resync`): what is on screen is fetched again.
    pub fn on_resync(&self, reload: impl Fn() + 'static) {
        let reloads = self.reloads;
        let seen = StoredValue::new(reloads.get_untracked());
        Effect::new(move |_| {
            let n = reloads.get();
            if n != seen.get_value() {
                seen.set_value(n);
                reload();
            }
        });
    }
}

struct Conn {
    live: Live,
    store: RwSignal<FindingStore>,
    tracker: RefCell<Tracker>,
    attempt: Cell<u32>,
    counter: Cell<u64>,
    last_frame: Cell<f64>,
    socket: RefCell<Option<WebSocket>>,
    // The socket's callbacks live as long as the socket they belong to.
    handlers: RefCell<Vec<Handler>>,
}

/// A socket callback kept alive beside its socket.
type Handler = Closure<dyn FnMut(JsValue)>;

/// Starts the connection (once, from the app's root) and returns what pages read.
pub fn start(store: RwSignal<FindingStore>) -> Live {
    let live = Live {
        status: RwSignal::new(LiveStatus::Connecting),
        pushed: RwSignal::new(Vec::new()),
        summary: RwSignal::new(None),
        reloads: RwSignal::new(0),
        notices: RwSignal::new(Vec::new()),
        paused: RwSignal::new(false),
    };
    let conn = Rc::new(Conn {
        live,
        store,
        tracker: RefCell::new(Tracker::default()),
        attempt: Cell::new(0),
        counter: Cell::new(0),
        last_frame: Cell::new(js_sys::Date::now()),
        socket: RefCell::new(None),
        handlers: RefCell::new(Vec::new()),
    });
    connect(conn.clone());
    watchdog(conn);
    live
}

fn connect(conn: Rc<Conn>) {
    spawn_local(async move {
        match api::live_ticket().await {
            Ok(ticket) => open(conn, &ticket.ticket),
            Err(e) if e.is_not_found() => {
                // This deployment has no live endpoint here: say so, do not retry.
                conn.live.status.set(LiveStatus::Offline);
            }
            Err(e) if e.is_unauthorized() => {
                // No (more) credentials: retrying cannot help. A session that ended
                // has already sent the page to the sign-in screen (api.rs).
                conn.live.status.set(LiveStatus::Offline);
            }
            Err(_) => reconnect_later(conn),
        }
    });
}

fn reconnect_later(conn: Rc<Conn>) {
    let attempt = conn.attempt.get();
    conn.attempt.set(attempt + 1);
    conn.live.status.set(if attempt >= 8 {
        LiveStatus::Offline
    } else {
        LiveStatus::Reconnecting
    });
    let wait = reconnect_delay_ms(attempt, js_sys::Math::random());
    set_timeout(
        move || connect(conn),
        Duration::from_millis(u64::from(wait)),
    );
}

fn send(conn: &Conn, msg: ClientMessage) {
    if let (Some(ws), Ok(text)) = (
        conn.socket.borrow().as_ref(),
        serde_json::to_string(&ClientFrame::new(msg)),
    ) {
        let _ = ws.send_with_str(&text);
    }
}

fn open(conn: Rc<Conn>, ticket: &str) {
    let url = api::live_url(ticket);
    let Ok(ws) = WebSocket::new(&url) else {
        reconnect_later(conn);
        return;
    };
    let on_message = {
        let conn = conn.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            conn.last_frame.set(js_sys::Date::now());
            let Some(text) = e
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            else {
                return;
            };
            if let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) {
                on_frame(&conn, frame);
            }
        })
    };
    let on_close = {
        let conn = conn.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let _ = e.dyn_ref::<CloseEvent>();
            conn.socket.borrow_mut().take();
            reconnect_later(conn.clone());
        })
    };
    // Open means admitted (the ticket was taken): resume at once. The AWS
    // WebSocket API cannot send `hello` from `$connect`, so nothing waits for it.
    // On a first connect a `pong` says "no resume coming": the local server holds
    // newer frames until the client's first message, so a replay is never
    // overtaken (backend/src/http/live.rs).
    let on_open = {
        let conn = conn.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            conn.attempt.set(0);
            conn.last_frame.set(js_sys::Date::now());
            conn.live.status.set(LiveStatus::Live);
            let after = conn.tracker.borrow().resume_after();
            match after {
                Some(after) => send(&conn, ClientMessage::Resume { after }),
                None => send(&conn, ClientMessage::Pong),
            }
        })
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    *conn.handlers.borrow_mut() = vec![on_open, on_message, on_close];
    *conn.socket.borrow_mut() = Some(ws);
}

fn on_frame(conn: &Conn, frame: ServerFrame) {
    let action = conn.tracker.borrow_mut().on_frame(frame);
    let live = conn.live;
    match action {
        Action::Hello => {
            conn.attempt.set(0);
            live.status.set(LiveStatus::Live);
        }
        Action::Pong => send(conn, ClientMessage::Pong),
        Action::Skip => {}
        Action::Reload => live.reloads.update(|n| *n += 1),
        Action::Apply(msg) => apply(conn, *msg),
    }
}

fn apply(conn: &Conn, msg: ServerMessage) {
    let live = conn.live;
    let (kind, item) = match msg {
        ServerMessage::Finding {
            change_kind, item, ..
        } => (Some(change_kind), item),
        ServerMessage::Workflow { item, .. } => (None, item),
        ServerMessage::Summary {
            by_severity,
            by_status,
            total,
            trend,
            ..
        } => {
            live.summary.set(Some(LiveSummary {
                by_severity,
                by_status,
                total,
                trend,
            }));
            return;
        }
        _ => return,
    };
    // An archived finding leaves the store (its row leaves every page); the
    // pages still hear of it, since it left the views it was in.
    let before = conn.store.with_untracked(|s| s.get(&item.id).cloned());
    if kind == Some(ChangeKind::Deleted) {
        // Every page hears of each archived finding; only one held here
        // changes the store (and wakes the rows that read it).
        if before.is_some() {
            conn.store.update(|s| {
                s.remove(&item);
            });
        }
    } else {
        conn.store.update(|s| {
            s.upsert_pushed(item.clone(), kind);
        });
    }
    let alarming = item.severity == Severity::Critical
        && matches!(kind, Some(ChangeKind::Inserted | ChangeKind::Reopened));
    if alarming {
        live.notices.update(|n| {
            n.push(Notice {
                id: item.id.clone(),
                title: item.title.clone(),
            });
            let extra = n.len().saturating_sub(5);
            n.drain(..extra);
        });
    }
    let n = conn.counter.get() + 1;
    conn.counter.set(n);
    live.pushed.update(|p| {
        p.push(Pushed {
            n,
            kind,
            item,
            before,
        });
        let extra = p.len().saturating_sub(KEEP_PUSHED);
        p.drain(..extra);
    });
}

/// Closes a connection that went silent (a laptop waking from sleep, an idle
/// cut-off that never said goodbye): the close handler reconnects.
fn watchdog(conn: Rc<Conn>) {
    let tick = move || {
        let silent = js_sys::Date::now() - conn.last_frame.get() > SILENCE_MS;
        if silent {
            if let Some(ws) = conn.socket.borrow().as_ref() {
                conn.last_frame.set(js_sys::Date::now());
                let _ = ws.close();
            }
        }
    };
    let _ = set_interval_with_handle(tick, Duration::from_secs(15));
}
