/** Tiny DOM builder: text always goes in as text nodes, never as HTML (no injection from data). */
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children.flat());
  return element;
}

function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children.flat());
}

/**
 * Redraws `target` only when `data` differs from what it was drawn from: a periodic refresh then
 * leaves alone what the admin is reading (a text selection, an open <details>, the scroll position).
 */
export function drawIfChanged<T>(target: HTMLElement, data: T, draw: (data: T) => void): void {
  const fingerprint = JSON.stringify(data);
  if (drawnFrom.get(target) === fingerprint) return;
  drawnFrom.set(target, fingerprint);
  draw(data);
}
const drawnFrom = new WeakMap<HTMLElement, string>();
