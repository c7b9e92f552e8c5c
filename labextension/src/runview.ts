/**
 * The live view of one run, built from its event stream: plan, each step's code, lint,
 * outputs and charts, repairs, errors and insights. Used by the Runs tab and by the MIME
 * renderer of `%%agent` outputs. Everything is rendered as text; charts only as PNG data.
 */
import { Widget } from '@lumino/widgets';

import { follow, request } from './api';
import { button, clear, el, message, pngImage, table } from './dom';

export type InsertCells = (runId: string) => Promise<number>;

const TABLE_MIME = 'application/vnd.agentforge.table+json';

export class RunView extends Widget {
  private stop: (() => void) | null = null;
  private readonly header = el('div', { className: 'agentforge-run-header' });
  private readonly statusLine = el('div', { className: 'agentforge-run-status' });
  private readonly planBox = el('ol', { className: 'agentforge-plan' });
  private readonly stepsBox = el('div', { className: 'agentforge-steps' });
  private readonly insightsBox = el('ul', { className: 'agentforge-insights' });
  private readonly notice = el('div', { className: 'agentforge-notice' });
  private readonly steps = new Map<string, HTMLElement>();
  private planDraft = '';
  readonly seen = new Set<number>();

  constructor(
    readonly runId: string,
    private readonly insert: InsertCells | null
  ) {
    super();
    this.addClass('agentforge-run');
    this.node.dataset.runId = runId;
    const actions = el('div', { className: 'agentforge-actions' });
    if (insert) {
      actions.appendChild(
        button('Insert as cells', () => this.insertCells(), 'agentforge-insert')
      );
    }
    actions.appendChild(
      button('Export', () => this.exportNotebook(), 'agentforge-export')
    );
    this.node.append(
      this.header,
      this.statusLine,
      actions,
      this.notice,
      el('h4', {}, 'Plan'),
      this.planBox,
      this.stepsBox,
      el('h4', {}, 'Insights'),
      this.insightsBox
    );
    this.statusLine.textContent = 'status: connecting…';
    this.stop = follow(
      ['runs', runId, 'events'],
      record => this.onEvent(record),
      record => record.type === 'run_end',
      why => this.say(why, 'info')
    );
  }

  dispose(): void {
    this.stop?.();
    this.stop = null;
    super.dispose();
  }

  private say(text: string, kind: 'error' | 'info' = 'info'): void {
    clear(this.notice);
    this.notice.appendChild(message(text, kind));
  }

  private async insertCells(): Promise<void> {
    if (!this.insert) {
      return;
    }
    try {
      const count = await this.insert(this.runId);
      this.say(`inserted ${count} cells into the notebook`);
    } catch (err: any) {
      this.say(`could not insert: ${err.message ?? err}`, 'error');
    }
  }

  private async exportNotebook(): Promise<void> {
    try {
      const notebook = await request(['runs', this.runId, 'export']);
      const blob = new Blob([JSON.stringify(notebook, null, 1)], {
        type: 'application/x-ipynb+json'
      });
      const link = el('a', { attrs: { download: `agentforge-${this.runId}.ipynb` } });
      link.href = URL.createObjectURL(blob);
      link.click();
      URL.revokeObjectURL(link.href);
      this.say('exported the run as a notebook');
    } catch (err: any) {
      this.say(`could not export: ${err.message ?? err}`, 'error');
    }
  }

  /** One event of the stream; a resumed stream never repeats one (seq is unique). */
  onEvent(e: any): void {
    if (typeof e.seq === 'number') {
      if (this.seen.has(e.seq)) {
        return;
      }
      this.seen.add(e.seq);
    }
    const handler = (this as any)[`on_${e.type}`];
    if (typeof handler === 'function') {
      handler.call(this, e);
    }
  }

  protected on_run_start(e: any): void {
    const dataset = e.dataset && typeof e.dataset === 'object' ? e.dataset.name : '';
    clear(this.header);
    this.header.append(
      el('div', { className: 'agentforge-goal' }, String(e.goal ?? '')),
      el(
        'div',
        { className: 'agentforge-meta' },
        `dataset: ${dataset || '-'} · brain: ${e.brain ?? ''} (${e.model ?? ''})`
      )
    );
    this.statusLine.textContent = 'status: running';
    this.node.dataset.status = 'running';
  }

