// The API reference at /docs, rendered on the server from the OpenAPI document: no third-party
// script on the origin that holds users' tokens, and nothing inline for the CSP to allow. Its
// stylesheet and its one small script (a filter) are static files in public/docs/.

type Json = Record<string, unknown>;
type Schema = Json;

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const MAX_DEPTH = 4;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/** Escaped text with `code` spans, the only markdown the descriptions use. */
function prose(text: unknown): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const anchor = (kind: string, name: string) => `${kind}-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf("/") + 1);
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (typeof s.format === "string") out.push(s.format);
  if (s.minLength !== undefined) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minItems !== undefined) out.push(`at least ${s.minItems} items`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (typeof s.pattern === "string") out.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  return out;
}

/** A schema's type in one line: a link for a component, `a | b` for unions, `array of …`. */
function typeLabel(s: Schema): string {
  if (typeof s.$ref === "string") {
    const name = refName(s.$ref);
    return `<a href="#${anchor("schema", name)}">${escapeHtml(name)}</a>`;
  }
  if (s.const !== undefined) return `<code>${escapeHtml(JSON.stringify(s.const))}</code>`;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(" | ");
  for (const key of ["anyOf", "oneOf"] as const) {
    if (Array.isArray(s[key])) return (s[key] as Schema[]).map(typeLabel).join(" | ");
  }
  if (Array.isArray(s.allOf)) return (s.allOf as Schema[]).map(typeLabel).join(" &amp; ");
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
  const labels = types.map((t) => (t === "array" && s.items ? `array of ${typeLabel(s.items as Schema)}` : escapeHtml(t)));
  return labels.join(" | ") || "any";
}

/** A schema as HTML: objects as a table of their properties (nested up to MAX_DEPTH), else its type. */
export function schemaHtml(s: Schema, depth = 0): string {
  const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
  const items = s.items as Schema | undefined;
  if (depth < MAX_DEPTH && Object.keys(properties).length > 0) {
    const required = new Set((s.required as string[] | undefined) ?? []);
    const rows = Object.entries(properties).map(
      ([name, prop]) =>
        `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="required">required</span>' : ""}</td>` +
        `<td>${schemaHtml(prop, depth + 1)}${describe(prop.description)}</td></tr>`,
    );
    return `<table class="properties"><tbody>${rows.join("")}</tbody></table>`;
  }
  if (depth < MAX_DEPTH && items?.properties) return `<span class="type">array of</span>${schemaHtml(items, depth + 1)}`;
  const details = constraints(s);
  const extra = details.length > 0 ? ` <span class="constraints">${escapeHtml(details.join(", "))}</span>` : "";
  return `<span class="type">${typeLabel(s)}</span>${extra}`;
}

const describe = (text: unknown) => (typeof text === "string" ? `<div class="description">${prose(text)}</div>` : "");

