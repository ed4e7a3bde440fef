/**
 * A real Prometheus (Debian's package) for the monitoring tests: it scrapes one target every
 * second into a throwaway data directory, and answers PromQL through its HTTP API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, waitFor, type Daemon } from './system-daemons.js';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** An instant query's result vector; throws with Prometheus' error text when the query is wrong. */
  query(expr: string): Promise<PromSample[]>;
  /** Resolves once the target has been scraped successfully `scrapes` times (health "up"). */
  waitForScrapes(scrapes: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: { port: number; target: string; metricsPath?: string }): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: thinkiosk-controller',
    `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
    '    static_configs:',
    `      - targets: ['${options.target}']`,
    '',
  ].join('\n'));
  const url = `http://127.0.0.1:${options.port}`;
  const daemon: Daemon = startDaemon(PROMETHEUS_BINARY, [
    `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${options.port}`,
    '--log.level=warn',
  ]);
  const api = async (path: string): Promise<unknown> => {
    const response = await fetch(`${url}${path}`);
    const body = await response.json() as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  try {
    await waitFor('prometheus ready', async () => ((await fetch(`${url}/-/ready`).catch(() => null))?.ok ? true : undefined), 30_000);
  } catch (error) {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${String(error)}; prometheus said: ${daemon.output().slice(-2000)}`);
  }
  const query = async (expr: string): Promise<PromSample[]> => {
    const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`) as { resultType: string; result: PromSample[] };
    if (data.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got ${data.resultType}`);
    return data.result;
  };
  return {
    url,
    query,
    async waitForScrapes(scrapes) {
      // `up` keeps one sample per scrape: counting them over the last minute counts scrapes.
      await waitFor(`${scrapes} good scrapes of ${options.target}`, async () => {
        const [sample] = await query('sum_over_time(up[1m])');
        return sample && Number(sample.value[1]) >= scrapes ? true : undefined;
      }, 60_000);
    },
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
