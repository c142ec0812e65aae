// Real-browser test of the kiosk page (GET /): Debian's chromium, driven by
// playwright-core, against the real course-kiosk binary on an ephemeral port over a
// temporary data directory (set up the way tests/integration/kiosk.py does it).
//
// Environment (set by CTest):
//   COURSE_KIOSK_BIN         the course-kiosk binary
//   COURSE_KIOSK_SOURCE_DIR  the source tree (unused for now; kept for parity with kiosk.py)
//   CK_ARTIFACT_DIR          where screenshots go (default: ./test-artifacts/browser)
//
// Run: node --test kiosk.test.mjs (tests/browser/run does the npm set-up first).
// Every wait has a timeout; the browser, the server and the temporary directory are
// cleaned up in after(), also when a step fails.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const BIN = process.env.COURSE_KIOSK_BIN || "course-kiosk";
const ARTIFACT_DIR = path.resolve(process.env.CK_ARTIFACT_DIR || path.join("test-artifacts", "browser"));
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// The same module as tests/integration/kiosk.py: Europe/Paris, sessions on 2026-11-23.
const MODULE = {
  cycle: "2026-2",
  number: 3,
  venue: "Lille",
  timezone: "Europe/Paris",
  checkin_opens_before_min: 60,
  late_after_min: 15,
  days: [
    {
      date: "2026-11-23",
      sessions: [
        { id: "d1-am", label: "Monday morning", start: "08:30", end: "12:30", cme_hours: 3.5 },
        { id: "d1-pm", label: "Monday afternoon", start: "14:00", end: "18:00", cme_hours: 3.5 },
      ],
    },
    {
      date: "2026-11-24",
      sessions: [{ id: "d2-am", label: "Tuesday morning", start: "08:30", end: "12:30", cme_hours: 3.5 }],
    },
  ],
};
const IN_MORNING = "2026-11-23T08:40:00+01:00"; // d1-am open, not late
const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
];

const SMALL = { width: 800, height: 480 }; // the device's touchscreen
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

const STEP_MS = 10_000; // the longest any single wait may take
const TEST_MS = 60_000; // backstop per test (each takes a few seconds to ~15 s)
const RESULT_KINDS = { ok: "rgb(0, 92, 37)", again: "rgb(255, 179, 0)", error: "rgb(163, 0, 21)" };

// ---- shared state, torn down in after() -----------------------------------------------

const env = {
  tmp: null,
  data: null,
  server: null, // ChildProcess
  serverLog: [],
  origin: null,
  browser: null,
  page: null,
  requests: [], // every URL the page asked for
  pageErrors: [], // uncaught exceptions and console errors
  failedResponses: [], // "STATUS METHOD URL" of every answer >= 400
  pointerEvents: 0, // mouse / pointer / touch events seen by the page
  credentials: {}, // id -> QR text
};

// ---- helpers --------------------------------------------------------------------------

