// `js-welcome.welcome_task`: a bulk action written in JavaScript.
//
// Built with componentize-js against `plugins/wit` (world `bulk-action`):
//
//     npx componentize-js welcome.js -w ../../wit -n bulk-action --disable http fetch-event -o js_welcome.wasm
//
// For every contact of the batch it returns a `create-task` effect: a task titled
// "<title> <name>" for the contact's owner. It asks for the `create-task` capability,
// which an admin approves.

// A `plugin-error`: componentize-js makes a value thrown from a function that returns a
// WIT `result` its `err` payload.
function fail(message, path) {
  throw { message, path };
}

// The argument tree as a JavaScript value (the root is the last node).
function valueOf(args, at) {
  const nodes = args.nodes;
  if (nodes.length === 0) return undefined;
  const node = nodes[at === undefined ? nodes.length - 1 : at];
  switch (node.tag) {
    case "list":
      return node.val.map((i) => valueOf(args, i));
    case "object":
      return Object.fromEntries(node.val.map(([key, i]) => [key, valueOf(args, i)]));
    case "null":
      return null;
    default:
      return node.val;
  }
}

export const action = {
  describe() {
    const schema = {
      type: "object",
      properties: {
        title: { type: "string", minLength: 1, title: "Task title (the contact's name is added)" },
      },
      required: ["title"],
      additionalProperties: false,
    };
    return {
      manifest: {
        name: "js-welcome",
        version: "0.1.0",
        description: "Welcome tasks for new contacts, written in JavaScript.",
        capabilities: ["create-task"],
      },
      actions: [{ name: "welcome_task", label: "Create a welcome task", paramsSchema: JSON.stringify(schema) }],
    };
  },

  run(name, params, contacts) {
    if (name !== "welcome_task") fail(`unknown action \`${name}\``);
    const p = valueOf(params);
    if (p === null || typeof p !== "object" || Array.isArray(p)) fail("expected an object", "params");
    if (typeof p.title !== "string" || p.title.length === 0) fail("expected a non-empty string", "params.title");
    for (const key of Object.keys(p)) {
      if (key !== "title") fail(`unknown key; expected one of: title`, `params.${key}`);
    }
    return contacts.map((contact) => ({
      contactId: contact.id,
      effect: {
        tag: "create-task",
        val: { title: `${p.title} ${contact.name}`, body: "", assignee: contact.owner, due: undefined },
      },
    }));
  },
};
