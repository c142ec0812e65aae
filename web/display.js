// Entrance display (GET /display).
//
// Polls GET /api/v1/display every 2 s, and again as soon as the token on screen rotates.
// While a session is open it shows the server's QR code of "/p?t=TOKEN" as large as
// fits, with a countdown to the next token; otherwise when check-in opens next. The
// right column lists the last check-ins (first name and initial, as the server sends).
// When the device knows no address phones can reach (phone_access.warning), staff see
// that warning instead of a QR code no phone could open. The clock and "today" are the
// device's (DeviceClock, from each answer's "now"), not this browser's.
//
// Server data reaches the page through textContent only. The one exception is qr_svg,
// markup the server draws itself: it is parsed as image/svg+xml, checked against a
// short list of drawing elements and imported as nodes, never assigned as HTML.

import { DeviceClock, dateWords, el, hours, request, showClock, text, timeFormats } from "/common.js";

const POLL_MS = 2000;
const DENIED_POLL_MS = 10_000; // someone may log in as staff in this browser meanwhile
const REQUEST_TIMEOUT_MS = 5000;
const ROTATION_PERIOD_S = 30; // SPEC 5; a longer rotates_in_s widens the ring's scale
const MIN_ROTATION_POLL_MS = 300; // never hammer the server around a rotation
const STALE_AFTER_MS = 5000; // a QR code this far past its rotation is hidden
const NEW_HIGHLIGHT_MS = 6000;
const TIMEZONE_REFRESH_MS = 10 * 60_000;
const TICK_MS = 250;

const SVG_NS = "http://www.w3.org/2000/svg";
const SVG_ELEMENTS = new Set(["svg", "g", "path", "rect", "circle", "polygon", "title", "desc"]);

const $ = (id) => document.getElementById(id);
const ui = {
  display: $("display"),
  moduleTitle: $("module-title"),
  moduleVenue: $("module-venue"),
  clock: $("clock"),
  openView: $("open-view"),
  qr: $("qr"),
  tokenUrl: $("token-url"),
  sessionLabel: $("session-label"),
  sessionHours: $("session-hours"),
  ringLeft: $("ring-left"),
  rotationSeconds: $("rotation-seconds"),
  closedView: $("closed-view"),
  closedTitle: $("closed-title"),
  closedDetail: $("closed-detail"),
  notice: $("notice"),
  noticeTitle: $("notice-title"),
  noticeText: $("notice-text"),
  noticeLink: $("notice-link"),
  recentList: $("recent-list"),
  recentEmpty: $("recent-empty"),
};

const state = {
  shownTokenUrl: null, // token_url whose QR code is on screen
  rotatesAt: 0, // performance.now() ms when the token on screen rotates
  period: ROTATION_PERIOD_S,
  pollTimer: 0,
  inFlight: false,
  lastPollStart: -Infinity,
  recentKeys: null, // null until the first answer: nothing is "new" on page load
  highlightTimers: new Map(),
  time: timeFormats(undefined),
  timezoneFetchedAt: -Infinity,
  clock: new DeviceClock(),
};

// ---- polling ---------------------------------------------------------------------------

function schedulePoll(delayMs) {
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(poll, Math.max(0, delayMs));
}

async function poll() {
  clearTimeout(state.pollTimer);
  if (state.inFlight) {
    return;
  }
  state.inFlight = true;
  state.lastPollStart = performance.now();
  let next = POLL_MS;
  try {
    const answer = await request("/api/v1/display", { timeoutMs: REQUEST_TIMEOUT_MS });
    if (answer.status === 401 || answer.status === 403) {
      showDenied();
      next = DENIED_POLL_MS;
    } else if (!answer.ok || answer.body === null) {
      showOffline();
    } else {
      state.clock.learn(answer);
      render(answer.body);
      // Ask again right after the rotation, but not sooner than every 2 s otherwise.
      const untilRotation = state.shownTokenUrl !== null ? state.rotatesAt - performance.now() + 150 : Infinity;
      next = Math.min(POLL_MS, Math.max(MIN_ROTATION_POLL_MS, untilRotation));
    }
  } finally {
    state.inFlight = false; // and polling goes on, even after a failure to draw an answer
    maybeRefreshTimezone();
    schedulePoll(next);
  }
}

// ---- rendering -------------------------------------------------------------------------

function render(body) {
  const module = body?.module ?? {};
  ui.moduleTitle.textContent = text(module.title) || "Attendance check-in";
  ui.moduleVenue.textContent = text(module.venue);
  renderRecent(Array.isArray(body?.recent) ? body.recent : []);

  const open = body?.open_session;
  const url = text(body?.token_url);
  const svg = text(body?.qr_svg);
  const unreachable = text(body?.phone_access?.warning);
  if (unreachable !== "") {
    showUnreachable(unreachable);
  } else if (open && typeof open === "object" && url !== "" && svg !== "") {
    renderOpen(open, url, svg, body.rotates_in_s);
  } else {
    renderClosed(body?.next_session);
  }
}

