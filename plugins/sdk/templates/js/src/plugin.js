// {{name}}: a Hotline IVR plugin. Press 1 for sales, 2 for support.
import { ivr, Outcome, log } from "hotline-plugin-sdk";

const QUEUES = { 1: "sales", 2: "support" };

export const handleCall = ivr((call) => {
  call.play("welcome");
  const choice = call.collect({ prompt: "menu", retryPrompt: "sorry", maxDigits: 1, retries: 2 });
  if (choice.noInput) return Outcome.fallback("no input");
  const queue = QUEUES[choice.digits];
  if (queue === undefined) return Outcome.fallback(`no such choice: ${choice.digits}`);
  call.setVar("department", queue);
  log.info(`caller chose ${queue}`);
  call.enqueue(queue);
  return Outcome.operator();
});
