// @smtp/protocol/testing: the `.smtp` transcript notation and its replays (house guide §2.6).

// --- transcripts and server replay ---
export {
  type HandlerDecision,
  parseTranscript,
  renderTranscriptStep,
  type Transcript,
  type TranscriptStep,
} from './transcript.js';
export {
  fixedRandom,
  replayServer,
  type ServerReplay,
  type ServerReplayOptions,
  serverOptionsFromTranscript,
} from './replay-server.js';

// --- client replay ---
export {
  type ClientReplay,
  type ClientReplayOptions,
  clientOptionsFromTranscript,
  replayClient,
} from './replay-client.js';