  protected on_plan_delta(e: any): void {
    this.planDraft += String(e.text ?? '');
    if (!this.planBox.childElementCount) {
      this.planBox.dataset.draft = 'true';
      this.planBox.title = this.planDraft.slice(-400);
    }
  }

  protected on_plan(e: any): void {
    clear(this.planBox);
    delete this.planBox.dataset.draft;
    for (const step of e.plan?.steps ?? []) {
      this.planBox.appendChild(
        el('li', { className: 'agentforge-plan-step' }, String(step.title ?? ''))
      );
    }
  }

  private step(id: unknown, title = ''): HTMLElement {
    const key = String(id ?? '');
    let box = this.steps.get(key);
    if (!box) {
      box = el('div', { className: 'agentforge-step' }, el('h4', {}, title || key));
      this.steps.set(key, box);
      this.stepsBox.appendChild(box);
    }
    return box;
  }

  protected on_step_start(e: any): void {
    const title = `${e.index}/${e.total} ${e.step?.title ?? ''}`;
    this.step(e.step?.id, title);
  }

  protected on_code(e: any): void {
    this.step(e.step).appendChild(
      el(
        'details',
        { className: 'agentforge-code', attrs: { open: '' } },
        el('summary', {}, `code (attempt ${e.attempt})`),
        el('pre', {}, String(e.code ?? ''))
      )
    );
  }

  protected on_lint(e: any): void {
    const findings: any[] = Array.isArray(e.findings) ? e.findings : [];
    const text = e.ok
      ? `lint: ok${findings.length ? ` (${findings.length} warnings)` : ''}`
      : `lint rejected: ${findings.map(f => `${f.code} line ${f.line}: ${f.message}`).join('; ')}`;
    this.step(e.step).appendChild(
      el('div', { className: e.ok ? 'agentforge-lint' : 'agentforge-lint agentforge-bad' }, text)
    );
  }

  protected on_output(e: any): void {
    const box = this.step(e.step);
    if (e.kind === 'stream') {
      box.appendChild(el('pre', { className: 'agentforge-stream' }, String(e.text ?? '')));
    } else if (e.mime === 'image/png') {
      const img = pngImage(e.data);
      if (img) {
        box.appendChild(img);
      }
    } else if (e.mime === TABLE_MIME && e.data && Array.isArray(e.data.columns)) {
      box.appendChild(
        table(e.data.columns.map(String), Array.isArray(e.data.rows) ? e.data.rows : [])
      );
    } else if (e.mime === 'text/plain') {
      box.appendChild(el('pre', { className: 'agentforge-stream' }, String(e.data ?? '')));
    }
  }

  protected on_repair(e: any): void {
    this.step(e.step).appendChild(
      el('div', { className: 'agentforge-repair' }, `repair ${e.attempt}: ${e.reason ?? ''}`)
    );
  }

  protected on_error(e: any): void {
    const where = e.step ? this.step(e.step) : this.stepsBox;
    where.appendChild(
      el('div', { className: 'agentforge-bad' }, `error (${e.stage}): ${e.message ?? ''}`)
    );
  }

  protected on_execution(e: any): void {
    this.step(e.step).appendChild(
      el('div', { className: 'agentforge-meta' }, `ran: ${e.status} in ${Number(e.duration_s).toFixed(2)} s`)
    );
  }

  protected on_insight(e: any): void {
    this.insightsBox.appendChild(el('li', {}, String(e.text ?? '')));
  }

  protected on_limit(e: any): void {
    this.say(`limit reached: ${e.message ?? ''}`, 'error');
  }

  protected on_run_end(e: any): void {
    const reason = e.reason ? `: ${e.reason}` : '';
    this.statusLine.textContent = `status: ${e.status}${reason}`;
    this.node.dataset.status = String(e.status);
  }
}
