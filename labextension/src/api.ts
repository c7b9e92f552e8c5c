/**
 * The AgentForge REST + SSE API (`/agentforge/api/...`), through Jupyter's authenticated
 * connection (token header and XSRF cookie).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const API_PATH = 'agentforge/api';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

const settings = (): ServerConnection.ISettings =>
  ServerConnection.makeSettings();

export function apiUrl(...parts: string[]): string {
  return URLExt.join(
    settings().baseUrl,
    API_PATH,
    ...parts.map(p => encodeURIComponent(p))
  );
}

export async function request<T = any>(
  path: string[],
  init: RequestInit = {},
  query = ''
): Promise<T> {
  const s = settings();
  const url = apiUrl(...path) + query;
  const response = await ServerConnection.makeRequest(url, init, s);
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const why =
      data && typeof data === 'object' && typeof data.error === 'string'
        ? data.error
        : `${response.status} ${response.statusText}`;
    throw new ApiError(why, response.status);
  }
  return data as T;
}

export function post<T = any>(path: string[], body?: unknown): Promise<T> {
  return request<T>(path, {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body)
  });
}

export function del<T = any>(path: string[]): Promise<T> {
  return request<T>(path, { method: 'DELETE' });
}

export function upload(file: File, name?: string): Promise<any> {
  const form = new FormData();
  form.append('file', file, file.name);
  if (name) {
    form.append('name', name);
  }
  return request(['datasets'], { method: 'POST', body: form });
}

/**
 * Follow an event stream. EventSource resumes by itself with Last-Event-ID after a dropped
 * connection; `isLast` says which record ends the stream, so that it is closed instead of
 * reconnecting forever.
 */
export function follow(
  path: string[],
  onRecord: (record: any) => void,
  isLast: (record: any) => boolean,
  onError?: (message: string) => void
): () => void {
  const s = settings();
  let url = apiUrl(...path);
  if (s.token) {
    url += `?token=${encodeURIComponent(s.token)}`;
  }
  const source = new EventSource(url, { withCredentials: true });
  source.onmessage = (ev: MessageEvent) => {
    let record: any;
    try {
      record = JSON.parse(ev.data);
    } catch {
      return;
    }
    onRecord(record);
    if (isLast(record)) {
      source.close();
    }
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED && onError) {
      onError('the event stream was closed by the server');
    }
  };
  return () => source.close();
}
