// The engineers' page: talks to /api/admin/ with the bearer token kept in sessionStorage
// (never a cookie, so no CSRF). Every piece of user text goes in with textContent.
// It speaks the site's language and shows times in the site's timezone (not the browser's):
// the server puts the locale, the timezone and every label in <body data-admin>.
"use strict";

(function () {
  const TOKEN_KEY = "statuspage.adminToken";
  let meta = null; // {pages, severities, statuses} from /api/admin/pages
  let L = null; // {locale, timezone, statuses, severities, limits, impacts, maintenance, text}
  let timeFormat = null;

  const $ = (id) => document.getElementById(id);

  // tr("acked", {who: "ana"}): a notice in the site's language, {placeholders} filled in.
  function tr(key, values) {
    const text = (L && L.text[key]) || key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  function label(table, value) {
    return (L && L[table] && L[table][value]) || value;
  }

  // el("li", {className: "x", dataset: {id: 1}}, "text", childNode, ...): strings become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "dataset") {
        for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
      } else if (key.includes("-")) {
        node.setAttribute(key, String(value));
      } else {
        node[key] = value;
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // A time of the API (ISO 8601) as the site shows it: its locale, its timezone, 24-hour clock.
  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    if (!timeFormat) {
      timeFormat = new Intl.DateTimeFormat(L.locale, {
        timeZone: L.timezone, day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    return timeFormat.format(d);
  }

  function pageName(slug) {
    const page = meta && meta.pages.find((p) => p.slug === slug);
    return page ? page.name : slug;
  }

  function notice(text, isError) {
    const n = $("notice");
    n.textContent = text;
    n.className = isError ? "error" : "";
  }

  class AuthError extends Error {}

  async function api(method, path, body) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) throw new AuthError("no token");
    const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    const init = { method, headers, credentials: "omit", cache: "no-store", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401) {
      logout(tr("bad_token"));
      throw new AuthError("unauthorized");
    }
    if (response.status === 409 && data && data.acknowledged_by) {
      throw new Error(tr("held", { who: data.acknowledged_by, when: fmtTime(data.acknowledged_at) }));
    }
    if (!response.ok) {
      const what = data && data.error ? data.error : "HTTP " + response.status;
      throw new Error(data && data.field ? data.field + ": " + what : what);
    }
    return data;
  }

  // --- login ------------------------------------------------------------------------------------

  function showLoggedIn(on) {
    $("login").hidden = on;
    $("app").hidden = !on;
    $("logout").hidden = !on;
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    meta = null;
    $("who").textContent = "";
    showLoggedIn(false);
    $("login-error").textContent = message || "";
    $("token").value = "";
  }

  async function start() {
    try {
      meta = await api("GET", "/api/admin/pages");
    } catch (err) {
      if (!(err instanceof AuthError)) $("login-error").textContent = String(err.message || err);
      return;
    }
    showLoggedIn(true);
    $("who").textContent = meta.user;
    fillForms();
    await refresh();
  }

  // --- forms --------------------------------------------------------------------------------------

  function fillPageSelect(select, fieldset) {
    select.replaceChildren(...meta.pages.map((p) => el("option", { value: p.slug }, p.name + " (" + p.slug + ")")));
    const legend = fieldset.querySelector("legend");
    const draw = () => {
      const page = meta.pages.find((p) => p.slug === select.value);
      const boxes = (page ? page.components : []).map((c) =>
        el("label", {}, el("input", { type: "checkbox", name: "components", value: c.slug }), " " + c.name),
      );
      fieldset.replaceChildren(legend, ...boxes);
    };
    select.onchange = draw;
    draw();
  }

  function checked(fieldset) {
    return Array.from(fieldset.querySelectorAll("input[type=checkbox]:checked")).map((b) => b.value);
  }

  function fillForms() {
    fillPageSelect($("open-page"), $("open-components"));
    fillPageSelect($("maintenance-page"), $("maintenance-components"));
    $("open-severity").replaceChildren(
      ...meta.severities.map((s) => el("option", { value: s.name },
        label("severities", s.name) + " (" + tr("limit", { limit: label("limits", s.name) }) + ")")),
    );
    $("open-severity").value = "T3";
  }

  async function submitOpen(event) {
    event.preventDefault();
    const body = {
      page: $("open-page").value,
      title: $("open-title").value,
      severity: $("open-severity").value,
      status: $("open-status").value,
      components: checked($("open-components")),
      message: $("open-message").value,
    };
    await act(async () => {
      const incident = await api("POST", "/api/admin/incidents", body);
      $("open-form").reset();
      fillForms();
      notice(tr("opened", { id: incident.id }));
    });
  }

  async function submitMaintenance(event) {
    event.preventDefault();
    // Wall-clock times in the site's timezone, sent without an offset: the server reads them in
    // site.timezone (the browser's own timezone plays no part).
    const start = $("maintenance-start").value;
    const end = $("maintenance-end").value;
    if (!start || !end) {
      notice(tr("need_times"), true);
      return;
    }
    const body = {
      page: $("maintenance-page").value,
      title: $("maintenance-title").value,
      start: start,
      end: end,
      components: checked($("maintenance-components")),
      message: $("maintenance-message").value,
    };
    await act(async () => {
      const m = await api("POST", "/api/admin/maintenances", body);
      $("maintenance-form").reset();
      fillForms();
      notice(tr("scheduled", { id: m.id }));
    });
  }

  // Run one action: disable buttons meanwhile, show the API's error, then reload the lists.
  async function act(fn) {
    const buttons = Array.from(document.querySelectorAll("#app button"));
    buttons.forEach((b) => (b.disabled = true));
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof AuthError)) notice(String(err.message || err), true);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
    if (meta) await refresh();
  }

  // --- lists ----------------------------------------------------------------------------------------

  async function refresh() {
    try {
      const [incidents, maintenances] = await Promise.all([
        api("GET", "/api/admin/incidents?limit=200"),
        api("GET", "/api/admin/maintenances"),
      ]);
      drawIncidents(incidents.incidents.filter((i) => i.status !== "resolved"));
      drawMaintenances(maintenances.maintenances);
    } catch (err) {
      if (!(err instanceof AuthError)) notice(String(err.message || err), true);
    }
  }

  function drawIncidents(incidents) {
    $("no-incidents").hidden = incidents.length > 0;
    $("incident-list").replaceChildren(...incidents.map(incidentItem));
  }

  function incidentItem(i) {
    const components = i.components.map((c) => c.name).join(", ") || "—";
    const due = el("span", { className: i.sla_breached ? "breached due" : "due" },
      tr("due", { when: fmtTime(i.due_at) }) + (i.sla_breached ? tr("breached") : ""));
    const ack = i.acknowledged_at
      ? el("p", { className: "ack" }, tr("acked", { who: i.acknowledged_by || "?", when: fmtTime(i.acknowledged_at) }))
      : el("p", {}, el("button", { type: "button", className: "ack-button", onclick: () => acknowledge(i.id) }, tr("ack")));
    const status = el("select", { className: "update-status", "aria-label": document.querySelector("label[for=open-status]").textContent },
      ...["investigating", "identified", "monitoring", "resolved"].map((s) =>
        el("option", { value: s, selected: s === i.status }, label("statuses", s))));
    const message = el("textarea", { className: "update-message", placeholder: tr("update_placeholder"), maxLength: 5000 });
    const latest = i.incident_updates.length ? i.incident_updates[0] : null;
    return el("li", { dataset: { incidentId: i.id } },
      el("h3", {}, "#" + i.id + " " + i.name),
      el("p", { className: "meta" },
        el("span", { className: "page" }, pageName(i.page_id)), " · ",
        el("span", { className: "severity" }, label("severities", i.severity)), " · ",
        el("span", { className: "status" }, label("statuses", i.status)), " · ",
        el("span", { className: "impact" }, tr("impact", { impact: label("impacts", i.impact) })), " · ",
        components + " · ",
        el("span", { className: "since" }, tr("since", { when: fmtTime(i.started_at) })), " · ", due),
      latest ? el("p", { className: "meta" }, tr("latest", { text: latest.body })) : null,
      ack,
      el("div", { className: "row" },
        status, message,
        el("button", { type: "button", className: "update-button", onclick: () => postUpdate(i.id, status.value, message.value) }, tr("post_update")),
        el("button", { type: "button", className: "secondary resolve-button", onclick: () => resolve(i.id, message.value) }, tr("resolve"))),
    );
  }

  function drawMaintenances(list) {
    $("maintenance-list").replaceChildren(...list.filter((m) => !m.cancelled).map((m) =>
      el("li", { dataset: { maintenanceId: m.id } },
        el("h3", {}, "#" + m.id + " " + m.name),
        el("p", { className: "meta" },
          pageName(m.page_id) + " · " + label("maintenance", m.status) + " · ",
          el("span", { className: "when" }, fmtTime(m.scheduled_for) + " → " + fmtTime(m.scheduled_until)),
          " · " + (m.components.map((c) => c.name).join(", ") || tr("whole_page"))),
        m.message ? el("p", {}, m.message) : null,
        m.status === "completed" ? null
          : el("button", { type: "button", className: "secondary cancel-button", onclick: () => cancelMaintenance(m.id) }, tr("cancel")),
      )));
  }

  // --- actions ---------------------------------------------------------------------------------------

  function acknowledge(id) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/ack");
      notice(tr("acknowledged", { id: id }));
    });
  }

  function postUpdate(id, status, message) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/updates", { status, message });
      notice(tr("updated", { id: id }));
    });
  }

  function resolve(id, message) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/resolve", message.trim() ? { message } : {});
      notice(tr("resolved", { id: id }));
    });
  }

  function cancelMaintenance(id) {
    return act(async () => {
      await api("DELETE", "/api/admin/maintenances/" + encodeURIComponent(id));
      notice(tr("cancelled", { id: id }));
    });
  }

  // --- wiring ----------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    L = JSON.parse(document.body.dataset.admin);
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      $("login-error").textContent = "";
      start();
    });
    $("logout").addEventListener("click", () => logout(""));
    $("refresh").addEventListener("click", () => refresh());
    $("open-form").addEventListener("submit", submitOpen);
    $("maintenance-form").addEventListener("submit", submitMaintenance);
    if (sessionStorage.getItem(TOKEN_KEY)) start();
  });
})();
