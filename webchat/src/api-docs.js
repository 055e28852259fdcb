// Renders the backend's OpenAPI document as an offline page (no CDN, no innerHTML): operations
// grouped by tag with a table of contents, each one's parameters, request body schema and
// responses (status code, description, schema; `$ref`s resolved to components/schemas).
(function () {
  "use strict";
  const root = document.getElementById("api-docs");
  const target = document.getElementById("api-paths");
  const toc = document.getElementById("api-toc");
  const METHODS = ["get", "post", "put", "patch", "delete"];
  const MAX_DEPTH = 4; // nested schemas shown inline; deeper ones by name only
  let components = {};

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null && text !== "") node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  /** Text with `code spans` as <code> and line breaks (<br> or \n) kept: a paragraph node. */
  function markdown(text, cls) {
    const p = el("p", null, cls);
    String(text)
      .replace(/<br\s*\/?>/g, "\n")
      .split(/(`[^`]+`)/)
      .forEach((part) => {
        if (part.length > 2 && part[0] === "`" && part[part.length - 1] === "`") p.appendChild(el("code", part.slice(1, -1)));
        else if (part) p.appendChild(document.createTextNode(part));
      });
    return p;
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  function resolve(schema) {
    if (schema && schema.$ref) return components[refName(schema.$ref)] || {};
    return schema || {};
  }

  /** A schema's type in a few words: «string», «array of Ticket», «integer | null». */
  function typeText(schema) {
    if (!schema) return "any";
    if (schema.$ref) return refName(schema.$ref);
    if (schema.anyOf || schema.oneOf) return (schema.anyOf || schema.oneOf).map(typeText).join(" | ");
    if (schema.allOf) return schema.allOf.map(typeText).join(" & ");
    if (schema.type === "array") return "array of " + typeText(schema.items);
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    let text = schema.type || (schema.properties ? "object" : "any");
    if (schema.format) text += " (" + schema.format + ")";
    if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
      text = "object of " + typeText(schema.additionalProperties);
    }
    return text;
  }

  function constraints(schema) {
    const out = [];
    if (schema.enum) out.push("one of: " + schema.enum.map((v) => JSON.stringify(v)).join(", "));
    if (schema.minimum !== undefined) out.push("≥ " + schema.minimum);
    if (schema.maximum !== undefined) out.push("≤ " + schema.maximum);
    if (schema.minLength !== undefined) out.push("min length " + schema.minLength);
    if (schema.maxLength !== undefined) out.push("max length " + schema.maxLength);
    if (schema.pattern) out.push("pattern " + schema.pattern);
    if (schema.default !== undefined && schema.default !== null) out.push("default " + JSON.stringify(schema.default));
    return out.join(" · ");
  }

  /** The object schema behind `schema` (through $ref, arrays and «X | null»), if any. */
  function objectOf(schema, depth) {
    if (!schema || depth > MAX_DEPTH) return null;
    if (schema.$ref) return objectOf(resolve(schema), depth);
    if (schema.type === "array") return objectOf(schema.items, depth);
    const choices = schema.anyOf || schema.oneOf;
    if (choices) {
      const real = choices.filter((c) => c.type !== "null");
      return real.length === 1 ? objectOf(real[0], depth) : null;
    }
    return schema.properties ? schema : null;
  }

  /** A <table> of class `cls` with a header row of `headings`, and its (empty) body. */
  function headedTable(cls, headings) {
    const table = el("table", null, cls);
    const row = el("tr");
    headings.forEach((h) => {
      const th = el("th", h);
      th.scope = "col";
      row.appendChild(th);
    });
    const thead = el("thead");
    thead.appendChild(row);
    table.appendChild(thead);
    const body = el("tbody");
    table.appendChild(body);
    return [table, body];
  }

  /** A table of an object schema's properties: name, type, required, description; nested objects below. */
  function schemaTable(schema, depth, seen) {
    const object = objectOf(schema, depth);
    if (!object) {
      return el("p", typeText(schema) + (constraints(resolve(schema)) ? " · " + constraints(resolve(schema)) : ""), "schema-type");
    }
    const required = object.required || [];
    const [table, body] = headedTable("schema", ["Field", "Type", "Description"]);
    Object.keys(object.properties).forEach((name) => {
      const prop = object.properties[name];
      const row = el("tr");
      const cell = el("td");
      cell.appendChild(el("code", name));
      if (required.indexOf(name) !== -1) cell.appendChild(el("span", "required", "required"));
      row.appendChild(cell);
      row.appendChild(el("td", typeText(prop), "type"));
      const desc = el("td");
      const resolved = resolve(prop);
      const text = prop.description || resolved.description || "";
      if (text) desc.appendChild(markdown(text, "field-description"));
      const limits = constraints(prop.anyOf ? prop.anyOf.find((c) => c.type !== "null") || prop : prop);
      if (limits) desc.appendChild(el("p", limits, "constraints"));
      const nested = objectOf(prop, depth + 1);
      const nestedName = nestedRef(prop);
      if (nested && depth < MAX_DEPTH && !(nestedName && seen.indexOf(nestedName) !== -1)) {
        const details = el("details", null, "nested");
        details.appendChild(el("summary", (nestedName || "object") + " fields"));
        details.appendChild(schemaTable(nested, depth + 1, nestedName ? seen.concat([nestedName]) : seen));
        desc.appendChild(details);
      }
      row.appendChild(desc);
      body.appendChild(row);
    });
    return table;
  }

  function nestedRef(schema) {
    if (!schema) return null;
    if (schema.$ref) return refName(schema.$ref);
    if (schema.type === "array") return nestedRef(schema.items);
    const choices = schema.anyOf || schema.oneOf;
    if (choices) {
      const real = choices.filter((c) => c.type !== "null");
      return real.length === 1 ? nestedRef(real[0]) : null;
    }
    return null;
  }

  function contentSchema(content) {
    if (!content) return null;
    const type = Object.keys(content)[0];
    return type ? { type: type, schema: content[type].schema } : null;
  }

  function schemaBlock(schema, mediaType) {
    const box = el("div", null, "schema-block");
    const name = nestedRef(schema);
    const label = el("p", null, "schema-name");
    label.appendChild(document.createTextNode((mediaType || "application/json") + " · "));
    label.appendChild(el("code", typeText(schema)));
    box.appendChild(label);
    box.appendChild(schemaTable(schema, 0, name ? [name] : []));
    return box;
  }

  function slug(text) {
    return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  }

  function operation(path, method, op) {
    const id = "op-" + slug(op.operationId || method + "-" + path);
    const card = el("article", null, "op");
    card.id = id;
    card.setAttribute("aria-labelledby", id + "-title");
    const head = el("h3");
    head.id = id + "-title";
    head.appendChild(el("span", method.toUpperCase(), "method " + method));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("code", path, "path"));
    card.appendChild(head);
    if (op.summary) card.appendChild(markdown(op.summary, "summary"));
    if (op.description) card.appendChild(markdown(op.description, "description"));

    const params = op.parameters || [];
    if (params.length) {
      card.appendChild(el("h4", "Parameters"));
      const [table, body] = headedTable("schema params", ["Name", "In", "Type", "Description"]);
      params.forEach((p) => {
        const row = el("tr");
        const cell = el("td");
        cell.appendChild(el("code", p.name));
        if (p.required) cell.appendChild(el("span", "required", "required"));
        row.appendChild(cell);
        row.appendChild(el("td", p.in));
        row.appendChild(el("td", typeText(p.schema), "type"));
        const desc = el("td");
        if (p.description) desc.appendChild(markdown(p.description, "field-description"));
        const limits = p.schema ? constraints(p.schema) : "";
        if (limits) desc.appendChild(el("p", limits, "constraints"));
        row.appendChild(desc);
        body.appendChild(row);
      });
      card.appendChild(table);
    }

    const request = op.requestBody && contentSchema(op.requestBody.content);
    if (request) {
      card.appendChild(el("h4", "Request body" + (op.requestBody.required ? " (required)" : "")));
      card.appendChild(schemaBlock(request.schema, request.type));
    }

    card.appendChild(el("h4", "Responses"));
    const list = el("ul", null, "responses");
    Object.keys(op.responses || {})
      .sort()
      .forEach((status) => {
        const resp = op.responses[status];
        const item = el("li", null, "response");
        item.setAttribute("data-status", status);
        const line = el("p", null, "response-line");
        line.appendChild(el("span", status, "status status-" + status[0]));
        line.appendChild(document.createTextNode(" " + (resp.description || "")));
        item.appendChild(line);
        const body = contentSchema(resp.content);
        if (body && body.schema) {
          const details = el("details", null, "response-schema");
          if (status[0] === "2") details.open = true;
          details.appendChild(el("summary", "Schema: " + typeText(body.schema)));
          details.appendChild(schemaBlock(body.schema, body.type));
          item.appendChild(details);
        }
        list.appendChild(item);
      });
    card.appendChild(list);
    return card;
  }

  function render(spec) {
    components = (spec.components && spec.components.schemas) || {};
    target.textContent = "";
    toc.textContent = "";
    if (spec.info && spec.info.description) root.insertBefore(markdown(spec.info.description, "intro"), target);
    const byTag = {};
    const order = (spec.tags || []).map((t) => t.name);
    const paths = spec.paths || {};
    Object.keys(paths)
      .sort()
      .forEach((path) => {
        METHODS.forEach((method) => {
          const op = paths[path][method];
          if (!op) return;
          const tag = (op.tags && op.tags[0]) || "other";
          if (order.indexOf(tag) === -1) order.push(tag);
          (byTag[tag] = byTag[tag] || []).push([path, method, op]);
        });
      });
    const tocList = el("ol", null, "toc-tags");
    order.forEach((tag) => {
      const ops = byTag[tag];
      if (!ops) return;
      const section = el("section", null, "tag");
      section.id = "tag-" + slug(tag);
      section.setAttribute("aria-labelledby", section.id + "-title");
      const title = el("h2", tag);
      title.id = section.id + "-title";
      section.appendChild(title);
      const tocItem = el("li");
      const tagLink = el("a", tag + " (" + ops.length + ")");
      tagLink.href = "#" + section.id;
      tocItem.appendChild(tagLink);
      const opsList = el("ul");
      ops.forEach(([path, method, op]) => {
        const card = operation(path, method, op);
        section.appendChild(card);
        const li = el("li");
        const link = el("a", null, "toc-op");
        link.href = "#" + card.id;
        link.appendChild(el("span", method.toUpperCase(), "method-small " + method));
        link.appendChild(document.createTextNode(" " + path.replace(/^\/api\/v1/, "")));
        li.appendChild(link);
        opsList.appendChild(li);
      });
      tocItem.appendChild(opsList);
      tocList.appendChild(tocItem);
      target.appendChild(section);
    });
    toc.appendChild(tocList);
    if (window.location.hash) {
      const node = document.getElementById(window.location.hash.slice(1));
      if (node) node.scrollIntoView();
    }
  }

  fetch(root.dataset.spec, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then(render)
    .catch((err) => {
      target.textContent = "Could not load the OpenAPI document: " + err;
    });
})();
