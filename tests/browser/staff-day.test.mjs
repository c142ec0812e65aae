// Real-browser test of the registration desk's day (issue 14, item 6): a walk-in added
// through the dashboard's form and their badge printed at once; a one-tap check-in from
// Today's Missing list undone with the keyboard (and the Undo gone by itself after a few
// seconds); and long unbreakable names that must not make any page scroll sideways: every
// tab and the attendee dialog of the dashboard, the kiosk page, the entrance display and
// the phone page, at 800x480, 1024x768 and 390x844.
//
// Run: node --test staff-day.test.mjs (tests/browser/run does the npm set-up first).
// Every wait is bounded and waits for a condition, never for a time; the Undo's time runs
// out on the page's installed clock (page.clock.runFor).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  IN_MORNING,
  Kiosk,
  STEP_MS,
  TEST_MS,
  VIEWPORTS,
  launchBrowser,
  loginStaff,
  shot,
  teardown,
  waitForValue,
  watchContext,
  zbarDecode,
} from "./harness.mjs";

const STAFF = "desk";
const PASSWORD = "correct horse battery";
// Names of 96 and 100 letters without a space (the roster's limit is 100 bytes), and the
// longest a roster allows for a given name.
const LONG_FAMILY = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswessenschafewarenwohl";
const LONG_GIVEN = "B".repeat(100);
const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
  ["L001", LONG_FAMILY, LONG_GIVEN, "DE"], // checked in at the kiosk: in Here
  ["L002", "A".repeat(100), "C".repeat(100), "AT"], // stays in Missing
];
const WALK_IN = { id: "W-200", family: "Papadopoulou", given: "Eleni", email: "eleni@example.org", country: "GR" };
const LONG_WALK_IN = { id: "L-WALK-IN-" + "9".repeat(54), family: "D".repeat(100), given: "E".repeat(100) };
const UNDO_REASON = "undone by staff (one-tap check-in)";
const UNDO_MS = 8000;
const SIZES = {
  small: VIEWPORTS.small, // 800x480, the device's touchscreen
  tablet: { width: 1024, height: 768 },
  phone: VIEWPORTS.phone, // 390x844
};
const TABS = ["today", "attendance", "roster", "completion", "audit", "sync"];

const env = { kiosk: null, browser: null, context: null, page: null, seen: null };

// ---- helpers --------------------------------------------------------------------------

function alertState(selector = "#alert") {
  return env.page.evaluate((sel) => {
    const box = document.querySelector(sel);
    return { kind: box.dataset.kind, message: box.querySelector(".alert-message").textContent };
  }, selector);
}

function todayLists() {
  return env.page.evaluate(() => {
    const ids = (list) => [...document.querySelectorAll(`#${list} li[data-attendee-id]`)].map((li) => li.dataset.attendeeId);
    const bar = document.getElementById("undo-bar");
    return {
      missing: ids("missing-list"),
      here: ids("present-list"),
      undoShown: !bar.hidden && getComputedStyle(bar).display !== "none",
      undoText: document.getElementById("undo-text").textContent,
    };
  });
}

async function selectTab(name) {
  await env.page.click(`#tab-${name}`);
  await env.page.locator(`#panel-${name}`).waitFor({ state: "visible", timeout: STEP_MS });
}

async function auditEntries() {
  await selectTab("audit");
  await env.page.click("#audit-refresh");
  return env.page.evaluate(() =>
    [...document.querySelectorAll("#audit-list li.audit-entry")].map((li) => ({ action: li.dataset.action, text: li.innerText })),
  );
}

async function fillWalkIn({ id = "", family = "", given = "", email = "", country = "" }) {
  await env.page.fill("#walkin-id", id);
  await env.page.fill("#walkin-family", family);
  await env.page.fill("#walkin-given", given);
  await env.page.fill("#walkin-email", email);
  await env.page.fill("#walkin-country", country);
  await env.page.click("#walkin-submit");
}