function renderOpen(session, url, svg, rotatesIn) {
  if (url !== state.shownTokenUrl) {
    const node = importQrSvg(svg);
    if (node === null) {
      renderClosed(null, "The check-in code cannot be shown", "Please scan your badge at the kiosk.");
      return;
    }
    ui.qr.replaceChildren(node);
    ui.tokenUrl.textContent = url;
    state.shownTokenUrl = url;
  }
  const seconds = Number.isFinite(rotatesIn) ? Math.max(0, rotatesIn) : ROTATION_PERIOD_S;
  state.rotatesAt = performance.now() + seconds * 1000;
  state.period = Math.max(ROTATION_PERIOD_S, seconds);
  ui.sessionLabel.textContent = text(session.label);
  ui.sessionHours.textContent = hours(session);
  setView("open");
  tick();
}

function renderClosed(next, title, detail) {
  clearQr();
  if (title !== undefined) {
    ui.closedTitle.textContent = title;
    ui.closedDetail.textContent = detail ?? "";
  } else if (next && typeof next === "object") {
    ui.closedTitle.textContent = opensText(next);
    const label = text(next.label);
    const when = hours(next);
    ui.closedDetail.textContent = [label, when].filter((s) => s !== "").join(" · ");
  } else {
    ui.closedTitle.textContent = "Check-in is closed";
    ui.closedDetail.textContent = "There are no more sessions in this module.";
  }
  setView("closed");
}

// Phones cannot reach the device (it listens on loopback only, has no network address,
// ...): the server says why and what to do. A QR code would send every phone nowhere.
function showUnreachable(warning) {
  clearQr();
  ui.noticeTitle.textContent = "Staff: phone check-in cannot work yet";
  ui.noticeText.textContent = `${warning} Attendees: please scan your badge at the kiosk.`;
  ui.noticeLink.hidden = true;
  setView("unreachable");
}

function showDenied() {
  clearQr();
  ui.noticeTitle.textContent = "This screen needs a staff login or must run on the kiosk itself";
  ui.noticeText.textContent = "Log in as staff in this browser, then come back to this page.";
  ui.noticeLink.hidden = false;
  renderRecent([]);
  state.recentKeys = null;
  setView("denied");
}

// Keeps the last QR code only while its token is still good: a stale code on the wall
// would send every phone to "expired".
function showOffline() {
  if (state.shownTokenUrl !== null && performance.now() < state.rotatesAt + STALE_AFTER_MS) {
    return;
  }
  clearQr();
  ui.noticeTitle.textContent = "Cannot reach the kiosk server";
  ui.noticeText.textContent = "Please scan your badge at the kiosk. This screen keeps trying.";
  ui.noticeLink.hidden = true;
  setView("offline");
}

function setView(view) {
  ui.display.dataset.state = view;
  ui.openView.hidden = view !== "open";
  ui.closedView.hidden = view !== "closed";
  ui.notice.hidden = view === "open" || view === "closed";
}

function clearQr() {
  if (state.shownTokenUrl !== null) {
    ui.qr.replaceChildren();
    ui.tokenUrl.textContent = "";
    state.shownTokenUrl = null;
  }
}

// "Check-in opens at 13:00", "Check-in opens Tuesday at 07:30" within the coming week,
// else "Check-in opens Monday 12 April at 07:30". The wall time and date are read from
// window_opens_at itself, which the server writes in the module's zone.
function opensText(next) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/i.exec(text(next.window_opens_at));
  if (!match) {
    return "Check-in opens soon";
  }
  const [, day, at] = match;
  const now = state.clock.now();
  if (Number.isNaN(now.getTime())) {
    return `Check-in opens ${dateWords(day, "long")} at ${at}`;
  }
  const today = state.time.isoDay.format(now);
  if (day === today) {
    return `Check-in opens at ${at}`;
  }
  const days = Math.round((Date.parse(`${day}T12:00:00Z`) - Date.parse(`${today}T12:00:00Z`)) / 86_400_000);
  return `Check-in opens ${dateWords(day, days > 0 && days < 7 ? "weekday" : "long")} at ${at}`;
}

