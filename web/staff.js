// Staff dashboard (GET /staff).
//
// One page for course staff on a laptop or tablet: today's counts, who is here and who is
// missing, the attendance grid, one attendee's history (manual check-in, void), roster
// import, badges and exports, completion records, the audit log, sync and the device
// clock. Everything comes from the staff API under /api/v1 (see SPEC.md §5).
//
// Contracts kept here:
// - Server data reaches the page through textContent (via el()) only, never innerHTML.
// - Every state-changing request carries X-CSRF-Token; any 401 returns to the login form.
// - The page stays current by polling GET /api/v1/summary (and the list the open tab
//   shows) every POLL_MS with If-None-Match, never by a held-open request, and not at
//   all while the page is hidden.
// - Errors are shown with the server's message and hint in a polite live region (the
//   page's, or the open dialog's, since a modal dialog makes the page behind it inert).

import { dateWords, el, hours, request, text, timeFormats } from "/common.js";

const POLL_MS = 5000;
const SEARCH_DEBOUNCE_MS = 300;
const REQUEST_TIMEOUT_MS = 15_000;
const NOTICE_MS = 6000;
const SYNC_RECHECK_MS = 2000;
const TABS = ["today", "attendance", "roster", "completion", "audit", "sync"];
const SESSION_URL = "/api/v1/session";

// Plain words for the audit log and the check-in sources.
const ACTIONS = {
  login: "logged in",
  logout: "logged out",
  login_failed: "could not log in",
  manual_checkin: "checked in an attendee manually",
  void: "voided a check-in",
  roster_import: "imported the roster",
  close_module: "closed the module",
  set_clock: "set the device clock",
  staff_add: "added a staff account",
  staff_password_reset: "reset a staff password",
};
const SOURCES = { manual: "manual", badge: "badge", qr: "badge", phone: "phone", scanner: "badge" };
const CLOCK_SOURCES = {
  ntp: "network time (NTP)",
  staff: "set by staff from a browser",
  registry: "the registry's time",
  forced: "forced (command line or test)",
  none: "not set",
};

const $ = (id) => document.getElementById(id);
const ui = {
  alert: $("alert"),
  alertClose: $("alert-close"),
  loginView: $("login-view"),
  loginForm: $("login-form"),
  loginNote: $("login-note"),
  loginUser: $("login-username"),
  loginPassword: $("login-password"),
  loginSubmit: $("login-submit"),
  app: $("app"),
  moduleTitle: $("module-title"),
  moduleVenue: $("module-venue"),
  openSession: $("open-session"),
  clockState: $("clock-state"),
  syncState: $("sync-state"),
  closedState: $("closed-state"),
  connState: $("conn-state"),
  userName: $("user-name"),
  logout: $("logout"),
  clockBanner: $("clock-banner"),
  clockDevice: $("clock-device-time"),
  clockBrowser: $("clock-browser-time"),
  clockSet: $("clock-set"),
  tablist: document.querySelector('[role="tablist"]'),
  todayDate: $("today-date"),
  sessionCards: $("session-cards"),
  todayEmpty: $("today-empty"),
  todayLists: $("today-lists"),
  todayFilter: $("today-filter"),
  missingTitle: $("missing-title"),
  missingList: $("missing-list"),
  presentTitle: $("present-title"),
  presentList: $("present-list"),
  search: $("search"),
  gridCount: $("grid-count"),
  gridHead: $("grid-head"),
  gridBody: $("grid-body"),
  rosterForm: $("roster-form"),
  rosterFile: $("roster-file"),
  rosterUpload: $("roster-upload"),
  rosterReport: $("roster-report"),
  rosterSummary: $("roster-summary"),
  rosterFileError: $("roster-file-error"),
  rosterTable: $("roster-report-table"),
  rosterBody: $("roster-report-body"),
  exportCsv: $("export-csv"),
  exportCsvSemicolon: $("export-csv-semicolon"),
  exportJson: $("export-json"),
  completionState: $("completion-state"),
  completionBody: $("completion-body"),
  completionRefresh: $("completion-refresh"),
  closeModule: $("close-module"),
  closeDialog: $("close-dialog"),
  closeText: $("close-dialog-text"),
  closeConfirm: $("close-confirm"),
  closeCancel: $("close-cancel"),
  auditList: $("audit-list"),
  auditRefresh: $("audit-refresh"),
  syncDetails: $("sync-details"),
  syncNow: $("sync-now"),
  clockDetails: $("clock-details"),
  held: $("held"),
  heldList: $("held-list"),
  detail: $("detail"),
  detailName: $("detail-name"),
  detailClose: $("detail-close"),
  detailMeta: $("detail-meta"),
  detailCompletion: $("detail-completion"),
  detailCheckinForm: $("detail-checkin-form"),
  detailSession: $("detail-session"),
  detailCheckin: $("detail-checkin"),
  detailBadge: $("detail-badge"),
  detailHistory: $("detail-history-body"),
  voidForm: $("void-form"),
  voidWhat: $("void-what"),
  voidReason: $("void-reason"),
  voidConfirm: $("void-confirm"),
  voidCancel: $("void-cancel"),
};

const state = {
  user: null, // logged-in user name, null when logged out
  csrf: "",
  summary: null, // last GET /api/v1/summary body
  all: null, // last GET /api/v1/attendees body (no search)
  grid: null, // last body for the search in ui.search
  q: "",
  tab: "today",
  todayPick: null, // session id chosen on Today; null: follow the open session
  focusAfter: null, // data-focus-key to focus once the Missing list is redrawn
  lastOpenId: null,
  detailId: null,
  detail: null,
  voidTarget: null,
  completions: null,
  cache: new Map(), // url -> { etag, text, body } for conditional GETs
  pollTimer: 0,
  polling: false,
  pollAgain: false,
  clockOffset: 0, // device clock minus this browser's clock, ms
  time: timeFormats(undefined),
  noticeTimer: 0,
  searchTimer: 0,
  searchSeq: 0,
};

// ---- talking to the server ----------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

// One request to the API. Resolves with { status, body, changed }; rejects with ApiError.
// options: json (a body to send as JSON), body + type (raw bytes), conditional (send
// If-None-Match and reuse the cached body on 304), login (a 401 is an answer, not a
// lost session).
async function api(method, url, options = {}) {
  const headers = {};
  if (method !== "GET" && !options.login) {
    headers["X-CSRF-Token"] = state.csrf;
  }
  if (options.type) {
    headers["Content-Type"] = options.type;
  }
  const cached = options.conditional ? state.cache.get(url) : undefined;
  if (cached?.etag) {
    headers["If-None-Match"] = cached.etag;
  }
  const answer = await request(url, { method, headers, json: options.json, body: options.body, timeoutMs: REQUEST_TIMEOUT_MS });
  if (answer.status === 0) {
    throw new ApiError(0, "network", "The kiosk server did not answer.", "Check that this device is on the venue network, then try again.");
  }
  if (answer.status === 304 && cached) {
    return { status: 304, body: cached.body, changed: false };
  }
  if (answer.ok) {
    let changed = true;
    if (options.conditional) {
      changed = cached?.text !== answer.raw;
      state.cache.set(url, { etag: answer.headers.get("ETag"), text: answer.raw, body: answer.body });
    }
    return { status: answer.status, body: answer.body, changed };
  }
  const error = apiError(answer);
  if (error.code === "csrf_failed" && !options.retried && (await renewCsrf())) {
    return api(method, url, { ...options, retried: true });
  }
  if (answer.status === 401 && !options.login) {
    sessionLost();
  }
  throw error;
}

