/*
 * pymess: live SMS segment/encoding counter and template preview for the admin.
 *
 * The GSM-7 alphabet and segment sizes come from the page (rendered from
 * pymess.encoding), so this file holds the algorithm only; it mirrors
 * pymess.encoding.analyse: GSM-7 when every character is in the basic or
 * extension table (extension characters cost two septets), otherwise UCS-2
 * counted in UTF-16 units; a concatenated part never splits a character.
 */
(function () {
  "use strict";

  function analyse(text, rules) {
    var basic = new Set(Array.from(rules.gsm7Basic));
    var extension = new Set(Array.from(rules.gsm7Extension));
    var chars = Array.from(text); // code points, like a Python str
    var gsm = chars.every(function (ch) { return basic.has(ch) || extension.has(ch); });
    var encoding = gsm ? "GSM-7" : "UCS-2";
    var costs = chars.map(function (ch) {
      if (gsm) { return extension.has(ch) ? 2 : 1; }
      return ch.codePointAt(0) > 0xffff ? 2 : 1;
    });
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = rules.limits[encoding][0];
    var perPart = rules.limits[encoding][1];
    var segments;
    if (units <= single) {
      segments = units ? 1 : 0;
    } else {
      segments = 1;
      var used = 0;
      costs.forEach(function (cost) {
        if (used + cost > perPart) { segments += 1; used = 0; }
        used += cost;
      });
    }
    return { encoding: encoding, segments: segments, units: units, characters: chars.length };
  }

  function describe(info) {
    var unitName = info.encoding === "GSM-7" ? "septets" : "UTF-16 units";
    return info.characters + " characters · " + info.encoding + " · " + info.segments +
      (info.segments === 1 ? " segment" : " segments") + " (" + info.units + " " + unitName + ")";
  }

  function setup() {
    var configNode = document.getElementById("pymess-sms-counter-config");
    var body = document.getElementById("id_body");
    if (!configNode || !body) { return; }
    var config = JSON.parse(configNode.textContent);
    var context = document.getElementById("id_sample_context");
    var panel = document.getElementById("pymess-sms-preview");
    var counter = document.getElementById("pymess-sms-counter");
    var previewText = document.getElementById("pymess-sms-preview-text");
    var previewInfo = document.getElementById("pymess-sms-preview-info");
    var previewError = document.getElementById("pymess-sms-preview-error");
    var csrf = body.form && body.form.querySelector("input[name=csrfmiddlewaretoken]");
    var timer = null;
    var sequence = 0;

    function updateCounter() {
      var info = analyse(body.value, config.rules);
      counter.textContent = describe(info);
      counter.classList.toggle("pymess-sms-ucs2", info.encoding === "UCS-2");
      counter.dataset.encoding = info.encoding;
      counter.dataset.segments = String(info.segments);
    }

    function showPreview(data) {
      previewError.textContent = data.ok ? (data.problem || "") : data.error;
      if (!data.ok) {
        previewText.textContent = "";
        previewInfo.textContent = "";
        return;
      }
      previewText.textContent = data.text;
      previewInfo.textContent = describe(data);
      previewInfo.dataset.encoding = data.encoding;
      previewInfo.dataset.segments = String(data.segments);
    }

    function fetchPreview() {
      var mine = ++sequence;
      panel.dataset.state = "loading";
      var form = new URLSearchParams();
      form.set("body", body.value);
      form.set("sample_context", context ? context.value : "{}");
      fetch(config.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
        body: form
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        if (mine !== sequence) { return; } // a newer request is on its way
        showPreview(data);
        panel.dataset.state = "ready";
      }).catch(function (error) {
        if (mine !== sequence) { return; }
        showPreview({ ok: false, error: "Preview unavailable: " + error.message });
        panel.dataset.state = "error";
      });
    }

    function schedulePreview() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(fetchPreview, 250);
    }

    body.addEventListener("input", function () { updateCounter(); schedulePreview(); });
    if (context) { context.addEventListener("input", schedulePreview); }
    updateCounter();
    fetchPreview();
  }

  window.pymessSms = { analyse: analyse, describe: describe };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
