// Real-browser test of the registry's office page (GET /office on course-registry): a
// registry with two cycles of data (tests/integration/office_fixture.py: its own
// PostgreSQL cluster, events pushed over the device protocol), a wrong password refused
// on the page, the login, an accent-blind search ("muller" finds Müller), an attendee's
// four modules at a glance (a completed cycle; another attendee's missing module, a
// module in part, a disagreement), the editions with their devices' sync health and the
// export links, the logout; no page errors, no inline scripts, at laptop and phone sizes;
// then, on a page whose timers the test drives, a kiosk syncing while the office looks on
// appears at the next automatic refresh.
//
// Needs COURSE_REGISTRY_BIN (CTest sets it when the registry is built); skipped without.
// Run: node --test office.test.mjs (tests/browser/run does the npm set-up first).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { SOURCE_DIR, STEP_MS, TEST_MS, VIEWPORTS, launchBrowser, shot, teardown, waitForValue, watchContext } from "./harness.mjs";

const REGISTRY_BIN = process.env.COURSE_REGISTRY_BIN;
const env = { fixture: null, lines: null, info: null, browser: null, page: null, seen: null };

// Starts the fixture and resolves with its JSON line (bounded).
function startFixture() {
  const child = spawn("python3", [path.join(SOURCE_DIR, "tests", "integration", "office_fixture.py")], {
    cwd: path.join(SOURCE_DIR, "tests", "integration"),
    env: { ...process.env, COURSE_REGISTRY_BIN: REGISTRY_BIN },
    stdio: ["pipe", "pipe", "pipe"],
  });
  env.fixture = child;
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  env.lines = readline.createInterface({ input: child.stdout });
  return nextLine(() => stderr);
}

// The fixture's next JSON line (bounded); it printing nothing or exiting is an error.
function nextLine(stderr) {
  const child = env.fixture;
  return new Promise((resolve, reject) => {
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`office_fixture.py exited ${code}: ${stderr()}`));
    };
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      reject(new Error(`office_fixture.py printed nothing in 60 s: ${stderr()}`));
    }, 60_000);
    env.lines.once("line", (line) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(JSON.parse(line));
    });
    child.once("exit", onExit);
  });
}

// One more check-in pushed by a fixture device over the protocol; resolves once committed.
function fixtureCheckin(device, attendee, session) {
  env.fixture.stdin.write(`checkin ${device} ${attendee} ${session}\n`);
  return nextLine(() => "");
}

function stopFixture() {
  const child = env.fixture;
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end();
  });
}

before(async () => {
  if (!REGISTRY_BIN) return;
  env.info = await startFixture();
  env.browser = await launchBrowser();
  const context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  context.setDefaultTimeout(STEP_MS);
  env.seen = watchContext(context);
  env.page = await context.newPage();
});

after(async () => {
  await stopFixture();
  if (env.browser) await teardown(env.browser);
});

function moduleCards(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#person-modules .module-card")].map((card) => ({
      module: card.dataset.module,
      state: card.dataset.state,
      text: card.textContent,
    })),
  );
}

