import type { ToolName } from './tool-names.ts';

/** The AI on one call: the AI_* settings with what its route changed. */
export interface AgentPlan {
  readonly provider: 'openai' | 'openai-realtime' | 'echo';
  /** The chat model (openai) or the Realtime model (openai-realtime). */
  readonly model: string;
  readonly prompt: string;
  readonly voice: string;
  /** An ISO-639-1 code, or `auto`. */
  readonly language: string;
  /** Spoken first by the agent (not with echo, which cannot speak text). */
  readonly greeting: string | undefined;
  readonly tools: readonly ToolName[];
  readonly transferTarget: string | undefined;
}

/** A Twilio-compatible media stream for the call. */
export interface StreamPlan {
  readonly url: string;
  readonly parameters: Readonly<Record<string, string>>;
}

/** What happens to one incoming call, once its route (or webhook) decided. */
export interface CallPlan {
  /** The route's name (or `#n`, its place in the file), `webhook`, or `default` without a routes file. */
  readonly route: string;
  readonly trunk: string | undefined;
  readonly agent: AgentPlan | undefined;
  readonly stream: StreamPlan | undefined;
  /** Answer without waiting for a client (AUTO_ANSWER's meaning, per call). */
  readonly autoAnswer: boolean;
  /** Answer, then transfer the caller here (blind). */
  readonly transfer: string | undefined;
}

/** Without routing: the clients decide, nothing else is put on the call (autoAnswer is the caller's). */
export const NO_ROUTE: Omit<CallPlan, 'autoAnswer'> = {
  route: 'default',
  trunk: undefined,
  agent: undefined,
  stream: undefined,
  transfer: undefined,
};

/** What an incoming INVITE gets, once any webhook has answered: a plan, or a final status. */
export type CallDecision =
  | { readonly kind: 'plan'; readonly plan: CallPlan }
  | {
      readonly kind: 'reject';
      readonly status: number;
      readonly reason?: string;
      readonly route: string;
      /**
       * The source is none of ours (outside every trunk's sources): counted and logged in aggregate, never
       * recorded one by one, so a stranger's flood cannot push real calls' records out of the spool.
       */
      readonly stranger?: boolean;
    };

/** What the routes table says: a call decision, or a webhook to ask for one. */
export type Decision =
  | CallDecision
  | { readonly kind: 'webhook'; readonly route: string; readonly trunk: string | undefined };

/** What the router knows of an incoming call. */
export interface CallFacts {
  readonly callId: string;
  /** The Request-URI's user part. */
  readonly requestUser: string | undefined;
  readonly toUser: string | undefined;
  readonly fromUser: string | undefined;
  /** The source IP of the INVITE. */
  readonly source: string;
  /** SIP headers of the INVITE, for a webhook (name as sent, value). */
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}
