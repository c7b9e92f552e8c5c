/** Datasets tab: list, upload (file picker or drag and drop), preview table, profile, remove. */
import { del, request, upload } from './api';
import { button, clear, el, message, table } from './dom';

export class DatasetsTab {
  readonly node = el('div', { className: 'agentforge-tab agentforge-datasets' });
  private readonly list = el('div', { className: 'agentforge-list' });
  private readonly detail = el('div', { className: 'agentforge-detail' });
  private readonly status = el('div', { className: 'agentforge-status' });

  constructor() {
    const input = el('input', { attrs: { type: 'file', accept: '.csv,.tsv,.json,.jsonl,.parquet,.xlsx' } });
    input.addEventListener('change', () => {
      if (input.files && input.files.length) {
        void this.send(input.files[0]);
        input.value = '';
      }
    });
    const drop = el(
      'div',
      { className: 'agentforge-drop' },
      'Drop a CSV, TSV, JSON, JSONL, Parquet or Excel file here, or ',
      input
    );
    drop.addEventListener('dragover', ev => {
      ev.preventDefault();
      drop.classList.add('agentforge-drop-active');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('agentforge-drop-active'));
    drop.addEventListener('drop', ev => {
      ev.preventDefault();
      drop.classList.remove('agentforge-drop-active');
      const file = ev.dataTransfer?.files?.[0];
      if (file) {
        void this.send(file);
      }
    });
    this.node.append(drop, this.status, this.list, this.detail);
  }

  private say(text: string, kind: 'error' | 'info' = 'info'): void {
    clear(this.status);
    this.status.appendChild(message(text, kind));
  }

  async send(file: File): Promise<void> {
    this.say(`uploading ${file.name}…`);
    try {
      const info = await upload(file);
      this.say(`added ${info.name}: ${info.rows} rows × ${info.columns.length} columns`);
      await this.refresh();
      await this.preview(info.name);
    } catch (err: any) {
      this.say(`upload failed: ${err.message ?? err}`, 'error');
    }
  }

  async refresh(): Promise<void> {
    try {
      const items: any[] = await request(['datasets']);
      clear(this.list);
      if (!items.length) {
        this.list.appendChild(message('no datasets yet: upload one above'));
      }
      for (const d of items) {
        this.list.appendChild(
          el(
            'div',
            { className: 'agentforge-row', attrs: { 'data-name': String(d.name) } },
            el('span', { className: 'agentforge-name' }, String(d.name)),
            el('span', { className: 'agentforge-meta' }, ` ${d.format} · ${d.rows} rows · ${d.columns.length} cols `),
            button('Preview', () => this.preview(d.name)),
            button('Profile', () => this.profile(d.name)),
            button('Remove', () => this.remove(d.name), 'agentforge-danger')
          )
        );
      }
    } catch (err: any) {
      this.say(`could not list datasets: ${err.message ?? err}`, 'error');
    }
  }

  async preview(name: string): Promise<void> {
    try {
      const data = await request(['datasets', name, 'preview'], {}, '?n=20');
      clear(this.detail);
      this.detail.append(el('h4', {}, `Preview: ${name}`), table(data.columns, data.rows));
    } catch (err: any) {
      this.say(`could not preview ${name}: ${err.message ?? err}`, 'error');
    }
  }

  async profile(name: string): Promise<void> {
    try {
      const data = await request(['datasets', name, 'profile']);
      clear(this.detail);
      const rows = (data.columns ?? []).map((c: any) => [
        c.name,
        `${c.kind ?? ''} (${c.dtype ?? ''})`,
        c.nulls ?? '',
        c.unique ?? '',
        (c.examples ?? []).join(', ')
      ]);
      this.detail.append(
        el('h4', {}, `Profile: ${name} (${data.rows} rows)`),
        table(['column', 'type', 'missing', 'unique', 'examples'], rows)
      );
    } catch (err: any) {
      this.say(`could not profile ${name}: ${err.message ?? err}`, 'error');
    }
  }

  async remove(name: string): Promise<void> {
    if (!window.confirm(`Remove dataset ${name} and its stored copy?`)) {
      return;
    }
    try {
      await del(['datasets', name]);
      this.say(`removed ${name}`);
      clear(this.detail);
      await this.refresh();
    } catch (err: any) {
      this.say(`could not remove ${name}: ${err.message ?? err}`, 'error');
    }
  }
}