function parametersHtml(parameters: Json[]): string {
  if (parameters.length === 0) return "";
  const rows = parameters.map((p) => {
    const schema = (p.schema as Schema | undefined) ?? {};
    const description = p.description ?? schema.description;
    return (
      `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? ' <span class="required">required</span>' : ""}</td>` +
      `<td>${escapeHtml(p.in)}</td><td>${schemaHtml(schema, MAX_DEPTH)}${describe(description)}</td></tr>`
    );
  });
  return `<h4>Parameters</h4><table class="parameters"><thead><tr><th>Name</th><th>In</th><th>Type</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function contentHtml(content: Json | undefined): string {
  if (!content) return "";
  return Object.entries(content)
    .map(([type, media]) => {
      const schema = (media as Json).schema as Schema | undefined;
      return `<div class="media"><span class="media-type">${escapeHtml(type)}</span>${schema ? schemaHtml(schema) : ""}</div>`;
    })
    .join("");
}

function operationHtml(method: string, path: string, op: Json): string {
  const id = anchor("op", String(op.operationId ?? `${method}${path}`));
  const search = [method, path, op.summary, ...((op.tags as string[] | undefined) ?? [])].join(" ").toLowerCase();
  const secured = Array.isArray(op.security) && op.security.length > 0;
  const body = op.requestBody as Json | undefined;
  const responses = Object.entries((op.responses as Record<string, Json> | undefined) ?? {})
    .map(([status, r]) => `<div class="response"><h5><span class="status s${escapeHtml(status[0])}">${escapeHtml(status)}</span> ${prose(r.description ?? "")}</h5>${contentHtml(r.content as Json | undefined)}</div>`)
    .join("");
  return (
    `<article class="operation" id="${id}" data-search="${escapeHtml(search)}">` +
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code class="path">${escapeHtml(path)}</code></h3>` +
    (op.summary ? `<p class="summary">${prose(op.summary)}</p>` : "") +
    (op.description ? `<p>${prose(op.description)}</p>` : "") +
    (secured ? '<p class="auth">Requires <code>Authorization: Bearer &lt;access token&gt;</code></p>' : "") +
    parametersHtml((op.parameters as Json[] | undefined) ?? []) +
    (body ? `<h4>Request body</h4>${contentHtml(body.content as Json | undefined)}` : "") +
    `<h4>Responses</h4>${responses}</article>`
  );
}

type Operation = { method: string; path: string; op: Json };

function byTag(doc: Json): Map<string, Operation[]> {
  const groups = new Map<string, Operation[]>();
  for (const [path, item] of Object.entries((doc.paths as Record<string, Json> | undefined) ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const tag = ((op.tags as string[] | undefined) ?? ["Other"])[0]!;
      groups.set(tag, [...(groups.get(tag) ?? []), { method, path, op }]);
    }
  }
  return groups;
}

/** The whole page. `assets` is where public/docs/ is served from. */
export function renderReferencePage(doc: Json, assets = "/docs"): string {
  const info = (doc.info as Json | undefined) ?? {};
  const title = `${String(info.title ?? "API")} API reference`;
  const groups = byTag(doc);
  const schemas = ((doc.components as Json | undefined)?.schemas as Record<string, Schema> | undefined) ?? {};
  const toc = [...groups]
    .map(([tag, ops]) => {
      const links = ops.map(({ method, path, op }) => `<li><a href="#${anchor("op", String(op.operationId ?? `${method}${path}`))}"><span class="method ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a></li>`);
      return `<li><a href="#${anchor("tag", tag)}">${escapeHtml(tag)}</a><ul>${links.join("")}</ul></li>`;
    })
    .join("");
  const sections = [...groups]
    .map(([tag, ops]) => `<section class="tag" id="${anchor("tag", tag)}"><h2>${escapeHtml(tag)}</h2>${ops.map((o) => operationHtml(o.method, o.path, o.op)).join("")}</section>`)
    .join("");
  const schemaSection = Object.entries(schemas)
    .map(([name, s]) => `<article class="schema" id="${anchor("schema", name)}"><h3>${escapeHtml(name)}</h3>${describe(s.description)}${schemaHtml(s)}</article>`)
    .join("");
  const server = ((doc.servers as Json[] | undefined) ?? [])[0]?.url;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${assets}/reference.css">
<script src="${assets}/reference.js" defer></script>
</head>
<body>
<header>
<h1>${escapeHtml(title)} <span class="version">${escapeHtml(info.version ?? "")}</span></h1>
<p>Generated from <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi ?? "")}), which Postman and other clients import.${server ? ` Server: <code>${escapeHtml(server)}</code>.` : ""} Errors are <code>application/problem+json</code>; clients switch on <code>code</code>.</p>
<p class="filter" hidden><label for="filter">Filter operations</label> <input id="filter" type="search" autocomplete="off"></p>
</header>
<div class="layout">
<nav aria-label="Operations"><ul>${toc}<li><a href="#schemas">Schemas</a></li></ul></nav>
<main>${sections}<section id="schemas"><h2>Schemas</h2>${schemaSection}</section></main>
</div>
</body>
</html>
`;
}
