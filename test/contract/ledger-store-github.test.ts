// The LedgerStore contract, run on the GitHub store over the in-memory GitHub port.
import { githubLedgerStore } from "../../src/adapters/ledger-github/github-ledger-store.ts";
import { memoryGitHub } from "../fakes/memory-github.ts";
import { describeLedgerStoreContract } from "./ledger-store.contract.ts";

const branch = "agent-router/ledger";

describeLedgerStoreContract("github (memory GitHub port, compare-and-swap commits)", async () => {
  const github = memoryGitHub();
  const store = githubLedgerStore(github, { branch, path: "ledger.yml" });
  await Promise.resolve();
  return {
    store,
    plant: async (text) => void github.plant(branch, { "ledger.yml": text }),
    rawText: async () => github.fileAt(branch, "ledger.yml"),
  };
});
