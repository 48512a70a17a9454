/** Static HTML report: connectivity heat map, group graph, IP pool usage and rate limits in one page. */
export { buildReport, type ReportModel } from './model.js';
export { anchorId, renderReportHtml } from './html.js';
