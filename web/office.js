// The education office (GET /office on course-registry): find an attendee, see their four
// ECNR modules and cycle at a glance, and see each edition's devices and their sync health;
// exports. The registry's office API under /api/v1 (docs/registry.md), with the staff
// dashboard's conventions: login with a cookie, X-CSRF-Token on every state-changing
// request (staff-api.js), server data into the page through textContent only (el()), and
// the server's message and hint in a polite live region. The attendee shown and the
// editions refresh every REFRESH_MS while the page is visible, so a demo or a module day
// can be watched filling up.

import { el, text } from "/common.js";
import { api, forget, onSessionLost, SESSION_URL, useSession } from "/staff-api.js";

const SEARCH_DELAY_MS = 250;
// While the page is visible the attendee shown and the editions follow the devices' syncs.
const REFRESH_MS = 10_000;
const $ = (id) => document.getElementById(id);

let user = null; // the logged-in user name, null when logged out
let searchTimer = 0;
let searchSerial = 0; // answers to older searches are dropped
let shownPerson = "";

// ---- messages -------------------------------------------------------------------------

function report(error) {
  const box = $("alert");
  box.dataset.kind = "error";
  $("alert-message").textContent = text(error?.message) || "Something went wrong.";
  $("alert-hint").textContent = text(error?.hint);
}

function clearAlert() {
  $("alert").dataset.kind = "idle";
  $("alert-message").textContent = "";
  $("alert-hint").textContent = "";
}

// ---- login and logout -------------------------------------------------------------------

function showLogin(note) {
  $("app").hidden = true;
  $("login-view").hidden = false;
  if (note) {
    $("login-note").textContent = note;
  }
  $("login-username").focus();
}

function signedIn(body) {
  useSession(body);
  user = text(body.username);
  $("user-name").textContent = text(body.username);
  $("login-view").hidden = true;
  $("app").hidden = false;
  showTab("attendees");
  search("");
  $("search").focus();
}

async function start() {
  try {
    signedIn((await api("GET", SESSION_URL)).body);
  } catch (error) {
    if (error.code !== "unauthenticated") {
      report(error);
    }
    showLogin("");
  }
}

async function logIn(event) {
  event.preventDefault();
  clearAlert();
  const username = $("login-username").value;
  const password = $("login-password").value;
  try {
    const { body } = await api("POST", SESSION_URL, { json: { username, password }, login: true });
    $("login-password").value = "";
    signedIn(body);
  } catch (error) {
    report(error);
  }
}

async function logOut() {
  try {
    await api("DELETE", SESSION_URL);
  } catch (error) {
    report(error);
  }
  forget();
  user = null;
  shownPerson = "";
  showLogin("You are logged out.");
}

// ---- sections ---------------------------------------------------------------------------

function showTab(name) {
  for (const button of document.querySelectorAll(".office-tab")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === name));
  }
  $("tab-attendees").hidden = name !== "attendees";
  $("tab-cycles").hidden = name !== "cycles";
  $("tab-editions").hidden = name !== "editions";
  if (name === "editions") {
    loadEditions();
  } else if (name === "cycles") {
    loadCycles();
  }
}

// ---- attendees --------------------------------------------------------------------------

function sortName(a) {
  const family = text(a.family_name);
  const given = text(a.given_name);
  return family && given ? `${family}, ${given}` : family || given || text(a.id);
}

async function search(query) {
  const serial = ++searchSerial;
  try {
    const { body } = await api("GET", `/api/v1/attendees?q=${encodeURIComponent(query)}`);
    if (serial !== searchSerial) {
      return;
    }
    const found = Array.isArray(body?.attendees) ? body.attendees : [];
    const items = found.map((a) =>
      el(
        "li",
        {},
        el(
          "button",
          { class: "result-button", type: "button", dataset: { attendeeId: text(a.id) }, "aria-current": String(text(a.id) === shownPerson) },
          sortName(a),
          " ",
          el("span", { class: "result-id" }, text(a.id)),
        ),
      ),
    );
    $("results").replaceChildren(...(items.length > 0 ? items : [el("li", { class: "empty" }, query ? "No attendee matches." : "No attendees yet.")]));
  } catch (error) {
    report(error);
  }
}

