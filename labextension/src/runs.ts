/** Runs tab: start a run (goal, dataset, brain, steps), watch it live, and past runs. */
import { Panel } from '@lumino/widgets';

import { post, request } from './api';
import { button, clear, el, message } from './dom';
import { InsertCells, RunView } from './runview';

export class RunsTab {
  readonly node = el('div', { className: 'agentforge-tab agentforge-runs' });
  readonly viewHost = new Panel();
  private view: RunView | null = null;
  private readonly goal = el('textarea', {
    className: 'agentforge-goal-input',
    attrs: { rows: '3', placeholder: 'e.g. which region drove Q3 revenue growth?' }
  });
  private readonly dataset = el('select', { className: 'agentforge-dataset-select' });
  private readonly brain = el('select', { className: 'agentforge-brain-select' });
  private readonly steps = el('input', { attrs: { type: 'number', min: '1', max: '50', value: '6' } });
  private readonly status = el('div', { className: 'agentforge-status' });
  private readonly history = el('div', { className: 'agentforge-list' });

  constructor(private readonly insert: InsertCells | null) {
    this.viewHost.addClass('agentforge-run-host');
    this.node.append(
      el(
        'div',
        { className: 'agentforge-form' },
        el('label', {}, 'Goal', this.goal),
        el('label', {}, 'Dataset ', this.dataset),
        el('label', {}, 'Brain ', this.brain),
        el('label', {}, 'Steps ', this.steps),
        button('Start run', () => this.start(), 'agentforge-start')
      ),
      this.status,
      this.history
    );
  }

  private say(text: string, kind: 'error' | 'info' = 'info'): void {
    clear(this.status);
    this.status.appendChild(message(text, kind));
  }

  private fill(select: HTMLSelectElement, names: string[], preferred?: string): void {
    const keep = select.value;
    clear(select);
    for (const name of names) {
      const option = el('option', {}, name);
      option.value = name;
      select.appendChild(option);
    }
    select.value = names.includes(keep) ? keep : preferred ?? names[0] ?? '';
  }

  async refresh(): Promise<void> {
    try {
      const [datasets, brains, runs] = await Promise.all([
        request(['datasets']),
        request(['brains']),
        request(['runs'], {}, '?limit=20')
      ]);
      this.fill(this.dataset, datasets.map((d: any) => String(d.name)));
      const def = brains.find((b: any) => b.default);
      this.fill(this.brain, brains.map((b: any) => String(b.name)), def?.name);
      clear(this.history);
      for (const r of runs) {
        this.history.appendChild(
          el(
            'div',
            { className: 'agentforge-row', attrs: { 'data-run': String(r.id) } },
            button(String(r.id), () => this.show(String(r.id)), 'agentforge-link'),
            el('span', { className: 'agentforge-meta' }, ` ${r.status} · `),
            el('span', {}, String(r.goal ?? ''))
          )
        );
      }
    } catch (err: any) {
      this.say(`could not load runs: ${err.message ?? err}`, 'error');
    }
  }

  async start(): Promise<void> {
    const goal = this.goal.value.trim();
    if (!goal) {
      this.say('write a goal first', 'error');
      return;
    }
    try {
      const r = await post(['runs'], {
        goal,
        dataset: this.dataset.value || null,
        brain: this.brain.value || null,
        steps: Number(this.steps.value) || undefined
      });
      this.say(`run ${r.id} started`);
      this.show(r.id);
    } catch (err: any) {
      this.say(`could not start the run: ${err.message ?? err}`, 'error');
    }
  }

  show(runId: string): void {
    this.view?.dispose();
    this.view = new RunView(runId, this.insert);
    this.viewHost.addWidget(this.view);
  }
}