function apiError(answer) {
  const code = answer.code || (answer.status === 401 ? "unauthenticated" : `http_${answer.status}`);
  return new ApiError(answer.status, code, answer.message || `The server answered HTTP ${answer.status}.`, answer.hint);
}

// The CSRF token belongs to the login session: fetch it again once (the server may have
// restarted with the same session), then retry the request.
async function renewCsrf() {
  try {
    const { body } = await api("GET", SESSION_URL);
    state.csrf = text(body?.csrf_token);
    return state.csrf !== "";
  } catch {
    return false;
  }
}

// ---- messages -----------------------------------------------------------------------

// Shows a message in the open dialog's alert region, or the page's. kind: ok | info | error.
// Confirmations fade after a while; errors stay until dismissed or replaced.
function notify(kind, message, hint = "") {
  const dialog = [ui.detail, ui.closeDialog].find((d) => d.open);
  const box = dialog ? dialog.querySelector(".alert") : ui.alert;
  for (const other of [ui.alert, ui.detail.querySelector(".alert"), ui.closeDialog.querySelector(".alert")]) {
    if (other !== box) {
      clearAlert(other);
    }
  }
  box.dataset.kind = kind;
  box.querySelector(".alert-message").textContent = message;
  box.querySelector(".alert-hint").textContent = hint;
  clearTimeout(state.noticeTimer);
  if (kind !== "error") {
    state.noticeTimer = setTimeout(() => clearAlert(box), NOTICE_MS);
  }
}

function clearAlert(box) {
  box.dataset.kind = "idle";
  box.querySelector(".alert-message").textContent = "";
  box.querySelector(".alert-hint").textContent = "";
}

function report(error) {
  if (error instanceof ApiError) {
    if (error.code !== "unauthenticated") {
      notify("error", error.message, error.hint);
    }
    return;
  }
  console.error(error);
  notify("error", "Something went wrong on this page.", "Reload the page; if it happens again, tell the technical contact.");
}

// ---- login and logout ---------------------------------------------------------------

async function start() {
  try {
    const { body } = await api("GET", SESSION_URL);
    signedIn(body);
  } catch (error) {
    if (error.code !== "unauthenticated") {
      report(error);
    }
    showLogin("");
  }
}

function showLogin(note) {
  ui.app.hidden = true;
  ui.loginView.hidden = false;
  ui.loginNote.textContent = note || "Attendance dashboard of this course kiosk.";
  document.title = "Staff sign-in · course-kiosk";
  (ui.loginUser.value === "" ? ui.loginUser : ui.loginPassword).focus();
}

async function onLogin(event) {
  event.preventDefault();
  ui.loginSubmit.disabled = true;
  try {
    const { body } = await api("POST", SESSION_URL, {
      json: { username: ui.loginUser.value.trim(), password: ui.loginPassword.value },
      login: true,
    });
    ui.loginPassword.value = "";
    clearAlert(ui.alert);
    signedIn(body);
  } catch (error) {
    report(error);
    ui.loginPassword.select();
  } finally {
    ui.loginSubmit.disabled = false;
  }
}

function signedIn(body) {
  state.user = text(body?.username) || "staff";
  state.csrf = text(body?.csrf_token);
  ui.userName.textContent = state.user;
  ui.loginView.hidden = true;
  ui.app.hidden = false;
  selectTab(tabFromHash(), false);
  pollSoon();
}

async function onLogout() {
  try {
    await api("DELETE", SESSION_URL);
  } catch (error) {
    if (error.code === "network") {
      report(error);
      return;
    }
  }
  resetSession();
  showLogin("You are logged out.");
}

// Any 401: the session expired, was logged out elsewhere, or the device restarted.
function sessionLost() {
  const wasIn = state.user !== null;
  resetSession();
  showLogin(wasIn ? "Your session has ended. Please log in again." : "");
}

function resetSession() {
  state.user = null;
  state.csrf = "";
  state.summary = null;
  state.all = null;
  state.grid = null;
  state.detailId = null;
  state.cache.clear();
  clearTimeout(state.pollTimer);
  for (const dialog of [ui.detail, ui.closeDialog]) {
    if (dialog.open) {
      dialog.close();
    }
  }
}

// ---- polling ------------------------------------------------------------------------

function pollSoon(delay = 0) {
  if (state.polling) {
    state.pollAgain = true;
    return;
  }
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(poll, delay);
}

// One round: the summary, then what the open tab shows. A round never overlaps another.
async function poll() {
  if (state.user === null || document.hidden) {
    return; // visibilitychange starts the next round
  }
  state.polling = true;
  try {
    const summaryChanged = await loadSummary();
    await refreshTab(summaryChanged);
    setConnection("ok", `Updated ${state.time.hms.format(new Date())}`);
  } catch (error) {
    if (error.code === "network") {
      setConnection("bad", "Offline: retrying");
    } else if (error.code !== "unauthenticated") {
      setConnection("bad", `Server error: ${error.message}`);
    }
  } finally {
    state.polling = false;
    if (state.user !== null) {
      const again = state.pollAgain;
      state.pollAgain = false;
      pollSoon(again ? 0 : POLL_MS);
    }
  }
}

// Every tab shows names, so the full attendee list is kept current on all of them (a 304
// almost always); the grid's own request is that list when there is no search.
async function refreshTab(summaryChanged) {
  if (state.tab === "attendance") {
    await loadGrid();
  }
  if (state.tab !== "attendance" || state.q !== "") {
    await loadAllAttendees();
  }
  switch (state.tab) {
    case "audit":
      return loadAudit();
    case "completion":
      return summaryChanged ? loadCompletions() : undefined;
    case "sync":
      return renderSyncPanel();
    default:
      return undefined;
  }
}

function setConnection(kind, words) {
  ui.connState.dataset.state = kind;
  ui.connState.textContent = words;
}

function onVisibility() {
  if (!document.hidden && state.user !== null) {
    pollSoon();
  }
}

// ---- summary: header, clock, sync badge ---------------------------------------------