function dayWords(day) {
  if (!day) {
    return "";
  }
  const date = new Date(`${day}T12:00:00Z`);
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

function instantWords(at) {
  return at ? new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

function credits(value) {
  return `${Number(value ?? 0).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} CME credits`;
}

function moduleCard(number, m) {
  if (!m) {
    return el("section", { class: "module-card", dataset: { state: "missing", module: String(number) } }, el("h3", {}, `Module ${number}`), el("p", {}, "Not attended yet"));
  }
  const complete = Boolean(m.completed_at);
  const lines = [
    el("h3", {}, `Module ${number}`),
    el("p", {}, `${text(m.module_id)} · ${text(m.venue)}`),
    el("p", {}, `${dayWords(m.first_day)} – ${dayWords(m.last_day)}`),
    el("p", {}, `${m.sessions_attended} of ${m.sessions_total} sessions · ${credits(m.cme_credits)}`),
    el("p", { class: "state" }, complete ? `Completed ${instantWords(m.completed_at)}` : "Not complete"),
  ];
  if (m.disagreement) {
    const devices = (m.device_records ?? []).filter((r) => !r.agrees).map((r) => text(r.device_id));
    lines.push(el("p", { class: "warning" }, `Device records disagree: ${devices.join(", ")}`));
  }
  if (m.clock_untrusted > 0) {
    lines.push(el("p", { class: "warning" }, `${m.clock_untrusted} check-in(s) taken with an untrusted clock`));
  }
  return el("section", { class: "module-card", dataset: { state: complete ? "complete" : "open", module: String(number) } }, ...lines);
}

async function showPerson(id) {
  try {
    const { body } = await api("GET", `/api/v1/attendees/${encodeURIComponent(id)}/progress`);
    shownPerson = id;
    for (const button of document.querySelectorAll(".result-button")) {
      button.setAttribute("aria-current", String(button.dataset.attendeeId === id));
    }
    $("person-name").textContent = text(body.name) || id;
    $("person-id").textContent = id;
    const modules = [1, 2, 3, 4].map((n) => body.modules?.[String(n)] ?? null);
    const done = modules.filter((m) => m?.completed_at).length;
    const cycle = $("person-cycle");
    cycle.dataset.state = body.cycle_complete ? "complete" : "open";
    cycle.textContent = body.cycle_complete
      ? `ECNR cycle complete ${instantWords(body.cycle_completed_at)} · ${credits(body.cme_credits_total)}`
      : `${done} of 4 modules complete · ${credits(body.cme_credits_total)}`;
    $("person-modules").replaceChildren(...modules.map((m, i) => moduleCard(i + 1, m)));
    $("person").hidden = false;
  } catch (error) {
    report(error);
  }
}

// ---- cycles: everyone's cycle state (GET /api/v1/cycles) ----------------------------------

const CYCLES_SHOWN = 200; // rows drawn; the count says how many there are

async function loadCycles() {
  const filter = $("cycles-filter").value;
  try {
    const { body } = await api("GET", `/api/v1/cycles${filter ? `?cycle_complete=${filter}` : ""}`);
    const everyone = Array.isArray(body?.attendees) ? body.attendees : [];
    const complete = everyone.filter((a) => a.cycle_complete === true).length;
    $("cycles-count").textContent = `${everyone.length} attendee(s), ${complete} with the ECNR cycle complete`;
    const rows = everyone.slice(0, CYCLES_SHOWN).map((a) => {
      const done = new Set(Array.isArray(a.modules_completed) ? a.modules_completed : []);
      return el(
        "tr",
        { dataset: { attendeeId: text(a.attendee_id), state: a.cycle_complete ? "complete" : "open" } },
        el("td", {}, el("button", { class: "result-button", type: "button", dataset: { attendeeId: text(a.attendee_id) } }, text(a.name) || text(a.attendee_id), " ", el("span", { class: "result-id" }, text(a.attendee_id)))),
        el("td", { class: "modules-done" }, ...[1, 2, 3, 4].map((n) => el("span", { class: done.has(n) ? "module-done" : "module-open", title: `Module ${n}: ${done.has(n) ? "completed" : "not completed"}` }, done.has(n) ? `✓${n}` : `·${n}`))),
        el("td", { class: "number" }, Number(a.cme_credits_total ?? 0).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 })),
        el("td", {}, a.cycle_complete ? `complete ${instantWords(a.cycle_completed_at)}` : `${done.size} of 4`),
      );
    });
    $("cycles-body").replaceChildren(...rows);
    const more = everyone.length - rows.length;
    $("cycles-more").hidden = more <= 0;
    $("cycles-more").textContent = more > 0 ? `and ${more} more: find someone by name under Attendees, or export the list (Editions and devices).` : "";
  } catch (error) {
    report(error);
  }
}

