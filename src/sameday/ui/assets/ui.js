// sameday dashboard: partial updates and the wall's rotation; nothing fetched from elsewhere.
(function () {
  "use strict";
  function busy() {
    var active = document.activeElement;
    return active && active.closest && active.closest("form") !== null;
  }
  function load(url, then) {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("X-Partial", "1");
    request.onload = function () { if (request.status === 200) { then(request.responseText); } };
    request.send();
  }
  // <main data-refresh="SECONDS">: the page's content is fetched again and swapped in place.
  var main = document.getElementById("main");
  var every = main && parseFloat(main.getAttribute("data-refresh"));
  if (every > 0) {
    setInterval(function () {
      if (document.hidden || busy()) { return; }
      load(location.href, function (html) { main.innerHTML = html; watch(); });
    }, every * 1000);
  }
  // <div data-src="URL" data-every="SECONDS">: replaced by URL's answer until it stops asking.
  function watch() {
    var parts = document.querySelectorAll("[data-src]");
    Array.prototype.forEach.call(parts, function (part) {
      if (part.getAttribute("data-watched")) { return; }
      part.setAttribute("data-watched", "1");
      var wait = (parseFloat(part.getAttribute("data-every")) || 5) * 1000;
      setTimeout(function () {
        load(part.getAttribute("data-src"), function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (fresh) { part.replaceWith(fresh); watch(); }
        });
      }, wait);
    });
  }
  watch();
  // The wall: after data-cycle seconds, the next running test (data-next) replaces this one.
  function cycle() {
    var slide = document.querySelector(".slide[data-cycle]");
    if (!slide) { return; }
    setTimeout(function () {
      load(slide.getAttribute("data-next"), function (html) { main.innerHTML = html; cycle(); });
    }, (parseFloat(slide.getAttribute("data-cycle")) || 20) * 1000);
  }
  cycle();
})();
