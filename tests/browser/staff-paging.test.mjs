// Real-browser test of a big roster on the dashboard (issue 14, item 14): the device pages
// the attendee list, and the dashboard shows it in pages. With 1,230 attendees, Today's
// Missing list shows the first 200 the device sends and says how many more there are (the
// filter finds anyone, on the device); the Attendance grid shows 500 rows and "Show more"
// adds the next 500, then the last 230; a poll round keeps the rows shown.
//
// Run: node --test staff-paging.test.mjs (tests/browser/run does the npm set-up first).
// Every wait is bounded and waits for a condition, never for a time.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { IN_MORNING, Kiosk, STEP_MS, VIEWPORTS, launchBrowser, loginStaff, teardown, waitForValue, watchContext } from "./harness.mjs";

const STAFF = "desk";
const PASSWORD = "correct horse battery";
const COUNT = 1230;
const id = (n) => `P${String(n).padStart(4, "0")}`;
const ROSTER = Array.from({ length: COUNT }, (_, i) => [id(i + 1), `Family${i + 1}`, `Given${i + 1}`, "FR"]);
const CHECKED_IN = [id(2), id(700), id(1229)];

const env = { kiosk: null, browser: null, page: null, seen: null };

function lists() {
  return env.page.evaluate(() => {
    const ids = (list) => [...document.querySelectorAll(`#${list} li[data-attendee-id]`)].map((li) => li.dataset.attendeeId);
    const note = document.getElementById("missing-more");
    return { missing: ids("missing-list"), here: ids("present-list"), note: note.hidden ? "" : note.textContent };
  });
}

function grid() {
  return env.page.evaluate(() => {
    const button = document.getElementById("grid-more");
    const rows = [...document.querySelectorAll("#grid-body tr")];
    return {
      rows: rows.length,
      first: rows[0]?.dataset.attendeeId ?? rows[0]?.querySelector("th, td")?.textContent ?? "",
      text: rows.map((r) => r.textContent).join("\n"),
      more: !button.hidden,
      label: button.textContent,
      count: document.getElementById("grid-count").textContent,
    };
  });
}

before(async () => {
  env.kiosk = new Kiosk("staff-paging");
  env.kiosk.importRoster(ROSTER);
  env.kiosk.addStaff(STAFF, PASSWORD);
  const credentials = CHECKED_IN.map((a) => env.kiosk.credential(a));
  await env.kiosk.start({ fakeTime: IN_MORNING, trusted: true });
  for (const credential of credentials) {
    const answer = await env.kiosk.postCheckin(credential);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
  }
  env.browser = await launchBrowser();
  const context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  context.setDefaultTimeout(STEP_MS);
  env.seen = watchContext(context);
  env.page = await context.newPage();
  await loginStaff(env.page, env.kiosk.origin, STAFF, PASSWORD);
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

test("Today shows the first 200 missing and how many more; the filter finds anyone", { timeout: 60_000 }, async () => {
  const shown = await waitForValue(lists, (l) => l.missing.length > 0 && l.here.length === CHECKED_IN.length, {
    what: "Today's lists",
  });
  assert.equal(shown.missing.length, 200);
  assert.deepEqual([...shown.here].sort(), [...CHECKED_IN].sort());
  assert.ok(!shown.missing.includes(id(2)), "someone here is not missing");
  assert.match(shown.note, new RegExp(`and ${COUNT - CHECKED_IN.length - 200} more`));

  // Someone far down the roster, found by the device's search.
  await env.page.fill("#today-filter", "Family1200");
  const found = await waitForValue(lists, (l) => l.missing.length === 1, { what: "the filtered Missing list" });
  assert.deepEqual(found.missing, [id(1200)]);
  assert.equal(found.note, "");
  await env.page.fill("#today-filter", "");
  await waitForValue(lists, (l) => l.missing.length === 200, { what: "the whole Missing list again" });
});

test("the Attendance grid shows 500 rows, and Show more adds the next pages", { timeout: 60_000 }, async () => {
  await env.page.click("#tab-attendance");
  await env.page.locator("#panel-attendance").waitFor({ state: "visible" });
  let g = await waitForValue(grid, (x) => x.rows > 0, { what: "the grid" });
  assert.equal(g.rows, 500);
  assert.ok(g.more, "Show more is offered");
  assert.match(g.label, /Show 500 more/);
  assert.ok(g.text.includes("Family500") && !g.text.includes("Family501"), "the first page is the first 500 by number");

  await env.page.click("#grid-more");
  g = await waitForValue(grid, (x) => x.rows === 1000, { what: "the second page" });
  assert.match(g.label, /Show 230 more/);
  assert.ok(g.text.includes("Family1000"));

  await env.page.click("#grid-more");
  g = await waitForValue(grid, (x) => x.rows === COUNT, { what: "the last page" });
  assert.ok(!g.more, "no more to show");
  assert.ok(g.text.includes(`Family${COUNT}`));

  // A poll round asks again for the pages shown: the rows stay.
  await env.page.click("#tab-today");
  await env.page.click("#tab-attendance");
  g = await waitForValue(grid, (x) => x.rows === COUNT, { what: "the grid after switching tabs" });
  assert.deepEqual(env.seen.pageErrors, [], "page errors or console errors");
});
