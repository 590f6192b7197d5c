/** Built-in tasks whose ground truth is known exactly, for measuring each method's effect. */
export { spuriousRecords, markerText, type TaskRecord } from './spurious.ts';
export { forgettingRecords } from './forgetting.ts';
export { sideRecords } from './side.ts';
export { piiRecords, readPiiRecords, probeLines, tokenLabels, PII_KINDS, type PiiRecord, type PiiSpan, type PiiKind } from './pii.ts';
