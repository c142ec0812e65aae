// Staff dashboard (GET /staff): the entry module. Login and logout, the tabs, and the
// poll that keeps every part current.
//
// One page for course staff on a laptop or tablet: today's counts, who is here and who is
// missing, the attendance grid, one attendee's history (manual check-in, void), roster
// import, badges and exports, completion records, the audit log, sync and the device
// clock. Everything comes from the staff API under /api/v1 (see SPEC.md §5).
//
// The modules, each owning what it shows:
//   staff-api.js     requests: CSRF token, conditional GETs, errors
//   staff-data.js    the summary of each poll round (a Snapshot), attendee pages
//   staff-dom.js     names, view helpers, messages
//   staff-header.js  module, session, clock and sync badges, the clock banner
//   staff-detail.js  the attendee dialog: history, manual check-in, void
//   staff-walkin.js  the walk-in form (Roster tab): add someone, print their badge
//   staff-today.js, staff-attendance.js, staff-roster.js, staff-completion.js,
//   staff-audit.js, staff-sync.js, staff-accounts.js: one per tab, each with wire(hooks)
//   and show(snapshot, changed), called while the tab is open. The Staff accounts tab is
//   shown to admins only (the session's role); the API refuses everyone else anyway.
//
// Contracts kept here:
// - Server data reaches the page through textContent (via el()) only, never innerHTML.
// - Every state-changing request carries X-CSRF-Token; any 401 returns to the login form.
// - The page stays current by polling GET /api/v1/summary (and the list the open tab
//   shows) every POLL_MS with If-None-Match, never by a held-open request, and not at
//   all while the page is hidden.
// - Errors are shown with the server's message and hint in a polite live region (the
//   page's, or the open dialog's, since a modal dialog makes the page behind it inert).

import { text } from "/common.js";
import { api, ApiError, forget, onSessionLost, SESSION_URL, useSession } from "/staff-api.js";
import * as accounts from "/staff-accounts.js";
import * as attendance from "/staff-attendance.js";
import * as audit from "/staff-audit.js";
import * as completion from "/staff-completion.js";
import * as data from "/staff-data.js";
import * as detail from "/staff-detail.js";
import { $, clearAlert, report } from "/staff-dom.js";
import * as header from "/staff-header.js";
import * as roster from "/staff-roster.js";
import * as sync from "/staff-sync.js";
import * as today from "/staff-today.js";
import * as walkin from "/staff-walkin.js";

const POLL_MS = 5000;
const TABS = { today, attendance, roster, completion, audit, sync, accounts }; // in the tab bar's order
const TAB_NAMES = Object.keys(TABS);
const ADMIN_TABS = ["accounts"];
const ALL_CHANGED = { summary: true };

let user = null; // logged-in user name, null when logged out
let admin = false; // the session's role is admin: the Staff accounts tab is shown
let tab = "today";
let latest = null; // the last poll round's Snapshot, null before the first
const poller = { timer: 0, running: false, again: false };

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
  $("app").hidden = true;
  $("login-view").hidden = false;
  $("login-note").textContent = note || "Attendance dashboard of this course kiosk.";
  document.title = "Staff sign-in · course-kiosk";
  const name = $("login-username");
  (name.value === "" ? name : $("login-password")).focus();
}

async function onLogin(event) {
  event.preventDefault();
  const submit = $("login-submit");
  const password = $("login-password");
  submit.disabled = true;
  try {
    const { body } = await api("POST", SESSION_URL, {
      json: { username: $("login-username").value.trim(), password: password.value },
      login: true,
    });
    password.value = "";
    clearAlert($("alert"));
    signedIn(body);
  } catch (error) {
    report(error);
    password.select();
  } finally {
    submit.disabled = false;
  }
}

