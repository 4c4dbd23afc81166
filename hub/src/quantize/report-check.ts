/**
 * Whether a device's CalibrationReport may be merged into a job's statistics: it answers this job and version, its
 * statistics decode (proto's calibrationStatsFromWire: finite, bounded histograms whose counts sum) and belong to
 * this model (checkStatsForModel: the input then one tensor per layer, by name, each counting exactly examples ×
 * values per example), and it covers at least one example and no more than asked. Anything else is never merged.
 */
import {
  calibrationStatsFromWire, checkStatsForModel, isProtoError, type CalibrationReportProps, type CalibrationStats, type FloatModel,
} from '@fedfleet/proto';

export type ReportVerdict = { ok: true; stats: CalibrationStats } | { ok: false; reason: string };

export interface ReportExpectation {
  jobId: string;
  versionId: string;
  model: FloatModel;
  /** Most examples the device was asked to use; 0 = no cap. */
  maxExamples: number;
}

const refuse = (reason: string): ReportVerdict => ({ ok: false, reason });

export function checkCalibrationReport(report: CalibrationReportProps, expected: ReportExpectation): ReportVerdict {
  if ((report.jobId ?? '') !== expected.jobId) return refuse(`answers job ${JSON.stringify(report.jobId ?? '')}, not ${expected.jobId}`);
  if ((report.versionId ?? '') !== expected.versionId) {
    return refuse(`calibrated version ${JSON.stringify(report.versionId ?? '')}, not ${expected.versionId}`);
  }
  let stats: CalibrationStats;
  try {
    stats = calibrationStatsFromWire(report);
    checkStatsForModel(stats, expected.model);
  } catch (error) {
    if (isProtoError(error)) return refuse(`${error.code}: ${error.message}`);
    throw error;
  }
  if (stats.exampleCount < 1) return refuse('no examples');
  if (expected.maxExamples > 0 && stats.exampleCount > expected.maxExamples) {
    return refuse(`${stats.exampleCount} examples, at most ${expected.maxExamples} were asked for`);
  }
  return { ok: true, stats };
}
