// Public surface of @osprofiler/viewer.
export { startViewer, searchOptionsOf, requiredToken, pageForm } from './server';
export type { ViewerOptions, ViewerServer } from './server';
export { renderHtmlReport, scriptSafeJson } from './html-report';
export { appBuilt } from './assets';