async function loadSummary() {
  const { body, changed } = await api("GET", "/api/v1/summary", { conditional: true });
  const timezone = text(body?.module?.timezone);
  if (timezone !== "" && timezone !== state.summary?.module?.timezone) {
    state.time = timeFormats(timezone);
  }
  state.summary = body;
  const deviceNow = Date.parse(text(body?.clock?.time) || text(body?.now));
  if (Number.isFinite(deviceNow) && changed) {
    state.clockOffset = deviceNow - Date.now();
  }
  if (changed) {
    renderHeader();
    renderToday();
    if (state.detailId !== null && ui.voidForm.hidden) {
      loadDetail();
    }
  }
  tickClock();
  return changed;
}

function renderHeader() {
  const s = state.summary;
  const module = s?.module ?? {};
  ui.moduleTitle.textContent = text(module.title) || "Staff dashboard";
  ui.moduleVenue.textContent = [text(module.venue), text(module.id)].filter(Boolean).join(" · ");
  document.title = `Staff · ${text(module.title) || "course-kiosk"}`;
  ui.openSession.textContent = openSessionText(s);
  ui.openSession.dataset.state = s?.open_session ? "open" : "closed";
  ui.closedState.hidden = s?.module_closed !== true;
  renderSyncBadge(s?.sync);
  renderClockDetails();
  setDownloadNames(text(module.id));
}

function openSessionText(s) {
  if (s?.open_session) {
    return `Open: ${text(s.open_session.label)} ${hours(s.open_session)}`;
  }
  if (s?.next_session) {
    const next = s.next_session;
    const when = next.day === s.today ? "" : `${dayLabel(next.day)} `;
    return `No session open · next: ${text(next.label)}, ${when}${text(next.start)}`;
  }
  return "No session open";
}

function renderSyncBadge(sync) {
  const pending = Number(sync?.pending) || 0;
  let kind = "ok";
  let words = "Sync: up to date";
  if (!sync || sync.configured === false) {
    kind = "muted";
    words = "Sync: not configured";
  } else if (sync.last_error) {
    kind = "bad";
    words = `Sync: failing · ${pending} waiting`;
  } else if (pending > 0) {
    kind = "warn";
    words = `Sync: ${pending} waiting`;
  }
  ui.syncState.dataset.state = kind;
  ui.syncState.textContent = words;
  ui.syncState.title = sync?.last_error ? text(sync.last_error.message) : "";
}

// Runs every second: the device's clock (as last reported, advanced locally) next to
// this browser's, in the module's time zone.
function tickClock() {
  const clock = state.summary?.clock;
  if (!clock) {
    return;
  }
  const device = new Date(Date.now() + state.clockOffset);
  const trusted = clock.trusted === true;
  ui.clockState.dataset.state = trusted ? "ok" : "bad";
  ui.clockState.textContent = `${state.time.hm.format(device)} · ${trusted ? "clock OK" : "clock NOT trusted"}`;
  ui.clockState.title = `Device clock source: ${CLOCK_SOURCES[clock.source] ?? text(clock.source)}`;
  ui.clockBanner.hidden = trusted;
  if (!trusted) {
    ui.clockDevice.textContent = `${state.time.year.format(device)} (${CLOCK_SOURCES[clock.source] ?? text(clock.source)})`;
    ui.clockBrowser.textContent = state.time.year.format(new Date());
  }
}

async function setClock() {
  ui.clockSet.disabled = true;
  try {
    const { body } = await api("PUT", "/api/v1/clock", { json: { time: rfc3339Local(new Date()) } });
    const filed = Number(body?.held_filed ?? 0);
    const heldNote = filed > 0 ? ` ${filed} held check-in${filed === 1 ? " was" : "s were"} filed.` : "";
    notify("ok", `The device clock is set to ${formatInstant(body?.time, "year")}.${heldNote}`);
    pollSoon();
  } catch (error) {
    report(error);
  } finally {
    ui.clockSet.disabled = false;
  }
}

function setDownloadNames(moduleId) {
  const base = moduleId !== "" ? `attendance-${moduleId}` : "attendance";
  ui.exportCsv.download = `${base}.csv`;
  ui.exportCsvSemicolon.download = `${base}-semicolon.csv`;
  ui.exportJson.download = `${base}.json`;
}

// ---- tabs ---------------------------------------------------------------------------

function tabFromHash() {
  const name = location.hash.slice(1);
  return TABS.includes(name) ? name : state.tab;
}

function selectTab(name, focus) {
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
    if (selected && focus) {
      button.focus();
    }
  }
  if (location.hash !== `#${name}`) {
    history.replaceState(null, "", `#${name}`);
  }
  if (state.user !== null) {
    refreshTab(true).catch(report);
  }
}

// Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
function onTabKey(event) {
  const index = TABS.indexOf(state.tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) {
    return;
  }
  event.preventDefault();
  const next = (moves[event.key] + TABS.length) % TABS.length;
  selectTab(TABS[next], true);
}

// ---- Today --------------------------------------------------------------------------

async function loadAllAttendees() {
  const { body, changed } = await api("GET", "/api/v1/attendees", { conditional: true });
  state.all = body;
  if (changed) {
    renderToday();
  }
}

function todaySessions() {
  const s = state.summary;
  return Array.isArray(s?.sessions) ? s.sessions.filter((session) => session.day === s.today) : [];
}

// The session Today shows names for: the one staff picked, else the open one, else the
// latest that has started, else the first of the day.
function todaySessionId(sessions) {
  const openId = state.summary?.open_session?.id ?? null;
  if (openId !== state.lastOpenId) {
    state.lastOpenId = openId;
    state.todayPick = null; // a new session opened: show it
  }
  if (sessions.some((s) => s.id === state.todayPick)) {
    return state.todayPick;
  }
  if (sessions.some((s) => s.id === openId)) {
    return openId;
  }
  const now = state.time.hm.format(new Date(Date.now() + state.clockOffset));
  const started = sessions.filter((s) => text(s.start) <= now);
  return (started.length > 0 ? started[started.length - 1] : sessions[0])?.id ?? null;
}

function renderToday() {
  const s = state.summary;
  if (!s) {
    return;
  }
  ui.todayDate.textContent = `${dayLabel(s.today)} · ${s.expected ?? 0} attendees expected`;
  const sessions = todaySessions();
  const chosen = todaySessionId(sessions);
  ui.todayEmpty.hidden = sessions.length > 0;
  ui.todayLists.hidden = sessions.length === 0;
  if (sessions.length === 0) {
    ui.todayEmpty.textContent = s.next_session
      ? `No sessions today. Next: ${text(s.next_session.label)}, ${dayLabel(s.next_session.day)} at ${text(s.next_session.start)}.`
      : "No sessions today.";
  }
  keepFocus(ui.sessionCards, () => ui.sessionCards.replaceChildren(...sessions.map((session) => sessionCard(session, chosen))));
  renderPeople(sessions.find((session) => session.id === chosen));
}

