// Real-browser test of the staff dashboard (GET /staff) and the badge sheet
// (GET /api/v1/badges): Debian's chromium, driven by playwright-core, against the real
// course-kiosk binary over a temporary data directory (harness.mjs).
//
// One staff session, in order: a wrong password, the login, Today's counts, a manual
// check-in from the Missing list, voiding it from the attendee's detail, the audit log,
// a roster upload with one bad row, the attendance grid's search, the dashboard at three
// sizes, its ES modules (all loaded; page, styles and modules revalidated with 304s on
// a second visit), then the badge sheet: every QR code decoded with zbarimg and compared
// with `course-kiosk credential`, and the sheet printed to an A4 PDF.
//
// Run: node --test staff.test.mjs (tests/browser/run does the npm set-up first).
// Every wait is bounded; the browser, the server and the temporary directory are cleaned
// up in after(), also when a step fails.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  IN_MORNING,
  Kiosk,
  SOURCE_DIR,
  STEP_MS,
  TEST_MS,
  VIEWPORTS,
  artifact,
  launchBrowser,
  shot,
  teardown,
  waitForValue,
  watchContext,
  zbarDecode,
} from "./harness.mjs";

const STAFF = "jdupont";
const PASSWORD = "correct horse battery";
const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
  ["A004", "Rossi", "Giulia", "IT"],
  ["A005", "Novák", "Tomáš", "CZ"],
];
// Checked in with their badges before staff log in.
const ALREADY_HERE = ["A001", "A002"];
// Uploaded through the Roster tab: four good rows and one bad one (line 4: the id has a space).
const UPLOAD = [
  "id,family_name,given_name,country,email",
  "R100,Nowak,Piotr,PL,piotr@example.org",
  "R101,Łukasiewicz,Zoë,PL,",
  "bad id,Broken,Row,FR,",
  "R102,García,Inés,ES,",
  "R103,Virtanen,Aino,FI,",
];
const UPLOADED_IDS = ["R100", "R101", "R102", "R103"];
const BAD_LINE = 4;
const VOID_REASON = "scanned by mistake for a colleague";
const BADGES_PER_PAGE = 8; // 2 × 4 on an A4 sheet

const env = {
  kiosk: null,
  browser: null,
  context: null,
  page: null,
  seen: null, // watchContext(): requests, page errors, failed answers
};

// ---- helpers --------------------------------------------------------------------------

// What Today shows for the open session: the card's counts and both lists.
function todayState() {
  return env.page.evaluate(() => {
    const card = document.querySelector('.session-card[data-session-id="d1-am"]');
    const ids = (list) => [...document.querySelectorAll(`#${list} li[data-attendee-id]`)].map((li) => li.dataset.attendeeId);
    return {
      present: card?.querySelector('[data-count="present"]')?.textContent ?? null,
      card: card?.textContent ?? "",
      missingTitle: document.getElementById("missing-title").textContent,
      presentTitle: document.getElementById("present-title").textContent,
      missing: ids("missing-list"),
      here: ids("present-list"),
    };
  });
}

function alertState(selector = "#alert") {
  return env.page.evaluate((sel) => {
    const box = document.querySelector(sel);
    return {
      kind: box.dataset.kind,
      message: box.querySelector(".alert-message").textContent,
      hint: box.querySelector(".alert-hint").textContent,
    };
  }, selector);
}

function isHidden(selector) {
  return env.page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el === null || el.hidden || el.closest("[hidden]") !== null || getComputedStyle(el).display === "none";
  }, selector);
}

// The page's content fits the viewport's width (no sideways scrolling of the whole page).
async function horizontalOverflow() {
  return env.page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll("#app *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || el.closest(".grid-wrap, .table-wrap, [hidden]")) continue;
      if (r.right > width + 1) wide.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}.${el.className}: right ${Math.round(r.right)}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8) };
  });
}

// The scripts of web/ the dashboard is made of: staff.js, the staff-*.js modules it
// imports, and common.js. Sorted.
function dashboardScripts() {
  return fs.readdirSync(path.join(SOURCE_DIR, "web")).filter((f) => /^staff(-[a-z]+)?\.js$/.test(f) || f === "common.js").sort();
}

async function selectTab(name) {
  await env.page.click(`#tab-${name}`);
  await env.page.locator(`#panel-${name}`).waitFor({ state: "visible", timeout: STEP_MS });
}

// ---- set-up and tear-down -------------------------------------------------------------