// ---- editions ---------------------------------------------------------------------------

function exportLink(moduleId, format, words) {
  return el("a", { class: "button small", href: `/api/v1/export?format=${format}&module_id=${encodeURIComponent(moduleId)}`, download: true }, words);
}

function deviceRow(d) {
  const unusual = [];
  if (d.revoked) {
    unusual.push("token revoked");
  }
  if (d.clock_untrusted_checkins > 0) {
    unusual.push(`${d.clock_untrusted_checkins} check-in(s) with an untrusted clock`);
  }
  if (!d.last_contact) {
    unusual.push("never synced");
  }
  if (d.last_refusal) {
    unusual.push(`last batch refused: ${text(d.last_refusal.code)} (${instantWords(d.last_refusal.at)})`);
  }
  return el(
    "tr",
    { dataset: { deviceId: text(d.device_id) } },
    el("td", {}, text(d.device_id)),
    el("td", {}, d.last_contact ? instantWords(d.last_contact) : "never"),
    el("td", { class: "number" }, String(d.acked_through)),
    el("td", { class: unusual.length > 0 ? "warning" : "" }, unusual.join("; ") || "—"),
  );
}

async function loadEditions() {
  try {
    const { body } = await api("GET", "/api/v1/editions");
    const editions = Array.isArray(body?.editions) ? body.editions : [];
    const blocks = editions.map((e) =>
      el(
        "section",
        { class: "edition", dataset: { moduleId: text(e.module_id) } },
        el("h2", {}, `${text(e.module_id)} · module ${e.number} · ${text(e.venue)}`),
        el("p", {}, `${e.attendees} attendee(s) in the roster · export: `, exportLink(e.module_id, "csv", "CSV"), " ", exportLink(e.module_id, "json", "JSON")),
        e.devices.length === 0
          ? el("p", {}, "No device yet.")
          : el(
              "table",
              {},
              el("thead", {}, el("tr", {}, el("th", {}, "Device"), el("th", {}, "Last contact"), el("th", {}, "Events held"), el("th", {}, "Unusual"))),
              el("tbody", {}, ...e.devices.map(deviceRow)),
            ),
      ),
    );
    $("editions-list").replaceChildren(...(blocks.length > 0 ? blocks : [el("p", {}, "No module edition yet: course-registry module add FILE.json")]));
  } catch (error) {
    report(error);
  }
}

// ---- live ------------------------------------------------------------------------------

function currentTab() {
  return ["editions", "cycles"].find((name) => !$(`tab-${name}`).hidden) ?? "attendees";
}

function refresh() {
  if (user === null || document.hidden) {
    return;
  }
  if (currentTab() === "editions") {
    loadEditions();
  } else if (currentTab() === "cycles") {
    loadCycles();
  } else if (shownPerson !== "") {
    showPerson(shownPerson);
  }
}

// ---- wiring -----------------------------------------------------------------------------

onSessionLost(() => {
  if (user === null) {
    return; // not logged in yet (the first GET /api/v1/session)
  }
  user = null;
  forget();
  showLogin("Your session has ended. Please log in again.");
});
$("login-form").addEventListener("submit", logIn);
$("logout").addEventListener("click", logOut);
$("alert-close").addEventListener("click", clearAlert);
$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  search($("search").value);
});
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search($("search").value), SEARCH_DELAY_MS);
});
$("results").addEventListener("click", (event) => {
  const button = event.target.closest(".result-button");
  if (button) {
    showPerson(button.dataset.attendeeId);
  }
});
$("cycles-filter").addEventListener("change", loadCycles);
$("cycles-form").addEventListener("submit", (event) => event.preventDefault());
// A name in the list of cycles opens that attendee's modules.
$("cycles-body").addEventListener("click", (event) => {
  const button = event.target.closest(".result-button");
  if (button) {
    showTab("attendees");
    showPerson(button.dataset.attendeeId);
  }
});
for (const button of document.querySelectorAll(".office-tab")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}
setInterval(refresh, REFRESH_MS);
document.addEventListener("visibilitychange", refresh);
start();
