// Re-render the template preview as the operator types; nothing is saved.
"use strict";
(function () {
  const script = document.getElementById("orion-template-preview-script");
  const form = document.getElementById("template_form");
  const target = document.getElementById("orion-template-preview");
  if (!script || !form || !target) {
    return;
  }
  const url = script.dataset.previewUrl;
  let timer = null;
  let latest = 0;

  function refresh() {
    const request = ++latest;
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        // An older answer arriving late must not replace a newer one.
        if (html !== null && request === latest) {
          target.innerHTML = html;
        }
      })
      .catch(() => {});
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  if (!target.innerHTML.trim()) {
    refresh();
  }
})();
