// Anchora's small progressive enhancements. Every page works without them.

const csrf = () => document.querySelector("main")?.dataset.csrf ?? "";

async function search(q, limit = 10) {
  const res = await fetch(`/api/v1/search?q=${encodeURIComponent(q)}&limit=${limit}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!res.ok) return [];
  return (await res.json()).data ?? [];
}

function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

// The command palette: Ctrl+K / Cmd+K, results as you type, arrows and Enter.
function palette() {
  const dialog = document.getElementById("palette");
  const input = document.getElementById("palette-input");
  const list = document.getElementById("palette-results");
  if (!dialog || !input || !list) return;
  const labels = JSON.parse(dialog.dataset.labels || "{}");
  let active = -1;
  const items = () => [...list.querySelectorAll("li[role=option]")];
  const mark = (i) => {
    const all = items();
    active = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((el, j) => el.setAttribute("aria-selected", String(j === active)));
    all[active]?.scrollIntoView({ block: "nearest" });
  };
  const open = () => {
    if (!dialog.open) dialog.showModal();
    input.select();
  };
  const render = (hits) => {
    list.replaceChildren();
    active = -1;
    if (!hits.length && input.value.trim()) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = list.dataset.empty;
      list.append(li);
      return;
    }
    for (const h of hits) {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      const a = document.createElement("a");
      a.href = `/o/${h.object}/${h.id}`;
      a.textContent = h.title || h.id;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = labels[h.object] ?? h.object;
      li.append(a, kind);
      list.append(li);
    }
    if (hits.length) mark(0);
  };
  const run = debounce(async () => {
    const q = input.value.trim();
    render(q ? await search(q) : []);
  }, 120);
  input.addEventListener("input", run);
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); mark(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); mark(active - 1); }
    else if (e.key === "Enter") {
      const a = items()[active]?.querySelector("a");
      if (a) { e.preventDefault(); location.href = a.href; }
    }
  });
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") { e.preventDefault(); open(); }
  });
  document.querySelectorAll("[data-palette-open]").forEach((b) => b.addEventListener("click", open));
  dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
}

// Relation fields: type a name, pick the record; its id travels in the hidden input.
function relations() {
  document.querySelectorAll("input[data-relation]").forEach((input, n) => {
    const hidden = input.previousElementSibling;
    const target = input.dataset.relation;
    const options = document.createElement("datalist");
    options.id = `relation-${n}`;
    input.setAttribute("list", options.id);
    input.after(options);
    let found = new Map();
    input.addEventListener("input", debounce(async () => {
      const q = input.value.trim();
      if (!q) { hidden.value = ""; return; }
      if (found.has(q)) { hidden.value = found.get(q); return; }
      const hits = (await search(q, 20)).filter((h) => h.object === target);
      found = new Map(hits.map((h) => [h.title, h.id]));
      options.replaceChildren(...hits.map((h) => {
        const o = document.createElement("option");
        o.value = h.title;
        return o;
      }));
      if (found.has(input.value.trim())) hidden.value = found.get(input.value.trim());
    }, 150));
    input.addEventListener("change", () => {
      const id = found.get(input.value.trim());
      if (id) hidden.value = id;
      else if (!input.value.trim()) hidden.value = "";
    });
  });
}

// The filter builder offers only the conditions that fit the chosen field.
function filters() {
  document.querySelectorAll("select[data-filter-field]").forEach((field) => {
    const op = field.closest(".condition")?.querySelector("select[data-filter-op]");
    if (!op) return;
    const fit = () => {
      const ops = (field.selectedOptions[0]?.dataset.ops ?? "").split(" ").filter(Boolean);
      for (const o of op.options) o.hidden = ops.length > 0 && !ops.includes(o.value);
      if (op.selectedOptions[0]?.hidden) op.value = ops[0] ?? op.value;
    };
    field.addEventListener("change", fit);
    fit();
  });
}

function toast(text) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(t.hideTimer);
  t.hideTimer = setTimeout(() => t.classList.remove("show"), 6000);
}

// Kanban: drag a card to another column; the move is a write with the card's version, so a
// card someone else moved first shows where it is now instead of being overwritten.
function board() {
  const root = document.querySelector(".board");
  if (!root) return;
  const { object, by } = root.dataset;
  const columnOf = (value) => root.querySelector(`.column[data-value="${CSS.escape(value)}"]`);
  const count = (column, sign) => {
    const c = column.querySelector(".count");
    c.dataset.count = String(Number(c.dataset.count) + sign);
    c.textContent = c.dataset.count;
  };
  // Sums are in the reporting currency with rates, breakdowns and warnings the server keeps:
  // after a move every column's totals are read again from it rather than worked out here; of
  // two quick moves only the later answer is used.
  let asked = 0;
  const refreshTotals = async () => {
    const mine = ++asked;
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return;
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    if (mine !== asked) return;
    for (const column of root.querySelectorAll(".column")) {
      const value = CSS.escape(column.dataset.value);
      const fresh = page.querySelector(`.column[data-value="${value}"] .totals`);
      const old = column.querySelector(".totals");
      if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    }
  };
  const place = (card, column) => {
    const from = card.closest(".column");
    if (from === column) return;
    count(from, -1);
    column.querySelector(".cards").prepend(card);
    count(column, +1);
    refreshTotals().catch(() => {});
    const select = card.querySelector("select[name=to]");
    if (select) select.value = column.dataset.value;
  };
  root.addEventListener("dragstart", (e) => {
    const card = e.target.closest?.(".card");
    if (!card) return;
    e.dataTransfer.setData("text/plain", card.dataset.id);
    e.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  root.addEventListener("dragend", (e) => e.target.closest?.(".card")?.classList.remove("dragging"));
  root.querySelectorAll(".column").forEach((column) => {
    column.addEventListener("dragover", (e) => { e.preventDefault(); column.classList.add("over"); });
    column.addEventListener("dragleave", () => column.classList.remove("over"));
    column.addEventListener("drop", async (e) => {
      e.preventDefault();
      column.classList.remove("over");
      const id = e.dataTransfer.getData("text/plain");
      const card = root.querySelector(`.card[data-id="${CSS.escape(id)}"]`);
      if (!card || card.closest(".column") === column) return;
      const res = await fetch(`/api/v1/records/${object}/${id}`, {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "If-Match": `"${card.dataset.version}"`,
          "X-CSRF-Token": csrf(),
        },
        body: JSON.stringify({ [by]: column.dataset.value }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        card.dataset.version = String(body.version);
        card.querySelector("input[name=version]")?.setAttribute("value", String(body.version));
        place(card, column);
      } else if (res.status === 412 && body.current) {
        const now = columnOf(String(body.current[by] ?? ""));
        card.dataset.version = String(body.current.version);
        card.querySelector("input[name=version]")?.setAttribute("value", String(body.current.version));
        if (now) place(card, now);
        toast(root.dataset.conflict.replace("{stage}", now?.dataset.label ?? body.current[by]));
      } else {
        toast(root.dataset.failed);
      }
    });
  });
}

// Inline edit on record pages: click a value, Enter saves (with the record's version), Esc
// cancels; a validation error appears under the field, a conflict reloads the other version.
function inlineEdit() {
  const dl = document.querySelector("dl.inline");
  const inputs = document.getElementById("inline-fields");
  if (!dl || !inputs) return;
  const { object, id } = dl.dataset;
  dl.title = dl.dataset.hint;
  dl.querySelectorAll("dd[data-field]").forEach((dd) => {
    const proto = inputs.content.querySelector(`input[data-for="${dd.dataset.field}"]`);
    if (!proto) return;
    dd.tabIndex = 0;
    dd.classList.add("editable");
    const start = (e) => {
      if (e.target.closest("a") || dd.querySelector("input")) return;
      const before = dd.innerHTML;
      const input = proto.cloneNode(true);
      dd.replaceChildren(input);
      input.focus();
      input.select?.();
      const cancel = () => { dd.innerHTML = before; dd.focus(); };
      input.addEventListener("keydown", async (k) => {
        if (k.key === "Escape") { k.preventDefault(); cancel(); }
        if (k.key !== "Enter") return;
        k.preventDefault();
        const form = new URLSearchParams({
          csrf: csrf(),
          field: dd.dataset.field,
          value: input.value,
          version: dl.dataset.version,
        });
        const res = await fetch(`/o/${object}/${id}/field`, { method: "POST", credentials: "same-origin", body: form });
        if (res.ok) { location.reload(); return; }
        const problem = await res.json().catch(() => ({}));
        if (res.status === 412) { toast(dl.dataset.conflict); setTimeout(() => location.reload(), 1500); return; }
        dd.querySelector(".field-error")?.remove();
        const p = document.createElement("p");
        p.className = "field-error";
        p.setAttribute("role", "alert");
        p.textContent = problem.error ?? "";
        input.setAttribute("aria-invalid", "true");
        dd.append(p);
      });
    };
    dd.addEventListener("click", start);
    dd.addEventListener("keydown", (k) => { if (k.key === "Enter" && k.target === dd) start(k); });
  });
}

// Bulk actions: select all, and show only the inputs the chosen action needs.
function bulk() {
  const form = document.getElementById("bulk");
  if (!form) return;
  const all = document.querySelector("input[data-select-all]");
  all?.addEventListener("change", () => {
    document.querySelectorAll('input[name=ids][form=bulk]').forEach((c) => { c.checked = all.checked; });
  });
  const action = form.querySelector("select[name=action]");
  const show = () => form.querySelectorAll("[data-bulk]").forEach((el) => { el.hidden = el.dataset.bulk !== action.value; });
  action.addEventListener("change", show);
  show();
  // The bar is there only while rows are ticked (without script it stays, as a plain form).
  const ticked = () => {
    const n = document.querySelectorAll('input[name=ids][form=bulk]:checked').length;
    form.hidden = n === 0;
    const count = form.querySelector("[data-ticked]");
    if (count) count.textContent = count.dataset.ticked.replace("{count}", n);
  };
  document.addEventListener("change", (e) => {
    if (e.target.matches?.('input[name=ids][form=bulk], input[data-select-all]')) ticked();
  });
  ticked();
}

// "?" lists the keyboard shortcuts (when not typing).
function shortcuts() {
  const dialog = document.getElementById("shortcuts");
  if (!dialog) return;
  document.addEventListener("keydown", (e) => {
    const typing = e.target.closest?.("input, textarea, select, [contenteditable]");
    if (e.key === "?" && !typing && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      if (!dialog.open) dialog.showModal();
    }
  });
}

// Choosing a language applies it at once.
function autosubmit() {
  document.querySelectorAll("select[data-autosubmit]").forEach((s) => {
    s.addEventListener("change", () => s.form?.requestSubmit());
    s.form?.querySelector("button")?.classList.add("visually-hidden");
  });
}

// A page that watches a running job (an import) reloads itself until the job is done.
function refresh() {
  const el = document.querySelector("[data-refresh]");
  const ms = Number(el?.dataset.refresh);
  if (ms > 0) setTimeout(() => location.reload(), ms);
}

// A job's progress panel moves on by itself: every second the server's panel for the job is
// fetched and put in its place; once the job has ended, a page that started it is reloaded
// (without the job) to show what it came to, or the panel stays to say why it failed.
function watchJobs() {
  for (const panel of document.querySelectorAll(".job-panel[data-job]")) {
    // Done before the page was drawn: show what it came to at once.
    if (panel.dataset.state === "succeeded") {
      location.replace(panel.dataset.doneHref || "/jobs");
      return;
    }
    if (["failed", "cancelled"].includes(panel.dataset.state)) continue;
    let current = panel;
    const look = async () => {
      const back = encodeURIComponent(current.dataset.doneHref || "/jobs");
      const res = await fetch(`/jobs/${current.dataset.job}/panel?back=${back}`, { credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.querySelector(".job-panel");
      if (!fresh) return;
      if (fresh.dataset.state === "succeeded") {
        location.replace(fresh.dataset.doneHref || "/jobs");
        return;
      }
      const node = document.importNode(fresh, true);
      current.replaceWith(node);
      current = node;
      if (fresh.dataset.state !== "failed" && fresh.dataset.state !== "cancelled") setTimeout(tick, 1000);
    };
    const tick = () => look().catch(() => setTimeout(tick, 3000));
    setTimeout(tick, 1000);
  }
}

// The selection builder counts as it is built: each change sends the form to the server, which
// counts with the same use case as the API, and the count is put in its place. Choosing another
// object or a saved view rebuilds the form.
function selectionBuilder() {
  const form = document.querySelector("form[data-selection-builder]");
  const out = document.getElementById("selection-count");
  if (!form || !out) return;
  form.querySelectorAll("[data-rebuild]").forEach((s) => s.addEventListener("change", () => form.requestSubmit()));
  let asked = 0;
  const recount = debounce(async () => {
    const mine = ++asked;
    const body = new URLSearchParams(new FormData(form));
    body.set("step", "count");
    const res = await fetch(form.action, { method: "POST", credentials: "same-origin", body });
    if (!res.ok || mine !== asked) return;
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = page.getElementById("selection-count");
    if (fresh && mine === asked) out.innerHTML = fresh.innerHTML;
  }, 300);
  form.addEventListener("input", (e) => { if (!e.target.matches("[data-rebuild]")) recount(); });
  form.addEventListener("change", (e) => { if (!e.target.matches("[data-rebuild]")) recount(); });
}

// A template's languages as tabs: one shown at a time (without script, all are shown).
function variantTabs() {
  const bar = document.querySelector("[data-variant-tabs]");
  if (!bar) return;
  const tabs = [...bar.querySelectorAll("[role=tab]")];
  const show = (id) => {
    for (const t of tabs) t.setAttribute("aria-selected", String(t.dataset.tab === id));
    document.querySelectorAll("[data-variant]").forEach((p) => { p.hidden = p.id !== id; });
  };
  tabs.forEach((t) => t.addEventListener("click", () => show(t.dataset.tab)));
  const open = document.querySelector("[data-variant][data-open=true]") ?? document.querySelector("[data-variant]");
  if (open) show(open.id);
}

// A sandboxed frame (a template's preview, a printed sheet) as tall as what it shows. The frame
// runs no script of its own; only its size is read.
function fitFrames() {
  document.querySelectorAll("iframe[data-fit]").forEach((frame) => {
    const fit = () => {
      try {
        const doc = frame.contentDocument;
        if (doc) frame.style.height = `${Math.max(120, doc.documentElement.scrollHeight + 4)}px`;
      } catch (_) { /* a frame we may not read keeps its size */ }
    };
    frame.addEventListener("load", fit);
    fit();
  });
}

// A start time typed in the browser's own time: shown in it, and sent with its offset from UTC.
function localTimes() {
  const pad = (n) => String(n).padStart(2, "0");
  document.querySelectorAll("input[data-local-time]").forEach((input) => {
    const offset = document.querySelector(`input[data-offset-for="${input.id}"]`);
    if (input.dataset.utc) {
      const d = new Date(input.dataset.utc);
      if (!Number.isNaN(d.getTime())) {
        input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      }
    }
    const set = () => {
      const d = new Date(input.value);
      if (offset) offset.value = Number.isNaN(d.getTime()) ? "0" : String(d.getTimezoneOffset());
    };
    input.form?.addEventListener("submit", set);
    set();
  });
  document.querySelectorAll("input[data-local-zone]").forEach((input) => {
    if (!input.value) input.value = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";
  });
}

// A mailing that is sending: its progress, counts and recipients follow by themselves; when it
// stops sending the page is drawn again (its buttons change).
function watchMailing() {
  const live = document.querySelector("[data-mailing-live]");
  if (!live || live.dataset.state !== "sending") return;
  const tick = async () => {
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) { setTimeout(tick, 3000); return; }
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = page.querySelector("[data-mailing-live]");
    if (!fresh) return;
    if (fresh.dataset.state !== "sending") {
      // Drawn again without the notice of the step that started it.
      const next = new URL(location.href);
      next.searchParams.delete("did");
      location.replace(next);
      return;
    }
    for (const id of ["mailing-live", "recipients"]) {
      const old = document.getElementById(id);
      const next = page.getElementById(id);
      if (old && next) old.replaceWith(document.importNode(next, true));
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

// "Select all" for a table whose checkboxes belong to a form by id (a selection's members).
function selectAll() {
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const form = all.dataset.selectAll;
    if (!form) return;
    all.addEventListener("change", () => {
      document.querySelectorAll(`input[name=ids][form="${form}"]`).forEach((c) => { c.checked = all.checked; });
    });
  });
}

// The list's "Add to selection": a name is asked only for a new selection.
function bulkSelection() {
  const name = document.querySelector("input[data-bulk-new]");
  const choice = name && document.getElementById(name.dataset.bulkNew);
  const action = document.getElementById("bulk-action");
  if (!name || !choice || !action) return;
  const show = () => { name.hidden = action.value !== "selection" || choice.value !== "new"; };
  choice.addEventListener("change", show);
  action.addEventListener("change", show);
  show();
}

palette();
relations();
watchJobs();
board();
inlineEdit();
bulk();
shortcuts();
filters();
autosubmit();
refresh();
selectionBuilder();
variantTabs();
fitFrames();
localTimes();
watchMailing();
selectAll();
bulkSelection();
export { csrf };

// The status report's print view: its button opens the browser's print dialog (print or PDF).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
