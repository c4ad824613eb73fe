/** `trace show --html`: the viewer's trace page as one self-contained file (works offline). */
import type { Report } from '@osprofiler/core';
import { loadViewer } from './viewer-module';

export function renderHtml(report: Report, baseId: string | undefined): string {
  return loadViewer().renderHtmlReport(report, { title: baseId === undefined ? 'OSProfiler trace' : `OSProfiler trace ${baseId}` });
}
