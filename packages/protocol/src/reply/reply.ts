/** RFC 3463 class.subject.detail, e.g. `5.1.1`. */
export type EnhancedStatus = `${2 | 4 | 5}.${number}.${number}`;

/** A parsed or to-be-sent SMTP reply. `lines` never contain CR or LF and exclude the code and enhanced status. */
export interface Reply {
  readonly code: number;
  readonly enhanced: EnhancedStatus | null;
  readonly lines: readonly string[];
}

/** What callers write when they build a reply. */
export interface ReplyInit {
  readonly code: number;
  readonly enhanced?: EnhancedStatus;
  readonly text: string | readonly string[];
}