function sessionCard(session, chosen) {
  const present = Number(session.present) || 0;
  const late = Number(session.late) || 0;
  const expected = Number(session.expected) || 0;
  const isOpen = session.id === state.summary?.open_session?.id;
  const share = (n) => `${expected > 0 ? Math.min(100, (100 * n) / expected) : 0}%`;
  const onTime = el("span", { class: "bar-ok" });
  const lateBar = el("span", { class: "bar-late" });
  onTime.style.width = share(present - late);
  lateBar.style.width = share(late);
  return el(
    "button",
    {
      type: "button",
      class: "session-card",
      "aria-pressed": String(session.id === chosen),
      dataset: { action: "pick-session", sessionId: session.id, focusKey: `card-${session.id}` },
    },
    el("span", { class: "card-label" }, text(session.label), isOpen ? el("span", { class: "tag open" }, "open now") : null),
    el("span", { class: "card-time" }, hours(session)),
    el(
      "span",
      { class: "card-numbers" },
      el("span", { class: "big", dataset: { count: "present" } }, String(present)),
      el("span", { class: "of" }, ` / ${expected} present`),
    ),
    el("span", { class: "card-late" }, `${late} late · ${Math.max(0, expected - present)} missing`),
    el("span", { class: "bar", "aria-hidden": "true" }, onTime, lateBar),
  );
}

function renderPeople(session) {
  const people = sortedAttendees(state.all);
  const filter = ui.todayFilter.value.trim().toLowerCase();
  const shown = filter === "" ? people : people.filter((a) => matches(a, filter));
  const sid = session?.id;
  const here = shown.filter((a) => a.checkins?.[sid]);
  const missing = shown.filter((a) => !a.checkins?.[sid]);
  const canCheckIn = sid !== undefined && sid === state.summary?.open_session?.id;
  const label = session ? ` for ${text(session.label)}` : "";
  ui.missingTitle.textContent = `Missing${label} (${missing.length})`;
  ui.presentTitle.textContent = `Here${label} (${here.length})`;
  keepFocus(ui.missingList, () =>
    ui.missingList.replaceChildren(...listOrEmpty(missing.map((a) => missingItem(a, canCheckIn)), state.all ? "Nobody." : "Loading…")),
  );
  focusAfterCheckin();
  keepFocus(ui.presentList, () =>
    ui.presentList.replaceChildren(...listOrEmpty(here.map((a) => presentItem(a, a.checkins[sid])), state.all ? "Nobody yet." : "Loading…")),
  );
}

function missingItem(attendee, canCheckIn) {
  const button = canCheckIn
    ? el(
        "button",
        {
          type: "button",
          class: "button small primary",
          "data-testid": "manual-checkin",
          "aria-label": `Check in ${displayName(attendee)}`,
          dataset: { action: "quick-checkin", attendeeId: attendee.id, focusKey: `in-${attendee.id}` },
        },
        "Check in",
      )
    : null;
  return el("li", { class: "person", dataset: { attendeeId: attendee.id } }, personButton(attendee), button);
}

function presentItem(attendee, checkin) {
  const tags = [el("span", { class: "time" }, text(checkin.local_time))];
  if (checkin.late) {
    tags.push(el("span", { class: "tag late" }, "late"));
  }
  if (checkin.source === "manual") {
    tags.push(el("span", { class: "tag" }, "manual"));
  }
  return el("li", { class: "person", dataset: { attendeeId: attendee.id } }, personButton(attendee), el("span", { class: "person-tags" }, ...tags));
}

function personButton(attendee) {
  return el(
    "button",
    { type: "button", class: "name-button", dataset: { action: "detail", attendeeId: attendee.id, focusKey: `name-${attendee.id}` } },
    el("span", { class: "name" }, sortName(attendee)),
    el("span", { class: "id" }, text(attendee.id)),
  );
}

function listOrEmpty(items, emptyWords) {
  return items.length > 0 ? items : [el("li", { class: "empty" }, emptyWords)];
}

// Check-in from the Missing list: always for the open session the list was drawn for.
// The person leaves the list, so the focus moves on to the next one's button.
async function quickCheckin(button) {
  const sessionId = state.summary?.open_session?.id;
  const item = button.closest("li");
  const next = item?.nextElementSibling ?? item?.previousElementSibling;
  const nextButton = next?.querySelector('[data-action="quick-checkin"]');
  state.focusAfter = nextButton ? nextButton.dataset.focusKey : null;
  button.disabled = true;
  try {
    if (!(await manualCheckin(button.dataset.attendeeId, sessionId))) {
      state.focusAfter = null;
    }
  } finally {
    button.disabled = false;
  }
}

// Only when the focus was lost with the removed button, never away from where staff went.
function focusAfterCheckin() {
  const key = state.focusAfter;
  const target = key ? ui.missingList.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) : null;
  const lost = document.activeElement === null || document.activeElement === document.body;
  if (target && lost) {
    state.focusAfter = null;
    target.focus({ preventScroll: true });
  }
}

// ---- attendance grid ----------------------------------------------------------------

function onSearchInput() {
  clearTimeout(state.searchTimer);
  state.searchTimer = setTimeout(() => {
    state.q = ui.search.value.trim();
    loadGrid().catch(report);
  }, SEARCH_DEBOUNCE_MS);
}

async function loadGrid() {
  const seq = ++state.searchSeq;
  const q = state.q;
  const url = q === "" ? "/api/v1/attendees" : `/api/v1/attendees?q=${encodeURIComponent(q)}`;
  const { body, changed } = await api("GET", url, { conditional: true });
  if (seq !== state.searchSeq) {
    return; // a newer search owns the grid
  }
  if (q === "") {
    state.all = body;
  }
  if (changed || state.grid !== body) {
    state.grid = body;
    renderGrid();
  }
}

function renderGrid() {
  const sessions = Array.isArray(state.grid?.sessions) ? state.grid.sessions : [];
  const people = sortedAttendees(state.grid);
  const openId = state.summary?.open_session?.id;
  ui.gridHead.replaceChildren(...gridHead(sessions, openId));
  keepFocus(ui.gridBody, () => ui.gridBody.replaceChildren(...people.map((a) => gridRow(a, sessions, openId))));
  if (people.length === 0) {
    const cell = el("td", { colspan: String(sessions.length + 2), class: "empty" }, state.q ? `Nobody matches “${state.q}”.` : "The roster is empty.");
    ui.gridBody.replaceChildren(el("tr", {}, cell));
  }
  const total = Number.isInteger(state.grid?.total) ? state.grid.total : people.length;
  ui.gridCount.textContent = state.q ? `${people.length} of ${total} match “${state.q}”` : `${total} attendees`;
}