test("the office: login, search, an attendee's cycle, editions and devices", { timeout: TEST_MS * 2, skip: !REGISTRY_BIN && "COURSE_REGISTRY_BIN is not set" }, async () => {
  const { page, info } = env;
  await page.goto(`${info.url}/office`, { waitUntil: "load", timeout: STEP_MS });
  await page.locator("#login-form").waitFor({ state: "visible" });
  await page.fill("#login-username", info.username);
  await page.fill("#login-password", "not the password");
  await page.click("#login-submit");
  await waitForValue(() => page.textContent("#alert-message"), (t) => t.includes("Wrong username or password"), { what: "the refusal" });
  await page.fill("#login-password", info.password);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#user-name"), info.username);

  // Accent-blind search; the list of everyone first.
  const results = () => page.evaluate(() => [...document.querySelectorAll(".result-button")].map((b) => b.dataset.attendeeId));
  await waitForValue(results, (ids) => ids.length === 3, { what: "everyone listed" });
  await page.fill("#search", "muller");
  await waitForValue(results, (ids) => ids.length === 1 && ids[0] === "A001", { what: "Müller found by muller" });

  // Lukas: modules 1 and 3... but lille-a's record claims more than the union.
  await page.click('.result-button[data-attendee-id="A001"]');
  await waitForValue(() => page.textContent("#person-name"), (t) => t === "Lukas Müller", { what: "Lukas's progress" });
  let cards = await moduleCards(page);
  assert.deepEqual(cards.map((c) => [c.module, c.state]), [["1", "complete"], ["2", "missing"], ["3", "open"], ["4", "open"]]);
  assert.match(cards[2].text, /2 of 3 sessions/);
  assert.match(cards[2].text, /Device records disagree: lille-a/);
  assert.match(cards[3].text, /1 of 3 sessions · 3\.0 CME credits/);
  assert.match(await page.textContent("#person-cycle"), /^1 of 4 modules complete/);
  assert.equal(await page.getAttribute("#person-cycle", "data-state"), "open");

  // Anna: the cycle is whole, in the order 2, 1, 4, 3.
  await page.fill("#search", "kowalska");
  await waitForValue(results, (ids) => ids.join() === "A002", { what: "Anna found" });
  await page.click('.result-button[data-attendee-id="A002"]');
  await waitForValue(() => page.getAttribute("#person-cycle", "data-state"), (s) => s === "complete", { what: "Anna's cycle complete" });
  assert.match(await page.textContent("#person-cycle"), /^ECNR cycle complete .*2026.* · 36\.0 CME credits$/);
  cards = await moduleCards(page);
  assert.deepEqual(cards.map((c) => c.state), ["complete", "complete", "complete", "complete"]);
  await shot(page, "office-attendee-laptop");
  await shot(page, "office-attendee-phone", { viewport: VIEWPORTS.phone, fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "the office page scrolls sideways on a phone");
  await page.setViewportSize(VIEWPORTS.laptop);

  // Everyone's cycle state: Anna's whole, Lukas's one of four; a name opens the modules.
  await page.click("#tab-button-cycles");
  const cycleRows = () =>
    page.evaluate(() =>
      [...document.querySelectorAll("#cycles-body tr")].map((tr) => [tr.dataset.attendeeId, tr.dataset.state, tr.children[1].textContent]),
    );
  const everyone = await waitForValue(cycleRows, (rows) => rows.length === 3, { what: "everyone's cycle" });
  assert.deepEqual(everyone.slice(0, 2), [
    ["A001", "open", "✓1·2·3·4"],
    ["A002", "complete", "✓1✓2✓3✓4"],
  ]);
  assert.match(await page.textContent("#cycles-count"), /^3 attendee\(s\), 1 with the ECNR cycle complete$/);
  await page.selectOption("#cycles-filter", "true");
  await waitForValue(cycleRows, (rows) => rows.length === 1 && rows[0][0] === "A002", { what: "only complete cycles" });
  await shot(page, "office-cycles-laptop");
  await page.click('#cycles-body .result-button[data-attendee-id="A002"]');
  await waitForValue(() => page.textContent("#person-name"), (t) => t === "Anna Kowalska", { what: "Anna's modules from the list" });

  // Editions and devices.
  await page.click("#tab-button-editions");
  const editions = () =>
    page.evaluate(() =>
      [...document.querySelectorAll("#editions-list .edition")].map((e) => ({
        id: e.dataset.moduleId,
        devices: [...e.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent)),
      })),
    );
  const shown = await waitForValue(editions, (list) => list.length === 4, { what: "four editions" });
  assert.deepEqual(shown.map((e) => e.id), ["ecnr-2025-2-m1", "ecnr-2026-1-m2", "ecnr-2026-1-m4", "ecnr-2026-2-m3"]);
  const lille = shown.find((e) => e.id === "ecnr-2026-2-m3").devices;
  assert.deepEqual(lille.map((row) => [row[0], row[2]]), [["lille-a", "5"], ["lille-b", "3"]]);
  assert.notEqual(lille[0][1], "never");
  assert.equal(await page.getAttribute('.edition[data-module-id="ecnr-2026-2-m3"] a[href*="format=csv"]', "href"), "/api/v1/export?format=csv&module_id=ecnr-2026-2-m3");
  // The export link answers a CSV with the session's cookie.
  const csv = await page.evaluate(async () => {
    const res = await fetch("/api/v1/export?format=csv&module_id=ecnr-2026-2-m3");
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  });
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  assert.match(csv.body, /A002;Anna Kowalska;ecnr-2026-2-m3;3;3;yes;9,0;/);
  await shot(page, "office-editions-laptop", { fullPage: true });

  // Log out: back to the login form, and the API refuses the old session.
  await page.click("#logout");
  await page.locator("#login-form").waitFor({ state: "visible" });
  const after = await page.evaluate(async () => (await fetch("/api/v1/session")).status);
  assert.equal(after, 401);

  assert.deepEqual(env.seen.pageErrors, []);
  assert.ok(env.seen.scripts.every((s) => s.status === 200 || s.status === 304), JSON.stringify(env.seen.scripts));
});

test("the office refreshes by itself: a kiosk's sync appears without a click", { timeout: TEST_MS, skip: !REGISTRY_BIN && "COURSE_REGISTRY_BIN is not set" }, async () => {
  const { info } = env;
  const context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  context.setDefaultTimeout(STEP_MS);
  const seen = watchContext(context);
  // The page's timers run on a clock the test holds: time flows until it is paused below.
  await context.clock.install();
  const page = await context.newPage();
  await page.goto(`${info.url}/office`, { waitUntil: "load", timeout: STEP_MS });
  await page.fill("#login-username", info.username);
  await page.fill("#login-password", info.password);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
  await page.click("#tab-button-editions");
  const lilleA = () => page.evaluate(() => {
    const row = [...document.querySelectorAll('.edition[data-module-id="ecnr-2026-2-m3"] tbody tr')].find((tr) => tr.children[0].textContent === "lille-a");
    return row ? row.children[2].textContent : null;
  });
  await waitForValue(lilleA, (n) => n === "5", { what: "lille-a's five events" });

  // Time stands still: lille-a syncs one more check-in, and the page has no reason to ask.
  const now = await page.evaluate(() => Date.now());
  await context.clock.pauseAt(now + 1_000);
  await fixtureCheckin("lille-a", "A003", "d1-am");
  assert.equal(await lilleA(), "5");
  // Ten seconds on: the automatic refresh shows it.
  await context.clock.runFor(10_000);
  await waitForValue(lilleA, (n) => n === "6", { what: "lille-a's new event after the refresh" });
  assert.deepEqual(seen.pageErrors, []);
  await context.close();
});
