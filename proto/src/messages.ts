// Re-exports of the generated protobuf classes under short names, with the property types callers build.
import './configure-long.js';
import { fedfleet } from '../generated/fleet.js';

const v1 = fedfleet.v1;

export const Envelope = v1.Envelope;
export const Status = v1.Status;
export const Telemetry = v1.Telemetry;
export const Command = v1.Command;
export const CommandResult = v1.CommandResult;
export const Progress = v1.Progress;
export const WeightUpdate = v1.WeightUpdate;
export const EvalResult = v1.EvalResult;
export const ChunkRequest = v1.ChunkRequest;
export const Chunk = v1.Chunk;
export const CalibrationReport = v1.CalibrationReport;
export const DeployReport = v1.DeployReport;
export const ModelBundle = v1.ModelBundle;
export const ModelBlob = v1.ModelBlob;
export const ModelRef = v1.ModelRef;
export const Tensor = v1.Tensor;
export const HardwareProfile = v1.HardwareProfile;
export const DeviceState = v1.DeviceState;
export const TensorEncoding = v1.TensorEncoding;
export const ResultCode = v1.ResultCode;
export const DeployMode = v1.DeployMode;
export const DeployPhase = v1.DeployPhase;

export type EnvelopeProps = fedfleet.v1.Envelope.$Properties;
export type StatusProps = fedfleet.v1.Status.$Properties;
export type TelemetryProps = fedfleet.v1.Telemetry.$Properties;
export type InputHistogramProps = fedfleet.v1.InputHistogram.$Properties;
export type CommandProps = fedfleet.v1.Command.$Properties;
export type CommandResultProps = fedfleet.v1.CommandResult.$Properties;
export type ProgressProps = fedfleet.v1.Progress.$Properties;
export type WeightUpdateProps = fedfleet.v1.WeightUpdate.$Properties;
export type EvalResultProps = fedfleet.v1.EvalResult.$Properties;
export type ChunkRequestProps = fedfleet.v1.ChunkRequest.$Properties;
export type ChunkProps = fedfleet.v1.Chunk.$Properties;
export type ModelBlobProps = fedfleet.v1.ModelBlob.$Properties;
export type ModelRefProps = fedfleet.v1.ModelRef.$Properties;
export type TensorProps = fedfleet.v1.Tensor.$Properties;
export type HardwareProfileProps = fedfleet.v1.HardwareProfile.$Properties;
export type TrainTaskProps = fedfleet.v1.TrainTask.$Properties;
export type EvalTaskProps = fedfleet.v1.EvalTask.$Properties;
export type TrainMetricsProps = fedfleet.v1.TrainMetrics.$Properties;
export type CalibrateTaskProps = fedfleet.v1.CalibrateTask.$Properties;
export type CalibrationReportProps = fedfleet.v1.CalibrationReport.$Properties;
export type TensorStatsProps = fedfleet.v1.TensorStats.$Properties;
export type DeployModelProps = fedfleet.v1.DeployModel.$Properties;
export type RollbackModelProps = fedfleet.v1.RollbackModel.$Properties;
export type DeployReportProps = fedfleet.v1.DeployReport.$Properties;
export type SelfTestProps = fedfleet.v1.SelfTest.$Properties;
export type ShadowStatsProps = fedfleet.v1.ShadowStats.$Properties;
export type ModelBundleProps = fedfleet.v1.ModelBundle.$Properties;

/** Names of the Envelope `body` oneof. */
export type BodyKind = NonNullable<fedfleet.v1.Envelope['body']>;
/** Names of the Command `kind` oneof. */
export type CommandKind = NonNullable<fedfleet.v1.Command['kind']>;

export { fedfleet };