function gridHead(sessions, openId) {
  const days = [];
  for (const session of sessions) {
    const last = days[days.length - 1];
    if (last && last.day === session.day) {
      last.count += 1;
    } else {
      days.push({ day: session.day, count: 1 });
    }
  }
  const top = el(
    "tr",
    {},
    el("th", { scope: "col", rowspan: "2", class: "col-name" }, "Attendee"),
    ...days.map((d) => el("th", { scope: "colgroup", colspan: String(d.count), class: "col-day" }, dayLabel(d.day))),
    el("th", { scope: "col", rowspan: "2", class: "col-total" }, "Total"),
  );
  const second = el(
    "tr",
    {},
    ...sessions.map((s) =>
      el(
        "th",
        { scope: "col", class: s.id === openId ? "col-session is-open" : "col-session", title: `${text(s.label)} ${hours(s)}` },
        el("span", { class: "session-label" }, text(s.label)),
        el("span", { class: "session-hours" }, hours(s)),
      ),
    ),
  );
  return [top, second];
}

function gridRow(attendee, sessions, openId) {
  const cells = sessions.map((s) => gridCell(attendee.checkins?.[s.id], s, s.id === openId));
  const attended = Number(attendee.sessions_attended ?? Object.keys(attendee.checkins ?? {}).length);
  return el(
    "tr",
    { dataset: { attendeeId: attendee.id } },
    el("th", { scope: "row", class: "col-name" }, personButton(attendee)),
    ...cells,
    el("td", { class: "col-total" }, `${attended}/${sessions.length}`),
  );
}

function gridCell(checkin, session, isOpen) {
  const open = isOpen ? " is-open" : "";
  if (!checkin) {
    return el("td", { class: `cell cell-absent${open}`, title: `${text(session.label)}: no check-in` }, el("span", { "aria-hidden": "true" }, "–"), hidden("no check-in"));
  }
  const how = SOURCES[checkin.source] ?? text(checkin.source);
  const title = `${text(session.label)}: ${checkin.late ? "late, " : ""}${text(checkin.local_time)} (${how})`;
  if (checkin.late) {
    return el("td", { class: `cell cell-late${open}`, title }, el("span", { class: "cell-word" }, "late"), el("span", { class: "cell-time" }, text(checkin.local_time)));
  }
  return el("td", { class: `cell cell-ok${open}`, title }, el("span", { "aria-hidden": "true" }, "✓"), hidden(`present ${text(checkin.local_time)}`));
}

// ---- attendee detail ----------------------------------------------------------------

async function openDetail(id) {
  state.detailId = id;
  state.detail = null;
  hideVoidForm();
  clearAlert(ui.detail.querySelector(".alert"));
  const known = findAttendee(id);
  ui.detailName.textContent = known ? displayName(known) : id;
  ui.detailMeta.textContent = "Loading…";
  ui.detailCompletion.replaceChildren();
  ui.detailHistory.replaceChildren();
  ui.detailBadge.href = `/api/v1/badges?ids=${encodeURIComponent(id)}`;
  fillSessionPicker(null);
  if (!ui.detail.open) {
    ui.detail.showModal();
  }
  await loadDetail();
}

async function loadDetail() {
  const id = state.detailId;
  try {
    const { body, changed } = await api("GET", `/api/v1/attendees/${encodeURIComponent(id)}`, { conditional: true });
    if (state.detailId === id && (changed || state.detail !== body)) {
      state.detail = body;
      renderDetail();
    }
  } catch (error) {
    if (state.detailId === id) {
      ui.detailMeta.textContent = "";
      report(error);
    }
  }
}

function renderDetail() {
  const { attendee = {}, checkins = [], completion = {} } = state.detail ?? {};
  ui.detailName.textContent = displayName(attendee) || state.detailId;
  const notInRoster = attendee.not_in_roster ? "not in the roster (checked in with a valid badge)" : "";
  ui.detailMeta.textContent = [text(attendee.id), text(attendee.country), text(attendee.email), notInRoster].filter(Boolean).join(" · ");
  ui.detailCompletion.replaceChildren(
    ...facts([
      ["Sessions attended", `${completion.sessions_attended ?? "?"} of ${completion.sessions_total ?? "?"}`],
      ["Module attendance", completion.attendance_complete ? "complete" : "not complete (yet)"],
      ["CME credits", String(completion.cme_credits ?? "–")],
    ]),
  );
  fillSessionPicker(checkins);
  const rows = [...checkins].sort((a, b) => text(a.at).localeCompare(text(b.at))).map(historyRow);
  ui.detailHistory.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No check-ins yet."))]));
}

function historyRow(c) {
  const session = findSession(c.session_id);
  const how = [SOURCES[c.source] ?? text(c.source), c.staff ? `by ${text(c.staff)}` : ""].filter(Boolean).join(" ");
  const status = c.voided
    ? el("span", { class: "tag voided" }, `voided: ${text(c.void_reason)}`)
    : el("span", { class: c.late ? "tag late" : "tag ok" }, c.late ? "valid, late" : "valid");
  const notes = c.not_in_roster ? el("span", { class: "tag" }, "not in roster") : null;
  const action = c.voided
    ? null
    : el(
        "button",
        {
          type: "button",
          class: "button small danger",
          "data-testid": "void-button",
          "aria-label": `Void the check-in for ${session ? text(session.label) : text(c.session_id)}`,
          dataset: { action: "void", checkinId: String(c.id) },
        },
        "Void…",
      );
  return el(
    "tr",
    { class: c.voided ? "is-voided" : "", dataset: { checkinId: String(c.id) } },
    el("td", {}, session ? `${dayLabel(session.day)} · ${text(session.label)}` : text(c.session_id)),
    el("td", {}, text(c.local_time) || formatInstant(c.at)),
    el("td", {}, how),
    el("td", {}, status, notes ? " " : null, notes),
    el("td", {}, action),
  );
}

// The picker lists every session; it keeps what staff chose across refreshes and
// otherwise starts on the open session.
function fillSessionPicker(checkins) {
  const previous = ui.detailSession.value;
  const attended = new Set((checkins ?? []).filter((c) => !c.voided).map((c) => c.session_id));
  const openId = state.summary?.open_session?.id;
  const options = allSessions().map((s) => {
    const notes = [s.id === openId ? "open now" : "", attended.has(s.id) ? "checked in" : ""].filter(Boolean);
    const words = `${dayLabel(s.day)} · ${text(s.label)} ${hours(s)}${notes.length ? ` (${notes.join(", ")})` : ""}`;
    return el("option", { value: s.id }, words);
  });
  const words = options.map((o) => o.textContent).join("\n");
  if (ui.detailSession.dataset.words === words && checkins !== null) {
    return; // unchanged: leave an open drop-down alone
  }
  ui.detailSession.dataset.words = words;
  ui.detailSession.replaceChildren(el("option", { value: "" }, "Choose a session…"), ...options);
  const keep = checkins !== null && previous !== "" ? previous : openId ?? "";
  ui.detailSession.value = allSessions().some((s) => s.id === keep) ? keep : "";
}

