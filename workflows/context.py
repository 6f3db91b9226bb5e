"""What every seilearn FireTask needs: settings, the store, the campaign and its spec."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seilearn.config import Settings, load_settings
from seilearn.store import Store
from seilearn.workflows.spec import CampaignSpec


@dataclass
class TaskContext:
    """Per-task handles; cheap to build, so every task builds its own (tasks stay rerunnable)."""

    settings: Settings
    store: Store
    campaign: dict[str, Any]
    spec: CampaignSpec
    fw_id: int | None
    launch_id: int | None

    @property
    def campaign_id(self) -> str:
        return self.campaign["campaign_id"]

    @property
    def species(self) -> list[str]:
        return list(self.spec.elements)

    def results_dir(self, *parts: str) -> Path:
        """A persistent directory for this campaign's outputs (not the rocket's launch dir)."""
        path = Path(self.settings.work_dir) / self.campaign_id / Path(*parts) if parts else \
            Path(self.settings.work_dir) / self.campaign_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def refresh(self) -> dict[str, Any]:
        self.campaign = self.store.get_campaign(self.campaign_id)
        return self.campaign


def task_context(fw_spec: dict[str, Any], campaign_id: str) -> TaskContext:
    """Build the context of a running FireTask from its spec (settings come from the environment)."""
    settings = load_settings()
    store = Store.open(settings)
    campaign = store.get_campaign(campaign_id)
    spec = CampaignSpec.from_dict(campaign["spec"], origin=f"campaign {campaign_id}")
    fw_id = fw_spec.get("_fw_id") if isinstance(fw_spec, dict) else None
    launch_id = None
    env = os.environ.get("FW_LAUNCH_ID")
    if env and env.isdigit():
        launch_id = int(env)
    return TaskContext(settings=settings, store=store, campaign=campaign, spec=spec, fw_id=fw_id, launch_id=launch_id)
