// Phone self check-in (GET /p?t=TOKEN), opened by scanning the entrance display.
//
// On load the token goes to POST /api/v1/phone/checkins. A phone the device already knows
// (its HttpOnly cookie, which this script never sees) is checked in at once. A phone it
// does not know answers 401 phone_not_identified: the page then asks once for the badge
// code, or the registration number and family name, and sends them with the same token
// to POST /api/v1/phone/identify, which checks in and sets the cookie.
//
// Server data reaches the page through textContent only. Attendees are shown by first
// name only; whether a registration number exists is never said beyond the server's
// own message.

import { duration, el, firstName, goodbye, request, text, welcome } from "/common.js";

const REQUEST_TIMEOUT_MS = 10_000;

const NETWORK = {
  title: "Cannot reach the kiosk (are you on the venue Wi-Fi?)",
  hint: "Connect to the venue Wi-Fi and try again.",
};

const $ = (id) => document.getElementById(id);
const ui = {
  result: $("result"),
  resultText: $("result-text"),
  remembered: $("remembered-note"),
  retry: $("retry"),
  form: $("identify-form"),
  tabs: [$("tab-badge"), $("tab-registration")],
  panels: { "tab-badge": $("panel-badge"), "tab-registration": $("panel-registration") },
  credential: $("credential"),
  attendeeId: $("attendee-id"),
  familyName: $("family-name"),
  submit: $("identify-submit"),
};

const token = new URLSearchParams(location.search).get("t")?.trim() ?? "";
let busy = false;

// ---- the two requests --------------------------------------------------------------------

async function checkIn() {
  if (busy) {
    return;
  }
  busy = true;
  ui.retry.hidden = true;
  show({ kind: "busy", title: "Checking you in…" });
  const answer = await post("/api/v1/phone/checkins", { token });
  busy = false;
  if (answer.ok) {
    showCheckedIn(answer.body, false);
  } else if (answer.status === 401 && answer.code === "phone_not_identified") {
    showIdentify();
  } else {
    const outcome = errorOutcome(answer);
    show(outcome);
    ui.retry.hidden = !outcome.retry;
  }
}

async function identify(event) {
  event.preventDefault();
  if (busy) {
    return;
  }
  const body = identityBody();
  if (body === null) {
    return;
  }
  busy = true;
  ui.submit.disabled = true;
  ui.form.setAttribute("aria-busy", "true");
  show({ kind: "busy", title: "Checking you in…" });
  const answer = await post("/api/v1/phone/identify", { token, ...body });
  busy = false;
  ui.submit.disabled = false;
  ui.form.removeAttribute("aria-busy");
  if (answer.ok) {
    ui.form.hidden = true;
    showCheckedIn(answer.body, true);
    return;
  }
  const outcome = errorOutcome(answer);
  show(outcome);
  if (outcome.keepForm) {
    markInvalid(answer.status === 422);
  } else {
    ui.form.hidden = true;
    window.scrollTo(0, 0);
  }
}

// { token } plus the fields of the chosen tab, or null (and a message) when one is empty.
function identityBody() {
  markInvalid(false);
  if (activeTab() === "tab-badge") {
    // Base32 is upper case without spaces; a pasted code often has line breaks.
    const credential = ui.credential.value.replace(/\s+/g, "").toUpperCase();
    if (credential === "") {
      return missing(ui.credential, "Enter your badge code.");
    }
    ui.credential.value = credential;
    return { credential };
  }
  const attendeeId = ui.attendeeId.value.trim();
  const familyName = ui.familyName.value.trim();
  if (attendeeId === "") {
    return missing(ui.attendeeId, "Enter your registration number.");
  }
  if (familyName === "") {
    return missing(ui.familyName, "Enter your family name.");
  }
  return { attendee_id: attendeeId, family_name: familyName };
}

function missing(input, message) {
  show({ kind: "error", title: message, lines: [] });
  input.setAttribute("aria-invalid", "true");
  input.focus();
  return null;
}

// After a refusal the fields of the visible tab are marked (or unmarked) and the first
// one gets the focus, ready to correct.
function markInvalid(invalid) {
  for (const input of [ui.credential, ui.attendeeId, ui.familyName]) {
    input.removeAttribute("aria-invalid");
  }
  if (!invalid) {
    return;
  }
  const inputs = activeTab() === "tab-badge" ? [ui.credential] : [ui.attendeeId, ui.familyName];
  for (const input of inputs) {
    input.setAttribute("aria-invalid", "true");
  }
  inputs[0].focus();
}

// Resolves with request()'s answer (status 0: no answer); never throws.
function post(url, payload) {
  return request(url, { method: "POST", json: payload, timeoutMs: REQUEST_TIMEOUT_MS });
}

// ---- outcomes ------------------------------------------------------------------------------

