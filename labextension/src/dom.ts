/**
 * DOM helpers. Every string from data, a model or the server is set with textContent:
 * nothing untrusted is ever parsed as HTML.
 */

export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [key, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(key, value);
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
}

export function clear(node: Node): void {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

export function button(
  label: string,
  onClick: () => void | Promise<void>,
  className = ''
): HTMLButtonElement {
  const b = el('button', {
    className: `jp-Button agentforge-button ${className}`.trim()
  });
  b.textContent = label;
  b.addEventListener('click', () => {
    void onClick();
  });
  return b;
}

const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

/** A chart from the server: only base64 PNG data becomes an image. */
export function pngImage(data: unknown): HTMLImageElement | null {
  if (typeof data !== 'string' || !BASE64.test(data)) {
    return null;
  }
  const img = el('img', { className: 'agentforge-chart' });
  img.alt = 'chart';
  img.src = `data:image/png;base64,${data.replace(/\s/g, '')}`;
  return img;
}

export function table(columns: string[], rows: unknown[][]): HTMLTableElement {
  const head = el('tr', {}, ...columns.map(c => el('th', {}, String(c))));
  const body = rows.map(row =>
    el('tr', {}, ...row.map(v => el('td', {}, v === null ? '' : String(v))))
  );
  return el(
    'table',
    { className: 'agentforge-table' },
    el('thead', {}, head),
    el('tbody', {}, ...body)
  );
}

export function message(text: string, kind: 'error' | 'info' = 'info'): HTMLElement {
  return el('div', { className: `agentforge-message agentforge-${kind}` }, text);
}
