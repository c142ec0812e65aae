// Kiosk check-in page (GET /).
//
// A USB or Bluetooth scanner is a keyboard to the browser: it types the badge's QR text
// into #scan, with or without Enter after it. This script keeps that input focused, reads
// the scans from it (kiosk-input.js: any keyboard layout, suffix or none), posts each code
// to POST /api/v1/checkins, shows the outcome full screen for a few seconds, and keeps the
// idle screen (module, open or next session, clock) current from GET /api/v1/module. The
// clock is the device's (DeviceClock, from that answer's "now"), not this browser's.
//
// Server data reaches the page through textContent only. Attendees are shown by first
// name only, even though the server's display_name also carries an initial. The words of
// a refusal are this page's own: the server's message and hint are written for developers
// and staff, and never reach the attendee here.

import {
  DeviceClock,
  dateWords,
  duration,
  el,
  firstName,
  goodbye,
  hours,
  request,
  showClock,
  text,
  timeFormats,
  welcome,
} from "/common.js";
import { ScanInput, usCharacter } from "/kiosk-input.js";

const RESULT_MS = { ok: 3000, out: 3500, again: 4000, error: 6000 };
const SAME_CODE_GUARD_MS = 2000; // a scanner held over a badge repeats the code
const BUSY_DELAY_MS = 250; // show "Checking…" only when the answer is not instant
const REQUEST_TIMEOUT_MS = 8000;
const MODULE_REFRESH_MS = 60_000;
const REFOCUS_MS = 1000;
const CLOCK_TICK_MS = 1000;

// What the attendee reads, per error code of POST /api/v1/checkins. A misread, garbage,
// a code that is not a badge and a badge whose signature fails (altered or forged: the
// device logs it, the public screen does not say so) all read the same: scan again.
const SCAN_AGAIN = {
  title: "Couldn't read that code",
  line: "Please scan it again.",
  note: "If it still doesn't work, the registration desk will help.",
};
const ERRORS = {
  invalid_credential: SCAN_AGAIN,
  malformed_request: SCAN_AGAIN,
  payload_too_large: SCAN_AGAIN,
  unsupported_media_type: SCAN_AGAIN,
  request_timeout: SCAN_AGAIN,
  uri_too_long: SCAN_AGAIN,
  headers_too_large: SCAN_AGAIN,
  wrong_module: {
    title: "This badge is for another module",
    line: "Please go to the registration desk.",
  },
  revoked: {
    title: "This badge is no longer valid",
    line: "A newer badge has been issued. Please use it, or go to the registration desk.",
  },
  no_open_session: { title: "Check-in is closed right now" }, // the line says when it opens
  clock_not_trusted: {
    title: "The kiosk's clock needs checking",
    line: "Please ask a member of staff to check the kiosk.",
  },
  rate_limited: {
    title: "Too many scans at once",
    line: "Please wait a few seconds and scan again.",
  },
};
// Anything else (the device's storage failing, an internal error) is not the attendee's doing.
const GENERIC_ERROR = {
  title: "Check-in did not work",
  line: "Please try again. If it keeps happening, please tell a member of staff.",
};
const NETWORK_ERROR = {
  title: "The kiosk cannot reach its server",
  line: "Please check in at the registration desk and tell a member of staff.",
};

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("scan-form"),
  scan: $("scan"),
  typeToggle: $("type-toggle"),
  moduleTitle: $("module-title"),
  promptTitle: $("prompt-title"),
  promptHelp: $("prompt-help"),
  moduleVenue: $("module-venue"),
  clock: $("clock"),
  sessionLine: $("session-line"),
  busy: $("busy"),
  result: $("result"),
  resultText: $("result-text"),
};

const state = {
  module: null, // last good GET /api/v1/module body
  moduleFailed: false, // the last refresh failed
  moduleFetchedAt: -Infinity, // performance.now() of the last refresh
  moduleChangesAt: Infinity, // epoch ms (device clock) when the open/next session changes
  time: timeFormats(undefined),
  clock: new DeviceClock(),
  lastCode: "",
  lastCodeAt: -Infinity,
  requestSeq: 0, // only the newest scan may paint the screen
  resetTimer: 0,
  busyTimer: 0,
};

// ---- focus: the scanner must always find the input ---------------------------------

