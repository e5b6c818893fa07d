/** The Python interpreter: local bubblewrap sandbox, SandboxFusion client, feedback formatter, doctor. */
export { createSandboxExecutor, DEFAULT_CONCURRENCY, SandboxExecutor, SandboxSession, type SandboxOptions } from './sandbox-executor.js';
export { withReferenceSemantics } from './reference-semantics.js';
export { formatFeedback, truncateMiddle, referenceBannedCall, REFERENCE_EMPTY_OUTPUT_ERROR, NO_OUTPUT_NOTE, type FeedbackOptions } from './feedback.js';
export { toOutcome, parseErrorRecord, type ServerReply } from './outcome.js';
export { SandboxFusionExecutor, fusionOutcome, type SandboxFusionOptions } from './sandbox-fusion.js';
export { sandboxDoctor, type DoctorReport, type DoctorCheck } from './doctor.js';
export { benchSandbox, type BenchReport, type BenchCase, type BenchOptions } from './bench.js';
export { DEFAULT_PRELOAD } from './jail.js';
