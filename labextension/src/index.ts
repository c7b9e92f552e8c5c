/**
 * AgentForge for JupyterLab: a left-sidebar panel (datasets, tools, brains, runs, training)
 * over the server extension's REST + SSE API, and a MIME renderer so that a `%%agent` output
 * shows the same live run view with "Insert as cells".
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { LabIcon } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { request } from './api';
import { DatasetsTab } from './datasets';
import { button, el, message } from './dom';
import { RunsTab } from './runs';
import { InsertCells, RunView } from './runview';
import { BrainsTab, ToolsTab } from './tools';
import { TrainingTab } from './training';

export const RUN_MIME = 'application/vnd.agentforge.run+json';
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const icon = new LabIcon({
  name: 'agentforge:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><path class="jp-icon3" fill="#616161" d="M12 2 3 7v10l9 5 9-5V7zm0 2.3L18.7 8 12 11.7 5.3 8zM5 9.7l6 3.3v6.6l-6-3.3zm8 9.9V13l6-3.3v6.6z"/></svg>'
});

function text(value: any): string {
  return Array.isArray(value) ? value.map(String).join('') : String(value ?? '');
}

const PNG_DATA = /^[A-Za-z0-9+/=\s]+$/;

/** A run output as the notebook keeps it, from the safe parts only: stream text, PNG charts
 * and the plain-text form of tables. HTML (the exported table's text/html) is dropped. */
function safeOutput(output: any): any | null {
  if (output?.output_type === 'stream') {
    const name = output.name === 'stderr' ? 'stderr' : 'stdout';
    return { output_type: 'stream', name, text: text(output.text) };
  }
  if (output?.output_type !== 'display_data' && output?.output_type !== 'execute_result') {
    return null;
  }
  const data: Record<string, string> = {};
  const png = output.data?.['image/png'];
  if (typeof png === 'string' && PNG_DATA.test(png)) {
    data['image/png'] = png.replace(/\s/g, '');
  }
  if (output.data?.['text/plain'] !== undefined) {
    data['text/plain'] = text(output.data['text/plain']);
  }
  return Object.keys(data).length ? { output_type: 'display_data', data, metadata: {} } : null;
}

function codeParts(cell: any): any {
  const outputs = (Array.isArray(cell.outputs) ? cell.outputs : [])
    .map(safeOutput)
    .filter((o: any) => o !== null);
  const count = Number.isInteger(cell.execution_count) ? cell.execution_count : null;
  return { outputs, execution_count: count };
}

/** Put the run's exported cells below the active cell, with their outputs (so the charts show
 * without re-running), provenance under `agentforge`. */
function makeInserter(tracker: INotebookTracker): InsertCells {
  return async (runId: string) => {
    const panel = tracker.currentWidget;
    if (!panel || !panel.content.model) {
      throw new Error('open a notebook first: the cells go into the active notebook');
    }
    const notebook = await request(['runs', runId, 'export']);
    const origin = notebook.metadata?.agentforge ?? {};
    const inserted = new Date().toISOString();
    const cells = (notebook.cells ?? []).map((cell: any, i: number) => ({
      cell_type: cell.cell_type === 'code' ? 'code' : 'markdown',
      source: text(cell.source),
      ...(cell.cell_type === 'code' ? codeParts(cell) : {}),
      metadata: {
        ...(cell.metadata?.tags ? { tags: cell.metadata.tags } : {}),
        agentforge: {
          ...(cell.metadata?.agentforge ?? {}),
          run_id: runId,
          goal: origin.goal ?? '',
          brain: origin.brain ?? '',
          model: origin.model ?? '',
          cell: i,
          inserted
        }
      }
    }));
    const content = panel.content;
    const at = content.activeCellIndex >= 0 ? content.activeCellIndex + 1 : content.widgets.length;
    content.model!.sharedModel.insertCells(at, cells);
    return cells.length;
  };
}

class AgentForgePanel extends Widget {
  private readonly tabs: Record<string, { node: HTMLElement; refresh: () => Promise<void> }>;
  private readonly bar = el('div', { className: 'agentforge-tabbar', attrs: { role: 'tablist' } });
  private readonly body = el('div', { className: 'agentforge-body' });

  constructor(insert: InsertCells | null) {
    super();
    this.id = 'agentforge-panel';
    this.addClass('agentforge-panel');
    this.title.icon = icon;
    this.title.caption = 'AgentForge';
    const datasets = new DatasetsTab();
    const tools = new ToolsTab();
    const brains = new BrainsTab();
    const runs = new RunsTab(insert);
    const training = new TrainingTab();
    runs.node.appendChild(runs.viewHost.node);
    this.tabs = {
      Datasets: { node: datasets.node, refresh: () => datasets.refresh() },
      Tools: { node: tools.node, refresh: () => tools.refresh() },
      Brains: { node: brains.node, refresh: () => brains.refresh() },
      Runs: { node: runs.node, refresh: () => runs.refresh() },
      Training: { node: training.node, refresh: () => training.refresh() }
    };
    for (const name of Object.keys(this.tabs)) {
      const tab = button(name, () => this.select(name), 'agentforge-tab-button');
      tab.dataset.tab = name;
      tab.setAttribute('role', 'tab');
      this.bar.appendChild(tab);
    }
    this.node.append(el('div', { className: 'agentforge-title' }, 'AgentForge'), this.bar, this.body);
    this.select('Datasets');
  }

  select(name: string): void {
    for (const [key, tab] of Object.entries(this.tabs)) {
      tab.node.hidden = key !== name;
      if (!this.body.contains(tab.node)) {
        this.body.appendChild(tab.node);
      }
    }
    for (const b of Array.from(this.bar.children) as HTMLElement[]) {
      b.classList.toggle('agentforge-selected', b.dataset.tab === name);
    }
    this.tabs[name].refresh().catch(err => {
      this.body.prepend(message(String(err?.message ?? err), 'error'));
    });
  }
}

/** Renders `{"run_id": ...}` outputs of `%%agent` as the live run view. */
class RunOutput extends Panel implements IRenderMime.IRenderer {
  private view: RunView | null = null;

  constructor(private readonly insert: InsertCells | null) {
    super();
    this.addClass('agentforge-run-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[RUN_MIME] as any;
    const runId = data && typeof data.run_id === 'string' ? data.run_id : '';
    if (this.view && this.view.runId === runId) {
      return;
    }
    this.view?.dispose();
    this.view = null;
    this.node.replaceChildren();
    if (!RUN_ID.test(runId)) {
      this.node.appendChild(message('this AgentForge output names no valid run', 'error'));
      return;
    }
    // A child widget: Lumino attaches it when the output area attaches this renderer.
    this.view = new RunView(runId, this.insert);
    this.addWidget(this.view);
  }

  dispose(): void {
    this.view?.dispose();
    super.dispose();
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'agentforge-jupyter:plugin',
  description: 'AgentForge side panel and run output renderer',
  autoStart: true,
  optional: [ILabShell, INotebookTracker, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell | null,
    tracker: INotebookTracker | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const insert = tracker ? makeInserter(tracker) : null;
    const panel = new AgentForgePanel(insert);
    (shell ?? app.shell).add(panel, 'left', { rank: 950 });
    if (rendermime) {
      rendermime.addFactory(
        { safe: true, mimeTypes: [RUN_MIME], defaultRank: 10, createRenderer: () => new RunOutput(insert) },
        10
      );
    }
    app.commands.addCommand('agentforge:open-panel', {
      label: 'Open the AgentForge panel',
      execute: () => app.shell.activateById(panel.id)
    });
  }
};

export default plugin;
