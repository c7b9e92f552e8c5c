/** Training tab: jobs with their status, a live loss curve from the job's event stream, start
 * and cancel. "loss" is the last logged training loss everywhere (the list's job.json `loss`,
 * the detail's latest log record, where the curve ends); the trainer's mean over the run is
 * shown as "mean train loss" (`train_loss`), never as "loss". */
import { follow, post, request } from './api';
import { button, clear, el, message } from './dom';

const FINAL = new Set(['completed', 'failed', 'cancelled']);

interface IPoint {
  step: number;
  loss: number;
}

/** The job status a record leaves behind: a result completes the job, an error fails it. */
function statusOf(r: any): string {
  if (r.type === 'result') {
    return 'completed';
  }
  if (r.type === 'error') {
    return 'failed';
  }
  return String(r.status ?? r.type);
}

function isNumber(value: unknown): boolean {
  return value !== null && value !== undefined && Number.isFinite(Number(value));
}

function lossText(loss: unknown): string {
  return isNumber(loss) ? Number(loss).toFixed(4) : '-';
}

/** The job's progress line: step, the last logged loss, and the mean once the job has one. */
function progressText(step: unknown, maxSteps: unknown, loss: unknown, trainLoss: unknown): string {
  const mean = isNumber(trainLoss) ? ` · mean train loss ${lossText(trainLoss)}` : '';
  return `step ${step ?? 0}/${maxSteps ?? '?'} · loss ${lossText(loss)}${mean}`;
}

export class LossChart {
  readonly canvas = el('canvas', { className: 'agentforge-loss' });
  readonly points: IPoint[] = [];

  constructor() {
    this.canvas.width = 320;
    this.canvas.height = 160;
  }

  add(step: number, loss: number): void {
    if (Number.isFinite(step) && Number.isFinite(loss)) {
      this.points.push({ step, loss });
      this.canvas.dataset.points = String(this.points.length);
      this.draw();
    }
  }

  draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) {
      return;
    }
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = '#999';
    ctx.strokeRect(30, 5, width - 35, height - 25);
    if (this.points.length < 1) {
      return;
    }
    const steps = this.points.map(p => p.step);
    const losses = this.points.map(p => p.loss);
    const [s0, s1] = [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)];
    const [l0, l1] = [Math.min(...losses), Math.max(...losses)];
    const span = l1 - l0 || 1;
    const x = (s: number) => 30 + ((s - s0) / (s1 - s0)) * (width - 35);
    const y = (l: number) => 5 + (1 - (l - l0) / span) * (height - 25);
    ctx.strokeStyle = '#1976d2';
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.points.forEach((p, i) => (i ? ctx.lineTo(x(p.step), y(p.loss)) : ctx.moveTo(x(p.step), y(p.loss))));
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.font = '10px sans-serif';
    ctx.fillText(l1.toFixed(3), 0, 12);
    ctx.fillText(l0.toFixed(3), 0, height - 20);
    ctx.fillText(`step ${s1}`, width - 60, height - 5);
  }
}

export class TrainingTab {
  readonly node = el('div', { className: 'agentforge-tab agentforge-training' });
  private readonly list = el('div', { className: 'agentforge-list' });
  private readonly detail = el('div', { className: 'agentforge-detail' });
  private readonly status = el('div', { className: 'agentforge-status' });
  private readonly spec = el('textarea', { className: 'agentforge-spec', attrs: { rows: '5' } });
  private stop: (() => void) | null = null;