function signedIn(body) {
  user = text(body?.username) || "staff";
  admin = body?.role === "admin";
  useSession(body);
  $("user-name").textContent = user;
  for (const name of ADMIN_TABS) {
    $(`tab-${name}`).hidden = !admin;
  }
  accounts.useUser(user);
  $("login-view").hidden = true;
  $("app").hidden = false;
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
  const wasIn = user !== null;
  resetSession();
  showLogin(wasIn ? "Your session has ended. Please log in again." : "");
}

function resetSession() {
  user = null;
  admin = false;
  latest = null;
  forget();
  data.reset();
  clearTimeout(poller.timer);
  for (const dialog of document.querySelectorAll("dialog[open]")) {
    dialog.close();
  }
}

// ---- polling ------------------------------------------------------------------------

function pollSoon(delay = 0) {
  if (poller.running) {
    poller.again = true;
    return;
  }
  clearTimeout(poller.timer);
  poller.timer = setTimeout(poll, delay);
}

// One round: the summary and attendees, then what the open tab shows. A round never
// overlaps another.
async function poll() {
  if (user === null || document.hidden) {
    return; // visibilitychange starts the next round
  }
  poller.running = true;
  try {
    const { snapshot, changed } = await data.load();
    latest = snapshot;
    header.update(snapshot, changed);
    detail.update(snapshot, changed);
    await TABS[tab].show(snapshot, changed);
    setConnection("ok", `Updated ${snapshot.time.hms.format(new Date())}`);
  } catch (error) {
    if (error.code === "network") {
      setConnection("bad", "Offline: retrying");
    } else if (error.code !== "unauthenticated") {
      setConnection("bad", `Server error: ${error.message}`);
      if (!(error instanceof ApiError)) {
        console.error(error); // a bug of this page, not an answer
      }
    }
  } finally {
    poller.running = false;
    if (user !== null) {
      const again = poller.again;
      poller.again = false;
      pollSoon(again ? 0 : POLL_MS);
    }
  }
}

function setConnection(kind, words) {
  const conn = $("conn-state");
  conn.dataset.state = kind;
  conn.textContent = words;
}

// ---- tabs ---------------------------------------------------------------------------

// The tabs this user sees: the admin's tabs only for admins.
function visibleTabs() {
  return TAB_NAMES.filter((name) => admin || !ADMIN_TABS.includes(name));
}

function tabFromHash() {
  const name = location.hash.slice(1);
  return visibleTabs().includes(name) ? name : tab;
}

function selectTab(name, focus) {
  if (!visibleTabs().includes(name)) {
    name = "today";
  }
  tab = name;
  for (const other of TAB_NAMES) {
    const button = $(`tab-${other}`);
    const selected = other === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${other}`).hidden = !selected;
    if (selected && focus) {
      button.focus();
    }
  }
  if (location.hash !== `#${name}`) {
    history.replaceState(null, "", `#${name}`);
  }
  if (user !== null && latest !== null) {
    Promise.resolve(TABS[name].show(latest, ALL_CHANGED)).catch(report);
  }
}

// Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern).
function onTabKey(event) {
  const names = visibleTabs();
  const index = names.indexOf(tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: names.length - 1 };
  if (!(event.key in moves)) {
    return;
  }
  event.preventDefault();
  const next = (moves[event.key] + names.length) % names.length;
  selectTab(names[next], true);
}

// ---- start --------------------------------------------------------------------------

function wire() {
  const hooks = { pollSoon, selectTab };
  for (const part of [header, detail, walkin, ...Object.values(TABS)]) {
    part.wire(hooks);
  }
  onSessionLost(sessionLost);
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", onLogout);
  $("alert-close").addEventListener("click", () => clearAlert($("alert")));
  document.querySelector('[role="tablist"]').addEventListener("keydown", onTabKey);
  for (const name of TAB_NAMES) {
    $(`tab-${name}`).addEventListener("click", () => selectTab(name, false));
  }
  window.addEventListener("hashchange", () => selectTab(tabFromHash(), false));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && user !== null) {
      pollSoon();
    }
  });
}

wire();
start();
