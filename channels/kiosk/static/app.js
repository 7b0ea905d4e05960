// The desk kiosk: pairs once, waits for the dossier the desk hands back,
// asks its survey, and keeps answers on the tablet until the gateway has
// them (each with its own idempotency key, so a retry never counts twice).
"use strict";
(function () {
  var T = {
    vi: {
      pair_t: "Ghép nối máy tính bảng với quầy", pair_p: "Nhập mã ghép nối 8 chữ số mà bảng điều khiển hiển thị khi đăng ký quầy.",
      code: "Mã ghép nối", pair_b: "Ghép nối", pair_bad: "Mã không đúng, đã dùng hoặc đã quá 15 phút. Tạo mã mới trong bảng điều khiển.",
      unpaired: "Máy này đã bị huỷ ghép nối. Nhập mã ghép nối mới.",
      welcome: "Mời ông/bà đánh giá mức độ hài lòng", wait: "Khi cán bộ trả hồ sơ, phiếu đánh giá sẽ hiện ở đây.",
      officer: "Dành cho cán bộ: nhập mã hồ sơ", dossier_code: "Mã hồ sơ", pin: "Mã PIN cán bộ", show: "Hiện phiếu đánh giá",
      dossier: "Hồ sơ", step: "Phần {i} trên {n}", back: "Quay lại", next: "Tiếp tục",
      comment_t: "Ông/bà có góp ý gì thêm không?", comment_p: "Không bắt buộc. Xin đừng ghi họ tên hay số điện thoại.",
      send: "Gửi đánh giá", thanks_t: "Cảm ơn ông/bà!", thanks_p: "Đánh giá của ông/bà giúp cơ quan phục vụ tốt hơn.",
      already_t: "Hồ sơ này đã được đánh giá", already_p: "Cảm ơn ông/bà. Mỗi hồ sơ chỉ được đánh giá một lần.",
      waiting: "{n} đánh giá đang chờ gửi", offline: "Mất kết nối mạng", error: "Có lỗi, vui lòng thử lại.",
      l1: "Rất không hài lòng", l2: "Không hài lòng", l3: "Bình thường", l4: "Hài lòng", l5: "Rất hài lòng", l0: "Không ý kiến"
    },
    en: {
      pair_t: "Pair this tablet with a desk", pair_p: "Enter the 8-digit pairing code the console shows when the desk is registered.",
      code: "Pairing code", pair_b: "Pair", pair_bad: "The code is wrong, used or older than 15 minutes. Make a new one in the console.",
      unpaired: "This tablet was unpaired. Enter a new pairing code.",
      welcome: "Please rate our service", wait: "When the officer hands your dossier back, the survey appears here.",
      officer: "For the officer: enter a dossier code", dossier_code: "Dossier code", pin: "Officer PIN", show: "Show the survey",
      dossier: "Dossier", step: "Part {i} of {n}", back: "Back", next: "Continue",
      comment_t: "Anything else you would like to tell us?", comment_p: "Optional. Please do not write your name or phone number.",
      send: "Send my answers", thanks_t: "Thank you!", thanks_p: "Your answers help the agency serve you better.",
      already_t: "This dossier was already rated", already_p: "Thank you. Each dossier is rated once.",
      waiting: "{n} answers waiting to be sent", offline: "No network", error: "Something went wrong; please try again.",
      l1: "Very dissatisfied", l2: "Dissatisfied", l3: "Neutral", l4: "Satisfied", l5: "Very satisfied", l0: "No opinion"
    }
  };
  var IDLE = 90000, AFTER = 6000;
  var lang = "vi", seq = Number(localStorage.getItem("kiosk.seq") || 0), cur = null, waiting = null, screens = [], step = 0, answers = {};
  var idleTimer = null, homeTimer = null, polling = false, flushing = false;

  function $(id) { return document.getElementById(id); }
  function t(k) { return T[lang][k] || T.vi[k] || k; }
  function token() { return localStorage.getItem("kiosk.token") || ""; }
  function queue() { try { return JSON.parse(localStorage.getItem("kiosk.queue") || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { localStorage.setItem("kiosk.queue", JSON.stringify(q)); showQueue(); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function key() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function api(method, path, body) {
    var h = { "Authorization": "Bearer " + token() };
    if (body) { h["Content-Type"] = "application/json"; }
    return fetch(path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined, cache: "no-store" });
  }

  function translate() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.dataset.t); });
    var other = lang === "vi" ? "en" : "vi";
    $("lang").textContent = other === "en" ? "English" : "Tiếng Việt";
    $("lang").lang = other;
    showQueue();
    if (cur && !$("survey").hidden) { render(); }
  }

  function show(id) {
    document.querySelectorAll(".screen").forEach(function (s) { s.hidden = s.id !== id; });
    var h = $(id).querySelector("h1[tabindex]");
    if (h) { h.focus(); }
  }

  function showQueue() {
    var n = queue().length;
    $("queue").textContent = n ? t("waiting").replace("{n}", n) : "";
  }

  function setNet(ok) { $("net").textContent = ok ? "" : t("offline"); }

  function setDesk(d) {
    localStorage.setItem("kiosk.desk", JSON.stringify(d));
    $("desk").textContent = d.name + (d.officer ? " · " + d.officer : "");
  }

  // home is the attract screen: taps there do nothing until a dossier
  // comes. A dossier handed back meanwhile is shown now.
  function home() {
    cur = null;
    clearTimeout(idleTimer);
    clearTimeout(homeTimer);
    if (lang !== "vi") { lang = "vi"; translate(); }
    show(token() ? "attract" : "pair");
    if (waiting) { var d = waiting; waiting = null; present(d); }
  }

  // idle: a survey left alone goes back to the attract screen; a complete
  // one left on its comment screen is sent as it is.
  function idle() {
    if (cur && !$("comment").hidden) { send(); return; }
    home();
  }

  function later(ms) { clearTimeout(homeTimer); homeTimer = setTimeout(home, ms); }

  function touch() {
    clearTimeout(idleTimer);
    if (cur) { idleTimer = setTimeout(idle, IDLE); }
  }

  function unpaired() {
    localStorage.removeItem("kiosk.token");
    cur = null;
    show("pair");
    $("pair-error").textContent = t("unpaired");
  }

  // The survey: one screen per criterion, five faces and "no opinion" per question.
  function build(form) {
    var out = [];
    form.criteria.forEach(function (c) {
      var qs = form.questions.filter(function (q) { return q.criterion === c.code; });
      if (qs.length) { out.push({ criterion: c, questions: qs }); }
    });
    return out;
  }

  function tx(text) { return (lang === "en" && text.en) || text.vi; }

  var mouths = { 1: "M9 24q7-7 14 0", 2: "M10 23q6-4 12 0", 3: "M10 22h12", 4: "M10 21q6 4 12 0", 5: "M9 20q7 8 14 0" };
  var colours = { 1: "#c62828", 2: "#ef6c00", 3: "#f9a825", 4: "#7cb342", 5: "#2e7d32" };
  function face(v) {
    return '<svg viewBox="0 0 32 32" aria-hidden="true"><circle cx="16" cy="16" r="14" fill="' + colours[v] + '"/>' +
      '<circle cx="11" cy="13" r="2" fill="#fff"/><circle cx="21" cy="13" r="2" fill="#fff"/>' +
      '<path d="' + mouths[v] + '" stroke="#fff" stroke-width="2.4" fill="none" stroke-linecap="round"/></svg>';
  }

  function render() {
    var s = screens[step], one = s.questions.length === 1;
    $("s-step").textContent = t("step").replace("{i}", step + 1).replace("{n}", screens.length) + " · " + tx(s.criterion.title);
    $("s-title").textContent = one ? tx(s.questions[0].text) : tx(s.criterion.title);
    var box = $("s-questions");
    box.textContent = "";
    s.questions.forEach(function (q) {
      var fs = document.createElement("fieldset");
      fs.className = "q";
      var lg = document.createElement("legend");
      lg.textContent = tx(q.text);
      if (one) { lg.className = "sr"; }
      fs.appendChild(lg);
      var row = document.createElement("div");
      row.className = "faces";
      [1, 2, 3, 4, 5, 0].forEach(function (v) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "face" + (v ? "" : " none");
        b.dataset.q = q.id;
        b.dataset.v = v;
        b.setAttribute("aria-pressed", answers[q.id] === v ? "true" : "false");
        b.innerHTML = (v ? face(v) : "") + "<span></span>";
        b.lastChild.textContent = t("l" + v);
        row.appendChild(b);
      });
      fs.appendChild(row);
      box.appendChild(fs);
    });
    $("s-back").disabled = step === 0;
    $("s-next").disabled = !complete(s);
  }

  function complete(s) { return s.questions.every(function (q) { return q.id in answers; }); }

  function choose(b) {
    answers[b.dataset.q] = Number(b.dataset.v);
    var s = screens[step];
    render();
    if (s.questions.length === 1) { setTimeout(function () { if (cur && screens[step] === s) { next(); } }, 250); }
  }

  function next() {
    if (!complete(screens[step])) { return; }
    if (step + 1 < screens.length) { step++; render(); show("survey"); } else { show("comment"); }
  }

  // present shows a dossier handed back; one that comes while a citizen is
  // answering waits until they are done.
  function present(d) {
    seq = d.seq;
    localStorage.setItem("kiosk.seq", String(seq));
    if (cur && d.invitation_id !== cur.invitation_id) { waiting = d; return; }
    clearTimeout(homeTimer);
    if (d.answered) { cur = null; show("already"); later(AFTER); return; }
    cur = d; answers = {}; step = 0; screens = build(d.form);
    $("c-text").value = "";
    $("s-agency").textContent = d.agency_name;
    $("s-dossier").textContent = d.dossier_code;
    render();
    show("survey");
    touch();
  }

  function send() {
    if (!cur) { return; }
    var q = queue();
    q.push({ idempotency_key: key(), invitation_id: cur.invitation_id, seq: cur.seq, survey: cur.form.id,
      answers: answers, comment: $("c-text").value.trim(), locale: lang });
    saveQueue(q);
    cur = null;
    clearTimeout(idleTimer);
    show("thanks");
    later(waiting ? 1500 : AFTER);
    flush();
  }

  // flush sends the waiting answers in order. An answer leaves the tablet
  // once the gateway has it or refuses it for good (a 4xx other than
  // 401, 408, 409 and 429); it stays while the network or the gateway is
  // down, behind the others when the gateway failed on it.
  async function flush() {
    if (flushing || !token()) { return; }
    flushing = true;
    try {
      for (var n = queue().length; n > 0; n--) {
        var item = queue()[0], r;
        try { r = await api("POST", "/kiosk/api/answer", item); } catch (e) { setNet(false); break; }
        setNet(true);
        if (r.status === 401) { unpaired(); break; }
        if (r.status === 408 || r.status === 409 || r.status === 429) { break; }
        var rest = queue().filter(function (x) { return x.idempotency_key !== item.idempotency_key; });
        if (r.status >= 500) { rest.push(item); } else if (!r.ok) { console.warn("answer refused", r.status, await r.text()); }
        saveQueue(rest);
        if (r.status >= 500) { break; }
      }
    } finally { flushing = false; showQueue(); }
  }

  // poll waits for the dossiers the desk hands back (a long poll).
  async function poll() {
    if (polling) { return; }
    polling = true;
    while (token()) {
      try {
        var r = await api("GET", "/kiosk/api/next?after=" + seq);
        setNet(true);
        if (r.status === 401) { unpaired(); break; }
        if (r.status === 200) { present(await r.json()); flush(); } else if (r.status !== 204) { await sleep(3000); }
      } catch (e) { setNet(false); await sleep(3000); }
    }
    polling = false;
  }

  async function start() {
    try { var d = JSON.parse(localStorage.getItem("kiosk.desk") || "null"); if (d) { setDesk(d); } } catch (e) { /* none kept */ }
    if (!token()) { show("pair"); return; }
    show("attract");
    try {
      var r = await api("GET", "/kiosk/api/desk");
      if (r.status === 401) { unpaired(); return; }
      if (r.ok) { setDesk(await r.json()); setNet(true); }
    } catch (e) { setNet(false); }
    poll();
    flush();
  }

  function ready() {
    translate();
    $("lang").addEventListener("click", function () { lang = lang === "vi" ? "en" : "vi"; translate(); touch(); });
    $("s-questions").addEventListener("click", function (e) { var b = e.target.closest(".face"); if (b) { choose(b); } });
    $("s-next").addEventListener("click", next);
    $("s-back").addEventListener("click", function () { if (step > 0) { step--; render(); } });
    $("c-back").addEventListener("click", function () { render(); show("survey"); });
    $("c-send").addEventListener("click", send);
    document.addEventListener("pointerdown", touch);
    document.addEventListener("keydown", touch);
    window.addEventListener("online", flush);
    setInterval(flush, 15000);
    $("pair-form").addEventListener("submit", async function (e) {
      e.preventDefault();
      $("pair-error").textContent = "";
      try {
        var r = await fetch("/kiosk/api/pair", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: $("code").value }) });
        var b = await r.json();
        if (!r.ok) { $("pair-error").textContent = r.status === 401 ? t("pair_bad") : (b.error && b.error.message) || t("error"); return; }
        localStorage.setItem("kiosk.token", b.token);
        $("code").value = "";
        setDesk(b.desk);
        start();
      } catch (err) { $("pair-error").textContent = t("offline"); }
    });
    $("present-form").addEventListener("submit", async function (e) {
      e.preventDefault();
      $("present-error").textContent = "";
      try {
        var r = await api("POST", "/kiosk/api/present", { dossier_code: $("dossier").value.trim(), officer_pin: $("pin").value });
        if (r.status === 401) { unpaired(); return; }
        var b = await r.json();
        if (!r.ok) { $("present-error").textContent = (b.error && b.error.message) || t("error"); return; }
        $("dossier").value = "";
        $("pin").value = "";
        $("present-form").parentElement.open = false;
        present(b);
      } catch (err) { $("present-error").textContent = t("offline"); }
    });
    start();
  }

  // The page survives a reload while offline (secure contexts only:
  // https, or the tablet's own machine).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/kiosk/sw.js", { scope: "/kiosk" }).catch(function (e) { console.warn("no offline page", e); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
