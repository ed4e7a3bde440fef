/**
 * Reads the monitoring files the repository ships (controller/monitoring: the Grafana dashboard and
 * the Zabbix template) the way Grafana and Zabbix would use them, so a test can hold every query of
 * theirs against a live controller: each dashboard panel's PromQL goes to a real Prometheus, each
 * Zabbix item's Prometheus pattern is matched against the controller's /metrics page.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const MONITORING_DIR = 'controller/monitoring';

export interface PanelQuery {
  panel: string;
  expr: string;
}

interface DashboardJson {
  panels: { title: string; targets?: { expr?: string }[] }[];
}

export function dashboardQueries(root: string): PanelQuery[] {
  const dashboard = JSON.parse(readFileSync(join(root, MONITORING_DIR, 'grafana-dashboard.json'), 'utf8')) as DashboardJson;
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => (target.expr ? [{ panel: panel.title, expr: target.expr }] : [])));
}

/** One sample line of the Prometheus text format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetricsText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[3] ?? '').matchAll(LABEL)) labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}

/** Zabbix's Prometheus pattern as the template uses it: `name` or `name{label="value",...}`. */
export function matchPattern(pattern: string, samples: MetricSample[]): MetricSample[] {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?$/.exec(pattern);
  if (!match) throw new Error(`a Prometheus pattern this check does not read: ${pattern}`);
  const wanted = [...(match[3] ?? '').matchAll(LABEL)].map(([, name, value]) => [name!, value!] as const);
  return samples.filter((sample) => sample.name === match[1] && wanted.every(([name, value]) => sample.labels[name] === value));
}

export interface ZabbixItem {
  name: string;
  key: string;
  /** The Prometheus pattern it reads from the metrics page, {#KIOSK} still in it for prototypes. */
  pattern: string;
  prototype: boolean;
  /** What Zabbix does when the pattern matches nothing (the step's error_handler, e.g. CUSTOM_VALUE 0), or null: the item turns unsupported. */
  onNoMatch: { handler: string; value: string | null } | null;
}

interface ZabbixPreprocessing { type: string; parameters: string[]; error_handler?: string; error_handler_params?: string }
interface ZabbixItemYaml { name: string; key: string; type: string; url?: string; preprocessing?: ZabbixPreprocessing[] }
interface ZabbixTemplateYaml {
  zabbix_export: {
    templates: {
      items: ZabbixItemYaml[];
      discovery_rules: (ZabbixItemYaml & { item_prototypes: ZabbixItemYaml[]; lld_macro_paths: { lld_macro: string; path: string }[] })[];
    }[];
  };
}

export interface ZabbixTemplate {
  masterUrl: string;
  items: ZabbixItem[];
  /** The metric the discovery rule turns into one entry per kiosk, and the label that names it. */
  discovery: { metric: string; label: string };
}

export function zabbixTemplate(root: string): ZabbixTemplate {
  const doc = YAML.parse(readFileSync(join(root, MONITORING_DIR, 'zabbix-template.yaml'), 'utf8')) as ZabbixTemplateYaml;
  const [template] = doc.zabbix_export.templates;
  if (!template) throw new Error('the Zabbix file holds no template');
  const itemOf = (item: ZabbixItemYaml, prototype: boolean): ZabbixItem[] => {
    const step = item.preprocessing?.find((s) => s.type === 'PROMETHEUS_PATTERN');
    if (!step?.parameters[0]) return [];
    const onNoMatch = step.error_handler ? { handler: step.error_handler, value: step.error_handler_params ?? null } : null;
    return [{ name: item.name, key: item.key, pattern: step.parameters[0], prototype, onNoMatch }];
  };
  const master = template.items.find((item) => item.type === 'HTTP_AGENT');
  const [rule] = template.discovery_rules;
  if (!master?.url || !rule) throw new Error('the Zabbix template needs its HTTP master item and its kiosk discovery rule');
  const discoveryMetric = rule.preprocessing?.find((step) => step.type === 'PROMETHEUS_TO_JSON')?.parameters[0];
  const labelPath = rule.lld_macro_paths.find((path) => path.lld_macro === '{#KIOSK}')?.path;
  if (!discoveryMetric || !labelPath?.startsWith('$.labels.')) throw new Error('the discovery rule must read kiosks from a metric\'s label');
  const items: ZabbixItem[] = [
    ...template.items.flatMap((item) => itemOf(item, false)),
    ...rule.item_prototypes.flatMap((item) => itemOf(item, true)),
  ];
  return { masterUrl: master.url, items, discovery: { metric: discoveryMetric, label: labelPath.slice('$.labels.'.length) } };
}
