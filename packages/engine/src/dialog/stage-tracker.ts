/**
 * Where a host's run is, read from the dialog's structured events: the stage of the handler
 * that started last (`**%EventStart STAGE <id> …`), and the termination stage once the host
 * sends `***TERMINATE`. The engine's one reading of stages: the driver feeds it every event and
 * tells the program when the stage changes.
 *
 * Stage ids are otopi's wire ids, in which the transaction commit and the clean-up both say
 * `cleanup`; the plan the host announces (`**%EventsListEntry`, every handler in run order)
 * tells them apart, since a handler's place in it fixes its stage. Without a plan the stage
 * only moves forward, so a `cleanup` handler is taken for the first of the two not yet passed.
 *
 * Before the first handler event the protocol frames nothing (the run boots and initializes
 * before it announces its plan; the original otopi frames no handler at all), so until then
 * the stage banner (`***L:INFO Stage: <description>`, one of the 18 descriptions) says where
 * the run is. After it, banners are not read.
 */
import { STAGES, STAGE_INFO, type Stage } from '@otopi/core';
import type { DialogEvent, HandlerRef } from './parser.js';

/** Stages by wire id, in run order (`cleanup` names two). */
const BY_WIRE_ID: ReadonlyMap<string, readonly Stage[]> = (() => {
  const map = new Map<string, Stage[]>();
  for (const stage of STAGES) {
    const id = STAGE_INFO[stage].wireId;
    map.set(id, [...(map.get(id) ?? []), stage]);
  }
  return map;
})();

const BANNER_PREFIX = 'Stage: ';
const BY_DESCRIPTION: ReadonlyMap<string, Stage> = new Map(STAGES.map((s) => [STAGE_INFO[s].description, s]));

const key = (handler: HandlerRef): string => `${handler.stage} ${handler.name}`;

/** The first stage with this wire id that is not before `from`; undefined for an unknown id. */
function stageOf(wireId: string, from: Stage | undefined): Stage | undefined {
  const candidates = BY_WIRE_ID.get(wireId);
  if (candidates === undefined) return undefined;
  const floor = from === undefined ? 0 : STAGE_INFO[from].index;
  return candidates.find((s) => STAGE_INFO[s].index >= floor) ?? candidates.at(-1);
}

export class StageTracker {
  private current: Stage | undefined;
  /** Each planned handler's stage, by wire stage id and name. */
  private readonly planned = new Map<string, Stage>();
  private framed = false;

  /** The stage the run is in; undefined before the host said. */
  get stage(): Stage | undefined {
    return this.current;
  }

  /** The stage's description (`Misc configuration`), as reports name it. */
  get description(): string | undefined {
    return this.current === undefined ? undefined : STAGE_INFO[this.current].description;
  }

  /** Takes one event of the dialog; returns the new stage when the event moved the run to another one. */
  take(event: DialogEvent): Stage | undefined {
    switch (event.kind) {
      case 'events-list':
        this.plan(event.entries);
        return undefined;
      case 'event-start':
        this.framed = true;
        return this.move(this.planned.get(key(event.handler)) ?? stageOf(event.handler.stage, this.current));
      case 'terminate':
        return this.move('terminate');
      case 'log':
        if (this.framed || !isStageBanner(event)) return undefined;
        return this.move(BY_DESCRIPTION.get(event.text.slice(BANNER_PREFIX.length)));
      default:
        return undefined;
    }
  }

  private plan(entries: readonly HandlerRef[]): void {
    let at: Stage | undefined;
    for (const entry of entries) {
      const stage = stageOf(entry.stage, at);
      if (stage === undefined) continue;
      at = stage;
      this.planned.set(key(entry), stage);
    }
  }

  private move(stage: Stage | undefined): Stage | undefined {
    if (stage === undefined || stage === this.current) return undefined;
    this.current = stage;
    return stage;
  }
}

/** Whether a log record is a stage banner: a sign of the stage (read by the tracker), not a record of the host's log. */
export function isStageBanner(event: DialogEvent): boolean {
  return (
    event.kind === 'log' &&
    event.level === 'INFO' &&
    event.text.startsWith(BANNER_PREFIX) &&
    BY_DESCRIPTION.has(event.text.slice(BANNER_PREFIX.length))
  );
}