before(async () => {
  env.kiosk = new Kiosk("staff");
  env.kiosk.importRoster(ROSTER);
  env.kiosk.addStaff(STAFF, PASSWORD);
  for (const [id] of ROSTER) env.kiosk.credential(id);
  await env.kiosk.start({ fakeTime: IN_MORNING, trusted: true });
  for (const id of ALREADY_HERE) {
    const { status, body } = await env.kiosk.postCheckin(env.kiosk.credentials[id]);
    assert.equal(status, 201, JSON.stringify(body));
  }

  env.browser = await launchBrowser();
  env.context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  env.context.setDefaultTimeout(STEP_MS);
  env.seen = watchContext(env.context);
  env.page = await env.context.newPage();
  // Staff's laptop and the device agree on the time (the device's is trusted): start the
  // page clock at the server's fake time, so that "Updated HH:MM:SS" matches it.
  await env.page.clock.install({ time: new Date(IN_MORNING) });
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

// ---- the tests (in order; each builds on the one before) ------------------------------

test("a wrong password shows an error and not the dashboard", { timeout: TEST_MS }, async () => {
  const page = env.page;
  const response = await page.goto(`${env.kiosk.origin}/staff`, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  await page.locator("#login-form").waitFor({ state: "visible" });
  assert.equal(await isHidden("#app"), true, "the dashboard is hidden before login");

  await page.fill("#login-username", STAFF);
  await page.fill("#login-password", "not the password");
  await page.click("#login-submit");
  const alert = await waitForValue(() => alertState(), (a) => a.kind === "error", { what: "the login error" });
  assert.match(alert.message, /wrong username or password/i);
  assert.equal(await page.locator("#alert").isVisible(), true, "the error is visible");
  assert.equal(await isHidden("#app"), true, "the dashboard stays hidden");
  assert.equal(await page.locator("#login-form").isVisible(), true);
  await shot(page, "staff-login-error-1280x800");
});

test("logging in shows Today with the open session's counts", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await page.fill("#login-username", STAFF);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
  assert.equal(await isHidden("#login-view"), true);
  assert.equal(await page.textContent("#user-name"), STAFF);
  assert.equal(await page.getAttribute("#tab-today", "aria-selected"), "true");

  const today = await waitForValue(todayState, (t) => t.present === "2" && t.here.length === 2, { what: "Today's counts" });
  assert.match(today.card, /Monday morning/);
  assert.match(today.card, /open now/);
  assert.match(today.card, /\/ 5 present/);
  assert.match(today.card, /0 late · 3 missing/);
  assert.equal(today.missingTitle, "Missing for Monday morning (3)");
  assert.equal(today.presentTitle, "Here for Monday morning (2)");
  assert.deepEqual(new Set(today.here), new Set(ALREADY_HERE));
  assert.deepEqual(new Set(today.missing), new Set(["A003", "A004", "A005"]));
  assert.match(await page.textContent("#today-date"), /5 attendees expected/);
  assert.match(await page.textContent("#open-session"), /Open: Monday morning 08:30–12:30/);
  assert.match(await page.textContent("#clock-state"), /^08:4\d · clock OK$/);
  await shot(page, "staff-today-1280x800");
});

test("manual check-in from the Missing list moves the person to Here", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await page.click('#missing-list li[data-attendee-id="A003"] [data-testid="manual-checkin"]');
  const today = await waitForValue(todayState, (t) => t.present === "3" && t.here.includes("A003"), {
    what: "Chloé in the Here list",
  });
  assert.equal(today.missing.includes("A003"), false);
  assert.equal(today.presentTitle, "Here for Monday morning (3)");
  assert.equal(today.missingTitle, "Missing for Monday morning (2)");
  const item = page.locator('#present-list li[data-attendee-id="A003"]');
  assert.match(await item.innerText(), /Dubois, Chloé/);
  assert.match(await item.innerText(), /08:4\d/);
  assert.match(await item.innerText(), /manual/);
  const alert = await alertState();
  assert.equal(alert.kind, "ok");
  // The check-in answer's display_name is the kiosk's "Chloé D." (first name and initial).
  assert.match(alert.message, /^Chloé( D\.| Dubois)? is checked in for Monday morning at 08:4\d\.$/);
  await shot(page, "staff-manual-checkin-1280x800");
});

test("voiding the check-in from the attendee's detail, with a reason", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await page.click('#present-list li[data-attendee-id="A003"] .name-button');
  await page.locator("#detail").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#detail-name"), "Chloé Dubois");
  const row = page.locator("#detail-history-body tr[data-checkin-id]");
  await row.first().waitFor({ state: "visible" });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /Monday morning/);
  assert.match(await row.innerText(), new RegExp(`manual by ${STAFF}`));
  assert.match(await row.innerText(), /\bvalid\b/);

  await row.locator('[data-testid="void-button"]').click();
  await page.locator("#void-form").waitFor({ state: "visible" });
  assert.match(await page.textContent("#void-what"), /Void the check-in for Monday morning at 08:4\d/);
  await page.fill("#void-reason", VOID_REASON);
  await page.click("#void-confirm");

  const status = await waitForValue(
    () => page.evaluate(() => document.querySelector("#detail-history-body tr[data-checkin-id] .tag")?.textContent ?? ""),
    (t) => t.startsWith("voided"),
    { what: "the check-in shown voided" },
  );
  assert.equal(status, `voided: ${VOID_REASON}`);
  assert.equal(await row.getAttribute("class"), "is-voided");
  assert.equal(await row.locator('[data-testid="void-button"]').count(), 0, "a voided check-in has no void button");
  assert.equal(await page.locator("#void-form").isVisible(), false);
  const alert = await alertState("#detail-alert");
  assert.equal(alert.kind, "ok");
  assert.match(alert.message, /void/i);
  assert.match(await page.textContent("#detail-completion"), /Sessions attended0 of 3/);
  await shot(page, "staff-detail-voided-1280x800");

  await page.click("#detail-close");
  await page.locator("#detail").waitFor({ state: "hidden" });
  const today = await waitForValue(todayState, (t) => t.present === "2" && t.missing.includes("A003"), {
    what: "Chloé back in the Missing list",
  });
  assert.equal(today.here.includes("A003"), false);
});