async function onDetailCheckin(event) {
  event.preventDefault();
  const sessionId = ui.detailSession.value;
  if (sessionId === "") {
    notify("error", "Choose the session to check in for.");
    ui.detailSession.focus();
    return;
  }
  ui.detailCheckin.disabled = true;
  try {
    await manualCheckin(state.detailId, sessionId);
  } finally {
    ui.detailCheckin.disabled = false;
  }
}

// POST /api/v1/attendees/{id}/checkins; reports the outcome and refreshes what shows it.
// Resolves with whether the attendee is now checked in.
async function manualCheckin(attendeeId, sessionId) {
  const json = sessionId ? { session_id: sessionId } : {};
  let done = false;
  try {
    const { body } = await api("POST", `/api/v1/attendees/${encodeURIComponent(attendeeId)}/checkins`, { json });
    const who = displayName(findAttendee(attendeeId)) || text(body?.attendee?.display_name) || attendeeId;
    const label = text(body?.session?.label) || text(findSession(sessionId)?.label);
    const at = text(body?.checkin?.local_time);
    if (body?.status === "held") {
      notify("info", `${who}'s check-in is held until the device clock is set.`);
    } else if (body?.status === "already_checked_in") {
      notify("info", `${who} was already checked in for ${label} at ${at}.`);
    } else {
      notify("ok", `${who} is checked in for ${label} at ${at}${body?.checkin?.late ? " (late)" : ""}.`);
    }
    done = true;
  } catch (error) {
    report(error);
  }
  afterChange();
  return done;
}

function showVoidForm(checkinId) {
  const checkin = (state.detail?.checkins ?? []).find((c) => String(c.id) === checkinId);
  if (!checkin) {
    return;
  }
  state.voidTarget = checkin;
  const session = findSession(checkin.session_id);
  ui.voidWhat.textContent = `Void the check-in for ${session ? text(session.label) : text(checkin.session_id)} at ${text(checkin.local_time)}? It stays in the log, marked void, with your reason.`;
  ui.voidReason.value = "";
  ui.voidForm.hidden = false;
  ui.voidReason.focus();
}

function hideVoidForm() {
  state.voidTarget = null;
  ui.voidForm.hidden = true;
}

async function onVoid(event) {
  event.preventDefault();
  const reason = ui.voidReason.value.trim();
  if (reason === "") {
    notify("error", "A reason is required to void a check-in.", "Say why, e.g. “scanned for a colleague by mistake”.");
    ui.voidReason.focus();
    return;
  }
  const target = state.voidTarget;
  if (!target) {
    return;
  }
  ui.voidConfirm.disabled = true;
  try {
    await api("POST", `/api/v1/checkins/${encodeURIComponent(target.id)}/void`, { json: { reason } });
    hideVoidForm();
    notify("ok", "The check-in is void.");
  } catch (error) {
    report(error);
  } finally {
    ui.voidConfirm.disabled = false;
  }
  afterChange();
}

// After staff changed something: the detail and every count show it at once.
function afterChange() {
  if (state.detailId !== null) {
    loadDetail();
  }
  pollSoon();
}

// ---- roster, badges, exports --------------------------------------------------------

async function onRosterUpload(event) {
  event.preventDefault();
  const file = ui.rosterFile.files?.[0];
  if (!file) {
    notify("error", "Choose a roster file first.", "A .csv or .json file.");
    return;
  }
  const type = /\.json$/i.test(file.name) ? "application/json" : "text/csv";
  ui.rosterUpload.disabled = true;
  ui.rosterUpload.textContent = "Importing…";
  try {
    const { body } = await api("POST", "/api/v1/roster", { body: file, type });
    renderRosterReport(body);
    const rejected = Array.isArray(body?.rejected) ? body.rejected.length : 0;
    notify(body?.file_error || rejected > 0 ? "info" : "ok", rosterSummary(body));
    pollSoon();
  } catch (error) {
    report(error);
  } finally {
    ui.rosterUpload.disabled = false;
    ui.rosterUpload.textContent = "Upload and import";
  }
}

function rosterSummary(r) {
  if (r?.file_error) {
    return "The file could not be imported.";
  }
  const rejected = Array.isArray(r?.rejected) ? r.rejected.length : 0;
  const counts = ["created", "updated", "unchanged"]
    .filter((k) => Number.isInteger(r?.[k]))
    .map((k) => `${r[k]} ${{ created: "new", updated: "updated", unchanged: "unchanged" }[k]}`);
  const detail = counts.length > 0 ? ` (${counts.join(", ")})` : "";
  return `${r?.rows_total ?? 0} rows read: ${r?.accepted ?? 0} imported${detail}, ${rejected} not imported.`;
}

function renderRosterReport(r) {
  const rejected = Array.isArray(r?.rejected) ? r.rejected : [];
  ui.rosterReport.hidden = false;
  ui.rosterSummary.textContent = rosterSummary(r);
  ui.rosterFileError.hidden = !r?.file_error;
  ui.rosterFileError.textContent = r?.file_error ? `Nothing was imported: ${r.file_error}` : "";
  ui.rosterTable.hidden = rejected.length === 0;
  ui.rosterBody.replaceChildren(
    ...rejected.map((row) =>
      el(
        "tr",
        {},
        el("td", { class: "num" }, String(row.line ?? "")),
        el("td", {}, row.id === null || row.id === undefined ? "(none)" : String(row.id)),
        el("td", {}, text(row.message)),
        el("td", {}, el("code", {}, text(row.code))),
      ),
    ),
  );
}

// ---- completion ---------------------------------------------------------------------

async function loadCompletions() {
  const { body, changed } = await api("GET", "/api/v1/completions", { conditional: true });
  state.completions = body;
  if (changed || ui.completionBody.childElementCount === 0) {
    renderCompletions();
  }
}

function renderCompletions() {
  const c = state.completions ?? {};
  const records = Array.isArray(c.records) ? [...c.records] : [];
  const complete = records.filter((r) => r.attendance_complete).length;
  const tally = `${complete} of ${records.length} attendees have complete attendance.`;
  ui.completionState.textContent = c.closed
    ? `The module was closed ${formatInstant(c.closed_at)}. These are the records written for the registry. ${tally}`
    : `Preview: the module is still open, so these figures are live. Records are written when the module is closed. ${tally}`;
  ui.completionState.dataset.state = c.closed ? "closed" : "open";
  ui.closeModule.disabled = c.closed === true;
  ui.closeModule.textContent = c.closed ? "Module closed" : "Close the module…";
  records.sort((a, b) => recordName(a).localeCompare(recordName(b)));
  const rows = records.map((r) =>
    el(
      "tr",
      { dataset: { attendeeId: r.attendee_id } },
      el("td", {}, el("button", { type: "button", class: "name-button", dataset: { action: "detail", attendeeId: r.attendee_id } }, el("span", { class: "name" }, recordName(r)), el("span", { class: "id" }, text(r.attendee_id)))),
      el("td", { class: "num" }, `${r.sessions_attended ?? 0} / ${r.sessions_total ?? 0}`),
      el("td", {}, el("span", { class: r.attendance_complete ? "tag ok" : "tag" }, r.attendance_complete ? "complete" : "not complete")),
      el("td", { class: "num" }, String(r.cme_credits ?? 0)),
      el("td", {}, r.not_in_roster ? "not in roster" : ""),
    ),
  );
  ui.completionBody.replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No records."))]));
}