function showCheckedIn(body, justIdentified) {
  const name = firstName(body?.attendee?.display_name);
  const label = text(body?.session?.label);
  const at = text(body?.checkin?.local_time);
  if (body?.status === "held") {
    // 202: recorded; the device clock is not confirmed yet, so no session is named.
    const lines = [
      { text: "Your check-in is recorded.", style: "result-line" },
      { text: "It will be filed under the right session as soon as the kiosk's clock is confirmed.", style: "result-note" },
    ];
    show({ kind: "ok", title: welcome(name), lines });
  } else if (body?.status === "already_held") {
    const lines = [{ text: "It will be filed under the right session as soon as the kiosk's clock is confirmed.", style: "result-note" }];
    show({ kind: "again", title: "Already recorded", lines });
  } else if (body?.status === "checked_out") {
    // Presence mode: this scan left the session.
    const lines = [{ text: label !== "" ? `You checked out of ${label}` : "You checked out", style: "result-line" }];
    lines.push({ text: `${duration(body?.minutes_present)} present${at !== "" ? `, left at ${at}` : ""}`, style: "result-note" });
    show({ kind: "out", title: goodbye(name), lines });
  } else if (body?.status === "already_checked_in" && body?.presence) {
    const leaving = body?.checkin?.kind === "checkout";
    const lines = [{ text: "Scanned twice: nothing changed.", style: "result-line" }];
    show({ kind: "again", title: `${leaving ? "Just checked out" : "Just checked in"}${at !== "" ? ` at ${at}` : ""}`, lines });
  } else if (body?.status === "already_checked_in") {
    const lines = [];
    const who = name !== "" ? `${name}, you` : "You";
    lines.push({ text: label !== "" ? `${who} are checked in for ${label}.` : `${who} are checked in.`, style: "result-line" });
    show({ kind: "again", title: at !== "" ? `Already checked in at ${at}` : "Already checked in", lines });
  } else {
    const lines = [{ text: label !== "" ? `You are checked in for ${label}` : "You are checked in", style: "result-line" }];
    if (at !== "") {
      const late = body?.checkin?.late === true ? " (late)" : "";
      lines.push({ text: `Checked in at ${at}${late}`, style: "result-note" });
    }
    if (body?.presence) {
      lines.push({ text: "Scan the screen's code again when you leave.", style: "result-note" });
    }
    show({ kind: "ok", title: welcome(name), lines });
  }
  ui.remembered.hidden = !justIdentified;
  window.scrollTo(0, 0);
}

function showIdentify() {
  show({ kind: "info", title: "First time on this phone" });
  ui.form.hidden = false;
}

// What to say about a refused or failed request: { kind, title, lines, keepForm, retry }.
function errorOutcome(answer) {
  if (answer.status === 0) {
    return outcome(NETWORK.title, NETWORK.hint, { keepForm: true, retry: true });
  }
  switch (answer.code) {
    case "token_expired":
      return outcome("This code has expired.", "Scan the code on the screen again.");
    case "invalid_token":
      return outcome("This link is not valid.", "Scan the code on the screen.");
    case "no_open_session":
      return outcome(answer.message || "Check-in is closed right now.", answer.hint);
    case "rate_limited":
      return outcome("Too many attempts, wait a minute", answer.hint || "Then try again.", {
        keepForm: true,
        retry: true,
      });
    default:
      break;
  }
  if (answer.status === 422) {
    // invalid_credential, identity_not_found and the like: the details can be corrected.
    return outcome(
      answer.message || "We could not find you with these details.",
      answer.hint || "Check them and try again, or ask at the registration desk.",
      { keepForm: true },
    );
  }
  if (answer.status === 400) {
    return outcome(answer.message || "That did not come through.", answer.hint || "Please try again.", {
      keepForm: true,
    });
  }
  const lines = [answer.message, answer.hint].filter((s) => s !== "");
  return outcome("Check-in did not work", lines.join(" ") || "Please try again, or ask at the registration desk.", {
    keepForm: answer.status >= 500,
    retry: answer.status >= 500,
  });
}

function outcome(title, line, { keepForm = false, retry = false } = {}) {
  const lines = line ? [{ text: line, style: "result-line" }] : [];
  return { kind: "error", title, lines, keepForm, retry };
}

// Replaces the content of the live region: { kind, title, lines: [{ text, style }] }.
function show({ kind, title, lines = [] }) {
  ui.result.dataset.kind = kind;
  ui.resultText.replaceChildren(el("h1", { class: "result-title" }, title), ...lines.map((line) => el("p", { class: line.style }, line.text)));
}

// ---- tabs (WAI-ARIA tabs: arrow keys move between them) -----------------------------------

function activeTab() {
  return ui.tabs.find((tab) => tab.getAttribute("aria-selected") === "true").id;
}

function selectTab(tab, focus) {
  for (const t of ui.tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    ui.panels[t.id].hidden = !selected;
  }
  markInvalid(false);
  if (focus) {
    tab.focus();
  }
}

function onTabKeydown(event) {
  const i = ui.tabs.indexOf(event.currentTarget);
  const keys = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: -1 };
  if (!(event.key in keys)) {
    return;
  }
  event.preventDefault();
  const n = ui.tabs.length;
  const j = event.key === "End" ? n - 1 : (keys[event.key] + n) % n;
  selectTab(ui.tabs[j], true);
}

// ---- start ---------------------------------------------------------------------------

for (const tab of ui.tabs) {
  tab.addEventListener("click", () => selectTab(tab, false));
  tab.addEventListener("keydown", onTabKeydown);
}
ui.form.addEventListener("submit", identify);
ui.retry.addEventListener("click", checkIn);
for (const input of [ui.credential, ui.attendeeId, ui.familyName]) {
  input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
}

if (token === "") {
  show({
    kind: "info",
    title: "Scan the code on the screen at the entrance",
    lines: [{ text: "Point your phone's camera at the QR code on the big screen, then open the link.", style: "result-line" }],
  });
} else {
  checkIn();
}
