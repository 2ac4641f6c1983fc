import type { InspectionEvent } from 'xstate';
import type { Config } from './config/index.ts';
import { InspectorBridge } from './io/inspector-bridge.ts';
import { CallTraceWriter } from './io/records/call-trace.ts';
import type { Logger } from './kernel/logger.ts';
import { bracket } from './sip/message/host.ts';

/**
 * Who watches the actors: call traces as JSON lines (CALL_TRACE_DIR), the Stately inspector (INSPECT=true:
 * a local bridge on INSPECT_PORT that the inspector page connects to), and a test's own hook.
 */
export async function actorObservers(
  config: Config,
  testHook: ((event: InspectionEvent, callId: string) => void) | undefined,
  log: Logger,
) {
  let inspector: { inspect: { next?: (e: InspectionEvent) => void }; stop: () => void } | undefined;
  let bridge: InspectorBridge | undefined;
  if (config.INSPECT) {
    const { createWebSocketInspector } = await import('@statelyai/inspect');
    bridge = await InspectorBridge.start({
      host: config.WS_HOST,
      port: config.INSPECT_PORT,
      token: config.WS_TOKEN,
      origins: config.WS_ORIGINS,
    });
    inspector = createWebSocketInspector({ url: bridge.publishUrl(config.WS_HOST, config.WS_TOKEN) });
    const shown = `http://${bracket(config.WS_HOST)}:${bridge.port}/`;
    log.info(
      { host: config.WS_HOST, port: bridge.port },
      `Stately inspector bridge on ${shown} (the page embeds stately.ai/inspect: it needs internet in your browser)`,
    );
  }
  // after the bridge: a taken INSPECT_PORT fails start-up before anything here is open
  const traces = config.CALL_TRACE_DIR ? new CallTraceWriter(config.CALL_TRACE_DIR) : undefined;
  const hooks = [
    traces ? (e: InspectionEvent, id: string) => traces.record(e, id) : undefined,
    inspector ? (e: InspectionEvent) => inspector.inspect.next?.(e) : undefined,
    testHook,
  ].filter((h): h is (e: InspectionEvent, id: string) => void => h !== undefined);
  return {
    inspect:
      hooks.length === 0
        ? undefined
        : (e: InspectionEvent, id: string) => {
            for (const h of hooks) h(e, id);
          },
    async close() {
      await traces?.close();
      inspector?.stop();
      await bridge?.close();
    },
  };
}