function focusScan() {
  if (document.activeElement !== ui.scan) {
    ui.scan.focus({ preventScroll: true });
  }
}

function installFocusKeeper() {
  ui.scan.addEventListener("blur", () => setTimeout(focusScan, 0));
  document.addEventListener("click", focusScan);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      focusScan();
      refreshModule();
    }
  });
  window.addEventListener("focus", focusScan);
  window.addEventListener("pageshow", focusScan);
  // A key pressed while something else has focus: move focus first, so that the
  // character still lands in the input.
  document.addEventListener(
    "keydown",
    (event) => {
      const types = event.key.length === 1 || usCharacter(event.code, event.shiftKey) !== undefined;
      if (event.target !== ui.scan && types && !event.ctrlKey && !event.metaKey && !event.altKey) {
        focusScan();
      }
    },
    true,
  );
  setInterval(focusScan, REFOCUS_MS);
  focusScan();
}

// The input asks for no on-screen keyboard (it would cover the screen for good); on a
// touchscreen without a scanner, staff can ask for one.
function toggleTyping() {
  const typing = ui.scan.inputMode !== "text";
  ui.scan.inputMode = typing ? "text" : "none";
  ui.typeToggle.setAttribute("aria-pressed", String(typing));
  ui.typeToggle.textContent = typing ? "Hide keyboard" : "Type a code";
  ui.scan.blur(); // the keyboard follows inputmode only on a fresh focus
  focusScan();
}

// ---- scanning ----------------------------------------------------------------------

// Enter: the form's own submit. Tab and the pause after a whole code: the ScanInput.
function onSubmit(event) {
  event.preventDefault();
  scanInput.submit(); // empties the input: ready for the next scan at once
}

async function submitScan(raw) {
  const code = raw.trim().toUpperCase(); // a scanner set to lower case repeats itself too
  if (code === "") {
    return;
  }
  const now = performance.now();
  if (code === state.lastCode && now - state.lastCodeAt < SAME_CODE_GUARD_MS) {
    return;
  }
  state.lastCode = code;
  state.lastCodeAt = now;

  const seq = ++state.requestSeq;
  showIdle(); // a new scan replaces the previous outcome immediately
  clearTimeout(state.busyTimer);
  state.busyTimer = setTimeout(() => {
    ui.busy.hidden = false;
  }, BUSY_DELAY_MS);

  const outcome = await checkIn(raw);
  if (seq !== state.requestSeq) {
    return; // a newer scan owns the screen
  }
  clearTimeout(state.busyTimer);
  ui.busy.hidden = true;
  showResult(outcome);
}

