// parkgate console: the little script it needs. Everything works without it; with it, the
// dashboard refreshes itself and choosing a language or facility applies at once.
"use strict";
document.documentElement.classList.add("js");
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

// Printing: a button marked data-print prints the page (the print stylesheet keeps the receipt).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) { window.print(); }
});

// The entry page: the booth's camera through WebRTC. A picture is taken on the button, on the key
// C (outside a text field), or by itself once the picture has been steady for about a second; it is
// sent for reading and the plate read lands in the plate field for the officer to check.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("camera");
  if (!box) { return; }
  const video = document.getElementById("preview"), status = document.getElementById("camera-status");
  const plate = document.getElementById("plate"), reading = document.getElementById("reading");
  const auto = document.getElementById("auto-capture"), shown = document.getElementById("captured");
  const small = document.createElement("canvas");
  small.width = 64; small.height = 48;
  let previous = null, steady = 0, armed = true, busy = false;

  async function capture() {
    if (busy || !video.videoWidth) { return; }
    busy = true;
    const scale = Math.min(1, 960 / video.videoWidth);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * scale); canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
    shown.src = URL.createObjectURL(blob); shown.hidden = false;
    status.textContent = box.dataset.reading || "...";
    const form = new FormData();
    form.append("csrf", document.getElementById("camera-csrf").value);
    form.append("image", blob, "capture.jpg");
    if (box.dataset.session) { form.append("session", box.dataset.session); }
    try {
      const response = await fetch(box.dataset.read, {method: "POST", body: form, credentials: "same-origin"});
      if (response.status === 401) { window.location.reload(); return; }
      const answer = await response.json();
      if (answer.plate) { plate.value = answer.plate; }
      if (!response.ok) { answer.confidence = ""; }
      const match = document.getElementById("match");
      if (match && answer.match) {   // the image match score as a coloured bar
        match.hidden = false;
        const meter = match.querySelector("meter");   // green at or above the threshold, red below it
        meter.low = meter.high = Number(answer.threshold); meter.value = Number(answer.match);
        match.classList.toggle("ok", answer.match_ok); match.classList.toggle("low", !answer.match_ok);
        match.querySelector(".score").textContent = answer.match;
        match.dataset.score = answer.match;
      }
      if (reading) { reading.textContent = answer.message + (answer.confidence ? " (" + answer.confidence + ")" : ""); }
      status.textContent = reading ? "" : answer.message;
      box.dataset.captured = String(Date.now());
      // To the plate for checking, unless the officer is typing elsewhere (an amount tendered, say):
      // a read that ends late must not take the keys meant for another field.
      const active = document.activeElement;
      if (!active || active === plate || !active.matches("input, select, textarea")) { plate.focus(); plate.select(); }
    } catch (e) {
      status.textContent = "-";
    } finally { busy = false; }
  }

  function watch() {
    if (!video.videoWidth) { return; }
    const g = small.getContext("2d", {willReadFrequently: true});
    g.drawImage(video, 0, 0, small.width, small.height);
    const now = g.getImageData(0, 0, small.width, small.height).data;
    if (previous) {
      let diff = 0;
      for (let i = 0; i < now.length; i += 4) { diff += Math.abs(now[i] - previous[i]); }
      diff /= (now.length / 4);
      if (diff > 12) { armed = true; steady = 0; } else { steady += 1; }
      if (auto.checked && armed && steady >= 3) { armed = false; capture(); }
    }
    previous = now;
  }

  document.getElementById("capture").addEventListener("click", capture);
  document.addEventListener("keydown", (event) => {
    const typing = event.target.matches("input, select, textarea");
    if (!typing && (event.key === "c" || event.key === "C")) { event.preventDefault(); capture(); }
  });
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = box.dataset.noCamera; return;
  }
  navigator.mediaDevices.getUserMedia({video: {width: {ideal: 1280}}, audio: false}).then((stream) => {
    video.srcObject = stream;
    status.textContent = "";
    setInterval(watch, 300);
  }).catch(() => { status.textContent = box.dataset.noCamera; });
});
