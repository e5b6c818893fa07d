/** The evaluation commands, gathered so the command index needs one import line. */
export { evalCommand } from './eval.js';
export { reportCommand } from './report.js';
export { compareCommand } from './compare.js';
export { viewCommand } from './view.js';
