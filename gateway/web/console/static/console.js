// parkgate console: the little script it needs. Everything works without it; with it, the
// dashboard refreshes itself and choosing a language or facility applies at once.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  for (const region of document.querySelectorAll("[data-refresh]")) {
    const every = Math.max(2, Number(region.dataset.every || 5)) * 1000;
    const refresh = async () => {
      try {
        const response = await fetch(region.dataset.refresh, {credentials: "same-origin", cache: "no-store"});
        if (response.status === 401) { window.location.reload(); return; }
        if (response.ok) { region.innerHTML = await response.text(); region.dataset.refreshed = String(Date.now()); }
      } catch (e) { /* the gateway is restarting: try again at the next tick */ }
    };
    setInterval(refresh, every);
  }
});