// POSTs the code as scanned (the server trims it) and turns any answer, or none, into
// an outcome to show: { kind: "ok" | "again" | "error", title, lines: [{ text, style }] }.
async function checkIn(raw) {
  const answer = await request("/api/v1/checkins", {
    method: "POST",
    json: { credential: raw },
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  if (answer.status === 0) {
    return errorOutcome(NETWORK_ERROR);
  }
  const body = answer.body;
  if (answer.ok) {
    if (body?.status === "held") {
      return heldOutcome(body);
    }
    if (body?.status === "already_held") {
      return againHeldOutcome(body);
    }
    if (body?.status === "checked_out") {
      return leaveOutcome(body);
    }
    return body?.status === "already_checked_in" ? againOutcome(body) : welcomeOutcome(body);
  }
  const known = Object.prototype.hasOwnProperty.call(ERRORS, answer.code) ? ERRORS[answer.code] : GENERIC_ERROR;
  if (answer.code === "no_open_session") {
    refreshModule(); // the idle screen may still show a session as open
    const next = state.module !== null ? (nextCheckinText() ?? "There are no more check-ins for this module.") : "";
    return errorOutcome({ ...known, line: next });
  }
  return errorOutcome(known);
}

function welcomeOutcome(body) {
  const name = firstName(body?.attendee?.display_name);
  const checkin = body?.checkin ?? {};
  const lines = [];
  const label = text(body?.session?.label);
  if (label !== "") {
    lines.push({ text: label, style: "result-line" });
  }
  if (checkin.late === true) {
    const at = text(checkin.local_time);
    lines.push({ text: at !== "" ? `Checked in late at ${at}` : "Checked in late", style: "result-note" });
  }
  if (body?.presence) {
    lines.push({ text: "You are in. Scan again when you leave.", style: "result-note" });
  }
  return { kind: "ok", title: welcome(name), lines };
}

// Presence mode, 201 checked_out: blue, an arrow out, and the minutes so far.
function leaveOutcome(body) {
  const name = firstName(body?.attendee?.display_name);
  const lines = [{ text: `${duration(body?.minutes_present)} in ${text(body?.session?.label) || "this session"}`, style: "result-line" }];
  lines.push({ text: "Scan again when you come back.", style: "result-note" });
  return { kind: "out", title: goodbye(name), lines };
}

// 202 held: recorded, but the device clock is not trusted yet, so no session is named.
function heldOutcome(body) {
  const name = firstName(body?.attendee?.display_name);
  const lines = [{ text: "Your check-in is recorded.", style: "result-line" }];
  lines.push({ text: "It will be filed under this session as soon as the kiosk's clock is confirmed.", style: "result-note" });
  return { kind: "ok", title: welcome(name), lines };
}

// 200 already_held: scanned again minutes after a held check-in.
function againHeldOutcome(body) {
  const name = firstName(body?.attendee?.display_name);
  const lines = [{ text: "It will be filed under this session as soon as the kiosk's clock is confirmed.", style: "result-note" }];
  const title = name !== "" ? `${name}, your check-in is already recorded` : "Your check-in is already recorded";
  return { kind: "again", title, lines };
}

function againOutcome(body) {
  const name = firstName(body?.attendee?.display_name);
  const lines = [];
  const at = text(body?.checkin?.local_time);
  const label = text(body?.session?.label);
  if (body?.presence) {
    // Presence mode: a second scan within the grace. Say which the first one did.
    const leaving = body?.checkin?.kind === "checkout";
    const title = leaving ? "You have just checked out" : "You have just checked in";
    lines.push({ text: at !== "" ? `at ${at}${label !== "" ? ` · ${label}` : ""}` : label, style: "result-line" });
    lines.push({ text: "Scanned twice: nothing changed.", style: "result-note" });
    return { kind: "again", title: name !== "" ? `${name}, ${title.charAt(0).toLowerCase()}${title.slice(1)}` : title, lines };
  }
  if (at !== "") {
    lines.push({ text: `at ${at}`, style: "result-line" });
  }
  if (label !== "") {
    lines.push({ text: label, style: "result-message" });
  }
  const title = name !== "" ? `${name}, you are already checked in` : "You are already checked in";
  return { kind: "again", title, lines };
}

// The page's own words only (see ERRORS): never the server's message or hint.
function errorOutcome(known) {
  const lines = [];
  if (known.line) {
    lines.push({ text: known.line, style: "result-message" });
  }
  if (known.note) {
    lines.push({ text: known.note, style: "result-note" });
  }
  return { kind: "error", title: known.title, lines };
}

// ---- the two screens ---------------------------------------------------------------

function showResult(outcome) {
  clearTimeout(state.resetTimer);
  const lines = outcome.lines.map((line) => el("p", { class: line.style }, line.text));
  ui.resultText.replaceChildren(el("h2", { class: "result-title" }, outcome.title), ...lines);
  ui.result.dataset.kind = outcome.kind;
  state.resetTimer = setTimeout(showIdle, RESULT_MS[outcome.kind]);
}

// Empties the live region too, so that the same outcome twice is announced twice.
function showIdle() {
  clearTimeout(state.resetTimer);
  ui.result.dataset.kind = "idle";
  ui.resultText.replaceChildren();
}

// ---- idle screen: module, sessions, clock ------------------------------------------

async function refreshModule() {
  state.moduleFetchedAt = performance.now();
  const answer = await request("/api/v1/module", { timeoutMs: REQUEST_TIMEOUT_MS });
  state.moduleFailed = !answer.ok || answer.body === null;
  if (!state.moduleFailed) {
    const module = answer.body;
    state.clock.learn(answer);
    state.module = module;
    state.time = timeFormats(text(module.timezone) || undefined);
    state.moduleChangesAt = sessionChangeAt(module);
  }
  renderModule();
  tickClock();
}

function renderModule() {
  const module = state.module;
  if (module === null) {
    ui.sessionLine.dataset.state = "offline";
    ui.sessionLine.textContent = state.moduleFailed ? "Cannot reach the kiosk server" : "Connecting to the kiosk…";
    return;
  }
  const number = Number.isInteger(module.number) ? `Module ${module.number}` : "";
  const title = text(module.title);
  ui.moduleTitle.textContent = [number, title].filter((s) => s !== "").join(": ") || "Attendance check-in";
  ui.moduleVenue.textContent = [text(module.venue), cycleText(module.cycle)].filter((s) => s !== "").join(" · ");
  document.title = number !== "" ? `Check-in · ${number}` : "Check-in";

  const presence = module.attendance?.mode === "presence";
  ui.promptTitle.textContent = presence ? "Scan your badge in and out" : "Scan your badge";
  ui.promptHelp.textContent = presence
    ? "Hold your QR code (badge or phone) under the scanner when you come in and when you leave."
    : "Hold your QR code (badge or phone) under the scanner.";
  const open = module.open_session;
  if (open && typeof open === "object") {
    ui.sessionLine.dataset.state = "open";
    ui.sessionLine.replaceChildren(`Check-in open: ${text(open.label)} `, el("span", { class: "session-hours" }, hours(open)));
    return;
  }
  ui.sessionLine.dataset.state = "closed";
  ui.sessionLine.textContent = nextCheckinText() ?? "No more check-ins for this module";
}

// "Next check-in opens at 13:00 (Monday afternoon)", with the day when it is not today.
function nextCheckinText() {
  const next = state.module?.next_session;
  if (!next || typeof next !== "object") {
    return null;
  }
  const label = text(next.label);
  const suffix = label !== "" ? ` (${label})` : "";
  const opens = new Date(text(next.window_opens_at));
  if (Number.isNaN(opens.getTime())) {
    return `Next check-in: ${label || text(next.start)}`;
  }
  const at = state.time.hm.format(opens);
  const day = state.time.isoDay.format(opens);
  return day === (state.clock.known ? state.time.isoDay.format(state.clock.now()) : "")
    ? `Next check-in opens at ${at}${suffix}`
    : `Next check-in opens ${dateWords(day)} at ${at}${suffix}`;
}

// When the open or next session changes by itself: the next window opening, or the
// open session ending, by the device's clock. Only instants still ahead count, so that a
// clock a little off causes one early refresh, not one every few seconds.
function sessionChangeAt(module) {
  const times = [Date.parse(text(module.next_session?.window_opens_at))];
  const openId = module.open_session?.id;
  for (const day of Array.isArray(module.days) ? module.days : []) {
    for (const session of Array.isArray(day?.sessions) ? day.sessions : []) {
      if (session?.id === openId) {
        times.push(Date.parse(text(session.ends_at)));
      }
    }
  }
  const now = state.clock.nowMs(); // NaN (not known yet): nothing is ahead
  const valid = times.filter((t) => Number.isFinite(t) && t > now);
  return valid.length > 0 ? Math.min(...valid) : Infinity;
}

function tickClock() {
  const now = state.clock.now();
  showClock(ui.clock, state.time, now);
  // Follow a window opening or a session ending without waiting for the next refresh.
  if (now.getTime() >= state.moduleChangesAt && performance.now() - state.moduleFetchedAt > 5000) {
    refreshModule();
  }
}

// ---- small helpers -------------------------------------------------------------------

// "2026-2" → "Autumn 2026" (1 is the spring course, 2 the autumn one).
function cycleText(cycle) {
  const match = /^([0-9]{4})-([12])$/.exec(text(cycle));
  if (!match) {
    return text(cycle);
  }
  return `${match[2] === "1" ? "Spring" : "Autumn"} ${match[1]}`;
}

// ---- start ---------------------------------------------------------------------------

ui.form.addEventListener("submit", onSubmit);
ui.typeToggle.addEventListener("click", toggleTyping);
ui.result.addEventListener("click", showIdle); // a tap dismisses the outcome early
installFocusKeeper(); // first: its key handler moves focus before the ScanInput's reads the key
const scanInput = new ScanInput(ui.scan, { onScan: submitScan, typing: () => ui.scan.inputMode === "text" });
renderModule();
tickClock();
refreshModule();
setInterval(tickClock, CLOCK_TICK_MS);
setInterval(refreshModule, MODULE_REFRESH_MS);
