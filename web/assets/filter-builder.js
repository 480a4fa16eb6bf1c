// The filter builder of the contacts page: turns <div id="filter-builder"> into a tree of
// AND/OR groups (each can be negated) and conditions, keeps a live count of the contacts
// that match, shows the server's errors next to the condition they point at, and applies
// the filter by navigating to /contacts?filter=<json> (the table itself is rendered by the
// server, so the page reads the same without this script).
//
// Another form can host it (the segment form): `data-filter` gives the filter to start
// from instead of the address, `data-json-input` the id of the input that receives the
// filter JSON on every change, `data-apply="none"` leaves out Apply (the form saves), and
// every answer of the count URL is announced as a `filter-builder:counted` event
// ({status, body}) on the host, for what the form shows beside the count.
//
// Everything it offers comes from GET /contacts/filter-fields: the fields with their kinds
// and options, and for every operator of the enabled plugins its label and the JSON schema
// of its value. The value input is chosen from the operator's schema and the field's kind,
// so an operator a newly enabled plugin adds shows up with a sensible input.
//
// The filter JSON (DESIGN §5): {"and": [...]}, {"or": [...]}, {"not": {...}},
// {"field": "city", "op": "std.eq", "value": "Kraków"}. Errors name a path into it
// (`and[1].or[0].value`); the builder keeps the path of every node of the JSON it sends,
// so it can put each error next to its condition.
(function () {
  "use strict";

  const host = document.getElementById("filter-builder");
  if (!host) return;

  const params = new URLSearchParams(window.location.search);
  const urlFilter = (host.dataset.filter !== undefined ? host.dataset.filter : params.get("filter") || "").trim();
  const q = params.get("q") || "";
  const sort = params.get("sort") || "";
  const limit = params.get("limit") || "";
  const jsonBox = host.dataset.jsonInput
    ? document.getElementById(host.dataset.jsonInput)
    : document.querySelector("#filter-json textarea");
  const canApply = host.dataset.apply !== "none";

  let catalog = { fields: [], operators: {} };
  const fieldByPath = new Map();
  let tree = null;
  let nextId = 1;
  let countTimer = null;
  let countSeq = 0;
  // The nodes of the JSON last sent for a count, with their paths: [[path, node], ...].
  let sentPaths = [];

  // ---- DOM helpers ----------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (value === true) el.setAttribute(key, "");
      else el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child);
    }
    return el;
  }

  function input(attrs, value, onValue) {
    return h("input", Object.assign({ class: "fb-input" }, attrs, {
      value: value,
      oninput: (e) => onValue(e.target.value),
    }));
  }

  function selectOf(cls, options, current, onValue, placeholder) {
    const el = h("select", { class: cls, onchange: (e) => onValue(e.target.value) });
    if (placeholder !== undefined) el.append(h("option", { value: "", text: placeholder }));
    let found = false;
    for (const [value, label] of options) {
      const opt = h("option", { value: value, text: label });
      if (value === current) {
        opt.selected = true;
        found = true;
      }
      el.append(opt);
    }
    if (!found && current) {
      // A value the catalogue doesn't offer (an old option): keep it so the server says why.
      el.append(h("option", { value: current, text: current + " (unknown)", selected: true }));
    }
    return el;
  }

  // ---- the tree --------------------------------------------------------------------------

  function group(op, not, children) {
    return { kind: "group", id: nextId++, op: op, not: not, children: children };
  }

  function condition(field, op, value) {
    return { kind: "cond", id: nextId++, field: field, op: op, value: value, ui: null };
  }

  function join(parent, child) {
    return parent ? parent + "." + child : child;
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  // The tree of filter JSON; every node remembers its path in that JSON (`origPath`), so
  // the errors of the filter the page was opened with land on the right node.
  function fromJson(json, path) {
    if (!isObject(json)) throw new Error("not an object");
    for (const op of ["and", "or"]) {
      if (Array.isArray(json[op])) {
        const here = join(path, op);
        const g = group(op, false, json[op].map((item, i) => fromJson(item, here + "[" + i + "]")));
        g.origPath = path;
        return g;
      }
    }
    if ("not" in json) {
      const inner = fromJson(json.not, join(path, "not"));
      if (inner.kind === "group" && !inner.not) {
        inner.not = true;
        inner.origPath = path;
        return inner;
      }
      const g = group("and", true, [inner]);
      g.origPath = path;
      return g;
    }
    const c = condition(String(json.field || ""), String(json.op || ""), json.value);
    c.origPath = path;
    return c;
  }

  function walk(node, visit) {
    visit(node);
    if (node.kind === "group") node.children.forEach((child) => walk(child, visit));
  }

  function parent(of, node) {
    let found = null;
    walk(tree, (n) => {
      if (n.kind === "group" && n.children.includes(of)) found = n;
    });
    return found || node;
  }

  // ---- operators and values --------------------------------------------------------------

  function types(schema) {
    if (!schema || schema.type === undefined) return [];
    return Array.isArray(schema.type) ? schema.type : [schema.type];
  }

  function mentionsDate(schema) {
    if (!isObject(schema)) return false;
    if (schema.format === "date") return true;
    return (schema.anyOf || []).some(mentionsDate) || (schema.oneOf || []).some(mentionsDate);
  }

  function operator(name) {
    return catalog.operators[name] || null;
  }

  // `std.eq` for a bare `eq` on this field (a built-in first), or the name as written.
  function resolveOp(field, op) {
    if (!field || !op || op.includes(".")) return op;
    const names = field.operators.filter((n) => n.split(".")[1] === op);
    const builtin = names.find((n) => (operator(n) || {}).builtin);
    return builtin || names[0] || op;
  }

  function opLabel(name) {
    const o = operator(name);
    if (!o) return name + " (unknown)";
    return o.builtin ? o.label : o.label + " (" + o.plugin + ")";
  }

  // Whether an operator takes no value, an optional one, or needs one.
  function valueNeed(name) {
    const t = types((operator(name) || {}).args_schema);
    if (t.length === 1 && t[0] === "null") return "none";
    return t.includes("null") ? "optional" : "required";
  }

  // What a person types as a number: "1 500,50" is 1500.5; anything else goes to the
  // server as typed, which answers where it is wrong.
  function number(text) {
    const t = String(text).trim().replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    if (t === "") return undefined;
    return /^-?(\d+\.?\d*|\.\d+)$/.test(t) ? Number(t) : String(text).trim();
  }

  function text(v) {
    if (v === undefined || v === null) return "";
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  // A widget: `id` (its kind), `fromValue(value) -> ui`, `toValue(ui) -> value or
  // undefined when blank`, `render(ui, changed) -> element`. `ui` holds what was typed, so a
  // half-filled input survives re-rendering.
  const plain = (id, attrs, convert) => ({
    id: id,
    fromValue: (v) => ({ v: text(v) }),
    toValue: (ui) => (ui.v.trim() === "" ? undefined : convert(ui.v)),
    render: (ui, changed) => input(Object.assign({ class: "fb-input fb-value-input" }, attrs), ui.v, (v) => {
      ui.v = v;
      changed();
    }),
  });

  const W = {
    none: { id: "none", fromValue: () => ({}), toValue: () => undefined, render: () => null },
    text: plain("text", { type: "text", "aria-label": "Value" }, (v) => v),
    number: plain("number", { type: "text", inputmode: "decimal", class: "fb-input fb-value-input fb-number", "aria-label": "Number" }, number),
    json: plain("json", { type: "text", "aria-label": "Value (JSON or text)" }, (v) => {
      try {
        return JSON.parse(v);
      } catch (_) {
        return v;
      }
    }),
    date: {
      id: "date",
      fromValue: (v) => ({ v: typeof v === "string" && /^\d{4}-\d\d-\d\d/.test(v) ? v.slice(0, 10) : "" }),
      toValue: (ui) => ui.v || undefined,
      render: (ui, changed) => input({ type: "date", class: "fb-input fb-value-input", "aria-label": "Date" }, ui.v, (v) => {
        ui.v = v;
        changed();
      }),
    },
    // Date and time as the rest of the application reads it: UTC, to the minute.
    datetime: {
      id: "datetime",
      fromValue: (v) => {
        if (typeof v === "number") return { v: new Date(v * 1000).toISOString().slice(0, 16) };
        const m = typeof v === "string" && v.match(/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?/);
        return { v: m ? m[0].replace(" ", "T") : "" };
      },
      toValue: (ui) => ui.v || undefined,
      render: (ui, changed) => input({ type: "datetime-local", class: "fb-input fb-value-input", "aria-label": "Date and time (UTC)" }, ui.v, (v) => {
        ui.v = v;
        changed();
      }),
    },
    checkbox: {
      id: "checkbox",
      fromValue: (v) => ({ v: v === true }),
      toValue: (ui) => ui.v,
      render: (ui, changed) => h("label", { class: "check fb-check" },
        h("input", { type: "checkbox", class: "fb-value-input", checked: ui.v, onchange: (e) => {
          ui.v = e.target.checked;
          changed();
        } }), "yes"),
    },
  };

  function selectWidget(options, labels) {
    return {
      id: "select:" + options.join("|"),
      fromValue: (v) => ({ v: typeof v === "string" ? v : text(v) }),
      toValue: (ui) => ui.v || undefined,
      render: (ui, changed) => selectOf("fb-value-input", options.map((o, i) => [o, labels ? labels[i] : o]), ui.v, (v) => {
        ui.v = v;
        changed();
      }, "choose…"),
    };
  }

  // `type`: the options are lineage paths (`lead/warm`); the value is the type's key.
  function typeWidget(options) {
    const keys = options.map((o) => o.split("/").pop());
    return selectWidget(keys, options.map((o) => o.split("/").join(" › ")));
  }

  function listWidget(field) {
    const numeric = ["number", "integer", "money"].includes(field.kind);
    if (field.options && field.options.length) {
      return {
        id: "checks:" + field.options.join("|"),
        fromValue: (v) => ({ vs: Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : [] }),
        toValue: (ui) => (ui.vs.length ? ui.vs.slice() : undefined),
        render: (ui, changed) => h("span", { class: "fb-checks", role: "group", "aria-label": "Values" },
          field.options.map((o) => h("label", { class: "check" },
            h("input", { type: "checkbox", class: "fb-value-input", value: o, checked: ui.vs.includes(o), onchange: (e) => {
              ui.vs = ui.vs.filter((x) => x !== o);
              if (e.target.checked) ui.vs.push(o);
              changed();
            } }), o))),
      };
    }
    return {
      id: "list",
      fromValue: (v) => ({ v: Array.isArray(v) ? v.map(text).join(", ") : text(v) }),
      toValue: (ui) => {
        const items = ui.v.split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (!items.length) return undefined;
        return numeric ? items.map(number) : items;
      },
      render: (ui, changed) => input({ type: "text", class: "fb-input fb-value-input fb-wide", placeholder: "one, another, …", "aria-label": "Values, separated by commas" }, ui.v, (v) => {
        ui.v = v;
        changed();
      }),
    };
  }

  function pairWidget(inner) {
    return {
      id: "pair:" + inner.id,
      fromValue: (v) => Array.isArray(v) && v.length === 2
        ? { a: inner.fromValue(v[0]), b: inner.fromValue(v[1]) }
        : { a: inner.fromValue(undefined), b: inner.fromValue(undefined) },
      toValue: (ui) => {
        const a = inner.toValue(ui.a);
        const b = inner.toValue(ui.b);
        return a === undefined || b === undefined ? undefined : [a, b];
      },
      render: (ui, changed) => h("span", { class: "fb-inline" }, inner.render(ui.a, changed), h("span", { class: "muted", text: "and" }), inner.render(ui.b, changed)),
    };
  }

  function periodInputs(ui, units, changed, prefix) {
    return [
      input({ type: "text", inputmode: "numeric", class: "fb-input fb-small", "aria-label": prefix + "amount", placeholder: "30" }, ui.amount, (v) => {
        ui.amount = v;
        changed();
      }),
      selectOf("fb-unit", units.map((u) => [u, u]), ui.unit, (v) => {
        ui.unit = v;
        changed();
      }),
    ];
  }

  function periodWidget(units) {
    return {
      id: "period",
      fromValue: (v) => ({ amount: isObject(v) ? text(v.amount) : "", unit: isObject(v) && v.unit ? v.unit : units[0] }),
      toValue: (ui) => (ui.amount.trim() === "" ? undefined : { amount: number(ui.amount), unit: ui.unit }),
      render: (ui, changed) => h("span", { class: "fb-inline" }, periodInputs(ui, units, changed, "")),
    };
  }

  // `happened`: every part optional; "at least N times, in the last …, with property =
  // value, amount at least …".
  function activityWidget(props) {
    const units = (((props.within || {}).properties || {}).unit || {}).enum || ["days", "months", "years"];
    const title = (key, fallback) => (props[key] && props[key].title) || fallback;
    return {
      id: "activity",
      fromValue: (v) => {
        const o = isObject(v) ? v : {};
        const within = isObject(o.within) ? o.within : {};
        const where = Object.entries(isObject(o.where) ? o.where : {})[0] || ["", ""];
        return {
          times: text(o.times), amount: text(within.amount), unit: within.unit || units[0],
          key: where[0], val: text(where[1]), min: text(o.min_amount),
        };
      },
      toValue: (ui) => {
        const out = {};
        if (ui.times.trim()) out.times = number(ui.times);
        if (ui.amount.trim()) out.within = { amount: number(ui.amount), unit: ui.unit };
        if (ui.key.trim()) out.where = { [ui.key.trim()]: ui.val };
        if (ui.min.trim()) out.min_amount = number(ui.min);
        return Object.keys(out).length ? out : undefined;
      },
      render: (ui, changed) => {
        const small = (key, label, placeholder) => input({ type: "text", inputmode: "decimal", class: "fb-input fb-small", "aria-label": label, title: label, placeholder: placeholder }, ui[key], (v) => {
          ui[key] = v;
          changed();
        });
        return h("span", { class: "fb-activity" },
          h("span", { class: "fb-inline" }, h("span", { class: "muted", text: "at least" }), small("times", title("times", "At least this many times"), "1"), h("span", { class: "muted", text: "times" })),
          h("span", { class: "fb-inline" }, h("span", { class: "muted", text: "in the last" }), periodInputs(ui, units, changed, "within the last: ")),
          h("span", { class: "fb-inline" }, h("span", { class: "muted", text: "where" }),
            input({ type: "text", class: "fb-input fb-key", "aria-label": "Property", placeholder: "property" }, ui.key, (v) => {
              ui.key = v;
              changed();
            }), "=",
            input({ type: "text", class: "fb-input fb-key", "aria-label": "Property value", placeholder: "value" }, ui.val, (v) => {
              ui.val = v;
              changed();
            })),
          h("span", { class: "fb-inline" }, h("span", { class: "muted", text: "amount ≥" }), small("min", title("min_amount", "With an amount of at least"), "0")));
      },
    };
  }

  // `within_distance`: a city or "lat, lon", and kilometres.
  function distanceWidget(props) {
    const examples = ((props.place || {}).examples || []).map(String);
    const listId = "fb-places";
    return {
      id: "distance",
      fromValue: (v) => {
        const o = isObject(v) ? v : {};
        const where = o.place !== undefined ? text(o.place) : o.lat !== undefined ? text(o.lat) + ", " + text(o.lon) : "";
        return { where: where, km: text(o.km) };
      },
      toValue: (ui) => {
        if (!ui.where.trim() || !ui.km.trim()) return undefined;
        const point = ui.where.match(/^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/);
        const km = number(ui.km);
        return point ? { lat: Number(point[1]), lon: Number(point[2]), km: km } : { place: ui.where.trim(), km: km };
      },
      render: (ui, changed) => {
        if (examples.length && !document.getElementById(listId)) {
          host.append(h("datalist", { id: listId }, examples.map((e) => h("option", { value: e }))));
        }
        return h("span", { class: "fb-inline" },
          input({ type: "text", class: "fb-input", list: examples.length ? listId : null, placeholder: "Kraków or 50.06, 19.94", "aria-label": "City, or latitude and longitude" }, ui.where, (v) => {
            ui.where = v;
            changed();
          }),
          input({ type: "text", inputmode: "decimal", class: "fb-input fb-small", placeholder: "50", "aria-label": "Distance (km)" }, ui.km, (v) => {
            ui.km = v;
            changed();
          }),
          h("span", { class: "muted", text: "km" }));
      },
    };
  }

  function scalarWidget(field) {
    switch (field.kind) {
      case "number":
      case "integer":
      case "money":
      case "segment":
        return W.number;
      case "date":
        return W.date;
      case "datetime":
        return W.datetime;
      case "boolean":
        return W.checkbox;
      case "select":
      case "multiselect":
        return field.options.length ? selectWidget(field.options) : W.text;
      case "contact_type":
        return typeWidget(field.options);
      default:
        return W.text;
    }
  }

  // The input for `op` on `field`: from the operator's schema first, then the field's kind.
  function widgetFor(field, op) {
    if (!field || !op) return W.none;
    const schema = (operator(op) || {}).args_schema || {};
    const t = types(schema);
    if (t.length === 1 && t[0] === "null") return W.none;
    const props = isObject(schema.properties) ? schema.properties : {};
    if (props.km) return distanceWidget(props);
    if (props.times || props.min_amount || props.within) return activityWidget(props);
    if (props.amount && props.unit) return periodWidget(props.unit.enum || ["days", "months", "years"]);
    if (field.kind === "contact_type") return typeWidget(field.options);
    if (t.includes("array") && schema.minItems === 2 && schema.maxItems === 2) return pairWidget(scalarWidget(field));
    if (t.includes("array") || (schema.anyOf || []).some((s) => types(s).includes("array"))) return listWidget(field);
    if (mentionsDate(schema)) return W.date;
    if (t.length === 1 && (t[0] === "integer" || t[0] === "number")) return W.number;
    if (t.length === 1 && t[0] === "boolean") return W.checkbox;
    if (!operator(op)) return W.json;
    return scalarWidget(field);
  }

  // The widget of a condition with its typed state, made from its value when the widget
  // changed (another operator) or was never shown.
  function widgetOf(node) {
    const widget = widgetFor(fieldByPath.get(node.field), node.op);
    if (!node.ui || node.ui.widget !== widget.id) {
      node.ui = Object.assign(widget.fromValue(node.value), { widget: widget.id });
    }
    return widget;
  }

  // ---- to JSON -----------------------------------------------------------------------------

  // The filter JSON of `node` at `path`, recording [path, node] for every node sent.
  // `lenient` (for the live count) leaves out a condition still waiting for its value, so
  // the count doesn't turn into an error while a person is typing; Apply sends everything
  // and lets the server say what's missing. Conditions without a field and empty groups
  // are left out either way.
  function toJson(node, path, paths, lenient) {
    if (node.kind === "cond") {
      node.pending = false;
      if (!node.field) return null;
      const value = widgetOf(node).toValue(node.ui);
      if (lenient && value === undefined && valueNeed(node.op) === "required") {
        node.pending = true;
        return null;
      }
      paths.push([path, node]);
      const out = { field: node.field, op: node.op };
      if (value !== undefined) out.value = value;
      return out;
    }
    const inner = node.not ? join(path, "not") : path;
    const list = join(inner, node.op);
    const items = [];
    for (const child of node.children) {
      const json = toJson(child, list + "[" + items.length + "]", paths, lenient);
      if (json) items.push(json);
    }
    if (!items.length) return null;
    paths.push([path, node]);
    const json = { [node.op]: items };
    return node.not ? { not: json } : json;
  }

  function filterText(lenient, paths) {
    const json = toJson(tree, "", paths || [], lenient);
    return json ? JSON.stringify(json) : "";
  }

  // ---- rendering ---------------------------------------------------------------------------

  function fieldOptions() {
    const groups = [["Contact", []], ["Extra fields", []], ["Activities", []], ["Location", []], ["Other", []]];
    for (const f of catalog.fields) {
      let label = f.label;
      let at = 0;
      if (f.path.startsWith("fields.")) at = 1;
      else if (f.path.startsWith("activity.")) {
        at = 2;
        label = label.replace(/^Activity:\s*/, "");
      } else if (f.path === "location") at = 3;
      else if (f.path.includes(".")) at = 4;
      groups[at][1].push([f.path, label]);
    }
    return groups.filter(([, items]) => items.length);
  }

  function renderCondition(node) {
    const field = fieldByPath.get(node.field);
    const fieldSelect = h("select", { class: "fb-field", "aria-label": "Field", onchange: (e) => {
      node.field = e.target.value;
      const f = fieldByPath.get(node.field);
      node.op = f && f.operators.length ? f.operators[0] : "";
      node.value = undefined;
      node.ui = null;
      rerender({ id: node.id, cls: "fb-op" });
    } });
    fieldSelect.append(h("option", { value: "", text: "Choose a field…" }));
    for (const [label, items] of fieldOptions()) {
      fieldSelect.append(h("optgroup", { label: label }, items.map(([path, text]) => h("option", { value: path, text: text, selected: path === node.field }))));
    }
    if (node.field && !field) {
      fieldSelect.append(h("option", { value: node.field, text: node.field + " (unknown)", selected: true }));
    }
    const parts = [fieldSelect];
    if (node.field) {
      const ops = field ? field.operators : [];
      parts.push(selectOf("fb-op", ops.map((name) => [name, opLabel(name)]), node.op, (v) => {
        node.value = widgetOf(node).toValue(node.ui);
        node.op = v;
        rerender({ id: node.id, cls: "fb-value-input" });
      }));
      const widget = widgetOf(node);
      const valueEl = widget.render(node.ui, () => {
        node.value = widget.toValue(node.ui);
        changed();
      });
      if (valueEl) parts.push(h("span", { class: "fb-value" }, valueEl));
    }
    return h("div", { class: "fb-cond", "data-node": node.id },
      h("div", { class: "fb-row" }, parts,
        h("button", { type: "button", class: "fb-remove", title: "Remove this condition", "aria-label": "Remove condition", onclick: () => remove(node) }, "×")),
      h("p", { class: "fb-error", hidden: true, role: "alert" }));
  }

  function caption(node) {
    if (node.not) return node.op === "and" ? "Not all of these are true" : "None of these is true";
    return node.op === "and" ? "All of these are true" : "Any of these is true";
  }

  function renderGroup(node, isRoot) {
    const seg = (op) => h("button", {
      type: "button",
      class: "fb-" + op + (node.op === op ? " on" : ""),
      "aria-pressed": node.op === op ? "true" : "false",
      onclick: () => {
        node.op = op;
        rerender({ id: node.id, cls: "fb-" + op });
      },
    }, op.toUpperCase());
    const head = h("div", { class: "fb-head" },
      h("span", { class: "fb-seg", role: "group", "aria-label": "Combine with" }, seg("and"), seg("or")),
      h("label", { class: "check fb-not-label" }, h("input", { type: "checkbox", class: "fb-not", checked: node.not, onchange: (e) => {
        node.not = e.target.checked;
        rerender({ id: node.id, cls: "fb-not" });
      } }), "NOT"),
      h("span", { class: "fb-caption muted", text: caption(node) }),
      isRoot ? null : h("button", { type: "button", class: "fb-remove", title: "Remove this group", "aria-label": "Remove group", onclick: () => remove(node) }, "×"));
    const children = h("div", { class: "fb-children" }, node.children.map((child) => (child.kind === "group" ? renderGroup(child, false) : renderCondition(child))));
    if (!node.children.length) children.append(h("p", { class: "fb-empty muted", text: isRoot ? "No conditions: every contact. Add a condition to narrow the list." : "An empty group counts for nothing." }));
    const actions = h("div", { class: "fb-actions" },
      h("button", { type: "button", class: "fb-add-cond secondary", onclick: () => add(node, condition("", "", undefined), "fb-field") }, "+ Condition"),
      h("button", { type: "button", class: "fb-add-group secondary", onclick: () => add(node, group("and", false, [condition("", "", undefined)]), "fb-field") }, "+ Group"));
    return h("div", { class: "fb-group" + (isRoot ? " fb-root" : "") + (node.not ? " fb-negated" : ""), "data-node": node.id },
      head, children, actions, h("p", { class: "fb-error", hidden: true, role: "alert" }));
  }

  function add(into, node, focusCls) {
    into.children.push(node);
    let focusId = node.id;
    if (node.kind === "group") focusId = node.children[0].id;
    rerender({ id: focusId, cls: focusCls });
  }

  function remove(node) {
    const p = parent(node, tree);
    p.children = p.children.filter((c) => c !== node);
    rerender(null);
  }

  let treeEl = null;
  let countEl = null;
  let generalEl = null;

  function rerender(focus) {
    const fresh = renderGroup(tree, true);
    treeEl.replaceWith(fresh);
    treeEl = fresh;
    if (focus) {
      const el = treeEl.querySelector('[data-node="' + focus.id + '"] .' + focus.cls);
      if (el) el.focus();
    }
    changed();
  }

  function element(node) {
    return treeEl.querySelector('[data-node="' + node.id + '"]');
  }

  // ---- count, errors, apply ------------------------------------------------------------

  function changed() {
    if (jsonBox) jsonBox.value = filterText(false);
    clearTimeout(countTimer);
    countTimer = setTimeout(() => count(filterText(true, (sentPaths = [])), sentPaths), 300);
  }

  function clearErrors() {
    for (const el of treeEl.querySelectorAll(".fb-error")) {
      el.hidden = true;
      el.textContent = "";
      el.classList.remove("hint");
    }
    for (const el of treeEl.querySelectorAll(".has-error")) {
      el.classList.remove("has-error");
      delete el.dataset.bad;
    }
    generalEl.hidden = true;
    generalEl.textContent = "";
  }

  function showPending() {
    walk(tree, (node) => {
      if (node.kind !== "cond" || !node.pending) return;
      const el = element(node);
      const slot = el && el.querySelector(":scope > .fb-error");
      if (!slot) return;
      slot.textContent = "Not counted until it has a value.";
      slot.classList.add("hint");
      slot.hidden = false;
    });
  }

  // Puts `message` at the node whose path is the longest prefix of `path`.
  function showError(path, message, paths) {
    let best = null;
    for (const [p, node] of paths) {
      const under = p === "" || path === p || path.startsWith(p + ".") || path.startsWith(p + "[");
      if (under && (!best || p.length > best[0].length)) best = [p, node];
    }
    const el = best && best[1] !== tree ? element(best[1]) : null;
    const slot = el && el.querySelector(":scope > .fb-error");
    if (!slot) {
      // About the filter as a whole (or a node no longer shown): under the tree.
      generalEl.textContent = (path ? path + ": " : "") + message;
      generalEl.hidden = false;
      return;
    }
    // What is wrong inside the node: its field, its operator or (part of) its value; the
    // input is marked, and a part of the value is named (`value[0]`, `within.amount`).
    const rest = path.slice(best[0].length).replace(/^\./, "");
    const part = rest.match(/^(field|op|value)/);
    el.classList.add("has-error");
    if (part) el.dataset.bad = part[1];
    const detail = rest.replace(/^(field|op|value)(\.|$)/, "");
    slot.textContent = (detail ? detail + ": " : "") + message;
    slot.classList.remove("hint");
    slot.hidden = false;
  }

  function count(filter, paths) {
    const seq = ++countSeq;
    countEl.textContent = "Counting…";
    countEl.classList.remove("bad");
    const query = new URLSearchParams();
    if (filter) query.set("filter", filter);
    if (q) query.set("q", q);
    fetch(host.dataset.countUrl + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => response.json().then((body) => [response.status, body], () => [response.status, null]))
      .then(([status, body]) => {
        if (seq !== countSeq) return;
        host.dispatchEvent(new CustomEvent("filter-builder:counted", { detail: { status: status, body: body } }));
        clearErrors();
        showPending();
        if (status === 200 && body && typeof body.count === "number") {
          const n = body.count;
          countEl.textContent = n === 1 ? "1 contact matches" : n + " contacts match";
          return;
        }
        countEl.classList.add("bad");
        const error = (body && body.error) || {};
        if (status === 401) {
          countEl.textContent = "Signed out";
          generalEl.textContent = error.message || "Sign in again to count.";
          generalEl.hidden = false;
          return;
        }
        countEl.textContent = "Can't count: fix the filter";
        showError(error.path || "", error.message || "the server could not count (" + status + ")", paths);
      })
      .catch(() => {
        if (seq !== countSeq) return;
        countEl.textContent = "Can't count: the server did not answer";
        countEl.classList.add("bad");
      });
  }

  function apply() {
    const query = new URLSearchParams();
    if (sort) query.set("sort", sort);
    if (limit) query.set("limit", limit);
    if (q) query.set("q", q);
    const filter = filterText(false);
    if (filter) query.set("filter", filter);
    const search = query.toString();
    window.location.assign("/contacts" + (search ? "?" + search : ""));
  }

  function clearAll() {
    tree = group("and", false, []);
    rerender(null);
  }

  // ---- start -------------------------------------------------------------------------------

  function start() {
    for (const f of catalog.fields) fieldByPath.set(f.path, f);
    let loadNote = "";
    tree = group("and", false, []);
    if (urlFilter) {
      try {
        let parsed = fromJson(JSON.parse(urlFilter), "");
        if (parsed.kind === "cond") {
          const g = group("and", false, [parsed]);
          g.origPath = "";
          parsed = g;
        }
        tree = parsed;
      } catch (_) {
        loadNote = "The filter in the address can't be shown as conditions; edit it as JSON below, or build a new one here.";
      }
    }
    walk(tree, (node) => {
      if (node.kind === "cond") node.op = resolveOp(fieldByPath.get(node.field), node.op);
    });
    treeEl = h("div");
    countEl = h("span", { id: "filter-count", class: "fb-count", "aria-live": "polite" });
    generalEl = h("p", { id: "filter-builder-error", class: "error fb-general", hidden: true, role: "alert" });
    host.replaceChildren(
      h("div", { class: "fb-title" }, h("h2", { text: "Filter" }), h("span", { class: "muted", text: "Conditions on fields, activities and location; groups combine them with AND or OR." })),
      treeEl,
      generalEl,
      h("div", { class: "fb-footer" },
        countEl,
        canApply ? h("button", { type: "button", id: "filter-apply", class: "fb-apply", onclick: apply }, "Apply") : null,
        h("button", { type: "button", id: "filter-clear", class: "fb-clear secondary", onclick: clearAll }, "Clear")));
    host.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.tagName === "INPUT" && e.target.type !== "checkbox") {
        e.preventDefault();
        if (canApply) apply();
      }
    });
    host.hidden = false;
    const fresh = renderGroup(tree, true);
    treeEl.replaceWith(fresh);
    treeEl = fresh;
    if (jsonBox) jsonBox.value = urlFilter;
    if (loadNote) {
      generalEl.textContent = loadNote;
      generalEl.hidden = false;
      return;
    }
    if (urlFilter) {
      // The filter exactly as the address has it, so its errors carry the paths the page
      // was given; every node knows its path in it.
      const paths = [];
      walk(tree, (node) => {
        if (node.origPath !== undefined) paths.push([node.origPath, node]);
      });
      count(urlFilter, paths);
    } else {
      changed();
    }
  }

  fetch(host.dataset.fieldsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    })
    .then((body) => {
      catalog = { fields: body.fields || [], operators: body.operators || {} };
      start();
    })
    .catch((e) => {
      host.hidden = false;
      host.replaceChildren(h("p", { class: "error", text: "The filter builder could not load its fields (" + e.message + "); the filter can still be edited as JSON below." }));
    });
})();
