/** Static HTML report: connectivity heat map, group graph, IP pool usage and rate limits in one page. */
export { buildReport, MAX_MATRIX_CLASSES, MAX_MATRIX_PORTS, type ReportModel } from './model.js';
export { anchorId, renderReportHtml } from './html.js';
