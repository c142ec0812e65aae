// Presence mode in a real browser (SPEC section 10, issue 16): the kiosk's two answers at
// the door look different (entering: green with a tick; leaving: blue with an arrow out
// and the minutes so far), a double scan is amber, the device restarts between the entry
// and the exit, and the staff dashboard shows who left early and an attendee's stays, and
// records an exit by hand.
//
// Run: node --test presence.test.mjs (tests/browser/run does the npm set-up first).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { IN_MORNING, Kiosk, MODULE, STEP_MS, TEST_MS, VIEWPORTS, artifact, launchBrowser, loginStaff, teardown } from "./harness.mjs";

const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
];
const STAFF = "maria";
const PASSWORD = "correct horse battery";
const GREEN = "rgb(0, 92, 37)";
const BLUE = "rgb(11, 61, 145)";
const AMBER = "rgb(255, 179, 0)";

const env = { kiosk: null, browser: null, page: null, pageErrors: [], port: 0 };

async function startAt(fakeTime) {
  const listen = env.port ? `127.0.0.1:${env.port}` : "127.0.0.1:0";
  const origin = await env.kiosk.start({ fakeTime, trusted: true, listen });
  env.port = Number(new URL(origin).port);
  return origin;
}

async function scan(code) {
  await env.page.keyboard.type(code);
  await env.page.keyboard.press("Enter");
}

async function outcome(kind) {
  await env.page.waitForFunction(
    (want) => {
      const result = document.getElementById("result");
      return result.dataset.kind === want && getComputedStyle(result).opacity === "1";
    },
    kind,
    { timeout: STEP_MS },
  );
  return env.page.evaluate(() => {
    const result = document.getElementById("result");
    const icon = [...result.querySelectorAll(".result-icon")].find((svg) => getComputedStyle(svg).display !== "none");
    return {
      title: result.querySelector(".result-title")?.textContent ?? "",
      text: document.getElementById("result-text").innerText,
      background: getComputedStyle(result).backgroundColor,
      icon: icon?.getAttribute("class") ?? "",
    };
  });
}

async function idle() {
  await env.page.waitForFunction(() => document.getElementById("result").dataset.kind === "idle", null, { timeout: STEP_MS });
}

before(async () => {
  env.kiosk = new Kiosk("presence", { module: { ...MODULE, attendance: { mode: "presence" } } });
  env.kiosk.importRoster(ROSTER);
  env.kiosk.addStaff(STAFF, PASSWORD);
  for (const [id] of ROSTER) env.kiosk.credential(id);
  await startAt(IN_MORNING);
  env.browser = await launchBrowser();
  const context = await env.browser.newContext({ viewport: VIEWPORTS.small, locale: "en-GB", hasTouch: true });
  context.setDefaultTimeout(STEP_MS);
  env.page = await context.newPage();
  env.page.on("pageerror", (err) => env.pageErrors.push(`pageerror: ${err.message}`));
});

after(async () => {
  await teardown(env.browser, env.kiosk);
});

test("the kiosk: in is green with a tick, out is blue with the minutes, twice is amber", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await page.goto(`${env.kiosk.origin}/`, { waitUntil: "load", timeout: STEP_MS });
  await page.waitForFunction(() => document.getElementById("prompt-title").textContent.includes("in and out"), null, { timeout: STEP_MS });
  assert.match(await page.textContent("#prompt-help"), /when you come in and when you leave/);

  await scan(env.kiosk.credentials.A001);
  const entering = await outcome("ok");
  assert.equal(entering.title, "Welcome, Anna!");
  assert.equal(entering.background, GREEN);
  assert.match(entering.icon, /icon-ok/);
  assert.match(entering.text, /Scan again when you leave/);
  await page.screenshot({ path: artifact("presence-kiosk-in.png"), animations: "disabled" });

  // The same badge a moment later: a double scan, nothing recorded.
  await idle();
  await scan(env.kiosk.credentials.A001);
  const twice = await outcome("again");
  assert.equal(twice.background, AMBER);
  assert.match(twice.title, /just checked in/);

  // The device restarts (power cut, kill, update) between the entry and the exit; at
  // 10:15 Anna leaves: 95 minutes since 08:40, less the seconds the page took to scan.
  await env.kiosk.stop();
  await startAt("2026-11-23T10:15:00+01:00");
  await page.reload({ waitUntil: "load", timeout: STEP_MS });
  await scan(env.kiosk.credentials.A001);
  const leaving = await outcome("out");
  assert.equal(leaving.title, "Goodbye, Anna!");
  assert.equal(leaving.background, BLUE);
  assert.match(leaving.icon, /icon-out/);
  assert.match(leaving.text, /1 h 3[45] min in Monday morning/);
  await page.screenshot({ path: artifact("presence-kiosk-out.png"), animations: "disabled" });
  assert.deepEqual(env.pageErrors, []);
});

test("the dashboard: left early, an attendee's stays, an exit recorded by hand", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await page.setViewportSize(VIEWPORTS.laptop);
  // Lukas came in by hand at 10:15 and is inside.
  const session = await env.kiosk.request("POST", "/api/v1/session", { json: { username: STAFF, password: PASSWORD } });
  assert.equal(session.status, 200);
  const cookie = session.headers.get("set-cookie").split(";")[0];
  const manual = await env.kiosk.request("POST", "/api/v1/attendees/A002/checkins", {
    json: {},
    headers: { Cookie: cookie, "X-CSRF-Token": session.body.csrf_token },
  });
  assert.equal(manual.status, 201);

  await loginStaff(page, env.kiosk.origin, STAFF, PASSWORD);
  const card = page.locator('.session-card[data-session-id="d1-am"]');
  await card.filter({ hasText: "1 inside · 1 left early" }).waitFor({ timeout: STEP_MS });
  const left = page.locator('#left-list li[data-attendee-id="A001"]');
  await left.waitFor({ timeout: STEP_MS });
  assert.match(await left.innerText(), /left 10:15/);
  assert.match(await left.innerText(), /1 h 3[45] min/); // the entry was a few seconds after 08:40
  assert.match(await page.locator('#present-list li[data-attendee-id="A002"]').innerText(), /inside/);

  // Lukas's detail: inside, so staff may record when he left.
  await page.click('#present-list li[data-attendee-id="A002"] .name-button');
  await page.locator("#detail-presence").waitFor({ state: "visible", timeout: STEP_MS });
  assert.match(await page.locator("#detail-stays").innerText(), /10:15–now \(inside\)/);
  await page.locator("#exit-form").waitFor({ state: "visible", timeout: STEP_MS });
  await page.fill("#exit-time", "10:16");
  await page.fill("#exit-reason", "forgot to scan out");
  await page.screenshot({ path: artifact("presence-staff-exit.png"), animations: "disabled" });
  await page.click("#exit-confirm");
  await page.locator("#detail-stays").filter({ hasText: "10:15–10:16" }).waitFor({ timeout: STEP_MS });
  await page.locator("#exit-form").waitFor({ state: "hidden", timeout: STEP_MS });
  const history = await page.locator("#detail-history-body").innerText();
  assert.match(history, /exit/);

  // The attendance grid: minutes per session; Anna's morning is not enough (80% is 192).
  await page.click("#detail-close");
  await page.click("#tab-attendance");
  const cell = page.locator('tr[data-attendee-id="A001"] td.cell').first();
  await cell.filter({ hasText: "part" }).waitFor({ timeout: STEP_MS });
  assert.match(await cell.innerText(), /1 h 3[45] min/);
  assert.deepEqual(env.pageErrors, []);
});