// Newest first, as the server sends them. Entries have no id, so an entry is "new" when
// its name and time were not in the previous answer; two Anna K. at 08:41 are told apart
// by counting from the oldest, so that a newer one does not renumber the older.
function renderRecent(recent) {
  const entries = recent
    .filter((r) => r && typeof r === "object")
    .slice(0, 8)
    .map((r) => ({ name: text(r.name), time: text(r.local_time) + (r.held === true ? " · recorded, clock not set" : "") }));
  const seen = new Map();
  const keyed = entries
    .reverse()
    .map((entry) => {
      const base = `${entry.name}\u0000${entry.time}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return { ...entry, key: `${base}\u0000${n}` };
    })
    .reverse();
  const previous = state.recentKeys;
  const now = performance.now();
  for (const entry of keyed) {
    if (previous !== null && !previous.has(entry.key) && !state.highlightTimers.has(entry.key)) {
      state.highlightTimers.set(entry.key, now + NEW_HIGHLIGHT_MS);
    }
  }
  state.recentKeys = new Set(keyed.map((e) => e.key));
  for (const key of [...state.highlightTimers.keys()]) {
    if (!state.recentKeys.has(key)) {
      state.highlightTimers.delete(key);
    }
  }

  const items = keyed.map((entry) =>
    el(
      "li",
      { class: state.highlightTimers.has(entry.key) ? "recent-item is-new" : "recent-item", dataset: { key: entry.key } },
      el("span", { class: "recent-name" }, entry.name),
      el("time", { class: "recent-time" }, entry.time),
    ),
  );
  // Rebuild only when something changed, so that the highlight animation is not restarted.
  const current = [...ui.recentList.children].map((li) => li.dataset.key).join("\n");
  ui.recentEmpty.hidden = items.length > 0;
  ui.recentList.hidden = items.length === 0;
  if (current !== keyed.map((e) => e.key).join("\n")) {
    ui.recentList.replaceChildren(...items);
    fitRecent();
  }
}

// Hides the oldest entries that would be cut by the bottom of the column.
function fitRecent() {
  const limit = ui.recentList.clientHeight;
  for (const li of ui.recentList.children) {
    li.hidden = false;
  }
  let full = false;
  for (const li of ui.recentList.children) {
    full ||= li.offsetTop - ui.recentList.offsetTop + li.offsetHeight > limit + 0.5;
    li.hidden = full;
  }
}

function expireHighlights() {
  const now = performance.now();
  for (const [key, until] of state.highlightTimers) {
    if (now >= until) {
      state.highlightTimers.delete(key);
      for (const li of ui.recentList.children) {
        if (li.dataset.key === key) {
          li.classList.remove("is-new");
        }
      }
    }
  }
}

// ---- QR code ---------------------------------------------------------------------------

// Parses the server's <svg> and returns an imported copy, or null when it is not a plain
// drawing. Width and height are dropped so that the viewBox scales to the container.
function importQrSvg(markup) {
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const root = doc.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg" || !root.hasAttribute("viewBox")) {
    return null;
  }
  for (const node of [root, ...root.querySelectorAll("*")]) {
    if (node.namespaceURI !== SVG_NS || !SVG_ELEMENTS.has(node.localName)) {
      return null;
    }
    for (const attr of [...node.attributes]) {
      const name = attr.localName.toLowerCase();
      if (name.startsWith("on") || name === "href" || name === "style") {
        node.removeAttributeNode(attr);
      }
    }
  }
  root.removeAttribute("width");
  root.removeAttribute("height");
  root.setAttribute("preserveAspectRatio", "xMidYMid meet");
  root.setAttribute("aria-hidden", "true");
  root.setAttribute("focusable", "false");
  root.classList.add("qr-svg");
  return document.importNode(root, true);
}

// ---- clock and countdown ---------------------------------------------------------------

function tick() {
  showClock(ui.clock, state.time, state.clock.now());
  expireHighlights();
  if (state.shownTokenUrl === null) {
    return;
  }
  const leftMs = state.rotatesAt - performance.now();
  const left = Math.max(0, Math.ceil(leftMs / 1000));
  const seconds = String(left);
  if (ui.rotationSeconds.textContent !== seconds) {
    ui.rotationSeconds.textContent = seconds;
  }
  const used = 100 * (1 - Math.max(0, leftMs) / (state.period * 1000));
  ui.ringLeft.setAttribute("stroke-dashoffset", used.toFixed(1));
  ui.display.dataset.rotating = left <= 5 ? "soon" : "";
  if (leftMs <= 0 && performance.now() - state.lastPollStart >= MIN_ROTATION_POLL_MS) {
    poll();
  }
  if (leftMs < -STALE_AFTER_MS) {
    showOffline(); // the answers stopped coming while the code went stale
  }
}

// The answer of /api/v1/display carries no time zone; the clock and "today" follow the
// module's zone from the public GET /api/v1/module (the browser's own until then).
async function maybeRefreshTimezone() {
  if (performance.now() - state.timezoneFetchedAt < TIMEZONE_REFRESH_MS) {
    return;
  }
  state.timezoneFetchedAt = performance.now();
  const answer = await request("/api/v1/module", { timeoutMs: REQUEST_TIMEOUT_MS });
  const zone = answer.ok ? text(answer.body?.timezone) : "";
  if (zone !== "") {
    state.time = timeFormats(zone);
    tick();
  } // else keep the current zone until the next refresh
}

// ---- start -----------------------------------------------------------------------------

new ResizeObserver(fitRecent).observe(ui.recentList);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    poll();
  }
});
tick();
setInterval(tick, TICK_MS);
poll();