test("the audit log shows the void and the manual check-in with the staff name", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await selectTab("audit");
  const entries = await waitForValue(
    () =>
      page.evaluate(() =>
        [...document.querySelectorAll("#audit-list li.audit-entry")].map((li) => ({
          action: li.dataset.action,
          actor: li.querySelector(".audit-what strong")?.textContent ?? "",
          text: li.innerText,
        })),
      ),
    (list) => list.some((e) => e.action === "void") && list.some((e) => e.action === "manual_checkin"),
    { what: "the void and the manual check-in in the audit log" },
  );
  const voidAt = entries.findIndex((e) => e.action === "void");
  const manualAt = entries.findIndex((e) => e.action === "manual_checkin");
  assert.ok(voidAt < manualAt, "newest first: the void before the check-in it voided");
  const voided = entries[voidAt];
  assert.equal(voided.actor, STAFF);
  assert.match(voided.text, new RegExp(`${STAFF} voided a check-in`));
  assert.match(voided.text, /attendee: Dubois, Chloé \(A003\)/);
  assert.match(voided.text, /session: Monday morning, Mon 23 Nov/);
  assert.match(voided.text, new RegExp(`reason: ${VOID_REASON}`));
  const manual = entries[manualAt];
  assert.equal(manual.actor, STAFF);
  assert.match(manual.text, new RegExp(`${STAFF} checked in an attendee manually`));
  assert.match(manual.text, /attendee: Dubois, Chloé \(A003\)/);
  assert.ok(entries.some((e) => e.action === "login" && e.actor === STAFF), "the login is in the log");
  await shot(page, "staff-audit-1280x800");
});

test("roster upload reports the bad row's line number and imports the good rows", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await selectTab("roster");
  const file = path.join(env.kiosk.tmp, "new-attendees.csv");
  fs.writeFileSync(file, UPLOAD.join("\n") + "\n", "utf8");
  await page.setInputFiles("#roster-file", file);
  await page.click("#roster-upload");
  await page.locator("#roster-report").waitFor({ state: "visible" });
  await page.locator("#roster-report-table").waitFor({ state: "visible" });

  const summary = await page.textContent("#roster-summary");
  assert.match(summary, /^5 rows read: 4 imported \(4 new/);
  assert.match(summary, /1 not imported\.$/);
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll("#roster-report-body tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
  );
  assert.equal(rows.length, 1, JSON.stringify(rows));
  const [line, id, message, code] = rows[0];
  assert.equal(line, String(BAD_LINE));
  assert.equal(id, "bad id");
  assert.equal(code, "invalid_id");
  assert.ok(message.length > 0, "the problem is described");
  assert.equal(await isHidden("#roster-file-error"), true);
  await shot(page, "staff-roster-report-1280x800");
});