function runBin(...args) {
  try {
    return execFileSync(BIN, args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const why = err.code === "ENOENT" ? "not found (set COURSE_KIOSK_BIN)" : `exit ${err.status ?? err.signal}`;
    throw new Error(`${BIN} ${args.join(" ")} failed (${why}): ${err.stderr || err.message}`);
  }
}

// Starts `course-kiosk serve` and resolves with its origin once it prints
// "listening on http://127.0.0.1:PORT"; rejects if it exits first or after 20 s.
function startServer(data) {
  const child = spawn(BIN, ["serve", "--data", data, "--listen", "127.0.0.1:0"], {
    env: { ...process.env, COURSE_KIOSK_FAKE_TIME: IN_MORNING, COURSE_KIOSK_CLOCK_TRUSTED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  env.server = child;
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => env.serverLog.push(chunk));
  return new Promise((resolve, reject) => {
    let buffered = "";
    let done = false;
    const finish = (err, origin) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(origin);
    };
    const timer = setTimeout(
      () => finish(new Error(`server did not report "listening on" within 20 s:\n${env.serverLog.join("")}`)),
      20_000,
    );
    child.on("error", (err) => finish(new Error(`cannot start ${BIN}: ${err.message}`)));
    child.on("exit", (code, signal) =>
      finish(new Error(`server exited (${code ?? signal}) before listening:\n${env.serverLog.join("")}`)),
    );
    // Keep draining stdout after the line is found, so that the pipe never fills.
    child.stdout.on("data", (chunk) => {
      env.serverLog.push(chunk);
      if (done) return;
      buffered += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(buffered);
      if (m) finish(null, m[1]);
    });
  });
}

async function stopServer() {
  const child = env.server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = (ms) => new Promise((resolve) => setTimeout(resolve, ms, "timeout"));
  if ((await Promise.race([exited, timer(10_000)])) === "timeout") {
    child.kill("SIGKILL");
    await Promise.race([exited, timer(5_000)]);
  }
}

async function shot(name, viewport) {
  const page = env.page;
  if (viewport) await page.setViewportSize(viewport);
  const file = path.join(ARTIFACT_DIR, `${name}.png`);
  await page.screenshot({ path: file, animations: "disabled", timeout: STEP_MS });
  return file;
}

// Everything on the idle screen is inside the viewport (the body does not scroll, so
// anything outside would simply be cut off).
async function assertIdleFits(name) {
  const outside = await env.page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll("#idle > *, #idle .prompt > *, #clock, #scan")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < 0 || r.top < 0 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5) {
        bad.push(`${el.id || el.className}: ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
      }
    }
    return bad;
  });
  assert.deepEqual(outside, [], `${name}: elements outside the ${JSON.stringify(env.page.viewportSize())} viewport`);
}

// The scanner: a keyboard that types the code and presses Enter (or Tab).
async function scan(code, end = "Enter") {
  await env.page.keyboard.type(code);
  await env.page.keyboard.press(end);
}

// Waits until the result panel shows `kind` and its 120 ms fade has finished (fully
// opaque for an outcome, fully transparent when idle).
async function waitForKind(kind) {
  await env.page.waitForFunction(
    (want) => {
      const result = document.getElementById("result");
      const opacity = getComputedStyle(result).opacity;
      return result.dataset.kind === want && opacity === (want === "idle" ? "0" : "1");
    },
    kind,
    { timeout: STEP_MS },
  );
}

async function resultState() {
  return env.page.evaluate(() => {
    const result = document.getElementById("result");
    return {
      kind: result.dataset.kind,
      title: result.querySelector(".result-title")?.textContent ?? "",
      text: document.getElementById("result-text").innerText,
      background: getComputedStyle(result).backgroundColor,
      visible: getComputedStyle(result).visibility !== "hidden" && getComputedStyle(result).opacity !== "0",
      scanValue: document.getElementById("scan").value,
    };
  });
}

async function waitForScanFocus(timeout = STEP_MS) {
  await env.page.waitForFunction(() => document.activeElement?.id === "scan", null, { timeout });
}

async function postCheckin(credential) {
  const response = await fetch(`${env.origin}/api/v1/checkins`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ credential }),
    signal: AbortSignal.timeout(STEP_MS),
  });
  return { status: response.status, body: await response.json() };
}

// ---- set-up and tear-down -------------------------------------------------------------

// Last resort if the runner exits without after() (playwright closes its browser itself).
process.on("exit", () => {
  if (env.server && env.server.exitCode === null && env.server.signalCode === null) env.server.kill("SIGKILL");
});

before(async () => {
  fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
  env.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ck-browser-"));
  env.data = path.join(env.tmp, "data");

  const configPath = path.join(env.tmp, "config.json");
  fs.writeFileSync(configPath, JSON.stringify({ device_id: "test-kiosk", module: MODULE }));
  runBin("init", "--data", env.data, "--config", configPath);

  const rosterPath = path.join(env.tmp, "roster.csv");
  const rows = ["id,family_name,given_name,country", ...ROSTER.map((r) => r.join(","))];
  fs.writeFileSync(rosterPath, rows.join("\n") + "\n", "utf8");
  runBin("roster", "import", "--data", env.data, rosterPath);

  for (const [id] of ROSTER) {
    const [aid, text] = runBin("credential", "--data", env.data, id).trim().split("\n")[0].split("\t");
    assert.equal(aid, id);
    assert.match(text, /^[A-Z2-7]+$/, `credential of ${id} is upper-case base32`);
    env.credentials[id] = text;
  }

  env.origin = await startServer(env.data);

  env.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  // The device's screen is a touchscreen: (pointer: coarse), which also shows the page's
  // "Type a code" button.
  const context = await env.browser.newContext({ viewport: SMALL, locale: "en-GB", hasTouch: true });
  context.setDefaultTimeout(STEP_MS);
  context.on("request", (request) => env.requests.push(request.url()));
  env.page = await context.newPage();
  env.page.on("pageerror", (err) => env.pageErrors.push(`pageerror: ${err.message}`));
  env.page.on("console", (msg) => {
    // A failed load is logged by the browser itself; answers are checked via "response".
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
      env.pageErrors.push(`console.error: ${msg.text()}`);
    }
  });
  context.on("response", (response) => {
    if (response.status() >= 400) {
      env.failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  // The kiosk's browser runs on the device itself, so it shares the device's clock:
  // start the page clock at the server's fake time (it then runs normally).
  await env.page.clock.install({ time: new Date(IN_MORNING) });
  // Count pointer input, so that the scanner flow can be shown to need none.
  await env.page.addInitScript(() => {
    window.__pointerEvents = 0;
    for (const type of ["pointerdown", "mousedown", "touchstart", "click"]) {
      window.addEventListener(type, (e) => { if (e.isTrusted) window.__pointerEvents++; }, true);
    }
  });
}, { timeout: 90_000 });

after(async () => {
  const problems = [];
  try {
    const closing = env.browser ? env.browser.close() : Promise.resolve();
    const stuck = new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 15_000).unref());
    await Promise.race([closing, stuck]);
  } catch (err) {
    problems.push(`closing the browser: ${err.message}`);
  }
  try {
    await stopServer();
  } catch (err) {
    problems.push(`stopping the server: ${err.message}`);
  }
  try {
    if (env.serverLog.length > 0) fs.writeFileSync(path.join(ARTIFACT_DIR, "server.log"), env.serverLog.join(""));
  } catch {
    // the log is a convenience only
  }
  if (env.tmp) fs.rmSync(env.tmp, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(problems.join("; "));
}, { timeout: 30_000 });

// ---- the tests (in order; each builds on the one before) ------------------------------

test("the idle page loads with the open session and the scan input focused without a click", { timeout: TEST_MS }, async () => {
  const response = await env.page.goto(`${env.origin}/`, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  await env.page.waitForSelector('#session-line[data-state="open"]', { timeout: STEP_MS });
  await waitForScanFocus();

  const idle = await env.page.evaluate(() => ({
    title: document.getElementById("module-title").textContent,
    venue: document.getElementById("module-venue").textContent,
    session: document.getElementById("session-line").textContent,
    clock: document.getElementById("clock").textContent,
    kind: document.getElementById("result").dataset.kind,
  }));
  assert.match(idle.title, /^Module 3\b/);
  assert.equal(idle.venue, "Lille · Autumn 2026");
  assert.match(idle.session, /Check-in open: Monday morning 08:30–12:30/);
  assert.match(idle.clock, /^08:4\d$/);
  assert.equal(idle.kind, "idle");
  await assertIdleFits("idle-800x480");
  await shot("idle-800x480");
});

test("scanner flow: green welcome, amber already checked in, red for garbage — keyboard only", { timeout: TEST_MS }, async () => {
  const page = env.page;
  const chloe = env.credentials.A003;

  // 1. First scan: green, first name only (accented), and the session.
  await scan(chloe);
  await waitForKind("ok");
  let r = await resultState();
  assert.equal(r.title, "Welcome, Chloé!");
  assert.match(r.text, /Monday morning/);
  assert.doesNotMatch(r.text, /Dubois|D\./, "only the first name is shown");
  assert.equal(r.background, RESULT_KINDS.ok);
  assert.equal(r.visible, true);
  assert.equal(r.scanValue, "", "the input is cleared for the next scan");
  await waitForScanFocus(1000);
  await shot("green-800x480");

  // 2. The same badge again. The page ignores a repeat of the same code for ~2 s (a
  //    scanner held over a badge); the green panel stays up longer than that, so waiting
  //    for it to reset is enough.
  await waitForKind("idle");
  await waitForScanFocus(1000);
  await scan(chloe);
  await waitForKind("again");
  r = await resultState();
  assert.match(r.title, /^Chloé, you are already checked in$/);
  assert.match(r.text, /\bat 08:4\d\b/);
  assert.match(r.text, /Monday morning/);
  assert.equal(r.background, RESULT_KINDS.again);
  await shot("amber-800x480");

  // 3. Garbage, scanned while the amber panel is still up: it replaces it at once.
  await scan("HELLO-THIS-IS-NOT-A-BADGE");
  await waitForKind("error");
  r = await resultState();
  assert.equal(r.title, "This code could not be read");
  assert.ok(r.text.length > r.title.length, "the red panel says what to do");
  assert.doesNotMatch(r.text, /invalid_credential|[{}]|\b4\d\d\b|undefined|null/, "plain words only");
  assert.equal(r.background, RESULT_KINDS.error);
  await shot("red-800x480");

  // 4. After the reset delay the idle screen is back, empty, and the input still focused.
  await waitForKind("idle");
  r = await resultState();
  assert.equal(r.text, "");
  assert.equal(await page.isVisible("#scan-form"), true);
  await waitForScanFocus(1000);

  // 5. A scanner that ends its code with Tab instead of Enter.
  await scan(env.credentials.A002, "Tab");
  await waitForKind("ok");
  r = await resultState();
  assert.equal(r.title, "Welcome, Lukas!");
  await waitForScanFocus(1000);
  await waitForKind("idle");

  // All of it with no mouse, pointer or touch input at all.
  assert.equal(await page.evaluate(() => window.__pointerEvents), 0);
});

test("focus comes back to the input: clicking elsewhere, Tab away, the keyboard toggle", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await waitForKind("idle");

  // Clicking on non-focusable parts of the page.
  for (const selector of ["#module-title", "#session-line", ".prompt-title"]) {
    await page.click(selector, { timeout: STEP_MS });
    await waitForScanFocus(2000);
  }
  // Clicking the page's corner.
  await page.mouse.click(5, SMALL.height - 5);
  await waitForScanFocus(2000);

  // Tab moves focus away (to the toggle button); the page takes it back.
  await page.keyboard.press("Tab");
  await waitForScanFocus(2000);

  // The on-screen keyboard toggle: the input keeps focus and asks for a keyboard, then not.
  await page.click("#type-toggle", { timeout: STEP_MS });
  await waitForScanFocus(2000);
  assert.equal(await page.getAttribute("#type-toggle", "aria-pressed"), "true");
  assert.equal(await page.evaluate(() => document.getElementById("scan").inputMode), "text");
  await page.click("#type-toggle", { timeout: STEP_MS });
  await waitForScanFocus(2000);
  assert.equal(await page.getAttribute("#type-toggle", "aria-pressed"), "false");
  assert.equal(await page.evaluate(() => document.getElementById("scan").inputMode), "none");

  // A scan after all that still lands in the input (a tap on a result dismisses it).
  await scan(env.credentials.A001);
  await waitForKind("ok");
  assert.equal((await resultState()).title, "Welcome, Anna!");
  await page.tap("#result", { timeout: STEP_MS });
  await waitForKind("idle");
  await waitForScanFocus(2000);
});

test("idle screen at phone and laptop sizes", { timeout: TEST_MS }, async () => {
  await waitForKind("idle");
  for (const [name, viewport] of [
    ["idle-390x844", PHONE],
    ["idle-1280x800", LAPTOP],
  ]) {
    await env.page.setViewportSize(viewport);
    await assertIdleFits(name);
    await shot(name);
  }
  await env.page.setViewportSize(SMALL);
});

test("the page talks to the device only, and without errors", { timeout: TEST_MS }, async () => {
  assert.ok(env.requests.length > 0);
  const foreign = env.requests.filter((url) => !url.startsWith(`${env.origin}/`));
  assert.deepEqual(foreign, [], "requests to hosts other than the device");
  assert.ok(env.requests.some((url) => url === `${env.origin}/api/v1/checkins`));
  assert.ok(env.requests.some((url) => url === `${env.origin}/api/v1/module`));
  assert.deepEqual(env.pageErrors, []);
  // The only error answer is the garbage scan's.
  assert.deepEqual(env.failedResponses, [`422 POST ${env.origin}/api/v1/checkins`]);
});

test("the browser's check-in was recorded by the server", { timeout: TEST_MS }, async () => {
  const { status, body } = await postCheckin(env.credentials.A003);
  assert.equal(status, 200);
  assert.equal(body.status, "already_checked_in");
  assert.match(body.checkin.local_time, /^08:4\d$/);
});
