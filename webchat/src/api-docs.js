// Renders the backend's OpenAPI document as a plain, offline page (no CDN, no innerHTML).
(function () {
  "use strict";
  const root = document.getElementById("api-docs");
  const target = document.getElementById("api-paths");
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  fetch(root.dataset.spec, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((spec) => {
      target.textContent = "";
      const paths = spec.paths || {};
      Object.keys(paths).sort().forEach((path) => {
        Object.entries(paths[path]).forEach(([method, op]) => {
          const card = el("section", null, "op");
          const head = el("h2");
          head.appendChild(el("span", method.toUpperCase(), "method " + method));
          head.appendChild(el("code", " " + path));
          card.appendChild(head);
          if (op.summary) card.appendChild(el("p", op.summary, "summary"));
          if (op.description) card.appendChild(el("p", op.description.replace(/<br>/g, "\n"), "description"));
          const list = el("ul", null, "responses");
          Object.entries(op.responses || {}).forEach(([status, resp]) => {
            list.appendChild(el("li", status + " — " + (resp.description || "")));
          });
          card.appendChild(list);
          target.appendChild(card);
        });
      });
    })
    .catch((err) => { target.textContent = "Could not load the OpenAPI document: " + err; });
})();