function recordName(record) {
  const a = findAttendee(record.attendee_id);
  return a ? sortName(a) : text(record.attendee_id);
}

function askCloseModule() {
  const count = state.completions?.records?.length ?? state.summary?.expected ?? 0;
  ui.closeText.textContent = `This writes the completion records for ${count} attendees and queues them for the registry. Closing is final: it cannot be undone.`;
  clearAlert(ui.closeDialog.querySelector(".alert"));
  ui.closeDialog.showModal();
  ui.closeCancel.focus();
}

async function closeModule() {
  ui.closeConfirm.disabled = true;
  try {
    const { body } = await api("POST", "/api/v1/module/close", { json: {} });
    ui.closeDialog.close();
    notify("ok", `The module is closed: ${body?.records_written ?? 0} completion records written.`);
    await loadCompletions();
  } catch (error) {
    report(error);
  } finally {
    ui.closeConfirm.disabled = false;
  }
  pollSoon();
}

// ---- audit --------------------------------------------------------------------------

async function loadAudit() {
  const { body, changed } = await api("GET", "/api/v1/audit?limit=100", { conditional: true });
  if (changed || ui.auditList.childElementCount === 0) {
    const entries = Array.isArray(body?.entries) ? body.entries : [];
    ui.auditList.replaceChildren(...(entries.length > 0 ? entries.map(auditItem) : [el("li", { class: "empty" }, "No entries yet.")]));
  }
}

function auditItem(entry) {
  const details = entry.details && typeof entry.details === "object" ? Object.entries(entry.details) : [];
  return el(
    "li",
    { class: "audit-entry", dataset: { seq: String(entry.seq ?? ""), action: text(entry.action) } },
    el("time", { class: "audit-time", datetime: text(entry.at) }, formatInstant(entry.at)),
    el(
      "p",
      { class: "audit-what" },
      el("strong", {}, text(entry.actor) || "the device"),
      ` ${ACTIONS[entry.action] ?? text(entry.action).replaceAll("_", " ")}`,
    ),
    details.length > 0 ? el("p", { class: "audit-details" }, details.map(([k, v]) => detailWords(k, v)).join(" · ")) : null,
  );
}

// One detail of an audit entry in plain words, with names for ids the page knows.
function detailWords(key, value) {
  const label = key.replace(/_id$/, "").replaceAll("_", " ");
  if (key === "attendee_id") {
    const a = findAttendee(value);
    return `attendee: ${a ? `${sortName(a)} (${value})` : value}`;
  }
  if (key === "checkin_id") {
    return `check-in #${value}`;
  }
  if (key === "session_id") {
    const s = findSession(value);
    return `session: ${s ? `${text(s.label)}, ${dayLabel(s.day)}` : value}`;
  }
  if (value === null || value === undefined) {
    return `${label}: none`;
  }
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) {
    return `${label}: ${formatInstant(value, "year")}`;
  }
  const words = typeof value === "object" ? JSON.stringify(value) : String(value);
  return `${label}: ${words.length > 160 ? `${words.slice(0, 157)}…` : words}`;
}

// ---- sync ---------------------------------------------------------------------------

function renderSyncPanel() {
  const sync = state.summary?.sync;
  if (!sync) {
    return;
  }
  renderSyncDetails(sync);
  renderClockDetails();
}

function renderSyncDetails(sync) {
  const error = sync.last_error;
  ui.syncDetails.replaceChildren(
    ...facts([
      ["Registry", sync.configured ? "configured" : "not configured: this device keeps everything until a registry is set up"],
      ["Waiting to send", `${sync.pending ?? 0} records`],
      ["Oldest waiting since", sync.oldest_pending_at ? formatInstant(sync.oldest_pending_at) : "–"],
      ["Sent and confirmed", `up to #${sync.acked_through ?? 0} of #${sync.last_seq ?? 0}`],
      ["Last success", sync.last_success ? formatInstant(sync.last_success) : "never"],
      ["Last error", error ? `${text(error.message)} (${text(error.code)}, ${formatInstant(error.at)})` : "none"],
      ["Next attempt", sync.next_attempt ? formatInstant(sync.next_attempt) : "–"],
      ["Clock vs. registry", sync.clock_offset_s == null ? "not measured yet" : offsetText(sync.clock_offset_s)],
      ["Roster from the registry", rosterText(sync.roster)],
    ]),
  );
  ui.syncNow.disabled = sync.configured === false;
}

function offsetText(seconds) {
  const s = Math.round(Number(seconds));
  if (Math.abs(s) <= 2) {
    return "in step";
  }
  return `the registry is ${Math.abs(s)} s ${s > 0 ? "ahead of" : "behind"} this device`;
}

function rosterText(roster) {
  if (!roster) {
    return "–";
  }
  const parts = [roster.last_pull ? `last update ${formatInstant(roster.last_pull)}` : "never received"];
  if (roster.last_error) {
    parts.push(`last problem: ${text(roster.last_error.message)} (${formatInstant(roster.last_error.at)})`);
  }
  return parts.join("; ");
}

function renderClockDetails() {
  const clock = state.summary?.clock;
  if (!clock) {
    return;
  }
  ui.clockDetails.replaceChildren(
    ...facts([
      ["Trusted", clock.trusted ? "yes" : "no: check-ins are held (or refused, if so configured) until it is set"],
      ["Held check-ins", String(clock.held ?? 0)],
      ["Source", CLOCK_SOURCES[clock.source] ?? text(clock.source)],
      ["Device time", formatInstant(clock.time, "year")],
      ["Time zone", text(state.summary?.module?.timezone)],
    ]),
  );
  loadHeld();
}

// The held list is fetched when the summary's count of held check-ins, or the clock's
// trust (the device then tries to file them), changes.
async function loadHeld() {
  const count = state.summary?.clock?.held ?? 0;
  const key = `${count}:${state.summary?.clock?.trusted === true}`;
  if (key === state.heldKey) {
    return;
  }
  state.heldKey = key;
  ui.held.hidden = count === 0;
  if (count === 0) {
    ui.heldList.replaceChildren();
    return;
  }
  try {
    const { body } = await api("GET", "/api/v1/held");
    renderHeld(Array.isArray(body?.held) ? body.held : []);
  } catch (error) {
    state.heldKey = undefined; // try again on the next poll
    report(error);
  }
}

