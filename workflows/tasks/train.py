"""TrainTask: retrain the MTP on every labelled configuration of the campaign, build its active set."""

from __future__ import annotations

from fireworks import FWAction, explicit_serialize

from seilearn.cutting.campaign import weigh_cuts
from seilearn.mtp.kernel import serial_step_threads
from seilearn.store.store import latest_ok_label
from seilearn.workflows import engines
from seilearn.workflows.builders import iteration_workflow, with_crossval
from seilearn.workflows.tasks.base import SeilearnTask, context_for, log, record_iteration, spawn


def training_pairs(ctx) -> list[tuple[str, str]]:
    """(config_id, label_id) of every configuration of the campaign with an ok label, in insertion order;
    held-out validation frames are never trained on."""
    pairs = []
    # the label ids only: the labels' forces are most of a record's bytes
    for doc in ctx.store.configurations.find({"source.campaign_id": ctx.campaign_id,
                                              "source.kind": {"$ne": "validation"}},
                                             {"config_id": 1, "labels.label_id": 1, "labels.status": 1}
                                             ).sort("created_at", 1):
        lab = latest_ok_label(doc)
        if lab is not None:
            pairs.append((doc["config_id"], lab["label_id"]))
    return pairs


def _parent_active_set(ctx, parent: str) -> bytes | None:
    """The parent potential's .almtp, None when it has none (a potential imported without its active set)."""
    if "almtp" not in ctx.store.get_potential(parent).get("files", {}):
        return None
    return ctx.store.potential_file(parent, "almtp")


@explicit_serialize
class TrainTask(SeilearnTask):
    """Train potential ``{campaign}-p{iteration}`` (continuing from the parent), store it with its active set
    and exact training set, then add the exploration iteration that uses it."""

    required_params = ["campaign_id", "iteration", "stage"]
    optional_params = ["parent_potential_id", "rung", "relearn"]

    def _run(self, fw_spec: dict) -> FWAction:
        ctx = context_for(self, fw_spec)
        it, stage, rung = int(self["iteration"]), int(self["stage"]), int(self.get("rung") or 0)
        potential_id = f"{ctx.campaign_id}-p{it:03d}"
        if not ctx.store.potentials.count_documents({"potential_id": potential_id}, limit=1):
            pairs = training_pairs(ctx)
            if not pairs:
                from seilearn.errors import SeilearnError

                raise SeilearnError(f"campaign {ctx.campaign_id}: no labelled configuration to train on "
                                    "(every label failed?); see `seilearn dataset stats`")
            atoms = ctx.store.labelled_atoms(pairs)
            # cuts of large frames: per-atom force weights from their stored core flags (mtp.cut_weights)
            weigh_cuts(ctx.store, [c for c, _ in pairs], atoms, ctx.spec.mtp.cut_weights)
            parent = self.get("parent_potential_id")
            warm = bool(parent) and not ctx.spec.mtp.fresh_fit(it)
            init = ctx.store.potential_file(parent, "mtp").decode() if warm else None
            # a warm fit moves the potential a little: its active set starts from the parent's rows (a few swaps
            # instead of a build from eps * I, which a fresh fit gets, as in `mlp train`)
            parent_almtp = _parent_active_set(ctx, parent) if warm else None
            with serial_step_threads():  # nothing else of the loop runs now: the other rockets wait for this
                mtp_text, metrics = engines.train(ctx.spec, atoms, init_text=init, seed=it)
                almtp, aset_info = engines.active_set(ctx.spec, mtp_text, atoms, parent_almtp)
            ctx.store.add_potential(
                potential_id=potential_id, training_set=pairs, files={"mtp": mtp_text.encode(), "almtp": almtp},
                campaign_id=ctx.campaign_id, iteration=it, stage=stage, parent_potential_id=parent,
                level=ctx.spec.mtp.level, cutoff=ctx.spec.mtp.cutoff, species=ctx.species, metrics=metrics,
                training_settings=engines.training_settings(ctx.spec), fw_id=ctx.fw_id,
                fit="warm" if warm else "fresh", active_set=aset_info, relearn=self.get("relearn"),
            )
            log.info("trained %s on %d configurations: %s", potential_id, len(pairs), metrics)
        pot = ctx.store.get_potential(potential_id)
        if self.get("relearn"):  # healing a production run: the resumed run follows (a detour), no exploration
            ctx.store.record_campaign(ctx.campaign_id, current_potential_id=potential_id)
            return FWAction(stored_data={"potential_id": potential_id, "relearn": self["relearn"]})
        record_iteration(ctx, it, stage=stage, rung=rung, threshold_break=ctx.spec.thresholds.break_at(stage),
                         potential_id=potential_id, n_train=pot["n_train"], metrics=pot.get("metrics"))
        ctx.store.record_campaign(ctx.campaign_id, iteration=it, stage=stage, rung=rung,
                                  current_potential_id=potential_id)
        wf = iteration_workflow(ctx.spec, ctx.campaign_id, it, stage, potential_id, rung)
        return spawn(ctx, with_crossval(ctx.spec, ctx.campaign_id, wf, potential_id, pot["n_train"], seed=it))
