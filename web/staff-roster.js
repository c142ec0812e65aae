// Roster & exports tab: roster import (POST /api/v1/roster, CSV or JSON) with its
// per-row report, and the links to the badge sheet and the attendance exports.

import { el, text } from "/common.js";
import { api } from "/staff-api.js";
import { $, notify, report } from "/staff-dom.js";

let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  $("roster-form").addEventListener("submit", onUpload);
}

// While the tab is open: the exports are saved under the module's id.
export function show(snapshot) {
  const moduleId = text(snapshot.summary?.module?.id);
  const base = moduleId !== "" ? `attendance-${moduleId}` : "attendance";
  $("export-csv").download = `${base}.csv`;
  $("export-csv-semicolon").download = `${base}-semicolon.csv`;
  $("export-json").download = `${base}.json`;
}

async function onUpload(event) {
  event.preventDefault();
  const file = $("roster-file").files?.[0];
  if (!file) {
    notify("error", "Choose a roster file first.", "A .csv or .json file.");
    return;
  }
  const type = /\.json$/i.test(file.name) ? "application/json" : "text/csv";
  const button = $("roster-upload");
  button.disabled = true;
  button.textContent = "Importing…";
  try {
    const { body } = await api("POST", "/api/v1/roster", { body: file, type });
    renderReport(body);
    const rejected = Array.isArray(body?.rejected) ? body.rejected.length : 0;
    notify(body?.file_error || rejected > 0 ? "info" : "ok", summary(body));
    pollSoon();
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
    button.textContent = "Upload and import";
  }
}

// "5 rows read: 4 imported (4 new, 0 updated, 0 unchanged), 1 not imported."
function summary(r) {
  if (r?.file_error) {
    return "The file could not be imported.";
  }
  const rejected = Array.isArray(r?.rejected) ? r.rejected.length : 0;
  const counts = ["created", "updated", "unchanged"]
    .filter((k) => Number.isInteger(r?.[k]))
    .map((k) => `${r[k]} ${{ created: "new", updated: "updated", unchanged: "unchanged" }[k]}`);
  const detail = counts.length > 0 ? ` (${counts.join(", ")})` : "";
  return `${r?.rows_total ?? 0} rows read: ${r?.accepted ?? 0} imported${detail}, ${rejected} not imported.`;
}

function renderReport(r) {
  const rejected = Array.isArray(r?.rejected) ? r.rejected : [];
  $("roster-report").hidden = false;
  $("roster-summary").textContent = summary(r);
  const fileError = $("roster-file-error");
  fileError.hidden = !r?.file_error;
  fileError.textContent = r?.file_error ? `Nothing was imported: ${r.file_error}` : "";
  $("roster-report-table").hidden = rejected.length === 0;
  $("roster-report-body").replaceChildren(
    ...rejected.map((row) =>
      el(
        "tr",
        {},
        el("td", { class: "num" }, String(row.line ?? "")),
        el("td", {}, row.id === null || row.id === undefined ? "(none)" : String(row.id)),
        el("td", {}, text(row.message)),
        el("td", {}, el("code", {}, text(row.code))),
      ),
    ),
  );
}
