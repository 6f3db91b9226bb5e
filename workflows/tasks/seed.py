"""SeedTask: the initial training set (generated or imported), stored with provenance, then labelled."""

from __future__ import annotations

from fireworks import FWAction, explicit_serialize

from seilearn.workflows import engines
from seilearn.workflows.builders import label_then, train_fw
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, spawn


@explicit_serialize
class SeedTask(SeilearnTask):
    """Insert the seed configurations (duplicates are no-ops) and add their labelling + first training."""

    required_params = ["campaign_id"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        structures = engines.seed_structures(ctx.spec)
        seed = ctx.spec.seed_set
        ids = []
        for atoms in structures:
            source = {"kind": "seed", "campaign_id": ctx.campaign_id,
                      "seed_set": seed.file or f"generated n={seed.n} seed={seed.seed}",
                      "seed_kind": atoms.info.get("seed_kind")}
            cid, _ = ctx.store.add_configuration(atoms, source, fw_id=ctx.fw_id, launch_id=ctx.launch_id)
            ids.append(cid)
        ids = list(dict.fromkeys(ids))
        ctx.store.record_campaign(ctx.campaign_id, seed_config_ids=ids, state="running")
        log.info("seed set: %d configurations", len(ids))
        return spawn(ctx, label_then(ctx.spec, ctx.campaign_id, ids, "seed",
                                     train_fw(ctx.spec, ctx.campaign_id, 0, 0, None)))
