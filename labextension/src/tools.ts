/** Tools tab: search, detail (source, doctests, verification), deprecate, remove. */
import { del, post, request } from './api';
import { button, clear, el, message } from './dom';

export class ToolsTab {
  readonly node = el('div', { className: 'agentforge-tab agentforge-tools' });
  private readonly list = el('div', { className: 'agentforge-list' });
  private readonly detail = el('div', { className: 'agentforge-detail' });
  private readonly status = el('div', { className: 'agentforge-status' });
  private readonly query = el('input', {
    className: 'agentforge-search',
    attrs: { type: 'search', placeholder: 'search tools for a goal…' }
  });

  constructor() {
    this.query.addEventListener('keydown', ev => {
      if (ev.key === 'Enter') {
        void this.refresh();
      }
    });
    this.node.append(
      el('div', { className: 'agentforge-form' }, this.query, button('Search', () => this.refresh())),
      this.status,
      this.list,
      this.detail
    );
  }

  private say(text: string, kind: 'error' | 'info' = 'info'): void {
    clear(this.status);
    this.status.appendChild(message(text, kind));
  }

  async refresh(): Promise<void> {
    const q = this.query.value.trim();
    try {
      const items: any[] = q
        ? await request(['tools', 'search'], {}, `?q=${encodeURIComponent(q)}&k=10`)
        : await request(['tools']);
      clear(this.list);
      if (!items.length) {
        this.list.appendChild(message(q ? 'no tool matches' : 'no tools registered'));
      }
      for (const t of items) {
        const summary = String(t.docstring ?? '').split('\n')[0];
        this.list.appendChild(
          el(
            'div',
            { className: 'agentforge-row', attrs: { 'data-name': String(t.name) } },
            button(`${t.name}@${t.version}`, () => this.show(t.name), 'agentforge-link'),
            el('span', { className: 'agentforge-meta' }, ` ${t.status ?? `score ${Number(t.score).toFixed(2)}`} `),
            el('span', {}, summary)
          )
        );
      }
    } catch (err: any) {
      this.say(`could not list tools: ${err.message ?? err}`, 'error');
    }
  }

  async show(name: string): Promise<void> {
    try {
      const t = await request(['tools', name]);
      const v = t.verification ?? {};
      const examples = (t.examples ?? []).map((x: any) =>
        el('pre', { className: 'agentforge-doctest' }, `>>> ${x.source ?? ''}${x.want ?? ''}`)
      );
      clear(this.detail);
      this.detail.append(
        el('h4', {}, `${t.name}@${t.version} (${t.status})`),
        el('div', { className: 'agentforge-meta' }, t.signature ?? ''),
        el('pre', { className: 'agentforge-docstring' }, String(t.docstring ?? '')),
        el(
          'div',
          { className: 'agentforge-meta' },
          `verification: ${v.passed ? 'passed' : `failed at ${v.stage}`} · ${v.examples_run ?? 0} doctest example(s) · isolation ${v.isolation ?? '?'}`
        ),
        el('h4', {}, 'Doctests'),
        ...examples,
        el('h4', {}, 'Source'),
        el('pre', { className: 'agentforge-source' }, String(t.source ?? '')),
        el(
          'div',
          { className: 'agentforge-actions' },
          button('Deprecate', () => this.deprecate(t.name)),
          button('Remove', () => this.remove(t.name), 'agentforge-danger')
        )
      );
    } catch (err: any) {
      this.say(`could not show ${name}: ${err.message ?? err}`, 'error');
    }
  }

  private async deprecate(name: string): Promise<void> {
    try {
      const r = await post(['tools', name, 'deprecate']);
      this.say(`deprecated ${r.deprecated.join(', ') || 'nothing'}`);
      await this.refresh();
      await this.show(name);
    } catch (err: any) {
      this.say(`could not deprecate ${name}: ${err.message ?? err}`, 'error');
    }
  }

  private async remove(name: string): Promise<void> {
    if (!window.confirm(`Delete every version of tool ${name}?`)) {
      return;
    }
    try {
      await del(['tools', name]);
      clear(this.detail);
      this.say(`removed ${name}`);
      await this.refresh();
    } catch (err: any) {
      this.say(`could not remove ${name}: ${err.message ?? err}`, 'error');
    }
  }
}

/** Brains tab: which brains exist, which is the default, and what models an endpoint serves. */
export class BrainsTab {
  readonly node = el('div', { className: 'agentforge-tab agentforge-brains' });
  private readonly list = el('div', { className: 'agentforge-list' });
  private readonly status = el('div', { className: 'agentforge-status' });

  constructor() {
    this.node.append(this.status, this.list);
  }

  async refresh(): Promise<void> {
    try {
      const items: any[] = await request(['brains']);
      clear(this.list);
      for (const b of items) {
        const models = el('div', { className: 'agentforge-meta' });
        this.list.appendChild(
          el(
            'div',
            { className: 'agentforge-row', attrs: { 'data-name': String(b.name) } },
            el('span', { className: 'agentforge-name' }, `${b.default ? '★ ' : ''}${b.name}`),
            el('span', { className: 'agentforge-meta' }, ` ${b.kind} · ${b.model ?? ''} · ${b.where ?? ''} `),
            button('Models', async () => {
              models.textContent = 'asking the endpoint…';
              try {
                const r = await request(['brains', b.name, 'models']);
                models.textContent = r.models.length ? r.models.join(', ') : '(no models listed)';
              } catch (err: any) {
                models.textContent = `could not list models: ${err.message ?? err}`;
              }
            }),
            models
          )
        );
      }
    } catch (err: any) {
      clear(this.status);
      this.status.appendChild(message(`could not list brains: ${err.message ?? err}`, 'error'));
    }
  }
}