  constructor() {
    // Placeholders, not a real model id: starting the form unchanged must not download.
    this.spec.value = JSON.stringify(
      {
        name: 'specialist',
        backend: 'local',
        base_model: 'a model directory or Hugging Face id',
        data: 'path/to/train.jsonl',
        max_steps: 20
      },
      null,
      1
    );
    this.node.append(
      el('div', { className: 'agentforge-form' }, el('label', {}, 'Job spec (JSON)', this.spec), button('Start training', () => this.start(), 'agentforge-train-start')),
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
    try {
      const jobs: any[] = await request(['training']);
      clear(this.list);
      if (!jobs.length) {
        this.list.appendChild(message('no training jobs'));
      }
      for (const j of jobs) {
        this.list.appendChild(
          el(
            'div',
            { className: 'agentforge-row', attrs: { 'data-job': String(j.id) } },
            button(String(j.name || j.id), () => this.show(String(j.id)), 'agentforge-link'),
            el('span', { className: 'agentforge-meta' }, ` ${j.status} · ${progressText(j.step, j.max_steps, j.loss, j.train_loss)}`)
          )
        );
      }
    } catch (err: any) {
      this.say(`could not list training jobs: ${err.message ?? err}`, 'error');
    }
  }

  private async start(): Promise<void> {
    let spec: unknown;
    try {
      spec = JSON.parse(this.spec.value);
    } catch (err: any) {
      this.say(`the spec is not valid JSON: ${err.message}`, 'error');
      return;
    }
    try {
      const r = await post(['training'], spec);
      this.say(`training job ${r.id} started`);
      await this.refresh();
      await this.show(r.id);
    } catch (err: any) {
      this.say(`could not start training: ${err.message ?? err}`, 'error');
    }
  }

  private async cancel(jobId: string): Promise<void> {
    try {
      await post(['training', jobId, 'cancel']);
      this.say(`cancelling ${jobId}`);
    } catch (err: any) {
      this.say(`could not cancel: ${err.message ?? err}`, 'error');
    }
  }

  async show(jobId: string): Promise<void> {
    this.stop?.();
    const job = await request(['training', jobId]);
    const chart = new LossChart();
    const state = el('div', { className: 'agentforge-job-status' }, `status: ${job.status}`);
    state.dataset.status = String(job.status);
    const latest = el('div', { className: 'agentforge-meta agentforge-latest' });
    // What job.json says now; the replayed records then bring it up to date, record by record.
    const progress = { step: job.step, maxSteps: job.max_steps, loss: job.loss, trainLoss: job.train_loss };
    const showProgress = () => {
      latest.textContent = progressText(progress.step, progress.maxSteps, progress.loss, progress.trainLoss);
    };
    showProgress();
    const log = el('ol', { className: 'agentforge-log' });
    const cancel = button('Cancel', () => this.cancel(jobId), 'agentforge-danger agentforge-cancel');
    cancel.disabled = FINAL.has(String(job.status));
    clear(this.detail);
    this.detail.append(el('h4', {}, `Job ${job.name || job.id}`), state, latest, chart.canvas, cancel, log);
    this.detail.dataset.job = jobId;
    const seen = new Set<number>();
    this.stop = follow(
      ['training', jobId, 'events'],
      r => {
        if (seen.has(r.seq)) {
          return;
        }
        seen.add(r.seq);
        if (r.type === 'log') {
          // An evaluation's record has no training loss: a row of its own, not a point at 0.
          if (isNumber(r.loss)) {
            chart.add(Number(r.step), Number(r.loss));
            Object.assign(progress, { step: r.step, maxSteps: r.max_steps, loss: r.loss });
            showProgress();
            log.appendChild(el('li', { className: 'agentforge-loss-record' }, `step ${r.step}: loss ${lossText(r.loss)}`));
          }
          if (isNumber(r.eval_loss)) {
            log.appendChild(el('li', { className: 'agentforge-eval-record' }, `step ${r.step}: eval loss ${lossText(r.eval_loss)}`));
          }
        } else if (r.type === 'status' || r.type === 'result' || r.type === 'error') {
          const text = statusOf(r);
          state.dataset.status = text;
          state.textContent = `status: ${text}${r.message ? ` (${r.message})` : ''}${r.error ? ` (${r.error})` : ''}`;
          cancel.disabled = FINAL.has(text);
          if (r.type === 'result') {
            Object.assign(progress, { step: r.steps ?? progress.step, trainLoss: r.train_loss });
            showProgress();
          }
          void this.refresh(); // the job list shows the new status too
        }
      },
      r => (r.type === 'status' && FINAL.has(r.status)) || r.type === 'result' || r.type === 'error',
      () => void this.refresh()
    );
  }
}