test("the new attendees appear in the attendance grid when searched for", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await selectTab("attendance");
  const gridIds = () => page.evaluate(() => [...document.querySelectorAll("#grid-body tr[data-attendee-id]")].map((tr) => tr.dataset.attendeeId));

  // Without a search: everyone, the old roster and the upload.
  const all = await waitForValue(gridIds, (ids) => ids.length === ROSTER.length + UPLOADED_IDS.length, { what: "the full grid" });
  for (const id of UPLOADED_IDS) assert.ok(all.includes(id), `${id} in the grid`);

  await page.fill("#search", "R10");
  const found = await waitForValue(gridIds, (ids) => ids.length === UPLOADED_IDS.length, { what: "the grid filtered to R10" });
  assert.deepEqual(new Set(found), new Set(UPLOADED_IDS));
  assert.equal(await page.textContent("#grid-count"), "4 of 9 match “R10”");
  const zoe = await page.locator('#grid-body tr[data-attendee-id="R101"]').innerText();
  assert.match(zoe, /Łukasiewicz, Zoë/);
  assert.match(zoe, /0\/3/);
  await shot(page, "staff-grid-search-1280x800");

  await page.fill("#search", "Virtanen");
  assert.deepEqual(await waitForValue(gridIds, (ids) => ids.length === 1, { what: "the grid filtered to Virtanen" }), ["R103"]);

  await page.fill("#search", "");
  await waitForValue(gridIds, (ids) => ids.length === 9, { what: "the grid without a search" });
});

test("the dashboard at laptop, phone and tablet sizes", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await selectTab("today");
  await waitForValue(todayState, (t) => t.here.length === 2 && t.missing.length === 7, { what: "Today with the new attendees" });
  // The roster import's notice would cover part of the page: dismiss it.
  if (await page.locator("#alert-close").isVisible()) await page.click("#alert-close");
  const overflow = {};
  for (const [name, viewport] of [
    ["staff-1280x800", VIEWPORTS.laptop],
    ["staff-390x844", VIEWPORTS.phone],
    ["staff-768x1024", VIEWPORTS.tablet],
  ]) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, name);
    overflow[name] = await horizontalOverflow();
  }
  await page.setViewportSize(VIEWPORTS.laptop);
  for (const [name, o] of Object.entries(overflow)) {
    assert.ok(o.scrollWidth <= o.width && o.wide.length === 0, `${name}: the page scrolls sideways: ${JSON.stringify(o)}`);
  }
});

test("the dashboard is ES modules: every staff script of web/ loaded as JavaScript", { timeout: TEST_MS }, async () => {
  assert.equal(await env.page.evaluate(() => document.querySelector('script[src="/staff.js"]')?.type), "module");
  const loaded = env.seen.scripts.map((s) => ({ ...s, name: new URL(s.url).pathname.slice(1) }));
  assert.deepEqual([...new Set(loaded.map((s) => s.name))].sort(), dashboardScripts());
  for (const script of loaded) {
    assert.equal(script.status, 200, script.url);
    assert.match(script.type, /^text\/javascript\b/, script.url);
  }
  assert.deepEqual(env.seen.pageErrors, [], "page errors or console errors");
});

test("a second visit revalidates the page, its styles and modules: 304 for each, and the dashboard works", { timeout: TEST_MS }, async () => {
  const page = await env.context.newPage(); // the same browser cache and session cookie
  try {
    // Chromium reports a revalidated file as the cached 200 it serves (also to
    // playwright); the 304 that came over the wire is in responseReceivedExtraInfo.
    const cdp = await env.context.newCDPSession(page);
    const files = new Map(); // requestId -> file name ("staff" for the page)
    const wire = new Map(); // requestId -> status on the wire
    cdp.on("Network.responseReceived", (e) => {
      if (["Document", "Stylesheet", "Script"].includes(e.type)) files.set(e.requestId, new URL(e.response.url).pathname.slice(1));
    });
    cdp.on("Network.responseReceivedExtraInfo", (e) => wire.set(e.requestId, e.statusCode));
    await cdp.send("Network.enable");
    await page.goto(`${env.kiosk.origin}/staff#today`, { waitUntil: "load", timeout: STEP_MS });
    await page.locator("#app").waitFor({ state: "visible" });
    await waitForValue(() => page.evaluate(() => document.querySelectorAll("#present-list li[data-attendee-id]").length), (n) => n === 2, {
      what: "Today drawn by the revalidated modules",
    });
    const expected = ["staff", "common.css", "staff.css", ...dashboardScripts()].sort();
    const statuses = await waitForValue(
      () => [...files].map(([id, name]) => `${wire.get(id) ?? "?"} ${name}`).sort(),
      (list) => list.length === expected.length && !list.some((line) => line.startsWith("?")),
      { what: "every file's status on the wire" },
    );
    assert.deepEqual(statuses, expected.map((name) => `304 ${name}`));
  } finally {
    await page.close();
  }
  assert.deepEqual(env.seen.pageErrors, [], "page errors or console errors");
});

