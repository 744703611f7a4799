// The engineers' page: talks to /api/admin/ with the bearer token kept in sessionStorage
// (never a cookie, so no CSRF). Every piece of user text goes in with textContent.
"use strict";

(function () {
  const TOKEN_KEY = "statuspage.adminToken";
  const STATUS_LABELS = {
    investigating: "investigating — investigando",
    identified: "identified — identificado",
    monitoring: "monitoring — monitorando",
    resolved: "resolved — resolvido",
  };
  let meta = null; // {pages, severities, statuses} from /api/admin/pages

  const $ = (id) => document.getElementById(id);

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

  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
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
      logout("Token inválido: entre de novo.");
      throw new AuthError("unauthorized");
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
      ...meta.severities.map((s) => el("option", { value: s.name }, s.name + " — limite " + fmtDuration(s.limit_s))),
    );
    $("open-severity").value = "T3";
  }

  function fmtDuration(seconds) {
    if (seconds % 86400 === 0) return seconds / 86400 + " d";
    if (seconds % 3600 === 0) return seconds / 3600 + " h";
    return Math.round(seconds / 60) + " min";
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
      notice("Incidente #" + incident.id + " aberto.");
    });
  }

  async function submitMaintenance(event) {
    event.preventDefault();
    const start = new Date($("maintenance-start").value);
    const end = new Date($("maintenance-end").value);
    if (isNaN(start.getTime()) || isNaN(end.getTime())) {
      notice("Informe início e fim.", true);
      return;
    }
    const body = {
      page: $("maintenance-page").value,
      title: $("maintenance-title").value,
      start: start.toISOString(),
      end: end.toISOString(),
      components: checked($("maintenance-components")),
      message: $("maintenance-message").value,
    };
    await act(async () => {
      const m = await api("POST", "/api/admin/maintenances", body);
      $("maintenance-form").reset();
      fillForms();
      notice("Manutenção #" + m.id + " agendada.");
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
    const due = el("span", { className: i.sla_breached ? "breached" : "" },
      "prazo " + fmtTime(i.due_at) + (i.sla_breached ? " (SLA violado)" : ""));
    const ack = i.acknowledged_at
      ? el("p", { className: "ack" }, "Reconhecido por " + (i.acknowledged_by || "?") + " em " + fmtTime(i.acknowledged_at))
      : el("p", {}, el("button", { type: "button", className: "ack-button", onclick: () => acknowledge(i.id) }, "Reconhecer"));
    const status = el("select", { className: "update-status", "aria-label": "Situação" },
      ...["investigating", "identified", "monitoring", "resolved"].map((s) =>
        el("option", { value: s, selected: s === i.status }, STATUS_LABELS[s])));
    const message = el("textarea", { className: "update-message", placeholder: "Mensagem da atualização", maxLength: 5000 });
    const latest = i.incident_updates.length ? i.incident_updates[0] : null;
    return el("li", { dataset: { incidentId: i.id } },
      el("h3", {}, "#" + i.id + " " + i.name),
      el("p", { className: "meta" },
        i.page_id + " · " + i.severity + " · " + i.status + " · " + components +
        " · desde " + fmtTime(i.started_at) + " · ", due),
      latest ? el("p", { className: "meta" }, "Última atualização: " + latest.body) : null,
      ack,
      el("div", { className: "row" },
        status, message,
        el("button", { type: "button", className: "update-button", onclick: () => postUpdate(i.id, status.value, message.value) }, "Publicar atualização"),
        el("button", { type: "button", className: "secondary resolve-button", onclick: () => resolve(i.id, message.value) }, "Resolver")),
    );
  }

  function drawMaintenances(list) {
    $("maintenance-list").replaceChildren(...list.filter((m) => !m.cancelled).map((m) =>
      el("li", { dataset: { maintenanceId: m.id } },
        el("h3", {}, "#" + m.id + " " + m.name),
        el("p", { className: "meta" },
          m.page_id + " · " + m.status + " · " + fmtTime(m.scheduled_for) + " → " + fmtTime(m.scheduled_until) +
          " · " + (m.components.map((c) => c.name).join(", ") || "página inteira")),
        m.message ? el("p", {}, m.message) : null,
        m.status === "completed" ? null
          : el("button", { type: "button", className: "secondary cancel-button", onclick: () => cancelMaintenance(m.id) }, "Cancelar"),
      )));
  }

  // --- actions ---------------------------------------------------------------------------------------

  function acknowledge(id) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/ack");
      notice("Incidente #" + id + " reconhecido.");
    });
  }

  function postUpdate(id, status, message) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/updates", { status, message });
      notice("Incidente #" + id + " atualizado.");
    });
  }

  function resolve(id, message) {
    return act(async () => {
      await api("POST", "/api/admin/incidents/" + encodeURIComponent(id) + "/resolve", message.trim() ? { message } : {});
      notice("Incidente #" + id + " resolvido.");
    });
  }

  function cancelMaintenance(id) {
    return act(async () => {
      await api("DELETE", "/api/admin/maintenances/" + encodeURIComponent(id));
      notice("Manutenção #" + id + " cancelada.");
    });
  }

  // --- wiring ----------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
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