function renderHeld(list) {
  keepFocus(ui.heldList, () => {
    ui.heldList.replaceChildren(
      ...list.map((h) => {
        const select = el(
          "select",
          { "aria-label": `Session for ${text(h.display_name)}`, dataset: { focusKey: `held-session-${h.id}` } },
          ...allSessions().map((s) => el("option", { value: s.id }, `${text(s.label)} (${dayLabel(s.day)})`)),
        );
        const file = el("button", { class: "button small", type: "button", dataset: { focusKey: `held-file-${h.id}` } }, "File");
        file.addEventListener("click", () => fileHeld(h, select.value));
        const why = text(h.problem) || "waiting for the clock to be set";
        return el(
          "li",
          { class: "held-item" },
          el("span", {}, `${text(h.display_name)} (${text(h.source)}), device clock said ${formatInstant(h.device_time, "year")}: ${why}`),
          select,
          file,
        );
      }),
    );
  });
}

async function fileHeld(held, sessionId) {
  try {
    await api("POST", `/api/v1/held/${encodeURIComponent(held.id)}/file`, { json: { session_id: sessionId } });
    notify("ok", `${text(held.display_name)}'s check-in is filed under ${text(findSession(sessionId)?.label) || sessionId}.`);
    state.heldKey = undefined;
    pollSoon();
  } catch (error) {
    report(error);
  }
}

async function syncNow() {
  ui.syncNow.disabled = true;
  try {
    await api("POST", "/api/v1/sync", { json: {} });
    notify("ok", "Sync started. The status below updates in a few seconds.");
    setTimeout(loadSyncStatus, SYNC_RECHECK_MS);
  } catch (error) {
    report(error);
  } finally {
    ui.syncNow.disabled = false;
  }
}

async function loadSyncStatus() {
  try {
    const { body } = await api("GET", "/api/v1/sync");
    if (state.summary) {
      state.summary.sync = body;
    }
    renderSyncDetails(body);
    renderSyncBadge(body);
  } catch (error) {
    report(error);
  }
}

// ---- clicks on rows and lists (one delegated handler) -------------------------------

function onAction(event) {
  const target = event.target.closest("[data-action]");
  if (!target) {
    return;
  }
  const { action, attendeeId, checkinId, sessionId } = target.dataset;
  if (action === "detail") {
    openDetail(attendeeId);
  } else if (action === "quick-checkin") {
    quickCheckin(target);
  } else if (action === "void") {
    showVoidForm(checkinId);
  } else if (action === "pick-session") {
    state.todayPick = sessionId;
    renderToday();
  }
}

// ---- small helpers ------------------------------------------------------------------

function hidden(words) {
  return el("span", { class: "visually-hidden" }, words);
}

function facts(pairs) {
  return pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);
}

// Re-renders a container and puts the focus back on the element with the same
// data-focus-key, so that a poll does not pull the focus from under a keyboard user.
function keepFocus(container, render) {
  const active = document.activeElement;
  const key = container.contains(active) ? active?.dataset?.focusKey : undefined;
  render();
  if (key) {
    container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  }
}

function sortedAttendees(body) {
  const list = Array.isArray(body?.attendees) ? [...body.attendees] : [];
  return list.sort((a, b) => sortName(a).localeCompare(sortName(b)) || text(a.id).localeCompare(text(b.id)));
}

function sortName(a) {
  const family = text(a?.family_name);
  const given = text(a?.given_name);
  return family && given ? `${family}, ${given}` : family || given || text(a?.id);
}

function displayName(a) {
  return [text(a?.given_name), text(a?.family_name)].filter(Boolean).join(" ");
}

function matches(attendee, filter) {
  return [attendee.id, attendee.family_name, attendee.given_name].some((v) => text(v).toLowerCase().includes(filter));
}

function findAttendee(id) {
  for (const body of [state.all, state.grid]) {
    const hit = body?.attendees?.find?.((a) => a.id === id);
    if (hit) {
      return hit;
    }
  }
  return null;
}

function allSessions() {
  const list = state.all?.sessions ?? state.grid?.sessions ?? state.summary?.sessions;
  return Array.isArray(list) ? list : [];
}

function findSession(id) {
  return allSessions().find((s) => s.id === id) ?? state.summary?.sessions?.find?.((s) => s.id === id) ?? null;
}

// "2026-11-23" → "Mon 23 Nov".
function dayLabel(day) {
  return dateWords(day);
}

function formatInstant(value, style = "full") {
  const date = new Date(text(value));
  return Number.isNaN(date.getTime()) ? text(value) || "–" : state.time[style].format(date);
}

// This browser's clock as RFC 3339 with its own UTC offset, e.g. 2026-11-23T09:12:03+01:00.
function rfc3339Local(date) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

// ---- start --------------------------------------------------------------------------

function wire() {
  ui.loginForm.addEventListener("submit", onLogin);
  ui.logout.addEventListener("click", onLogout);
  ui.alertClose.addEventListener("click", () => clearAlert(ui.alert));
  ui.clockSet.addEventListener("click", setClock);
  ui.syncState.addEventListener("click", () => selectTab("sync", true));
  ui.tablist.addEventListener("keydown", onTabKey);
  for (const tab of TABS) {
    $(`tab-${tab}`).addEventListener("click", () => selectTab(tab, false));
  }
  window.addEventListener("hashchange", () => selectTab(tabFromHash(), false));
  document.addEventListener("visibilitychange", onVisibility);
  document.addEventListener("click", onAction);
  ui.todayFilter.addEventListener("input", () => renderToday());
  ui.search.addEventListener("input", onSearchInput);
  ui.detailClose.addEventListener("click", () => ui.detail.close());
  ui.detail.addEventListener("close", () => {
    state.detailId = null;
    hideVoidForm();
  });
  ui.detailCheckinForm.addEventListener("submit", onDetailCheckin);
  ui.voidForm.addEventListener("submit", onVoid);
  ui.voidCancel.addEventListener("click", hideVoidForm);
  ui.rosterForm.addEventListener("submit", onRosterUpload);
  ui.completionRefresh.addEventListener("click", () => loadCompletions().catch(report));
  ui.closeModule.addEventListener("click", askCloseModule);
  ui.closeConfirm.addEventListener("click", closeModule);
  ui.closeCancel.addEventListener("click", () => ui.closeDialog.close());
  ui.auditRefresh.addEventListener("click", () => loadAudit().catch(report));
  ui.syncNow.addEventListener("click", syncNow);
  setInterval(tickClock, 1000);
}

wire();
start();