test("the badge sheet: one QR code per attendee that decodes to their credential, and an A4 PDF", { timeout: 90_000 }, async () => {
  const page = env.page;
  await selectTab("roster");
  const everyone = [...ROSTER.map(([id]) => id), ...UPLOADED_IDS];

  // The dashboard's link opens the sheet in a new tab.
  const [popup] = await Promise.all([env.context.waitForEvent("page", { timeout: STEP_MS }), page.click("#badges-link")]);
  await popup.waitForLoadState("load", { timeout: STEP_MS });
  assert.equal(new URL(popup.url()).pathname, "/api/v1/badges");
  assert.equal(await popup.locator("[data-attendee-id]").count(), everyone.length);
  await popup.close();

  // Large enough to decode: A4 is 794 CSS px wide, a QR code 40 mm (151 px), × 2 device pixels.
  const context = await env.browser.newContext({ viewport: { width: 1240, height: 1754 }, deviceScaleFactor: 2 });
  try {
    context.setDefaultTimeout(STEP_MS);
    await context.addCookies(await env.context.cookies());
    const sheet = await context.newPage();
    const response = await sheet.goto(`${env.kiosk.origin}/api/v1/badges`, { waitUntil: "load", timeout: STEP_MS });
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html/);
    await shot(sheet, "badges-sheet-full", { fullPage: true });

    const badges = sheet.locator("[data-attendee-id]");
    const ids = await badges.evaluateAll((els) => els.map((el) => el.dataset.attendeeId));
    assert.deepEqual(new Set(ids), new Set(everyone));
    const wrong = [];
    for (const id of ids) {
      const badge = sheet.locator(`[data-attendee-id="${id}"]`);
      const file = await shot(badge, `badge-${id}`);
      const decoded = zbarDecode(file);
      const expected = env.kiosk.credential(id); // `course-kiosk credential --data D ID`
      if (decoded.length !== 1 || decoded[0] !== expected) wrong.push(`${id}: decoded ${JSON.stringify(decoded)}, expected ${expected}`);
      assert.match(await badge.innerText(), new RegExp(id));
    }
    assert.deepEqual(wrong, [], "every badge's QR code carries that attendee's credential");
    const chloe = await sheet.locator('[data-attendee-id="A003"]').innerText();
    assert.match(chloe, /Chloé/);
    assert.match(chloe, /Dubois/);

    // Printing: an A4 PDF with eight badges a page.
    const pdf = await sheet.pdf({ format: "A4", timeout: 30_000 });
    fs.writeFileSync(artifact("badges.pdf"), pdf);
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    const text = pdf.toString("latin1");
    // "/Type /Page" also matches "/Type /Pages" (the page tree), hence the subtraction.
    const pages = (text.match(/\/Type\s*\/Page/g) ?? []).length - (text.match(/\/Type\s*\/Pages/g) ?? []).length;
    const want = Math.ceil(everyone.length / BADGES_PER_PAGE);
    assert.equal(pages, want, `PDF pages for ${everyone.length} badges`);
    assert.match(text, new RegExp(`/Count ${want}\\b`), "the page tree counts the same pages");
  } finally {
    await context.close();
  }
});

test("the dashboard talked to the device only, and without errors", { timeout: TEST_MS }, async () => {
  const origin = env.kiosk.origin;
  const foreign = env.seen.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"));
  assert.deepEqual(foreign, [], "requests to hosts other than the device");
  assert.deepEqual(env.seen.pageErrors, []);
  // Expected refusals only: not logged in yet, then the wrong password.
  assert.deepEqual(env.seen.failedResponses, [`401 GET ${origin}/api/v1/session`, `401 POST ${origin}/api/v1/session`]);
});
