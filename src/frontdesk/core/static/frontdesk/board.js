// The display board: a chime (and, when asked for with ?speech=1, a spoken call) on every call.
(function () {
  "use strict";
  const body = document.body;
  const speech = new URLSearchParams(location.search).get("speech") === "1";
  const lang = document.documentElement.lang || "en";
  let audio = null;

  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      const now = audio.currentTime;
      [880, 660].forEach(function (frequency, index) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + index * 0.35);
        gain.gain.exponentialRampToValueAtTime(0.4, now + index * 0.35 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + index * 0.35 + 0.6);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(now + index * 0.35);
        oscillator.stop(now + index * 0.35 + 0.65);
      });
      body.dataset.chimes = String(Number(body.dataset.chimes || "0") + 1);
    } catch (error) { /* no audio device: the board still shows the call */ }
  }

  function say(event) {
    if (!speech || !window.speechSynthesis) return;
    const words = lang === "es"
      ? "Número " + event.ticket_code.replace("-", " ") + ", " + event.service_point_name
      : "Ticket " + event.ticket_code.replace("-", " ") + ", " + event.service_point_name;
    const utterance = new SpeechSynthesisUtterance(words);
    utterance.lang = lang;
    window.speechSynthesis.speak(utterance);
  }

  body.addEventListener("frontdesk:event", function (message) {
    const event = message.detail;
    if (event.type === "visit.call" || event.type === "visit.call_out_of_order" || event.type === "visit.recall") {
      chime();
      say(event);
    }
  });

  // Browsers keep sound off until someone touches the page, unless the TV's browser is started
  // with autoplay allowed; offer the button only when sound is really blocked.
  const enable = document.querySelector("[data-enable-sound]");
  if (enable) {
    try {
      audio = new (window.AudioContext || window.webkitAudioContext)();
      enable.hidden = audio.state === "running";
    } catch (error) { enable.hidden = true; }
    enable.addEventListener("click", function () { chime(); enable.hidden = true; });
  }

  const clock = document.querySelector("[data-clock]");
  function tick() {
    if (!clock) return;
    clock.textContent = new Date().toLocaleTimeString(lang, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: clock.dataset.timeZone,
    });
  }
  tick();
  setInterval(tick, 10000);
})();
