// agent-router as a Probot application function, for a server that already runs Probot
// (`probot run`, or `createNodeMiddleware(app, { probot })`): Probot verifies the signature with
// its one secret and hands over every event; the router queues it per repository and returns at
// once, so Probot acknowledges fast. The router's own server (`npm run start:app`) does the same
// with secret rotation and /healthz; prefer it unless Probot is already there.
import type { ApplicationFunction } from "probot";
import type { RouterApp } from "./router-app.ts";

export function routerProbotApp(router: RouterApp): ApplicationFunction {
  return (app) => {
    app.onAny((context) => {
      const accepted = router.accept({ id: context.id, name: context.name, payload: context.payload });
      if (accepted.status === "invalid") app.log.warn({ deliveryId: context.id, why: accepted.why }, "agent-router refused a delivery");
      if (accepted.status === "full") throw new Error(`agent-router: too much work queued for this repository; redeliver ${context.id} later`);
    });
  };
}