// What sticks out sideways on `page`: the document's own scroll width against the
// viewport, and every visible element whose box leaves the viewport (inside the boxes that
// scroll by design, the attendance grid and wide tables, the box itself is what counts),
// or whose content is wider than itself and shown (overflow visible).
function sideways(page, root = "body") {
  return page.evaluate((rootSelector) => {
    const width = window.innerWidth;
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > width) problems.push(`document scrollWidth ${doc.scrollWidth} > ${width}`);
    for (const el of document.querySelectorAll(`${rootSelector}, ${rootSelector} *`)) {
      if (el.closest("[hidden]") || el.closest("dialog:not([open])")) continue;
      const style = getComputedStyle(el);
      if (style.display === "none" || style.visibility === "hidden") continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""}`;
      const scroller = el.parentElement?.closest(".grid-wrap, .table-wrap");
      if (!scroller && (r.right > width + 1 || r.left < -1)) problems.push(`${name}: ${Math.round(r.left)}–${Math.round(r.right)}`);
      const clipsOrScrolls = style.overflowX !== "visible";
      if (!clipsOrScrolls && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && style.display !== "inline") {
        problems.push(`${name}: content ${el.scrollWidth} wider than ${el.clientWidth}`);
      }
    }
    return problems.slice(0, 10);
  }, root);
}

async function assertFits(page, what, root) {
  const problems = await sideways(page, root);
  assert.deepEqual(problems, [], `${what}: sticks out sideways`);
}

// ---- set-up and tear-down -------------------------------------------------------------

before(async () => {
  env.kiosk = new Kiosk("staff-day");
  env.kiosk.importRoster(ROSTER);
  env.kiosk.addStaff(STAFF, PASSWORD);
  await env.kiosk.start({ fakeTime: IN_MORNING, trusted: true });

  env.browser = await launchBrowser();
  env.context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  env.context.setDefaultTimeout(STEP_MS);
  env.seen = watchContext(env.context);
  env.page = await env.context.newPage();
  await env.page.clock.install({ time: new Date(IN_MORNING) });
  await loginStaff(env.page, env.kiosk.origin, STAFF, PASSWORD);
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

// ---- the tests (in order) -------------------------------------------------------------

test("a walk-in added through the form, refused when the number is missing or taken, and their badge printed", { timeout: 90_000 }, async () => {
  const page = env.page;
  await selectTab("roster");

  // No registration number: the device refuses it and the field says so.
  await fillWalkIn({ family: WALK_IN.family, given: WALK_IN.given });
  let alert = await waitForValue(() => alertState(), (a) => a.kind === "error", { what: "the missing-number error" });
  assert.match(alert.message, /\bid field is missing/);
  assert.equal(await page.getAttribute("#walkin-id", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "walkin-id");

  // A number already in the roster, typed in lower case.
  await fillWalkIn({ id: "a003", family: "Other", given: "Person" });
  alert = await waitForValue(() => alertState(), (a) => a.kind === "error" && /already in the roster/.test(a.message), {
    what: "the duplicate error",
  });
  assert.match(alert.message, /A003 is already in the roster \(Chloé Dubois\)/);
  assert.equal(await page.getAttribute("#walkin-open", "data-attendee-id"), "A003");

  await fillWalkIn(WALK_IN);
  alert = await waitForValue(() => alertState(), (a) => a.kind === "ok", { what: "the walk-in added" });
  assert.match(alert.message, /Eleni Papadopoulou \(W-200\) is added/);
  assert.equal(await page.textContent("#walkin-added"), "Added: Eleni Papadopoulou (W-200).");
  assert.equal(await page.inputValue("#walkin-id"), "", "the form is empty for the next person");
  assert.equal(await page.getAttribute("#walkin-id", "aria-invalid"), null);
  const badge = page.locator("#walkin-badge");
  assert.equal(await badge.getAttribute("href"), "/api/v1/badges?ids=W-200");
  assert.equal(await badge.getAttribute("target"), "_blank");
  await shot(page, "staff-walkin-added-1280x800");

  // "Print badge" opens the sheet of that one badge, whose QR code is their credential.
  const [sheet] = await Promise.all([env.context.waitForEvent("page", { timeout: STEP_MS }), badge.click()]);
  await sheet.waitForLoadState("load", { timeout: STEP_MS });
  assert.equal(new URL(sheet.url()).pathname + new URL(sheet.url()).search, "/api/v1/badges?ids=W-200");
  const badges = await sheet.evaluate(() => [...document.querySelectorAll(".badge")].map((b) => ({ id: b.dataset.attendeeId, text: b.innerText })));
  assert.equal(badges.length, 1);
  assert.equal(badges[0].id, "W-200");
  assert.match(badges[0].text, /Eleni/);
  assert.match(badges[0].text, /Papadopoulou/);
  await sheet.setViewportSize({ width: 900, height: 1200 });
  const file = await shot(sheet.locator(".badge .qr svg"), "staff-walkin-badge-qr");
  const credential = env.kiosk.credential("W-200");
  assert.deepEqual(zbarDecode(file), [credential]);
  await sheet.close();

  // The badge checks in at the kiosk, as any rostered attendee's.
  const checkin = await env.kiosk.postCheckin(credential);
  assert.equal(checkin.status, 201, JSON.stringify(checkin.body));
  assert.equal(checkin.body.status, "checked_in");
  assert.equal(checkin.body.checkin.not_in_roster ?? false, false);

  // "Open attendee" shows the new attendee with that check-in.
  await page.click("#walkin-open");
  await page.locator("#detail").waitFor({ state: "visible" });
  await waitForValue(() => page.textContent("#detail-meta"), (t) => /W-200 · GR · eleni@example.org/.test(t), { what: "the detail" });
  await waitForValue(() => page.locator("#detail-history-body tr[data-checkin-id]").count(), (n) => n === 1, { what: "the badge check-in" });
  await page.click("#detail-close");

  const entries = await waitForValue(auditEntries, (list) => list.some((e) => e.action === "walk_in"), { what: "the walk-in in the audit" });
  const walkIn = entries.find((e) => e.action === "walk_in");
  assert.match(walkIn.text, new RegExp(`${STAFF} added a walk-in attendee`));
  assert.match(walkIn.text, /W-200/);
  assert.match(walkIn.text, /Papadopoulou/);
  assert.equal(entries.filter((e) => e.action === "walk_in").length, 1, "the refused ones are not audited");
});

test("a one-tap check-in from Missing is undone with the keyboard; the person is back and the void is audited", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await selectTab("today");
  await waitForValue(todayLists, (t) => t.missing.includes("A003"), { what: "Chloé in Missing" });
  await page.click('#missing-list li[data-attendee-id="A003"] [data-testid="manual-checkin"]');
  let lists = await waitForValue(todayLists, (t) => t.here.includes("A003") && t.undoShown, { what: "Chloé here, with Undo" });
  assert.equal(lists.missing.includes("A003"), false);
  assert.equal(lists.undoText, "Chloé Dubois is checked in.");
  assert.equal(await page.getAttribute("#undo-text", "aria-live"), "polite");
  assert.equal(await page.getAttribute("#undo-button", "aria-label"), "Undo the check-in of Chloé Dubois");
  await shot(page, "staff-undo-1280x800");

  // The keyboard: Tab order reaches the button; Enter undoes.
  await page.locator("#undo-button").focus();
  await page.keyboard.press("Enter");
  lists = await waitForValue(todayLists, (t) => t.missing.includes("A003") && !t.here.includes("A003") && !t.undoShown, {
    what: "Chloé back in Missing, Undo gone",
  });
  const alert = await alertState();
  assert.equal(alert.kind, "ok");
  assert.equal(alert.message, "Undone: Chloé Dubois is not checked in.");
  // The focus is not lost: it is on Chloé's Check in button again.
  await waitForValue(() => page.evaluate(() => document.activeElement?.dataset?.focusKey ?? ""), (k) => k === "in-A003", {
    what: "the focus on Chloé's Check in button",
  });

  const detail = await env.kiosk.request("GET", "/api/v1/attendees/A003", {
    headers: { Cookie: (await env.context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ") },
  });
  assert.equal(detail.status, 200);
  assert.deepEqual(
    detail.body.checkins.map((c) => [c.source, c.voided, c.void_reason]),
    [["manual", true, UNDO_REASON]],
  );
  const entries = await waitForValue(auditEntries, (list) => list.some((e) => e.action === "void"), { what: "the void in the audit" });
  const voided = entries.find((e) => e.action === "void");
  assert.match(voided.text, new RegExp(`${STAFF} voided a check-in`));
  assert.match(voided.text, /Dubois, Chloé \(A003\)/);
  assert.match(voided.text, new RegExp(`reason: ${UNDO_REASON.replace(/[()]/g, "\\$&")}`));
  assert.ok(entries.findIndex((e) => e.action === "void") < entries.findIndex((e) => e.action === "manual_checkin"));

  // The Undo waits while the keyboard focus is on it, then goes once staff move on; the
  // check-in stays.
  await selectTab("today");
  await page.click('#missing-list li[data-attendee-id="A002"] [data-testid="manual-checkin"]');
  await waitForValue(todayLists, (t) => t.here.includes("A002") && t.undoShown, { what: "Lukas here, with Undo" });
  await page.mouse.move(0, 0);
  await page.locator("#undo-button").focus();
  await page.clock.runFor(UNDO_MS + 500);
  assert.equal((await todayLists()).undoShown, true, "kept while focused");
  await page.locator("#today-filter").focus();
  await page.clock.runFor(1500);
  lists = await waitForValue(todayLists, (t) => !t.undoShown, { what: "the Undo gone once the focus left" });
  assert.ok(lists.here.includes("A002"), "the check-in stays");

  // Left alone, it goes after its time.
  await page.click('#missing-list li[data-attendee-id="A001"] [data-testid="manual-checkin"]');
  await waitForValue(todayLists, (t) => t.here.includes("A001") && t.undoShown, { what: "Anna here, with Undo" });
  await page.mouse.move(0, 0);
  await page.clock.runFor(UNDO_MS - 1000);
  assert.equal((await todayLists()).undoShown, true, "still there before its time");
  await page.clock.runFor(1500);
  lists = await waitForValue(todayLists, (t) => !t.undoShown, { what: "the Undo gone by itself" });
  assert.ok(lists.here.includes("A001"), "the check-in stays");
});

test("long names without spaces never make a page scroll sideways, at 800x480, 1024x768 and 390x844", { timeout: 180_000 }, async () => {
  const page = env.page;
  // The long-named walk-in, added through the form, and L001 checked in at the kiosk.
  await selectTab("roster");
  await fillWalkIn(LONG_WALK_IN);
  await waitForValue(() => alertState(), (a) => a.kind === "ok" && a.message.includes(LONG_WALK_IN.id), { what: "the long walk-in added" });

  const kiosk = await env.context.newPage();
  const display = await env.context.newPage();
  const phoneContext = await env.browser.newContext({ viewport: SIZES.phone, isMobile: true, hasTouch: true, locale: "en-GB" });
  phoneContext.setDefaultTimeout(STEP_MS);
  try {
    await kiosk.setViewportSize(SIZES.small);
    await kiosk.goto(`${env.kiosk.origin}/`, { waitUntil: "load", timeout: STEP_MS });
    await waitForValue(() => kiosk.evaluate(() => document.activeElement?.id), (id) => id === "scan", { what: "the kiosk's scan input" });
    await kiosk.keyboard.type(env.kiosk.credential("L001"));
    await kiosk.keyboard.press("Enter");
    const kioskTitle = await waitForValue(
      () => kiosk.evaluate(() => ({ kind: document.getElementById("result").dataset.kind, title: document.getElementById("result").innerText })),
      (r) => r.kind === "ok",
      { what: "the kiosk's welcome" },
    );
    assert.ok(kioskTitle.title.includes(LONG_GIVEN), "the welcome names the attendee");
    for (const [size, viewport] of Object.entries(SIZES)) {
      await kiosk.setViewportSize(viewport);
      await assertFits(kiosk, `kiosk welcome at ${size}`);
      await shot(kiosk, `long-kiosk-${size}`);
    }

    await display.goto(`${env.kiosk.origin}/display`, { waitUntil: "load", timeout: STEP_MS });
    await waitForValue(
      () => display.evaluate(() => [...document.querySelectorAll("#recent-list .recent-name")].map((n) => n.textContent)),
      (names) => names.some((n) => n.includes(LONG_GIVEN)),
      { what: "the long name on the display" },
    );
    for (const [size, viewport] of Object.entries(SIZES)) {
      await display.setViewportSize(viewport);
      await assertFits(display, `display at ${size}`);
      await shot(display, `long-display-${size}`);
    }

    // The phone page: identified by number and the long family name, then welcomed.
    const state = await env.kiosk.request("GET", "/api/v1/display");
    assert.equal(state.status, 200);
    const phone = await phoneContext.newPage();
    await phone.goto(`${env.kiosk.origin}${state.body.token_url.replace(/^https?:\/\/[^/]+/, "")}`, { waitUntil: "load", timeout: STEP_MS });
    await phone.locator("#identify-form").waitFor({ state: "visible" });
    await phone.tap("#tab-registration");
    await phone.locator("#attendee-id").waitFor({ state: "visible" });
    await phone.fill("#attendee-id", "L002");
    await phone.fill("#family-name", "A".repeat(100));
    await assertFits(phone, "phone page's form with a long name typed");
    await phone.tap("#identify-submit");
    await waitForValue(() => phone.evaluate(() => document.getElementById("result").dataset.kind), (k) => k === "ok", {
      what: "the phone's welcome",
    });
    assert.ok((await phone.innerText("#result")).includes("C".repeat(100)), "the phone names the attendee");
    for (const [size, viewport] of Object.entries(SIZES)) {
      await phone.setViewportSize(viewport);
      await assertFits(phone, `phone page at ${size}`);
      await shot(phone, `long-phone-${size}`);
    }
  } finally {
    await kiosk.close();
    await display.close();
    await phoneContext.close();
  }

  // Every tab of the dashboard, and the attendee dialog, at each size. L001 and L002 are
  // in Here (kiosk, phone), the long walk-in in Missing.
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    for (const tab of TABS) {
      await selectTab(tab);
      if (tab === "today") {
        await waitForValue(todayLists, (t) => t.here.includes("L001") && t.here.includes("L002") && t.missing.includes(LONG_WALK_IN.id), {
          what: "the long names in Today's lists",
        });
      } else if (tab === "attendance") {
        await waitForValue(() => page.locator('#grid-body [data-attendee-id="L001"]').count(), (n) => n > 0, { what: "L001 in the grid" });
      } else if (tab === "completion") {
        await waitForValue(() => page.textContent("#completion-body"), (t) => t.includes("L001"), { what: "L001 in completion" });
      } else if (tab === "audit") {
        await waitForValue(() => page.textContent("#audit-list"), (t) => t.includes(LONG_WALK_IN.family), { what: "the long walk-in in the audit" });
      }
      await assertFits(page, `dashboard ${tab} at ${size}`, "#app");
      await shot(page, `long-staff-${tab}-${size}`);
    }
    await selectTab("today");
    await page.click('#present-list li[data-attendee-id="L001"] .name-button');
    await page.locator("#detail").waitFor({ state: "visible" });
    await waitForValue(() => page.locator("#detail-history-body tr[data-checkin-id]").count(), (n) => n === 1, { what: "L001's check-in" });
    assert.equal(await page.textContent("#detail-name"), `${LONG_GIVEN} ${LONG_FAMILY}`);
    await assertFits(page, `attendee dialog at ${size}`, "#detail");
    await shot(page, `long-staff-detail-${size}`);
    await page.click("#detail-close");
    await page.locator("#detail").waitFor({ state: "hidden" });
  }
});

test("the day's pages ran without script errors", { timeout: TEST_MS }, async () => {
  assert.deepEqual(env.seen.pageErrors, []);
  // The session asked for before the login and the refused walk-ins (422 and 409) are the
  // only answers >= 400.
  const failed = env.seen.failedResponses.map((r) => r.replace(/https?:\/\/[^/]+/, ""));
  assert.deepEqual(failed.sort(), ["401 GET /api/v1/session", "409 POST /api/v1/attendees", "422 POST /api/v1/attendees"]);
});
