/* jobcenter dashboard: small enhancements on top of htmx 2 (no framework, no eval).
 *
 * - the browser's time zone is kept in a cookie, so the server renders every time in it; the
 *   "3 min ago" hints next to them are kept current here;
 * - job ids copy with their copy button; confirmations use a <dialog> instead of window.confirm;
 * - live polling sends the ids of the active rows on screen, pauses while the tab is hidden and
 *   refreshes at once when it becomes visible again (the server stops it with status 286);
 * - date filters are sent as the browser's local days; empty filters are left out of the URL;
 * - the selection for bulk cancel survives live row updates and paging;
 * - errors and lost connections show a toast; state changes are announced politely.
 */
(function () {
  "use strict";

  function within(root, selector) {
    const found = Array.from(root.querySelectorAll ? root.querySelectorAll(selector) : []);
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  // --- the browser's time zone ----------------------------------------------------------
  // The server renders times in the zone this cookie names (jobcenter/dashboard/timezones.py).
  // A page rendered in another zone (no cookie yet, or the computer travelled) is loaded once
  // more with the right one.
  const TZ_COOKIE = "jobcenter_tz";

  function rememberZone() {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_) { zone = ""; }
    if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone)) return; // an IANA name, as is in a cookie
    const current = document.cookie.split("; ").find((c) => c.startsWith(`${TZ_COOKIE}=`));
    if (current && current.slice(TZ_COOKIE.length + 1) === zone) return;
    const secure = window.location.protocol === "https:" ? "; secure" : "";
    document.cookie = `${TZ_COOKIE}=${zone}; path=/; max-age=31536000; samesite=lax${secure}`;
    const shown = document.documentElement.dataset.tz;
    if (!shown || shown === zone || !document.querySelector("time[datetime]")) return;
    try { // once per zone and tab: a browser refusing the cookie must not reload for ever
      const key = `jc-tz-reloaded-${zone}`;
      if (sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, "1");
    } catch (_) {
      return;
    }
    window.location.reload();
  }
  rememberZone();

  // --- "3 min ago", kept current (the same rules as the server's, templatetags/dashboard.py) -
  function ago(seconds) {
    if (seconds < 0) {
      if (seconds > -60) return "just now";
      return `in ${ago(-seconds).replace(/ ago$/, "")}`;
    }
    const total = Math.floor(seconds);
    if (total < 5) return "just now";
    if (total < 60) return `${total} s ago`;
    const minutes = Math.floor(total / 60);
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours} h ago`;
    const days = Math.floor(hours / 24);
    if (days < 45) return `${days} day${days === 1 ? "" : "s"} ago`;
    if (days < 730) {
      const months = Math.floor(days / 30);
      return `${months} month${months === 1 ? "" : "s"} ago`;
    }
    return `${Math.floor(days / 365)} years ago`;
  }

  function refreshAgo(root) {
    const now = Date.now();
    within(root, "[data-ago]").forEach((el) => {
      const moment = Date.parse(el.dataset.ago);
      if (Number.isNaN(moment)) return;
      const text = ago((now - moment) / 1000);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  window.setInterval(() => refreshAgo(document.body), 15000);

  // --- polite announcements -------------------------------------------------------------
  const announced = new Map();

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region || !text) return;
    // Re-setting the same text would not be read again: clear first.
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function collectAnnouncements(root) {
    // data-announce-key: a state (e.g. a job's progress) read out only when it changes, not
    // when the page first shows it; without a key: news, read out once.
    within(root, "[data-announce]").forEach((el) => {
      const text = el.dataset.announce;
      const key = el.dataset.announceKey;
      if (!text) return;
      if (key) {
        const before = announced.get(key);
        announced.set(key, text);
        if (before === undefined || before === text) return;
      }
      announce(text);
    });
  }

  // --- toasts ---------------------------------------------------------------------------
  function toast(message, tone, key) {
    const box = document.getElementById("toasts");
    if (!box) return null;
    if (key && box.querySelector(`[data-key="${key}"]`)) return null;
    for (const existing of box.querySelectorAll("[data-toast] p")) {
      if (existing.textContent === message) return null;
    }
    const div = document.createElement("div");
    div.className = `toast tone-${tone}`;
    div.setAttribute("role", tone === "bad" ? "alert" : "status");
    div.setAttribute("data-toast", "");
    if (key) div.dataset.key = key;
    const p = document.createElement("p");
    p.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    div.append(p, close);
    box.append(div);
    autoDismiss(div);
    return div;
  }

  function autoDismiss(el) {
    if (!el.classList.contains("tone-bad") && !el.dataset.key) {
      window.setTimeout(() => el.remove(), 7000);
    }
  }

  // --- selection for bulk cancel ----------------------------------------------------------
  const selected = new Set();

  function rowBoxes() {
    return Array.from(document.querySelectorAll("input.row-select"));
  }

  function updateSelection() {
    const boxes = rowBoxes();
    boxes.forEach((box) => { box.checked = selected.has(box.value); });
    const count = document.getElementById("selection-count");
    if (count) {
      const offPage = Array.from(selected).filter((id) => !boxes.some((b) => b.value === id)).length;
      count.textContent = selected.size
        ? `${selected.size} selected${offPage ? ` (${offPage} on other pages)` : ""}`
        : "Select jobs to cancel them together";
    }
    const button = document.getElementById("cancel-selected");
    if (button) button.disabled = selected.size === 0;
    const page = document.getElementById("select-page");
    if (page) {
      const on = boxes.filter((b) => b.checked).length;
      page.checked = boxes.length > 0 && on === boxes.length;
      page.indeterminate = on > 0 && on < boxes.length;
      page.disabled = boxes.length === 0;
    }
  }

  function forgetFinishedRows(root) {
    // A job whose row came back without a checkbox can no longer be cancelled.
    within(root, "[data-select]").forEach((cell) => {
      if (!cell.querySelector("input.row-select")) selected.delete(cell.dataset.select);
    });
  }

  // --- date filters as the browser's local days -----------------------------------------
  const DAY = /^\d{4}-\d{2}-\d{2}$/;
  const DATE_PARAMS = /^(created|started|finished)_(after|before)$/;
  const pad = (n) => String(n).padStart(2, "0");

  function localBound(day, end) {
    const [y, m, d] = day.split("-").map(Number);
    const moment = end ? new Date(y, m - 1, d, 23, 59, 59, 999) : new Date(y, m - 1, d);
    const offset = -moment.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const abs = Math.abs(offset);
    const clock = end ? "23:59:59.999999" : "00:00:00";
    return `${day}T${clock}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  function normaliseFilters(formData) {
    for (const [name, value] of Array.from(formData.entries())) {
      if (typeof value !== "string") continue;
      if (value === "") {
        formData.delete(name);
      } else if (DATE_PARAMS.test(name) && DAY.test(value)) {
        formData.set(name, localBound(value, name.endsWith("_before")));
      }
    }
  }

  // --- htmx integration -----------------------------------------------------------------
  document.addEventListener("htmx:configRequest", (event) => {
    const detail = event.detail;
    const elt = detail.elt;
    if (elt.id === "live-poller") {
      const ids = Array.from(document.querySelectorAll("[data-live]")).map((el) => el.dataset.live);
      detail.formData.delete("live");
      ids.forEach((id) => detail.formData.append("live", id));
    }
    if (elt.id === "job-live") {
      // the job page's poll also refreshes the failed lines as they are shown (file, reason, page)
      const panel = document.getElementById("failed-lines");
      if (panel && panel.dataset.state) {
        new URLSearchParams(panel.dataset.state).forEach((value, name) => detail.formData.set(name, value));
      }
    }
    if (elt.id === "filters" || elt.getAttribute("hx-include") === "#filters") {
      normaliseFilters(detail.formData);
    }
    if (elt.hasAttribute("data-bulk")) {
      detail.formData.delete("ids");
      selected.forEach((id) => detail.formData.append("ids", id));
    }
  });

  // Polling pauses while the tab is hidden (and while a dialog asks something), and catches
  // up as soon as the tab is shown again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const polling = event.detail.elt.hasAttribute("data-poll");
    if (polling && (document.visibilityState === "hidden" || document.querySelector("dialog[open]"))) {
      event.preventDefault();
      return;
    }
    if (!event.detail.elt.hasAttribute("data-poll")) document.body.classList.add("is-loading");
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    document.body.classList.remove("is-loading");
    const detail = event.detail;
    if (detail.successful) {
      const lost = document.querySelector('[data-key="offline"]');
      if (lost) lost.remove();
    }
    if (detail.successful && detail.elt.hasAttribute && detail.elt.hasAttribute("data-bulk")) {
      selected.clear();
    }
    if (detail.successful && detail.elt.id === "cancel-all") selected.clear();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      document.querySelectorAll("[data-poll]").forEach((el) => htmx.trigger(el, "jc:refresh"));
    }
  });

  // Back twice quickly: only the last page asked for may be shown (an older answer arriving
  // late would show a list that does not match the address).
  let restoring = null;
  document.addEventListener("htmx:historyCacheMiss", (event) => {
    if (restoring && restoring.readyState !== XMLHttpRequest.DONE) restoring.abort();
    restoring = event.detail.xhr;
  });

  // A live part is not swapped when
  // - it did not change: what is under the pointer or checked stays;
  // - it shows another view than what is on screen (data-state): e.g. failed lines of page 1
  //   computed while the user went to page 2;
  // - it holds the keyboard focus (data-hold-focus): the next answer brings it.
  const plain = (html) => html.replace(/ class=""/g, "");
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const fresh = event.detail.fragment && event.detail.fragment.firstElementChild;
    const target = event.detail.target;
    if (!fresh || !target) return;
    const otherView = fresh.dataset && target.dataset && "state" in target.dataset
      && fresh.dataset.state !== target.dataset.state;
    const focused = target.hasAttribute("data-hold-focus") && target.contains(document.activeElement)
      && document.activeElement !== document.body;
    if (otherView || focused || plain(fresh.outerHTML) === plain(target.outerHTML)) {
      event.detail.shouldSwap = false;
    }
  });

  // Refusals the server explains (a toast retargeted by the server) and forms with field
  // errors (422) are swapped like any answer; other failures become a toast.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    const status = xhr.status;
    if (status === 422 || (status >= 400 && status < 500 && xhr.getResponseHeader("HX-Retarget"))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    let message = `The request failed (HTTP ${status}).`;
    if (status === 404) message = "That no longer exists, or you cannot see it (404).";
    else if (status === 403) message = "You are not allowed to do that (403).";
    else if (status >= 500) message = `The server had a problem (HTTP ${status}). Try again in a moment.`;
    toast(message, "bad");
  });
  document.addEventListener("htmx:sendError", () => {
    toast("Cannot reach the server. Live updates resume when it is back.", "warn", "offline");
  });
  document.addEventListener("htmx:timeout", () => {
    toast("The server is slow to answer; retrying.", "warn", "offline");
  });

  // After paging or sorting, keyboard focus goes to the top of the new results.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (target && target.id === "results" && elt && elt.closest && elt.closest("#results") && !elt.hasAttribute("data-bulk")) {
      const summary = document.getElementById("results-summary");
      if (summary) summary.focus({ preventScroll: false });
    }
    if (target && target.tagName === "TR" && !document.body.contains(target)) {
      // a row answered its cancel button: keep the keyboard in that row and say what happened
      const row = document.getElementById(target.id);
      const link = row && row.querySelector(".job-link");
      if (link) link.focus();
      const badge = row && row.querySelector(".badge");
      const id = row && row.querySelector(".job-link");
      if (badge && id) announce(`Job ${id.textContent.trim()} ${badge.textContent.trim().toLowerCase()}.`);
    }
    if (target && target.id === "results" && document.getElementById("bulk-summary")) {
      document.getElementById("bulk-summary").scrollIntoView({ block: "nearest" });
    }
  });

  // Confirmations in a <dialog> (keyboard: focus starts on the safe choice; Esc keeps it).
  // If live updates replaced the element meanwhile, its replacement (same id) is triggered.
  let confirmedAgain = null;
  document.addEventListener("htmx:confirm", (event) => {
    const question = event.detail.question;
    if (!question) return;
    event.preventDefault();
    const elt = event.detail.elt;
    if (confirmedAgain === elt) {
      confirmedAgain = null;
      event.detail.issueRequest(true);
      return;
    }
    const text = question.replace("{n}", String(selected.size));
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(text)) event.detail.issueRequest(true);
      return;
    }
    const opener = document.activeElement;
    dialog.querySelector("#confirm-message").textContent = text;
    dialog.querySelector("#confirm-yes").textContent = elt.dataset.confirmYes || "Yes";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "yes") {
        if (document.body.contains(elt)) {
          event.detail.issueRequest(true);
        } else {
          const again = elt.id && document.getElementById(elt.id);
          if (again) {
            confirmedAgain = again;
            htmx.trigger(again, again.tagName === "FORM" ? "submit" : "click");
          } else {
            toast("That job changed meanwhile and can no longer be cancelled.", "warn");
          }
        }
      } else if (opener && opener.focus) {
        opener.focus();
      }
    }, { once: true });
    dialog.showModal();
  });

  // --- clicks: copy, file browser, toasts, status "All" chip -------------------------------
  function flash(button, text) {
    button.dataset.flash = text;
    window.setTimeout(() => { delete button.dataset.flash; }, 1400);
  }

  // The Clipboard API where the page may use it (HTTPS or localhost); elsewhere (plain HTTP on
  // a LAN address) the old way: a hidden text area (styled by a class, the policy allows no
  // style attribute), selected and copied.
  async function copy(text) {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no Clipboard API");
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.setAttribute("aria-hidden", "true");
      area.className = "copy-buffer";
      const opener = document.activeElement;
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
      area.remove();
      if (opener && opener.focus) opener.focus();
      return ok;
    }
  }

  // When nothing could be copied, the id is selected on the page for Ctrl+C.
  function selectId(button) {
    const code = button.parentElement && button.parentElement.querySelector("code");
    const selection = window.getSelection();
    if (!code || !selection) return false;
    selection.selectAllChildren(code);
    return true;
  }

  document.addEventListener("click", async (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;

    const copyButton = target.closest("[data-copy]");
    if (copyButton) {
      const ok = await copy(copyButton.dataset.copy);
      if (ok) {
        flash(copyButton, "Copied");
        announce("Job id copied");
      } else {
        const selected = selectId(copyButton);
        flash(copyButton, selected ? "Press Ctrl+C" : "Copy failed");
        announce(selected ? "The job id is selected: press Control C to copy it" : "The job id could not be copied");
      }
      return;
    }

    const browse = target.closest("[data-browse]");
    if (browse) {
      const input = document.getElementById(browse.dataset.browse);
      const dialog = document.getElementById("file-browser");
      const params = new URLSearchParams({ target: browse.dataset.browse });
      const current = input && input.value.trim();
      if (current) params.set("path", current.replace(/\/[^/]*$/, "") || current);
      htmx.ajax("GET", `${browse.dataset.browseUrl}?${params}`, { target: "#file-browser-body", swap: "innerHTML" });
      if (dialog) dialog.showModal();
      return;
    }

    const pick = target.closest("[data-pick]");
    if (pick) {
      const input = document.getElementById(pick.dataset.target);
      const dialog = pick.closest("dialog");
      if (dialog) dialog.close();
      if (input) {
        input.value = pick.dataset.pick;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
        input.focus();
      }
      return;
    }

    const dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      const item = dismiss.closest("[data-toast]");
      if (item) item.remove();
      return;
    }

    const toggle = target.closest("[data-toggle-filters]");
    if (toggle) {
      const form = toggle.closest("form");
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      form.toggleAttribute("data-collapsed", !open);
      if (open) form.querySelector("#filter-row input, #filter-row select").focus();
      return;
    }

    const all = target.closest("[data-clear-status]");
    if (all) {
      const form = all.closest("form");
      form.querySelectorAll('input[name="status"]').forEach((box) => { box.checked = false; });
      all.setAttribute("aria-pressed", "true");
      htmx.trigger(form, "change");
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.classList.contains("row-select")) {
      if (target.checked) selected.add(target.value); else selected.delete(target.value);
      updateSelection();
    } else if (target.id === "select-page") {
      rowBoxes().forEach((box) => {
        if (target.checked) selected.add(box.value); else selected.delete(box.value);
      });
      updateSelection();
    } else if (target.name === "status") {
      const all = document.querySelector("[data-clear-status]");
      const any = document.querySelectorAll('#filters input[name="status"]:checked').length > 0;
      if (all) all.setAttribute("aria-pressed", any ? "false" : "true");
    }
  });

  // --- every piece of new content -------------------------------------------------------
  // On a phone the filters beyond the status chips fold away until asked for (only with this
  // script running, so that they can always be reached).
  function foldFilters(root) {
    within(root, "[data-toggle-filters]").forEach((toggle) => {
      const form = toggle.closest("form");
      if (form) form.toggleAttribute("data-collapsed", toggle.getAttribute("aria-expanded") !== "true");
    });
  }

  function enhance(root) {
    foldFilters(root);
    refreshAgo(root);
    collectAnnouncements(root);
    forgetFinishedRows(root);
    updateSelection();
    within(root, "[data-toast]").forEach(autoDismiss);
    const errors = within(root, "#form-errors")[0];
    if (errors && root !== document.body) errors.focus();
  }

  if (window.htmx) {
    htmx.onLoad(enhance);
  } else {
    document.addEventListener("DOMContentLoaded", () => enhance(document.body));
  }
})();
